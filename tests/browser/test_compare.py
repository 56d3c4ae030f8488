"""The Compare tab and copy-as-code in a real browser: cells stream together, Stop says what it stopped, phones."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from standin import Behaviour, StandIn, reply_text
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


def cards(page: Page, count: int) -> list[str]:
    return [page.locator(f"#cmp-card-{i}").inner_text() for i in range(count)]


def test_stop_keeps_the_text_and_says_what_it_stopped(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.5)  # about 4 s a reply: Stop lands halfway
    standin.on_request(lambda body: body["temperature"] == 0.7, Behaviour())  # this one finishes before the Stop
    open_app(page, app_url, "Compare")
    stop = page.locator("#cmp-stop-button")
    expect(stop).to_be_disabled()  # nothing to stop yet
    page.locator("#cmp-prompt textarea").fill("a long story")
    page.locator("#cmp-submit").click()
    expect(stop).to_be_enabled()
    expect(page.locator("#cmp-submit")).to_be_disabled()
    expect(page.locator("#cmp-card-1")).to_contain_text("finish_reason stop")
    for slow in (0, 2):
        expect(page.locator(f"#cmp-reply-{slow}")).to_contain_text("Echo:")
    stop.click()

    expect(page.locator("#cmp-status")).to_have_text("Stopped by you: 1 of 3 replies had finished.")
    records = {r.body["temperature"]: r for r in standin.chat_requests()}
    for slow in (0, 2):
        card = page.locator(f"#cmp-card-{slow}")
        expect(card).to_contain_text("stopped by you")
        assert re.search(r"stopped after \d+\.\d\d s", card.inner_text())
        shown = page.locator(f"#cmp-reply-{slow} span.md").inner_text()
        full = reply_text(records[[0.0, 0.7, 1.4][slow]].body)
        assert shown and full.startswith(shown.rstrip("…")[:5]) and len(shown) < len(full), (shown, full)
    assert "stopped by you" not in cards(page, 3)[1] and "total" in cards(page, 3)[1]
    for temperature in (0.0, 1.4):
        assert records[temperature].wait_done(timeout=5), "an upstream request was still open 5 s after Stop"
        assert records[temperature].disconnected
    expect(stop).to_be_disabled()
    expect(page.locator("#cmp-submit")).to_be_enabled()
    assert page.locator("#cmp-status").get_attribute("aria-live") == "polite"
    assert page.locator(".cmp-grid").evaluate_all("grids => grids.map((g) => g.getAttribute('aria-busy'))") == [
        "false",
        "false",
    ]


def test_stop_before_the_first_token_says_so(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(first_token_delay=5.0)
    open_app(page, app_url, "Compare")
    page.locator("#cmp-prompt textarea").fill("slow to start")
    page.locator("#cmp-submit").click()
    standin.wait_for_chat(CELLS)
    expect(page.locator("#cmp-status")).to_have_text(f"Sending {CELLS} requests at once…")
    page.locator("#cmp-stop-button").click()
    expect(page.locator("#cmp-status")).to_have_text(f"Stopped by you: 0 of {CELLS} replies had finished.")
    for index in range(CELLS):
        expect(page.locator(f"#cmp-card-{index}")).to_have_text("stopped by you before the first token arrived.")
    for record in standin.chat_requests():
        assert record.wait_done(timeout=5) and record.disconnected


def test_a_refused_comparison_leaves_no_old_results_on_show(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Compare")
    page.locator("#cmp-prompt textarea").fill("What's the fastest bird?")
    page.locator("#cmp-submit").click()
    expect(page.locator("#cmp-status")).to_have_text(f"{CELLS} of {CELLS} replies complete.")
    expect(page.locator("#cmp-reply-0")).to_contain_text("Echo:")
    page.locator("#cmp-temperatures textarea").fill("0.5, 9")
    page.locator("#cmp-submit").click()
    expect(page.locator("#cmp-status")).to_contain_text("Nothing sent: Each temperature must be a number")
    expect(page.locator(".cmp-cell")).to_have_count(0)  # the earlier run's cells are gone, not shown as this one's
    expect(page.get_by_text("Echo:")).to_have_count(0)
    assert len(standin.chat_requests()) == CELLS  # the refused one sent nothing
    expect(page.locator("#cmp-submit")).to_be_enabled()


def test_keys_in_the_prompt(page: Page, app_url: str, standin: StandIn) -> None:
    """Enter is a new line; Ctrl+Enter runs Compare (the page's shortcut); Esc stops it."""
    open_app(page, app_url, "Compare")
    prompt = page.locator("#cmp-prompt textarea")
    prompt.fill("first line")
    prompt.press("Enter")
    prompt.press_sequentially("second line")
    expect(prompt).to_have_value("first line\nsecond line")
    assert standin.chat_requests() == []
    prompt.press("Control+Enter")
    expect(page.locator("#cmp-status")).to_have_text(f"{CELLS} of {CELLS} replies complete.")
    assert [r.body["messages"][-1]["content"] for r in standin.chat_requests()] == ["first line\nsecond line"] * CELLS
    standin.default = Behaviour(chunk_delay=0.5)
    # The shortcut does what the button does: nothing while it is still busy. A person sees it enabled first.
    expect(page.locator("#cmp-submit")).to_be_enabled()
    prompt.press("Control+Enter")
    expect(page.locator("#cmp-stop-button")).to_be_enabled()
    records = standin.wait_for_chat(2 * CELLS)[CELLS:]
    page.keyboard.press("Escape")
    expect(page.locator("#cmp-status")).to_contain_text("Stopped by you")
    assert all(record.wait_done(timeout=5) and record.disconnected for record in records)


def test_six_temperatures_on_two_models_make_a_regular_grid(page: Page, app_url: str, standin: StandIn) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    open_app(page, app_url, "Compare")
    page.locator("#cmp-prompt textarea").fill("grid")
    page.locator("#cmp-temperatures textarea").fill("0, 0.4, 0.8, 1.2, 1.6, 2")
    page.locator("#cmp-model-2 input").click()
    page.get_by_role("option", name="palmyra-x4").click()
    page.locator("#cmp-submit").click()
    expect(page.locator("#cmp-status")).to_have_text("12 of 12 replies complete.")
    boxes = [page.locator(f"#cmp-title-{i}").locator("..").bounding_box() for i in range(12)]
    assert {round(box["width"]) for box in boxes} == {round(boxes[0]["width"])}, "cells of unequal width"
    assert len({round(box["x"]) for box in boxes}) == 3, "not 3 columns"
    columns = sorted({round(box["x"]) for box in boxes})
    for model_row in (boxes[:6], boxes[6:]):  # each model's temperatures in order, 3 a line
        assert [columns.index(round(box["x"])) for box in model_row] == [0, 1, 2, 0, 1, 2]
    assert page.locator("#cmp-title-6").inner_text().startswith("palmyra-x4 · temperature 0")


def overlapping(boxes: list[dict]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i, a in enumerate(boxes)
        for j, b in enumerate(boxes[i + 1 :], i + 1)
        if a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]
    ]


