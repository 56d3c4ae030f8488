"""The chat's tool rounds: a result box per pending call, and the turn that sends the results to the model.

When a reply ends in whole tool calls, the panel under the chat shows a box for each; "Send results"
adds them to the conversation (one result message per call, in the calls' order) and streams the
model's next reply, as a chat turn does. API callers send the same with ``/tool_results``: a list
of ``{"tool_call_id", "content"}``, answering the pending calls of their session's conversation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.chat import tool_turns
from components.chat.cards import format_card
from components.chat.kinds import InvalidRequestError
from components.chat.service import Ask, ChatService
from components.ui.bounds import BoundedTextbox
from components.ui.chat_replies import as_messages, chat_message, tokens_of
from components.ui.endpoints import endpoint
from components.ui.requests import UNCHANGED_PANELS, tracked_reply, visitor
from components.writer.records import ReplyUpdate

MAX_BOXES = 8  # result boxes on the page; Writer's parallel calls seen live are 2 to 4
PRIVATE: dict[str, Any] = {"queue": False, "api_visibility": "private"}
HIDDEN = [
    gr.update(visible=False),
    "",
    *(gr.update(visible=False, value="") for _ in range(MAX_BOXES)),
    gr.update(interactive=True),
    [],
]


@dataclass(frozen=True)
class ResultsPanel:
    """The pending calls' result boxes, the button that sends them, and which calls the boxes are for."""

    group: gr.Column
    heading: gr.Markdown
    boxes: list[gr.Textbox]
    send: gr.Button
    calls: gr.State  # the ids of the calls the boxes answer: while they stay the same, what was typed stays

    def outputs(self) -> list[gr.Component]:
        """What ``panel_for`` updates, in its order."""
        return [self.group, self.heading, *self.boxes, self.send, self.calls]


def render_panel(tab: str, *, render: bool = True) -> ResultsPanel:
    """The panel, hidden until a reply ends in calls (unrendered with ``render=False``: ``.render()`` places it)."""
    with gr.Column(visible=False, variant="panel", elem_id=f"{tab}-tool-results", render=render) as group:
        heading = gr.Markdown(elem_id=f"{tab}-tool-results-heading")
        boxes = [
            BoundedTextbox(
                label=f"Result {number}",
                lines=2,
                max_length=tool_turns.MAX_RESULT_CHARS,
                visible=False,
                elem_id=f"{tab}-tool-result-{number}",
            )
            for number in range(1, MAX_BOXES + 1)
        ]
        send = gr.Button("Send results", variant="primary", elem_id=f"{tab}-send-results")
    calls = gr.State([])  # outside the unrendered column: a State in it is never told of changes
    return ResultsPanel(group, heading, boxes, send, calls)


SENDING = gr.update(interactive=False)  # the send button while its results are on their way


def panel_for_history(history: Sequence[dict[str, Any]] | None, shown: Sequence[str] | None) -> list[Any]:
    """The panel for a conversation: a box for each call its last reply left unanswered.

    A step of its own after a reply, not an output of the streaming handler: Gradio builds a new
    component for each output of each update, even a skipped one (~0.4 ms apiece). While the calls
    are those the boxes already answer (``shown``: their ids), the boxes keep what was typed.
    """
    pending = tool_turns.pending_calls(history or [])
    if [call.id for call in pending] == list(shown or []):
        return [gr.skip(), gr.skip(), *(gr.skip() for _ in range(MAX_BOXES)), gr.update(interactive=True), gr.skip()]
    return panel_for(pending)


def calls_made(update: ReplyUpdate) -> Any:
    """For the ``calls`` state, from a chat reply: the ids of the calls it ended with (a change shows their
    boxes, ``show_boxes``); a State output is cheap to skip, unlike a component's."""
    if not update.done:
        return gr.skip()
    return [call.id for call in update.info.tool_calls] if update.info.calls_complete else []


def show_boxes(history: Sequence[dict[str, Any]] | None, calls: Sequence[str] | None) -> list[Any]:
    """The panel for the calls ``calls`` names (it changed: new calls), boxes empty."""
    return panel_for(tool_turns.calls_with_ids(history or [], calls or []))[:-1]


