"""Single-turn tab in a real browser: streaming, non-streaming, controls, Stop, metadata, errors."""

from __future__ import annotations

import itertools
import json

from playwright.sync_api import Page, expect

from standin import Behaviour, StandIn, reply_text
from tests.browser.conftest import STOP_CLOSES_WITHIN, open_app, record_text, recorded_states, wait_for_reply
from tests.conftest import EXTRA_MODEL

RESPONSE = "#response span.md"


def submit(page: Page, prompt: str) -> None:
    page.locator("#prompt textarea").fill(prompt)
    page.locator("#submit").click()


def test_streaming_reply_grows_in_the_page(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.2)  # slow enough to see each state even under load
    open_app(page, app_url)
    record_text(page, RESPONSE)
    submit(page, "What's the fastest land animal?")
    (record,) = standin.wait_for_chat(1)
    expect(page.locator(RESPONSE)).to_have_text(reply_text(record.body))
    states = recorded_states(page)
    assert len(states) >= 3, states
    assert all(b.startswith(a.rstrip()) for a, b in itertools.pairwise(states)), states
    assert record.body["stream"] is True


def test_non_streaming_reply_appears_whole(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.2)
    open_app(page, app_url)
    page.locator("#single-non-streaming input").check()
    record_text(page, RESPONSE)
    submit(page, "I need some synonyms for 'awesome'")
    (record,) = standin.wait_for_chat(1)
    expect(page.locator(RESPONSE)).to_have_text(reply_text(record.body))
    assert recorded_states(page) == [reply_text(record.body)]
    assert record.body["stream"] is False


def test_temperature_and_model_set_in_the_page_reach_the_wire(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url)
    page.locator("#single-temperature input[type=range]").fill("0.3")
    page.locator("#single-model input").click()
    page.get_by_role("option", name=EXTRA_MODEL).click()  # only GET /v1/models lists it
    submit(page, "hi")
    (record,) = standin.wait_for_chat(1)
    assert (record.body["temperature"], record.body["model"]) == (0.3, EXTRA_MODEL)


def test_controls_show_generation_then_come_back(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.2)
    open_app(page, app_url)
    expect(page.locator("#stop")).to_be_disabled()
    submit(page, "hello")
    expect(page.locator("#submit")).to_have_text("Generating…")
    expect(page.locator("#submit")).to_be_disabled()
    expect(page.locator("#stop")).to_be_enabled()
    wait_for_reply(page, "#single-info")
    expect(page.locator("#submit")).to_have_text("Submit")
    expect(page.locator("#submit")).to_be_enabled()
    expect(page.locator("#stop")).to_be_disabled()


def test_stop_mid_reply_stops_the_text_and_closes_upstream(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.5)
    open_app(page, app_url)
    submit(page, "tell me a very long story about cheetahs")
    (record,) = standin.wait_for_chat(1)
    expect(page.locator(RESPONSE)).to_contain_text("Echo: tell")
    page.locator("#stop").click()
    assert record.wait_done(timeout=STOP_CLOSES_WITHIN), "upstream still open after Stop"
    assert record.disconnected
    full = reply_text(record.body)
    shown = page.locator(RESPONSE).inner_text()
    assert full.startswith(shown) and len(shown) < len(full)
    expect(page.locator("#submit")).to_be_enabled()


def test_metadata_and_messages_panel(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url)
    submit(page, "hi there")
    (record,) = standin.wait_for_chat(1)
    wait_for_reply(page, "#single-info")
    info = page.locator("#single-info").inner_text()
    completion = len(reply_text(record.body).split())
    prompt_tokens = len(record.body["messages"][0]["content"].split()) + 2
    assert "finish_reason stop" in info
    assert f"tokens {prompt_tokens} prompt + {completion} completion = {prompt_tokens + completion}" in info
    assert "first token" in info and "total" in info
    page.get_by_text("Messages sent").click()
    expect(page.locator("#single-sent")).to_contain_text('"role": "system"')
    shown = page.locator("#single-sent .cm-content").inner_text()
    assert json.loads(shown) == record.body["messages"]


def test_a_reply_cut_at_the_token_limit_shows_the_notice(page: Page, app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(max_tokens=2)
    open_app(page, app_url)
    submit(page, "everything about birds")
    wait_for_reply(page, "#single-info")
    expect(page.locator("#single-info")).to_contain_text("Truncated")
    expect(page.locator(RESPONSE)).to_have_text("Echo: everything")


def test_rate_limit_shows_a_readable_message_and_the_next_request_works(
    page: Page, app_url: str, standin: StandIn
) -> None:
    # The app retries twice, honouring retry-after: three 429s exhaust it.
    standin.enqueue(*[Behaviour(status=429, headers=(("retry-after", "0.1"),))] * 3)
    open_app(page, app_url)
    submit(page, "first")
    expect(page.locator("#single-info")).to_contain_text("rate limit was hit (429)")
    expect(page.locator('[data-testid="toast-text"]')).to_contain_text("rate limit was hit (429)")
    expect(page.locator("#submit")).to_be_enabled()
    submit(page, "second")
    record = standin.wait_for_chat(4)[-1]
    expect(page.locator(RESPONSE)).to_have_text(reply_text(record.body))
