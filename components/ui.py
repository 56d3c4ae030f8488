"""The Gradio UI: a Single-turn tab and a Multi-turn ChatInterface tab over the shared chat logic.

The only module that knows both Gradio and the chat logic. Each tab's handler is an
async generator over ``chat.generate_reply``, so Stop, a closed tab or a dropped client
closes the upstream request. History lives in the Gradio session (ChatInterface's
state), never in module globals.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import gradio as gr
from writerai import AsyncWriter

from components import chat, client, compare_tab, saving, snippets, widgets
from components.cards import card_message, format_card
from components.chat import InvalidRequestError, ReplyUpdate, Sampling
from components.compare import Cell, fan_out
from components.limits import RateLimiter

CHAT_HEIGHT = 520  # px; inside a tab the chatbot otherwise keeps Gradio's cramped 400 px default
# Handlers are async and I/O-bound: they hold no thread while waiting on Writer, so many
# visitors can stream at once. Gradio's default of 1 per event would queue every visitor
# behind the first; the bound keeps a flood on a public link from exhausting the server.
CONCURRENCY_LIMIT = 64
# Gradio keeps each session's state (the conversation) in memory and forgets the least recently
# used sessions beyond this many: the server's memory stays bounded however many visitors come.
SESSION_CAPACITY = 2_000
EXAMPLES = (
    "What's the fastest land animal?",
    "I need some synonyms for 'awesome'",
    "What's the fastest bird?",
    "Tell me more",
)
MESSAGES_COMMAND = "!messages"  # the cookbook's command: show the message list kept so far
OFFLINE_NOTICE = (
    "**Offline demo mode.** No `WRITER_API_KEY` is set, so replies come from a local stand-in that "
    "echoes your prompt and the settings it received. To chat with Palmyra now, enter your own key "
    "under “Your Writer API key” below (it says where your requests then go); no restart needed. To "
    "give the app a key of its own, set `WRITER_API_KEY` in the environment or in `.env` (on Hugging "
    "Face Spaces: a Space secret) and restart the app."
)
VISITOR_KEY_REQUIRED = (
    "This app asks each visitor to use their own Writer API key: enter it under "
    "“Your Writer API key” at the top of the page."
)
CSS = """
#offline-notice { border: 1px solid var(--color-accent); border-radius: var(--radius-lg); padding: 0.5rem 1rem; }
.reply-info { font-size: var(--text-sm); color: var(--body-text-color-subdued); }
"""
# Options for demo.launch(): Gradio 6 takes theme and css there. SSR stays off: its Node
# server outlived the app and held the port (shared/gradio-facts.md).
# Run history is off: it saves every call's inputs in the browser (a visitor's key included) and
# offers to upload them to a Hugging Face bucket.
LAUNCH_OPTIONS: dict[str, Any] = {
    "theme": gr.themes.Default(primary_hue="indigo"),
    "css": CSS,
    "ssr_mode": False,
    "run_history": False,
    "state_session_capacity": SESSION_CAPACITY,
    # Gradio's own input checks (a slider given "abc") then reach API callers in words rather than as a
    # generic failure. Our handlers raise only gr.Error, and catch every SDK error, so nothing else leaks.
    "show_error": True,
    "footer_links": ["api", "gradio", "settings"],
}


@dataclass(frozen=True)
class Plan:
    """A checked request, ready to send."""

    messages: list[dict[str, str]]
    temperature: float
    model: str
    sampling: Sampling
    visitor_key: str | None  # the visitor's own key, for this request only
    trimmed: int  # how many old messages were left out to fit the context budget


def _visitor_id(request: gr.Request | None, *, by_ip: bool) -> str:
    """Whom the rate limit counts: the Gradio session, or the client's address behind a proxy."""
    if request is None:
        return "anonymous"
    if by_ip:
        # Hugging Face's proxy puts the visitor's address first in X-Forwarded-For.
        forwarded = (request.headers.get("x-forwarded-for") or "").split(",")[0].strip()
        return forwarded or (request.client.host if request.client else "unknown")
    return request.session_hash or "anonymous"