def panel_for(pending: Sequence[tool_turns.Call]) -> list[Any]:
    """The panel for these calls, its boxes empty; hidden when there is none."""
    if not pending:
        return list(HIDDEN)
    heading = (
        f"**The model called {len(pending)} tool{'s' * (len(pending) > 1)}.** Write what each returned, then send."
    )
    if len(pending) > MAX_BOXES:
        heading += f" This page holds {MAX_BOXES} results; send the rest through the API (`/tool_results`)."
    boxes = [
        gr.update(visible=index < len(pending), value="", label=_label(pending[index]) if index < len(pending) else "")
        for index in range(MAX_BOXES)
    ]
    return [gr.update(visible=True), heading, *boxes, gr.update(interactive=True), [call.id for call in pending]]


def _label(call: tool_turns.Call) -> str:
    arguments = " ".join(call.arguments.split())  # one line, however it was printed
    arguments = arguments if len(arguments) <= 80 else arguments[:80] + "…"
    return f"Result of {call.name}({arguments})"


def results_handler(service: ChatService, tab: str) -> Callable[..., AsyncIterator[tuple[Any, ...]]]:
    """The turn that sends results; per update: the conversation shown, run card, messages sent, snippets, tokens,
    and at its end the calls the new reply made."""

    async def send(
        results: object, history: list[dict[str, Any]], temperature: object, non_streaming: object, model: object,
        system: object, own_key: object, request: gr.Request | None, **sampling: object,
    ) -> AsyncIterator[tuple[Any, ...]]:  # fmt: skip
        history = list(history or [])
        try:
            answered = [*history, *tool_turns.answer(tool_turns.pending_calls(history), results)]
            ask = Ask("", temperature, model, system, own_key, sampling, answered, after_tool_results=True)
            plan = service.plan(ask, visitor(service, request))
        except InvalidRequestError as problem:
            gr.Warning(problem.message, title="Nothing sent")
            yield gr.skip(), f"⚠️ **Nothing sent:** {problem.message}", *UNCHANGED_PANELS, gr.skip(), gr.skip()
            return
        yield answered, gr.skip(), *UNCHANGED_PANELS, "", gr.skip()
        async for update, panels in tracked_reply(service, plan, stream=not non_streaming, request=request, tab=tab):
            shown = [*answered, *as_messages(chat_message(update, plan.trimmed, service.settings.context_tokens))]
            info = format_card(update.info, interrupted=update.interrupted, status=update.status)
            yield shown, info, *panels, tokens_of(update), calls_made(update)

    return send


def from_boxes(service: ChatService, tab: str, inputs: Sequence[str]) -> Callable[..., Any]:
    """The page's send: the boxes' texts as results for the pending calls, in order."""
    send = results_handler(service, tab)
    boxes = [f"result_{number}" for number in range(1, MAX_BOXES + 1)]

    async def send_from_page(history: list[dict[str, Any]], **arguments: Any) -> Any:
        texts = [arguments.pop(box) for box in boxes]
        pending = tool_turns.pending_calls(history or [])
        results = [{"tool_call_id": call.id, "content": text or ""} for call, text in zip(pending, texts, strict=False)]
        async for update in send(results, history, **arguments):
            yield update

    return endpoint(send_from_page, ["history", *boxes, *inputs])


def api_endpoint(service: ChatService, tab: str, inputs: Sequence[str], optional: Sequence[str]) -> Callable[..., Any]:
    """``/tool_results``: the session's conversation continued with the caller's results."""
    send = results_handler(service, tab)

    async def tool_results(results: object, history: list[dict[str, Any]], **arguments: Any) -> Any:
        async for shown, *rest in send(results, history, **arguments):
            if isinstance(shown, list):
                yield shown[len(history or []) :], shown, *rest  # the new messages, and the whole conversation
            else:
                yield gr.skip(), gr.skip(), *rest

    return endpoint(tool_results, ["results", "history", *inputs], optional=optional)
