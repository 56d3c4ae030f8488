"""The Multi-turn tab's side panel of saved chats: ChatInterface's ``save_history``, with entries one can tell apart.

Gradio keeps each saved chat in the browser as a bare list of messages and titles it by its
first message alone, so a chat and its imported copy look the same. Here each entry also says
how many turns it holds and when it was saved, and an imported one says so. Those facts ride
in the first message's metadata under ``STAMP``: only the stored copy has them, since the
chat's message model drops keys it does not know when the chat is shown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import gradio as gr

from components.chat.messages import content_text
from components.chat.transcript import count_turns

STAMP = "palmyra_saved"
LABEL_CHARS = 60  # Gradio's dataset cell cuts a longer text with "...": the facts must fit, the title gets the rest
EMPTY_NOTE = (
    "No saved chats yet. Each conversation appears here once a reply is complete, and is kept in this browser only."
)

Conversation = list[dict[str, Any]]


def keep(
    saved: list[Conversation] | None,
    index: int | None,
    conversation: Conversation,
    *,
    imported: bool = False,
    now: datetime | None = None,
) -> tuple[int, list[Conversation]]:
    """Gradio's save, stamped: the open chat (``index``) is replaced, or a new one goes first; returns its index.

    A chat that was imported stays marked as imported when it is saved again.
    """
    saved = list(saved or [])
    is_open = index is not None and 0 <= index < len(saved)
    imported = imported or (is_open and _stamp(saved[index]).get("imported", False))
    stamped = _stamped(conversation, imported=imported, at=now or datetime.now(UTC))
    if is_open:
        saved[index] = stamped
        return index, saved
    return 0, [stamped, *saved]


def _stamp(conversation: Conversation) -> dict[str, Any]:
    metadata = (conversation[0].get("metadata") if conversation else None) or {}
    return metadata.get(STAMP) or {}


def _stamped(conversation: Conversation, *, imported: bool, at: datetime) -> Conversation:
    if not conversation:
        return []
    first, *rest = conversation
    stamp = {"at": at.isoformat(timespec="seconds"), "imported": imported}
    return [{**first, "metadata": {**(first.get("metadata") or {}), STAMP: stamp}}, *rest]


def entry_label(conversation: Conversation) -> str:
    """One line an entry can be told apart by: its first message, shortened; its turns; when it was saved."""
    facts = [_turns(conversation)]
    stamp = _stamp(conversation)
    if stamp.get("at"):
        at = datetime.fromisoformat(stamp["at"]).astimezone(UTC)
        facts.append(f"{at.day} {at:%b %H:%M} UTC")
    if stamp.get("imported"):
        facts.append("imported")
    details = " · " + " · ".join(facts)
    first = next((content_text(m.get("content")) for m in conversation if m.get("role") == "user"), "")
    title = " ".join(first.split()) or "(no message)"
    room = LABEL_CHARS - len(details)
    if len(title) > room:
        cut = title[:room]  # one more than fits with "…": a word ending there is kept whole
        title = (cut.rsplit(" ", 1)[0] if " " in cut else cut[:-1]).rstrip() + "…"
    return title + details


def _turns(conversation: Conversation) -> str:
    turns = count_turns(conversation).yours
    return "1 turn" if turns == 1 else f"{turns} turns"


class SavedChatsInterface(gr.ChatInterface):
    """``gr.ChatInterface`` whose saved-chats panel has a heading, a note when empty, and telling entries;
    ``under_input`` (unrendered blocks) is placed right under its input, on a phone too."""

    def __init__(self, *args: Any, under_input: Sequence[gr.blocks.Block] = (), **kwargs: Any) -> None:
        self._under_input = list(under_input)  # before Gradio's __init__, which lays the chat out
        super().__init__(*args, **kwargs)

    def _render_footer(self) -> None:
        super()._render_footer()
        for block in self._under_input:
            block.render()

    def _render_history_area(self) -> None:
        with gr.Column(scale=1, min_width=100, elem_id="saved-chats-panel"):
            gr.Markdown("### Saved chats", elem_id="saved-chats-heading")
            super()._render_history_area()
        # In Gradio's own column, right under the list: that column grows to the chat's height.
        with self.chat_history_dataset.parent:
            self.empty_note = gr.Markdown(EMPTY_NOTE, elem_classes="reply-info", elem_id="saved-chats-empty")

    def _setup_events(self) -> None:
        super()._setup_events()
        # The storage's change event carries the list once the browser has read it (see ui/page.py).
        self.saved_conversations.change(
            lambda saved: gr.Markdown(visible=not any(saved or [])),
            inputs=[self.saved_conversations],
            outputs=[self.empty_note],
            api_visibility="undocumented",
            queue=False,
            show_progress="hidden",
        )

    # ChatInterface's submit step sends the message its previous step saved. Called alone (through the API),
    # there is none, and Gradio's code failed on it before ours ran ("'NoneType' object has no attribute 'get'").
    async def _submit_fn(self, message: Any, history: list, *args: Any) -> tuple:
        _require_saved_message(message)
        return await super()._submit_fn(message, history, *args)

    async def _stream_fn(self, message: Any, history: list, *args: Any) -> AsyncIterator[tuple]:
        _require_saved_message(message)
        async for update in super()._stream_fn(message, history, *args):
            yield update

    def _save_conversation(
        self, index: int | None, conversation: Conversation, saved_conversations: list[Conversation]
    ) -> tuple[int | None, list[Conversation]]:
        if not self.save_history:
            return index, saved_conversations
        return keep(saved_conversations, index, self.serialize_components(conversation))

    def _load_chat_history(self, conversations: list[Conversation] | None) -> gr.Dataset:
        # Empty chats are left out, as Gradio does.
        return gr.Dataset(samples=[[entry_label(c)] for c in conversations or [] if c])


NO_SAVED_MESSAGE = "Nothing sent: this step sends the message the chat saved just before; call /chat instead."


def _require_saved_message(message: object) -> None:
    if message is None:
        raise gr.Error(NO_SAVED_MESSAGE, title="Nothing sent")
