"""What a test asks of the stand-in (:class:`Behaviour`) and what it saw (:class:`RecordedRequest`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


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
    # The model calls these functions instead of answering: (name, arguments as a JSON string) pairs.
    tool_calls: tuple[tuple[str, str], ...] = ()


@dataclass
class RecordedRequest:
    """One request as it reached the stand-in, and how it ended."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float
    query: str = ""  # the URL's query string, e.g. "limit=1&after=..." of GET /v1/graphs
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
