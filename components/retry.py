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
