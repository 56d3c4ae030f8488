"""A small asyncio client for Gradio's HTTP queue, for many concurrent sessions at little CPU cost.

gradio_client runs threads per client and costs more CPU than the app under test on two
cores (shared/gradio-facts.md), so load tests and the benchmark speak the queue protocol
directly: POST /gradio_api/queue/join, then read the session's SSE stream.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class QueueResult:
    """How one event went: its final output, and when the first and last updates came."""

    output: list[Any]
    success: bool
    started: float
    first_update: float | None = None  # monotonic time of the first streamed update
    finished: float = 0.0
    updates: int = 0
    error: str | None = None


@dataclass
class QueueSession:
    """One visitor: a session hash, so state (the chat history) persists across calls."""

    http: httpx.AsyncClient
    base_url: str
    session_hash: str = field(default_factory=lambda: uuid.uuid4().hex[:11])

    async def call(self, fn_index: int, data: list[Any]) -> QueueResult:
        """Run one event to completion. ``data`` needs a None for each gr.State input."""
        started = time.monotonic()
        payload = {
            "data": data,
            "fn_index": fn_index,
            "session_hash": self.session_hash,
            "event_data": None,
            "trigger_id": None,
        }
        # Serialized here: httpx refuses NaN, and tests send it on purpose (Python's json writes and reads it).
        body = json.dumps(payload)
        joined = await self.http.post(
            f"{self.base_url}gradio_api/queue/join", content=body, headers={"content-type": "application/json"}
        )
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        result = QueueResult(output=[], success=False, started=started)
        params = {"session_hash": self.session_hash}
        async with self.http.stream("GET", f"{self.base_url}gradio_api/queue/data", params=params) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") != event_id:
                    continue
                if message["msg"] == "process_generating":
                    result.updates += 1
                    result.first_update = result.first_update or time.monotonic()
                elif message["msg"] == "process_completed":
                    result.finished = time.monotonic()
                    result.success = bool(message.get("success"))
                    output = message.get("output") or {}
                    result.output = output.get("data") or []
                    result.error = output.get("error")
                    return result
        msg = f"the queue stream ended before event {event_id} completed"
        raise RuntimeError(msg)


def fn_index(config: dict[str, Any], api_name: str) -> int:
    """The dependency index of an API name, from the app's /config."""
    for index, dependency in enumerate(config["dependencies"]):
        if dependency.get("api_name") == api_name:
            return index
    msg = f"no event with api_name {api_name!r}"
    raise KeyError(msg)