def _notice(title: str, text: str) -> dict[str, Any]:
    """A chat message that the user sees and the model never does (see chat.is_notice)."""
    return {"role": "assistant", "content": text, "metadata": {"title": title}}


def _chat_message(update: ReplyUpdate, trimmed: int, context_tokens: int) -> str | list[dict[str, Any]]:
    """What the chat shows for a reply: its text, with notices around it when there is news."""
    shown: list[dict[str, Any]] = []
    if trimmed:
        note = f"The {trimmed} oldest messages were left out to fit the context budget ({context_tokens:,} tokens)."
        shown.append(_notice("✂️ Conversation trimmed", note))
    if update.status:
        shown.append(_notice("⏳ Retrying", update.status))
    if update.text:
        shown.append({"role": "assistant", "content": update.text})
    if update.info.error is not None:
        title = "⚠️ Reply interrupted" if update.interrupted else "⚠️ Request failed"
        shown.append(_notice(title, update.info.error))
    if update.done and update.text:
        shown.append(card_message(update.info))  # each reply keeps its own card, under it
    if len(shown) == 1 and "metadata" not in shown[0]:
        return update.text  # the common case: just the reply
    return shown


# Outputs after the reply and its card: the messages sent and the three copy-as-code boxes.
_UNCHANGED_PANELS = (gr.skip(),) * 4


def _snippets_when_done(update: ReplyUpdate) -> tuple[Any, ...]:
    """Copy-as-code for the request just made, built from its record once the reply is complete."""
    return snippets.all_snippets(update.info.request) if update.done else (gr.skip(),) * len(widgets.CODE_FLAVOURS)


def _messages_json(messages: list[dict[str, str]]) -> str:
    return json.dumps(messages, indent=2, ensure_ascii=False)


