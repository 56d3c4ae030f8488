"""The Multi-turn tab: a ChatInterface whose whole history is sent each turn, its settings beside it,
each reply followed by its run card, and the Save and load panel under it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.chat import conversation, params, token_view
from components.chat.cards import card_message, format_card
from components.chat.params import InvalidRequestError
from components.chat.service import Ask, ChatService
from components.ui import builtin_panel, saving, tool_rounds
from components.ui import controls as widgets
from components.ui.bounds import BoundedChatbot, BoundedMultimodalTextbox
from components.ui.chat_replies import chat_message, tokens_of, with_reply
from components.ui.endpoints import endpoint
from components.ui.requests import UNCHANGED_PANELS, messages_json, session_of, tracked_reply, visitor
from components.ui.saved_chats import SavedChatsInterface

TAB = "chat"  # its name in the in-flight registry
# A round of tool results is tracked apart: its own chain marks its Stop (below), not the chat's Stop step.
RESULTS_TAB = "chat tool results"
CHAT_HEIGHT = 520  # px; inside a tab the chatbot otherwise keeps Gradio's cramped 400 px default
EXAMPLES = (
    "What's the fastest land animal?",
    "I need some synonyms for 'awesome'",
    "What's the fastest bird?",
    "Tell me more",
)
MESSAGES_COMMAND = "!messages"  # the cookbook's command: show the message list kept so far
# Under the chat input, always: a placeholder hint vanished with the first message.
OPTIONAL = ("own_key", *params.NAMES)  # inputs API callers may leave out
PRIVATE: dict[str, Any] = {"queue": False, "api_visibility": "private"}
CHAT_HINT = f"Enter sends · Shift+Enter adds a line · Esc stops · `{MESSAGES_COMMAND}` shows the messages kept so far"


@dataclass(frozen=True)
class MultiTurnTab:
    """The tab's components: the ChatInterface and the settings beside it."""

    chat: SavedChatsInterface
    controls: widgets.Controls


def render(service: ChatService, own_key: gr.Textbox, concurrency_limit: int, exports: saving.Exports) -> MultiTurnTab:
    """Lay out the tab and wire its events."""
    with gr.Row(equal_height=False, elem_id="multi-layout"):
        # The settings column comes first in the page: ChatInterface tucks inputs that are not yet
        # rendered into an accordion of its own. CSS (#chat-column's order) shows the chat first:
        # on the left on a wide screen, on top on a phone, where the settings go below it.
        with gr.Column(scale=1, min_width=260, elem_id="chat-settings"):
            controls = widgets.render_controls(widgets.make_controls("multi", service.models, service.settings.model))
            widgets.render_parameters("multi", controls.sampling, builtin_panel.Account(service, own_key))
        # Kept as the /chat endpoint's second output for API callers; the page shows each card in the chat.
        info = gr.Markdown(elem_classes="reply-info", elem_id="chat-info", visible=False, render=False)
        sent = gr.Code(language="json", show_label=False, elem_id="chat-sent", render=False)
        code = widgets.make_code_boxes("multi")
        tokens = gr.HTML(token_view.EMPTY, elem_id="chat-tokens", render=False)
        results = tool_rounds.render_panel(TAB, render=False)
        outputs = [info, sent, *code, tokens, results.calls]
        with gr.Column(scale=3, min_width=320, elem_id="chat-column"):
            chat = _chat(service, [*controls.inputs(own_key)], outputs, concurrency_limit, under_input=[results.group])
            _mark_stops(chat, service)  # right after ChatInterface's own Stop step, whose cancel goes first
            gr.Markdown(CHAT_HINT, elem_classes="reply-info", elem_id="chat-hint")
            _wire_tool_rounds(chat, results, service, controls.inputs(own_key), outputs)
            info.render()
            with gr.Accordion("Token probabilities of the last reply", open=False, elem_id="chat-tokens-panel"):
                tokens.render()
            with gr.Accordion("Messages sent with the last request", open=False):
                sent.render()
            widgets.render_code_panel(code)
            saving.render(
                chat_interface=chat,
                controls=controls,
                known_models=lambda: service.models,
                exports=exports,
                visitor=lambda request: visitor(service, request),
            )
    return MultiTurnTab(chat, controls)


