"""A conversation, free of Gradio and of the SDK: the chat's history as Writer's messages, the checks
of what a visitor typed, and trimming to the context budget.

The chat shows more than the conversation: notices (a retry, an error, a trimmed history) and
each reply's run card are messages too, marked by a metadata title (``notice``, ``is_notice``:
their one home). They never reach the model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from components.chat import images, tool_turns
from components.chat.kinds import InvalidRequestError, is_number
from components.chat.messages import content_files, content_text, metadata_of

# The cookbook's system message, verbatim.
SYSTEM_MESSAGE = (
    "You are a helpful assistant. Respond concisely and politely to user queries. Use clear, simple "
    "language. When asked for technical explanations, provide detailed and accurate information, but "
    "avoid jargon. If the user asks for assistance with a task, offer step-by-step guidance."
)
DEFAULT_TEMPERATURE = 1.0
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.0, 2.0  # the cookbook's range; Palmyra X5 accepts 0.0-2.0
# ~15k tokens: at Writer's default 25,000 tokens/minute, a longer prompt is rate-limited on its own.
MAX_PROMPT_CHARS = 60_000
CHARS_PER_TOKEN = 4  # the usual rule of thumb for English; only used to decide what to trim
RUN_CARD = "Run card"  # the title of a reply's card in the chat; exports find cards by it


def notice(title: str, text: str, *, role: str = "assistant", **metadata: Any) -> dict[str, Any]:
    """A chat message that the user sees and the model never does (see ``is_notice``)."""
    return {"role": role, "content": text, "metadata": {"title": title, **metadata}}


def card_message(details: str, summary: str) -> dict[str, Any]:
    """A run card as a collapsed chat message under its reply: ``summary`` is its one line."""
    return notice(RUN_CARD, details, log=summary, status="done")


def notice_title(message: Mapping[str, Any]) -> str | None:
    """A notice's title (``RUN_CARD`` for a run card); None for a turn of the conversation."""
    title = metadata_of(message).get("title")
    return str(title) if title else None


def card_summary(message: Mapping[str, Any]) -> str:
    """A run card message's one line."""
    return str(metadata_of(message).get("log") or "")


def is_notice(message: Mapping[str, Any]) -> bool:
    """A UI annotation (an error notice, a run card), marked by a metadata title: not a conversation turn."""
    return notice_title(message) is not None


ImageReader = Callable[[str], dict[str, Any]]  # a file's path → its image_url fragment (images.fragment)


def history_to_messages(
    history: Iterable[Mapping[str, Any]], system: str, read_image: ImageReader | None = None
) -> list[dict[str, Any]]:
    """Convert Gradio chat history to Writer's message list, system message first.

    Works on both shapes Gradio gives (string content, or a list of parts) without
    mutating them. Notices are skipped. Tool calls join their reply's assistant message as its
    ``tool_calls``, and each result becomes a ``tool`` message (tool_turns.py). Otherwise the
    result alternates user/assistant: a user turn that got no reply (it failed, or was a
    ``!messages`` command) is dropped, as are calls left unanswered, and an assistant reply
    shown as several bubbles is joined into one turn. A question with attached images becomes
    Writer's fragments, its text first, each image read with ``read_image`` (images.fragment).
    """
    turns: list[dict[str, Any]] = []
    for message in history:
        role = message.get("role")
        text, files = content_text(message.get("content")), content_files(message.get("content"))
        call, result = tool_turns.read_call(message), tool_turns.read_result(message)
        if call is not None:
            _add_call(turns, call)
        elif result is not None:
            call_id, name, content = result
            turns.append({"role": "tool", "tool_call_id": call_id, "name": name, "content": content})
        elif role == "user" and files and not is_notice(message):
            _drop_unanswered(turns)
            turns.append({"role": "user", "content": text, _FILES: files})
        elif role not in ("user", "assistant") or is_notice(message) or not text.strip():
            continue
        elif role == "user":
            _drop_unanswered(turns)
            turns.append({"role": "user", "content": text})
        elif turns and turns[-1]["role"] == "assistant" and "tool_calls" not in turns[-1]:
            turns[-1] = {"role": "assistant", "content": turns[-1]["content"] + "\n\n" + text}
        elif turns:
            turns.append({"role": "assistant", "content": text})
    _drop_unanswered(turns)
    # Images are read only for the questions that stay: one that was refused (a file that is no image, a model
    # that takes none) got no reply, and must not keep the conversation from going on.
    turns = [_read_images(turn, read_image) if _FILES in turn else turn for turn in turns]
    system_turn = [{"role": "system", "content": system}] if system.strip() else []
    return system_turn + turns


_FILES = "files"  # a question's attached files, until they are read as Writer's image fragments


def _read_images(turn: dict[str, Any], read_image: ImageReader | None) -> dict[str, Any]:
    return {"role": "user", "content": _with_images(turn["content"], turn[_FILES], read_image)}


def _with_images(text: str, paths: Sequence[str], read_image: ImageReader | None) -> list[dict[str, Any]]:
    if read_image is None:
        raise InvalidRequestError("This conversation has images, and this request cannot send them.")
    fragments = [read_image(path) for path in paths]
    return [{"type": "text", "text": text}, *fragments] if text.strip() else fragments


