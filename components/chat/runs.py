"""Replies in flight, per visitor and tab, so that Stop can say what it stopped.

Knows nothing of Gradio. Stop cancels a handler from outside: its generator is closed at
an ``await`` or a ``yield`` and can show nothing more. What it was doing stays here, its
run cards marked stopped, until the tab's after-Stop step takes it to show. The two may
come in either order (the cancel and the step after it are separate requests), so both
ends mark the cards, and ``take_stopped`` gives them once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from components.writer.records import RunCard

# Entries left by visitors who closed the tab mid-reply are never taken: the oldest go first.
CAPACITY = 4_096
# How long the after-Stop step waits for the cancelled handler to end, so that nothing it
# still sends lands after the "stopped" card. Cancelling an async handler takes 40-150 ms.
STOP_GRACE = 2.0  # seconds


@dataclass
class _Run:
    cards: list[RunCard] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    text: str = ""  # a one-reply tab's reply as the handler last sent it


class InFlight:
    """The run cards of each visitor's current request, by session and tab (one request a tab at a time).

    A request without a session (a call from Python) is not tracked.
    """

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._runs: OrderedDict[tuple[str, str], _Run] = OrderedDict()
        self._lock = threading.Lock()  # handlers run on the event loop, non-queued steps on threads

    @contextmanager
    def tracking(self, session: str | None, tab: str) -> Iterator[Callable[[RunCard], None]]:
        """Around one request: ``note(card)`` for each update it sends (a one-reply tab adds the reply's text);
        a cancel marks the cards stopped."""
        key = (session, tab) if session else None
        run = _Run()

        def note(card: RunCard, text: str | None = None) -> None:
            if text is not None:
                run.text = text
            if key is None or any(card is known for known in run.cards):
                return
            run.cards.append(card)
            with self._lock:
                self._runs[key] = run
                self._runs.move_to_end(key)
                while len(self._runs) > self._capacity:
                    self._runs.popitem(last=False)

        try:
            yield note
        except (asyncio.CancelledError, GeneratorExit):
            for card in run.cards:
                card.mark_stopped()  # timed here, the closest moment to the Stop
            raise
        else:
            with self._lock:
                if self._runs.get(key) is run:
                    del self._runs[key]  # finished on its own: nothing for Stop to report
        finally:
            run.ended.set()

    async def take_stopped(self, session: str | None, tab: str, grace: float = STOP_GRACE) -> list[RunCard]:
        """The cards of the request Stop ended (marked stopped), once; [] when it finished on its own.

        Waits up to ``grace`` for the cancelled handler to end first.
        """
        run = await self._take(session, tab, grace)
        return run.cards if run else []

    async def take_stopped_reply(
        self, session: str | None, tab: str, grace: float = STOP_GRACE
    ) -> tuple[RunCard, str] | None:
        """A one-reply tab's stopped reply: its card and its text as the handler last sent it, once.

        That text, not the page's: the last update may reach the page after its Stop step read it.
        """
        run = await self._take(session, tab, grace)
        return (run.cards[0], run.text) if run and run.cards else None

    async def _take(self, session: str | None, tab: str, grace: float) -> _Run | None:
        key = (session, tab) if session else None
        with self._lock:
            run = self._runs.get(key) if key is not None else None
        if run is None:
            return None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.ended.wait(), grace)
        with self._lock:
            if self._runs.get(key) is not run:
                return None  # finished on its own meanwhile, or already taken
            del self._runs[key]
        for card in run.cards:
            card.mark_stopped()
        return run
