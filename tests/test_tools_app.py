"""Tools, structured output and logprobs through the launched app's API (gradio_client), as a script uses them.

Parameters are called as Writer names them; what reached the stand-in is asserted, and what the
caller gets back: the calls, the reply to the results, the schema's verdict, the token view.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from gradio_client import Client

from components.chat.tool_examples import EXAMPLE_TOOLS
from standin import Behaviour, StandIn
from tests.conftest import SYSTEM

WEATHER = EXAMPLE_TOOLS["Weather lookup"]
CALCULATOR = EXAMPLE_TOOLS["Calculator"]
TOOLS = json.dumps([WEATHER, CALCULATOR])
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
DEFAULTS = {"temperature": 1.0, "model": "palmyra-x5", "system": SYSTEM}


def calls_in(messages: Any) -> list[dict[str, Any]]:
    """The tool-call messages among a chat output's messages."""
    shown = messages if isinstance(messages, list) else [messages]
    return [m for m in shown if isinstance(m, dict) and "Tool call" in ((m.get("metadata") or {}).get("title") or "")]


def test_the_api_names_the_new_parameters_as_writer_does(app: Client) -> None:
    endpoints = app.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for name in ("/chat", "/single_turn", "/compare"):
        names = [parameter["parameter_name"] for parameter in endpoints[name]["parameters"]]
        assert {"tools", "tool_choice", "response_format", "logprobs"} <= set(names), name
    assert [p["parameter_name"] for p in endpoints["/tool_results"]["parameters"]][:1] == ["results"]


@pytest.mark.parametrize("non_streaming", [False, True], ids=["streamed", "whole"])
def test_a_script_runs_two_tool_rounds_through_chat_and_tool_results(
    app: Client, standin: StandIn, non_streaming: bool
) -> None:
    standin.enqueue(
        Behaviour(tool_calls=(("get_weather", '{"city": "Paris"}'), ("calculate", '{"expression": "5+7"}'))),
        Behaviour(),  # the reply to the first results: text
    )
    settings = {**DEFAULTS, "non_streaming": non_streaming, "tools": TOOLS}
    reply, *_ = app.predict(message="Weather in Paris, and 5 + 7?", **settings, api_name="/chat")
    calls = calls_in(reply)
    assert [c["metadata"]["title"] for c in calls] == ["⚙ Tool call: get_weather", "⚙ Tool call: calculate"]
    ids = [c["metadata"]["id"] for c in calls]
    results = [{"tool_call_id": ids[1], "content": "12"}, {"tool_call_id": ids[0], "content": {"temp_c": 18}}]
    new, card, *_ = app.predict(results=results, **settings, api_name="/tool_results")
    body = standin.chat_requests()[1].body
    assert [(m["role"], m.get("tool_call_id"), m["content"]) for m in body["messages"][-2:]] == [
        ("tool", ids[0], '{"temp_c": 18}'),
        ("tool", ids[1], "12"),
    ]
    assert body["stream"] is (not non_streaming) and body["tools"] == [WEATHER, CALCULATOR]
    assert any("Echo: tool results: get_weather" in str(m.get("content")) for m in new)
    assert "finish_reason `stop`" in card
    # The conversation goes on in the same session, with the whole round in it.
    app.predict(message="Thanks", **settings, api_name="/chat")
    third = standin.chat_requests()[2].body["messages"]
    assert [m["role"] for m in third] == ["system", "user", "assistant", "tool", "tool", "assistant", "user"]


def test_results_for_no_pending_call_send_nothing_and_say_why(app: Client, standin: StandIn) -> None:
    _, card, *_ = app.predict(
        results=[{"tool_call_id": "call-1", "content": "x"}], **DEFAULTS, non_streaming=False, api_name="/tool_results"
    )
    assert "No tool call is waiting for a result" in card
    assert standin.chat_requests() == []
    reply, *_ = app.predict(message="hello", **DEFAULTS, non_streaming=False, api_name="/chat")
    assert "Echo: hello" in json.dumps(reply)  # the next request works


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        (None, "✅ Matches the schema"),
        ('{"city": 5}', "❌ Does not match the schema at city: 5 is not of type 'string'"),
        ("{}", "❌ Does not match the schema at the top level: 'city' is a required property"),
        ('{"city": "Paris"', "❌ Not valid JSON: Expecting ',' delimiter at line 1, column 17"),
    ],
    ids=["match", "wrong-type", "missing", "not-json"],
)
def test_a_structured_reply_is_checked_against_its_schema_in_both_tabs(
    app: Client, standin: StandIn, reply: str | None, verdict: str
) -> None:
    standin.default = Behaviour(reply=reply)
    settings = {**DEFAULTS, "non_streaming": False, "response_format": json.dumps(SCHEMA)}
    response, *_ = app.predict(prompt="A city, as JSON", **settings, api_name="/single_turn")
    assert response.startswith(f"**{verdict}**")
    if reply is None:
        assert '```json\n{\n  "city": "echo"\n}\n```' in response  # formatted
    shown, *_ = app.predict(message="A city, as JSON", **settings, api_name="/chat")
    titles = [(m.get("metadata") or {}).get("title") for m in shown]
    assert verdict in titles
    for record in standin.chat_requests():
        assert record.body["response_format"] == {"type": "json_schema", "json_schema": {"schema": SCHEMA}}


@pytest.mark.parametrize("non_streaming", [False, True], ids=["streamed", "whole"])
def test_logprobs_give_a_token_view_of_the_finished_reply(app: Client, standin: StandIn, non_streaming: bool) -> None:
    outputs = app.predict(
        prompt="Hi there", **DEFAULTS, non_streaming=non_streaming, logprobs=True, api_name="/single_turn"
    )
    tokens = outputs[6]
    (record,) = standin.chat_requests()
    assert record.body["logprobs"] is True
    assert tokens.count('class="token"') == record.sent["usage"]["completion_tokens"]  # one shaded span a token
    assert "least sure tokens" in tokens and "also:" in tokens  # the table, and each token's alternatives
    plain = app.predict(prompt="Hi there", **DEFAULTS, non_streaming=non_streaming, api_name="/single_turn")
    assert plain[6] == ""  # not asked for: no view
