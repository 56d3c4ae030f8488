"""The chat logic, free of Gradio: history → Writer messages, and one async generator per reply.

``generate_reply`` streams or not behind one interface (the shape of simonw/llm's
``execute``): it yields the growing text with a ``RunCard`` that ends up holding the
exact request sent, the response's metadata, timings and, on failure, a readable error. It never raises an
SDK or transport error, so a UI can always show what arrived; cancellation
(``CancelledError``, ``GeneratorExit``) passes through so Stop closes the upstream request.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import httpx
import writerai
from writerai import AsyncWriter
from writerai.types import ChatCompletion

from components.retry import DEFAULT_LIMITS, DEFAULT_RETRY, ReplyLimits, RetryPolicy
from components.streaming import coalesce

logger = logging.getLogger(__name__)

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
# Sampling limits as Writer publishes them for Palmyra X5 (shared/writer-api.md: BEDROCK, WF).
MAX_OUTPUT_TOKENS = 8192  # max_tokens: 1 up to this
MAX_STOP_SEQUENCES = 4
MAX_STOP_CHARS = 200  # a stop sequence is a short marker, not a document


@dataclass(frozen=True)
class Sampling:
    """The optional sampling parameters. Each reaches the wire only when set (None / empty: the API's default)."""

    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()

    def as_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.top_p is not None:
            params["top_p"] = self.top_p
        if self.max_tokens is not None:
            params["max_tokens"] = self.max_tokens
        if self.stop:
            params["stop"] = list(self.stop)
        return params


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
    error: str | None = None  # a message for the user, when the request failed
    stopped: bool = False  # the visitor pressed Stop (or left): no finish_reason came from the API
    started: float = field(default_factory=time.monotonic, repr=False, compare=False)  # monotonic clock

    def mark_stopped(self) -> None:
        """Stop was pressed: a reply still under way ends here, timed to this moment. A finished one stays as it is."""
        if self.total_s is None:
            self.stopped = True
            self.total_s = time.monotonic() - self.started

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


def content_text(content: Any) -> str:
    """The text of a message's content: a string, or Gradio's list of parts (``[{"type": "text", "text"}]``)."""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable) and not isinstance(content, Mapping):
        return "".join(p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") == "text")
    return ""  # files and components have no text to send


def is_notice(message: Mapping[str, Any]) -> bool:
    """A UI annotation (an error notice, a thought), marked by a metadata title: not a conversation turn."""
    metadata = message.get("metadata")
    return isinstance(metadata, Mapping) and bool(metadata.get("title"))


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


class InvalidRequestError(ValueError):
    """A request that is not sent. ``message`` is for the user."""

    def __init__(self, message: str, *, from_api_only: bool = False) -> None:
        super().__init__(message)
        self.message = message
        # True when the page's widgets cannot produce it (only a direct API call can).
        self.from_api_only = from_api_only


def check_parameters(temperature: object, model: object, models: Iterable[str]) -> float:
    """The temperature as a float, after checking both values; raises InvalidRequestError."""
    if not _is_number(temperature) or not MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE:  # NaN fails the range too
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


def check_sampling(top_p: object, max_tokens: object, stop: object) -> Sampling:
    """The optional sampling parameters, checked; blank ones stay unset. Raises InvalidRequestError.

    ``top_p`` and ``max_tokens`` come from the page as text ("" when untouched) and from
    imports and direct calls as numbers: both are read here, and anything else is refused.
    """
    top_p_value = _optional_number(top_p)
    if top_p_value is not None and not 0.0 < top_p_value <= 1.0:  # NaN fails the range too
        msg = f"top_p must be a number above 0 and at most 1, or left empty; not {_shown(top_p)}."
        raise InvalidRequestError(msg)
    max_tokens_value = _optional_number(max_tokens)
    if max_tokens_value is not None and (
        not max_tokens_value.is_integer() or not 1 <= max_tokens_value <= MAX_OUTPUT_TOKENS
    ):
        limit = f"a whole number from 1 to {MAX_OUTPUT_TOKENS:,}"
        msg = f"max_tokens must be {limit}, or left empty; not {_shown(max_tokens)}."
        raise InvalidRequestError(msg)
    if stop is None:
        stop = ""
    if not isinstance(stop, str):
        msg = "Stop sequences must be text, one per line."
        raise InvalidRequestError(msg, from_api_only=True)
    # Only line feeds separate them: str.splitlines() would also split at \x1e, \x85, \u2028 and the like.
    sequences = tuple(line.removesuffix("\r") for line in stop.split("\n") if line.strip())
    if len(sequences) > MAX_STOP_SEQUENCES:
        msg = f"Writer accepts at most {MAX_STOP_SEQUENCES} stop sequences (one per line); {len(sequences)} were given."
        raise InvalidRequestError(msg)
    if any(len(sequence) > MAX_STOP_CHARS for sequence in sequences):
        msg = f"A stop sequence may be at most {MAX_STOP_CHARS} characters long."
        raise InvalidRequestError(msg)
    max_tokens_int = None if max_tokens_value is None else int(max_tokens_value)
    return Sampling(top_p_value, max_tokens_int, sequences)


_UNREADABLE = math.nan  # fails every range check below, so the caller's message names the bad value


def _optional_number(value: object) -> float | None:
    """A parameter's value: None when left empty, NaN when it is not a number at all."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return _UNREADABLE
    return float(value) if _is_number(value) else _UNREADABLE


def _shown(value: object) -> str:
    """A bad value as the user typed it (text without quotes), bounded so that a huge one stays readable."""
    text = value.strip() if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def request_params(
    messages: list[dict[str, str]], *, model: str, temperature: float, stream: bool, sampling: Sampling
) -> dict[str, Any]:
    """The arguments of one ``client.chat.chat`` call, which the SDK sends as the JSON body."""
    params: dict[str, Any] = {"model": model, "messages": messages, "temperature": temperature}
    params |= sampling.as_params()
    params["stream"] = stream
    if stream:
        params["stream_options"] = {"include_usage": True}  # the last chunk then carries token usage
    return params


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


UNREADABLE = (
    "Writer's answer could not be read (it was not the JSON Writer's API sends). "
    "The part that arrived is kept; try again."
)
EMPTY_STREAM = "Writer's reply ended at once, with no text and no finish_reason. Try again."
NO_FINISH = "Writer's reply ended without a finish_reason, so it may be incomplete; the part that arrived is kept."


class ReplyCutError(Exception):
    """The reply was ended here (a deadline, its size, no proper end). ``message`` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnreadableAnswerError(Exception):
    """Writer's answer is not what its API documents."""


# Transient statuses, as the SDK retries them (_base_client.py `_should_retry`).
_RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


async def generate_reply(
    client: AsyncWriter,
    messages: list[dict[str, str]],
    *,
    model: str,
    temperature: float,
    stream: bool,
    sampling: Sampling = Sampling(),
    retry: RetryPolicy = DEFAULT_RETRY,
    limits: ReplyLimits = DEFAULT_LIMITS,
) -> AsyncIterator[ReplyUpdate]:
    """Yield the growing reply; the last update has ``done=True``. Non-streaming yields one text.

    Before any text has arrived, transient failures are retried with ``status`` updates
    that say so; once text has arrived a failure ends the reply, keeping what came. The
    reply ends at ``limits`` (time to the first text, whole time, size), and an answer that
    is not what Writer's API documents ends it with a message too, its traceback logged.
    """
    request = request_params(messages, model=model, temperature=temperature, stream=stream, sampling=sampling)
    info = RunCard(model=model, temperature=temperature, stream=stream, request=request)
    parts: list[str] = []  # everything received, including what the coalescer has not shown yet
    started = info.started
    for attempt in range(1, retry.attempts + 1):
        try:
            # aclosing: a Stop closes this generator at its yield, and must reach the stream inside.
            async with aclosing(_attempt(client, info, parts, limits)) as texts:
                async for text in texts:
                    yield ReplyUpdate(text, info)
            break
        except ReplyCutError as cut:
            logger.warning("Writer reply cut: %s", cut.message)
            info.error = cut.message
            break
        except (writerai.APIError, httpx.HTTPError) as exc:
            # Raw httpx errors come from inside a stream (a drop, a read timeout): the SDK does not wrap them.
            logger.warning("Writer request failed: %s (%s)", type(exc).__name__, getattr(exc, "status_code", "-"))
            delay = None if parts or attempt == retry.attempts else _retry_delay(exc, attempt, retry)
            if delay is None:
                info.error = describe_error(exc, timeout=_read_timeout(client), secrets=(client.api_key,))
                break
            reason = _short_reason(exc)
        except Exception:  # invalid JSON in the stream, an HTML page for a body: anything the SDK chokes on
            logger.exception("Writer's answer could not be read")
            info.error = UNREADABLE
            break
        status = f"{reason} Retrying in {delay:.1f} s (attempt {attempt + 1} of {retry.attempts})…"
        yield ReplyUpdate("", info, status=status)
        await asyncio.sleep(delay)
    info.total_s = time.monotonic() - started
    yield ReplyUpdate("".join(parts), info, done=True)


async def _attempt(client: AsyncWriter, info: RunCard, parts: list[str], limits: ReplyLimits) -> AsyncIterator[str]:
    """One request: yield the growing text (streaming) or nothing (the text lands in ``parts``)."""

    def time_left() -> float:
        """Seconds until this reply's deadline: the first text's while none has come, then the whole reply's."""
        deadline = limits.reply if info.first_token_s is not None or not info.stream else limits.first_token
        return min(deadline, limits.reply) - (time.monotonic() - info.started)

    try:
        response = await asyncio.wait_for(client.chat.chat(**info.request), max(time_left(), 0))
        if not info.stream:
            _take_response(info, response, parts)
            return
        # Closing both on exit (Stop, a closed tab) closes the upstream HTTP response.
        pieces = _deltas(response, info, parts, limits.max_chars)
        async with response, aclosing(coalesce(pieces, time_left=time_left)) as texts:
            async for text in texts:
                yield text
    except TimeoutError:
        if info.first_token_s is None and info.stream:
            msg = f"Writer sent no text within {limits.first_token:g} s; the request was closed. Try again."
        else:
            msg = f"The reply took longer than {limits.reply:g} s and was cut off; the part that arrived is kept."
        raise ReplyCutError(msg) from None
    if info.finish_reason is None:
        raise ReplyCutError(NO_FINISH if parts else EMPTY_STREAM)


def _take_response(info: RunCard, response: object, parts: list[str]) -> None:
    """A whole (non-streamed) response's text and metadata; raises when it is not a chat completion."""
    if not isinstance(response, ChatCompletion):
        msg = f"a {type(response).__name__} instead of a chat completion"
        raise UnreadableAnswerError(msg)  # e.g. an HTML page with status 200: the SDK returns its text
    info.first_token_s = time.monotonic() - info.started
    _take_metadata(info, response)
    if response.choices:
        info.finish_reason = response.choices[0].finish_reason
        parts.append(response.choices[0].message.content or "")


def _retry_delay(exc: BaseException, attempt: int, retry: RetryPolicy) -> float | None:
    """Seconds to wait before retrying ``exc``, or None when it should not be retried."""
    if isinstance(exc, writerai.APIStatusError):
        if exc.status_code not in _RETRYABLE_STATUSES:
            return None
        retry_after = _retry_after(exc)
        if retry_after is not None:
            return retry_after if retry_after <= retry.max_wait else None
    elif not isinstance(exc, writerai.APIConnectionError):
        return None  # a failure inside a started stream: its text cannot be resumed
    return min(retry.base_delay * 2 ** (attempt - 1), retry.max_wait)


def _retry_after(exc: writerai.APIStatusError) -> float | None:
    """The server's ``retry-after`` in seconds, when it sent a number."""
    try:
        value = float(exc.response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def _short_reason(exc: BaseException) -> str:
    if isinstance(exc, writerai.APIStatusError):
        return (
            "Writer's rate limit was hit (429)."
            if exc.status_code == 429
            else f"Writer is unavailable ({exc.status_code})."
        )
    if isinstance(exc, writerai.APITimeoutError):
        return "Writer did not answer in time."
    return "Could not reach Writer."


async def _deltas(chunks: AsyncIterator[Any], info: RunCard, parts: list[str], max_chars: int) -> AsyncIterator[str]:
    """The text of each streamed chunk, noting metadata, usage and the first token's time on the way."""
    size = 0
    async for chunk in chunks:
        _take_metadata(info, chunk)
        if not chunk.choices:  # the usage-only chunk that include_usage adds has no choices
            continue
        choice = chunk.choices[0]
        info.finish_reason = choice.finish_reason or info.finish_reason
        piece = choice.delta.content if choice.delta else None
        if piece:
            if info.first_token_s is None:
                info.first_token_s = time.monotonic() - info.started
            size += len(piece)
            if size > max_chars:
                msg = f"The reply passed {max_chars:,} characters and was cut off; the part that arrived is kept."
                raise ReplyCutError(msg)
            parts.append(piece)
            yield piece


def _take_metadata(info: RunCard, response: Any) -> None:
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


_STATUS_ADVICE = {
    400: "Writer rejected the request as invalid (400)",
    401: (
        "Writer rejected the API key (401). Check WRITER_API_KEY, or the key you entered: "
        "it must be valid and unexpired"
    ),
    403: "This API key has no access to the selected model (403). Pick another model or check the key's permissions",
    404: "Writer could not find that model or endpoint (404). Pick another model, or check WRITER_BASE_URL",
    408: "Writer timed out handling the request (408). Try again",
    409: "Writer reported a conflict (409). Try again",
    413: "The request is too large for Writer (413). Shorten the prompt or clear the conversation",
    422: "Writer could not process the request (422)",
}


def describe_error(exc: BaseException, timeout: float | None = None, secrets: Iterable[str | None] = ()) -> str:
    """A specific, actionable message for the user. Never the raw error body, never a secret.

    Writer's own description is quoted, with ``secrets`` (the keys in use) and anything
    key-shaped taken out, and bounded: an upstream that echoes the Authorization header
    must not show the key to the visitor.
    """
    waited = f"{timeout:g} s" if timeout else "the time limit"
    if isinstance(exc, writerai.APITimeoutError):
        return f"Writer did not answer within {waited}. Try again, or try a shorter prompt."
    if isinstance(exc, writerai.APIConnectionError):
        return (
            f"Could not reach Writer at {_host(exc.request)}, or the connection dropped before a reply. "
            "Check the network connection and WRITER_BASE_URL."
        )
    if isinstance(exc, writerai.APIStatusError):
        status, detail = exc.status_code, redact(_description(exc.body), secrets)
        if status == 200:  # an SSE `event: error` inside a started stream
            return f"Writer reported an error in the middle of the reply: {detail or 'no details given'}."
        if status == 429:
            retry_after = _retry_after(exc)
            wait = f"Wait {retry_after:g} s and try again" if retry_after else "Wait a few seconds and try again"
            return f"Writer's rate limit was hit (429): {detail or 'too many requests'}. {wait}."
        if status >= 500:
            return f"Writer's service failed ({status}): {detail or 'server error'}. Try again in a moment."
        advice = _STATUS_ADVICE.get(status, f"Writer answered with an error ({status})")
        return f"{advice}. Writer said: {detail}." if detail else f"{advice}."
    if isinstance(exc, httpx.TimeoutException):
        return f"Writer stopped sending for {waited}; the reply was cut off. Try again."
    if isinstance(exc, httpx.HTTPError):
        return "The connection to Writer dropped in the middle of the reply. Try again."
    return "The request failed unexpectedly. Try again."


MAX_QUOTED_CHARS = 300  # of Writer's error text: a sentence, not a page
REDACTED = "[redacted]"
# "Bearer <token>", and any long unbroken run of token characters (API keys, JWTs): no word is like that.
_KEY_SHAPED = re.compile(r"(?i:bearer)\s+\S+|[A-Za-z0-9_\-.+/=]{32,}")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without the given secrets or anything key-shaped, and at most MAX_QUOTED_CHARS long."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _KEY_SHAPED.sub(REDACTED, text)
    return text if len(text) <= MAX_QUOTED_CHARS else text[: MAX_QUOTED_CHARS - 1] + "…"


def _read_timeout(client: AsyncWriter) -> float | None:
    timeout = client.timeout
    return timeout.read if isinstance(timeout, httpx.Timeout) else timeout


def _description(body: object) -> str:
    """The human text of Writer's error body (``errors[0].description``), else ''."""
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            return str(errors[0].get("description") or "").rstrip(".")
    return ""


def _host(request: httpx.Request | None) -> str:
    return request.url.host if request is not None else "the configured address"
