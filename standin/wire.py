"""Writer's wire format, as the stand-in speaks it (shared/writer-api.md).

The models it lists, Writer's error bodies, what Writer rejects with a 400, and the bodies
and frames of a reply: a whole ``chat.completion`` as JSON, or a stream of SSE chunks.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from standin import builtin, images, tools
from standin.behaviour import Behaviour, RecordedRequest
from standin.builtin import BuiltInAnswer
from standin.graphs import KnowledgeGraph
from standin.reply import content_text, count_tokens, reply_tokens

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
_NO_GRAPH_DATA = {"sources": None, "status": None, "subqueries": None}  # without the graph tool (§2.2)


def error_body(status: int, description: str | None = None) -> dict[str, Any]:
    """Writer's error body for a status: ``{"tpe", "errors": [{"description", "key", "extras"}], "extras"}``."""
    tpe, default_description, key = _ERRORS.get(status, ("Error", "Error", "fail.generic"))
    return {
        "tpe": tpe,
        "errors": [{"description": description or default_description, "key": key, "extras": {}}],
        "extras": {},
    }


def validate(body: Any, models: tuple[tuple[str, str], ...], graphs: tuple[KnowledgeGraph, ...] = ()) -> str | None:
    """What Writer would reject with a 400, or None. Mirrors the spec's required fields; ``graphs`` are the
    Knowledge Graphs a ``graph`` tool may name."""
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
    return tools.validate(body) or builtin.validate(body, models, graphs) or images.validate(body)


class DropConnectionError(Exception):
    """Raised inside the ASGI app to make uvicorn abort the connection mid-body."""


async def send_json(
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


async def send_half_then_drop(send: Callable, record: RecordedRequest, payload: Any) -> None:
    """Start a JSON response, send half of it, then abort the connection."""
    record.status = 200
    data = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": data[: len(data) // 2], "more_body": True})
    raise DropConnectionError  # uvicorn aborts the connection: the body is never completed


def error_event() -> bytes:
    """The SSE ``event: error`` frame of a model that failed mid-stream."""
    event = json.dumps(error_body(500, "The model failed while generating"))
    return f"event: error\ndata: {event}\n\n".encode()


def _usage(body: dict[str, Any], completion_tokens: int) -> dict[str, Any]:
    prompt_tokens = sum(count_tokens(content_text(m.get("content"))) for m in body["messages"])
    prompt_tokens += images.IMAGE_TOKENS * len(images.image_urls(body))
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_token_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _call_tokens(behaviour: Behaviour) -> int:
    """What the model's function calls count as completion tokens: their names and arguments, as text."""
    return sum(count_tokens(f"{name} {arguments}") for name, arguments in behaviour.tool_calls)


def completion_body(
    record: RecordedRequest, behaviour: Behaviour, answer: BuiltInAnswer | None = None
) -> dict[str, Any]:
    """A non-streaming ``chat.completion`` body, shaped like shared/writer-api.md section 2; a built-in tool's
    ``answer`` leads the text, and its data object takes the place of its null (writer-tools.md §2.2)."""
    body = record.body
    tokens, finish_reason = reply_tokens(body, behaviour, answer.lead if answer else None)
    response_id, usage = str(uuid.uuid4()), _usage(body, len(tokens) + _call_tokens(behaviour))
    record.sent = {"id": response_id, "finish_reason": finish_reason, "usage": usage}
    calls = tools.tool_calls_message(behaviour.tool_calls) if behaviour.tool_calls else None
    logprobs = tools.logprobs_of(tokens) if body.get("logprobs") and tokens else None
    message = {"content": "".join(tokens), "role": "assistant", "refusal": None, "tool_calls": calls,
               "graph_data": _NO_GRAPH_DATA, "llm_data": None, "translation_data": None,
               "web_search_data": None}  # fmt: skip
    if answer is not None:
        message[answer.field] = answer.data
    return {
        "id": response_id,
        "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": finish_reason, "message": message, "logprobs": logprobs}],
        "created": int(time.time()),
        "model": body["model"],
        "usage": usage,
        "system_fingerprint": "v1",
        "service_tier": "standard",
    }


def sse_frames(record: RecordedRequest, behaviour: Behaviour, answer: BuiltInAnswer | None = None) -> list[bytes]:
    """The SSE frames of a streamed reply, as in Writer's captured stream (shared/writer-api.md section 3).

    The first chunk has empty content, every chunk a new id and ``role: assistant``, the
    finish_reason rides on the last content chunk, a usage-only chunk (``choices: []``)
    follows when ``stream_options.include_usage`` is set, then ``data: [DONE]``.

    A built-in tool's data object rides on the first chunk only: which chunk carries it live is unconfirmed,
    and the SDK's ``chat.stream()`` concatenates one sent twice (writer-tools.md §0 item 3, §3.3). (Its merge
    then loses ``graph_data.references.files[].fileId``, the one aliased key: it re-dumps its snapshot by field
    name on each later chunk. Raw chunks and whole replies keep it.) A tool that does not stream (translation)
    sends its whole text in one chunk after the first.
    """
    body = record.body
    tokens, finish_reason = reply_tokens(body, behaviour, answer.lead if answer else None)
    created = int(time.time())
    # The tokens of each chunk: one a chunk, or all in one for a tool that does not stream (SPEC 4323).
    token_pieces = [[token] for token in tokens]
    if answer is not None and not answer.streams:
        token_pieces = [tokens] if tokens else []
    ids = [str(uuid.uuid4())]  # Writer gives every chunk a new id; the first is the reply's
    usage = _usage(body, len(tokens) + _call_tokens(behaviour))
    record.sent = {"id": ids[0], "finish_reason": finish_reason, "usage": usage}

    def chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None) -> bytes:
        chunk_id = ids.pop(0) if ids else str(uuid.uuid4())
        payload = {"id": chunk_id, "object": "chat.completion.chunk", "choices": choices,
                   "created": created, "model": body["model"], "usage": usage,
                   "system_fingerprint": "v1", "service_tier": None}  # fmt: skip
        return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()

    # A chunk a piece of text, or (a function call) a chunk a fragment of the calls, in the live form (§3.5).
    pieces: list[tuple[list[str] | None, Any]] = [([], None), *((piece, None) for piece in token_pieces)]
    if behaviour.tool_calls:
        pieces = [([], None), *((None, delta) for delta in tools.tool_call_deltas(behaviour.tool_calls))]
    frames, position = [], 0  # position: the reply's first token in this chunk, for its logprobs
    for index, (piece, calls) in enumerate(pieces):
        content = None if piece is None else "".join(piece)
        delta = {"content": content, "role": "assistant", "tool_calls": calls,
                 "graph_data": _NO_GRAPH_DATA, "refusal": None}  # fmt: skip
        if index == 0 and answer is not None:
            delta[answer.field] = answer.data
        last = index == len(pieces) - 1
        logprobs = tools.logprobs_of(piece, start=position) if body.get("logprobs") and content else None
        position += len(piece or [])
        choice = {"index": 0, "finish_reason": finish_reason if last else None, "delta": delta, "logprobs": logprobs}
        frames.append(chunk([choice], None))
    if (body.get("stream_options") or {}).get("include_usage"):
        frames.append(chunk([], usage))
    frames.append(b"data: [DONE]\n\n")
    return frames
