"""Drive the Multi-turn tab the way its page does, over HTTP: the path whose server cost grows with history.

The page does not call ``/chat``. On Enter it runs ChatInterface's chain of events
(gradio/chat_interface.py ``_setup_events``): save the textbox (direct call), append the
user message to the chatbot (direct call, the page's chatbot value sent along), the
queued submit function (which re-processes the whole chatbot value on every update),
then copy the chatbot into the session's state (direct call) and re-enable the textbox
(queued). This module replays that chain with plain httpx, so the benchmark measures
the browser path's server cost without a browser's CPU on the same two cores.

The named endpoints (``/chat``, ``/single_turn``) are called by parameter name, their data
built from the app's API info (tests/gradio_queue.py ``endpoint_data``). The chain's steps
are ChatInterface's internal events: they have no parameter names, so their data is laid
out by position from /config, as the page lays it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.gradio_queue import QueueResult, QueueSession, endpoint_data, event_body, fn_index

SYSTEM = "You are a helpful assistant."  # short: the system message is not what is measured


# The values the benchmark gives the settings, by the API's parameter names; any other parameter keeps its default.
SETTINGS: dict[str, Any] = {
    "temperature": 1.0,
    "non_streaming": False,
    "model": "palmyra-x5",
    "system": SYSTEM,
    "own_key": "",
}
# The parameter each named endpoint takes its text in, by API name.
TEXT_PARAMETER = {"chat": "message", "single_turn": "prompt"}
# The same values for the chain's internal steps, by their controls' elem_id suffix (``own_key``: ``own-key``); any
# other input gets the default the page shows.
_VALUES: dict[str, Any] = {name.replace("_", "-"): value for name, value in SETTINGS.items()}
_MESSAGE_IDS = ("chat-input", "prompt")


@dataclass(frozen=True)
class Event:
    """One internal event of the app (no parameter names): its index, and how to fill its inputs as the page would."""

    index: int
    inputs: tuple[tuple[str, Any], ...]  # (kind, value): "message", "state" or "fixed" with the value

    def data(self, message: str | None = None) -> list[Any]:
        return [message if kind == "message" else value for kind, value in self.inputs]


@dataclass(frozen=True)
class NamedEvent:
    """A named endpoint of the app: its index, and its data built by parameter name from the app's API info."""

    name: str
    index: int
    info: dict[str, Any] = field(repr=False)  # the app's /gradio_api/info
    config: dict[str, Any] = field(repr=False)  # the app's /config

    def data(self, text: str) -> list[Any]:
        return endpoint_data(self.info, self.config, self.name, **{TEXT_PARAMETER[self.name]: text}, **SETTINGS)


@dataclass(frozen=True)
class Endpoints:
    """The app's events: the two API endpoints and the page's chat chain, read from its /config and API info."""

    chat: NamedEvent
    single_turn: NamedEvent
    save_textbox: Event
    append_message: Event
    submit: Event
    sync_state: Event
    enable_textbox: Event
    page_load: Event  # what a page runs when it opens (the model list): it creates the visitor's session

    @classmethod
    def from_app(cls, config: dict[str, Any], info: dict[str, Any]) -> Endpoints:
        """From the app's /config and /gradio_api/info."""
        dependencies = config["dependencies"]
        components = {c["id"]: c for c in config["components"]}

        def event(index: int) -> Event:
            inputs = []
            for component_id in dependencies[index]["inputs"]:
                component = components[component_id]
                props = component.get("props", {})
                elem_id = props.get("elem_id") or ""
                if component.get("type") == "state":
                    inputs.append(("state", None))  # the server fills it from the session
                elif elem_id in _MESSAGE_IDS:
                    inputs.append(("message", None))
                else:
                    key = next((k for k in _VALUES if elem_id.endswith(k)), None)
                    inputs.append(("fixed", _VALUES[key] if key else props.get("value")))
            return Event(index, tuple(inputs))

        def after(index: int) -> int:
            """The event the page runs when event ``index`` ends (the first ``.then``)."""
            return next(i for i, dep in enumerate(dependencies) if dep.get("trigger_after") == index)

        save = fn_index(config, "_clear_and_save_textbox")
        append = after(save)
        submit = after(append)
        sync = after(submit)
        return cls(
            chat=NamedEvent("chat", fn_index(config, "chat"), info, config),
            single_turn=NamedEvent("single_turn", fn_index(config, "single_turn"), info, config),
            save_textbox=event(save),
            append_message=event(append),
            submit=event(submit),
            sync_state=event(sync),
            enable_textbox=event(after(sync)),
            page_load=event(
                next(i for i, dep in enumerate(dependencies) if any(t[1] == "load" for t in dep["targets"]))
            ),
        )


async def open_page(session: QueueSession, endpoints: Endpoints) -> None:
    """What opening the page does for a session: its load event (Gradio creates the session's state then)."""
    result = await session.call(endpoints.page_load.index, endpoints.page_load.data())
    if not result.success:
        msg = f"the page's load event failed: {result.error}"
        raise RuntimeError(msg)


class PageSession:
    """One visitor of the Multi-turn tab, holding the chatbot value its page would hold."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, endpoints: Endpoints) -> None:
        self.queue = QueueSession(http, base_url)
        self.http, self.base_url, self.endpoints = http, base_url, endpoints
        self.chatbot: list[dict[str, Any]] = []

    async def _direct(self, event: Event, data: list[Any]) -> list[Any]:
        """An event with queue=False, as the page sends it."""
        body = event_body(event.index, data, self.queue.session_hash)
        response = await self.http.post(f"{self.base_url}gradio_api/run/predict", json=body)
        response.raise_for_status()
        return response.json()["data"]

    async def open(self) -> PageSession:
        """Load the page: the session's state exists before the first message, as a browser's does."""
        await open_page(self.queue, self.endpoints)
        return self

    async def send(self, message: str) -> QueueResult:
        """One turn, from Enter to the textbox being enabled again; the submit event's result."""
        ep = self.endpoints
        # ChatInterface's internal steps: no parameter names, so their data is positional, as the page sends it.
        await self._direct(ep.save_textbox, [message])
        self.chatbot = (await self._direct(ep.append_message, [None, self.chatbot]))[0]
        result = await self.queue.call(ep.submit.index, ep.submit.data())
        if not result.success:
            msg = f"the chat turn failed: {result.error}"
            raise RuntimeError(msg)
        self.chatbot = result.output[1]
        await self._direct(ep.sync_state, [self.chatbot])
        await self.queue.call(ep.enable_textbox.index, [])
        return result

    async def rewind(self) -> None:
        """Forget the last turn, as the chat's Undo does, so the next reply sees the same history again."""
        self.chatbot = self.chatbot[:-2]
        await self._direct(self.endpoints.sync_state, [self.chatbot])


async def _call(session: QueueSession, endpoint: NamedEvent, text: str) -> QueueResult:
    result = await session.call(endpoint.index, endpoint.data(text))
    if not result.success:
        msg = f"/{endpoint.name} failed: {result.error}"
        raise RuntimeError(msg)
    return result


async def chat_turn(session: QueueSession, endpoints: Endpoints, message: str) -> QueueResult:
    """One turn through the ``/chat`` API (the history is the session's gr.State)."""
    return await _call(session, endpoints.chat, message)


async def single_turn(session: QueueSession, endpoints: Endpoints, prompt: str) -> QueueResult:
    return await _call(session, endpoints.single_turn, prompt)
