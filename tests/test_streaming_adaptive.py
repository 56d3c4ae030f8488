"""The coalescer's adaptive interval: costly updates get rarer, the first and the last are never held."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest

from components.writer import streaming
from components.writer.streaming import coalesce
from tests.conftest import run_async


async def paced(n: int, delay: float) -> AsyncIterator[str]:
    for _ in range(n):
        await asyncio.sleep(delay)
        yield "x"


async def consume(updates: AsyncIterator[str], cost: float) -> list[tuple[float, str]]:
    """Take every update, spending ``cost`` seconds of blocking work on each, like Gradio's postprocessing."""
    seen = []
    async for text in updates:
        seen.append((time.monotonic(), text))
        time.sleep(cost)  # noqa: ASYNC251 - blocking on purpose: what a costly update does to the event loop
    return seen


def test_cheap_updates_come_at_the_base_interval() -> None:
    seen = run_async(consume(coalesce(paced(60, 0.005), interval=0.04), cost=0.0))
    duration = seen[-1][0] - seen[0][0]
    assert seen[-1][1] == "x" * 60
    assert 4 <= len(seen) <= duration / 0.04 + 2  # one update per 40 ms, plus the first and the end


def test_costly_updates_become_rarer_and_keep_their_share_of_time_bounded() -> None:
    cost = 0.01  # ~what one update costs Gradio with 100 turns of history
    seen = run_async(consume(coalesce(paced(100, 0.005), interval=0.04), cost=cost))
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(seen[:-1])]  # the end is not held
    assert seen[-1][1] == "x" * 100
    assert gaps and min(gaps) >= streaming.COST_FACTOR * cost * 0.9
    assert len(seen) * cost <= 0.15 * (seen[-1][0] - seen[0][0]) + 2 * cost  # a bounded share of the reply's time


def test_the_first_piece_is_not_held() -> None:
    async def run() -> float:
        started = time.monotonic()
        async for _text in coalesce(paced(3, 0.0), interval=0.5):
            return time.monotonic() - started
        return float("inf")

    assert run_async(run()) < 0.25  # not held for the 0.5 s interval


def test_the_end_is_shown_at_once_not_at_the_next_interval() -> None:
    async def run() -> list[tuple[float, str]]:
        async def two() -> AsyncIterator[str]:
            yield "a"
            await asyncio.sleep(0.01)
            yield "b"  # then the source ends

        return await consume(coalesce(two(), interval=0.3), cost=0.0)

    seen = run_async(run())
    assert [text for _, text in seen] == ["a", "ab"]
    assert seen[1][0] - seen[0][0] < 0.2  # well before the 0.3 s interval is up


def test_a_failing_source_raises_through_the_coalescer() -> None:
    async def failing() -> AsyncIterator[str]:
        yield "a"
        await asyncio.sleep(0.01)
        raise ConnectionResetError("dropped")

    async def run() -> list[str]:
        return [text async for text in coalesce(failing(), interval=0.04)]

    with pytest.raises(ConnectionResetError):
        run_async(run())
