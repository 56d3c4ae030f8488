"""Multi-turn tab in a real browser: history on the wire, retry, undo, clear, Stop, errors."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from components.chat.conversation import SYSTEM_MESSAGE
from standin import Behaviour, StandIn, reply_text
from tests.browser.conftest import REPLY, STOP_CLOSES_WITHIN, bot_messages, open_app, record_text, recorded_states
from tests.conftest import SYSTEM

BOT = REPLY


def send(page: Page, message: str) -> None:
    page.locator("#chat-input textarea").fill(message)
    page.locator("#chat-input textarea").press("Enter")


def wait_idle(page: Page) -> None:
    """The chat is idle again: its stop button is gone and the textbox accepts input."""
    expect(page.locator("#chat-input .stop-button")).to_have_count(0)
    expect(page.locator("#chat-input textarea")).to_be_editable()


def converse(page: Page, standin: StandIn, *messages: str) -> list[dict]:
    """Send each message, waiting for its reply; return the request bodies."""
    bodies = []
    for message in messages:
        count = len(standin.chat_requests()) + 1
        send(page, message)
        record = standin.wait_for_chat(count)[-1]
        expect(page.locator(BOT).last).to_have_text(reply_text(record.body))
        wait_idle(page)
        bodies.append(record.body)
    return bodies


def test_second_turn_carries_the_first_exchange(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.1)
    open_app(page, app_url, "Multi-turn")
    record_text(page, BOT)  # querySelector: the first bot message
    first, second = converse(page, standin, "What's the fastest bird?", "Tell me more")
    assert len(set(recorded_states(page))) >= 3  # the first reply streamed in the page
    assert second["messages"][1:] == [
        {"role": "user", "content": "What's the fastest bird?"},
        {"role": "assistant", "content": reply_text(first)},
        {"role": "user", "content": "Tell me more"},
    ]
    assert second["messages"][0]["role"] == "system"


def test_retry_resends_the_same_turn(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Multi-turn")
    _, second = converse(page, standin, "one", "two")
    page.locator(BOT).last.hover()
    page.get_by_role("button", name="Retry").click()
    retried = standin.wait_for_chat(3)[-1].body
    assert retried["messages"] == second["messages"]
    wait_idle(page)
    assert len(bot_messages(page)) == 2


def test_undo_removes_the_last_exchange_from_page_and_wire(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Multi-turn")
    (first,) = converse(page, standin, "keep me")
    converse(page, standin, "undo me")
    page.locator(BOT).last.hover()
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(BOT)).to_have_count(1)
    expect(page.locator("#chat-input textarea")).to_have_value("undo me")
    (after,) = converse(page, standin, "instead")
    assert [m["content"] for m in after["messages"][1:]] == ["keep me", reply_text(first), "instead"]


def test_clear_starts_over(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Multi-turn")
    converse(page, standin, "forget me")
    page.get_by_role("button", name="Clear").click()
    expect(page.locator(BOT)).to_have_count(0)
    (after,) = converse(page, standin, "fresh start")
    assert [m["role"] for m in after["messages"]] == ["system", "user"]


def test_stop_mid_reply_keeps_the_partial_text_and_closes_upstream(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.5)
    open_app(page, app_url, "Multi-turn")
    send(page, "a very long story please")
    (record,) = standin.wait_for_chat(1)
    expect(page.locator(BOT).last).to_contain_text("Echo: a")
    page.locator("#chat-input .stop-button").click()
    assert record.wait_done(timeout=STOP_CLOSES_WITHIN), "upstream still open after Stop"
    assert record.disconnected
    wait_idle(page)
    # The stopped reply's card is the last thing Stop changes: read the reply once it is there.
    expect(page.locator('[data-testid="bot"]:has(.thought-group)').last).to_contain_text("stopped by you")
    shown = page.locator(BOT).last.inner_text()
    assert reply_text(record.body).startswith(shown) and len(shown) < len(reply_text(record.body))
    standin.default = Behaviour()
    (after,) = converse(page, standin, "next")
    assert after["messages"][2] == {"role": "assistant", "content": shown}  # the partial reply is history


def test_metadata_messages_panel_and_settings_reach_the_wire(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Multi-turn")
    page.locator("#multi-temperature input[type=range]").fill("1.7")
    page.locator("#multi-non-streaming input").check()
    page.get_by_text("System message").last.click()
    page.locator("#multi-system textarea").fill(SYSTEM)
    (body,) = converse(page, standin, "hi")
    assert (body["temperature"], body["stream"]) == (1.7, False)
    assert body["messages"][0] == {"role": "system", "content": SYSTEM}
    card = page.locator('[data-testid="bot"]:has(.thought-group)').last
    card.locator(".title").click()  # the run card under the reply expands
    expect(card).to_contain_text("temperature 1.7 · not streamed · finish_reason stop")
    page.get_by_text("Messages sent with the last request").click()
    expect(page.locator("#chat-sent")).to_contain_text('"role": "system"')
    assert json.loads(page.locator("#chat-sent .cm-content").inner_text()) == body["messages"]
    page.locator("#multi-system-reset").click()
    expect(page.locator("#multi-system textarea")).to_have_value(SYSTEM_MESSAGE)


def test_a_dropped_stream_shows_a_notice_and_the_next_turn_works(page: Page, app_url: str, standin: StandIn) -> None:
    standin.enqueue(Behaviour(drop_after=3))
    open_app(page, app_url, "Multi-turn")
    send(page, "first question")
    expect(page.get_by_text("Reply interrupted")).to_be_visible()
    expect(page.locator(BOT).first).to_contain_text("Echo: first")
    wait_idle(page)
    (after,) = converse(page, standin, "second question")
    assert [m["content"] for m in after["messages"][1:]] == ["first question", "Echo: first", "second question"]


def test_edit_rewrites_a_message_and_drops_what_followed(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Multi-turn")
    converse(page, standin, "the first question", "the second question")
    page.locator('[data-testid="user"]').first.hover()
    page.get_by_role("button", name="Edit").first.click()
    page.locator("#chatbot textarea").fill("the first question, edited")
    page.locator("#chatbot").get_by_role("button", name="Submit").click()
    edited = standin.wait_for_chat(3)[-1]
    assert [m["content"] for m in edited.body["messages"][1:]] == ["the first question, edited"]
    expect(page.locator(BOT)).to_have_count(1)
    expect(page.locator(BOT).last).to_have_text(reply_text(edited.body))
    expect(page.locator('[data-testid="user"]')).to_have_text(["the first question, edited"])


def test_copy_puts_the_reply_on_the_clipboard(page: Page, app_url: str, standin: StandIn) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_app(page, app_url, "Multi-turn")
    (body,) = converse(page, standin, "copy this")
    reply = page.locator(BOT).last
    reply.hover()
    # The reply's own buttons sit just after its row; the run card under it has buttons of its own.
    buttons = reply.locator("xpath=ancestor::div[contains(@class, 'message-row')]/following-sibling::div[1]")
    buttons.get_by_role("button", name="Copy message").click()
    assert page.evaluate("navigator.clipboard.readText()") == reply_text(body)


def test_a_cookbook_example_sends_its_prompt(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Multi-turn")
    page.locator("#chatbot").get_by_role("button", name="What's the fastest land animal?").click()
    (record,) = standin.wait_for_chat(1)
    assert record.body["messages"][-1] == {"role": "user", "content": "What's the fastest land animal?"}
    expect(page.locator(BOT).last).to_have_text(reply_text(record.body))
