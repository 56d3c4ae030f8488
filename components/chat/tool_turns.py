"""Tool calls and their results as chat messages: how the chat shows them, and how they go back to Writer.

A call is an assistant message titled ``TOOL_CALL`` whose metadata ``id`` is the call's id and
whose content is its arguments, pretty-printed in a fence (as received when they are not JSON);
it is shown open, so that the person sees what to answer. A result is a user message titled
``TOOL_RESULT`` with the id ``<call id>/result``. Only a call that arrived whole is sent back; one
still streaming (status ``pending``), or whose reply was cut (``INCOMPLETE_CALL``), is shown but
never sent: Writer would get half a call. Knows nothing of Gradio.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.chat.kinds import InvalidRequestError
from components.chat.messages import content_text, metadata_of

TOOL_CALL = "⚙ Tool call"
INCOMPLETE_CALL = "⚠ Incomplete tool call"
TOOL_RESULT = "↩ Tool result"
RESULT_SUFFIX = "/result"
NOT_JSON = "arguments are not valid JSON: shown as received"
NOT_SENT = "the reply ended before this call was whole: it is not sent back"
MAX_RESULT_CHARS = 20_000  # a tool's answer, as the model will read it


@dataclass(frozen=True)
class Call:
    """A function call as the chat holds it."""

    id: str
    name: str
    arguments: str  # as Writer sends them: a JSON string


def call_message(call: Call, *, state: str) -> dict[str, Any]:
    """A call in the chat. ``state``: "streaming" (still arriving), "done" (whole) or "incomplete" (cut)."""
    try:
        shown, log = fenced(json.dumps(json.loads(call.arguments), indent=2, ensure_ascii=False), "json"), None
    except json.JSONDecodeError:
        shown, log = fenced(call.arguments, "text"), NOT_JSON
    title = INCOMPLETE_CALL if state == "incomplete" else TOOL_CALL
    metadata: dict[str, Any] = {"title": f"{title}: {call.name or '…'}", "id": call.id}
    if state == "incomplete":
        log = NOT_SENT
    if log:
        metadata["log"] = log
    if state == "streaming":
        metadata["status"] = "pending"  # a spinner beside it, until it is whole
    return {"role": "assistant", "content": shown, "metadata": metadata}


def result_message(call: Call, content: str) -> dict[str, Any]:
    """The person's answer to a call, shown on their side of the chat."""
    language = "json" if _is_json(content) else "text"
    metadata = {"title": f"{TOOL_RESULT}: {call.name}", "id": call.id + RESULT_SUFFIX}  # shown open, as its call
    return {"role": "user", "content": fenced(content, language), "metadata": metadata}


def read_call(message: Mapping[str, Any]) -> Call | None:
    """The call a chat message holds, when it is a whole one (sendable); else None."""
    metadata = metadata_of(message)
    title = str(metadata.get("title") or "")
    if (
        message.get("role") != "assistant"
        or not title.startswith(TOOL_CALL + ": ")
        or metadata.get("status") == "pending"
    ):
        return None
    body = unfenced(content_text(message.get("content")))
    if metadata.get("log") != NOT_JSON:
        try:
            body = json.dumps(json.loads(body), ensure_ascii=False)  # compact again, as the model wrote it
        except json.JSONDecodeError:
            return None
    return Call(str(metadata.get("id") or ""), title.removeprefix(TOOL_CALL + ": "), body)


