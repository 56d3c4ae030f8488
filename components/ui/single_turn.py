"""The Single-turn tab: one prompt, one reply; only the system message and the prompt are sent."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.chat import conversation, params, token_view
from components.chat.cards import format_card
from components.chat.params import InvalidRequestError
from components.chat.service import Ask, ChatService
from components.ui import builtin_panel, tool_rounds
from components.ui import controls as widgets
from components.ui.bounds import BoundedTextbox
from components.ui.chat_replies import as_markdown, as_messages, chat_message, reply_markdown, tokens_of
from components.ui.endpoints import endpoint
from components.ui.requests import CLEARED_PANELS, session_of, tracked_reply, visitor

TAB = "single"  # its name in the in-flight registry and in element ids
STOPPED_MARK = "⏹️ *Stopped by you.*"  # where the reply is; its card says when


@dataclass(frozen=True)
class SingleTurnTab:
    """The tab's components."""

    prompt: gr.Textbox
    submit: gr.Button
    stop: gr.Button
    response: gr.Markdown
    info: gr.Markdown
    sent: gr.Code
    code: list[gr.Code]
    controls: widgets.Controls
    tokens: gr.HTML
    results: tool_rounds.ResultsPanel
    exchange: gr.State  # this prompt's messages in the chat's form: its tool calls, results and replies

    def outputs(self) -> list[Any]:
        """What a reply updates, in the handlers' order."""
        return [self.response, self.info, self.sent, *self.code, self.tokens, self.exchange]


def render(service: ChatService, own_key: gr.Textbox, concurrency_limit: int) -> SingleTurnTab:
    """Lay out the tab and wire its events."""
    tab = _layout(service, own_key)
    _wire(tab, service, own_key, concurrency_limit)
    return tab


def _layout(service: ChatService, own_key: gr.Textbox) -> SingleTurnTab:
    with gr.Row():
        with gr.Column(scale=3):
            prompt = BoundedTextbox(
                label="Prompt",
                lines=3,
                max_length=conversation.MAX_PROMPT_CHARS,
                placeholder="Ask Palmyra anything (Ctrl+Enter sends)",
                elem_id="prompt",
            )
            with gr.Row():
                submit = gr.Button("Submit", variant="primary", elem_id="submit")
                stop = gr.Button("Stop", variant="stop", interactive=False, elem_id="stop")
            gr.Markdown("**Response**", elem_classes="output-label")  # gr.Markdown does not show its label
            response = gr.Markdown(
                label="Response", show_label=True, container=True, buttons=["copy"], min_height=120, elem_id="response"
            )
            info = gr.Markdown(elem_classes="reply-info", elem_id="single-info")
            results = tool_rounds.render_panel(TAB)
            with gr.Accordion("Token probabilities", open=False, elem_id="single-tokens-panel"):
                tokens = gr.HTML(token_view.EMPTY, elem_id="single-tokens")
        with gr.Column(scale=2):
            controls = widgets.render_controls(widgets.make_controls(TAB, service.models, service.settings.model))
            widgets.render_parameters(TAB, controls.sampling, builtin_panel.Account(service, own_key))
    with gr.Accordion("Messages sent", open=False):
        sent = gr.Code(language="json", show_label=False, elem_id="single-sent")
    code = widgets.render_code_panel(widgets.make_code_boxes(TAB))
    exchange = gr.State([])
    return SingleTurnTab(prompt, submit, stop, response, info, sent, code, controls, tokens, results, exchange)


