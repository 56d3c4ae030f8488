"""Many visitors at once: 50 concurrent sessions never see each other's text, and memory stays bounded.

Sessions speak Gradio's HTTP queue directly (tests/gradio_queue.py): 50 gradio_client
instances would cost more CPU than the app under test on two cores.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from components.settings import Settings
from standin import Behaviour, StandIn
from tests.conftest import SYSTEM, TEST_KEY, launch, reply_of, run_async
from tests.gradio_queue import QueueResult, QueueSession, endpoint_data, fn_index

SESSIONS = 50
TURNS = 3
MARKER = re.compile(r"marker-\d{3}")


def chat_data(info: dict[str, Any], config: dict[str, Any], message: str) -> list[object]:
    """The /chat event's inputs, by name (endpoint_data puts the None for the history's gr.State slot)."""
    return endpoint_data(
        info,
        config,
        "chat",
        message=message,
        temperature=1.0,
        non_streaming=False,
        model="palmyra-x5",
        system=SYSTEM,
        own_key="",
        top_p=None,
        max_tokens=None,
    )


async def converse(url: str, sessions: int, turns: int) -> list[list[QueueResult]]:
    """Run ``sessions`` visitors at once, each sending ``turns`` messages that carry its own marker."""
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=4 * sessions)) as http:
        config = (await http.get(f"{url}config")).json()
        info = (await http.get(f"{url}gradio_api/info")).json()
        chat_fn = fn_index(config, "chat")

        async def visitor(number: int) -> list[QueueResult]:
            session = QueueSession(http, url)
            messages = [f"marker-{number:03} turn {turn}" for turn in range(turns)]
            return [await session.call(chat_fn, chat_data(info, config, message)) for message in messages]

        return await asyncio.gather(*(visitor(number) for number in range(sessions)))


def rss_bytes() -> int:
    """This process's resident memory (the app under test runs in it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    pytest.skip("no /proc/self/status on this system")
    return 0


def test_fifty_concurrent_sessions_never_see_each_other(app_url: str, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.01)  # replies overlap in time, turn after turn
    run_async(converse(app_url, 5, 1))  # warm up: first-use imports and caches are not growth
    standin.reset()
    standin.default = Behaviour(chunk_delay=0.01)
    before = rss_bytes()

    results = run_async(converse(app_url, SESSIONS, TURNS))

    grown = rss_bytes() - before
    requests = standin.chat_requests()
    assert len(requests) == SESSIONS * TURNS
    for record in requests:  # every request carried one visitor's text only, and that visitor's whole history
        markers = set(MARKER.findall(str(record.body["messages"])))
        assert len(markers) == 1, markers
        turn = int(record.body["messages"][-1]["content"].rsplit(" ", 1)[1])
        assert len(record.body["messages"]) == 2 + 2 * turn  # system, earlier exchanges, the new message
    for number, turns in enumerate(results):
        mine = f"marker-{number:03}"
        for turn, result in enumerate(turns):
            assert result.success, result.error
            chat_output, _, _, sent, *_ = result.output  # the third is the history's gr.State slot
            reply = reply_of(chat_output)
            assert reply.startswith(f"Echo: {mine} turn {turn}")
            assert set(MARKER.findall(f"{reply} {sent}")) == {mine}
    assert grown < 64 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB for {SESSIONS} sessions"


@pytest.fixture(scope="module")
def small_capacity_app(standin_server: StandIn) -> Iterator[tuple[object, str]]:
    """The app keeping at most 10 sessions' state, as SESSION_CAPACITY does at scale."""
    demo, url = launch(
        Settings(api_key=TEST_KEY, base_url=standin_server.url, rate_limit_per_minute=0, max_requests_at_once=0),
        state_session_capacity=10,
    )
    yield demo, url
    demo.close()


def test_the_server_keeps_a_bounded_number_of_sessions(small_capacity_app: tuple, standin: StandIn) -> None:
    demo, url = small_capacity_app
    results = run_async(converse(url, 25, 1))
    assert [reply_of(turns[0].output[0]).split("\n\n[")[0] for turns in results] == [
        f"Echo: marker-{number:03} turn 0" for number in range(25)
    ]
    assert len(standin.chat_requests()) == 25
    assert len(demo.state_holder.session_data) <= 10  # the oldest sessions' conversations were let go
