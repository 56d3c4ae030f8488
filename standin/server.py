"""The stand-in's HTTP server: :class:`StandIn`, a raw ASGI app on uvicorn, served on a thread of its own.

A raw ASGI app rather than a web framework, because it must notice a client disconnect even
while it is idle between chunks (:class:`_DisconnectWatch`): that is how the tests prove that
Stop closes the upstream request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import uvicorn

from standin import builtin, tools
from standin.behaviour import Behaviour, RecordedRequest
from standin.builtin import BuiltInAnswer
from standin.graphs import DEFAULT_GRAPHS, KnowledgeGraph, graphs_page
from standin.reply import generation_delays, last_prompt
from standin.wire import (
    MODELS,
    DropConnectionError,
    completion_body,
    error_body,
    error_event,
    send_half_then_drop,
    send_json,
    sse_frames,
    validate,
)


def serve_in_thread(
    app: Callable, sock: socket.socket, *, name: str, log_level: str = "warning"
) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve an ASGI app with uvicorn on ``sock``, on a daemon thread; return once it accepts connections."""
    config = uvicorn.Config(app, log_config=None, log_level=log_level, lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            msg = f"{name} did not start"
            raise RuntimeError(msg)
        time.sleep(0.01)
    return server, thread


async def read_body(receive: Callable) -> bytes:
    """An ASGI request's whole body."""
    raw = b""
    while True:
        message = await receive()
        raw += message.get("body", b"")
        if not message.get("more_body"):
            return raw


def _is_not_a_planned_drop(record: logging.LogRecord) -> bool:
    return not (record.exc_info and isinstance(record.exc_info[1], DropConnectionError))


class StandIn:
    """A Writer-compatible HTTP server on 127.0.0.1, run on a thread of its own."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        models: tuple[tuple[str, str], ...] = MODELS,
        graphs: tuple[KnowledgeGraph, ...] = DEFAULT_GRAPHS,
        host: str = "127.0.0.1",
        port: int = 0,
        keep_records: int | None = None,  # None: every request (the tests read them); offline mode keeps none
    ) -> None:
        self.api_key = self._initial_api_key = api_key  # None accepts any non-empty bearer token
        self.models = models  # (id, name) pairs: what GET /v1/models lists and POST /v1/chat accepts
        # What GET /v1/graphs lists and a ``graph`` tool may name; ``()`` is an account without any.
        self.graphs = self._initial_graphs = graphs
        self.default = Behaviour()
        self.requests: list[RecordedRequest] = []
        self._queue: list[Behaviour] = []
        self._rules: list[tuple[Callable[[dict[str, Any]], bool], Behaviour]] = []
        self._lock = threading.Lock()
        self._recorded = threading.Condition(self._lock)  # notified on each new request
        self._host, self._port = host, port
        self._keep_records = keep_records
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- control, from any thread -------------------------------------------------
    @property
    def url(self) -> str:
        """The base URL to give the SDK (``WRITER_BASE_URL``)."""
        return f"http://{self._host}:{self._port}"

    def enqueue(self, *behaviours: Behaviour) -> None:
        """Answer the next chat requests with these behaviours, in order, then with ``default``."""
        with self._lock:
            self._queue.extend(behaviours)

    def on_prompt(self, marker: str, behaviour: Behaviour) -> None:
        """Answer every chat request whose last user message contains ``marker`` with ``behaviour``."""
        self.on_request(lambda body: marker in last_prompt(body), behaviour)

    def on_request(self, matches: Callable[[dict[str, Any]], bool], behaviour: Behaviour) -> None:
        """Answer every chat request whose JSON body ``matches`` with ``behaviour`` (e.g. one temperature)."""
        with self._lock:
            self._rules.append((matches, behaviour))

    def reset(self) -> None:
        """Forget recorded requests, rules and queued behaviours; restore the default behaviour, key and graphs."""
        with self._lock:
            self._rules.clear()
            self._queue.clear()
            self.requests.clear()
            self.default = Behaviour()
            self.api_key = self._initial_api_key
            self.graphs = self._initial_graphs

    def chat_requests(self) -> list[RecordedRequest]:
        """The POST /v1/chat requests received so far, oldest first."""
        with self._lock:
            return self._chat_requests()

    def wait_for_chat(self, count: int = 1, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until ``count`` chat requests have arrived; return them all. Raises on timeout."""
        with self._recorded:
            if not self._recorded.wait_for(lambda: len(self._chat_requests()) >= count, timeout):
                msg = f"expected {count} chat request(s) within {timeout} s, got {len(self._chat_requests())}"
                raise TimeoutError(msg)
            return self._chat_requests()

    def _chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/v1/chat"]

    def start(self) -> StandIn:
        """Bind the port and serve on a daemon thread; return once it accepts connections."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self._port = sock.getsockname()[1]
        logging.getLogger("uvicorn.error").addFilter(_is_not_a_planned_drop)  # a drop is on purpose
        self._server, self._thread = serve_in_thread(self, sock, name="writer-standin")
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = self._thread = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving, on the server's thread ------------------------------------------
    def _next_behaviour(self, body: Any) -> Behaviour:
        """A matching rule first, then the queue, then the server-wide default; offered functions, the model
        calls one unless told what to say (``tools.demo_calls``)."""
        with self._lock:
            behaviour = next((b for matches, b in self._rules if isinstance(body, dict) and matches(body)), None)
            if behaviour is None:
                behaviour = self._queue.pop(0) if self._queue else self.default
        calls = tools.demo_calls(body) if isinstance(body, dict) and behaviour.reply is None else ()
        return replace(behaviour, tool_calls=calls) if calls and not behaviour.tool_calls else behaviour

    def _record(self, scope: dict[str, Any], body: Any) -> RecordedRequest:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        record = RecordedRequest(scope["method"], scope["path"], headers, body, time.monotonic(), query)
        with self._recorded:
            self.requests.append(record)
            if self._keep_records is not None and len(self.requests) > self._keep_records:
                del self.requests[: len(self.requests) - self._keep_records]  # a demo serves anyone, for months
            self._recorded.notify_all()
        return record

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        raw = await read_body(receive)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        record = self._record(scope, body)
        try:
            await self._answer(record, receive, send)
        finally:
            record.finished_at = time.monotonic()
            record._done.set()

    async def _answer(self, record: RecordedRequest, receive: Callable, send: Callable) -> None:
        token = record.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not token or (self.api_key is not None and token != self.api_key):
            await send_json(send, record, 401, error_body(401))
        elif (record.method, record.path) == ("GET", "/v1/models"):
            models = [{"id": model_id, "name": name} for model_id, name in self.models]
            await send_json(send, record, 200, {"models": models})
        elif (record.method, record.path) == ("GET", "/v1/graphs"):
            status, payload = graphs_page(self.graphs, record.query)
            await send_json(send, record, status, payload if status == 200 else error_body(status, str(payload)))
        elif (record.method, record.path) == ("POST", "/v1/chat"):
            await self._chat(record, receive, send)
        else:
            await send_json(send, record, 404, error_body(404))

    async def _chat(self, record: RecordedRequest, receive: Callable, send: Callable) -> None:
        behaviour = self._next_behaviour(record.body)
        extra_headers = [(k.encode(), v.encode()) for k, v in behaviour.headers]
        if behaviour.status != 200:
            await send_json(send, record, behaviour.status, error_body(behaviour.status), extra_headers)
            return
        problem = validate(record.body, self.models, self.graphs)
        if problem:
            await send_json(send, record, 400, error_body(400, problem))
            return
        answer = builtin.answer(record.body, self.graphs)
        disconnect = _DisconnectWatch(receive)
        try:
            if record.body.get("stream"):
                await self._stream(record, behaviour, answer, send, disconnect, extra_headers)
            else:
                completion = completion_body(record, behaviour, answer)
                # A whole reply takes as long to generate as its stream would, pause for pause (so that
                # the timer's slack adds up alike): the offline Compare chart shows the same total for both.
                for delay in generation_delays(behaviour, completion["usage"]["completion_tokens"]):
                    if await disconnect.sleep(delay):
                        record.disconnected = True
                        return
                if behaviour.drop_after is not None:
                    await send_half_then_drop(send, record, completion)
                await send_json(send, record, 200, completion, extra_headers)
        finally:
            disconnect.close()

    async def _stream(
        self,
        record: RecordedRequest,
        behaviour: Behaviour,
        answer: BuiltInAnswer | None,
        send: Callable,
        disconnect: _DisconnectWatch,
        extra_headers: list[tuple[bytes, bytes]],
    ) -> None:
        record.status = 200
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"), *extra_headers]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        frames = sse_frames(record, behaviour, answer)
        # Each chunk after the first (empty) one is generated: a token, or a fragment of a tool call.
        generated = sum(1 for frame in frames if b'"choices":[{' in frame) - 1
        delays = generation_delays(behaviour, generated)
        if answer is not None and not answer.streams and len(delays) > 1:
            # A tool that does not stream sends its text once it is all generated: as long as a whole reply.
            delays[1] = behaviour.chunk_delay * record.sent["usage"]["completion_tokens"]
        for index, frame in enumerate(frames):
            # The usage chunk and [DONE] follow the last token at once: nothing is generated for them.
            if await disconnect.sleep(delays[index] if index < len(delays) else 0.0):
                record.disconnected = True
                return
            if behaviour.drop_after is not None and index >= behaviour.drop_after:
                raise DropConnectionError  # uvicorn aborts the connection: the client sees an incomplete body
            if behaviour.error_event_after is not None and index >= behaviour.error_event_after:
                await send({"type": "http.response.body", "body": error_event(), "more_body": True})
                break
            await send({"type": "http.response.body", "body": frame, "more_body": True})
            record.chunks_sent += 1
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class _DisconnectWatch:
    """Listens for the client's ``http.disconnect`` while the reply is being produced."""

    def __init__(self, receive: Callable) -> None:
        self._gone = asyncio.Event()
        self._task = asyncio.create_task(self._watch(receive))

    async def _watch(self, receive: Callable) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self._gone.set()

    async def sleep(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True as soon as the client has gone."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._gone.wait(), seconds)
        return self._gone.is_set()

    def close(self) -> None:
        self._task.cancel()
