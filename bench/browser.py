"""The browser part: how long the Multi-turn page takes to show a long, fast reply in full, by history length.

Debian's Chromium driven by Playwright (never ``playwright install``: shared/browser-testing.md).
The history is built the honest way, by sending turns through the page (each gets a short
reply at once), so the page holds and renders every earlier message as a visitor's would.
The time runs inside the page, from the Enter key to the frame after the last bot message
shows the reply's last word. Two replies are measured at each history length: the
no-delay one (as fast as the stand-in and the SDK go) and the long paced one (a fast
model). The page's own event chain before the reply is requested (save the textbox,
append the message, re-render the conversation, join the queue) is timed apart, from the
page's resource timings.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

from bench.standin_server import BURST_MARKER, FAST_MARKER, LONG_MARKER, TURN_WORDS

CHROMIUM = "/usr/lib/chromium/chromium"  # Debian's; /usr/bin/chromium is a wrapper script
TURN_TIMEOUT = 60.0  # seconds for one short turn; a 100-turn page is slow but not that slow
REPLY_TIMEOUT = 300.0  # seconds for the long reply: gradio-facts saw minutes when every token was an update

# Resolves with the page's timeline once the last bot message ends with `last` (and there are `count` of them):
# when the text first showed, how many distinct texts were rendered, when the full text was painted, and when
# the page asked the queue for the reply (the last queue/join after Enter: the chain's earlier steps come first).
_WATCH = """([count, last]) => new Promise((resolve) => {
  let start = null, first = null, renders = 0, seen = '';
  performance.clearResourceTimings();
  document.addEventListener('keydown', (e) => { if (e.key === 'Enter' && start === null) start = performance.now(); },
                            {capture: true, once: true});
  const joined = () => {
    const joins = performance.getEntriesByType('resource').filter((e) => e.name.includes('/queue/join'));
    return joins.length ? joins[0].startTime - start : null;
  };
  const observer = new MutationObserver(() => {
    const bots = document.querySelectorAll('[data-testid="bot"]');
    if (bots.length < count || start === null) return;
    const text = bots[bots.length - 1].textContent.trimEnd();
    if (text === seen) return;
    seen = text; renders += 1;
    if (first === null && text) first = performance.now() - start;
    if (text.endsWith(last)) {
      observer.disconnect();
      requestAnimationFrame(() => resolve({first, renders, total: performance.now() - start, join: joined()}));
    }
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
})"""


@dataclass(frozen=True)
class Render:
    """One reply as the page showed it."""

    reply: str  # "no delay" or "paced"
    turns: int  # earlier turns on the page
    join_s: float | None  # Enter to the page's request for the reply (queue/join): the chain before it
    first_s: float  # Enter to the first text of the reply
    total_s: float  # Enter to the full reply painted
    renders: int  # distinct texts of the reply that the page showed
    server_cpu_s: float  # the app's CPU time meanwhile


async def _open(browser: Browser, url: str) -> Page:
    page = await browser.new_page()
    await page.goto(url)
    await page.get_by_role("tab", name="Multi-turn").click()
    await page.locator("#chat-input textarea").wait_for()
    return page


async def _send(page: Page, message: str, last_word: str, timeout: float) -> dict[str, Any]:
    """Type a message, press Enter, and wait until its reply is shown in full and the textbox is free again."""
    box = page.locator("#chat-input textarea")
    await box.fill(message)
    count = await page.locator('[data-testid="bot"]').count() + 1
    watch = asyncio.ensure_future(page.evaluate(_WATCH, [count, last_word]))
    await page.evaluate("() => new Promise(requestAnimationFrame)")  # the watcher is installed
    await box.press("Enter")
    timeline = await asyncio.wait_for(watch, timeout)
    await page.locator("#chat-input textarea:not([disabled])").wait_for(timeout=timeout * 1000)
    return timeline


async def _build(page: Page, turns: int, deadline: float) -> None:
    """Send ``turns`` short turns (each answered at once) through the page."""
    for number in range(turns):
        if time.monotonic() > deadline:
            msg = "building the browser's history took too long"
            raise TimeoutError(msg)
        await _send(page, f"{FAST_MARKER} question {number}", f"turn{TURN_WORDS - 1}", TURN_TIMEOUT)


REPLIES = {"no delay": BURST_MARKER, "paced": LONG_MARKER}


async def _measure(page: Page, reply: str, turns: int, last_word: str, cpu: Any) -> Render:
    before = cpu()
    timeline = await _send(page, f"{REPLIES[reply]} a long answer, please", last_word, REPLY_TIMEOUT)
    join = timeline["join"] / 1000 if timeline["join"] is not None else None
    seconds = timeline["first"] / 1000, timeline["total"] / 1000
    return Render(reply, turns, join, *seconds, timeline["renders"], cpu() - before)


async def _undo(page: Page) -> None:
    """The chat's Undo: the measured turn leaves the history (its prompt goes back to the textbox)."""
    count = await page.locator('[data-testid="bot"]').count()
    await page.get_by_role("button", name="Undo").last.click()
    await page.wait_for_function("(n) => document.querySelectorAll('[data-testid=\"bot\"]').length < n", arg=count)
    await page.locator("#chat-input textarea").fill("")


async def render_times(url: str, levels: tuple[int, ...], burst_chunks: int, cpu: Any, budget: float) -> list[Render]:
    """The long reply's render time at each history length in ``levels`` (ascending), on one growing page."""
    last_word = f"w{burst_chunks - 1}"
    deadline = time.monotonic() + budget
    results = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu", "--disable-quic"])
        try:
            page = await _open(browser, url)
            await _send(page, f"{FAST_MARKER} warm up", f"turn{TURN_WORDS - 1}", TURN_TIMEOUT)  # first-use costs
            await _undo(page)
            built = 0
            for turns in sorted(levels):
                await _build(page, turns - built, deadline)
                built = turns
                for reply in REPLIES:
                    results.append(await _measure(page, reply, turns, last_word, cpu))
                    await _undo(page)
        finally:
            await browser.close()
    return results
