"""The rate limit's counts with the `limits` library: in memory by default, shared through a real Redis, and
what happens when Redis cannot be reached (the end-to-end case, with replicas and HAProxy: test_replicas.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.chat.limits import RateLimiter, SharedCounts
from tests.replicas import RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def test_two_processes_counting_in_one_redis_meet_one_limit(redis_server: RedisServer) -> None:
    # Two limiters with storages of their own, as two replicas have: only Redis joins them.
    first, second = (RateLimiter(3, counts=SharedCounts(redis_server.url)) for _ in range(2))
    assert [first.acquire("visitor"), second.acquire("visitor"), first.acquire("visitor")] == [None] * 3
    assert 59 < second.acquire("visitor") <= 60
    assert first.acquire("someone else") is None
    assert second.acquire("visitor", 3) is not None  # a batch that does not fit costs nothing...
    assert RateLimiter(3, counts=SharedCounts()).acquire("visitor") is None  # ...and memory counts apart


def test_without_redis_a_limiter_counts_alone_says_so_once_and_never_shows_the_password(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    gone = RedisServer(tmp_path)  # a free port with nothing on it
    limiter = RateLimiter(2, counts=SharedCounts(f"redis://:s3cret-pass@127.0.0.1:{gone.port}/0"))
    with caplog.at_level(logging.WARNING):
        answers = [limiter.acquire("visitor") for _ in range(3)]
    assert answers[:2] == [None, None] and answers[2] is not None  # still a limit, counted in this process
    warnings = [record.getMessage() for record in caplog.records]
    assert warnings == [
        f"Rate limit: redis://127.0.0.1:{gone.port} cannot be reached (ConnectionError); "
        "counting in this process alone meanwhile"
    ]
    assert "s3cret" not in caplog.text
