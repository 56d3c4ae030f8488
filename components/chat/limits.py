"""Limits per visitor: how much each may spend in a window (the ``limits`` library counts it), and how many
requests each may have under way at once.

The window's counts live in this process's memory, or in Redis when ``RATE_LIMIT_STORAGE`` names one: then
every replica of the app counts together, so a visitor whose requests land on several replicas meets one
limit, not one per replica.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.strategies import RateLimiter as Strategy
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

# Redis is asked from the event loop (a request is checked before anything is sent), so an answer must come
# at once or not at all: a short timeout, one immediate retry (a pooled connection that a Redis restart
# closed fails once, then reconnects), and after a failure the local count for a while.
REDIS_TIMEOUT_S = 0.2
REDIS_RETRY_AFTER_S = 5.0
_REDIS_OPTIONS = {
    "socket_connect_timeout": REDIS_TIMEOUT_S,
    "socket_timeout": REDIS_TIMEOUT_S,
    "retry": Retry(NoBackoff(), 1),
}


class SharedCounts:
    """Where the windows' counts live: Redis when given (every replica counts together), else memory.

    When Redis cannot be reached the app keeps serving and counts in this process's memory instead
    (fails open to a per-replica limit: each replica then allows the limit on its own), says so in the
    log once, and asks Redis again every ``REDIS_RETRY_AFTER_S`` seconds; the log says when it is back.
    Refusing every request while Redis is down would turn a broken counter into a broken app.
    """

    def __init__(self, uri: str | None = None, *, moving: bool = True) -> None:
        """``moving``: a moving window, exact, which keeps an entry per unit counted (for requests). Else a fixed
        window, one number per key however many units (for bytes): it starts at a key's first unit, and once
        a key is refused it stays refused until its window ends, which is the wait it is told."""
        self.where = _described(uri)  # for the log: the host, never the password a URI may carry
        strategy = MovingWindowRateLimiter if moving else FixedWindowRateLimiter
        self._local: Strategy = strategy(MemoryStorage())
        shared = uri and not uri.startswith("memory://")
        self._shared = strategy(storage_from_string(uri, wrap_exceptions=True, **_REDIS_OPTIONS)) if shared else None
        self._shared_down_until: float | None = None  # None: Redis answered last time (or there is none)
        self._lock = threading.Lock()

    def hit(self, item: RateLimitItemPerSecond, key: str, cost: int) -> float | None:
        """Count ``cost`` against ``key``: None when allowed, else the seconds until it would be."""
        shared = self._usable_shared()
        if shared is not None:
            try:
                wait = _hit(shared, item, key, cost)
            except StorageError as error:
                self._shared_failed(error)
            else:
                if self._shared_down_until is not None:
                    self._shared_answered()
                return wait
        return _hit(self._local, item, key, cost)

    def _usable_shared(self) -> Strategy | None:
        with self._lock:
            if self._shared is None or (self._shared_down_until or 0) > time.monotonic():
                return None
            return self._shared

    def _shared_failed(self, error: StorageError) -> None:
        with self._lock:
            if self._shared_down_until is None:
                logger.warning(
                    "Rate limit: %s cannot be reached (%s); counting in this process alone meanwhile",
                    self.where,
                    type(error.storage_error).__name__,
                )
            self._shared_down_until = time.monotonic() + REDIS_RETRY_AFTER_S

    def _shared_answered(self) -> None:
        with self._lock:
            if self._shared_down_until is not None:
                logger.warning("Rate limit: %s is back; the count is shared again", self.where)
                self._shared_down_until = None


def _hit(strategy: Strategy, item: RateLimitItemPerSecond, key: str, cost: int) -> float | None:
    if strategy.hit(item, key, cost=cost):
        return None
    reset_at = strategy.get_window_stats(item, key).reset_time
    return max(reset_at - time.time(), 0.01)  # refused means a wait: never "try again in 0 s"


def _described(uri: str | None) -> str:
    if not uri or uri.startswith("memory://"):
        return "memory"
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"


class RateLimiter:
    """Allow at most ``amount`` units (requests, or bytes for a budget) per ``window`` seconds for each key."""

    def __init__(self, amount: int, window: int = 60, *, counts: SharedCounts | None = None, name: str = "requests"):
        self.amount, self.window = amount, window
        self._counts = counts or SharedCounts()
        self._item = RateLimitItemPerSecond(max(amount, 1), window, namespace=f"palmyra-{name}")

    def acquire(self, key: str, count: int = 1) -> float | None:
        """Count ``count`` units for ``key``: None when allowed, else the seconds until they are.
        All or nothing: a refused batch counts for nothing.
        """
        if self.amount <= 0:
            return None
        if count > self.amount:
            return float(self.window)  # never fits: say so, rather than promise a wait that will not help
        return self._counts.hit(self._item, key, count)


class ConcurrencyLimit:
    """At most ``limit`` requests under way at once for each key (0: no limit).

    The rate limit bounds how many requests a visitor makes in a minute; this bounds how many
    of the server's queue slots and upstream connections one visitor holds at a time.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._active: Counter[str] = Counter()
        self._lock = threading.Lock()

    def full(self, key: str) -> bool:
        with self._lock:
            return 0 < self.limit <= self._active[key]

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """One request under way for ``key`` while inside."""
        with self._lock:
            self._active[key] += 1
        try:
            yield
        finally:
            with self._lock:
                self._active[key] -= 1
                if not self._active[key]:
                    del self._active[key]  # memory only for visitors with requests under way
