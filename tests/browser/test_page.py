"""The page as a whole: nothing leaves 127.0.0.1, the offline notice, safe Markdown, screenshots."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from standin import Behaviour, StandIn, reply_text
from tests.browser.conftest import REPLY, SCREENSHOT_DIR, go_to_tab, open_app, wait_for_reply

CODE_REPLY = "Here you go:\n\n```python\nprint('fast')\n```\n\nAnd **bold** text."
HOSTILE = (
    "<img src=x onerror=\"window.__xss='img'\"> <script>window.__xss='script'</script> <b onmouseover=alert(1)>b</b>"
)


def ask_single(page: Page, prompt: str) -> None:
    page.locator("#prompt textarea").fill(prompt)
    page.locator("#submit").click()
    wait_for_reply(page, "#single-info")


def ask_chat(page: Page, message: str, standin: StandIn) -> None:
    count = len(standin.chat_requests()) + 1
    page.locator("#chat-input textarea").fill(message)
    page.locator("#chat-input textarea").press("Enter")
    standin.wait_for_chat(count)[-1].wait_done(10)
    expect(page.locator("#chat-input .stop-button")).to_have_count(0)


def test_the_page_makes_no_request_beyond_127_0_0_1(page: Page, app_url: str, standin: StandIn) -> None:
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or request.url))
    open_app(page, app_url)
    ask_single(page, "hello")
    page.get_by_role("tab", name="Multi-turn").click()
    ask_chat(page, "hello", standin)
    go_to_tab(page, "Compare")  # its chart draws with Vega: served locally too
    page.locator("#cmp-prompt textarea").fill("hello")
    page.locator("#cmp-versus").click()
    expect(page.locator("#cmp-chart")).to_be_visible()
    assert hosts == {"127.0.0.1"}
    expect(page.get_by_role("tab", name="Single-turn")).to_be_visible()
    expect(page.locator("#offline-notice")).to_have_count(0)  # a key is set


def test_offline_notice_shows_without_a_key_and_the_demo_answers(page: Page, offline_url: str) -> None:
    open_app(page, offline_url)
    expect(page.locator("#offline-notice")).to_contain_text("Offline demo mode")
    expect(page.locator("#offline-notice")).to_contain_text("WRITER_API_KEY")
    ask_single(page, "hello offline")
    expect(page.locator("#response span.md")).to_contain_text("Echo: hello offline")


def test_replies_render_as_markdown_in_both_tabs(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(reply=CODE_REPLY)
    open_app(page, app_url)
    ask_single(page, "show me code")
    expect(page.locator("#response pre code")).to_contain_text("print('fast')")
    expect(page.locator("#response strong")).to_have_text("bold")
    page.get_by_role("tab", name="Multi-turn").click()
    ask_chat(page, "show me code", standin)
    expect(page.locator(f"{REPLY} pre code")).to_contain_text("print('fast')")


@pytest.mark.parametrize("tab", ["Single-turn", "Multi-turn"])
def test_html_in_model_output_executes_nothing(page: Page, app_url: str, standin: StandIn, tab: str) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_app(page, app_url, tab)
    if tab == "Single-turn":
        ask_single(page, HOSTILE)
        container = "#response"
    else:
        ask_chat(page, HOSTILE, standin)
        container = REPLY
    assert "Echo:" in page.locator(container).first.inner_text()  # the reply did arrive
    page.locator(container).first.hover()
    assert page.evaluate("window.__xss") is None
    assert page.locator(f"{container} [onerror], {container} [onmouseover], {container} script").count() == 0
    assert dialogs == []


SCREENS = [
    ("light", 1280, 900),
    ("dark", 1280, 900),
    ("light", 390, 844),  # a phone
    ("dark", 390, 844),
]


@pytest.mark.parametrize(("theme", "width", "height"), SCREENS, ids=[f"{t}-{w}" for t, w, _ in SCREENS])
def test_screenshots_of_every_tab(
    browser: Browser, app_url: str, standin: StandIn, theme: str, width: int, height: int
) -> None:
    """Saved for a person to look at; asserts that the chat keeps a usable height in its tab."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=theme)
    page = context.new_page()
    try:
        open_app(page, f"{app_url}?__theme={theme}")
        ask_single(page, "What's the fastest land animal?")
        page.screenshot(path=SCREENSHOT_DIR / f"single-turn-{theme}-{width}.png", full_page=True)
        page.get_by_role("tab", name="Multi-turn").click()
        ask_chat(page, "What's the fastest bird?", standin)
        ask_chat(page, "Tell me more", standin)
        expect(page.locator(REPLY).last).to_have_text(reply_text(standin.chat_requests()[-1].body))
        assert page.locator("#chatbot").bounding_box()["height"] >= 400
        page.screenshot(path=SCREENSHOT_DIR / f"multi-turn-{theme}-{width}.png", full_page=True)
        go_to_tab(page, "Compare")
        page.locator("#cmp-prompt textarea").fill("What's the fastest bird?")
        page.locator("#cmp-model-2 input").click()
        page.get_by_role("option", name="palmyra-x4").click()
        page.locator("#cmp-submit").click()
        expect(page.locator("#cmp-status")).to_contain_text("6 of 6 replies complete")
        page.screenshot(path=SCREENSHOT_DIR / f"compare-{theme}-{width}.png", full_page=True)
        page.locator("#cmp-versus").click()
        expect(page.locator("#cmp-status")).to_contain_text("2 of 2 replies complete")
        expect(page.locator("#cmp-chart")).to_be_visible()
        expect(page.locator("#cmp-chart canvas, #cmp-chart svg").first).to_be_visible()
        assert page.locator("#cmp-chart").bounding_box()["height"] >= 150  # drawn, not an empty box
        page.screenshot(path=SCREENSHOT_DIR / f"stream-vs-batch-{theme}-{width}.png", full_page=True)
        go_to_tab(page, "Evaluate")
        page.locator("#eval-run").click()
        expect(page.locator("#eval-status")).to_contain_text("6 of 6 done")
        page.screenshot(path=SCREENSHOT_DIR / f"evaluate-{theme}-{width}.png", full_page=True)
    finally:
        context.close()
