"""Tools, structured output and logprobs through the chat service: what reaches the wire, what comes back.

The real SDK talks over HTTP to the stand-in, streamed and not; the chat's messages are built the
way the chat tab builds them (tool_turns.py), so a tool round here is a tool round on the page.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from components.chat import conversation, tool_params, tool_turns
from components.chat.params import InvalidRequestError
from components.writer.records import ReplyUpdate
from standin import Behaviour, StandIn
from tests.conftest import EXTRA_MODEL, SYSTEM, run_async
from tests.test_service import VISITOR, ask, last, service_for
from tests.test_standin_tools import WEATHER

ADD = {"type": "function", "function": {"name": "add", "parameters": {"type": "object", "properties": {}}}}
TWO_CALLS = (("get_weather", '{"city": "Paris"}'), ("add", '{"a": 5, "b": 7}'))


def reply_of(standin: StandIn, stream: bool, **fields: Any) -> ReplyUpdate:
    service = service_for(standin)
    plan = service.plan(ask(**fields), VISITOR)
    return run_async(last(service.reply(plan, stream=stream)))


def shown(history: list[dict[str, Any]], prompt: str, done: ReplyUpdate) -> list[dict[str, Any]]:
    """The chat after a reply, as the chat tab shows it: the question, the text, each call."""
    calls = [tool_turns.Call(c.id, c.name, c.arguments) for c in done.info.tool_calls]
    text = [{"role": "assistant", "content": done.text}] if done.text else []
    return [*history, {"role": "user", "content": prompt}, *text,
            *(tool_turns.call_message(call, state="done") for call in calls)]  # fmt: skip


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_a_two_round_tool_conversation_sends_the_calls_and_results_with_their_ids_in_order(
    standin: StandIn, stream: bool
) -> None:
    tools = json.dumps([WEATHER, ADD])
    standin.enqueue(Behaviour(tool_calls=TWO_CALLS))
    first = reply_of(standin, stream, prompt="Weather in Paris, and 5 + 7?", sampling={"tools": tools})
    assert first.info.finish_reason == "tool_calls" and first.info.calls_complete
    assert [(c.name, json.loads(c.arguments)) for c in first.info.tool_calls] == [
        ("get_weather", {"city": "Paris"}),
        ("add", {"a": 5, "b": 7}),
    ]
    history = shown([], "Weather in Paris, and 5 + 7?", first)
    pending = tool_turns.pending_calls(history)
    answers = [{"tool_call_id": pending[1].id, "content": "12"}, {"tool_call_id": pending[0].id, "content": "18°C"}]
    history += tool_turns.answer(pending, answers)  # given out of order: sent in the calls' order
    second = reply_of(standin, stream, prompt="", after_tool_results=True, history=history, sampling={"tools": tools})
    first_body, second_body = (record.body for record in standin.chat_requests())
    assert first_body["tools"] == [WEATHER, ADD]
    ids = [call.id for call in first.info.tool_calls]
    assert second_body["messages"][1:] == [
        {"role": "user", "content": "Weather in Paris, and 5 + 7?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": ids[0], "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
            {"id": ids[1], "type": "function", "function": {"name": "add", "arguments": '{"a": 5, "b": 7}'}},
        ]},
        {"role": "tool", "tool_call_id": ids[0], "name": "get_weather", "content": "18°C"},
        {"role": "tool", "tool_call_id": ids[1], "name": "add", "content": "12"},
    ]  # fmt: skip
    assert second.text.startswith("Echo: tool results: get_weather = 18°C; add = 12")
    # A third question carries the whole first round, then the reply to it.
    history = [*history, {"role": "assistant", "content": second.text}]
    reply_of(standin, stream, prompt="Thanks", history=history, sampling={"tools": tools})
    third = standin.chat_requests()[-1].body["messages"]
    assert [m["role"] for m in third] == ["system", "user", "assistant", "tool", "tool", "assistant", "user"]


def test_tool_choice_reaches_the_wire_as_writer_names_it_and_the_model_calls_that_function(standin: StandIn) -> None:
    done = reply_of(standin, True, sampling={"tools": json.dumps([ADD, WEATHER]), "tool_choice": "get_weather"})
    (body,) = (record.body for record in standin.chat_requests())
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert [call.name for call in done.info.tool_calls] == ["get_weather"]


def test_a_stream_that_drops_mid_call_keeps_what_arrived_and_sends_no_half_call_back(standin: StandIn) -> None:
    standin.enqueue(Behaviour(tool_calls=TWO_CALLS, drop_after=4))
    done = reply_of(standin, True, sampling={"tools": json.dumps([WEATHER, ADD])})
    assert done.info.error is not None and not done.info.calls_complete
    assert done.info.tool_calls and done.info.tool_calls[0].name == "get_weather"
    history = [{"role": "user", "content": "Weather?"}]
    for call in done.info.tool_calls:
        history.append(tool_turns.call_message(tool_turns.Call(call.id, call.name, call.arguments), state="incomplete"))
    assert tool_turns.pending_calls(history) == []
    assert conversation.history_to_messages(history, SYSTEM) == [{"role": "system", "content": SYSTEM}]


def test_results_for_no_pending_call_or_missing_ones_are_refused_with_the_reason() -> None:
    call = tool_turns.Call("call-1", "get_weather", '{"city": "Paris"}')
    with pytest.raises(InvalidRequestError, match="No tool call is waiting"):
        tool_turns.answer([], [{"tool_call_id": "call-1", "content": "x"}])
    with pytest.raises(InvalidRequestError, match="No pending tool call has the id 'call-9'"):
        tool_turns.answer([call], [{"tool_call_id": "call-9", "content": "x"}])
    with pytest.raises(InvalidRequestError, match="get_weather \\(call 1\\) has none"):
        tool_turns.answer([call], [])


def test_continuing_without_results_is_refused_and_sends_nothing(standin: StandIn) -> None:
    service = service_for(standin)
    with pytest.raises(InvalidRequestError, match="No tool results to send"):
        service.plan(ask(prompt="", after_tool_results=True, history=[{"role": "user", "content": "hi"}]), VISITOR)
    assert standin.chat_requests() == []


@pytest.mark.parametrize(
    ("sampling", "says"),
    [
        ({"tools": "[{"}, "Tools is not valid JSON"),
        ({"tools": '[{"type": "function", "function": {"name": "get weather"}}]'}, "name must be 1 to 64"),
        ({"tools": json.dumps([WEATHER, WEATHER])}, "Two tools are named 'get_weather'"),
        ({"tools": '[{"type": "web_search", "function": {}}, {"type": "llm", "function": {}}]'}, "one built-in tool"),
        (
            {"tools": '[{"type": "function", "function": {"name": "f", "parameters": {"type": "objekt"}}}]'},
            "f's parameters must be a JSON Schema",
        ),
        ({"tool_choice": "auto"}, "tool_choice needs tools"),
        ({"tools": json.dumps([WEATHER]), "tool_choice": "add"}, "tool_choice names 'add'"),
        ({"response_format": '{"type": "objekt"}'}, "not a valid JSON Schema"),
        ({"response_format": "[1, 2]"}, "must be a JSON Schema object"),
    ],
)
def test_bad_tools_and_schemas_get_a_clear_message_and_nothing_is_sent(
    standin: StandIn, sampling: dict[str, str], says: str
) -> None:
    with pytest.raises(InvalidRequestError, match=says):
        service_for(standin).plan(ask(sampling=sampling), VISITOR)
    assert standin.chat_requests() == []


def test_a_model_writer_does_not_document_a_feature_for_gets_a_message_and_nothing_is_sent(standin: StandIn) -> None:
    service = service_for(standin)
    assert EXTRA_MODEL in run_async(service.refresh_models())  # the stand-in lists it: it is on offer
    for sampling in ({"response_format": '{"type": "object"}'}, {"tools": json.dumps([WEATHER])}):
        with pytest.raises(InvalidRequestError, match=f"palmyra-x4 and palmyra-x5 only, not {EXTRA_MODEL}"):
            service.plan(ask(model=EXTRA_MODEL, sampling=sampling), VISITOR)
    assert standin.chat_requests() == []


def test_an_upstream_400_about_tools_is_shown_and_the_next_request_works(standin: StandIn) -> None:
    standin.enqueue(Behaviour(status=400))
    refused = reply_of(standin, True, sampling={"tools": json.dumps([WEATHER])})
    assert refused.info.error is not None and "Writer rejected the request as invalid (400)" in refused.info.error
    assert reply_of(standin, True).info.error is None


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_a_schema_request_sends_writers_response_format_and_the_reply_fills_it(standin: StandIn, stream: bool) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    done = reply_of(standin, stream, sampling={"response_format": json.dumps(schema)})
    (body,) = (record.body for record in standin.chat_requests())
    assert body["response_format"] == {"type": "json_schema", "json_schema": {"schema": schema}}
    assert json.loads(done.text) == {"city": "echo"}
    assert tool_params.response_schema(done.info.request["response_format"]) == schema


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_logprobs_are_asked_for_and_every_token_comes_back_with_its_alternatives(
    standin: StandIn, stream: bool
) -> None:
    done = reply_of(standin, stream, sampling={"logprobs": True})
    (body,) = (record.body for record in standin.chat_requests())
    assert body["logprobs"] is True
    assert "".join(token.token for token in done.info.logprobs) == done.text
    assert all(token.logprob < 0 and token.alternatives for token in done.info.logprobs)
    assert reply_of(standin, stream).info.logprobs == []  # not asked: none


def test_a_streamed_call_grows_update_by_update_as_its_fragments_arrive(standin: StandIn) -> None:
    standin.enqueue(Behaviour(tool_calls=(("get_weather", '{"city": "Paris", "unit": "celsius"}'),), chunk_delay=0.1))
    service = service_for(standin)
    plan = service.plan(ask(sampling={"tools": json.dumps([WEATHER])}), VISITOR)

    async def arguments_seen() -> list[str]:
        return [
            u.info.tool_calls[0].arguments if u.info.tool_calls else "" async for u in service.reply(plan, stream=True)
        ]

    seen = run_async(arguments_seen())
    grown = list(dict.fromkeys(seen))  # each distinct state, in order
    assert len(grown) >= 3 and grown[-1] == '{"city": "Paris", "unit": "celsius"}'
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(grown))


def test_arguments_that_are_not_json_are_shown_as_received_and_go_back_unchanged() -> None:
    call = tool_turns.Call("call-1", "get_weather", "{'city': 'Paris'}")  # single quotes, as LCW reports it
    message = tool_turns.call_message(call, state="done")
    assert message["metadata"]["log"] == tool_turns.NOT_JSON
    assert message["content"] == "```text\n{'city': 'Paris'}\n```"
    history = [
        {"role": "user", "content": "Weather?"},
        message,
        *tool_turns.answer([call], [{"tool_call_id": "call-1", "content": "18"}]),
    ]
    sent = conversation.history_to_messages(history, "")
    assert sent[1]["tool_calls"][0]["function"]["arguments"] == "{'city': 'Paris'}"
