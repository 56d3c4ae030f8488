"""The saved-chats side panel's entries: stamped when saved, told apart by their label, stamp kept out of the page."""

from __future__ import annotations

from datetime import UTC, datetime

import gradio as gr

from components.ui.saved_chats import STAMP, entry_label, keep

MORNING = datetime(2026, 3, 5, 9, 7, tzinfo=UTC)
EVENING = datetime(2026, 3, 5, 18, 30, tzinfo=UTC)


def exchange(first: str = "What's the fastest bird?", turns: int = 1) -> list[dict]:
    messages: list[dict] = []
    for number in range(turns):
        text = first if number == 0 else f"and then {number}?"
        messages.append({"role": "user", "content": [{"type": "text", "text": text}], "metadata": None})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": "Fast."}], "metadata": None})
        messages.append({"role": "assistant", "content": "card", "metadata": {"title": "Run card"}})
    return messages


def test_a_new_chat_goes_first_and_the_open_one_is_saved_over() -> None:
    index, saved = keep([exchange("older")], None, exchange(), now=MORNING)
    assert index == 0 and [entry_label(c).split(" · ")[0] for c in saved] == ["What's the fastest bird?", "older"]
    index, saved = keep(saved, 0, exchange(turns=2), now=EVENING)
    assert index == 0 and len(saved) == 2
    assert entry_label(saved[0]) == "What's the fastest bird? · 2 turns · 5 Mar 18:30 UTC"


def test_an_imported_chat_stays_marked_when_it_is_continued() -> None:
    _, saved = keep([], None, exchange(), imported=True, now=MORNING)
    _, saved = keep(saved, 0, exchange(turns=2), now=EVENING)
    assert entry_label(saved[0]) == "What's the fastest… · 2 turns · 5 Mar 18:30 UTC · imported"


def test_a_chat_and_its_imported_copy_are_told_apart() -> None:
    _, saved = keep([], None, exchange(), now=MORNING)
    _, saved = keep(saved, None, exchange(), imported=True, now=MORNING)
    labels = [entry_label(c) for c in saved]
    assert labels[0] != labels[1] and labels[0].endswith("· imported")


def test_a_long_first_message_is_shortened_to_one_line_that_gradio_shows_whole() -> None:
    long = "Tell me\n\n  everything about the peregrine falcon, please, and about the swift too"
    _, saved = keep([], None, exchange(long, turns=12), imported=True, now=MORNING)
    label = entry_label(saved[0])
    assert label == "Tell me everything… · 12 turns · 5 Mar 09:07 UTC · imported"
    assert len(label) <= 60  # Gradio's dataset cell cuts longer text
    assert entry_label(exchange("x" * 100)) == "x" * 50 + "… · 1 turn"  # one long word is cut where it must be


def test_a_stale_index_saves_a_new_chat_rather_than_failing() -> None:
    index, saved = keep([], 3, exchange(), now=MORNING)
    assert index == 0 and len(saved) == 1


def test_the_stamp_never_reaches_the_page() -> None:
    _, saved = keep([], None, exchange(), imported=True, now=MORNING)
    assert STAMP in saved[0][0]["metadata"]
    shown = gr.Chatbot().postprocess(saved[0]).model_dump()
    assert STAMP not in str(shown)
