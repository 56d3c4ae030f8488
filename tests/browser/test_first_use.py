"""A new visitor's first minutes: every panel opened and left as it is, then each tab used."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from components.standin import StandIn, reply_text
from tests.browser.conftest import REPLY, open_app


def open_every_panel(page: Page) -> None:
    """Open each closed accordion of the visible tab, touching none of its fields."""
    for toggle in page.locator("button.label-wrap:visible").all():
        if "open" not in (toggle.get_attribute("class") or ""):
            toggle.click()
    expect(page.locator("button.label-wrap:visible:not(.open)")).to_have_count(0)


def submit_in(page: Page, tab: str) -> None:
    if tab == "Single-turn":
        page.locator("#prompt textarea").fill("hello after looking around")
        page.locator("#submit").click()
    elif tab == "Multi-turn":
        page.locator("#chat-input textarea").fill("hello after looking around")
        page.locator("#chat-input textarea").press("Enter")
    else:
        page.locator("#cmp-prompt textarea").fill("hello after looking around")
        page.locator("#cmp-submit").click()


@pytest.mark.parametrize("tab", ["Single-turn", "Multi-turn", "Compare"])
def test_opening_every_panel_changes_nothing_that_is_sent(page: Page, app_url: str, standin: StandIn, tab: str) -> None:
    open_app(page, app_url, tab)
    open_every_panel(page)
    for box in ("top-p", "max-tokens", "stop"):
        prefix = {"Single-turn": "single", "Multi-turn": "multi", "Compare": "cmp"}[tab]
        expect(page.locator(f"#{prefix}-{box} textarea, #{prefix}-{box} input").first).to_have_value("")
    submit_in(page, tab)
    record = standin.wait_for_chat(1)[0]
    sent = {name for name in ("top_p", "max_tokens", "stop") if name in record.body}
    assert sent == set(), f"untouched parameters reached the wire: {sent}"
    if tab == "Single-turn":
        expect(page.locator("#response span.md")).to_have_text(reply_text(record.body))
    elif tab == "Multi-turn":
        expect(page.locator(REPLY).last).to_have_text(reply_text(record.body))
    else:
        expect(page.locator("#cmp-status")).to_contain_text("replies complete")
    expect(page.get_by_text("Nothing sent")).to_have_count(0)
