"""Size bounds on what visitors send, enforced by the server: a page's ``maxlength`` binds only the page.

Anyone with the link can call the app's events directly, with any body. Three layers keep
one visitor from filling the server's memory or disk: a limit on every request's body
(``BodyLimit``), text fields that refuse more than their length (``BoundedTextbox``), and
a chat whose history is refused past ``MAX_HISTORY_BYTES`` whatever event sends it
(``BoundedChatbot``). Gradio keeps each session's copy of the history (twice: ChatInterface's
state and its value), so a session holds at most about ``2 * MAX_HISTORY_BYTES`` of chat.
"""

from __future__ import annotations

import json
from typing import Any

import gradio as gr
from gradio.components.multimodal_textbox import MultimodalData
from pydantic import model_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from components.chat import images
from components.chat.transcript import MAX_IMPORT_BYTES

# A conversation a visitor can keep on the server: the largest file an import takes.
MAX_HISTORY_BYTES = MAX_IMPORT_BYTES
# The largest request body: a whole history (sent back by ChatInterface's sync step) with room for its framing.
MAX_REQUEST_BYTES = 2 * MAX_HISTORY_BYTES


class BoundedTextbox(gr.Textbox):
    """A textbox whose value the server refuses when it is not text, or longer than ``max_length``.

    Gradio's own Textbox turns anything into ``str(payload)``: a list or a dict reached the
    request as its Python repr, and ``true`` as "True". A number is taken as typed.
    """

    is_template = True  # the page draws it as Gradio's own Textbox

    def preprocess(self, payload: Any) -> str | None:
        if payload is None:
            return None
        name = self.label or "This field"
        if isinstance(payload, (int, float)) and not isinstance(payload, bool):
            payload = str(payload)  # API callers may send a parameter as a number: the number as typed
        if not isinstance(payload, str):
            raise gr.Error(f"{name} must be text, not {type(payload).__name__}.", title="Nothing sent")
        if self.max_length is not None and len(payload) > self.max_length:
            msg = f"{name} is {len(payload):,} characters long; the limit is {self.max_length:,}. Nothing was sent."
            raise gr.Error(msg, title="Nothing sent")
        return payload


class TextOrAttachments(MultimodalData):
    """A chat message: its text and the files attached to it. An API caller may send the text alone, as
    before images came, and it is read as a message with no files."""

    @model_validator(mode="before")
    @classmethod
    def _text_alone(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"text": value, "files": []}
        if not isinstance(value, dict) or not isinstance(value.get("text", ""), str):
            msg = 'The message must be text, or {"text": ..., "files": [...]}; nothing was sent.'
            raise gr.Error(msg, title="Nothing sent")
        return value


class BoundedMultimodalTextbox(gr.MultimodalTextbox):
    """The chat's input: text bounded by ``max_plain_text_length`` (which also keeps pasted text text: past it,
    Gradio attaches a paste as a file), and at most ``MAX_FILES`` attachments.

    No ``__init__`` of its own: Gradio reads a component's properties from its constructor's signature.
    """

    is_template = True
    data_model = TextOrAttachments
    MAX_FILES = images.MAX_IMAGES

    def preprocess(self, payload: Any) -> Any:
        if payload is None:
            return None
        if len(payload.text) > self.max_plain_text_length:
            msg = f"The message is {len(payload.text):,} characters long; the limit is {self.max_plain_text_length:,}."
            raise gr.Error(msg + " Nothing was sent.", title="Nothing sent")
        if len(payload.files) > self.MAX_FILES:
            msg = f"{len(payload.files)} files are attached; a message takes {self.MAX_FILES} at most."
            raise gr.Error(msg + " Nothing was sent.", title="Nothing sent")
        return super().preprocess(payload)


class BoundedChatbot(gr.Chatbot):
    """A chat whose history the server refuses past MAX_HISTORY_BYTES, from the page or a direct call alike."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        if payload is not None and history_bytes(payload) > MAX_HISTORY_BYTES:
            msg = (
                f"This conversation is over {MAX_HISTORY_BYTES // 1_000_000} MB, the most the app keeps. "
                "Export it, then start a new chat."
            )
            raise gr.Error(msg, title="Conversation too long")
        return super().preprocess(payload)


def history_bytes(payload: Any) -> int:
    """The size of a chat value as JSON, in bytes (what it costs to keep and to send)."""
    if hasattr(payload, "model_dump_json"):
        return len(payload.model_dump_json().encode())
    return len(json.dumps(payload, ensure_ascii=False, default=str).encode())


class BodyLimit:
    """ASGI middleware: a request whose body passes ``limit`` bytes gets 413, before it is read whole."""

    def __init__(self, app: ASGIApp, limit: int = MAX_REQUEST_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _BodyTooLargeError
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _BodyTooLargeError:
            if not started:
                await _too_large(send, self.limit)


class _BodyTooLargeError(Exception):
    """A chunked body grew past the limit."""


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"The request is larger than {limit:,} bytes."}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
