"""The coalescer: first piece at once, fast pieces merged, nothing hidden when upstream stalls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from components.writer.streaming import coalesce
from tests.conftest import run_async


async def burst(n: int) -> AsyncIterator[str]:
    for _ in range(n):
        yield "x"


def test_a_fast_burst_becomes_few_updates_and_ends_complete() -> None:
    async def run() -> list[str]:
        return [text async for text in coalesce(burst(2000), interval=0.04)]

    updates = run_async(run())
    assert updates[0] == "x"  # the first token is never delayed
    assert updates[-1] == "x" * 2000
    assert len(updates) < 20  # 2,000 pieces arrive in well under 20 intervals here


def test_text_that_arrives_before_a_stall_is_shown_during_the_stall() -> None:
    async def run() -> list[str]:
        release = asyncio.Event()

        async def stalling() -> AsyncIterator[str]:
            yield "a"
            yield "b"  # arrives within the interval: held back for a moment
            await release.wait()  # upstream stalls until the consumer has seen "ab"
            yield "c"

        seen = []
        async for text in coalesce(stalling(), interval=0.05):
            seen.append(text)
            if text == "ab":
                release.set()
        return seen

    assert run_async(asyncio.wait_for(run(), timeout=5)) == ["a", "ab", "abc"]


def test_closing_early_closes_the_source() -> None:
    async def run() -> bool:
        closed = asyncio.Event()

        async def endless() -> AsyncIterator[str]:
            try:
                while True:
                    yield "x"
                    await asyncio.sleep(0)
            finally:
                closed.set()

        updates = coalesce(endless(), interval=0.01)
        await anext(updates)
        await updates.aclose()
        return closed.is_set()

    assert run_async(run())
