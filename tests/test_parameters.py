"""Sampling parameters and run cards, through the launched app: what reaches the wire, what each card says."""

from __future__ import annotations

import gradio as gr
import pytest
from gradio_client import Client

from components.chat import params
from components.chat.params import MAX_OUTPUT_TOKENS, MAX_STOP_CHARS, Flag, InvalidRequestError, Sampling
from components.ui.controls import parameter_boxes
from standin import Behaviour, StandIn, reply_text
from tests.conftest import PROMPT_PARAMETER, SYSTEM, notices_of, reply_of

TABS = ["single_turn", "chat"]
MODES = [pytest.param(False, id="stream"), pytest.param(True, id="batch")]
OPTIONAL = ("top_p", "max_tokens", "stop")


def ask(
    app: Client,
    tab: str,
    prompt: str,
    *,
    top_p: float | None = None,
    max_tokens: int | None = None,
    stop: str = "",
    non_streaming: bool = False,
) -> tuple[str, str]:
    """(the reply text, its run card) as the user sees them in either tab."""
    output = app.predict(
        **{PROMPT_PARAMETER[tab]: prompt},
        temperature=0.4,
        non_streaming=non_streaming,
        model="palmyra-x5",
        system=SYSTEM,
        own_key="",
        top_p=top_p,
        max_tokens=max_tokens,
        stop=stop,
        api_name=f"/{tab}",
    )
    if tab == "single_turn":
        return output[0], output[1]
    notices = notices_of(output[0])
    return reply_of(output[0]), notices.get("Run card") or notices.get("⚠️ Nothing sent") or output[1]


@pytest.mark.parametrize("non_streaming", MODES)
@pytest.mark.parametrize("tab", TABS)
def test_each_parameter_reaches_the_wire_only_when_set(
    app: Client, standin: StandIn, tab: str, non_streaming: bool
) -> None:
    ask(app, tab, "nothing set", non_streaming=non_streaming)
    ask(app, tab, "top_p only", top_p=0.5, non_streaming=non_streaming)
    ask(app, tab, "max_tokens only", max_tokens=40, non_streaming=non_streaming)
    ask(app, tab, "stop only", stop="END\n\n###\n", non_streaming=non_streaming)
    sent = [{name: r.body[name] for name in OPTIONAL if name in r.body} for r in standin.chat_requests()]
    assert sent == [{}, {"top_p": 0.5}, {"max_tokens": 40}, {"stop": ["END", "###"]}]
    assert all(r.body["temperature"] == 0.4 and r.body["stream"] is not non_streaming for r in standin.chat_requests())


@pytest.mark.parametrize("non_streaming", MODES)
@pytest.mark.parametrize("tab", TABS)
def test_the_run_card_shows_what_was_sent_and_what_came_back(
    app: Client, standin: StandIn, tab: str, non_streaming: bool
) -> None:
    reply, card = ask(app, tab, "hello card", top_p=0.9, max_tokens=50, non_streaming=non_streaming)
    (record,) = standin.chat_requests()
    usage = record.sent["usage"]
    assert reply == reply_text(record.body)
    assert "**palmyra-x5** · temperature 0.4 · top_p 0.9 · max_tokens 50" in card
    assert ("not streamed" if non_streaming else "· streamed") in card
    assert f"id `{record.sent['id']}`" in card
    assert f"finish_reason `{record.sent['finish_reason']}`" in card
    total = usage["total_tokens"]
    assert f"tokens {usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion = {total}" in card
    assert "first token" in card and "total" in card and "tokens/s" in card


@pytest.mark.parametrize("tab", TABS)
def test_a_reply_cut_by_max_tokens_carries_the_notice(app: Client, standin: StandIn, tab: str) -> None:
    reply, card = ask(app, tab, "tell me everything", max_tokens=3)
    assert reply == "Echo: tell me"
    assert "finish_reason `length`" in card and "Truncated" in card


@pytest.mark.parametrize("tab", TABS)
def test_a_filtered_reply_carries_its_own_notice(app: Client, standin: StandIn, tab: str) -> None:
    standin.default = Behaviour(finish_reason="content_filter")
    _, card = ask(app, tab, "something unsafe")
    assert "finish_reason `content_filter`" in card and "Filtered" in card and "Truncated" not in card


@pytest.mark.parametrize("tab", TABS)
def test_a_stop_sequence_ends_the_reply(app: Client, standin: StandIn, tab: str) -> None:
    reply, _ = ask(app, tab, "alpha beta gamma", stop="beta")
    assert reply.startswith("Echo: alpha") and "beta" not in reply and "gamma" not in reply


def test_cards_stay_out_of_the_history_sent_next(app: Client, standin: StandIn) -> None:
    first, card = ask(app, "chat", "first turn", top_p=0.8)
    assert "Run card" not in first and "top_p 0.8" in card
    ask(app, "chat", "second turn")
    assert standin.chat_requests()[-1].body["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "first turn"},
        {"role": "assistant", "content": first},
        {"role": "user", "content": "second turn"},
    ]


BAD_VALUES = [
    pytest.param({"top_p": 0}, "top_p must be a number above 0 and at most 1", id="top_p=0"),
    pytest.param({"top_p": 1.5}, "top_p must be a number above 0 and at most 1", id="top_p=1.5"),
    pytest.param({"max_tokens": 0}, f"max_tokens must be a whole number from 1 to {MAX_OUTPUT_TOKENS:,}", id="max=0"),
    pytest.param(
        {"top_p": "abc"}, "top_p must be a number above 0 and at most 1, or left empty; not abc", id="top_p=abc"
    ),
    pytest.param({"max_tokens": "3.5"}, "max_tokens must be a whole number", id="max=3.5"),
    pytest.param({"max_tokens": MAX_OUTPUT_TOKENS + 1}, "max_tokens must be a whole number", id="max=too-many"),
    pytest.param({"stop": "a\nb\nc\nd\ne"}, "at most 4 stop sequences (one per line); 5 were given", id="5-stops"),
    pytest.param({"stop": "x" * (MAX_STOP_CHARS + 1)}, f"at most {MAX_STOP_CHARS} characters", id="long-stop"),
]


@pytest.mark.parametrize("tab", TABS)
@pytest.mark.parametrize(("arguments", "message"), BAD_VALUES)
def test_bad_values_get_a_clear_message_and_no_request(
    app: Client, standin: StandIn, tab: str, arguments: dict, message: str
) -> None:
    _, told = ask(app, tab, "hi", **arguments)
    assert message in told
    assert standin.chat_requests() == []
    reply, _ = ask(app, tab, "still fine")
    assert reply == reply_text(standin.chat_requests()[-1].body)


def test_a_declared_flag_is_a_checkbox_sent_only_when_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kind the tool-calling issue's ``logprobs`` will be: one declaration, the widget follows."""
    flag = Flag("logprobs", "Token probabilities", "Each token's log probability, with the reply")
    monkeypatch.setattr(params, "SAMPLING", (*params.SAMPLING, flag))
    assert Sampling.read({"logprobs": True}).to_request() == {"logprobs": True}
    assert Sampling.read({"logprobs": False}).to_request() == {}
    assert Sampling.read({}).exported()["logprobs"] is False
    with pytest.raises(InvalidRequestError, match="logprobs must be true or false"):
        Sampling.read({"logprobs": "yes"})
    with gr.Blocks():
        *_, checkbox = parameter_boxes("single")
    assert isinstance(checkbox, gr.Checkbox) and checkbox.elem_id == "single-logprobs" and checkbox.value is False
