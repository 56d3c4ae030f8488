"""Browser fixtures: Debian's Chromium driven by Playwright against the app on 127.0.0.1.

No browser is downloaded: Playwright launches the system Chromium. Where it is missing
the browser tests skip with the reason, except under CI=true, where that fails the run.
Facts behind the choices here: shared/browser-testing.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from components.chat.runs import STOP_GRACE
from components.settings import Settings
from tests.conftest import launch

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium"))  # not /usr/bin's shell wrapper
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", "test-artifacts/screenshots"))
# A reply in the chat: a bot message that is not a collapsible notice or run card (Gradio's "thought").
REPLY = '[data-testid="bot"]:not(:has(.thought-group))'
# Stop closes the upstream request as soon as its cancel lands (40-150 ms here). Well under the grace
# the after-Stop step waits for a cancelled reply: a cancel sent only once that grace ran out fails.
STOP_CLOSES_WITHIN = STOP_GRACE / 2  # seconds
expect.set_options(timeout=20_000)  # expect() keeps its own 5 s default otherwise; the machine is shared


@pytest.fixture(scope="session", autouse=True)
def _chromium_present() -> None:
    if CHROMIUM.exists():
        return
    reason = (
        f"Chromium not found at {CHROMIUM}: install Debian's chromium (bash scripts/test.sh does) or set CHROMIUM_PATH"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def base_url() -> None:
    """No base URL: every test opens the full URL of the app it launched.

    Defined here so that pytest-playwright's own fallback (0.10.0, ``_BaseUrlFallback.base_url``) never
    runs: it is a session fixture written as an instance method, which pytest 9.2 deprecates with a
    PytestRemovedIn10Warning on the first test that opens a page, and pytest 10 will reject.
    """
    return


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # Playwright already adds --headless, --no-sandbox and the no-background-network flags.
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": ["--disable-gpu", "--disable-quic"]}


@pytest.fixture(scope="module")
def offline_url() -> Iterator[str]:
    """The app without a key: offline demo mode."""
    demo, url = launch(Settings(api_key=None, rate_limit_per_minute=0))
    yield url
    demo.close()


TAB_INPUTS = {
    "Single-turn": "#prompt textarea",
    "Multi-turn": "#chat-input textarea",
    "Compare": "#cmp-prompt textarea",
    "Evaluate": "#eval-user textarea",
}


def open_app(page: Page, url: str, tab: str = "Single-turn") -> None:
    """Load the page and open a tab; waits for a visible element (networkidle never settles: heartbeat)."""
    page.goto(url)
    expect(page.get_by_role("tab", name="Single-turn")).to_be_visible()
    if tab != "Single-turn":
        go_to_tab(page, tab)
    expect(page.locator(TAB_INPUTS[tab])).to_be_visible()


def go_to_tab(page: Page, tab: str) -> None:
    """Open a tab as a person does: its name in the tab bar, or, on a narrow screen, under "More tabs"."""
    if page.get_by_role("tab", name=tab).is_visible():
        page.get_by_role("tab", name=tab).click()
    else:  # the tabs that do not fit are plain buttons in Gradio's overflow menu
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown button", has_text=tab).click()
    expect(page.locator(TAB_INPUTS[tab])).to_be_visible()


def record_text(page: Page, selector: str) -> None:
    """Record every distinct text of ``selector`` inside the page (a Python-side poll misses states)."""
    page.evaluate(
        """(selector) => {
            window.__states = [];
            window.__sample = () => {
                const text = document.querySelector(selector)?.innerText ?? '';
                if (window.__states.at(-1) !== text) window.__states.push(text);
            };
            window.__recorder = setInterval(window.__sample, 10);
        }""",
        selector,
    )


def recorded_states(page: Page) -> list[str]:
    # One last sample: the test's own wait may have seen the final text before the next 10 ms tick.
    return page.evaluate(
        "() => { clearInterval(window.__recorder); window.__sample(); return window.__states.filter(t => t.trim()); }"
    )


def bot_messages(page: Page) -> list[str]:
    return page.locator(REPLY).all_inner_texts()


def wait_for_reply(page: Page, info_selector: str) -> None:
    """The reply is complete when its metadata shows the total time (only the last update has it)."""
    expect(page.locator(info_selector)).to_contain_text("total", timeout=20_000)
