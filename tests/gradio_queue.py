"""A small asyncio client for Gradio's HTTP queue, for many concurrent sessions at little CPU cost.

gradio_client runs threads per client and costs more CPU than the app under test on two
cores (shared/gradio-facts.md), so load tests and the benchmark speak the queue protocol
directly: POST /gradio_api/queue/join, then read the session's SSE stream. A named endpoint's
``data`` is built by parameter name (``endpoint_data``), so that a change in the order of an
endpoint's parameters, or a new one, breaks no caller.
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


def event_body(fn_index: int, data: list[Any], session_hash: str) -> dict[str, Any]:
    """What the page posts to run an event (queue/join, or run/predict for an unqueued one)."""
    return {"data": data, "fn_index": fn_index, "session_hash": session_hash, "event_data": None, "trigger_id": None}


@dataclass
class QueueSession:
    """One visitor: a session hash, so state (the chat history) persists across calls."""

    http: httpx.AsyncClient
    base_url: str
    session_hash: str = field(default_factory=lambda: uuid.uuid4().hex[:11])

    async def call(self, fn_index: int, data: list[Any]) -> QueueResult:
        """Run one event to completion. ``data`` needs a None for each gr.State input (``endpoint_data`` adds them)."""
        started = time.monotonic()
        payload = event_body(fn_index, data, self.session_hash)
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
    """The dependency index of an API name (``"chat"`` or ``"/chat"``), from the app's /config."""
    name = api_name.removeprefix("/")
    for index, dependency in enumerate(config["dependencies"]):
        if dependency.get("api_name") == name:
            return index
    msg = f"no event with api_name {name!r}"
    raise KeyError(msg)


def endpoint_data(info: dict[str, Any], config: dict[str, Any] | None, api_name: str, /, **values: Any) -> list[Any]:
    """The positional ``data`` of a call to a named endpoint, from its parameters by name.

    ``info`` is the app's /gradio_api/info: it gives the parameters' order and defaults, as
    gradio_client reads them. A parameter left out gets its default; an unknown name, or a
    required parameter left out, raises TypeError. With ``config`` (the app's /config), the
    list is the event's inputs, as the queue takes them: a None for each input the API leaves
    out (a gr.State, filled from the session). With ``config=None``, the parameters alone, the
    form that /gradio_api/call/<api_name> documents.
    """
    name = api_name.removeprefix("/")
    endpoints = info["named_endpoints"]
    if f"/{name}" not in endpoints:
        msg = f"no named endpoint /{name}; the app has {', '.join(endpoints)}"
        raise KeyError(msg)
    parameters = endpoints[f"/{name}"]["parameters"]
    unknown = set(values) - {parameter["parameter_name"] for parameter in parameters}
    if unknown:
        msg = f"/{name} has no parameter {', '.join(sorted(unknown))}"
        raise TypeError(msg)
    given = []
    for parameter in parameters:
        parameter_name = parameter["parameter_name"]
        if parameter_name in values:
            given.append(values[parameter_name])
        elif parameter["parameter_has_default"]:
            given.append(parameter["parameter_default"])
        else:
            msg = f"/{name} needs a value for its parameter {parameter_name}"
            raise TypeError(msg)
    if config is None:
        return given
    components = {component["id"]: component for component in config["components"]}
    inputs = config["dependencies"][fn_index(config, name)]["inputs"]
    hidden = [components[input_id].get("skip_api", components[input_id]["type"] == "state") for input_id in inputs]
    if hidden.count(False) != len(given):
        msg = f"/{name}: {len(given)} parameters in the API info, {hidden.count(False)} inputs in /config"
        raise ValueError(msg)
    shown = iter(given)
    return [None if skipped else next(shown) for skipped in hidden]
