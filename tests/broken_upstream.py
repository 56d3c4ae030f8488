"""A deliberately broken Writer upstream on 127.0.0.1, for the faults the stand-in will not commit.

Each mode answers ``POST /v1/chat`` wrongly in one way a real upstream (or a proxy in front of
it) might: invalid JSON in an SSE line, an HTML page with status 200, a trickle of bytes that
never ends, an endless stream without ``[DONE]``, an empty stream, implausible metadata, an
error that echoes the Authorization header. It records when each request's connection
closed, so a test can tell that the app let go. Raw ASGI on uvicorn, like the stand-in, so
that a client hanging up is seen even while the server is between writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from standin import read_body, serve_in_thread

MODES = ("invalid-json", "html", "trickle", "silent", "endless", "empty", "implausible", "echo-key", "no-finish")
HTML = b"<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>"


def chunk(
    content: str | None, *, finish: str | None = None, usage: dict | None = None, created: int = 1_795_543_866
) -> bytes:
    body: dict[str, Any] = {
        "id": "d5f3c1e2-0000-4000-8000-000000000000",
        "object": "chat.completion.chunk",
        "created": created,
        "model": "palmyra-x5",
        "choices": []
        if content is None
        else [{"index": 0, "finish_reason": finish, "delta": {"content": content, "role": "assistant"}}],
    }
    if usage is not None:
        body["usage"] = usage
    return f"data: {json.dumps(body)}\n\n".encode()


@dataclass
class Connection:
    """One request: its headers, and when the connection closed (None while open)."""

    headers: dict[str, str]
    body: dict[str, Any]
    opened: float = field(default_factory=time.monotonic)
    closed: float | None = None


class BrokenUpstream:
    def __init__(self) -> None:
        self.mode = "invalid-json"
        self.connections: list[Connection] = []
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def open_connections(self) -> int:
        with self._lock:
            return sum(1 for c in self.connections if c.closed is None)

    def wait_all_closed(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.open_connections() == 0:
                return True
            time.sleep(0.05)
        return False

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        raw = await read_body(receive)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        connection = Connection(headers, json.loads(raw or b"{}"))
        with self._lock:
            self.connections.append(connection)
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.create_task(watch())
        try:
            await self._answer(connection, send, gone)
        except OSError:
            pass  # the client went away mid-write
        finally:
            watcher.cancel()
            connection.closed = time.monotonic()

    async def _answer(self, connection: Connection, send: Callable, gone: asyncio.Event) -> None:
        stream = bool(connection.body.get("stream"))
        if self.mode == "echo-key":
            detail = f"Invalid token {connection.headers.get('authorization', '')}"
            body = json.dumps({"tpe": "Unauthorized", "errors": [{"description": detail, "key": "k", "extras": {}}]})
            return await _whole(send, 401, "application/json", body.encode())
        if self.mode == "html":
            return await _whole(send, 200, "text/html", HTML)
        if not stream:
            return await _whole(send, 200, "application/json", b'{"id": "x", "choices": [{"index": 0, "message": ')
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        for frame in self._frames():
            if gone.is_set():
                return
            await send({"type": "http.response.body", "body": frame, "more_body": True})
            await _pause(gone, self._pace())
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _pace(self) -> float:
        return {"trickle": 0.2, "silent": 0.2, "endless": 0.001}.get(self.mode, 0.0)

    def _frames(self) -> Iterator[bytes]:  # endless in some modes
        if self.mode == "invalid-json":
            yield chunk("Hello ")
            yield b"data: {not json at all\n\n"
        elif self.mode == "trickle":
            yield chunk("Hello ")
            while True:
                yield b":\n"  # an SSE comment: a byte or two that resets any read timeout
        elif self.mode == "silent":
            while True:
                yield b":\n"  # headers at once, then never a chunk
        elif self.mode == "endless":
            while True:
                yield chunk("more ")
        elif self.mode == "empty":
            yield b"data: [DONE]\n\n"
        elif self.mode == "no-finish":
            yield chunk("Half a reply")
            yield b"data: [DONE]\n\n"
        elif self.mode == "implausible":
            yield chunk("Odd metadata", finish="stop", created=-9_007_199_254_740_991)
            usage = {"prompt_tokens": -5, "completion_tokens": -1, "total_tokens": -6}
            yield chunk(None, usage=usage, created=-9_007_199_254_740_991)
            yield b"data: [DONE]\n\n"

    def start(self) -> BrokenUpstream:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._server, self._thread = serve_in_thread(self, sock, name="broken-upstream", log_level="critical")
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._server.force_exit = True  # endless and trickling answers never finish on their own
            self._thread.join(timeout=10)

    def __enter__(self) -> BrokenUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _whole(send: Callable, status: int, content_type: str, body: bytes) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _pause(gone: asyncio.Event, seconds: float) -> None:
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(gone.wait(), seconds)
