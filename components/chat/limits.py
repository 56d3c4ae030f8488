"""Rate limits per visitor: a sliding window of what each spent (requests, or bytes), with bounded memory."""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class RateLimiter:
    """Allow at most ``max_requests`` per ``window`` seconds for each key."""

    def __init__(
        self,
        max_requests: int,
        window: float = 60.0,
        *,
        max_keys: int = 10_000,  # least recently seen keys are forgotten beyond this: memory stays bounded
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_requests, self.window, self.max_keys = max_requests, window, max_keys
        self._clock = clock
        self._seen: OrderedDict[str, deque[tuple[float, int]]] = OrderedDict()  # (when, units) a key spent
        self._lock = threading.Lock()

    def acquire(self, key: str, count: int = 1) -> float | None:
        """Count ``count`` units for ``key`` (requests, or bytes for a byte budget): None when allowed,
        else the seconds until they are. All or nothing: a refused batch counts for nothing.
        """
        if self.max_requests <= 0:
            return None
        now = self._clock()
        with self._lock:
            spent = self._seen.pop(key, None) or deque()
            self._seen[key] = spent  # now the most recently seen
            while spent and spent[0][0] <= now - self.window:
                spent.popleft()
            if count > self.max_requests:
                return self.window  # never fits: say so, rather than promise a wait that will not help
            excess = sum(units for _, units in spent) + count - self.max_requests
            if excess > 0:
                for at, units in spent:  # the wait: until enough of the oldest have left the window
                    excess -= units
                    if excess <= 0:
                        return at + self.window - now
            spent.append((now, count))
            while len(self._seen) > self.max_keys:
                self._seen.popitem(last=False)
            return None

    def __len__(self) -> int:
        return len(self._seen)


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
