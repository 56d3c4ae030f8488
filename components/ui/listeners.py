"""Who is listening: the sessions reading Gradio's event stream right now.

A queued event's result reaches its visitor only through that stream (``/gradio_api/queue/data``
for the page and gradio_client, ``/gradio_api/call/<api>/<event_id>`` for the REST form). A join
whose stream is never opened still runs, and would spend tokens on the server's key for nobody:
the handlers ask ``wait_for`` first, and send nothing when nobody came within a few seconds.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

LISTEN_GRACE = 5.0  # seconds a handler waits for its visitor's stream: a page opens it within milliseconds
_POLL = 0.05  # seconds between looks while waiting


class Listeners:
    """Open event streams by session hash (or, for the REST form, by event id)."""

    def __init__(self) -> None:
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def listening(self, key: str | None) -> bool:
        with self._lock:
            return key is not None and self._open[key] > 0

    async def wait_for(self, key: str | None, grace: float = LISTEN_GRACE) -> bool:
        """True as soon as ``key``'s stream is open; False when it is not within ``grace`` seconds.

        None (a call from Python, with no session) is never waited for.
        """
        if key is None:
            return True
        deadline = time.monotonic() + grace
        while not self.listening(key):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_POLL)
        return True

    def opened(self, key: str) -> None:
        with self._lock:
            self._open[key] += 1

    def closed(self, key: str) -> None:
        with self._lock:
            self._open[key] -= 1
            if self._open[key] <= 0:
                del self._open[key]


LISTENERS = Listeners()  # one per process: session hashes and event ids are unique across apps


class ListenerTracking:
    """ASGI middleware: notes every event stream while it is open."""

    def __init__(self, app: ASGIApp, listeners: Listeners = LISTENERS) -> None:
        self.app, self.listeners = app, listeners

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _stream_key(scope) if scope["type"] == "http" and scope.get("method") == "GET" else None
        if key is None:
            await self.app(scope, receive, send)
            return
        self.listeners.opened(key)
        try:
            await self.app(scope, receive, send)
        finally:
            self.listeners.closed(key)


def _stream_key(scope: Scope) -> str | None:
    path: str = scope.get("path", "")
    if path.endswith("/gradio_api/queue/data"):
        hashes = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_hash")
        return hashes[0] if hashes else None
    parts = path.rstrip("/").split("/")
    if "call" in parts and len(parts) - parts.index("call") >= 3:  # /gradio_api/call[/v2]/<api>/<event_id>
        return parts[-1]  # a REST caller without a session of its own has its event id as session hash
    return None
