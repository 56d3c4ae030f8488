"""A local Writer-compatible chat server: the offline demo's backend and the tests' fake.

One module, two uses. It speaks the wire format of Writer's API as recorded in
shared/writer-api.md (POST /v1/chat as JSON or as SSE ending in ``data: [DONE]``,
GET /v1/models, Writer's error bodies, bearer auth), answers deterministically by
echoing the prompt and the parameters it received, and records every request,
including whether the client hung up before the reply was finished.

Tests steer it with :class:`Behaviour`: server-wide (``standin.default``) or for the
next requests in order (``standin.enqueue(...)``), e.g. a 429, a slow first token, a
stream that drops halfway or an SSE ``event: error`` in mid-stream.

It is a raw ASGI app on uvicorn (which Gradio already installs) rather than a web
framework, because it must notice a client disconnect even while it is idle between
chunks: that is how the tests prove that Stop closes the upstream request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import uvicorn

logger = logging.getLogger(__name__)

# Writer's chat models, as GET /v1/models lists them. palmyra-fin, -med, -creative, -x-003-instruct
# (and palmyra-vision, never a chat model) were removed on 2026-07-13, palmyra-x5 replacing them
# (shared/writer-tools.md section 5); the spec's example list predates that.
MODELS: tuple[tuple[str, str], ...] = (
    ("palmyra-x5", "Palmyra X5"),
    ("palmyra-x4", "Palmyra X4"),
)
_ROLES = {"user", "assistant", "system", "tool"}

# Writer's documented error bodies, by status (shared/writer-api.md section 5).
_ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("BadRequest", "Invalid input parameters", "fail.badRequest.invalidParameters"),
    401: ("Unauthorized", "Invalid token", "fail.unauthorized.badToken"),
    403: ("Forbidden", "Insufficient access rights", "fail.forbidden.insufficientAccessRights"),
    404: ("NotFound", "Resource is not found", "fail.notFound.resource"),
    429: ("TooManyRequests", "Quota exceeded", "fail.tooManyRequests.quotaExceeded"),
    500: ("InternalServerError", "Internal server error", "fail.internalServerError.generic"),
    503: ("ServiceUnavailable", "Service temporarily unavailable", "fail.serviceUnavailable.temporary"),
}
_MAX_TOKENS = 8192  # Palmyra X5's published limits (shared/writer-api.md: BEDROCK)
_MAX_STOP = 4
_TOKEN = re.compile(r"\s*\S+|\s+")  # words with their leading space: joined, they give back the text


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


def error_body(status: int, description: str | None = None) -> dict[str, Any]:
    """Writer's error body for a status: ``{"tpe", "errors": [{"description", "key", "extras"}], "extras"}``."""
    tpe, default_description, key = _ERRORS.get(status, ("Error", "Error", "fail.generic"))
    return {
        "tpe": tpe,
        "errors": [{"description": description or default_description, "key": key, "extras": {}}],
        "extras": {},
    }


@dataclass(frozen=True)
class Behaviour:
    """How the stand-in answers one request. The defaults give a normal, instant reply."""

    status: int = 200  # any other status answers with Writer's error body for it
    headers: tuple[tuple[str, str], ...] = ()  # extra response headers, e.g. (("retry-after", "2"),)
    first_token_delay: float = 0.0  # seconds before the first chunk (non-streaming: before the response)
    chunk_delay: float = 0.0  # seconds between streamed chunks
    drop_after: int | None = None  # close the connection abruptly after this many chunks (non-streaming: halfway)
    error_event_after: int | None = None  # streaming: send an SSE `event: error` after this many chunks
    reply: str | None = None  # the reply text; None echoes the prompt and parameters
    max_tokens: int | None = None  # cut every reply here (finish_reason "length"), like a model's own limit
    finish_reason: str | None = None  # force this finish_reason, e.g. "content_filter"


