"""The Compare tab and copy-as-code in a real browser: cells stream together; snippets reach the clipboard."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from components.standin import Behaviour, StandIn, reply_text
from tests.browser.conftest import open_app, wait_for_reply

CELLS = 3


def test_the_cells_stream_at_the_same_time(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.2)  # slow enough to see every state, even under load
    open_app(page, app_url, "Compare")
    page.evaluate(
        """(cells) => {
            window.__states = [];
            window.__recorder = setInterval(() => {
                const texts = [...Array(cells).keys()].map(
                    (i) => document.querySelector(`#cmp-reply-${i} span.md`)?.innerText ?? '');
                const last = window.__states.at(-1);
                if (!last || texts.some((t, i) => t !== last[i])) window.__states.push(texts);
            }, 10);
        }""",
        CELLS,
    )
    page.locator("#cmp-prompt textarea").fill("What's the fastest bird?")
    page.locator("#cmp-submit").click()
    records = standin.wait_for_chat(CELLS)
    expect(page.locator("#cmp-status")).to_contain_text(f"{CELLS} of {CELLS} replies complete")
    states = page.evaluate("() => { clearInterval(window.__recorder); return window.__states; }")
    finals = [reply_text(body) for body in sorted((r.body for r in records), key=lambda b: b["temperature"])]
    assert [page.locator(f"#cmp-reply-{i} span.md").inner_text() for i in range(CELLS)] == finals
    growing_together = [
        texts
        for texts in states
        if sum(1 for text, final in zip(texts, finals, strict=True) if text and text != final) >= 2
    ]
    assert growing_together, f"no moment with two cells part-way; states seen: {len(states)}"


def test_copy_as_code_puts_the_snippet_on_the_clipboard(page: Page, app_url: str, standin: StandIn) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_app(page, app_url)
    page.locator("#prompt textarea").fill("copy me as code")
    page.locator("#submit").click()
    wait_for_reply(page, "#single-info")
    page.get_by_text("Copy as code").first.click()
    copied = {}
    for index, flavour in enumerate(["Python", "Python (async)", "curl"]):
        page.get_by_role("tab", name=flavour, exact=True).click()
        box = page.locator(f"#single-code-{index}")
        expect(box).to_contain_text("WRITER_API_KEY")
        box.hover()
        box.get_by_role("button", name="Copy").click()
        copied[flavour] = page.evaluate("navigator.clipboard.readText()")
    assert "client.chat.chat(" in copied["Python"] and "'content': 'copy me as code'" in copied["Python"]
    assert "temperature=1.0," in copied["Python"] and "stream=True," in copied["Python"]
    assert "await client.chat.chat(" in copied["Python (async)"] and "asyncio.run(main())" in copied["Python (async)"]
    assert copied["curl"].startswith('curl "${WRITER_BASE_URL:-https://api.writer.com}/v1/chat"')
    assert '"content": "copy me as code"' in copied["curl"]
