"""Export and import of a conversation: versioned JSON (``palmyra-chat/2``); its Markdown is transcript_markdown.py.

Knows nothing of Gradio beyond the shape of its chat messages. A conversation in the page
is a list of messages; a reply's run card and the app's notices are messages with a
``metadata`` title. The JSON keeps each card with the reply it belongs to, so that
export → import → export gives the same file (apart from the export time). Version 2 adds tool
calls and their results (``tool_call`` and ``tool_result`` records), and a question's ``images`` (data URLs);
files of version 1 still import.

The reader trusts nothing: size, encoding, version, every message's role and content
type, and every setting's range are checked, and the first problem is reported in words.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components import __version__
from components.chat import conversation, images, kinds, params, tool_turns
from components.chat.conversation import RUN_CARD
from components.chat.messages import content_text
from components.chat.params import InvalidRequestError, Sampling

FORMAT = "palmyra-chat/2"
READABLE = ("palmyra-chat/1", FORMAT)  # version 1 has no tool records: it reads the same
MAX_IMPORT_BYTES = 2_000_000  # about 100 long replies; a larger file is refused before it is parsed
MAX_IMPORT_MESSAGES = 1_000
_ROLES = ("user", "assistant")


class TranscriptError(ValueError):
    """A file that cannot be imported. The message says why, for the user."""


@dataclass(frozen=True)
class ChatSettings:
    """The chat tab's settings, as exported and restored."""

    model: str
    temperature: float = conversation.DEFAULT_TEMPERATURE
    non_streaming: bool = False
    sampling: Sampling = field(default_factory=Sampling)


@dataclass(frozen=True)
class Transcript:
    """A conversation with its system message and settings."""

    system: str
    settings: ChatSettings
    messages: list[dict[str, Any]] = field(default_factory=list)  # in the chat's own shape
    # Where the chat keeps its image files: read for an export (as data URLs), written on an import.
    image_root: Path | None = None


@dataclass(frozen=True)
class TurnCount:
    """What a conversation holds, counted the same way on export and on import: notices and run cards are not turns."""

    yours: int  # messages from the user; each starts a turn
    replies: int  # the model's replies; one shown as several bubbles counts once

    def __str__(self) -> str:
        turns, yours = _count(self.yours, "turn", "turns"), _count(self.yours, "message", "messages")
        return f"{turns}: {yours} from you, {_count(self.replies, 'reply', 'replies')}"


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def count_turns(messages: Iterable[Mapping[str, Any]]) -> TurnCount:
    """The turns of a conversation in the chat's shape (either content shape)."""
    yours = replies = 0
    previous_role = None
    for record in records_of(messages):
        if "notice" in record or "tool_call" in record or "tool_result" in record:
            continue
        if record["role"] == "user":
            yours += 1
        elif previous_role != "assistant":
            replies += 1
        previous_role = record["role"]
    return TurnCount(yours, replies)


