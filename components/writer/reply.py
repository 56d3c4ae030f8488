"""One async generator per reply, streamed or not, with retries, deadlines and a size bound.

``generate_reply`` streams or not behind one interface (the shape of simonw/llm's
``execute``): it yields the growing text with a ``RunCard`` that ends up holding the
exact request sent, the response's metadata, timings and, on failure, a readable error. It
never raises an SDK or transport error, so a UI can always show what arrived; cancellation
(``CancelledError``, ``GeneratorExit``) passes through so Stop closes the upstream request.
Knows nothing of Gradio nor of the app's settings.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any

import httpx
import writerai
from writerai import AsyncWriter
from writerai.types import ChatCompletion

from components.writer.errors import describe_error, read_timeout, retry_after
from components.writer.records import (
    ReplyUpdate,
    RunCard,
    take_logprobs,
    take_metadata,
    take_tool_calls,
    take_tool_data,
)
from components.writer.retry import DEFAULT_LIMITS, DEFAULT_RETRY, ReplyLimits, RetryPolicy
from components.writer.streaming import coalesce

logger = logging.getLogger(__name__)


def request_params(
    messages: list[dict[str, str]], *, model: str, temperature: float, stream: bool, options: Mapping[str, Any]
) -> dict[str, Any]:
    """The arguments of one ``client.chat.chat`` call, which the SDK sends as the JSON body."""
    params: dict[str, Any] = {"model": model, "messages": messages, "temperature": temperature, **options}
    params["stream"] = stream
    if stream:
        params["stream_options"] = {"include_usage": True}  # the last chunk then carries token usage
    return params


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
    options: Mapping[str, Any] | None = None,  # the optional parameters, as ``client.chat.chat`` kwargs
    retry: RetryPolicy = DEFAULT_RETRY,
    limits: ReplyLimits = DEFAULT_LIMITS,
) -> AsyncIterator[ReplyUpdate]:
    """Yield the growing reply; the last update has ``done=True``. Non-streaming yields one text.

    Before any text has arrived, transient failures are retried with ``status`` updates
    that say so; once text has arrived a failure ends the reply, keeping what came. The
    reply ends at ``limits`` (time to the first text, whole time, size), and an answer that
    is not what Writer's API documents ends it with a message too, its traceback logged.
    """
    request = request_params(messages, model=model, temperature=temperature, stream=stream, options=options or {})
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
                info.error = describe_error(exc, timeout=read_timeout(client), secrets=(client.api_key,))
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
    take_metadata(info, response)
    if response.choices:
        choice = response.choices[0]
        info.finish_reason = choice.finish_reason
        take_tool_calls(info, choice.message.tool_calls)
        take_tool_data(info, choice.message)
        take_logprobs(info, choice.logprobs)
        parts.append(choice.message.content or "")


def _retry_delay(exc: BaseException, attempt: int, retry: RetryPolicy) -> float | None:
    """Seconds to wait before retrying ``exc``, or None when it should not be retried."""
    if isinstance(exc, writerai.APIStatusError):
        if exc.status_code not in _RETRYABLE_STATUSES:
            return None
        waited = retry_after(exc)
        if waited is not None:
            return waited if waited <= retry.max_wait else None
    elif not isinstance(exc, writerai.APIConnectionError):
        return None  # a failure inside a started stream: its text cannot be resumed
    return min(retry.base_delay * 2 ** (attempt - 1), retry.max_wait)


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
    """The text of each streamed chunk, noting metadata, usage, tool calls, log probabilities and the first
    token's time on the way. A fragment of a tool call yields "": the calls grew, the text did not."""
    text_size = 0
    async for chunk in chunks:
        take_metadata(info, chunk)
        if not chunk.choices:  # the usage-only chunk that include_usage adds has no choices
            continue
        choice = chunk.choices[0]
        info.finish_reason = choice.finish_reason or info.finish_reason
        take_logprobs(info, choice.logprobs)
        piece = (choice.delta.content if choice.delta else None) or ""
        take_tool_data(info, choice.delta)
        called = take_tool_calls(info, choice.delta.tool_calls) if choice.delta else False
        if not piece and not called:
            continue
        if info.first_token_s is None:
            info.first_token_s = time.monotonic() - info.started
        text_size += len(piece)
        if text_size + sum(len(call.arguments) for call in info.tool_calls) > max_chars:
            msg = f"The reply passed {max_chars:,} characters and was cut off; the part that arrived is kept."
            raise ReplyCutError(msg)
        parts.append(piece)
        yield piece
