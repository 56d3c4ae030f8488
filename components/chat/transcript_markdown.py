"""A conversation as readable Markdown, to read and share: roles as headings, replies as they were (code blocks
intact), notices, tool calls and results quoted, each reply's run card as a line, a question's images counted.

The JSON export, which imports back, is transcript.py's; this reads the same records.
"""

from __future__ import annotations

from datetime import UTC, datetime

from components import __version__
from components.chat import tool_turns
from components.chat.transcript import Transcript, records_of


def to_markdown(transcript: Transcript, *, exported_at: datetime | None = None) -> str:
    """The conversation as Markdown: roles as headings, text as it was (code blocks intact), cards as a line."""
    settings = transcript.settings
    when = (exported_at or datetime.now(UTC)).isoformat(timespec="seconds")
    lines = [
        "# Palmyra Chat conversation",
        "",
        f"Exported {when} from Palmyra Chat {__version__} · model `{settings.model}` · "
        f"temperature {settings.temperature:g}",
        "",
        "## System",
        "",
        transcript.system,
    ]
    for record in records_of(transcript.messages, transcript.image_root):
        heading = "User" if record["role"] == "user" else "Assistant"
        if "tool_call" in record:
            call = record["tool_call"]
            lines += ["", f"> **{tool_turns.TOOL_CALL}:** `{call['name']}` with `{call['arguments']}`"]
            continue
        if "tool_result" in record:
            result = record["tool_result"]
            lines += [
                "",
                f"> **{tool_turns.TOOL_RESULT} of `{result['name']}`:** " + result["content"].replace("\n", "\n> "),
            ]
            continue
        if "notice" in record:
            lines += ["", f"> **{record['notice']}:** " + record["content"].replace("\n", "\n> ")]
            continue
        lines += ["", f"## {heading}", "", record["content"]]
        if record.get("images"):
            lines += ["", f"*{len(record['images'])} image(s) attached*"]
        if "run_card" in record:
            lines += ["", f"*Run card: {record['run_card']['summary']}*"]
    return "\n".join(lines) + "\n"
