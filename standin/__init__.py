"""A local Writer-compatible chat server: the offline demo's backend and the tests' fake.

One package, two uses. It speaks the wire format of Writer's API as recorded in
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

It knows nothing of the app (it imports nothing from ``components``). The modules, by job:
``wire`` (Writer's error bodies, request validation, JSON and SSE frames), ``reply`` (the echo
and its tokens), ``tools`` (function tools, structured output, logprobs), ``builtin`` (the
built-in tools: web search, Knowledge Graph, LLM, translation), ``graphs`` (the Knowledge Graphs
and GET /v1/graphs), ``images`` (image fragments in messages), ``behaviour`` (:class:`Behaviour`,
:class:`RecordedRequest`), ``server`` (:class:`StandIn` and its thread) and ``__main__``
(``python -m standin``).
"""

from __future__ import annotations

from standin.behaviour import Behaviour, RecordedRequest
from standin.builtin import BuiltInAnswer
from standin.graphs import DEFAULT_GRAPHS, KnowledgeGraph
from standin.reply import reply_text
from standin.server import StandIn, read_body, serve_in_thread
from standin.wire import MODELS, error_body

__all__ = [
    "DEFAULT_GRAPHS",
    "MODELS",
    "Behaviour",
    "BuiltInAnswer",
    "KnowledgeGraph",
    "RecordedRequest",
    "StandIn",
    "error_body",
    "read_body",
    "reply_text",
    "serve_in_thread",
]