def test_on_a_phone_results_start_on_the_first_screen_and_chart_labels_do_not_overlap(
    browser: Browser, app_url: str, standin: StandIn
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        open_app(page, app_url, "Compare")
        page.locator("#cmp-prompt textarea").fill("on a phone")
        page.locator("#cmp-submit").click()
        expect(page.locator("#cmp-status")).to_have_text(f"{CELLS} of {CELLS} replies complete.")
        # The first reply's whole box (80 px high at least) within the first 844 px: seen without scrolling.
        reply = page.locator("#cmp-reply-0").bounding_box()
        assert reply["y"] + 80 <= 844, f"the first reply starts {reply['y']:.0f} px down"
        expect(page.locator("#cmp-temperatures")).to_be_visible()  # the settings are still there, below
        page.locator("#cmp-versus").click()
        expect(page.locator("#cmp-status")).to_have_text("2 of 2 replies complete.")
        labels = page.locator("#cmp-chart svg .role-axis-label text")
        expect(labels.filter(has_text="not streamed: first token")).to_have_count(1)
        for axis in page.locator("#cmp-chart svg .role-axis-label").all():
            # Vega hides a label that would overlap another by making it transparent: count the drawn ones.
            boxes = axis.locator("text").evaluate_all(
                "texts => texts.filter((t) => getComputedStyle(t).opacity !== '0').map((t) => {"
                " const r = t.getBoundingClientRect();"
                " return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, text: t.textContent}; })"
            )
            assert len(boxes) >= 2 and not overlapping(boxes), boxes
        run_labels = set(labels.all_text_contents())
        assert {"streamed: first token", "streamed: total", "not streamed: total"} <= run_labels
    finally:
        context.close()
