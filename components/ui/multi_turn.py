"""The Multi-turn tab: a ChatInterface whose whole history is sent each turn, its settings beside it,
each reply followed by its run card, and the Save and load panel under it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.chat import conversation, params
from components.chat.cards import card_message, format_card
from components.chat.params import InvalidRequestError
from components.chat.service import Ask, ChatService
from components.ui import controls as widgets
from components.ui import saving
from components.ui.bounds import BoundedChatbot, BoundedTextbox
from components.ui.endpoints import endpoint
from components.ui.requests import UNCHANGED_PANELS, messages_json, session_of, tracked_reply, visitor
from components.ui.saved_chats import SavedChatsInterface
from components.writer.records import ReplyUpdate

TAB = "chat"  # its name in the in-flight registry
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
CHAT_HINT = f"Enter sends · Shift+Enter adds a line · Esc stops · `{MESSAGES_COMMAND}` shows the messages kept so far"


def chat_message(update: ReplyUpdate, trimmed: int, context_tokens: int) -> str | list[dict[str, Any]]:
    """What the chat shows for a reply: its text, with notices around it when there is news."""
    shown: list[dict[str, Any]] = []
    if trimmed:
        note = f"The {trimmed} oldest messages were left out to fit the context budget ({context_tokens:,} tokens)."
        shown.append(conversation.notice("✂️ Conversation trimmed", note))
    if update.status:
        shown.append(conversation.notice("⏳ Retrying", update.status))
    if update.text:
        shown.append({"role": "assistant", "content": update.text})
    if update.info.error is not None:
        title = "⚠️ Reply interrupted" if update.interrupted else "⚠️ Request failed"
        shown.append(conversation.notice(title, update.info.error))
    if update.done and update.text:
        shown.append(card_message(update.info))  # each reply keeps its own card, under it
    if len(shown) == 1 and not conversation.is_notice(shown[0]):
        return update.text  # the common case: just the reply
    return shown


def with_reply(shown: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The chat with its last reply's text as the handler last sent it (the page may be one update behind)."""
    for index in range(len(shown) - 1, -1, -1):
        message = shown[index]
        if message.get("role") == "user":
            break  # this turn has no reply message yet
        if message.get("role") == "assistant" and not conversation.is_notice(message):
            return [*shown[:index], {**message, "content": text}, *shown[index + 1 :]]
    return [*shown, {"role": "assistant", "content": text}] if text else shown


@dataclass(frozen=True)
class MultiTurnTab:
    """The tab's components: the ChatInterface and the settings beside it."""

    chat: SavedChatsInterface
    controls: widgets.Controls


def render(service: ChatService, own_key: gr.Textbox, concurrency_limit: int) -> MultiTurnTab:
    """Lay out the tab and wire its events."""
    with gr.Row(equal_height=False, elem_id="multi-layout"):
        # The settings column comes first in the page: ChatInterface tucks inputs that are not yet
        # rendered into an accordion of its own. CSS (#chat-column's order) shows the chat first:
        # on the left on a wide screen, on top on a phone, where the settings go below it.
        with gr.Column(scale=1, min_width=260, elem_id="chat-settings"):
            controls = widgets.render_controls(widgets.make_controls("multi", service.models, service.settings.model))
            widgets.render_parameters("multi", controls.sampling)
        # Kept as the /chat endpoint's second output for API callers; the page shows each card in the chat.
        info = gr.Markdown(elem_classes="reply-info", elem_id="chat-info", visible=False, render=False)
        sent = gr.Code(language="json", show_label=False, elem_id="chat-sent", render=False)
        code = widgets.make_code_boxes("multi")
        with gr.Column(scale=3, min_width=320, elem_id="chat-column"):
            chat = _chat(service, [*controls.inputs(own_key)], [info, sent, *code], concurrency_limit)
            _mark_stops(chat, service)
            gr.Markdown(CHAT_HINT, elem_classes="reply-info", elem_id="chat-hint")
            info.render()
            with gr.Accordion("Messages sent with the last request", open=False):
                sent.render()
            widgets.render_code_panel(code)
            saving.render(
                chat_interface=chat,
                controls=controls,
                known_models=lambda: service.models,
                exports=saving.Exports(service.settings.export_bytes_per_hour),
                visitor=lambda request: visitor(service, request),
            )
    return MultiTurnTab(chat, controls)


def _chat(service: ChatService, inputs: list[Any], outputs: list[Any], concurrency_limit: int) -> SavedChatsInterface:
    chat = SavedChatsInterface(
        endpoint(_handler(service), ["message", "history", *widgets.INPUTS], optional=OPTIONAL),
        chatbot=BoundedChatbot(
            height=CHAT_HEIGHT,
            label="Conversation",
            show_label=False,  # its floating label sat on top of the first message
            buttons=["copy", "copy_all"],
            # Each message its own bubble, so that copying a reply leaves its run card out.
            group_consecutive_messages=False,
            elem_id="chatbot",
        ),
        textbox=BoundedTextbox(
            placeholder="Message Palmyra",
            label="Message",
            max_length=conversation.MAX_PROMPT_CHARS,
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
        if isinstance(message, str) and message.strip() == MESSAGES_COMMAND:
            kept = messages_json(conversation.history_to_messages(history, str(system)))
            yield conversation.notice("Messages so far", f"```json\n{kept}\n```"), gr.skip(), *UNCHANGED_PANELS
            return
        try:
            ask = Ask(message, temperature, model, system, own_key, sampling, history)
            plan = service.plan(ask, visitor(service, request))
        except InvalidRequestError as problem:
            yield conversation.notice("⚠️ Nothing sent", problem.message), gr.skip(), *UNCHANGED_PANELS
            return
        update = None
        async for update, panels in tracked_reply(service, plan, stream=not non_streaming, request=request, tab=TAB):
            info = format_card(update.info, interrupted=update.interrupted, status=update.status)
            yield chat_message(update, plan.trimmed, service.settings.context_tokens), info, *panels
        if update is not None and update.info.error:
            gr.Warning(update.info.error, title="Writer request failed")

    return multi_turn


def _mark_stops(chat: SavedChatsInterface, service: ChatService) -> None:
    """Beside ChatInterface's own Stop step (which cancels the reply): mark the reply as stopped."""

    async def after_chat_stop(shown: list[dict[str, Any]], request: gr.Request) -> tuple[Any, Any]:
        """Stop in the chat: the partial reply stays, and its run card says it was stopped, and when."""
        stopped = await service.runs.take_stopped_reply(session_of(request), TAB)
        if stopped is None:
            return gr.skip(), gr.skip()
        card, text = stopped
        marked = [*with_reply(shown or [], text), card_message(card)]
        return marked, marked  # shown, and kept for the next turn (where the card, a notice, is skipped)

    chat.textbox.stop(
        after_chat_stop,
        inputs=[chat.chatbot],
        outputs=[chat.chatbot, chat.chatbot_state],
        queue=False,
        api_visibility="private",
    )
