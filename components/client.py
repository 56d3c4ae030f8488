"""Writer clients from settings: lazy, cached, with bounds fit for an interactive app.

Knows nothing of Gradio. Without a key the app runs in offline demo mode: the local
stand-in (components/standin.py) is started on first use and the real SDK talks to it
over HTTP, so offline mode runs the same code path as production.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
import writerai
from writerai import AsyncWriter

from components import standin

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "palmyra-x5"
# Shown when GET /v1/models cannot be reached: Writer's Palmyra chat models.
FALLBACK_MODELS: tuple[str, ...] = tuple(model_id for model_id, _ in standin.MODELS)
# The SDK's defaults (7 retries, 180 s read timeout: writerai/_constants.py) can keep a
# visitor waiting for minutes. An interactive app fails fast and says why instead.
MAX_RETRIES = 2
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
OFFLINE_API_KEY = "offline-demo"  # the stand-in accepts any bearer token; the SDK insists on one
_OFFLINE_CHUNK_DELAY = 0.03  # seconds between the stand-in's tokens, so offline replies visibly stream


@dataclass(frozen=True)
class Settings:
    """Where requests go. ``api_key=None`` means offline demo mode."""

    api_key: str | None = None
    base_url: str | None = None  # None: the SDK's default, https://api.writer.com
    model: str = DEFAULT_MODEL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read ``WRITER_API_KEY``, ``WRITER_BASE_URL`` and ``WRITER_MODEL``; blanks count as unset."""
        return cls(
            api_key=environ.get("WRITER_API_KEY", "").strip() or None,
            base_url=environ.get("WRITER_BASE_URL", "").strip() or None,
            model=environ.get("WRITER_MODEL", "").strip() or DEFAULT_MODEL,
        )

    @property
    def offline(self) -> bool:
        return self.api_key is None

    def __repr__(self) -> str:  # never print the key, whatever logs this object
        return f"Settings(api_key={'set' if self.api_key else None}, base_url={self.base_url!r}, model={self.model!r})"


_offline_lock = threading.Lock()
_offline_server: standin.StandIn | None = None


def offline_base_url() -> str:
    """Start the local stand-in once per process and return its URL."""
    global _offline_server  # noqa: PLW0603 - one shared server per process, started on demand
    with _offline_lock:
        if _offline_server is None:
            server = standin.StandIn().start()
            server.default = standin.Behaviour(chunk_delay=_OFFLINE_CHUNK_DELAY)
            _offline_server = server
            logger.info("Offline demo mode: the Writer stand-in answers on %s", server.url)
        return _offline_server.url


def client_for(settings: Settings) -> AsyncWriter:
    """The shared client for these settings (offline: the stand-in's)."""
    if settings.offline:
        return _client(OFFLINE_API_KEY, offline_base_url())
    return _client(settings.api_key, settings.base_url)


@functools.lru_cache(maxsize=8)
def _client(api_key: str, base_url: str | None) -> AsyncWriter:
    """One client, and so one connection pool, per distinct key and base URL."""
    return AsyncWriter(api_key=api_key, base_url=base_url, max_retries=MAX_RETRIES, timeout=TIMEOUT)


async def list_models(client: AsyncWriter) -> list[str]:
    """Model ids from ``GET /v1/models``; the built-in list when that fails."""
    try:
        response = await client.models.list()
    except (writerai.APIError, httpx.HTTPError) as exc:
        logger.warning("Could not list models (%s); using the built-in list", type(exc).__name__)
        return list(FALLBACK_MODELS)
    return [model.id for model in response.models] or list(FALLBACK_MODELS)
