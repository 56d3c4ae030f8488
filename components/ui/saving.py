"""The chat tab's "Save and load" panel: export the conversation as JSON and Markdown, import a JSON export.

Gradio serves a copy of each export from its cache and deletes it after ``EXPORT_MAX_AGE``
(Blocks' ``delete_cache``); our own copy goes a minute after. An import is checked whole
before anything changes: a bad file leaves the conversation and the settings as they were.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from components.chat import params, transcript, transcript_markdown
from components.chat.limits import RateLimiter, SharedCounts
from components.chat.params import Sampling
from components.chat.transcript import ChatSettings, Transcript, TranscriptError
from components.ui import saved_chats
from components.ui.controls import SETTINGS, Controls
from components.ui.endpoints import endpoint

EXPORT_MAX_AGE = 3600  # seconds an export file is kept for its download (Blocks' delete_cache)
NOTHING_TO_EXPORT = "Nothing to download yet: the conversation is empty."


_SCRATCH_PREFIX = "palmyra-exports-"


def _remove_abandoned_scratch(max_age: float = EXPORT_MAX_AGE) -> None:
    """A killed process leaves its scratch folder behind: remove those older than an export lives."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_SCRATCH_PREFIX}*"):
        with contextlib.suppress(OSError):
            if time.time() - folder.stat().st_mtime > max_age:
                shutil.rmtree(folder, ignore_errors=True)


_remove_abandoned_scratch()
_scratch = tempfile.TemporaryDirectory(prefix=_SCRATCH_PREFIX)  # removed when the process exits
_SCRATCH_AGE = 60  # seconds: by then Gradio has copied a file into its own cache, which it cleans itself


def _export_path(stamp: str, suffix: str, prefix: str = "palmyra-chat") -> Path:
    """A fresh path for an export; older ones, already served from Gradio's cache, are removed first."""
    scratch = Path(_scratch.name)
    for old in scratch.glob("*/*"):
        if time.time() - old.stat().st_mtime > _SCRATCH_AGE:
            shutil.rmtree(old.parent, ignore_errors=True)
    folder = scratch / uuid.uuid4().hex  # one folder each: the file keeps a readable name, and never collides
    folder.mkdir()
    return folder / f"{prefix}-{stamp}{suffix}"


class ExportBudgetError(Exception):
    """This visitor's exports have written their hour's budget of bytes."""


class Exports:
    """The export files of one app, with what they may cost.

    An export is kept an hour, so what a visitor can cost is disk: each visitor has a budget of
    bytes written an hour. An identical conversation is exported with its first export's time,
    so its files are byte for byte the same: Gradio's cache (keyed by content) keeps one copy,
    and it costs nothing more.
    """

    _REMEMBERED = 1000  # conversations whose first export time is kept (least recently used beyond)

    def __init__(self, bytes_per_hour: int, image_root: Path | None = None) -> None:
        self.bytes_per_hour = bytes_per_hour
        self.image_root = image_root  # where the chat's images are: exported as data URLs, imported back there
        # In this process's memory (the files are on this replica's disk), one number per visitor however many
        # bytes: a fixed window from their first export.
        counts = SharedCounts(moving=False)
        self._budget = RateLimiter(bytes_per_hour, window=EXPORT_MAX_AGE, counts=counts, name="export-bytes")
        self._first_exported: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()

    def write(self, conversation: Transcript, visitor: str) -> tuple[str, str]:
        """Write the conversation as JSON and as Markdown; return the two paths. Raises ExportBudgetError."""
        digest = hashlib.sha256(transcript.to_json(conversation, exported_at=_ANY_TIME).encode()).hexdigest()
        with self._lock:
            known = self._first_exported.pop(digest, None)
            exported_at = known or datetime.now(UTC).replace(microsecond=0)
            self._first_exported[digest] = exported_at
            while len(self._first_exported) > self._REMEMBERED:
                self._first_exported.popitem(last=False)
        as_json = transcript.to_json(conversation, exported_at=exported_at).encode()
        as_markdown = transcript_markdown.to_markdown(conversation, exported_at=exported_at).encode()
        if known is None and (wait := self._budget.acquire(visitor, len(as_json) + len(as_markdown))) is not None:
            with self._lock:
                del self._first_exported[digest]  # not exported after all
            raise ExportBudgetError(self._paused(wait))
        stamp = exported_at.strftime("%Y%m%d-%H%M%S")
        json_path, markdown_path = _export_path(stamp, ".json"), _export_path(stamp, ".md")
        json_path.write_bytes(as_json)
        markdown_path.write_bytes(as_markdown)
        return str(json_path), str(markdown_path)

    def write_files(self, visitor: str, prefix: str, contents: Mapping[str, bytes]) -> list[str]:
        """An export of other files (suffix → bytes), charged to the same budget; their paths, in order. Raises
        ExportBudgetError."""
        if (wait := self._budget.acquire(visitor, sum(len(data) for data in contents.values()))) is not None:
            raise ExportBudgetError(self._paused(wait))
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        paths = []
        for suffix, data in contents.items():
            path = _export_path(stamp, suffix, prefix)
            path.write_bytes(data)
            paths.append(str(path))
        return paths

    def _paused(self, wait: float) -> str:
        return (
            f"Downloads paused: your exports wrote {self.bytes_per_hour / 1e6:g} MB in the last hour, "
            f"this app's limit. They come back in {math.ceil(wait / 60)} min."
        )


