"""What every chat tab's handler does around a request: who the visitor is, whether anyone is
listening, Stop's bookkeeping, and the request's panels (the messages sent, copy as code).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import gradio as gr

from components.chat import images, snippets
from components.chat.service import ChatService, Plan, visitor_of
from components.ui.listeners import LISTENERS
from components.writer.records import ReplyUpdate

# The request's panels: the messages sent and the three copy-as-code boxes.
UNCHANGED_PANELS = (gr.skip(),) * 4
CLEARED_PANELS = ("",) * 4


def visitor(service: ChatService, request: gr.Request | None) -> str:
    """Whom the rate limit counts for this request (see ``visitor_of``)."""
    if request is None:
        return "anonymous"
    peer = request.client.host if request.client else None
    # Several X-Forwarded-For lines are one list (RFC 9110): HAProxy adds its own line after the visitor's.
    headers = request.headers
    lines = headers.getlist("x-forwarded-for") if hasattr(headers, "getlist") else [headers.get("x-forwarded-for")]
    forwarded = ", ".join(line for line in lines if line) or None
    return visitor_of(peer, forwarded, service.settings.trusted_proxy_hops)


def session_of(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None)


def messages_json(messages: list[dict[str, Any]]) -> str:
    """Messages as the page shows them: JSON, each image's data URL cut to its type and size."""
    return json.dumps(images.shortened(messages), indent=2, ensure_ascii=False)


async def tracked_reply(
    service: ChatService, plan: Plan, *, stream: bool, request: gr.Request | None, tab: str
) -> AsyncIterator[tuple[ReplyUpdate, tuple[Any, ...]]]:
    """A chat tab's reply, with the request's panels: sent only when its visitor is listening, and
    noted in ``service.runs`` so that Stop can say what it stopped.

    The panels describe the request, complete before any reply: built once, and the same values go
    with every update (so a stopped reply has them too, and the last is an API caller's whole result).
    Not ``gr.skip()`` in between: Gradio builds a new component for each skipped output of each update
    (~0.2 ms apiece, most of an update's cost), while an unchanged value is compared and sent as no change.
    """
    session = session_of(request)
    if not await LISTENERS.wait_for(session):
        return  # nobody is reading this session's results: send nothing, spend nothing
    panels: tuple[str, ...] = ()
    with service.runs.tracking(session, tab) as note:
        async with aclosing(service.reply(plan, stream=stream)) as updates:
            async for update in updates:
                note(update.info, update.text)
                panels = panels or (messages_json(plan.messages), *snippets.all_snippets(update.info.request))
                yield update, panels
