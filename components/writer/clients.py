"""Writer clients: lazy, cached, with bounds fit for an interactive app.

Knows nothing of Gradio nor of the app's settings: each function takes the key, the base URL
and the timeout it needs.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx
import writerai
from writerai import AsyncWriter

logger = logging.getLogger(__name__)

WRITER_API_URL = "https://api.writer.com"  # the SDK's own default, spelled out so the page can name it
CONNECT_TIMEOUT = 5.0  # seconds; a dead address should fail fast


def shared_client(api_key: str, base_url: str | None, timeout: float) -> AsyncWriter:
    """The client for this key and base URL on the running event loop, made once."""
    return _client(api_key, base_url, timeout, _running_loop())


@asynccontextmanager
async def own_client(api_key: str, base_url: str | None, timeout: float) -> AsyncIterator[AsyncWriter]:
    """A client of its own, closed on exit: for a visitor's key, which is never cached, stored or logged."""
    async with AsyncWriter(api_key=api_key, base_url=base_url, max_retries=0, timeout=_timeout(timeout)) as own:
        yield own


def host_of(url: str) -> str:
    """A URL's host (and port, if not the default), as the page names it.

    Only host and port: a URL's user:password part must never reach the page.
    """
    parsed = httpx.URL(url)
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@functools.lru_cache(maxsize=8)
def _client(api_key: str, base_url: str | None, timeout: float, loop: asyncio.AbstractEventLoop | None) -> AsyncWriter:
    """One client, and so one connection pool, per distinct key and base URL.

    And per event loop: a pool's connections belong to the loop that opened them. A served
    app has one loop; several apps in one process (the tests) each have their own.
    """
    # Retries are the chat logic's (visible to the user), so the SDK makes none of its own.
    return AsyncWriter(api_key=api_key, base_url=base_url, max_retries=0, timeout=_timeout(timeout))


def _timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT, seconds))


async def list_models(client: AsyncWriter, fallback: Sequence[str]) -> list[str]:
    """Model ids from ``GET /v1/models``; ``fallback`` when that fails."""
    try:
        response = await client.models.list()
    except (writerai.APIError, httpx.HTTPError) as exc:
        logger.warning("Could not list models (%s); using the built-in list", type(exc).__name__)
        return list(fallback)
    return [model.id for model in response.models] or list(fallback)


async def list_graphs(client: AsyncWriter) -> list[tuple[str, str]]:
    """The account's Knowledge Graphs from ``GET /v1/graphs``, as (name, id) pairs, every page read.

    Raises the SDK's errors: unlike the models, there is no list to fall back on.
    """
    return [(graph.name or graph.id, graph.id) async for graph in client.graphs.list()]