def build_demo(settings: client.Settings) -> gr.Blocks:
    """The whole app for these settings. Nothing here touches the network until a visitor acts."""
    model_choices = list(dict.fromkeys([settings.model, *client.FALLBACK_MODELS]))
    listed_models: list[str] = []  # filled from GET /v1/models on the first page load

    # Every model dropdown, with the choices it shows before the models (the compare tab's "(none)").
    model_dropdowns: list[tuple[gr.Dropdown, list[str]]] = []

    async def refresh_models() -> list[Any]:
        if not listed_models:
            listed_models.extend(await client.list_models(client.client_for(settings)))
        choices = list(dict.fromkeys([settings.model, *listed_models]))
        return [gr.update(choices=[*before, *choices]) for _, before in model_dropdowns]

    limiter = RateLimiter(settings.rate_limit_per_minute)

    def prepare(
        history: list[dict[str, Any]],
        prompt: object,
        temperature: object,
        model: object,
        system: object,
        own_key: object,
        sampling: tuple[object, object, object],
        request: gr.Request | None,
        *,
        extra_models: Sequence[object] = (),  # the compare tab's second model
        count: int = 1,  # requests this plan will make (the compare tab makes several at once)
    ) -> Plan:
        """Check everything before anything is sent; raises InvalidRequestError with a message for the user."""
        known_models = [*model_choices, *listed_models]
        checked_temperature = chat.check_parameters(temperature, model, known_models)
        for other in extra_models:
            chat.check_parameters(temperature, other, known_models)
        checked_prompt = chat.check_prompt(prompt, system)
        checked_sampling = chat.check_sampling(*sampling)
        visitor_key = own_key.strip() if isinstance(own_key, str) and own_key.strip() else None
        if settings.visitor_key_required and not visitor_key:
            raise InvalidRequestError(VISITOR_KEY_REQUIRED)
        wait = limiter.acquire(_visitor_id(request, by_ip=settings.rate_limit_by_ip), count)
        if wait is not None:
            per = "address" if settings.rate_limit_by_ip else "session"
            asked = f" ({count} asked for at once)" if count > 1 else ""
            msg = (
                f"Too many requests: this app allows {settings.rate_limit_per_minute} a minute per {per}{asked}. "
                f"Try again in {math.ceil(wait)} s."
            )
            raise InvalidRequestError(msg)
        messages = chat.build_messages(history, checked_prompt, str(system))
        messages, trimmed = chat.fit_to_context(messages, settings.context_tokens)
        return Plan(messages, checked_temperature, str(model), checked_sampling, visitor_key, trimmed)

    def reply(
        writer: AsyncWriter, plan: Plan, *, model: str, temperature: float, stream: bool
    ) -> AsyncIterator[ReplyUpdate]:
        """The reply generator for a checked plan: the one path every tab's requests take."""
        return chat.generate_reply(
            writer,
            plan.messages,
            model=model,
            temperature=temperature,
            stream=stream,
            sampling=plan.sampling,
            retry=settings.retry,
        )

    async def replies(plan: Plan, non_streaming: object) -> AsyncIterator[ReplyUpdate]:
        async with (
            client.writer_for(settings, plan.visitor_key) as writer,
            aclosing(
                reply(writer, plan, model=plan.model, temperature=plan.temperature, stream=not non_streaming)
            ) as updates,
        ):
            async for update in updates:
                yield update

    async def run_cells(plan: Plan, cells: list[Cell]) -> AsyncIterator[list[ReplyUpdate | None]]:
        """The compare tab's cells, all at once on one client, through the same reply generator."""
        async with client.writer_for(settings, plan.visitor_key) as writer:
            cell_replies = [
                reply(writer, plan, model=cell.model, temperature=cell.temperature, stream=cell.stream)
                for cell in cells
            ]
            async with aclosing(fan_out(cell_replies)) as snapshots:
                async for snapshot in snapshots:
                    yield snapshot

    async def single_turn(
        prompt: str,
        temperature: float,
        non_streaming: bool,
        model: str,
        system: str,
        own_key: str,
        top_p: str = "",  # defaults make them optional for API callers; text as the page sends it
        max_tokens: str = "",
        stop: str = "",
        request: gr.Request | None = None,
    ) -> AsyncIterator[tuple[Any, ...]]:
        """One prompt, one reply: only the system message and the prompt are sent.

        Failures are shown (metadata panel and a toast), not raised: after a raised error
        Gradio 6.31's front end skips the follow-up that gives the Submit button back.
        Only input that the page cannot produce (a direct API call) raises.
        """
        try:
            plan = prepare([], prompt, temperature, model, system, own_key, (top_p, max_tokens, stop), request)
        except InvalidRequestError as problem:
            if problem.from_api_only:
                raise gr.Error(problem.message, title="Invalid request") from None
            gr.Warning(problem.message, title="Nothing sent")
            yield gr.skip(), f"⚠️ **Nothing sent:** {problem.message}", *_UNCHANGED_PANELS
            return
        sent = _messages_json(plan.messages)
        async with aclosing(replies(plan, non_streaming)) as updates:
            async for update in updates:
                card = format_card(update.info, interrupted=update.interrupted, status=update.status)
                yield update.text, card, sent, *_snippets_when_done(update)
        if update.info.error:
            gr.Warning(update.info.error, title="Writer request failed")

    async def multi_turn(
        message: str,
        history: list[dict[str, Any]],
        temperature: float,
        non_streaming: bool,
        model: str,
        system: str,
        own_key: str,
        top_p: str = "",  # defaults make them optional for API callers; text as the page sends it
        max_tokens: str = "",
        stop: str = "",
        request: gr.Request | None = None,
    ) -> AsyncIterator[tuple[Any, ...]]:
        """One turn of the conversation: the whole history is sent, notices and failed turns left out.

        Errors are shown, never raised: an exception escaping a ChatInterface generator
        leaves its textbox disabled until reload (Gradio 6.31, shared/gradio-facts.md).
        """
        if isinstance(message, str) and message.strip() == MESSAGES_COMMAND:
            kept = _messages_json(chat.history_to_messages(history, str(system)))
            yield _notice("Messages so far", f"```json\n{kept}\n```"), gr.skip(), *_UNCHANGED_PANELS
            return
        try:
            sampling = (top_p, max_tokens, stop)
            plan = prepare(history, message, temperature, model, system, own_key, sampling, request)
        except InvalidRequestError as problem:
            yield _notice("⚠️ Nothing sent", problem.message), gr.skip(), *_UNCHANGED_PANELS
            return
        sent = _messages_json(plan.messages)
        async with aclosing(replies(plan, non_streaming)) as updates:
            async for update in updates:
                info = format_card(update.info, interrupted=update.interrupted, status=update.status)
                shown = _chat_message(update, plan.trimmed, settings.context_tokens)
                yield shown, info, sent, *_snippets_when_done(update)
        if update.info.error:
            gr.Warning(update.info.error, title="Writer request failed")

    # delete_cache: exports and uploads are deleted an hour after they were made.
    cache_limits = (saving.EXPORT_MAX_AGE, saving.EXPORT_MAX_AGE)
    with gr.Blocks(title="Palmyra Chat", analytics_enabled=False, delete_cache=cache_limits) as demo:
        gr.Markdown("# Palmyra Chat\nChat completions with Writer's Palmyra models.")
        if settings.offline:
            gr.Markdown(OFFLINE_NOTICE, elem_id="offline-notice")
        with gr.Accordion("Your Writer API key", open=settings.visitor_key_required, elem_id="own-key-panel"):
            own_key = gr.Textbox(
                "",  # a default, so API callers may leave it out
                type="password",
                show_label=False,
                placeholder="Optional: your own key, used for your requests only"
                if not settings.visitor_key_required
                else "Required: your own Writer API key",
                info=f"Sent to {client.visitor_key_host(settings)} with each of your requests and used only "
                "for them: never stored, logged or shown.",
                elem_id="own-key",
            )

        with gr.Tab("Single-turn", id="single-turn"):
            with gr.Row():
                with gr.Column(scale=3):
                    prompt = gr.Textbox(label="Prompt", lines=3, placeholder="Ask Palmyra anything", elem_id="prompt")
                    with gr.Row():
                        submit = gr.Button("Submit", variant="primary", elem_id="submit")
                        stop = gr.Button("Stop", variant="stop", interactive=False, elem_id="stop")
                    gr.Markdown("**Response**", elem_classes="output-label")  # gr.Markdown does not show its label
                    response = gr.Markdown(
                        label="Response",
                        show_label=True,
                        container=True,
                        buttons=["copy"],
                        min_height=120,
                        elem_id="response",
                    )
                    single_info = gr.Markdown(elem_classes="reply-info", elem_id="single-info")
                with gr.Column(scale=2):
                    single_controls = widgets.render_controls(
                        widgets.make_controls("single", model_choices, settings.model)
                    )
                    widgets.render_parameters(single_controls.top_p, single_controls.max_tokens, single_controls.stop)
            with gr.Accordion("Messages sent", open=False):
                single_sent = gr.Code(language="json", show_label=False, elem_id="single-sent")
            single_code = widgets.render_code_panel(widgets.make_code_boxes("single"))

            triggers = [submit.click, prompt.submit]
            gr.on(triggers, _busy, outputs=[submit, stop], queue=False, api_visibility="private")
            run = gr.on(
                triggers,
                single_turn,
                inputs=[prompt, *single_controls.inputs(own_key)],
                outputs=[response, single_info, single_sent, *single_code],
                api_name="single_turn",
                concurrency_limit=CONCURRENCY_LIMIT,
                show_progress="minimal",
            )
            run.then(_idle, outputs=[submit, stop], queue=False, api_visibility="private")
            stop.click(_idle, outputs=[submit, stop], cancels=[run], queue=False, api_visibility="private")

        with gr.Tab("Multi-turn", id="multi-turn"):
            # Rendered before the ChatInterface: it would otherwise tuck them into its own accordion.
            with gr.Row():
                chat_controls = widgets.render_controls(widgets.make_controls("multi", model_choices, settings.model))
                with gr.Column():
                    widgets.render_parameters(chat_controls.top_p, chat_controls.max_tokens, chat_controls.stop)
            chat_info = gr.Markdown(elem_classes="reply-info", elem_id="chat-info", render=False)
            chat_sent = gr.Code(language="json", show_label=False, elem_id="chat-sent", render=False)
            chat_code = widgets.make_code_boxes("multi")
            conversation = gr.ChatInterface(
                multi_turn,
                chatbot=gr.Chatbot(
                    height=CHAT_HEIGHT,
                    label="Conversation",
                    buttons=["copy", "copy_all"],
                    # Each message its own bubble, so that copying a reply leaves its run card out.
                    group_consecutive_messages=False,
                    elem_id="chatbot",
                ),
                textbox=gr.Textbox(
                    placeholder=f"Message Palmyra ({MESSAGES_COMMAND} shows the messages kept so far)",
                    show_label=False,
                    container=False,
                    scale=7,
                    submit_btn=True,
                    stop_btn=True,
                    elem_id="chat-input",
                ),
                additional_inputs=chat_controls.inputs(own_key),
                additional_outputs=[chat_info, chat_sent, *chat_code],
                examples=[[example] for example in EXAMPLES],
                cache_examples=False,
                editable=True,
                # Conversations kept in the visitor's browser (localStorage), listed in a side panel.
                save_history=True,
                api_name="chat",
                concurrency_limit=CONCURRENCY_LIMIT,
                fill_height=False,
            )
            if settings.history_key:
                conversation.saved_conversations.secret = settings.history_key
            # Stable handles for the side panel that ChatInterface builds without any.
            conversation.chat_history_dataset.elem_id = "saved-chats"
            conversation.new_chat_button.elem_id = "new-chat"
            chat_info.render()
            with gr.Accordion("Messages sent with the last request", open=False):
                chat_sent.render()
            widgets.render_code_panel(chat_code)
            saving.render(
                chat_interface=conversation,
                controls=chat_controls,
                known_models=lambda: list(dict.fromkeys([*model_choices, *listed_models])),
            )

        with gr.Tab("Compare", id="compare"):
            compare_dropdowns = compare_tab.render(
                model_choices=model_choices,
                default_model=settings.model,
                own_key=own_key,
                prepare=prepare,
                run_cells=run_cells,
                concurrency_limit=CONCURRENCY_LIMIT,
            )

        model_dropdowns.extend([(single_controls.model, []), (chat_controls.model, []), *compare_dropdowns])
        dropdowns = [dropdown for dropdown, _ in model_dropdowns]
        demo.load(refresh_models, outputs=dropdowns, api_visibility="private")
    _list_saved_chats_after_storage_is_read(demo, conversation)
    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT)
    return demo


def _list_saved_chats_after_storage_is_read(demo: gr.Blocks, conversation: gr.ChatInterface) -> None:
    """Fill the saved-chats panel only when the browser's storage has been read, not also on page load.

    ChatInterface fills it on both. The load-time request carries the storage's value before
    the browser has read it (empty), and when its answer comes last the panel stays empty: 2
    of 6 reloads here. The storage's change event alone carries the real list.
    """
    for dependency in demo.fns.values():
        if dependency.name == "_load_chat_history":
            dependency.targets = [t for t in dependency.targets if t != (conversation._id, "load")]


def _busy() -> tuple[Any, Any]:
    """Show that a reply is being generated, as the notebook did: Submit disabled, Stop enabled."""
    return gr.update(value="Generating…", interactive=False), gr.update(interactive=True)


def _idle() -> tuple[Any, Any]:
    return gr.update(value="Submit", interactive=True), gr.update(interactive=False)