def _wire(tab: SingleTurnTab, service: ChatService, own_key: gr.Textbox, concurrency_limit: int) -> None:
    async def single_turn(
        prompt: object, temperature: object, non_streaming: object, model: object, system: object, own_key: object,
        request: gr.Request | None, **sampling: object,
    ) -> AsyncIterator[tuple[Any, ...]]:  # fmt: skip
        """One prompt, one reply: only the system message and the prompt are sent.

        Failures are shown (metadata panel and a toast), not raised: after a raised error
        Gradio 6.31's front end skips the follow-up that gives the Submit button back.
        Only input that the page cannot produce (a direct API call) raises.
        """
        try:
            ask = Ask(prompt, temperature, model, system, own_key, sampling)
            plan = service.plan(ask, visitor(service, request))
        except InvalidRequestError as problem:
            if problem.from_api_only:
                raise gr.Error(problem.message, title="Invalid request") from None
            gr.Warning(problem.message, title="Nothing sent")
            # The previous reply is cleared: under this message it would read as this request's answer.
            yield "", f"⚠️ **Nothing sent:** {problem.message}", *CLEARED_PANELS, "", []
            return
        update = None
        replies = tracked_reply(service, plan, stream=not non_streaming, request=request, tab=TAB)
        async for update, panels in replies:
            card = format_card(update.info, interrupted=update.interrupted, status=update.status)
            if update.done:  # what a results turn continues from
                exchange = [{"role": "user", "content": prompt}, *as_messages(chat_message(update, 0, 0))]
                yield reply_markdown(update), card, *panels, tokens_of(update), exchange
            else:
                yield reply_markdown(update), card, *panels, tokens_of(update), gr.skip()
        if update is not None and update.info.error:
            gr.Warning(update.info.error, title="Writer request failed")

    after = _after(service)
    triggers = [tab.submit.click, tab.prompt.submit]
    private: dict[str, Any] = {"queue": False, "api_visibility": "private"}
    gr.on(triggers, _busy, outputs=[tab.submit, tab.stop], **private)
    run = gr.on(
        triggers,
        endpoint(single_turn, ["prompt", *widgets.INPUTS], optional=["own_key", *params.NAMES]),
        inputs=[tab.prompt, *tab.controls.inputs(own_key)],
        outputs=tab.outputs(),
        api_name="single_turn",
        concurrency_limit=concurrency_limit,
        show_progress="minimal",
    )
    after_outputs = [tab.submit, tab.stop, tab.response, tab.info, *tab.results.outputs()]
    run.then(after, inputs=[tab.exchange, tab.results.calls], outputs=after_outputs, **private)
    send = _wire_results(tab, service, own_key, concurrency_limit)
    send.then(after, inputs=[tab.exchange, tab.results.calls], outputs=after_outputs, **private)
    tab.stop.click(_idle, outputs=[tab.submit, tab.stop], cancels=[run, send], **private)


def _after(service: ChatService) -> Any:
    async def after(exchange: list[dict[str, Any]], calls: list[str], request: gr.Request) -> tuple[Any, ...]:
        """After the reply (or Stop): Submit back, a stopped reply marked where it is and on its card, and a
        box for each call it made."""
        pending = tool_rounds.panel_for_history(exchange, calls)
        stopped = await service.runs.take_stopped_reply(session_of(request), TAB)
        if stopped is None:
            return *_idle(), gr.skip(), gr.skip(), *pending
        card, text = stopped
        return *_idle(), f"{text}\n\n{STOPPED_MARK}", format_card(card), *tool_rounds.HIDDEN

    return after


def _wire_results(tab: SingleTurnTab, service: ChatService, own_key: gr.Textbox, concurrency_limit: int) -> Any:
    """Send results: the exchange goes on with the boxes' texts, shown below the prompt like a reply."""
    private: dict[str, Any] = {"queue": False, "api_visibility": "private"}
    sending = [tab.submit, tab.stop, tab.results.send]
    return tab.results.send.click(lambda: (*_busy(), tool_rounds.SENDING), outputs=sending, **private).then(
        _shown_as_markdown(tool_rounds.from_boxes(service, TAB, widgets.INPUTS)),
        inputs=[tab.exchange, *tab.results.boxes, *tab.controls.inputs(own_key)],
        outputs=tab.outputs(),
        api_visibility="private",
        concurrency_limit=concurrency_limit,
        show_progress="minimal",
    )


def _shown_as_markdown(send: Any) -> Any:
    """The results turn for a tab without a chat: the exchange after the prompt, as Markdown, and kept."""

    async def send_here(*args: Any, **kwargs: Any) -> Any:
        async for shown, *rest in send(*args, **kwargs):
            if isinstance(shown, list):
                yield as_markdown(shown[1:]), *rest[:-1], shown  # the calls' boxes are the after step's
            else:
                yield shown, *rest[:-1], gr.skip()

    send_here.__signature__ = inspect.signature(send)  # type: ignore[attr-defined]
    send_here.__annotations__ = send.__annotations__
    return send_here


def _busy() -> tuple[Any, Any]:
    """Show that a reply is being generated, as the notebook did: Submit disabled, Stop enabled."""
    return gr.update(value="Generating…", interactive=False), gr.update(interactive=True)


def _idle() -> tuple[Any, Any]:
    return gr.update(value="Submit", interactive=True), gr.update(interactive=False)