def _chat(
    service: ChatService, inputs: list[Any], outputs: list[Any], concurrency_limit: int, *, under_input: list[Any]
) -> SavedChatsInterface:
    chat = SavedChatsInterface(
        endpoint(_handler(service), ["message", "history", *widgets.INPUTS], optional=OPTIONAL),
        under_input=under_input,  # the tool results' boxes, right under the input
        chatbot=BoundedChatbot(
            height=CHAT_HEIGHT,
            label="Conversation",
            show_label=False,  # its floating label sat on top of the first message
            buttons=["copy", "copy_all"],
            # Each message its own bubble, so that copying a reply leaves its run card out.
            group_consecutive_messages=False,
            elem_id="chatbot",
        ),
        multimodal=True,  # images, for palmyra-x5 (components/chat/images.py)
        textbox=BoundedMultimodalTextbox(
            placeholder="Message Palmyra (images: palmyra-x5)",
            label="Message",
            max_plain_text_length=conversation.MAX_PROMPT_CHARS,
            file_types=["image"],
            file_count="multiple",
            sources=["upload"],
            show_label=False,
            container=False,
            scale=7,
            submit_btn=True,
            stop_btn=True,
            elem_id="chat-input",
        ),
        additional_inputs=inputs,
        additional_outputs=outputs,
        examples=[[example] for example in EXAMPLES],
        cache_examples=False,
        editable=True,
        # Conversations kept in the visitor's browser (localStorage), listed in a side panel.
        save_history=True,
        api_name="chat",
        concurrency_limit=concurrency_limit,
        fill_height=False,
    )
    if service.settings.history_key:
        chat.saved_conversations.secret = service.settings.history_key
    # Stable handles for the side panel that ChatInterface builds without any.
    chat.chat_history_dataset.elem_id = "saved-chats"
    chat.new_chat_button.elem_id = "new-chat"
    return chat


def _handler(service: ChatService) -> Any:
    async def multi_turn(
        message: object, history: list[dict[str, Any]], temperature: object, non_streaming: object, model: object,
        system: object, own_key: object, request: gr.Request | None, **sampling: object,
    ) -> AsyncIterator[tuple[Any, ...]]:  # fmt: skip
        """One turn of the conversation: the whole history is sent, notices and failed turns left out.

        Errors are shown, never raised: an exception escaping a ChatInterface generator
        leaves its textbox disabled until reload (Gradio 6.31, shared/gradio-facts.md).
        """
        text, attached = _read_message(message)
        try:
            if isinstance(text, str) and text.strip() == MESSAGES_COMMAND:
                kept = messages_json(conversation.history_to_messages(history, str(system), service.read_image))
                yield conversation.notice("Messages so far", f"```json\n{kept}\n```"), *UNCHANGED
                return
            ask = Ask(text, temperature, model, system, own_key, sampling, history, images=attached)
            plan = service.plan(ask, visitor(service, request))
        except InvalidRequestError as problem:
            yield conversation.notice("⚠️ Nothing sent", problem.message), *UNCHANGED
            return
        update = None
        async for update, panels in tracked_reply(service, plan, stream=not non_streaming, request=request, tab=TAB):
            info = format_card(update.info, interrupted=update.interrupted, status=update.status)
            message = chat_message(update, plan.trimmed, service.settings.context_tokens)
            yield message, info, *panels, tokens_of(update), tool_rounds.calls_made(update)
        if update is not None and update.info.error:
            gr.Warning(update.info.error, title="Writer request failed")

    return multi_turn


UNCHANGED = (gr.skip(), *UNCHANGED_PANELS, gr.skip(), gr.skip())  # every output but the chat's message


def _read_message(message: object) -> tuple[object, list[str]]:
    """A message's text and the paths of its attached files (the page sends both; an API caller may send text)."""
    if isinstance(message, dict):
        return message.get("text", ""), [str(path) for path in message.get("files") or ()]
    return message, []