@dataclass
class RecordedRequest:
    """One request as it reached the stand-in, and how it ended."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float
    status: int | None = None
    chunks_sent: int = 0
    # What the reply carried, to compare with what a client shows: the (first) response id,
    # finish_reason and usage, as sent. None until a reply is produced.
    sent: dict[str, Any] | None = None
    finished_at: float | None = None
    disconnected: bool = False  # the client hung up before the reply was complete
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    def wait_done(self, timeout: float) -> bool:
        """Block until the reply ended (complete, failed or disconnected); False on timeout."""
        return self._done.wait(timeout)


class _DropConnectionError(Exception):
    """Raised inside the ASGI app to make uvicorn abort the connection mid-body."""


def _is_not_a_planned_drop(record: logging.LogRecord) -> bool:
    return not (record.exc_info and isinstance(record.exc_info[1], _DropConnectionError))


def _last_prompt(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    return next(
        (_text(m.get("content")) for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), ""
    )


def reply_text(body: dict[str, Any]) -> str:
    """The deterministic reply: the last user message, then the parameters that came with it.

    The parameters go in a paragraph of their own, after a blank line: on the prompt's last line they
    would turn a closing code fence into text, and the rest of the reply into code.
    """
    messages = body.get("messages") or []
    prompt = _last_prompt(body)
    temperature = body.get("temperature", "default")
    # The optional sampling parameters are echoed only when sent, so tests see what reached the wire.
    extras = "".join(f" {name}={body[name]}" for name in ("top_p", "max_tokens") if name in body)
    return f"Echo: {prompt}\n\n[model={body.get('model')} messages={len(messages)} temperature={temperature}{extras}]"


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def _count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def _validate(body: Any, models: tuple[tuple[str, str], ...]) -> str | None:
    """What Writer would reject with a 400, or None. Mirrors the spec's required fields."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object"
    if body.get("model") not in {model_id for model_id, _ in models}:
        return f"Model {body.get('model')!r} is not supported"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            return "Each message needs a valid role"
    temperature = body.get("temperature", 1.0)
    if not isinstance(temperature, (int, float)) or not 0.0 <= temperature <= 2.0:
        return "temperature must be a number from 0.0 to 2.0"
    top_p = body.get("top_p", 1.0)
    if not isinstance(top_p, (int, float)) or not 0.0 < top_p <= 1.0:
        return "top_p must be a number above 0 and at most 1"
    max_tokens = body.get("max_tokens", 1)
    if not isinstance(max_tokens, int) or not 1 <= max_tokens <= _MAX_TOKENS:
        return f"max_tokens must be an integer from 1 to {_MAX_TOKENS}"
    stop = body.get("stop", [])
    stop = [stop] if isinstance(stop, str) else stop
    if not isinstance(stop, list) or len(stop) > _MAX_STOP or not all(isinstance(x, str) and x for x in stop):
        return f"stop must be a string or a list of at most {_MAX_STOP} non-empty strings"
    return None


