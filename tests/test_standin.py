"""The stand-in speaks Writer's wire format (shared/writer-api.md), checked at the HTTP level."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from markdown_it import MarkdownIt
from writerai import AsyncWriter

from standin import Behaviour, StandIn
from tests.conftest import TEST_KEY, run_async

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
BODY = {"model": "palmyra-x5", "messages": [{"role": "user", "content": "hi"}]}
# Removed by Writer on 2026-07-13 (shared/writer-tools.md section 5); palmyra-vision was never a chat model.
REMOVED_MODELS = ("palmyra-fin", "palmyra-med", "palmyra-creative", "palmyra-x-003-instruct", "palmyra-vision")


def test_stream_is_sse_with_usage_chunk_and_done(standin: StandIn) -> None:
    body = BODY | {"stream": True, "stream_options": {"include_usage": True}}
    response = httpx.post(f"{standin.url}/v1/chat", json=body, headers=AUTH)
    assert response.headers["content-type"] == "text/event-stream"
    events = [line.removeprefix("data: ") for line in response.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {
        "content": "",
        "role": "assistant",
        "tool_calls": None,
        "graph_data": {"sources": None, "status": None, "subqueries": None},
        "refusal": None,
    }
    assert len({c["id"] for c in chunks}) == len(chunks)  # a new id per chunk, as Writer does
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


def test_non_streaming_body_has_the_documented_fields(standin: StandIn) -> None:
    data = httpx.post(f"{standin.url}/v1/chat", json=BODY, headers=AUTH).json()
    assert data["object"] == "chat.completion"
    assert set(data) >= {"id", "choices", "created", "model", "usage"}
    assert data["choices"][0]["message"]["role"] == "assistant"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
def test_a_missing_or_wrong_key_is_a_writer_401(standin: StandIn, headers: dict[str, str]) -> None:
    response = httpx.post(f"{standin.url}/v1/chat", json=BODY, headers=headers)
    assert response.status_code == 401
    assert response.json()["tpe"] == "Unauthorized"
    assert response.json()["errors"][0]["key"] == "fail.unauthorized.badToken"


@pytest.mark.parametrize(
    "body",
    [
        BODY | {"model": "gpt-4"},
        BODY | {"messages": []},
        BODY | {"messages": [{"role": "wizard", "content": "x"}]},
        BODY | {"temperature": 2.5},
    ],
    ids=["unknown-model", "no-messages", "bad-role", "temperature-out-of-range"],
)
def test_what_writer_rejects_is_a_400(standin: StandIn, body: dict) -> None:
    response = httpx.post(f"{standin.url}/v1/chat", json=body, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["tpe"] == "BadRequest"


def test_every_request_is_recorded_with_its_headers(standin: StandIn) -> None:
    httpx.post(f"{standin.url}/v1/chat", json=BODY, headers=AUTH)
    (record,) = standin.chat_requests()
    assert record.body == BODY
    assert record.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert record.status == 200
    assert record.wait_done(1)


def test_offline_modes_stand_in_keeps_no_record_of_what_a_public_demo_is_sent() -> None:
    with StandIn(keep_records=2) as bounded, StandIn(keep_records=0) as offline:
        for n in range(5):
            for server in (bounded, offline):
                message = {"messages": [{"role": "user", "content": f"{n}"}]}
                reply = httpx.post(f"{server.url}/v1/chat", json=BODY | message, headers=AUTH)
                assert reply.status_code == 200
        assert [r.body["messages"][0]["content"] for r in bounded.requests] == ["3", "4"]
        assert offline.requests == []


def test_only_the_models_that_exist_now_are_listed_and_answered(standin: StandIn) -> None:
    listed = {m["id"] for m in httpx.get(f"{standin.url}/v1/models", headers=AUTH).json()["models"]}
    assert {"palmyra-x5", "palmyra-x4"} <= listed and not listed & set(REMOVED_MODELS)
    for model in REMOVED_MODELS:
        response = httpx.post(f"{standin.url}/v1/chat", json=BODY | {"model": model}, headers=AUTH)
        assert response.status_code == 400, model


def test_the_echo_of_a_prompt_ending_in_a_code_block_keeps_the_block_closed(standin: StandIn) -> None:
    prompt = "Fix this:\n```python\nprint('hi')\n```"
    body = BODY | {"messages": [{"role": "user", "content": prompt}], "temperature": 0.2}
    reply = httpx.post(f"{standin.url}/v1/chat", json=body, headers=AUTH).json()["choices"][0]["message"]["content"]
    tokens = MarkdownIt("commonmark").parse(reply)
    assert [(t.info, t.content) for t in tokens if t.type == "fence"] == [("python", "print('hi')\n")]
    inline = [t.content for t in tokens if t.type == "inline"]
    assert inline == ["Echo: Fix this:", "[model=palmyra-x5 messages=1 temperature=0.2]"]  # two paragraphs


def test_a_whole_reply_takes_as_long_as_its_stream(standin: StandIn, writer: AsyncWriter) -> None:
    """The offline Compare chart's lesson: streaming shows text sooner, for the same total.

    A short reply (5 tokens), so that pauses added to the stream alone (e.g. before its usage chunk and
    [DONE]) would show as a ratio near 0.75; the fastest of a few interleaved runs, so that the load of
    a shared machine does not decide it.
    """
    standin.default = Behaviour(first_token_delay=0.06, chunk_delay=0.06)
    messages = [{"role": "user", "content": "hi"}]

    async def timed_pairs(runs: int) -> tuple[list[float], list[float]]:
        await writer.models.list()  # the connection is open before the first timing
        streamed, whole = [], []
        for _ in range(runs):
            started = time.monotonic()
            stream = await writer.chat.chat(
                model="palmyra-x5", messages=messages, stream=True, stream_options={"include_usage": True}
            )
            async for _ in stream:
                pass
            streamed.append(time.monotonic() - started)
            started = time.monotonic()
            await writer.chat.chat(model="palmyra-x5", messages=messages)
            whole.append(time.monotonic() - started)
        return streamed, whole

    streamed, whole = run_async(timed_pairs(5))
    records = standin.chat_requests()
    assert records[0].sent["usage"] == records[1].sent["usage"]  # the same reply, both ways
    assert records[0].sent["usage"]["completion_tokens"] == 5
    ratio = min(whole) / min(streamed)
    assert 0.9 <= ratio <= 1.12, f"streamed {sorted(streamed)}, whole {sorted(whole)}"
