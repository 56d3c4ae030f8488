"""The stand-in's side of tools, structured output and logprobs (shared/writer-tools.md), read by the real SDK.

What the tool-calling issue's features will meet: function calls whole and streamed in the live
null-filled form, tool-call history accepted, Writer's 400s, a schema-shaped reply, token log
probabilities streamed and not.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import writerai
from writerai import AsyncWriter

from standin import Behaviour, StandIn
from standin.tools import ONE_BUILT_IN
from tests.conftest import EXTRA_MODEL, TEST_KEY, run_async

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
CALCULATOR = {"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}
ASK = [{"role": "user", "content": "Weather in Paris, and 5 + 7?"}]


def chat(standin: StandIn, **params: Any) -> Any:
    """One whole response, from a client of its own (each call runs on an event loop of its own)."""

    async def run() -> Any:
        async with AsyncWriter(api_key=TEST_KEY, base_url=standin.url, max_retries=0) as writer:
            params.setdefault("model", "palmyra-x5")
            return await writer.chat.chat(messages=params.pop("messages", ASK), **params)

    return run_async(run())


def streamed(standin: StandIn, **params: Any) -> list[Any]:
    async def run() -> list[Any]:
        async with AsyncWriter(api_key=TEST_KEY, base_url=standin.url, max_retries=0) as writer:
            stream = await writer.chat.chat(model="palmyra-x5", messages=ASK, stream=True, **params)
            return [chunk async for chunk in stream]

    return run_async(run())


def test_a_whole_response_carries_the_calls_with_finish_reason_tool_calls(
    standin: StandIn, writer: AsyncWriter
) -> None:
    standin.default = Behaviour(tool_calls=(("get_weather", '{"city": "Paris"}'),))
    response = chat(standin, tools=[WEATHER], tool_choice="auto")
    (choice,) = response.choices
    (call,) = choice.message.tool_calls
    assert choice.finish_reason == "tool_calls" and not choice.message.content
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Paris"})
    assert call.id.startswith("chatcmpl-tool-") and call.type == "function"
    assert standin.chat_requests()[0].body["tools"] == [WEATHER]


def test_streamed_calls_arrive_as_the_live_fragments_merged_by_index(standin: StandIn) -> None:
    standin.default = Behaviour(tool_calls=(("get_weather", '{"city": "Paris"}'), ("add", '{"a": 5, "b": 7}')))
    chunks = [chunk for chunk in streamed(standin, tools=[WEATHER, CALCULATOR]) if chunk.choices]
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for fragment in chunk.choices[0].delta.tool_calls or []:
            call = calls.setdefault(fragment.index, {"id": "", "name": "", "arguments": ""})
            if fragment.id:  # a call's first fragment: its id, type and name, arguments null
                assert fragment.type == "function" and fragment.function.arguments is None
                call.update(id=fragment.id, name=fragment.function.name)
            else:  # later ones repeat every key as null but the arguments
                assert fragment.type is None and fragment.function.name is None
                call["arguments"] += fragment.function.arguments
    assert [(c["name"], json.loads(c["arguments"])) for c in calls.values()] == [
        ("get_weather", {"city": "Paris"}),
        ("add", {"a": 5, "b": 7}),
    ]
    assert [chunk.choices[0].finish_reason for chunk in chunks][-1] == "tool_calls"
    assert all(chunk.choices[0].finish_reason is None for chunk in chunks[:-1])
    assert chunks[-1].choices[0].delta.tool_calls[0].function.arguments  # it rides on the last fragment


def test_a_conversation_with_its_tool_results_is_answered(standin: StandIn) -> None:
    history = [
        *ASK,
        {"role": "assistant", "content": "", "tool_calls": [{"id": "chatcmpl-tool-1", "type": "function",
                                                              "function": {"name": "get_weather",
                                                                           "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "chatcmpl-tool-1", "name": "get_weather", "content": "18°C, clear"},
    ]  # fmt: skip
    response = chat(standin, messages=history, tools=[WEATHER])
    assert response.choices[0].finish_reason == "stop"
    assert [m["role"] for m in standin.chat_requests()[0].body["messages"]] == ["user", "assistant", "tool"]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        pytest.param(
            {"tools": [{"type": "llm", "function": {"model": "palmyra-fin"}}, {"type": "web_search", "function": {}}]},
            ONE_BUILT_IN,
            id="two-built-ins",
        ),
        pytest.param({"tools": [{"type": "function", "function": {"description": "x"}}]}, "needs a name", id="no-name"),
        pytest.param(
            {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}},
            "tool_choice must be",
            id="unknown-choice",
        ),
        pytest.param({"logprobs": "yes"}, "logprobs must be true or false", id="logprobs-text"),
        pytest.param({"response_format": {"type": "json_object"}}, "text or json_schema", id="json-object"),
    ],
)
def test_what_writer_rejects_is_a_400_with_its_reason(standin: StandIn, params: dict, says: str) -> None:
    with pytest.raises(writerai.BadRequestError) as refused:
        chat(standin, **params)
    assert says in refused.value.body["errors"][0]["description"]


def test_the_sdks_wrapped_tool_choice_is_accepted_and_a_schema_needs_a_model_that_has_it(standin: StandIn) -> None:
    assert chat(standin, tools=[WEATHER], tool_choice={"value": "none"}).choices[0].finish_reason == "stop"
    schema = {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}}
    with pytest.raises(writerai.BadRequestError, match="not supported for"):
        chat(standin, model=EXTRA_MODEL, response_format=schema)


def test_a_json_schema_request_gets_an_instance_of_the_schema(standin: StandIn) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "temp": {"type": "integer"},
            "sky": {"enum": ["clear", "cloudy"]},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["city", "temp", "sky", "tags"],
    }
    response = chat(standin, response_format={"type": "json_schema", "json_schema": {"schema": schema}})
    assert json.loads(response.choices[0].message.content) == {
        "city": "echo",
        "temp": 1,
        "sky": "clear",
        "tags": ["echo"],
    }


def test_logprobs_come_with_every_token_streamed_and_not(standin: StandIn) -> None:
    whole = chat(standin, logprobs=True).choices[0]
    tokens = whole.logprobs.content
    assert "".join(token.token for token in tokens) == whole.message.content
    assert all(len(token.top_logprobs) == 2 and token.logprob < 0 for token in tokens)
    assert len({token.logprob for token in tokens}) > 1  # sure and unsure tokens, for a view to shade
    chunks = [chunk for chunk in streamed(standin, logprobs=True) if chunk.choices]
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    pieces = [
        token.token for chunk in chunks if chunk.choices[0].logprobs for token in chunk.choices[0].logprobs.content
    ]
    assert "".join(pieces) == text == whole.message.content
    assert chat(standin).choices[0].logprobs is None  # only when asked for


def test_offered_functions_the_demo_model_calls_the_chosen_one_then_echoes_the_results(standin: StandIn) -> None:
    """Offline mode demonstrates a tool round with no test behaviour set: a call, then the results' echo."""
    called = chat(
        standin, tools=[CALCULATOR, WEATHER], tool_choice={"type": "function", "function": {"name": "get_weather"}}
    )
    (call,) = called.choices[0].message.tool_calls
    assert called.choices[0].finish_reason == "tool_calls"
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "echo"})
    answered = [
        *ASK,
        {"role": "assistant", "content": "", "tool_calls": [call.model_dump(exclude={"index"})]},
        {"role": "tool", "tool_call_id": call.id, "name": "get_weather", "content": "18°C, clear"},
    ]
    reply = chat(standin, tools=[CALCULATOR, WEATHER], messages=answered)
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.content.startswith("Echo: tool results: get_weather = 18°C, clear")
