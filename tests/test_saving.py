"""Save and load through the launched app: export, import into a new session, continue; bad files change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from components.chat.transcript import FORMAT, MAX_IMPORT_MESSAGES
from components.ui.saved_chats import entry_label
from standin import StandIn, reply_text
from tests.conftest import SYSTEM

SETTINGS = {"temperature": 0.4, "non_streaming": False, "model": "palmyra-x4", "system": SYSTEM}


def chat(app: Client, message: str) -> None:
    app.predict(
        message=message,
        temperature=0.4,
        non_streaming=False,
        model="palmyra-x4",
        system=SYSTEM,
        own_key="",
        top_p=0.9,
        max_tokens=None,
        stop="",
        api_name="/chat",
    )


def export(app: Client) -> tuple[Path, Path, str]:
    json_file, markdown_file, status = app.predict(
        system=SYSTEM,
        model="palmyra-x4",
        temperature=0.4,
        non_streaming=False,
        top_p=0.9,
        max_tokens=None,
        stop="",
        api_name="/export_conversation",
    )
    return Path(json_file["value"]), Path(markdown_file["value"]), status


def load(app: Client, path: Path) -> tuple:
    return app.predict(path=handle_file(str(path)), api_name="/import_conversation")


def test_an_imported_conversation_continues_in_a_new_session(app_url: str, standin: StandIn) -> None:
    first = Client(app_url, verbose=False)
    chat(first, "What's the fastest bird?")
    chat(first, "Tell me more")
    json_path, markdown_path, status = export(first)
    one, two = (r.body for r in standin.chat_requests())
    assert status == "The downloads hold 2 turns: 2 messages from you, 2 replies."  # cards are no turns

    document = json.loads(json_path.read_text())
    assert document["format"] == FORMAT and document["model"] == "palmyra-x4" and document["system"] == SYSTEM
    assert document["parameters"] == {
        "temperature": 0.4,
        "non_streaming": False,
        "top_p": 0.9,
        "max_tokens": None,
        "stop": [],
        "logprobs": False,
        "tools": None,
        "tool_choice": None,
        "response_format": None,
    }
    assert [(m["role"], m["content"]) for m in document["messages"]] == [
        ("user", "What's the fastest bird?"), ("assistant", reply_text(one)),
        ("user", "Tell me more"), ("assistant", reply_text(two)),
    ]  # fmt: skip
    assert all("top_p 0.9" in m["run_card"]["summary"] for m in document["messages"][1::2])
    markdown = markdown_path.read_text()
    assert (
        f"## User\n\nTell me more\n\n## Assistant\n\n{reply_text(two)}\n\n*Run card: palmyra-x4 · T 0.4 · top_p 0.9"
        in markdown
    )

    second = Client(app_url, verbose=False)  # another visitor, or the same one tomorrow
    restored = load(second, json_path)
    saved, *settings = restored[1:-1]
    assert settings == [SYSTEM, "palmyra-x4", 0.4, False, "0.9", "", "", False, "", "", ""]  # the settings came back
    assert entry_label(saved[0]).startswith("What's the fastest… · 2 turns · ")
    assert entry_label(saved[0]).endswith(" UTC · imported")  # a new saved chat, marked as imported
    assert (
        restored[-1]
        == "Imported 2 turns: 2 messages from you, 2 replies. The next message continues this conversation."
    )
    chat(second, "And the slowest?")
    assert standin.chat_requests()[-1].body["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "What's the fastest bird?"},
        {"role": "assistant", "content": reply_text(one)},
        {"role": "user", "content": "Tell me more"},
        {"role": "assistant", "content": reply_text(two)},
        {"role": "user", "content": "And the slowest?"},
    ]  # the run cards did not go back to the model


def test_export_import_export_gives_the_same_file(app_url: str, standin: StandIn) -> None:
    app = Client(app_url, verbose=False)
    chat(app, "naïve — 日本語 🚀 ```code```")
    before, _, _ = export(app)
    load(app, before)
    after, _, _ = export(app)
    strip = lambda path: {k: v for k, v in json.loads(path.read_text()).items() if k != "exported_at"}  # noqa: E731
    assert strip(after) == strip(before)


def bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    def write(name: str, content: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content)
        return path

    many = {
        "format": FORMAT,
        "system": "s",
        "model": "palmyra-x5",
        "messages": [{"role": "user", "content": "x"}] * 10_000,
    }
    return {
        "html": (write("page.json", b"<html><script>alert(1)</script></html>"), "not valid JSON"),
        "utf8": (write("latin1.json", '{"format": "é"}'.encode("latin-1")), "not valid UTF-8"),
        "many": (write("many.json", json.dumps(many).encode()), f"the limit is {MAX_IMPORT_MESSAGES:,}"),
        "big": (write("big.json", b" " * 2_000_001), "the limit is 2,000,000"),
    }


@pytest.mark.parametrize("kind", ["html", "utf8", "many", "big"])
def test_a_bad_file_leaves_the_conversation_as_it_was(
    app_url: str, standin: StandIn, tmp_path: Path, kind: str
) -> None:
    app = Client(app_url, verbose=False)
    chat(app, "keep me")
    path, message = bad_files(tmp_path)[kind]
    status = load(app, path)[-1]
    assert status.startswith("⚠️ **Nothing imported:**") and message in status and "as it was" in status
    chat(app, "still here?")
    sent = standin.chat_requests()[-1].body["messages"]
    assert [m["content"] for m in sent[1:]] == ["keep me", reply_text(standin.chat_requests()[0].body), "still here?"]
