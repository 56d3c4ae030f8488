"""The chat generator on the real SDK against the stand-in: what reaches the wire, what comes back."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from writerai import AsyncWriter

from components.chat.conversation import build_messages
from components.writer.errors import describe_error
from components.writer.records import ReplyUpdate
from components.writer.reply import generate_reply
from components.writer.retry import RetryPolicy
from standin import Behaviour, StandIn, reply_text
from tests.conftest import SYSTEM, TEST_KEY, free_port, run_async


def collect(writer: AsyncWriter, prompt: str = "hello there", **kwargs: Any) -> list[ReplyUpdate]:
    options = {"model": "palmyra-x5", "temperature": 0.7, "stream": True} | kwargs

    async def run() -> list[ReplyUpdate]:
        messages = build_messages([], prompt, SYSTEM)
        return [update async for update in generate_reply(writer, messages, **options)]

    return run_async(run())


def test_streaming_grows_and_ends_with_the_whole_reply(writer: AsyncWriter, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.05)
    updates = collect(writer)
    body = standin.chat_requests()[0].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.7
    assert body["messages"] == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "hello there"}]
    texts = [u.text for u in updates]
    assert len(set(texts)) >= 3  # several distinct, growing states
    assert all(b.startswith(a) for a, b in itertools.pairwise(texts))
    assert texts[-1] == reply_text(body)
    assert updates[-1].done and not any(u.done for u in updates[:-1])


def test_streaming_info_has_usage_finish_reason_and_timings(writer: AsyncWriter, standin: StandIn) -> None:
    info = collect(writer)[-1].info
    assert info.finish_reason == "stop"
    assert info.completion_tokens == len(reply_text(standin.chat_requests()[0].body).split())
    assert info.total_tokens == info.prompt_tokens + info.completion_tokens
    assert info.response_id and info.created and info.model == "palmyra-x5"
    assert 0 < info.first_token_s <= info.total_s
    assert info.error is None


def test_non_streaming_yields_once(writer: AsyncWriter, standin: StandIn) -> None:
    updates = collect(writer, stream=False, temperature=0.0)
    body = standin.chat_requests()[0].body
    assert body["stream"] is False and "stream_options" not in body
    assert body["temperature"] == 0.0
    assert len(updates) == 1 and updates[0].done
    assert updates[0].text == reply_text(body)
    assert updates[0].info.total_tokens is not None


@pytest.mark.parametrize("stream", [True, False])
def test_a_reply_cut_at_the_token_limit_is_marked_truncated(
    writer: AsyncWriter, standin: StandIn, stream: bool
) -> None:
    standin.default = Behaviour(max_tokens=2)
    final = collect(writer, stream=stream)[-1]
    assert final.info.finish_reason == "length" and final.info.truncated
    assert final.text == "Echo: hello"


NO_RETRY = RetryPolicy(attempts=1)
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01)
FAULTS = [
    (Behaviour(status=401), "API key (401)"),
    (Behaviour(status=403), "no access to the selected model (403)"),
    (Behaviour(status=404), "could not find that model"),
    (Behaviour(status=429, headers=(("retry-after", "7"),)), "rate limit was hit (429): Quota exceeded. Wait 7 s"),
    (Behaviour(status=500), "service failed (500)"),
    (Behaviour(status=503), "service failed (503): Service temporarily unavailable"),
    (Behaviour(status=400), "rejected the request as invalid"),
]


@pytest.mark.parametrize(("behaviour", "expected"), FAULTS, ids=[str(b.status) for b, _ in FAULTS])
@pytest.mark.parametrize("stream", [True, False])
def test_http_errors_become_specific_messages(
    writer: AsyncWriter, standin: StandIn, behaviour: Behaviour, expected: str, stream: bool
) -> None:
    standin.enqueue(behaviour)
    updates = collect(writer, stream=stream, retry=NO_RETRY)
    assert len(updates) == 1 and updates[0].done and updates[0].text == ""
    assert expected in updates[0].info.error
    assert "{" not in updates[0].info.error and TEST_KEY not in updates[0].info.error  # no raw body, no key


@pytest.mark.parametrize("stream", [True, False])
def test_transient_failures_are_retried_visibly_then_succeed(
    writer: AsyncWriter, standin: StandIn, stream: bool
) -> None:
    standin.enqueue(Behaviour(status=503), Behaviour(status=429, headers=(("retry-after", "0.05"),)))
    updates = collect(writer, stream=stream, retry=FAST_RETRY)
    statuses = [u.status for u in updates if u.status]
    assert statuses == [
        "Writer is unavailable (503). Retrying in 0.0 s (attempt 2 of 3)…",
        "Writer's rate limit was hit (429). Retrying in 0.1 s (attempt 3 of 3)…",
    ]
    assert [r.status for r in standin.chat_requests()] == [503, 429, 200]
    assert updates[-1].info.error is None and updates[-1].text == reply_text(standin.chat_requests()[-1].body)


def test_retries_are_bounded_and_end_with_the_error(writer: AsyncWriter, standin: StandIn) -> None:
    standin.default = Behaviour(status=500)
    final = collect(writer, retry=FAST_RETRY)[-1]
    assert len(standin.chat_requests()) == 3
    assert "service failed (500)" in final.info.error


def test_a_long_retry_after_is_not_waited_for(writer: AsyncWriter, standin: StandIn) -> None:
    standin.enqueue(Behaviour(status=429, headers=(("retry-after", "120"),)))
    final = collect(writer, retry=FAST_RETRY)[-1]
    assert len(standin.chat_requests()) == 1
    assert "Wait 120 s and try again" in final.info.error


def test_a_failure_after_text_arrived_is_not_retried(writer: AsyncWriter, standin: StandIn) -> None:
    standin.enqueue(Behaviour(drop_after=3))
    final = collect(writer, retry=FAST_RETRY)[-1]
    assert len(standin.chat_requests()) == 1 and final.interrupted


def test_a_drop_mid_stream_keeps_the_partial_text(writer: AsyncWriter, standin: StandIn) -> None:
    standin.enqueue(Behaviour(drop_after=3))
    final = collect(writer)[-1]
    assert final.text == "Echo: hello"  # the empty first chunk, then two words, then the drop
    assert final.interrupted and "dropped in the middle of the reply" in final.info.error


def test_an_sse_error_event_mid_stream_keeps_the_partial_text(writer: AsyncWriter, standin: StandIn) -> None:
    standin.enqueue(Behaviour(error_event_after=2))
    final = collect(writer)[-1]
    assert final.text == "Echo:"
    assert final.interrupted and "The model failed while generating" in final.info.error


def test_connection_refused_names_the_host_not_the_key() -> None:
    writer = AsyncWriter(api_key=TEST_KEY, base_url=f"http://127.0.0.1:{free_port()}", max_retries=0)
    final = collect(writer, retry=NO_RETRY)[-1]
    assert final.info.error.startswith("Could not reach Writer at 127.0.0.1, or the connection dropped")


def test_closing_the_generator_closes_the_upstream_response(writer: AsyncWriter, standin: StandIn) -> None:
    standin.enqueue(Behaviour(chunk_delay=2.0))  # slow enough that the reply is mid-way when we stop

    async def stop_after_first_update() -> str:
        replies = generate_reply(
            writer, build_messages([], "a long story", SYSTEM), model="palmyra-x5", temperature=1.0, stream=True
        )
        first = await anext(replies)
        await replies.aclose()  # what Gradio does on Stop or a closed tab
        return first.text

    assert run_async(stop_after_first_update()) == "Echo:"
    record = standin.chat_requests()[0]
    assert record.wait_done(timeout=5)
    assert record.disconnected and record.chunks_sent < 5


def test_describe_error_has_a_fallback_for_the_unexpected() -> None:
    assert describe_error(RuntimeError("boom")) == "The request failed unexpectedly. Try again."