_ANY_TIME = datetime(2000, 1, 1, tzinfo=UTC)  # what an export's digest is taken with: the time is not its content


def transcript_of(
    history: list[dict[str, Any]] | None, settings: Mapping[str, Any], image_root: Path | None = None
) -> Transcript:
    """The conversation and the tab's settings (by ``widgets.SETTINGS`` name), read as a request reads them; a
    parameter a request would refuse is exported as unset."""
    chosen = ChatSettings(
        model=settings["model"],
        temperature=settings["temperature"],
        non_streaming=bool(settings["non_streaming"]),
        sampling=Sampling.lenient(settings),
    )
    return Transcript(settings["system"], chosen, list(history or []), image_root)


def read_import(path: str | None, known_models: list[str], image_root: Path | None = None) -> Transcript:
    """Read an uploaded export; raises TranscriptError. The size is checked before the file is read."""
    if not path:
        msg = "Choose a JSON file exported from Palmyra Chat."
        raise TranscriptError(msg)
    size = os.path.getsize(path)
    if size > transcript.MAX_IMPORT_BYTES:
        msg = f"The file is {size:,} bytes; the limit is {transcript.MAX_IMPORT_BYTES:,}."
        raise TranscriptError(msg)
    return transcript.from_json(Path(path).read_bytes(), known_models=known_models, image_root=image_root)


def _downloader(exports: Exports, visitor: Callable[[gr.Request | None], str]) -> Callable[..., tuple[Any, Any, str]]:
    def downloads(history: list[dict[str, Any]] | None, request: gr.Request | None, **settings: Any) -> tuple:
        """Both download buttons with files of this conversation (disabled when there are none), and what they hold."""
        count = transcript.count_turns(history or [])
        paths: tuple[str | None, str | None] = (None, None)
        if not (count.yours or count.replies):
            note = NOTHING_TO_EXPORT
        else:
            try:
                paths = exports.write(transcript_of(history, settings, exports.image_root), visitor(request))
                note = f"The downloads hold {count}."
            except ExportBudgetError as refused:
                note = f"⚠️ {refused}"
        return *(gr.DownloadButton(value=path, interactive=path is not None) for path in paths), note

    return downloads


