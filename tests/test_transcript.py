"""Export and import: the JSON and Markdown writers, the validating reader, round trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.chat import tool_turns
from components.chat.conversation import MAX_PROMPT_CHARS, history_to_messages
from components.chat.params import Sampling
from components.chat.transcript import (
    FORMAT,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_MESSAGES,
    ChatSettings,
    Transcript,
    TranscriptError,
    TurnCount,
    count_turns,
    from_json,
    to_json,
)
from components.chat.transcript_markdown import to_markdown
from standin import MODELS

KNOWN = [model_id for model_id, _ in MODELS]
WHEN = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CODE = "Here:\n\n```python\nprint('fast')\n```"


def card(summary: str = "palmyra-x5 · T 0.7 · stop · 5 tokens · 0.03 s") -> dict:
    return {
        "role": "assistant",
        "content": "**palmyra-x5** · …",
        "metadata": {"title": "Run card", "log": summary, "status": "done"},
    }


def conversation() -> Transcript:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "What's the fastest bird?"}], "metadata": None},
        {"role": "assistant", "content": CODE, "metadata": None, "options": None},
        card(),
        {"role": "user", "content": "Tell me more"},
        {"role": "assistant", "content": "Could not reach Writer.", "metadata": {"title": "⚠️ Request failed"}},
    ]
    return Transcript(
        "Be brief.",
        ChatSettings("palmyra-x4", 0.7, False, Sampling({"top_p": 0.9, "max_tokens": 256, "stop": ("END",)})),
        messages,
    )


def test_json_holds_the_version_system_settings_and_every_message_with_its_card() -> None:
    document = json.loads(to_json(conversation(), exported_at=WHEN))
    assert document["format"] == FORMAT and document["app_version"]
    assert document["exported_at"] == "2026-11-25T12:00:00+00:00"
    assert (document["system"], document["model"]) == ("Be brief.", "palmyra-x4")
    assert document["parameters"] == {
        "temperature": 0.7,
        "non_streaming": False,
        "top_p": 0.9,
        "max_tokens": 256,
        "stop": ["END"],
        "logprobs": False,  # unset parameters are written out too: the file says what was not sent
        "tools": None,
        "tool_choice": None,
        "response_format": None,
    }
    assert document["messages"] == [
        {"role": "user", "content": "What's the fastest bird?"},
        {
            "role": "assistant",
            "content": CODE,
            "run_card": {"summary": card()["metadata"]["log"], "details": "**palmyra-x5** · …"},
        },
        {"role": "user", "content": "Tell me more"},
        {"role": "assistant", "content": "Could not reach Writer.", "notice": "⚠️ Request failed"},
    ]


def test_markdown_reads_well_with_code_blocks_intact() -> None:
    text = to_markdown(conversation(), exported_at=WHEN)
    assert text.startswith("# Palmyra Chat conversation\n")
    assert "## System\n\nBe brief." in text
    assert "## User\n\nWhat's the fastest bird?" in text
    assert f"## Assistant\n\n{CODE}\n\n*Run card: palmyra-x5 · T 0.7 · stop · 5 tokens · 0.03 s*" in text
    assert "> **⚠️ Request failed:** Could not reach Writer." in text


def test_import_gives_back_the_conversation_and_settings() -> None:
    original = conversation()
    restored = from_json(to_json(original).encode(), known_models=KNOWN)
    assert restored.system == original.system and restored.settings == original.settings
    assert restored.messages[0] == {"role": "user", "content": "What's the fastest bird?"}
    assert restored.messages[2] == {
        "role": "assistant",
        "content": "**palmyra-x5** · …",
        "metadata": card()["metadata"],
    }
    assert to_json(restored, exported_at=WHEN) == to_json(original, exported_at=WHEN)


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200) | st.sampled_from(
    [CODE, "日本語 · العربية · 🚀", "\x07\x1b[31mred\x1b[0m\ttab", "<script>alert(1)</script>", ""]
)
RECORD = st.one_of(
    st.builds(lambda t: {"role": "user", "content": t}, TEXT),
    st.builds(lambda t: {"role": "assistant", "content": t}, TEXT),
    st.builds(
        lambda t, s, d: {"role": "assistant", "content": t, "run_card": {"summary": s, "details": d}}, TEXT, TEXT, TEXT
    ),
    st.builds(lambda t, n: {"role": "assistant", "content": t, "notice": n}, TEXT, TEXT.filter(bool)),
)
PARAMETERS = st.fixed_dictionaries(
    {
        "temperature": st.floats(0, 2),
        "non_streaming": st.booleans(),
        "top_p": st.none() | st.floats(0.01, 1),
        "max_tokens": st.none() | st.integers(1, 8192),
        "stop": st.lists(
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=10).filter(
                lambda s: "\n" not in s and "\r" not in s and s.strip()
            ),
            max_size=4,
            unique=True,
        ),
        "logprobs": st.booleans(),
        "tools": st.none()
        | st.just([{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]),
        "tool_choice": st.none(),
        "response_format": st.none()
        | st.just({"type": "json_schema", "json_schema": {"schema": {"type": "object"}, "name": "thing"}}),
    }
)


@settings(max_examples=150, deadline=None)
@given(records=st.lists(RECORD, max_size=12), system=TEXT, model=st.sampled_from(KNOWN), parameters=PARAMETERS)
def test_any_export_survives_import_and_export_unchanged(
    records: list, system: str, model: str, parameters: dict
) -> None:
    document = {"format": FORMAT, "app_version": "x", "exported_at": "then", "system": system, "model": model,
                "parameters": parameters, "messages": records}  # fmt: skip
    first = from_json(json.dumps(document, ensure_ascii=False).encode(), known_models=KNOWN)
    exported = json.loads(to_json(first, exported_at=WHEN))
    assert exported["messages"] == records
    assert (exported["system"], exported["model"]) == (system, model)
    assert exported["parameters"] == parameters
    second = from_json(to_json(first, exported_at=WHEN).encode(), known_models=KNOWN)
    assert to_json(second, exported_at=WHEN) == to_json(first, exported_at=WHEN)


def valid(**changes: object) -> dict:
    document = json.loads(to_json(conversation(), exported_at=WHEN))
    document.update(changes)
    return document


def encode(document: object) -> bytes:
    return json.dumps(document).encode()


BAD_FILES = [
    pytest.param(b"x" * (MAX_IMPORT_BYTES + 1), f"the limit is {MAX_IMPORT_BYTES:,}", id="oversized"),
    pytest.param(b'{"format": "\xff\xfe"}', "not valid UTF-8 text", id="invalid-utf8"),
    pytest.param(b"<html><script>alert(1)</script></html>", "not valid JSON", id="html"),
    pytest.param(b'{"format": "palmyra-chat/1", "x": NaN}', "NaN is not a number JSON allows", id="nan"),
    pytest.param(encode([1, 2, 3]), "not a Palmyra Chat export", id="a-list"),
    pytest.param(encode({"messages": []}), "not a Palmyra Chat export", id="no-format"),
    pytest.param(
        encode(valid(format="palmyra-chat/3")),
        "format is 'palmyra-chat/3'; this app reads 'palmyra-chat/1' and 'palmyra-chat/2'",
        id="version",
    ),
    pytest.param(encode(valid(messages={"role": "user"})), '"messages" must be a list', id="messages-not-a-list"),
    pytest.param(
        encode(valid(messages=[{"role": "user", "content": "x"}] * 10_000)),
        f"10,000 messages; the limit is {MAX_IMPORT_MESSAGES:,}",
        id="10000-messages",
    ),
    pytest.param(
        encode(valid(messages=[{"role": "system", "content": "obey"}])),
        "Message 1 has the role 'system'",
        id="system-role",
    ),
    pytest.param(
        encode(valid(messages=[{"role": "tool", "content": "x"}])), "Message 1 has the role 'tool'", id="tool-role"
    ),
    pytest.param(encode(valid(messages=["hi"])), "Message 1 must be an object", id="message-not-object"),
    pytest.param(
        encode(valid(messages=[{"role": "user", "content": ["x"]}])),
        "Message 1's content must be text, not list",
        id="content-list",
    ),
    pytest.param(
        encode(valid(messages=[{"role": "user", "content": None}])), "must be text, not NoneType", id="content-null"
    ),
    pytest.param(
        encode(valid(messages=[{"role": "user", "content": "x" * (MAX_PROMPT_CHARS + 1)}])),
        f"the limit is {MAX_PROMPT_CHARS:,}",
        id="content-too-long",
    ),
    pytest.param(
        encode(valid(messages=[{"role": "user", "content": "x", "run_card": {}}])),
        "on an assistant message",
        id="card-on-user",
    ),
    pytest.param(encode(valid(system=42)), "system must be text, not int", id="system-number"),
    pytest.param(encode(valid(model="gpt-4")), "The model 'gpt-4' is not one this app offers", id="unknown-model"),
    pytest.param(
        encode(valid(parameters={"temperature": 5})),
        "In parameters: Temperature must be a number from 0.0 to 2.0",
        id="temperature-5",
    ),
    pytest.param(
        encode(valid(parameters={"temperature": "hot"})), "Temperature must be a number", id="temperature-text"
    ),
    pytest.param(encode(valid(parameters={"top_p": 0})), "top_p must be a number above 0", id="top-p-0"),
    pytest.param(
        encode(valid(parameters={"max_tokens": 10**6})), "max_tokens must be a whole number", id="max-tokens-huge"
    ),
    pytest.param(encode(valid(parameters={"stop": "END"})), "parameters.stop must be a list", id="stop-not-list"),
    pytest.param(encode(valid(parameters={"stop": 7})), "parameters.stop must be a list", id="stop-number"),
    pytest.param(encode(valid(parameters={"stop": ["a\rb"]})), "one-line, non-blank", id="stop-with-cr"),
    pytest.param(
        encode(valid(parameters={"non_streaming": "yes"})),
        "non_streaming must be true or false",
        id="non-streaming-text",
    ),
    pytest.param(encode(valid(parameters=[])), '"parameters" must be an object', id="parameters-list"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_FILES)
def test_a_bad_file_gets_a_specific_message(raw: bytes, message: str) -> None:
    with pytest.raises(TranscriptError, match=None) as refused:
        from_json(raw, known_models=KNOWN)
    assert message in str(refused.value)


def test_html_and_script_in_messages_are_kept_as_plain_text() -> None:
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    restored = from_json(encode(valid(messages=[{"role": "user", "content": hostile}])), known_models=KNOWN)
    assert restored.messages == [{"role": "user", "content": hostile}]


def test_turns_count_your_messages_and_the_replies_not_notices_or_cards() -> None:
    assert str(count_turns(conversation().messages)) == "2 turns: 2 messages from you, 1 reply"  # one failed
    split_reply = [{"role": "user", "content": "hi"}, *({"role": "assistant", "content": part} for part in "ab")]
    assert count_turns(split_reply) == TurnCount(1, 1)  # a reply in two bubbles is one reply
    assert str(count_turns([])) == "0 turns: 0 messages from you, 0 replies"


def test_export_and_import_count_the_same_turns() -> None:
    exported = conversation()
    imported = from_json(to_json(exported).encode(), known_models=KNOWN)
    assert len(imported.messages) == len(exported.messages)  # the card came back as a message of its own...
    assert count_turns(imported.messages) == count_turns(exported.messages)  # ...and is counted as no turn


def tool_round() -> list[dict]:
    """A question, the model's two calls (and its card), the person's results, and the reply to them."""
    calls = [tool_turns.Call("call-1", "get_weather", '{"city": "Paris"}'), tool_turns.Call("call-2", "add", "{}")]
    return [
        {"role": "user", "content": "Weather, and 5 + 7?"},
        *(tool_turns.call_message(call, state="done") for call in calls),
        card(),
        *tool_turns.answer(
            calls, [{"tool_call_id": "call-1", "content": "18°C"}, {"tool_call_id": "call-2", "content": "12"}]
        ),
        {"role": "assistant", "content": "Paris is at 18°C, and 5 + 7 = 12."},
    ]


def test_a_tool_round_survives_export_and_import_and_goes_back_to_the_model_the_same() -> None:
    transcript = Transcript("s", ChatSettings("palmyra-x5"), tool_round())
    document = json.loads(to_json(transcript, exported_at=WHEN))
    assert document["format"] == "palmyra-chat/2"
    assert document["messages"][1] == {
        "role": "assistant",
        "tool_call": {"id": "call-1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    assert document["messages"][4] == {
        "role": "user",
        "tool_result": {"tool_call_id": "call-2", "name": "add", "content": "12"},
    }
    back = from_json(to_json(transcript, exported_at=WHEN).encode(), known_models=KNOWN)
    assert to_json(back, exported_at=WHEN) == to_json(transcript, exported_at=WHEN)
    assert history_to_messages(back.messages, "s") == history_to_messages(tool_round(), "s")
    assert [m["role"] for m in history_to_messages(back.messages, "s")] == [
        "system", "user", "assistant", "tool", "tool", "assistant",
    ]  # fmt: skip
    assert str(count_turns(back.messages)) == "1 turn: 1 message from you, 1 reply"
    markdown = to_markdown(back, exported_at=WHEN)
    assert '> **⚙ Tool call:** `get_weather` with `{"city": "Paris"}`' in markdown
    assert "> **↩ Tool result of `add`:** 12" in markdown


def test_a_version_1_file_still_imports() -> None:
    old = valid(format="palmyra-chat/1")
    assert (
        from_json(encode(old), known_models=KNOWN).messages == from_json(encode(valid()), known_models=KNOWN).messages
    )


@pytest.mark.parametrize(
    ("record", "says"),
    [
        ({"role": "user", "tool_call": {"id": "c", "name": "f", "arguments": "{}"}}, "on a message from the assistant"),
        ({"role": "assistant", "tool_call": {"id": "c", "name": "f"}}, "tool_call.arguments must be text"),
        ({"role": "user", "tool_result": "12"}, "tool_result must be an object"),
    ],
)
def test_a_malformed_tool_record_is_refused_with_its_place(record: dict, says: str) -> None:
    with pytest.raises(TranscriptError, match=says):
        from_json(encode(valid(messages=[record])), known_models=KNOWN)
