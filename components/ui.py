"""The Gradio UI: the Single-turn, Multi-turn (a ChatInterface) and Compare tabs over the shared chat logic.

It assembles the page and holds the request policy (key, rate and concurrency limits,
trimming). Each tab's handler is an async generator over ``chat.generate_reply``, so Stop,
a closed tab or a dropped client closes the upstream request. History lives in the Gradio
session (ChatInterface's state), never in module globals.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import gradio as gr
from starlette.middleware import Middleware
from writerai import AsyncWriter

from components import chat, client, compare_tab, saved_chats, saving, snippets, widgets
from components.bounds import MAX_REQUEST_BYTES, BodyLimit, BoundedChatbot, BoundedTextbox
from components.cards import card_message, format_card
from components.chat import InvalidRequestError, ReplyUpdate, Sampling
from components.compare import Cell, fan_out
from components.limits import ConcurrencyLimit, RateLimiter
from components.listeners import LISTENERS, ListenerTracking
from components.runs import InFlight

MAX_KEY_CHARS = 512  # a Writer key is far shorter; a 1 MB one would go upstream as a 1 MB header
CHAT_HEIGHT = 520  # px; inside a tab the chatbot otherwise keeps Gradio's cramped 400 px default
# Handlers are async and I/O-bound: they hold no thread while waiting on Writer, so many
# visitors can stream at once. Gradio's default of 1 per event would queue every visitor
# behind the first; the bound keeps a flood on a public link from exhausting the server.
CONCURRENCY_LIMIT = 64
EXAMPLES = (
    "What's the fastest land animal?",
    "I need some synonyms for 'awesome'",
    "What's the fastest bird?",
    "Tell me more",
)
MESSAGES_COMMAND = "!messages"  # the cookbook's command: show the message list kept so far
# Under the chat input, always: a placeholder hint vanished with the first message.
CHAT_HINT = f"Enter sends · Shift+Enter adds a line · Esc stops · `{MESSAGES_COMMAND}` shows the messages kept so far"
OFFLINE_NOTICE = (
    "**Offline demo mode.** No `WRITER_API_KEY` is set, so replies come from a local stand-in that "
    "echoes your prompt and the settings it received. To chat with Palmyra now, enter your own key "
    "under “Your Writer API key” below (it says where your requests then go); no restart needed. To "
    "give the app a key of its own, set `WRITER_API_KEY` in the environment or in `.env` (on Hugging "
    "Face Spaces: a Space secret) and restart the app."
)
MALFORMED_KEY = (
    "That API key cannot be right: it has a space, a line break or a character outside ASCII. "
    "Copy it again from Writer's dashboard."
)
VISITOR_KEY_REQUIRED = (
    "This app asks each visitor to use their own Writer API key: enter it under "
    "“Your Writer API key” at the top of the page."
)
CSS = """
#offline-notice { border: 1px solid var(--color-accent); border-radius: var(--radius-lg); padding: 0.5rem 1rem; }
.reply-info { font-size: var(--text-sm); color: var(--body-text-color-subdued); }
/* The chat first: left of its settings on a wide screen, above them on a phone. */
#chat-column { order: -1; }
/* Messages start below the chat's clear and copy icons, not under them. */
#chatbot .bubble-wrap { padding-top: var(--size-8); }
#chatbot .top-panel { background: var(--block-background-fill); border-radius: var(--radius-sm); }
/* A reply reads as one block: its text, then its run card as one quiet line that expands. */
#chatbot .message-row:has(.thought-group) .message { border: none; background: none; box-shadow: none; padding: 0; }
#chatbot .thought-group { border: none; background: none; padding: 0 var(--size-2); font-size: var(--text-sm); }
#chatbot .thought-group .title .md { white-space: nowrap; }
/* Contrast: the card's one-line summary and the selected tab's name are read, not decoration. */
#chatbot .thought-group .duration { color: var(--body-text-color); opacity: 0.85; }
button[role="tab"].selected { color: var(--body-text-color); }
#chatbot .message-buttons { margin-top: 0; margin-bottom: 0; }
#chatbot .message-wrap > .message-row { margin-top: var(--size-2); margin-bottom: 0; }
#chatbot .message-wrap > .message-row:has(.thought-group) { margin-top: 0; }
/* A card's own copy button would copy the card: only the last one keeps a row (retry and undo). */
#chatbot .message-row:has(.thought-group) + .message-buttons button[aria-label="Copy message"] { display: none; }
#chatbot .message-row:has(.thought-group) + .message-buttons:not(:has(button[aria-label="Retry"])) { display: none; }
@media (max-width: 640px) {
  /* A phone: the chat's input on the first screen; saved chats below the chat. */
  h1 { font-size: var(--text-xl); margin: 0; }
  #chatbot { height: min(520px, 52vh) !important; }
  #chat-column .row > .column:has(#new-chat) { order: 2; }
}
"""
# Keyboard and screen readers. Ctrl/Cmd+Enter sends from the Single-turn and Compare prompts (Enter there starts a new
# line: they hold several), and Esc presses whichever Stop button is live. The chat's Enter is Gradio's.
KEYBOARD = """
<script>
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    const live = [...document.querySelectorAll(
      '#stop, #chat-input [data-testid="stop-button"], #cmp-stop-button'
    )].find((button) => button.offsetParent !== null && !button.disabled);
    if (live) { event.preventDefault(); live.click(); }
  } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    const send = { "prompt": "#submit", "cmp-prompt": "#cmp-submit" }[event.target.closest("[id]")?.id];
    const button = send && document.querySelector(send);
    if (button && !button.disabled) { event.preventDefault(); button.click(); }
  }
});
// Screen readers: each reply area is a polite live region, marked busy while its reply streams, so that
// it is read once, complete, rather than token by token. Busy while its tab's input is disabled.
const LIVE_REGIONS = [["#response", "#submit"], ["#chatbot [role=log]", "#chat-input textarea"]];
// The chat's icon-only buttons come without a name.
const UNNAMED = [
  ['#chat-input [data-testid="submit-button"]', "Send"],
  ['#chat-input [data-testid="stop-button"]', "Stop"],
];
new MutationObserver(() => {
  for (const [selector, name] of UNNAMED) {
    const button = document.querySelector(selector);
    if (button && !button.getAttribute("aria-label")) button.setAttribute("aria-label", name);
  }
  for (const [region, input] of LIVE_REGIONS) {
    const area = document.querySelector(region);
    const control = document.querySelector(input);
    if (!area || !control) continue;
    if (area.getAttribute("aria-live") !== "polite") area.setAttribute("aria-live", "polite");
    const busy = String(control.disabled);
    if (area.getAttribute("aria-busy") !== busy) area.setAttribute("aria-busy", busy);
  }
}).observe(document.documentElement, {
  subtree: true, childList: true, attributes: true, attributeFilter: ["disabled"],
});
</script>
"""
# Options for demo.launch(): Gradio 6 takes theme and css there. SSR stays off: its Node
# server outlived the app and held the port (shared/gradio-facts.md).
# Run history is off: it saves every call's inputs in the browser (a visitor's key included) and
# offers to upload them to a Hugging Face bucket.
LAUNCH_OPTIONS: dict[str, Any] = {
    # Field hints darker than Gradio's default light grey (about 2:1 on white): they carry the valid ranges.
    "theme": gr.themes.Default(primary_hue="indigo").set(block_info_text_color="*neutral_600"),
    "css": CSS + compare_tab.CSS,
    "head": KEYBOARD,
    "ssr_mode": False,
    "run_history": False,
    # Gradio keeps each session's state (the conversation) and forgets the least recently used beyond this:
    # with components/bounds.py's cap on a session's chat, the server's memory is bounded (README).
    "state_session_capacity": client.Settings.session_capacity,
    # Every request body and upload bounded (components/bounds.py); an import a little over its own limit
    # still reaches the importer, whose message says what the limit is.
    "max_file_size": MAX_REQUEST_BYTES,
    # ListenerTracking: which sessions read their results, so that a join nobody listens to costs no tokens.
    "app_kwargs": {"middleware": [Middleware(BodyLimit, limit=MAX_REQUEST_BYTES), Middleware(ListenerTracking)]},
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
    visitor: str  # whose request it is: their address, as the rate limit counts them


def visitor_address(request: gr.Request | None, trusted_hops: int) -> str:
    """Whom the rate limit counts: the client's address, as the nearest trusted proxy saw it.

    With no trusted proxy it is the peer's address, whatever X-Forwarded-For claims. With N,
    it is the N-th entry from the end of X-Forwarded-For: each proxy appends the address it
    was reached from, so entries before that are the client's own word and can be forged.
    """
    if request is None:
        return "anonymous"
    peer = request.client.host if request.client else "unknown"
    if trusted_hops <= 0:
        return peer
    forwarded = [entry.strip() for entry in (request.headers.get("x-forwarded-for") or "").split(",")]
    forwarded = [entry for entry in forwarded if entry]
    if not forwarded:
        return peer
    return forwarded[-trusted_hops] if len(forwarded) >= trusted_hops else forwarded[0]


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
_CLEARED_PANELS = ("",) * 4
STOPPED_MARK = "⏹️ *Stopped by you.*"  # where the reply is; its card says when


def _request_panels(update: ReplyUpdate, first: bool, sent: str) -> tuple[Any, ...]:
    """The messages sent and copy-as-code for this request. Both describe the request, complete before
    any reply: shown with the first update (so a stopped reply has them too), and again with the last,
    which is an API caller's whole result; skipped in between."""
    return (sent, *snippets.all_snippets(update.info.request)) if first or update.done else _UNCHANGED_PANELS


