"""A misbehaving upstream: every failure a message, the partial text kept, a deadline on every reply.

The real SDK talks over real HTTP to tests/broken_upstream.py, which answers wrongly on purpose.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from gradio_client import Client
from writerai import AsyncWriter

from components.settings import Settings
from components.writer.records import ReplyUpdate
from components.writer.reply import EMPTY_STREAM, NO_FINISH, UNREADABLE, generate_reply
from components.writer.retry import ReplyLimits, RetryPolicy
from components.writer.streaming import HEARTBEAT
from tests.broken_upstream import BrokenUpstream
from tests.conftest import TEST_KEY, launch, notices_of, reply_of, run_async
from tests.gradio_queue import endpoint_data, event_body, fn_index

FAST = ReplyLimits(first_token=1.0, reply=2.0, max_chars=500)


@pytest.fixture(scope="module")
def broken() -> Iterator[BrokenUpstream]:
    with BrokenUpstream() as server:
        yield server


def last_update(server: BrokenUpstream, mode: str, *, stream: bool = True, limits: ReplyLimits = FAST) -> ReplyUpdate:
    server.mode = mode

    async def run() -> ReplyUpdate:
        async with AsyncWriter(api_key=TEST_KEY, base_url=server.url, max_retries=0) as writer:
            messages = [{"role": "user", "content": "hi"}]
            updates = generate_reply(
                writer, messages, model="palmyra-x5", temperature=1.0, stream=stream, limits=limits
            )
            return [update async for update in updates][-1]

    return run_async(run())


def test_invalid_json_in_the_stream_keeps_the_text_and_says_the_answer_was_unreadable(
    broken: BrokenUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="components.writer"):
        update = last_update(broken, "invalid-json")
    assert update.done and update.text == "Hello "
    assert update.info.error == UNREADABLE
    assert any(record.exc_info for record in caplog.records)  # the traceback is in the server log only


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_an_html_page_with_status_200_is_an_error_not_an_empty_reply(broken: BrokenUpstream, stream: bool) -> None:
    update = last_update(broken, "html", stream=stream)
    assert update.done and update.text == ""
    assert update.info.error in {UNREADABLE, EMPTY_STREAM}
    assert "object has no attribute" not in update.info.error


def test_an_empty_stream_and_a_stream_without_a_finish_reason_are_said_to_be(broken: BrokenUpstream) -> None:
    assert last_update(broken, "empty").info.error == EMPTY_STREAM
    cut = last_update(broken, "no-finish")
    assert (cut.text, cut.info.error) == ("Half a reply", NO_FINISH)


def test_a_trickle_is_cut_at_the_reply_deadline_and_its_connection_closed(broken: BrokenUpstream) -> None:
    update = last_update(broken, "trickle")
    assert update.text == "Hello "
    assert "took longer than 2 s" in update.info.error
    assert 2.0 <= update.info.total_s < 4.0
    assert broken.wait_all_closed(timeout=5)


def test_no_first_token_within_its_deadline_closes_the_request(broken: BrokenUpstream) -> None:
    update = last_update(broken, "silent", limits=ReplyLimits(first_token=0.5, reply=30.0, max_chars=500))
    assert update.text == "" and "sent no text within 0.5 s" in update.info.error
    assert 0.5 <= update.info.total_s < 2.5
    assert broken.wait_all_closed(timeout=5)


def test_an_endless_stream_is_cut_at_its_size_limit(broken: BrokenUpstream) -> None:
    update = last_update(broken, "endless", limits=ReplyLimits(first_token=5, reply=30, max_chars=2_000))
    assert "passed 2,000 characters" in update.info.error
    assert 0 < len(update.text) <= 2_000
    assert broken.wait_all_closed(timeout=5)


def test_implausible_metadata_is_shown_as_unknown(broken: BrokenUpstream) -> None:
    update = last_update(broken, "implausible")
    assert update.text == "Odd metadata" and update.info.error is None
    assert update.info.created is None
    assert (update.info.prompt_tokens, update.info.completion_tokens, update.info.total_tokens) == (None, None, None)


def test_an_error_that_echoes_the_key_never_shows_it(broken: BrokenUpstream, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        update = last_update(broken, "echo-key")
    assert "Invalid token" in update.info.error and "[redacted]" in update.info.error
    assert TEST_KEY not in update.info.error and "Bearer" not in update.info.error
    assert TEST_KEY not in caplog.text


@pytest.fixture(scope="module")
def broken_app(broken: BrokenUpstream) -> Iterator[str]:
    settings = Settings(
        api_key=TEST_KEY, base_url=broken.url, limits=FAST, retry=RetryPolicy(attempts=1), rate_limit_per_minute=0
    )
    demo, url = launch(settings)
    yield url
    demo.close()


@pytest.mark.parametrize("mode", ["invalid-json", "html", "empty", "trickle", "echo-key"])
def test_through_the_app_each_fault_is_a_message_and_the_chat_goes_on(
    broken: BrokenUpstream, broken_app: str, mode: str
) -> None:
    client = Client(broken_app, verbose=False)
    broken.mode = mode
    output = client.predict(
        message="hi", temperature=1.0, non_streaming=False, model="palmyra-x5", system="", own_key="", api_name="/chat"
    )
    notices = notices_of(output[0])
    shown = " ".join(notices.values())
    assert any(title.startswith("⚠️") for title in notices), notices
    assert "Traceback" not in shown and "Expecting" not in shown and TEST_KEY not in shown
    if mode == "invalid-json":
        assert reply_of(output[0]) == "Hello "  # the partial text is kept
    broken.mode = "implausible"
    again = client.predict(
        message="again",
        temperature=1.0,
        non_streaming=False,
        model="palmyra-x5",
        system="",
        own_key="",
        api_name="/chat",
    )
    assert reply_of(again[0]) == "Odd metadata"


@pytest.fixture(scope="module")
def patient_app(broken: BrokenUpstream) -> Iterator[str]:
    """Deadlines far away: only the visitor leaving can end a silent request here."""
    limits = ReplyLimits(first_token=60, reply=60, max_chars=500)
    demo, url = launch(Settings(api_key=TEST_KEY, base_url=broken.url, limits=limits, rate_limit_per_minute=0))
    yield url
    demo.close()


def test_a_visitor_who_leaves_while_upstream_is_silent_has_the_request_closed(
    broken: BrokenUpstream, patient_app: str
) -> None:
    broken.mode = "silent"
    before = len(broken.connections)

    async def join_then_leave() -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            config = (await http.get(f"{patient_app}config")).json()
            info = (await http.get(f"{patient_app}gradio_api/info")).json()
            session = uuid.uuid4().hex[:11]
            data = endpoint_data(
                info,
                config,
                "single_turn",
                prompt="hello?",
                temperature=1.0,
                non_streaming=False,
                model="palmyra-x5",
                system="",
                own_key="",
            )
            payload = event_body(fn_index(config, "single_turn"), data, session)
            (await http.post(f"{patient_app}gradio_api/queue/join", json=payload)).raise_for_status()
            params = {"session_hash": session}
            async with http.stream("GET", f"{patient_app}gradio_api/queue/data", params=params):
                # The visitor stays until the request is upstream, then closes the tab.
                for _ in range(200):  # up to 10 s
                    if len(broken.connections) > before:
                        break
                    await asyncio.sleep(0.05)

    run_async(join_then_leave())
    assert len(broken.connections) == before + 1, "the request never reached the upstream"
    left = time.monotonic()
    # Closed at the next heartbeat (every 5 s of silence), long before the 60 s deadlines.
    assert broken.wait_all_closed(timeout=HEARTBEAT + 5), "the upstream request outlived its visitor"
    assert time.monotonic() - left < HEARTBEAT + 5