def render(
    *,
    chat_interface: gr.ChatInterface,
    controls: Controls,
    known_models: Callable[[], list[str]],
    exports: Exports,
    visitor: Callable[[gr.Request | None], str],
) -> None:
    """The panel, under the chat; its events read and write the chat's history and the tab's settings.

    A download button downloads the file it already holds when clicked (a click event's answer
    comes too late), so both files are remade whenever the conversation or a setting changes.
    """
    settings_inputs = controls.settings()
    with gr.Accordion("Save and load", open=False, elem_id="save-load"):
        gr.Markdown(
            "Download this conversation with its system message, settings and run cards, as JSON (to import "
            "later) or Markdown (to read and share). Importing a JSON export replaces the conversation.",
            elem_classes="reply-info",
        )
        with gr.Row():
            json_download = gr.DownloadButton(
                "Download JSON", variant="primary", interactive=False, size="md", elem_id="export-json"
            )
            markdown_download = gr.DownloadButton(
                "Download Markdown", interactive=False, size="md", elem_id="export-md"
            )
            import_button = gr.UploadButton(
                "Import JSON", file_types=[".json"], variant="secondary", size="md", elem_id="import"
            )
        summary = gr.Markdown(NOTHING_TO_EXPORT, elem_classes="reply-info", elem_id="export-summary")
        status = gr.Markdown(elem_classes="reply-info", elem_id="save-load-status")
    downloads = _downloader(exports, visitor)
    _keep_downloads_current(chat_interface, settings_inputs, [json_download, markdown_download, summary], downloads)
    import_outputs = [chat_interface.chatbot, chat_interface.chatbot_state, chat_interface.conversation_id]
    import_outputs += [chat_interface.saved_conversations, *settings_inputs, status]
    import_button.upload(
        _importer(known_models, exports.image_root, skipped=len(import_outputs) - 1),
        inputs=[import_button, chat_interface.saved_conversations],
        outputs=import_outputs,
        api_name="import_conversation",
    )


def _keep_downloads_current(
    chat_interface: gr.ChatInterface,
    settings_inputs: list[gr.components.Component],
    outputs: list[Any],
    downloads: Callable[..., tuple[Any, Any, str]],
) -> None:
    """Remake the downloads on every change of the conversation or of a setting.

    A ``gr.State``'s change event fires only after queued events, and ChatInterface updates its
    history without the queue, so these listen to what the user sees change instead: the saved
    list (after every reply, undo, edit, clear and import), New chat, and picking a saved chat.
    """
    quiet: dict[str, Any] = {"outputs": outputs, "show_progress": "hidden", "trigger_mode": "always_last"}

    def emptied(request: gr.Request | None, **settings: Any) -> tuple:
        return downloads([], request, **settings)  # no files: nothing to charge

    def picked(
        index: int | None, saved: list[saved_chats.Conversation] | None, request: gr.Request | None, **settings: Any
    ) -> tuple:
        """The saved chat just picked in the side panel (read from the list: the chat is still loading)."""
        chosen = saved[index] if saved and index is not None and 0 <= index < len(saved) else []
        return downloads(chosen, request, **settings)

    gr.on(
        [chat_interface.saved_conversations.change, *(box.change for box in settings_inputs)],
        endpoint(downloads, ["history", *SETTINGS], optional=params.NAMES),
        inputs=[chat_interface.chatbot_state, *settings_inputs],
        api_name="export_conversation",
        **quiet,
    )
    private: dict[str, Any] = {"api_visibility": "private", **quiet}
    chat_interface.new_chat_button.click(endpoint(emptied, SETTINGS), settings_inputs, **private)
    chat_interface.chat_history_dataset.click(
        endpoint(picked, ["index", "saved", *SETTINGS]),
        [chat_interface.chat_history_dataset, chat_interface.saved_conversations, *settings_inputs],
        **private,
    )


def _importer(
    known_models: Callable[[], list[str]], image_root: Path | None, *, skipped: int
) -> Callable[..., tuple[Any, ...]]:
    """The import handler: the file's conversation and settings, or (``skipped`` outputs unchanged) a reason."""

    def load(path: str | None, saved: list[saved_chats.Conversation] | None = None) -> tuple[Any, ...]:
        try:
            conversation = read_import(path, known_models(), image_root)
        except (TranscriptError, OSError) as problem:
            message = str(problem) if isinstance(problem, TranscriptError) else "The file could not be read."
            gr.Warning(message, title="Nothing imported")
            return (*(gr.skip(),) * skipped, f"⚠️ **Nothing imported:** {message} The conversation is as it was.")
        chosen = conversation.settings
        messages = conversation.messages
        index, saved = saved_chats.keep(saved, None, messages, imported=True)  # a new entry, marked as imported
        return (
            messages,  # the chat shows it...
            messages,  # ...and the next turn sends it (ChatInterface keeps the two apart)
            index,  # the next turn saves over the imported entry, not over the chat that was open
            saved,
            conversation.system,
            chosen.model,
            chosen.temperature,
            chosen.non_streaming,
            *chosen.sampling.in_widgets(),  # the parameter boxes hold text ("" for unset)
            f"Imported {transcript.count_turns(messages)}. The next message continues this conversation.",
        )

    return load
