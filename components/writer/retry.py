"""The retry policy: bounded, visible retries, done by the app rather than silently inside the SDK."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a transient failure before any text has arrived.

    The SDK's own policy (7 retries, backoff up to 60 s: writerai/_constants.py) can keep a
    visitor staring at nothing for two minutes. Here each retry is shown to the user, and the
    total wait stays under ``(attempts - 1) * max_wait`` seconds.
    """

    attempts: int = 3  # the first try and two retries
    base_delay: float = 0.5  # seconds before the first retry; doubles each time
    max_wait: float = 10.0  # a longer retry-after is not waited for: the user is told to come back


DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class ReplyLimits:
    """How long and how large one reply may be, retries included: a trickling or endless upstream ends.

    Without them a server that sends a byte a second never hits the read timeout (each byte
    resets it), and one that never sends ``[DONE]`` streams for as long as it likes.
    """

    first_token: float = 30.0  # seconds from the request to the first text (streamed)
    reply: float = 180.0  # seconds for the whole reply: Palmyra's 8,192 tokens at ~50 a second, with room
    max_chars: int = 100_000  # ~25,000 tokens: three times what max_tokens allows


DEFAULT_LIMITS = ReplyLimits()
