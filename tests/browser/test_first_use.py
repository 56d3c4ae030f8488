"""A new visitor's first minutes: every panel opened and left as it is, then each tab used."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from components.chat import params
from standin import Behaviour, StandIn, reply_text
from tests.browser.conftest import REPLY, STOP_CLOSES_WITHIN, open_app


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
    sent = {name for name in params.NAMES if name in record.body}  # tools, schema and logprobs among them
    assert sent == set(), f"untouched parameters reached the wire: {sent}"
    if tab == "Single-turn":
        expect(page.locator("#response span.md")).to_have_text(reply_text(record.body))
    elif tab == "Multi-turn":
        expect(page.locator(REPLY).last).to_have_text(reply_text(record.body))
    else:
        expect(page.locator("#cmp-status")).to_contain_text("replies complete")
    expect(page.get_by_text("Nothing sent")).to_have_count(0)


def test_stop_in_single_turn_keeps_the_text_and_says_so(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.4)
    open_app(page, app_url)
    page.locator("#prompt textarea").fill("tell me a very long story about cheetahs")
    page.locator("#prompt textarea").press("Control+Enter")
    (record,) = standin.wait_for_chat(1)
    expect(page.locator("#response span.md")).to_contain_text("Echo: tell")
    page.keyboard.press("Escape")
    expect(page.locator("#response")).to_contain_text("Stopped by you")
    assert record.wait_done(timeout=STOP_CLOSES_WITHIN) and record.disconnected
    card = page.locator("#single-info")
    expect(card).to_contain_text("stopped by you")
    expect(card).to_contain_text("stopped after")
    shown = page.locator("#response span.md").inner_text().split("⏹️")[0].strip()
    assert reply_text(record.body).startswith(shown) and len(shown) < len(reply_text(record.body))
    expect(page.locator("#submit")).to_be_enabled()
    # Both panels describe the stopped request, not an earlier one.
    page.get_by_text("Copy as code").click()
    expect(page.locator("#single-code-0")).to_contain_text("tell me a very long story about cheetahs")
    page.get_by_text("Messages sent").click()
    expect(page.locator("#single-sent")).to_contain_text("tell me a very long story about cheetahs")


def test_stop_in_the_chat_marks_the_reply_and_the_next_turn_works(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.4)
    open_app(page, app_url, "Multi-turn")
    page.locator("#chat-input textarea").fill("tell me a very long story about falcons")
    page.locator("#chat-input textarea").press("Enter")
    (record,) = standin.wait_for_chat(1)
    expect(page.locator(REPLY).last).to_contain_text("Echo: tell")
    page.keyboard.press("Escape")
    assert record.wait_done(timeout=STOP_CLOSES_WITHIN) and record.disconnected
    card = page.locator('[data-testid="bot"]:has(.thought-group)').last
    expect(card).to_contain_text("stopped by you")
    partial = page.locator(REPLY).last.inner_text()
    assert reply_text(record.body).startswith(partial) and len(partial) < len(reply_text(record.body))
    standin.default = Behaviour()
    page.locator("#chat-input textarea").fill("and now a short one")
    page.locator("#chat-input textarea").press("Enter")
    second = standin.wait_for_chat(2)[-1]
    expect(page.locator(REPLY).last).to_have_text(reply_text(second.body))
    assert second.body["messages"][-2:] == [
        {"role": "assistant", "content": partial},
        {"role": "user", "content": "and now a short one"},
    ]


def test_a_refused_request_clears_the_previous_reply(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url)
    page.locator("#prompt textarea").fill("a good question")
    page.locator("#submit").click()
    (record,) = standin.wait_for_chat(1)
    expect(page.locator("#response span.md")).to_have_text(reply_text(record.body))
    page.locator("#prompt textarea").fill("   ")
    page.locator("#submit").click()
    expect(page.locator("#single-info")).to_contain_text("Nothing sent")
    expect(page.locator("#response")).not_to_contain_text("Echo:")
    assert len(standin.chat_requests()) == 1


def test_enter_in_the_single_turn_prompt_adds_a_line_and_ctrl_enter_sends(
    page: Page, app_url: str, standin: StandIn
) -> None:
    open_app(page, app_url)
    prompt = page.locator("#prompt textarea")
    prompt.fill("line one")
    prompt.press("Enter")
    prompt.press_sequentially("line two")
    expect(prompt).to_have_value("line one\nline two")
    assert standin.chat_requests() == []
    prompt.press("Control+Enter")
    (record,) = standin.wait_for_chat(1)
    assert record.body["messages"][-1]["content"] == "line one\nline two"


def chat_turns(page: Page, standin: StandIn, *messages: str) -> None:
    for message in messages:
        count = len(standin.chat_requests()) + 1
        page.locator("#chat-input textarea").fill(message)
        page.locator("#chat-input textarea").press("Enter")
        record = standin.wait_for_chat(count)[-1]
        expect(page.locator(REPLY).last).to_have_text(reply_text(record.body))
        expect(page.locator('[data-testid="bot"]:has(.thought-group)')).to_have_count(count)


def test_two_turns_fit_in_the_chat_without_scrolling(page: Page, app_url: str, standin: StandIn) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    open_app(page, app_url, "Multi-turn")
    chat_turns(page, standin, "What's the fastest bird?", "Tell me more")
    overflow = page.locator("#chatbot .bubble-wrap").evaluate("e => e.scrollHeight - e.clientHeight")
    assert overflow <= 0, f"two turns overflow the chat by {overflow} px"
    # The hint outlives the first message; the run card is not repeated under the input.
    expect(page.locator("#chat-hint")).to_contain_text("!messages")
    expect(page.locator("#chat-info")).to_be_hidden()


def test_on_a_phone_the_chat_input_is_on_the_first_screen(page: Page, app_url: str, standin: StandIn) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_app(page, app_url, "Multi-turn")
    expect(page.locator("#offline-notice")).to_have_count(0)  # online mode: the banner takes no room
    box = page.locator("#chat-input").bounding_box()
    assert box["y"] + box["height"] <= 844, f"the chat input ends at {box['y'] + box['height']:.0f} px"
    settings = page.locator("#chat-settings").bounding_box()
    assert settings["y"] > box["y"], "the settings should come after the chat on a phone"
    chat_turns(page, standin, "hello from a phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width} px wide"


GUTTER_DRIFT = """(box) => {
    const lines = [...box.querySelectorAll('.cm-line')];
    const numbers = [...box.querySelectorAll('.cm-lineNumbers .cm-gutterElement')].filter((g) => g.innerText.trim());
    const top = (element) => element.getBoundingClientRect().top;
    return numbers.map((g, i) => (lines[i] ? Math.abs(top(g) - top(lines[i])) : 999));
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_code_boxes_show_no_line_number_away_from_its_line(
    page: Page, app_url: str, standin: StandIn, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    open_app(page, app_url)
    page.locator("#prompt textarea").fill("hi")
    page.locator("#submit").click()
    standin.wait_for_chat(1)
    expect(page.locator("#single-info")).to_contain_text("total")
    page.get_by_text("Copy as code").click()
    page.get_by_text("Messages sent").click()
    expect(page.locator("#single-code-0 .cm-content")).to_contain_text("client.chat.chat(")
    expect(page.locator("#single-sent .cm-content")).to_contain_text('"role": "user"')
    for box in ("#single-code-0", "#single-sent"):
        drift = page.locator(box).evaluate(GUTTER_DRIFT)
        assert all(d <= 1 for d in drift), f"{box}: line numbers off their lines by {drift}"


def test_a_streaming_reply_is_a_busy_polite_live_region(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.3)
    open_app(page, app_url)
    response = page.locator("#response")
    expect(response).to_have_attribute("aria-live", "polite")
    page.locator("#prompt textarea").fill("read this once")
    page.locator("#submit").click()
    expect(page.locator("#response span.md")).to_contain_text("Echo:")
    expect(response).to_have_attribute("aria-busy", "true")
    expect(page.locator("#single-info")).to_contain_text("total")
    expect(response).to_have_attribute("aria-busy", "false")
    page.get_by_role("tab", name="Multi-turn").click()
    log = page.locator("#chatbot [role=log]")
    page.locator("#chat-input textarea").fill("read this once too")
    page.locator("#chat-input textarea").press("Enter")
    expect(page.locator(REPLY).last).to_contain_text("Echo:")
    expect(log).to_have_attribute("aria-busy", "true")
    expect(page.locator('[data-testid="bot"]:has(.thought-group)')).to_have_count(1)
    expect(log).to_have_attribute("aria-busy", "false")
    expect(log).to_have_attribute("aria-live", "polite")


UNNAMED_CONTROLS = """() => [...document.querySelectorAll('textarea, input:not([type=hidden]), select, button')]
    .filter((e) => e.offsetParent !== null)
    .filter((e) => !((e.getAttribute('aria-label') || '').trim()
        || (e.labels && [...e.labels].some((label) => label.innerText.trim()))
        || e.getAttribute('aria-labelledby') || (e.title || '').trim()
        || (e.tagName === 'BUTTON' && e.innerText.trim())))
    .map((e) => e.outerHTML.slice(0, 120))"""


@pytest.mark.parametrize("tab", ["Single-turn", "Multi-turn", "Compare", "Evaluate"])
def test_every_control_has_a_name(page: Page, app_url: str, tab: str) -> None:
    open_app(page, app_url, tab)
    open_every_panel(page)
    expect(page.locator('#chat-input [data-testid="submit-button"]:visible[aria-label="Submit"]')).to_have_count(
        1 if tab == "Multi-turn" else 0
    )
    assert page.evaluate(UNNAMED_CONTROLS) == []


# WCAG's contrast ratio of every visible element's own text against the first opaque background behind it.
LOW_CONTRAST = """() => {
    const parse = (colour) => {
        const match = colour.match(/rgba?\\(([^)]+)\\)/);
        if (!match) return null;
        const [r, g, b, a = 1] = match[1].split(/[ ,/]+/).filter(Boolean).map(Number);
        return { r, g, b, a };
    };
    const channel = (x) => ((x /= 255) <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4);
    const luminance = ({ r, g, b }) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const background = (element) => {
        for (; element; element = element.parentElement) {
            const colour = parse(getComputedStyle(element).backgroundColor);
            if (colour && colour.a > 0.5) return colour;
        }
        return { r: 255, g: 255, b: 255, a: 1 };
    };
    const low = [];
    for (const element of document.querySelectorAll("body *")) {
        if (!element.offsetParent) continue;
        if (![...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
        const style = getComputedStyle(element);
        const colour = parse(style.color);
        if (!colour || style.visibility === "hidden" || Number(style.opacity) < 0.5) continue;
        const [a, b] = [luminance(colour), luminance(background(element))];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) low.push([ratio.toFixed(2), element.textContent.trim().slice(0, 40)]);
    }
    return low;
}"""


@pytest.mark.parametrize("tab", ["Single-turn", "Multi-turn", "Compare"])
def test_text_keeps_its_contrast_in_dark_mode(browser: Browser, app_url: str, standin: StandIn, tab: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    page = context.new_page()
    try:
        open_app(page, f"{app_url}?__theme=dark", tab)
        open_every_panel(page)
        submit_in(page, tab)
        standin.wait_for_chat(1)
        expect(page.get_by_text("Echo: hello after looking around").first).to_be_visible()
        low = page.evaluate(LOW_CONTRAST)
        assert low == [], f"text below 4.5:1 in dark mode: {low}"
    finally:
        context.close()