def to_json(transcript: Transcript, *, exported_at: datetime | None = None) -> str:
    """The conversation as ``palmyra-chat/2`` JSON."""
    settings = transcript.settings
    document = {
        "format": FORMAT,
        "app_version": __version__,
        "exported_at": (exported_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "system": transcript.system,
        "model": settings.model,
        "parameters": {
            "temperature": settings.temperature,
            "non_streaming": settings.non_streaming,
            **settings.sampling.exported(),
        },
        "messages": records_of(transcript.messages, transcript.image_root),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def records_of(messages: Iterable[Mapping[str, Any]], image_root: Path | None = None) -> list[dict[str, Any]]:
    """Chat messages as export records: a run card joins its reply; other notices stay notices; a question's
    images go with it as data URLs."""
    records: list[dict[str, Any]] = []
    for message in messages:
        role, text = message.get("role"), content_text(message.get("content"))
        title = conversation.notice_title(message)
        if role not in _ROLES:
            continue
        call, result = tool_turns.read_call(message), tool_turns.read_result(message)
        if call is not None:
            records.append({"role": "assistant", "tool_call": {"id": call.id, "name": call.name,
                                                               "arguments": call.arguments}})  # fmt: skip
        elif result is not None:
            call_id, name, content = result
            records.append({"role": "user", "tool_result": {"tool_call_id": call_id, "name": name, "content": content}})
        elif title == RUN_CARD and records and records[-1]["role"] == "assistant" and "notice" not in records[-1]:
            records[-1]["run_card"] = {"summary": conversation.card_summary(message), "details": text}
        elif title:
            records.append({"role": role, "content": text, "notice": title})
        else:
            urls = images.data_urls(message.get("content"), image_root) if image_root and role == "user" else []
            records.append({"role": role, "content": text, **({"images": urls} if urls else {})})
    return records


def from_json(raw: bytes, *, known_models: Iterable[str], image_root: Path | None = None) -> Transcript:
    """Read an export; raises TranscriptError with the first problem found. Its images are written under
    ``image_root`` (an app that takes no images refuses them)."""
    if len(raw) > MAX_IMPORT_BYTES:
        msg = f"The file is {len(raw):,} bytes; the limit is {MAX_IMPORT_BYTES:,}."
        raise TranscriptError(msg)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as problem:
        msg = f"The file is not valid UTF-8 text (byte {problem.start:,})."
        raise TranscriptError(msg) from None
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:  # e.g. 100,000 nested lists: the parser runs out of stack
        msg = "The file's JSON is nested too deeply to be an export."
        raise TranscriptError(msg) from None
    except ValueError as problem:
        msg = (
            f"The file is not valid JSON: {getattr(problem, 'msg', problem)} (line {getattr(problem, 'lineno', '?')})."
        )
        raise TranscriptError(msg) from None
    if not isinstance(document, dict) or "format" not in document:
        msg = f'This is not a Palmyra Chat export: it has no "format": "{FORMAT}".'
        raise TranscriptError(msg)
    if document["format"] not in READABLE:
        msg = f"This export's format is {document['format']!r}; this app reads {' and '.join(map(repr, READABLE))}."
        raise TranscriptError(msg)
    system = _text(document.get("system"), "system")
    settings = _settings(document, list(known_models))
    messages = document.get("messages")
    if not isinstance(messages, list):
        msg = '"messages" must be a list.'
        raise TranscriptError(msg)
    if len(messages) > MAX_IMPORT_MESSAGES:
        msg = f"The file holds {len(messages):,} messages; the limit is {MAX_IMPORT_MESSAGES:,}."
        raise TranscriptError(msg)
    read = [m for i, r in enumerate(messages) for m in _from_record(r, i + 1, image_root)]
    return Transcript(system, settings, read, image_root)


def _refuse_constant(name: str) -> None:
    msg = f"The file is not valid JSON: {name} is not a number JSON allows."
    raise TranscriptError(msg)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        msg = f"{where} must be text, not {type(value).__name__}."
        raise TranscriptError(msg)
    if len(value) > conversation.MAX_PROMPT_CHARS:
        msg = f"{where} is {len(value):,} characters long; the limit is {conversation.MAX_PROMPT_CHARS:,}."
        raise TranscriptError(msg)
    return value


def _settings(document: Mapping[str, Any], known_models: list[str]) -> ChatSettings:
    model = document.get("model")
    if model not in known_models:
        msg = f"The model {model!r} is not one this app offers ({', '.join(known_models)})."
        raise TranscriptError(msg)
    parameters = document.get("parameters", {})
    if not isinstance(parameters, dict):
        msg = '"parameters" must be an object.'
        raise TranscriptError(msg)
    temperature = parameters.get("temperature", conversation.DEFAULT_TEMPERATURE)
    non_streaming = parameters.get("non_streaming", False)
    if not isinstance(non_streaming, bool):
        msg = "parameters.non_streaming must be true or false."
        raise TranscriptError(msg)
    for param in params.SAMPLING:  # a list in the file: each item must be what a line of its box can hold
        if isinstance(param, kinds.Lines) and not _lines(parameters.get(param.name, [])):
            msg = f"parameters.{param.name} must be a list of one-line, non-blank texts."
            raise TranscriptError(msg)
    try:
        checked = conversation.check_parameters(temperature, model, known_models)
        sampling = Sampling.read(parameters)
    except InvalidRequestError as problem:
        raise TranscriptError(f"In parameters: {problem.message}") from None
    return ChatSettings(str(model), checked, non_streaming, sampling)


def _lines(items: object) -> bool:
    return isinstance(items, list) and all(_one_line(item) for item in items)


def _one_line(item: object) -> bool:
    return isinstance(item, str) and bool(item.strip()) and "\n" not in item and "\r" not in item


def _from_record(record: object, number: int, image_root: Path | None) -> list[dict[str, Any]]:
    """One export record as chat messages: the message, then its run card when it has one."""
    where = f"Message {number}"
    if not isinstance(record, dict):
        msg = f'{where} must be an object with "role" and "content".'
        raise TranscriptError(msg)
    role = record.get("role")
    if role not in _ROLES:
        msg = f'{where} has the role {role!r}; only "user" and "assistant" can be imported.'
        raise TranscriptError(msg)
    if "tool_call" in record or "tool_result" in record:
        messages = [_tool_record(record, role, where)]
    else:
        content = _text(record.get("content"), f"{where}'s content")
        if "notice" in record:
            return [conversation.notice(_text(record["notice"], f"{where}'s notice"), content, role=role)]
        messages = [{"role": role, "content": _with_images(content, record.get("images"), image_root, where)}]
    card = record.get("run_card")
    if card is not None:
        if role != "assistant" or not isinstance(card, dict):
            msg = f"{where}'s run_card must be an object, on an assistant message."
            raise TranscriptError(msg)
        summary = _text(card.get("summary", ""), f"{where}'s run card summary")
        details = _text(card.get("details", ""), f"{where}'s run card")
        messages.append(conversation.card_message(details, summary))
    return messages


def _with_images(text: str, urls: object, image_root: Path | None, where: str) -> Any:
    """A message's content, with the images an export gave it written back to files (as the chat holds them)."""
    if urls is None:
        return text
    if image_root is None:
        raise TranscriptError(f"{where} has images, and this app takes none.")
    try:
        return [*({"path": path} for path in images.saved(urls, image_root / "imported", where)), text]
    except InvalidRequestError as problem:
        raise TranscriptError(problem.message) from None


def _tool_record(record: dict[str, Any], role: str, where: str) -> dict[str, Any]:
    """A tool call (on an assistant message) or a tool result (on a user message), as its chat message."""
    kind, expected = ("tool_call", "assistant") if "tool_call" in record else ("tool_result", "user")
    fields = record[kind]
    if role != expected or not isinstance(fields, dict):
        msg = f"{where}'s {kind} must be an object, on a message from the {expected}."
        raise TranscriptError(msg)
    if kind == "tool_call":
        call = tool_turns.Call(*(_text(fields.get(n), f"{where}'s tool_call.{n}") for n in ("id", "name", "arguments")))
        return tool_turns.call_message(call, state="done")
    call_id, name, content = (
        _text(fields.get(n), f"{where}'s tool_result.{n}") for n in ("tool_call_id", "name", "content")
    )
    return tool_turns.result_message(tool_turns.Call(call_id, name, ""), content)
