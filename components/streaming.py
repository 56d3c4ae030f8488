"""Coalesce a fast stream of text pieces into fewer, timely updates of the growing text.

Gradio re-processes the whole output on every yield, and the browser falls minutes
behind with one update per token (shared/gradio-facts.md). So the first piece goes
out at once, later ones at most once per interval, and the end always. A piece that
arrives just before the upstream stalls is still shown when the interval is up: we
wait on the next piece with a deadline instead of only checking the clock per piece.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

UPDATE_INTERVAL = 0.04  # seconds; ~25 updates/s looks smooth and keeps Gradio's cost flat


async def coalesce(pieces: AsyncIterator[str], interval: float = UPDATE_INTERVAL) -> AsyncIterator[str]:
    """Yield the accumulated text of ``pieces``: first at once, then at most every ``interval``, then the end."""
    loop = asyncio.get_running_loop()
    text, shown_len, last_shown = "", 0, float("-inf")
    upcoming: asyncio.Future[str] | None = None
    try:
        while True:
            if upcoming is None:
                upcoming = asyncio.ensure_future(anext(pieces))
            pending = len(text) != shown_len
            timeout = max(0.0, last_shown + interval - loop.time()) if pending else None
            done, _ = await asyncio.wait({upcoming}, timeout=timeout)
            if done:
                finished, upcoming = upcoming, None
                try:
                    text += finished.result()
                except StopAsyncIteration:
                    break
                if loop.time() - last_shown < interval:
                    continue
            if len(text) != shown_len:  # the interval is up, or the first piece arrived
                shown_len, last_shown = len(text), loop.time()
                yield text
        if len(text) != shown_len:
            yield text
    finally:
        if upcoming is not None:  # closed early (Stop, a dropped client): stop reading upstream
            upcoming.cancel()
            await asyncio.wait({upcoming})
        aclose = getattr(pieces, "aclose", None)
        if aclose is not None:
            await aclose()
