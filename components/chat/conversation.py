"""A conversation, free of Gradio and of the SDK: the chat's history as Writer's messages, the checks
of what a visitor typed, and trimming to the context budget.

The chat shows more than the conversation: notices (a retry, an error, a trimmed history) and
each reply's run card are messages too, marked by a metadata title (``notice``, ``is_notice``:
their one home). They never reach the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from components.chat.params import InvalidRequestError, is_number

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
    metadata = message.get("metadata")
    title = metadata.get("title") if isinstance(metadata, Mapping) else None
    return str(title) if title else None


def card_summary(message: Mapping[str, Any]) -> str:
    """A run card message's one line."""
    metadata = message.get("metadata")
    return str(metadata.get("log") or "") if isinstance(metadata, Mapping) else ""


def content_text(content: Any) -> str:
    """The text of a message's content: a string, or Gradio's list of parts (``[{"type": "text", "text"}]``)."""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable) and not isinstance(content, Mapping):
        return "".join(p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") == "text")
    return ""  # files and components have no text to send


def is_notice(message: Mapping[str, Any]) -> bool:
    """A UI annotation (an error notice, a run card), marked by a metadata title: not a conversation turn."""
    return notice_title(message) is not None


def history_to_messages(history: Iterable[Mapping[str, Any]], system: str) -> list[dict[str, str]]:
    """Convert Gradio chat history to Writer's ``{"role", "content"}`` list, system message first.

    Works on both shapes Gradio gives (string content, or a list of parts) without
    mutating them. Notices are skipped. The result alternates user/assistant: a user
    turn that got no reply (it failed, or was a ``!messages`` command) is dropped, and
    an assistant reply shown as several bubbles is joined into one turn.
    """
    turns: list[dict[str, str]] = []
    for message in history:
        role = message.get("role")
        text = content_text(message.get("content"))
        if role not in ("user", "assistant") or is_notice(message) or not text.strip():
            continue
        if role == "user":
            if turns and turns[-1]["role"] == "user":
                turns.pop()  # the previous question went unanswered
            turns.append({"role": "user", "content": text})
        elif turns and turns[-1]["role"] == "assistant":
            turns[-1] = {"role": "assistant", "content": turns[-1]["content"] + "\n\n" + text}
        elif turns:
            turns.append({"role": "assistant", "content": text})
    if turns and turns[-1]["role"] == "user":
        turns.pop()  # the last question went unanswered; the caller adds the new one
    system_turn = [{"role": "system", "content": system}] if system.strip() else []
    return system_turn + turns


def build_messages(history: Iterable[Mapping[str, Any]], prompt: str, system: str) -> list[dict[str, str]]:
    """The full message list for a request: system, the history, then the new prompt."""
    return [*history_to_messages(history, system), {"role": "user", "content": prompt}]


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
    if not isinstance(prompt, str) or not isinstance(system, str):
        msg = "The prompt and the system message must be text."
        raise InvalidRequestError(msg, from_api_only=True)
    if not prompt.strip():
        msg = "Type a prompt first."
        raise InvalidRequestError(msg)
    for name, text in (("prompt", prompt), ("system message", system)):
        if len(text) > MAX_PROMPT_CHARS:
            msg = f"The {name} is {len(text):,} characters long; the limit is {MAX_PROMPT_CHARS:,}. Shorten it."
            raise InvalidRequestError(msg)
    return prompt


def estimate_tokens(message: Mapping[str, str]) -> int:
    """A cheap upper-side estimate: about 4 characters a token, plus the message's framing."""
    return len(message["content"]) // CHARS_PER_TOKEN + 4


def fit_to_context(messages: list[dict[str, str]], max_tokens: int) -> tuple[list[dict[str, str]], int]:
    """Drop the oldest exchanges until the messages fit ``max_tokens``; return them and how many turns went.

    The system message and the new prompt always stay; raises InvalidRequestError when even they do not fit.
    """
    head = messages[:1] if messages and messages[0]["role"] == "system" else []
    middle, prompt = messages[len(head) : -1], messages[-1]
    budget = max_tokens - sum(estimate_tokens(m) for m in (*head, prompt))
    if budget < 0:
        msg = f"The prompt and system message are too long for the context budget ({max_tokens:,} tokens)."
        raise InvalidRequestError(msg)
    total, dropped = sum(estimate_tokens(m) for m in middle), 0
    while middle and total > budget:
        total -= estimate_tokens(middle[0])
        middle, dropped = middle[1:], dropped + 1
        if middle and middle[0]["role"] == "assistant":  # never start the history with a reply
            total -= estimate_tokens(middle[0])
            middle, dropped = middle[1:], dropped + 1
    return [*head, *middle, prompt], dropped
