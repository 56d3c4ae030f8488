"""The page: the visitor's key panel and the three tabs, assembled over one chat service.

Each tab is a module with its own ``render``; the request policy (key, rate and concurrency
limits, trimming) is the service's (components/chat/service.py), so nothing here decides
what may be sent. History lives in the Gradio session (ChatInterface's state), never in
module globals.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from components.chat.service import ChatService
from components.settings import Settings
from components.ui import compare_layout, compare_tab, evaluate_api, evaluate_tab, multi_turn, saving, single_turn
from components.ui.assets import CSS, KEYBOARD
from components.ui.bounds import MAX_REQUEST_BYTES, BodyLimit, BoundedTextbox
from components.ui.listeners import ListenerTracking
from components.writer.clients import host_of

MAX_KEY_CHARS = 512  # a Writer key is far shorter; a 1 MB one would go upstream as a 1 MB header
# Handlers are async and I/O-bound: they hold no thread while waiting on Writer, so many
# visitors can stream at once. Gradio's default of 1 per event would queue every visitor
# behind the first; the bound keeps a flood on a public link from exhausting the server.
CONCURRENCY_LIMIT = 64
OFFLINE_NOTICE = (
    "**Offline demo mode.** No `WRITER_API_KEY` is set, so replies come from a local stand-in that "
    "echoes your prompt and the settings it received. To chat with Palmyra now, enter your own key "
    "under “Your Writer API key” below (it says where your requests then go); no restart needed. To "
    "give the app a key of its own, set `WRITER_API_KEY` in the environment or in `.env` (on Hugging "
    "Face Spaces: a Space secret) and restart the app."
)
# Options for demo.launch(): Gradio 6 takes theme and css there. SSR stays off: its Node
# server outlived the app and held the port (shared/gradio-facts.md).
# Run history is off: it saves every call's inputs in the browser (a visitor's key included) and
# offers to upload them to a Hugging Face bucket.
LAUNCH_OPTIONS: dict[str, Any] = {
    # Field hints darker than Gradio's default light grey (about 2:1 on white): they carry the valid ranges.
    "theme": gr.themes.Default(primary_hue="indigo").set(block_info_text_color="*neutral_600"),
    "css": CSS + compare_layout.CSS,
    "head": KEYBOARD,
    "ssr_mode": False,
    "run_history": False,
    # Every request body and upload bounded (components/ui/bounds.py); an import a little over its own limit
    # still reaches the importer, whose message says what the limit is.
    "max_file_size": MAX_REQUEST_BYTES,
    # ListenerTracking: which sessions read their results, so that a join nobody listens to costs no tokens.
    "app_kwargs": {"middleware": [Middleware(BodyLimit, limit=MAX_REQUEST_BYTES), Middleware(ListenerTracking)]},
    # Gradio's own input checks (a slider given "abc") then reach API callers in words rather than as a
    # generic failure. Our handlers raise only gr.Error, and catch every SDK error, so nothing else leaks.
    "show_error": True,
    "footer_links": ["api", "gradio", "settings"],
}


def build_demo(settings: Settings) -> gr.Blocks:
    """The whole app for these settings. Nothing here touches the network until a visitor acts."""
    # Uvicorn (Gradio's server) would otherwise replace the peer address with X-Forwarded-For's last entry
    # for connections from 127.0.0.1, and a share link's tunnel connects from there: anyone could then
    # forge their address. The service reads the header itself, as far as TRUSTED_PROXY_HOPS says.
    os.environ["FORWARDED_ALLOW_IPS"] = ""
    _known_absent("matplotlib")
    service = ChatService(settings, image_root=Path(gr.utils.get_upload_folder()))
    # delete_cache: exports and uploads are deleted an hour after they were made.
    cache_limits = (saving.EXPORT_MAX_AGE, saving.EXPORT_MAX_AGE)
    with gr.Blocks(title="Palmyra Chat", analytics_enabled=False, delete_cache=cache_limits) as demo:
        gr.Markdown("# Palmyra Chat\nChat completions with Writer's Palmyra models.")
        if settings.offline:
            gr.Markdown(OFFLINE_NOTICE, elem_id="offline-notice")
        own_key = _own_key_box(service)
        # One budget of export bytes per visitor, whichever tab exports (the chat, an evaluation run).
        exports = saving.Exports(settings.export_bytes_per_hour, service.image_root)
        with gr.Tab("Single-turn", id="single-turn"):
            single = single_turn.render(service, own_key, CONCURRENCY_LIMIT)
        with gr.Tab("Multi-turn", id="multi-turn"):
            multi = multi_turn.render(service, own_key, CONCURRENCY_LIMIT, exports)
        with gr.Tab("Compare", id="compare"):
            compare = compare_tab.render(service, own_key, CONCURRENCY_LIMIT)
        with gr.Tab("Evaluate", id="evaluate"):
            evaluate_tab.render(service, own_key, exports)
        evaluate_api.register(service, CONCURRENCY_LIMIT)
        # Every model dropdown, with the choices it shows before the models (the compare tab's "(none)").
        dropdowns = [(single.controls.model, []), (multi.controls.model, []), (compare.model, [])]
        dropdowns.append((compare.second_model, [compare_layout.NO_SECOND_MODEL]))

        async def refresh_models() -> list[Any]:
            models = await service.refresh_models()
            return [gr.update(choices=[*before, *models]) for _, before in dropdowns]

        demo.load(refresh_models, outputs=[dropdown for dropdown, _ in dropdowns], api_visibility="private")
    _list_saved_chats_after_storage_is_read(demo, multi.chat)
    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT)
    return demo


def _own_key_box(service: ChatService) -> gr.Textbox:
    required = service.settings.visitor_key_required
    with gr.Accordion("Your Writer API key", open=required, elem_id="own-key-panel"):
        return BoundedTextbox(
            "",  # a default, so API callers may leave it out
            type="password",
            label="Your Writer API key",
            max_length=MAX_KEY_CHARS,
            show_label=False,
            placeholder="Required: your own Writer API key"
            if required
            else "Optional: your own key, used for your requests only",
            info=f"Sent to {host_of(service.visitor_key_url())} with each of your requests and used only "
            "for them: never stored, logged or shown.",
            elem_id="own-key",
        )


def _known_absent(module: str) -> None:
    """Mark a module that is not installed as absent, so that ``import`` fails at once instead of searching.

    Gradio imports matplotlib around every event it processes, each update of a stream included
    (utils.py ``MatplotlibBackendMananger``): without it installed, each import searched every
    directory of ``sys.path`` (a few ms of CPU per reply in bench/profile.py). None in ``sys.modules``
    makes it raise ImportError at once, as Gradio expects when matplotlib is absent.
    """
    if module not in sys.modules and importlib.util.find_spec(module) is None:
        sys.modules[module] = None  # type: ignore[assignment]


def launch_options(settings: Settings) -> dict[str, Any]:
    """LAUNCH_OPTIONS with the settings that belong to the launch."""
    # Gradio keeps each session's state (the conversation) and forgets the least recently used beyond this:
    # with components/ui/bounds.py's cap on a session's chat, the server's memory is bounded (README).
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
