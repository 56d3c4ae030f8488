"""history → Writer messages: both Gradio shapes, notices, failed turns, no mutation."""

from __future__ import annotations

import copy

from components.chat.conversation import build_messages, history_to_messages
from components.chat.messages import content_text


def parts(text: str) -> list[dict[str, str]]:
    """Content as the browser sends it: a list of parts."""
    return [{"text": text, "type": "text"}]


def test_browser_shape_with_parts_and_extra_keys_becomes_plain_strings() -> None:
    history = [
        {"role": "user", "content": parts("Hi"), "metadata": None, "options": None},
        {"role": "assistant", "content": parts("Hello!"), "metadata": None, "options": None},
    ]
    assert history_to_messages(history, "sys") == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
    ]


def test_api_shape_with_string_content() -> None:
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    assert build_messages(history, "More?", "sys")[1:] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "More?"},
    ]


def test_gradio_history_is_not_mutated() -> None:
    history = [
        {"role": "user", "content": parts("Hi"), "metadata": None},
        {"role": "assistant", "content": parts("A"), "metadata": None},
        {"role": "assistant", "content": "B"},
    ]
    before = copy.deepcopy(history)
    history_to_messages(history, "sys")
    assert history == before


def test_notices_are_never_sent_and_unanswered_questions_are_dropped() -> None:
    history = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "Rate limit hit", "metadata": {"title": "⚠️ Request failed"}},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "partial answer"},
        {"role": "assistant", "content": "connection dropped", "metadata": {"title": "⚠️ Reply interrupted"}},
        {"role": "user", "content": "!messages"},
        {"role": "assistant", "content": "```json[]```", "metadata": {"title": "Messages so far"}},
    ]
    assert history_to_messages(history, "sys") == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "partial answer"},
    ]


def test_one_reply_in_several_bubbles_is_one_turn() -> None:
    history = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "part one"},
        {"role": "assistant", "content": "part two"},
    ]
    assert history_to_messages(history, "")[-1] == {"role": "assistant", "content": "part one\n\npart two"}


def test_blank_system_message_is_left_out_and_text_is_kept_verbatim() -> None:
    text = "  naïve 日本語 ```py\n  x = 1\n``` \x07 "
    assert build_messages([], text, "   ") == [{"role": "user", "content": text}]


def test_content_text_ignores_files_and_non_text_parts() -> None:
    assert content_text({"path": "/tmp/cat.png"}) == ""
    assert content_text([{"type": "file", "file": {}}, {"type": "text", "text": "a"}]) == "a"
    assert content_text(None) == ""
