"""Coalesce a fast stream of text pieces into fewer, timely updates of the growing text.

Gradio re-processes the whole output on every yield (in the chat tab: the whole
conversation), and the browser falls minutes behind with one update per token
(shared/gradio-facts.md). So the first piece goes out at once, later ones at most once
per interval, and the end at once. A piece that arrives just before the upstream stalls
is still shown when the interval is up.

The interval adapts to what an update costs downstream, measured as the time until the
consumer asks for the next one (Gradio's processing of it): it is at least
``UPDATE_INTERVAL`` and at least ``COST_FACTOR`` times that cost. In the chat tab an
update costs ~1.5 ms with no history and ~9 ms with 100 turns (README, "Performance"),
so a long conversation gets rarer updates (~4 a second at 100 turns) instead of costlier
ones: the total cost of a reply's updates stays flat. The first piece is never held.

One reader task per stream pulls the pieces, so the consumer wakes once per update, not
once per piece: with a fast upstream (thousands of pieces a second) that is most of the
coalescer's cost.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable

UPDATE_INTERVAL = 0.04  # seconds; the shortest gap between updates: ~25 a second looks smooth
MAX_INTERVAL = 0.5  # seconds; the longest, however costly updates get: the text still moves twice a second
COST_FACTOR = 30  # one reply's updates take at most ~1/30 of its time (Gradio re-processes the output per yield)
# Pieces read between two turns of the event loop. The SDK reads up to 64 KB at once, ~200 chunks that it
# parses without letting the loop run (~25 ms): Gradio's handling of an update and the page's SSE wait meanwhile.
FAIR_EVERY = 16
HEARTBEAT = 5.0  # seconds of silence before the text is yielded again unchanged


async def _wait_for_news(news: asyncio.Event, loop: asyncio.AbstractEventLoop, wait: float) -> None:
    """Until ``news`` is set, or ``wait`` seconds pass.

    A timer sets the event rather than ``asyncio.wait_for``, whose extra task would wake the
    consumer a few loop turns late: the reader would slip a second piece into the first update.
    """
    timer = loop.call_later(wait, news.set)
    try:
        await news.wait()
    finally:
        timer.cancel()


class _Inbox:
    """Pieces read from the source and not shown yet, filled by one reader task."""

    def __init__(self) -> None:
        self.arrived: list[str] = []
        self.news = asyncio.Event()  # set when a piece arrives or the source ends
        self.idle = False  # the consumer waits for the next piece, to show it at once

    async def read(self, pieces: AsyncIterator[str]) -> None:
        count = 0
        try:
            async for piece in pieces:
                count += 1
                self.arrived.append(piece)
                if self.idle:
                    self.news.set()
                    await asyncio.sleep(0)  # let the consumer take this piece alone: the first is never held
                elif count % FAIR_EVERY == 0:
                    await asyncio.sleep(0)  # a fast upstream must not starve the loop: updates go out meanwhile
        finally:
            self.news.set()


async def coalesce(
    pieces: AsyncIterator[str],
    interval: float = UPDATE_INTERVAL,
    *,
    time_left: Callable[[], float] = lambda: math.inf,
    heartbeat: float = HEARTBEAT,
) -> AsyncIterator[str]:
    """Yield the accumulated text of ``pieces``: first at once, then at most every interval, then the end.

    The interval is ``interval``, stretched by the measured cost of the previous update
    (see the module's docstring), and at most ``MAX_INTERVAL``. While the source is silent
    the text is yielded again every ``heartbeat`` seconds: the consumer's next update is how
    Gradio finds out that a visitor has gone, and closes this. When ``time_left()`` (seconds,
    asked again at each wait: the caller's deadline may move) runs out, reading stops and
    ``TimeoutError`` is raised; the caller keeps what arrived.
    """
    loop = asyncio.get_running_loop()
    inbox = _Inbox()
    arrived, news = inbox.arrived, inbox.news
    reader = asyncio.ensure_future(inbox.read(pieces))
    text, gap, shown = "", interval, 0.0
    try:
        while True:
            if not arrived and not reader.done():
                news.clear()
                inbox.idle = True
                # Quiet upstream: show the next piece as soon as it comes.
                await _wait_for_news(news, loop, min(heartbeat, time_left()))
                inbox.idle = False
                if not arrived and not reader.done():
                    if time_left() <= 0:
                        raise TimeoutError
                    yield text  # a heartbeat: nothing new
                    continue
            if reader.done() and reader.exception() is not None:
                break  # the error is raised below; the caller keeps what arrived
            if arrived:
                text += "".join(arrived)
                arrived.clear()
                handed_over = loop.time()
                yield text
                shown = loop.time()
                gap = min(max(interval, COST_FACTOR * (shown - handed_over)), MAX_INTERVAL)
            if reader.done() and not arrived:
                break
            # Hold what arrives until the gap is up; the end of the stream is shown at once.
            remaining = min(shown + gap - loop.time(), time_left())
            if remaining > 0 and not reader.done():
                await asyncio.wait({reader}, timeout=remaining)
            if time_left() <= 0 and not reader.done():
                raise TimeoutError
        reader.result()  # re-raise a failure of the source (a dropped connection, an SSE error)
    finally:
        if not reader.done():  # closed early (Stop, a dropped client): stop reading upstream
            reader.cancel()
            await asyncio.wait({reader})
        aclose = getattr(pieces, "aclose", None)
        if aclose is not None:
            await aclose()