def _add_call(turns: list[dict[str, Any]], call: tool_turns.Call) -> None:
    """A call joins the reply it came with: the assistant turn before it, or a new one with no text after
    a question or the previous round's results."""
    if not turns:
        return  # a call with no question before it: nothing to answer
    if turns[-1]["role"] != "assistant":
        turns.append({"role": "assistant", "content": ""})
    wire = {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
    turns[-1] = {**turns[-1], "tool_calls": [*turns[-1].get("tool_calls", []), wire]}


def _drop_unanswered(turns: list[dict[str, Any]]) -> None:
    """Drop what a request must not end the history with: an unanswered question, calls without all results."""
    while turns:
        last = turns[-1]
        if last["role"] == "user":
            turns.pop()
            continue
        if last["role"] == "assistant" and "tool_calls" in last:
            turns.pop()  # calls that got no results
            if last["content"]:
                turns.append({"role": "assistant", "content": last["content"]})
            continue
        if last["role"] == "tool":
            start = len(turns)
            while start and turns[start - 1]["role"] == "tool":
                start -= 1
            asked = [call["id"] for call in turns[start - 1].get("tool_calls", [])] if start else []
            if [result["tool_call_id"] for result in turns[start:]] != asked:
                del turns[start:]  # results that do not answer every call, in order
                continue
        return


def build_messages(
    history: Iterable[Mapping[str, Any]],
    prompt: str | None,
    system: str,
    *,
    images: Sequence[str] = (),
    read_image: ImageReader | None = None,
) -> list[dict[str, Any]]:
    """The full message list for a request: system, the history, then the new prompt with its ``images`` (none
    when the history ends with tool results, which the model is to read)."""
    messages = history_to_messages(history, system, read_image)
    if prompt is None:
        return messages
    content = _with_images(prompt, images, read_image) if images else prompt
    return [*messages, {"role": "user", "content": content}]


def check_parameters(temperature: object, model: object, models: Iterable[str]) -> float:
    """The temperature as a float, after checking both values; raises InvalidRequestError."""
    if not is_number(temperature) or not MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE:  # NaN fails the range too
        msg = f"Temperature must be a number from {MIN_TEMPERATURE} to {MAX_TEMPERATURE}, not {temperature!r}."
        raise InvalidRequestError(msg, from_api_only=True)
    known = list(models)
    if model not in known:
        msg = f"Unknown model {model!r}. Choose one of: {', '.join(known)}."
        raise InvalidRequestError(msg, from_api_only=True)
    return float(temperature)


def check_prompt(prompt: object, system: object) -> str:
    """The prompt, after checking it and the system message; raises InvalidRequestError."""
    if not isinstance(prompt, str):
        msg = "The prompt and the system message must be text."
        raise InvalidRequestError(msg, from_api_only=True)
    if not prompt.strip():
        msg = "Type a prompt first."
        raise InvalidRequestError(msg)
    if len(prompt) > MAX_PROMPT_CHARS:
        msg = f"The prompt is {len(prompt):,} characters long; the limit is {MAX_PROMPT_CHARS:,}. Shorten it."
        raise InvalidRequestError(msg)
    check_system(system)
    return prompt


def check_system(system: object) -> str:
    """The system message, after checking it; raises InvalidRequestError."""
    if not isinstance(system, str):
        msg = "The prompt and the system message must be text."
        raise InvalidRequestError(msg, from_api_only=True)
    if len(system) > MAX_PROMPT_CHARS:
        msg = f"The system message is {len(system):,} characters long; the limit is {MAX_PROMPT_CHARS:,}. Shorten it."
        raise InvalidRequestError(msg)
    return system


def estimate_tokens(message: Mapping[str, Any]) -> int:
    """A cheap upper-side estimate: about 4 characters a token, a fixed count an image, plus the framing."""
    calls = json.dumps(message["tool_calls"], ensure_ascii=False) if "tool_calls" in message else ""
    content = message["content"]
    if isinstance(content, list):  # Writer's fragments: text, and images
        text = "".join(part.get("text", "") for part in content)
        return (len(text) + len(calls)) // CHARS_PER_TOKEN + images.IMAGE_TOKENS * images.count([message]) + 4
    return (len(content) + len(calls)) // CHARS_PER_TOKEN + 4


def fit_to_context(messages: list[dict[str, Any]], max_tokens: int) -> tuple[list[dict[str, Any]], int]:
    """Drop the oldest exchanges until the messages fit ``max_tokens``; return them and how many turns went.

    The system message and the last question always stay, with the tool calls and results that followed
    it; raises InvalidRequestError when even they do not fit.
    """
    head = messages[:1] if messages and messages[0]["role"] == "system" else []
    last_question = max((i for i, m in enumerate(messages) if m["role"] == "user"), default=len(messages) - 1)
    middle, kept = messages[len(head) : last_question], messages[last_question:]
    budget = max_tokens - sum(estimate_tokens(m) for m in (*head, *kept))
    if budget < 0:
        msg = f"The prompt and system message are too long for the context budget ({max_tokens:,} tokens)."
        raise InvalidRequestError(msg)
    total, dropped = sum(estimate_tokens(m) for m in middle), 0
    while middle and total > budget:
        total -= estimate_tokens(middle[0])
        middle, dropped = middle[1:], dropped + 1
        while middle and middle[0]["role"] != "user":  # never start the history with a reply or a result
            total -= estimate_tokens(middle[0])
            middle, dropped = middle[1:], dropped + 1
    return [*head, *middle, *kept], dropped