def _with_reply(shown: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The chat with its last reply's text as the handler last sent it (the page may be one update behind)."""
    for index in range(len(shown) - 1, -1, -1):
        message = shown[index]
        if message.get("role") == "user":
            break  # this turn has no reply message yet
        if message.get("role") == "assistant" and not chat.is_notice(message):
            return [*shown[:index], {**message, "content": text}, *shown[index + 1 :]]
    return [*shown, {"role": "assistant", "content": text}] if text else shown


def _messages_json(messages: list[dict[str, str]]) -> str:
    return json.dumps(messages, indent=2, ensure_ascii=False)


def build_demo(settings: client.Settings) -> gr.Blocks:
    """The whole app for these settings. Nothing here touches the network until a visitor acts."""
    # Uvicorn (Gradio's server) would otherwise replace the peer address with X-Forwarded-For's last entry
    # for connections from 127.0.0.1, and a share link's tunnel connects from there: anyone could then
    # forge their address. visitor_address() reads the header itself, as far as TRUSTED_PROXY_HOPS says.
    os.environ["FORWARDED_ALLOW_IPS"] = ""
    model_choices = list(dict.fromkeys([settings.model, *client.FALLBACK_MODELS]))
    listed_models: list[str] = []  # filled from GET /v1/models on the first page load

    # Every model dropdown, with the choices it shows before the models (the compare tab's "(none)").
    model_dropdowns: list[tuple[gr.Dropdown, list[str]]] = []

    async def refresh_models() -> list[Any]:
        # When visitors must bring their own key the server's is not theirs to spend, not even on a list.
        if not listed_models and not settings.visitor_key_required:
            listed_models.extend(await client.list_models(client.client_for(settings)))
        choices = list(dict.fromkeys([settings.model, *listed_models]))
        return [gr.update(choices=[*before, *choices]) for _, before in model_dropdowns]

    limiter = RateLimiter(settings.rate_limit_per_minute)
    under_way = ConcurrencyLimit(settings.max_requests_at_once)  # queue slots and connections one visitor holds
    runs = InFlight()  # what each visitor's tabs are generating, so that Stop can say what it stopped

    def charge(request: gr.Request | None, count: int = 1) -> None:
        """Count ``count`` requests against the visitor's rate limit; raises InvalidRequestError past it."""
        wait = limiter.acquire(visitor_address(request, settings.trusted_proxy_hops), count)
        if wait is not None:
            asked = f" ({count} asked for at once)" if count > 1 else ""
            msg = (
                f"Too many requests: this app allows {settings.rate_limit_per_minute} a minute per visitor{asked}. "
                f"Try again in {math.ceil(wait)} s."
            )
            raise InvalidRequestError(msg)

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
        """Check everything before anything is sent; raises InvalidRequestError with a message for the user.

        The rate limit comes first: a refused request counts too, or refusals would cost nothing.
        """
        charge(request, count)
        visitor = visitor_address(request, settings.trusted_proxy_hops)
        if under_way.full(visitor):
            msg = (
                f"You already have {settings.max_requests_at_once} replies under way: "
                "wait for one to finish (or stop it), then try again."
            )
            raise InvalidRequestError(msg)
        known_models = [*model_choices, *listed_models]
        checked_temperature = chat.check_parameters(temperature, model, known_models)
        for other in extra_models:
            chat.check_parameters(temperature, other, known_models)
        checked_prompt = chat.check_prompt(prompt, system)
        checked_sampling = chat.check_sampling(*sampling)
        visitor_key = own_key.strip() if isinstance(own_key, str) and own_key.strip() else None
        if settings.visitor_key_required and not visitor_key:
            raise InvalidRequestError(VISITOR_KEY_REQUIRED)
        if visitor_key is not None and (not visitor_key.isascii() or any(c.isspace() for c in visitor_key)):
            # It would go upstream as an HTTP header: a line break is refused there and retried as a network failure.
            raise InvalidRequestError(MALFORMED_KEY)
        messages = chat.build_messages(history, checked_prompt, str(system))
        messages, trimmed = chat.fit_to_context(messages, settings.context_tokens)
        return Plan(messages, checked_temperature, str(model), checked_sampling, visitor_key, trimmed, visitor)

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
            limits=settings.limits,
        )

    async def replies(plan: Plan, non_streaming: object) -> AsyncIterator[ReplyUpdate]:
        stream = not non_streaming
        with under_way.hold(plan.visitor):
            async with (
                client.writer_for(settings, plan.visitor_key) as writer,
                aclosing(reply(writer, plan, model=plan.model, temperature=plan.temperature, stream=stream)) as updates,
            ):
                async for update in updates:
                    yield update

    async def tracked_replies(
        plan: Plan, non_streaming: object, request: gr.Request | None, tab: str
    ) -> AsyncIterator[tuple[ReplyUpdate, tuple[Any, ...]]]:
        """A chat tab's reply, with the request's panels: sent only when its visitor is listening, and
        noted in ``runs`` so that Stop can say what it stopped."""
        session = getattr(request, "session_hash", None)
        if not await LISTENERS.wait_for(session):
            return  # nobody is reading this session's results: send nothing, spend nothing
        sent = _messages_json(plan.messages)
        with runs.tracking(session, tab) as note:
            async with aclosing(replies(plan, non_streaming)) as updates:
                first = True
                async for update in updates:
                    note(update.info, update.text)
                    yield update, _request_panels(update, first, sent)
                    first = False

    async def run_cells(plan: Plan, cells: list[Cell]) -> AsyncIterator[list[ReplyUpdate | None]]:
        """The compare tab's cells, all at once on one client, through the same reply generator."""
        with under_way.hold(plan.visitor):
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
            # The previous reply is cleared: under this message it would read as this request's answer.
            yield "", f"⚠️ **Nothing sent:** {problem.message}", *_CLEARED_PANELS
            return
        update = None
        async with aclosing(tracked_replies(plan, non_streaming, request, "single")) as updates:
            async for update, panels in updates:
                card = format_card(update.info, interrupted=update.interrupted, status=update.status)
                yield update.text, card, *panels
        if update is not None and update.info.error:
            gr.Warning(update.info.error, title="Writer request failed")

    async def after_single_turn(request: gr.Request) -> tuple[Any, ...]:
        """After the reply (or Stop): Submit back, and a stopped reply marked where it is and on its card."""
        idle = _idle()
        stopped = await runs.take_stopped_reply(getattr(request, "session_hash", None), "single")
        if stopped is None:
            return *idle, gr.skip(), gr.skip()
        card, text = stopped
        return *idle, f"{text}\n\n{STOPPED_MARK}", format_card(card)

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
        update = None
        async with aclosing(tracked_replies(plan, non_streaming, request, "chat")) as updates:
            async for update, panels in updates:
                info = format_card(update.info, interrupted=update.interrupted, status=update.status)
                yield _chat_message(update, plan.trimmed, settings.context_tokens), info, *panels
        if update is not None and update.info.error:
            gr.Warning(update.info.error, title="Writer request failed")

    async def after_chat_stop(shown: list[dict[str, Any]], request: gr.Request) -> tuple[Any, Any]:
        """Stop in the chat: the partial reply stays, and its run card says it was stopped, and when."""
        stopped = await runs.take_stopped_reply(getattr(request, "session_hash", None), "chat")
        if stopped is None:
            return gr.skip(), gr.skip()
        card, text = stopped
        marked = [*_with_reply(shown or [], text), card_message(card)]
        return marked, marked  # shown, and kept for the next turn (where the card, a notice, is skipped)

    # delete_cache: exports and uploads are deleted an hour after they were made.
    cache_limits = (saving.EXPORT_MAX_AGE, saving.EXPORT_MAX_AGE)
    with gr.Blocks(title="Palmyra Chat", analytics_enabled=False, delete_cache=cache_limits) as demo:
        gr.Markdown("# Palmyra Chat\nChat completions with Writer's Palmyra models.")
        if settings.offline:
            gr.Markdown(OFFLINE_NOTICE, elem_id="offline-notice")
        with gr.Accordion("Your Writer API key", open=settings.visitor_key_required, elem_id="own-key-panel"):
            own_key = BoundedTextbox(
                "",  # a default, so API callers may leave it out
                type="password",
                label="Your Writer API key",
                max_length=MAX_KEY_CHARS,
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
                    prompt = BoundedTextbox(
                        label="Prompt",
                        lines=3,
                        max_length=chat.MAX_PROMPT_CHARS,
                        placeholder="Ask Palmyra anything (Ctrl+Enter sends)",
                        elem_id="prompt",
                    )
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
            run.then(
                after_single_turn,
                outputs=[submit, stop, response, single_info],
                queue=False,
                api_visibility="private",
            )
            stop.click(_idle, outputs=[submit, stop], cancels=[run], queue=False, api_visibility="private")

        with gr.Tab("Multi-turn", id="multi-turn"), gr.Row(equal_height=False, elem_id="multi-layout"):
            # The settings column comes first in the page: ChatInterface tucks inputs that are not yet
            # rendered into an accordion of its own. CSS (#chat-column's order) shows the chat first:
            # on the left on a wide screen, on top on a phone, where the settings go below it.
            with gr.Column(scale=1, min_width=260, elem_id="chat-settings"):
                chat_controls = widgets.render_controls(widgets.make_controls("multi", model_choices, settings.model))
                widgets.render_parameters(chat_controls.top_p, chat_controls.max_tokens, chat_controls.stop)
            # Kept as the /chat endpoint's second output for API callers; the page shows each card in the chat.
            chat_info = gr.Markdown(elem_classes="reply-info", elem_id="chat-info", visible=False, render=False)
            chat_sent = gr.Code(language="json", show_label=False, elem_id="chat-sent", render=False)
            chat_code = widgets.make_code_boxes("multi")
            with gr.Column(scale=3, min_width=320, elem_id="chat-column"):
                conversation = saved_chats.SavedChatsInterface(
                    multi_turn,
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
                        max_length=chat.MAX_PROMPT_CHARS,
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
                # Beside ChatInterface's own Stop step (which cancels the reply): mark the reply as stopped.
                conversation.textbox.stop(
                    after_chat_stop,
                    inputs=[conversation.chatbot],
                    outputs=[conversation.chatbot, conversation.chatbot_state],
                    queue=False,
                    api_visibility="private",
                )
                if settings.history_key:
                    conversation.saved_conversations.secret = settings.history_key
                # Stable handles for the side panel that ChatInterface builds without any.
                conversation.chat_history_dataset.elem_id = "saved-chats"
                conversation.new_chat_button.elem_id = "new-chat"
                gr.Markdown(CHAT_HINT, elem_classes="reply-info", elem_id="chat-hint")
                chat_info.render()
                with gr.Accordion("Messages sent with the last request", open=False):
                    chat_sent.render()
                widgets.render_code_panel(chat_code)
                saving.render(
                    chat_interface=conversation,
                    controls=chat_controls,
                    known_models=lambda: list(dict.fromkeys([*model_choices, *listed_models])),
                    exports=saving.Exports(settings.export_bytes_per_hour),
                    visitor=lambda request: visitor_address(request, settings.trusted_proxy_hops),
                )

        with gr.Tab("Compare", id="compare"):
            compare_dropdowns = compare_tab.render(
                model_choices=model_choices,
                default_model=settings.model,
                own_key=own_key,
                prepare=prepare,
                run_cells=run_cells,
                in_flight=runs,  # one registry for every tab: its keys name the tab
                concurrency_limit=CONCURRENCY_LIMIT,
            )

        model_dropdowns.extend([(single_controls.model, []), (chat_controls.model, []), *compare_dropdowns])
        dropdowns = [dropdown for dropdown, _ in model_dropdowns]
        demo.load(refresh_models, outputs=dropdowns, api_visibility="private")
    _list_saved_chats_after_storage_is_read(demo, conversation)
    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT)
    return demo


def launch_options(settings: client.Settings) -> dict[str, Any]:
    """LAUNCH_OPTIONS with the settings that belong to the launch."""
    return LAUNCH_OPTIONS | {"state_session_capacity": settings.session_capacity}


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