def read_result(message: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(call id, function name, content) of a result message; else None."""
    metadata = metadata_of(message)
    title, result_id = str(metadata.get("title") or ""), str(metadata.get("id") or "")
    if not title.startswith(TOOL_RESULT + ": ") or not result_id.endswith(RESULT_SUFFIX):
        return None
    return (
        result_id.removesuffix(RESULT_SUFFIX),
        title.removeprefix(TOOL_RESULT + ": "),
        unfenced(content_text(message.get("content"))),
    )


def settled(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The chat after a reply was stopped: calls still arriving become incomplete ones, never sent back."""
    out = []
    for message in messages:
        metadata = metadata_of(message)
        if str(metadata.get("title") or "").startswith(TOOL_CALL) and metadata.get("status") == "pending":
            name = str(metadata["title"]).removeprefix(TOOL_CALL + ": ")
            call = Call(str(metadata.get("id") or ""), name, unfenced(content_text(message.get("content"))))
            out.append(call_message(call, state="incomplete"))
        else:
            out.append(dict(message))
    return out


def pending_calls(history: Sequence[Mapping[str, Any]]) -> list[Call]:
    """The calls of the model's last reply that have no result yet, in order: what the person is to answer."""
    calls: list[Call] = []
    answered: set[str] = set()
    for message in history:
        call, result = read_call(message), read_result(message)
        if call is not None:
            calls.append(call)
        elif result is not None:
            answered.add(result[0])
        elif message.get("role") in ("user", "assistant") and not metadata_of(message).get("title"):
            calls, answered = [], set()  # a turn of conversation: earlier calls are behind it
    return [call for call in calls if call.id not in answered]


def calls_with_ids(history: Sequence[Mapping[str, Any]], ids: Sequence[str]) -> list[Call]:
    """The calls of ``history`` with these ids, in the ids' order, whatever the status the chat shows them
    with: a page's copy of the chat can be one update behind the reply that made them."""
    found: dict[str, Call] = {}
    for message in history:
        metadata = metadata_of(message)
        title = str(metadata.get("title") or "")
        if message.get("role") == "assistant" and title.startswith(TOOL_CALL + ": ") and metadata.get("id") in ids:
            arguments = unfenced(content_text(message.get("content")))
            found[str(metadata["id"])] = Call(str(metadata["id"]), title.removeprefix(TOOL_CALL + ": "), arguments)
    return [found[call_id] for call_id in ids if call_id in found]


def answer(pending: Sequence[Call], results: object) -> list[dict[str, Any]]:
    """The result messages for the pending calls, in their order, from ``[{"tool_call_id", "content"}]``.

    Raises InvalidRequestError, with what is wrong, when there is nothing to answer, a result names no
    pending call, or a call has no result.
    """
    if not pending:
        raise InvalidRequestError("No tool call is waiting for a result: send a message instead.")
    if isinstance(results, str):
        try:
            results = json.loads(results)
        except json.JSONDecodeError:
            raise InvalidRequestError('results must be JSON: [{"tool_call_id": "…", "content": "…"}].') from None
    if not isinstance(results, list) or not all(isinstance(r, Mapping) for r in results):
        raise InvalidRequestError('results must be a list of {"tool_call_id", "content"} objects.')
    by_id: dict[str, str] = {}
    ids = [call.id for call in pending]
    for result in results:
        call_id, content = result.get("tool_call_id"), result.get("content")
        if call_id not in ids:
            msg = f"No pending tool call has the id {call_id!r}; the pending ones: {', '.join(ids)}."
            raise InvalidRequestError(msg)
        by_id[str(call_id)] = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    for number, call in enumerate(pending, 1):
        if not by_id.get(call.id, "").strip():
            raise InvalidRequestError(f"Give a result for every call: {call.name} (call {number}) has none.")
        if len(by_id[call.id]) > MAX_RESULT_CHARS:
            raise InvalidRequestError(f"The result for {call.name} is over {MAX_RESULT_CHARS:,} characters.")
    return [result_message(call, by_id[call.id]) for call in pending]


def fenced(text: str, language: str) -> str:
    """``text`` in a Markdown code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def unfenced(content: str) -> str:
    """The text inside ``fenced``'s fence (the content itself when it has none)."""
    match = re.fullmatch(r"(`{3,})[a-z]*\n(.*)\n\1", content, flags=re.DOTALL)
    return match.group(2) if match else content


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True