class StandIn:
    """A Writer-compatible HTTP server on 127.0.0.1, run on a thread of its own."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        models: tuple[tuple[str, str], ...] = MODELS,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.api_key = self._initial_api_key = api_key  # None accepts any non-empty bearer token
        self.models = models  # (id, name) pairs: what GET /v1/models lists and POST /v1/chat accepts
        self.default = Behaviour()
        self.requests: list[RecordedRequest] = []
        self._queue: list[Behaviour] = []
        self._rules: list[tuple[Callable[[dict[str, Any]], bool], Behaviour]] = []
        self._lock = threading.Lock()
        self._recorded = threading.Condition(self._lock)  # notified on each new request
        self._host, self._port = host, port
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
        self.on_request(lambda body: marker in _last_prompt(body), behaviour)

    def on_request(self, matches: Callable[[dict[str, Any]], bool], behaviour: Behaviour) -> None:
        """Answer every chat request whose JSON body ``matches`` with ``behaviour`` (e.g. one temperature)."""
        with self._lock:
            self._rules.append((matches, behaviour))

    def reset(self) -> None:
        """Forget recorded requests, rules and queued behaviours; restore the default behaviour and key."""
        with self._lock:
            self._rules.clear()
            self._queue.clear()
            self.requests.clear()
            self.default = Behaviour()
            self.api_key = self._initial_api_key

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
        """A matching rule first, then the queue, then the server-wide default."""
        with self._lock:
            for matches, behaviour in self._rules:
                if isinstance(body, dict) and matches(body):
                    return behaviour
            return self._queue.pop(0) if self._queue else self.default

    def _record(self, scope: dict[str, Any], body: Any) -> RecordedRequest:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        record = RecordedRequest(scope["method"], scope["path"], headers, body, time.monotonic())
        with self._recorded:
            self.requests.append(record)
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
            await _send_json(send, record, 401, error_body(401))
        elif (record.method, record.path) == ("GET", "/v1/models"):
            models = [{"id": model_id, "name": name} for model_id, name in self.models]
            await _send_json(send, record, 200, {"models": models})
        elif (record.method, record.path) == ("POST", "/v1/chat"):
            await self._chat(record, receive, send)
        else:
            await _send_json(send, record, 404, error_body(404))

    async def _chat(self, record: RecordedRequest, receive: Callable, send: Callable) -> None:
        behaviour = self._next_behaviour(record.body)
        extra_headers = [(k.encode(), v.encode()) for k, v in behaviour.headers]
        if behaviour.status != 200:
            await _send_json(send, record, behaviour.status, error_body(behaviour.status), extra_headers)
            return
        problem = _validate(record.body, self.models)
        if problem:
            await _send_json(send, record, 400, error_body(400, problem))
            return
        disconnect = _DisconnectWatch(receive)
        try:
            if record.body.get("stream"):
                await self._stream(record, behaviour, send, disconnect, extra_headers)
            else:
                completion = _completion(record, behaviour)
                # A whole reply takes as long to generate as its stream would, pause for pause (so that
                # the timer's slack adds up alike): the offline Compare chart shows the same total for both.
                for delay in _generation_delays(behaviour, completion["usage"]["completion_tokens"]):
                    if await disconnect.sleep(delay):
                        record.disconnected = True
                        return
                if behaviour.drop_after is not None:
                    await _send_half_then_drop(send, record, completion)
                await _send_json(send, record, 200, completion, extra_headers)
        finally:
            disconnect.close()

    async def _stream(
        self,
        record: RecordedRequest,
        behaviour: Behaviour,
        send: Callable,
        disconnect: _DisconnectWatch,
        extra_headers: list[tuple[bytes, bytes]],
    ) -> None:
        record.status = 200
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"), *extra_headers]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        frames = _frames(record, behaviour)
        delays = _generation_delays(behaviour, record.sent["usage"]["completion_tokens"])
        for index, frame in enumerate(frames):
            # The usage chunk and [DONE] follow the last token at once: nothing is generated for them.
            if await disconnect.sleep(delays[index] if index < len(delays) else 0.0):
                record.disconnected = True
                return
            if behaviour.drop_after is not None and index >= behaviour.drop_after:
                raise _DropConnectionError  # uvicorn aborts the connection: the client sees an incomplete body
            if behaviour.error_event_after is not None and index >= behaviour.error_event_after:
                event = json.dumps(error_body(500, "The model failed while generating"))
                await send(
                    {
                        "type": "http.response.body",
                        "body": f"event: error\ndata: {event}\n\n".encode(),
                        "more_body": True,
                    }
                )
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


async def _send_json(
    send: Callable,
    record: RecordedRequest,
    status: int,
    payload: Any,
    extra_headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
) -> None:
    record.status = status
    data = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def _send_half_then_drop(send: Callable, record: RecordedRequest, payload: Any) -> None:
    """Start a JSON response, send half of it, then abort the connection."""
    record.status = 200
    data = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": data[: len(data) // 2], "more_body": True})
    raise _DropConnectionError  # uvicorn aborts the connection: the body is never completed


def _reply_tokens(body: dict[str, Any], behaviour: Behaviour) -> tuple[list[str], str]:
    """The reply split into tokens, ended at a stop sequence or cut at ``max_tokens``, and its finish_reason."""
    text = behaviour.reply if behaviour.reply is not None else reply_text(body)
    stop = body.get("stop") or []
    for sequence in [stop] if isinstance(stop, str) else stop:
        text = text.split(sequence, 1)[0]  # like a model: the stop sequence itself is not returned
    tokens = _TOKEN.findall(text)
    limits = [n for n in (body.get("max_tokens"), behaviour.max_tokens) if isinstance(n, int)]
    max_tokens = min(limits, default=None)
    if max_tokens is not None and len(tokens) > max_tokens:
        return tokens[:max_tokens], behaviour.finish_reason or "length"
    return tokens, behaviour.finish_reason or "stop"


def _generation_delays(behaviour: Behaviour, completion_tokens: int) -> list[float]:
    """The pauses of generating a reply: before the first (empty) chunk, then before each token."""
    return [behaviour.first_token_delay, *[behaviour.chunk_delay] * completion_tokens]


def _usage(body: dict[str, Any], completion_tokens: int) -> dict[str, Any]:
    prompt_tokens = sum(_count_tokens(_text(m.get("content"))) for m in body["messages"])
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_token_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _completion(record: RecordedRequest, behaviour: Behaviour) -> dict[str, Any]:
    """A non-streaming ``chat.completion`` body, shaped like shared/writer-api.md section 2."""
    body = record.body
    tokens, finish_reason = _reply_tokens(body, behaviour)
    response_id, usage = str(uuid.uuid4()), _usage(body, len(tokens))
    record.sent = {"id": response_id, "finish_reason": finish_reason, "usage": usage}
    message = {"content": "".join(tokens), "role": "assistant", "refusal": None, "tool_calls": None,
               "graph_data": {"sources": None, "status": None, "subqueries": None},
               "llm_data": None, "translation_data": None, "web_search_data": None}  # fmt: skip
    return {
        "id": response_id,
        "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": message, "logprobs": None}],
        "created": int(time.time()),
        "model": body["model"],
        "usage": usage,
        "system_fingerprint": "v1",
        "service_tier": "standard",
    }


def _frames(record: RecordedRequest, behaviour: Behaviour) -> list[bytes]:
    """The SSE frames of a streamed reply, as in Writer's captured stream (shared/writer-api.md section 3).

    The first chunk has empty content, every chunk a new id and ``role: assistant``, the
    finish_reason rides on the last content chunk, a usage-only chunk (``choices: []``)
    follows when ``stream_options.include_usage`` is set, then ``data: [DONE]``.
    """
    body = record.body
    tokens, finish_reason = _reply_tokens(body, behaviour)
    created = int(time.time())
    contents = ["", *tokens]
    ids = [str(uuid.uuid4()) for _ in range(len(contents) + 1)]  # Writer gives every chunk a new id
    usage = _usage(body, len(tokens))
    record.sent = {"id": ids[0], "finish_reason": finish_reason, "usage": usage}

    def chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None) -> bytes:
        payload = {"id": ids.pop(0), "object": "chat.completion.chunk", "choices": choices,
                   "created": created, "model": body["model"], "usage": usage,
                   "system_fingerprint": "v1", "service_tier": None}  # fmt: skip
        return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()

    frames = []
    for index, content in enumerate(contents):
        delta = {"content": content, "role": "assistant", "tool_calls": None,
                 "graph_data": {"sources": None, "status": None, "subqueries": None}, "refusal": None}  # fmt: skip
        last = index == len(contents) - 1
        choice = {"index": 0, "finish_reason": finish_reason if last else None, "delta": delta, "logprobs": None}
        frames.append(chunk([choice], None))
    if (body.get("stream_options") or {}).get("include_usage"):
        frames.append(chunk([], usage))
    frames.append(b"data: [DONE]\n\n")
    return frames


def main() -> None:
    """Run the stand-in alone, e.g. to point another client at it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=4010)
    parser.add_argument("--chunk-delay", type=float, default=0.02, help="seconds between streamed chunks")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    standin = StandIn(port=args.port).start()
    standin.default = replace(standin.default, chunk_delay=args.chunk_delay)
    logger.info("Writer stand-in on %s (Ctrl+C stops it)", standin.url)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    standin.stop()


if __name__ == "__main__":
    main()
