"""The CPU per reply section: what the app spends on a streamed reply, against the raw SDK stream and against a
minimal Gradio app (bench/minimal_app.py) fed by the same stand-in, in the same run, one reply alone and 50 at
once, interleaved so that drift in the machine's load hits each alike.

- The raw stream's CPU is ``time.process_time()`` around ``n`` streams in this process, which does nothing
  else meanwhile: the SDK's reading and parsing, httpx and the event loop, as an app pays them.
- An app's CPU is read from /proc around ``n`` replies through its ``/chat`` over Gradio's queue. "Net" leaves
  out its idle CPU over the replies' wall time: Gradio's queue loop wakes every 1 ms whether anything runs or
  not (gradio/queueing.py ``sleep_when_free``, ~25-35 ms of CPU a second), a cost of each second the process
  lives that replies do not add to. The idle rate is read in the same run.
- The mean, not the median: /proc counts CPU in 10 ms ticks, and the mean of many replies evens them out.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from writerai import AsyncWriter

from bench.procs import Process
from tests.gradio_queue import QueueResult, QueueSession

LEVELS = (1, 50)  # replies at once
IDLE_WINDOW_S = 4.0  # seconds over which an app's idle CPU is read


@dataclass
class App:
    """An app under measurement: its process, and how a visitor opens its page and sends one message."""

    process: Process
    new_visitor: Callable[[], Awaitable[QueueSession]]
    send: Callable[[QueueSession], Awaitable[QueueResult]]
    idle_s_per_s: float = 0.0
    gross: dict[int, list[float]] = field(default_factory=dict)  # CPU per reply, by replies at once
    net: dict[int, list[float]] = field(default_factory=dict)
    updates: dict[int, list[float]] = field(default_factory=dict)

    async def read_idle(self) -> None:
        before = self.process.cpu_seconds()
        await asyncio.sleep(IDLE_WINDOW_S)
        self.idle_s_per_s = (self.process.cpu_seconds() - before) / IDLE_WINDOW_S

    async def measure(self, replies: int) -> None:
        visitors = await asyncio.gather(*(self.new_visitor() for _ in range(replies)))
        before, started = self.process.cpu_seconds(), time.monotonic()
        results = await asyncio.gather(*(self.send(visitor) for visitor in visitors))
        used, wall = self.process.cpu_seconds() - before, time.monotonic() - started
        if not all(result.success for result in results):
            msg = f"{self.process.name}: a reply failed: {next(r.error for r in results if not r.success)}"
            raise RuntimeError(msg)
        self.gross.setdefault(replies, []).append(used / replies)
        self.net.setdefault(replies, []).append((used - self.idle_s_per_s * wall) / replies)
        self.updates.setdefault(replies, []).extend(result.updates for result in results)

    def mean(self, kind: str, replies: int) -> float:
        return statistics.mean(getattr(self, kind)[replies])


async def raw_per_reply(writer: AsyncWriter, messages: list[dict[str, Any]], replies: int) -> float:
    """The raw SDK stream's CPU per reply, ``replies`` streams at once."""

    async def one() -> None:
        stream = await writer.chat.chat(
            messages=messages, model="palmyra-x5", temperature=1.0, stream=True, stream_options={"include_usage": True}
        )
        async with stream:
            async for _ in stream:
                pass

    started = time.process_time()
    await asyncio.gather(*(one() for _ in range(replies)))
    return (time.process_time() - started) / replies


async def measure(
    writer: AsyncWriter, messages: list[dict[str, Any]], apps: dict[str, App], repeats: int
) -> dict[int, float]:
    """Fill each app's figures; return the raw stream's mean CPU per reply at each level."""
    for app in apps.values():
        await app.read_idle()
    raws: dict[int, list[float]] = {replies: [] for replies in LEVELS}
    for _ in range(repeats):
        for replies in LEVELS:
            raws[replies].append(await raw_per_reply(writer, messages, replies))
            for app in apps.values():
                await app.measure(replies)
    return {replies: statistics.mean(values) for replies, values in raws.items()}
