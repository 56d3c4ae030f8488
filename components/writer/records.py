"""What a reply is, as the app keeps it: its text so far and its run card (what was sent, what came back).

Filled from the SDK's response objects; values that cannot be right are left unknown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ToolCall:
    """One function call of the model's, as it arrived (streamed fragments joined by ``index``)."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""  # JSON, as the model wrote it: not necessarily valid


@dataclass(frozen=True)
class TokenChance:
    """One token of the reply with its log probability, and the alternatives the model weighed."""

    token: str
    logprob: float
    alternatives: tuple[tuple[str, float], ...] = ()  # (token, logprob), the most likely first


@dataclass
class RunCard:
    """What was asked for and what came back, for one reply. Never sent back to the model.

    ``request`` is the exact set of arguments given to ``client.chat.chat``: what the SDK
    sent as the JSON body. Copy-as-code and exports are built from it, never from widgets.
    """

    model: str
    temperature: float
    stream: bool
    request: dict[str, Any] = field(default_factory=dict)
    response_id: str | None = None
    created: int | None = None
    finish_reason: str | None = None  # "length" means the reply was cut at max_tokens
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    first_token_s: float | None = None
    total_s: float | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)  # the functions the model called, in order
    logprobs: list[TokenChance] = field(default_factory=list)  # per token, when the request asked for them
    # A built-in tool's data, by Writer's name (e.g. "web_search_data"), as plain JSON objects.
    tool_data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # a message for the user, when the request failed
    stopped: bool = False  # the visitor pressed Stop (or left): no finish_reason came from the API
    started: float = field(default_factory=time.monotonic, repr=False, compare=False)  # monotonic clock

    def mark_stopped(self) -> None:
        """Stop was pressed: a reply still under way ends here, timed to this moment. A finished one stays as it is."""
        if self.total_s is None:
            self.stopped = True
            self.total_s = time.monotonic() - self.started

    @property
    def calls_complete(self) -> bool:
        """The model's tool calls arrived whole: they can be answered and sent back."""
        return bool(self.tool_calls) and self.finish_reason == "tool_calls" and self.error is None

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"

    @property
    def filtered(self) -> bool:
        """Writer's content filter stopped the reply."""
        return self.finish_reason == "content_filter"

    @property
    def tokens_per_second(self) -> float | None:
        """Completion tokens over the whole request's time, when both are known."""
        if self.completion_tokens is None or not self.total_s:
            return None
        return self.completion_tokens / self.total_s


@dataclass(frozen=True)
class ReplyUpdate:
    """The reply so far. The last update of a reply has ``done=True`` and the complete info."""

    text: str
    info: RunCard
    done: bool = False
    status: str | None = None  # what the app is doing meanwhile, e.g. waiting to retry

    @property
    def interrupted(self) -> bool:
        """Part of a reply arrived, then the request failed."""
        return bool(self.text) and self.info.error is not None


def take_tool_calls(info: RunCard, calls: Any) -> bool:
    """Merge a response's or a chunk's ``tool_calls`` into the card's, by ``index``; True when any came.

    Writer streams a call's id, type and name once, then repeats every key as null beside each
    fragment of the arguments (shared/writer-tools.md §3.1): nulls are skipped, fragments joined.
    A whole response's calls have ``index`` null: their position stands in for it.
    """
    for position, call in enumerate(calls or ()):
        index = call.index if isinstance(getattr(call, "index", None), int) else position
        known = next((known for known in info.tool_calls if known.index == index), None)
        if known is None:
            known = ToolCall(index)
            info.tool_calls.append(known)
        known.id = known.id or (call.id or "")
        function = call.function
        if function is not None:
            known.name = known.name or (function.name or "")
            known.arguments += function.arguments or ""
    return bool(calls)


# The data objects a built-in tool adds to a message or a delta (shared/writer-tools.md §2.2, §3.3).
TOOL_DATA_KEYS = ("web_search_data", "graph_data", "llm_data", "translation_data")


def take_tool_data(info: RunCard, message: Any) -> None:
    """Keep the built-in tools' data of a response's message or a chunk's delta.

    ``web_search_data`` is not in the SDK's delta type: it arrives as an extra attribute. Writer sends
    ``graph_data`` with every value null when no graph was searched: that is no data. An object that
    arrives again (it should come once) replaces the earlier one, whole.
    """
    for key in TOOL_DATA_KEYS:
        value = getattr(message, key, None)
        # Every chunk carries the all-null graph_data: looked at, not converted (this runs once per chunk).
        is_model = hasattr(value, "model_dump")
        fields = {**vars(value), **(getattr(value, "__pydantic_extra__", None) or {})} if is_model else value
        if not isinstance(fields, dict) or all(item is None for item in fields.values()):
            continue
        info.tool_data[key] = value.model_dump(mode="json", by_alias=True) if is_model else value


def take_logprobs(info: RunCard, logprobs: Any) -> None:
    """Append a response's or a chunk's token log probabilities to the card's."""
    for entry in getattr(logprobs, "content", None) or ():
        alternatives = tuple((top.token, top.logprob) for top in entry.top_logprobs or ())
        info.logprobs.append(TokenChance(entry.token, entry.logprob, alternatives))


def take_metadata(info: RunCard, response: Any) -> None:
    """Identity and usage from a response or chunk; values that cannot be right are left unknown."""
    info.response_id = info.response_id or response.id  # Writer gives each chunk a new id: keep the first
    info.created = info.created or _plausible_time(response.created)
    info.model = response.model or info.model
    if response.usage:
        info.prompt_tokens = _count(response.usage.prompt_tokens)
        info.completion_tokens = _count(response.usage.completion_tokens)
        info.total_tokens = _count(response.usage.total_tokens)


_EARLIEST_CREATED = 1_577_836_800  # 2020-01-01: before any Palmyra chat model
_MAX_TOKENS_COUNTED = 10_000_000  # no request has ever used this many


def _count(value: object) -> int | None:
    """A token count, or None (unknown) when it is not a plausible one."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_TOKENS_COUNTED:
        return value
    return None


def _plausible_time(created: object) -> int | None:
    """``created`` (unix seconds) when it lies between 2020 and a day from now; else None (unknown)."""
    if isinstance(created, int) and _EARLIEST_CREATED <= created <= time.time() + 86_400:
        return created
    return None