def _wire_tool_rounds(
    chat: SavedChatsInterface,
    panel: tool_rounds.ResultsPanel,
    service: ChatService,
    inputs: list[gr.Component],
    outputs: list[gr.Component],
) -> None:
    """The result boxes follow the conversation; Send results (or ``/tool_results``) continues it."""
    # A reply that ends in calls sets ``calls`` (an output of the chat's handler): their boxes come up.
    boxes = panel.outputs()[:-1]
    panel.calls.change(tool_rounds.show_boxes, inputs=[chat.chatbot, panel.calls], outputs=boxes, **PRIVATE)
    # A conversation that changes otherwise has nothing pending, and no result can be sent twice.
    hidden = [chat.textbox.submit, chat.chatbot.retry, chat.chatbot.undo, chat.chatbot.edit, chat.chatbot.clear,
              chat.new_chat_button.click, chat.chat_history_dataset.click]  # fmt: skip
    gr.on(hidden, lambda: tool_rounds.HIDDEN, outputs=panel.outputs(), **PRIVATE)
    busy = {"submit_btn": False, "stop_btn": True, "interactive": False}
    sending = (gr.update(**busy), tool_rounds.SENDING)
    send = panel.send.click(lambda: sending, outputs=[chat.textbox, panel.send], **PRIVATE).then(
        tool_rounds.from_boxes(service, RESULTS_TAB, widgets.INPUTS),
        inputs=[chat.chatbot, *panel.boxes, *inputs],
        outputs=[chat.chatbot, *outputs],
        api_visibility="private",
        concurrency_limit=chat.concurrency_limit,
        show_progress="minimal",
    )
    synced = send.then(
        _round_finished(service),
        inputs=chat.chatbot,
        outputs=[chat.chatbot, chat.chatbot_state, chat.chatbot_value],
        **PRIVATE,
    )
    idle = {"submit_btn": True, "stop_btn": False, "interactive": True, "value": None}
    synced.then(lambda: (gr.update(**idle), gr.update(interactive=True)), outputs=[chat.textbox, panel.send],
                **PRIVATE).then(
        chat._save_conversation, inputs=[chat.conversation_id, chat.chatbot_state, chat.saved_conversations],
        outputs=[chat.conversation_id, chat.saved_conversations], **PRIVATE,
    )  # fmt: skip
    chat.textbox.stop(None, cancels=[send], **PRIVATE)
    api = tool_rounds.api_endpoint(service, RESULTS_TAB, widgets.INPUTS, OPTIONAL)
    results = gr.JSON(visible=False, label="results")  # only API callers fill it
    chat.fake_api_btn.click(
        api,
        inputs=[results, chat.chatbot_state, *inputs],
        outputs=[chat.api_response, chat.chatbot_state, *outputs],
        api_name="tool_results",
        concurrency_limit=chat.concurrency_limit,
    )


async def _stopped_and_marked(
    service: ChatService, request: gr.Request, shown: list[dict[str, Any]], tab: str
) -> list[dict[str, Any]] | None:
    """The conversation shown, with the reply Stop ended in ``tab`` (its last text) and that reply's run card
    after it; None when Stop ended no reply there."""
    stopped = await service.runs.take_stopped_reply(session_of(request), tab)
    if stopped is None:
        return None
    card, text = stopped
    return [*with_reply(shown or [], text), card_message(card)]


def _round_finished(service: ChatService) -> Any:
    """After a round of tool results, stopped or not: keep the conversation for the next turn.

    Stop's mark is made here, in the round's own chain, which runs once the cancel is done. A
    separate Stop step would race this one: it reads the page as it is, and may read it unmarked.
    """

    async def round_finished(shown: list[dict[str, Any]], request: gr.Request) -> tuple[Any, Any, Any]:
        marked = await _stopped_and_marked(service, request, shown, RESULTS_TAB)
        if marked is None:
            return gr.skip(), shown, shown
        return marked, marked, marked

    return round_finished


def _mark_stops(chat: SavedChatsInterface, service: ChatService) -> None:
    """Beside ChatInterface's own Stop step (which cancels the reply): mark the reply as stopped."""

    async def after_chat_stop(shown: list[dict[str, Any]], request: gr.Request) -> tuple[Any, Any]:
        """Stop in the chat: the partial reply stays, and its run card says it was stopped, and when."""
        marked = await _stopped_and_marked(service, request, shown, TAB)
        if marked is None:
            return gr.skip(), gr.skip()
        return marked, marked  # shown, and kept for the next turn (where the card, a notice, is skipped)

    # Registered after ChatInterface's Stop step. The page takes a trigger's steps in order, and waits
    # for an unqueued step's answer before the next: registered before a cancel, this step would wait
    # out its whole grace for a reply whose cancel had not been sent yet. (A round of tool results is
    # not this step's: its own chain marks it.)
    chat.textbox.stop(
        after_chat_stop,
        inputs=[chat.chatbot],
        outputs=[chat.chatbot, chat.chatbot_state],
        queue=False,
        api_visibility="private",
    )
