"""Tools, structured output and token probabilities in a real browser, as a person uses them.

The person opens the panels, picks the ready examples, answers the model's calls in the boxes the
page gives, and reads the verdict and the token view; the stand-in records what reached the wire.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from components.chat import token_view
from components.chat.tool_examples import EXAMPLE_TOOLS
from standin import Behaviour, StandIn
from tests.browser.conftest import REPLY, SCREENSHOT_DIR, STOP_CLOSES_WITHIN, open_app
from tests.browser.test_multi_turn import send, wait_idle

CALL = '#chatbot [data-testid="bot"]:has(.thought-group):has-text("Tool call")'
TWO_CALLS = (("get_weather", '{"city": "Paris"}'), ("calculate", '{"expression": "5 + 7"}'))


def open_panel(page: Page, name: str) -> None:
    page.locator("#chat-settings button.label-wrap", has_text=name).click()


def add_examples(page: Page, *names: str) -> None:
    """Pick each example from the list; each lands in the tools editor, after the ones before it."""
    for name in names:
        page.locator("#multi-tool-example input").click()
        page.get_by_role("option", name=name).click()
        function = EXAMPLE_TOOLS[name]["function"]["name"]
        expect(page.locator("#multi-tools textarea")).to_have_value(re.compile(f'"name": "{function}"'))


def test_a_two_round_tool_conversation(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Multi-turn")
    open_panel(page, "Tools")
    add_examples(page, "Weather lookup", "Calculator")
    # Round 1: two calls at once. Round 2: the model asks for one more. Then it answers.
    standin.enqueue(Behaviour(tool_calls=TWO_CALLS), Behaviour(tool_calls=(("get_weather", '{"city": "Lyon"}'),)))
    send(page, "Weather in Paris, and 5 + 7?")
    first = standin.wait_for_chat(1)[0].body
    assert [tool["function"]["name"] for tool in first["tools"]] == ["get_weather", "calculate"]
    wait_idle(page)
    expect(page.locator(CALL)).to_have_count(2)
    expect(page.locator(CALL).first).to_contain_text("get_weather")
    panel = page.locator("#chat-tool-results")
    expect(panel).to_be_visible()
    expect(page.locator("#chat-tool-result-1 textarea")).to_be_visible()
    expect(page.locator("#chat-tool-result-3 textarea")).to_be_hidden()

    # A mistake first: one box left empty. Nothing is sent, nothing is lost.
    page.locator("#chat-tool-result-1 textarea").fill('{"temp_c": 18, "sky": "clear"}')
    page.locator("#chat-send-results").click()
    expect(page.get_by_text("Give a result for every call: calculate (call 2) has none.").first).to_be_visible()
    assert len(standin.chat_requests()) == 1
    expect(page.locator("#chat-tool-result-1 textarea")).to_have_value('{"temp_c": 18, "sky": "clear"}')

    page.locator("#chat-tool-result-2 textarea").fill("12")
    page.locator("#chat-send-results").click()
    second = standin.wait_for_chat(2)[1].body
    ids = [call["id"] for call in second["messages"][-3]["tool_calls"]]
    assert [(m["role"], m.get("tool_call_id"), m["content"]) for m in second["messages"][-2:]] == [
        ("tool", ids[0], '{"temp_c": 18, "sky": "clear"}'),
        ("tool", ids[1], "12"),
    ]
    # Round 2: a new call, a new box, empty.
    expect(page.locator(CALL)).to_have_count(3)
    expect(page.locator("#chat-tool-result-1 textarea")).to_have_value("")
    expect(page.locator("#chat-tool-result-2 textarea")).to_be_hidden()
    expect(page.locator("#chat-tool-results")).to_contain_text("Lyon")
    page.locator("#chat-tool-result-1 textarea").fill("15°C, rain")
    page.locator("#chat-tool-result-1 textarea").press("Tab")
    page.locator("#chat-send-results").click()
    third = standin.wait_for_chat(3)[2].body
    assert [m["role"] for m in third["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
        "tool",
    ]
    assert third["messages"][-1]["content"] == "15°C, rain"
    expect(page.locator(REPLY).last).to_contain_text("Echo: tool results: get_weather = 15°C, rain")
    expect(panel).to_be_hidden()  # nothing pending any more
    wait_idle(page)
    for close in page.locator(".toast-close").all():  # the earlier warning, read: out of the picture
        close.click()
    page.screenshot(path=str(SCREENSHOT_DIR / "tools-two-rounds.png"), full_page=True)
    page.locator("#chat-column").screenshot(path=str(SCREENSHOT_DIR / "tools-chat.png"))

    # The conversation goes on: the next question carries both rounds, in order.
    send(page, "And tomorrow?")
    fourth = standin.wait_for_chat(4)[3].body
    roles = [m["role"] for m in fourth["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "tool", "assistant", "tool", "assistant", "user"]
    wait_idle(page)


def test_a_schema_mismatch_names_the_first_error_and_its_path(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Single-turn")
    page.locator("button.label-wrap", has_text="Response format").first.click()
    page.locator("#single-format-kind").get_by_text("JSON schema").click()
    expect(page.locator("#single-response-format textarea")).to_have_value(re.compile('"population"'))  # the example
    standin.enqueue(Behaviour(reply='{"city": "Paris", "country": "France", "population": -5, "landmarks": []}'))
    page.locator("#prompt textarea").fill("Tell me about Paris")
    page.locator("#submit").click()
    body = standin.wait_for_chat(1)[0].body
    assert body["response_format"]["json_schema"]["schema"]["required"] == [
        "city",
        "country",
        "population",
        "landmarks",
    ]
    verdict = "❌ Does not match the schema at population: -5 is less than the minimum of 0"
    expect(page.locator("#response")).to_contain_text(verdict)
    expect(page.locator("#response code").first).to_contain_text('"population": -5')  # formatted, in a code block
    # A good reply next: the same schema, and it says so.
    page.locator("#submit").click()
    standin.wait_for_chat(2)
    expect(page.locator("#response")).to_contain_text("✅ Matches the schema")
    # Back to text: nothing of the schema is sent any more.
    page.locator("#single-format-kind").get_by_text("Text").click()
    expect(page.locator("#single-response-format textarea")).to_be_hidden()
    page.locator("#submit").click()
    assert "response_format" not in standin.wait_for_chat(3)[2].body


def test_the_token_view_shades_each_token_and_lists_the_least_sure(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Single-turn")
    page.locator("button.label-wrap", has_text="Parameters").first.click()
    page.locator("#single-logprobs input").check()
    page.locator("#prompt textarea").fill("Which is the fastest bird?")
    page.locator("#prompt textarea").press("Control+Enter")
    (record,) = standin.wait_for_chat(1)
    assert record.body["logprobs"] is True
    expect(page.locator("#single-info")).to_contain_text("total")
    page.locator("#single-tokens-panel button.label-wrap").click()
    spans = page.locator("#single-tokens span.token")
    expect(spans).to_have_count(record.sent["usage"]["completion_tokens"])
    assert "".join(spans.all_inner_texts()).split() == page.locator("#response").inner_text().split()
    assert re.fullmatch(r"\d+\.\d% · also: .+", spans.first.get_attribute("title") or "")
    rows = min(token_view.UNSURE_SHOWN, record.sent["usage"]["completion_tokens"])
    expect(page.locator("#single-tokens table tbody tr")).to_have_count(rows)
    page.locator("#single-tokens-panel").screenshot(path=str(SCREENSHOT_DIR / "token-view.png"))


def test_single_turn_answers_a_call_below_its_response(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Single-turn")
    page.locator("button.label-wrap", has_text="Tools").first.click()
    page.locator("#single-tool-example input").click()
    page.get_by_role("option", name="Calculator").click()
    page.locator("#single-tool-choice input").click()
    page.get_by_role("option", name="calculate", exact=True).click()  # the list follows the functions offered
    standin.enqueue(Behaviour(tool_calls=(("calculate", '{"expression": "17 * 3"}'),)))
    page.locator("#prompt textarea").fill("What is 17 * 3?")
    page.locator("#submit").click()
    first = standin.wait_for_chat(1)[0].body
    assert first["tool_choice"] == {"type": "function", "function": {"name": "calculate"}}
    expect(page.locator("#response")).to_contain_text("Tool call: calculate")
    expect(page.locator("#response")).to_contain_text('"expression": "17 * 3"')
    box = page.locator("#single-tool-result-1 textarea")
    expect(box).to_be_visible()
    box.fill("51")
    page.locator("#single-send-results").click()
    second = standin.wait_for_chat(2)[1].body
    assert [(m["role"], m.get("content")) for m in second["messages"][-2:]] == [("assistant", ""), ("tool", "51")]
    expect(page.locator("#response")).to_contain_text("Echo: tool results: calculate = 51")
    expect(page.locator("#single-tool-results")).to_be_hidden()
    expect(page.locator("#submit")).to_be_enabled()


def test_on_a_phone_the_calls_and_their_boxes_fit_the_screen(page: Page, app_url: str, standin: StandIn) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_app(page, app_url, "Multi-turn")
    open_panel(page, "Tools")
    add_examples(page, "Document search")
    standin.enqueue(Behaviour(tool_calls=(("search_documents", '{"query": "refund policy for annual plans"}'),)))
    send(page, "What is our refund policy?")
    standin.wait_for_chat(1)
    box = page.locator("#chat-tool-result-1 textarea")
    expect(box).to_be_visible()
    box.fill("Annual plans: a full refund within 30 days.")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing makes the page scroll sideways
    for selector in (CALL, "#chat-tool-results"):
        right = page.locator(selector).first.evaluate("e => e.getBoundingClientRect().right")
        assert right <= 390, selector
    page.screenshot(path=str(SCREENSHOT_DIR / "tools-phone-390.png"), full_page=True)


def test_esc_stops_the_reply_to_results_and_the_chat_goes_on(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Multi-turn")
    open_panel(page, "Tools")
    add_examples(page, "Calculator")
    standin.enqueue(Behaviour(tool_calls=(("calculate", '{"expression": "2 + 2"}'),)), Behaviour(chunk_delay=0.5))
    send(page, "What is 2 + 2?")
    standin.wait_for_chat(1)
    page.locator("#chat-tool-result-1 textarea").fill("4")
    page.locator("#chat-send-results").click()
    record = standin.wait_for_chat(2)[1]
    expect(page.locator(REPLY).last).to_contain_text("Echo: tool")
    page.keyboard.press("Escape")
    assert record.wait_done(timeout=STOP_CLOSES_WITHIN), "upstream still open after Esc"
    assert record.disconnected
    wait_idle(page)
    expect(page.locator('[data-testid="bot"]:has(.thought-group)').last).to_contain_text("stopped by you")
    shown = page.locator(REPLY).last.inner_text()
    send(page, "thanks")
    after = standin.wait_for_chat(3)[2].body
    assert after["messages"][-2:] == [{"role": "assistant", "content": shown}, {"role": "user", "content": "thanks"}]
    wait_idle(page)
