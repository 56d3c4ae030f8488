"""Writer clients from settings: lazy, cached, with bounds fit for an interactive app.

Knows nothing of Gradio. Without a key the app runs in offline demo mode: the local
stand-in (components/standin.py) is started on first use and the real SDK talks to it
over HTTP, so offline mode runs the same code path as production.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import httpx
import writerai
from writerai import AsyncWriter

from components import standin
from components.retry import DEFAULT_LIMITS, DEFAULT_RETRY, ReplyLimits, RetryPolicy

T = TypeVar("T", int, float)

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "palmyra-x5"
WRITER_API_URL = "https://api.writer.com"  # the SDK's own default, spelled out so the page can name it
# Shown when GET /v1/models cannot be reached: Writer's Palmyra chat models.
FALLBACK_MODELS: tuple[str, ...] = tuple(model_id for model_id, _ in standin.MODELS)
CONNECT_TIMEOUT = 5.0  # seconds; a dead address should fail fast
OFFLINE_API_KEY = "offline-demo"  # the stand-in accepts any bearer token; the SDK insists on one
_OFFLINE_CHUNK_DELAY = 0.03  # seconds between the stand-in's tokens, so offline replies visibly stream


class SettingsError(ValueError):
    """A setting in the environment has a value the app cannot use."""


@dataclass(frozen=True)
class Settings:
    """Where requests go, and the limits that protect the key. ``api_key=None`` means offline demo mode."""

    api_key: str | None = None
    base_url: str | None = None  # None: Writer's API, WRITER_API_URL
    model: str = DEFAULT_MODEL
    # Failing fast: the SDK's defaults (180 s read timeout, 7 silent retries) suit batch jobs, not a chat page.
    timeout: float = 30.0  # seconds without data from Writer before giving up
    retry: RetryPolicy = DEFAULT_RETRY
    limits: ReplyLimits = DEFAULT_LIMITS  # every reply's deadlines and size
    # Spending the owner's key: on a public Space visitors bring their own unless the owner allows otherwise.
    visitor_key_required: bool = False
    rate_limit_per_minute: int = 20  # requests per session or IP; 0 turns the limit off
    # The rate limit counts per visitor address, never per session (a new session costs nothing). Behind
    # proxies, the address is the one the last trusted proxy added to X-Forwarded-For: this many hops.
    trusted_proxy_hops: int = 0
    # Replies one visitor may have under way at once (a Compare run counts as one); 0: no limit.
    max_requests_at_once: int = 4
    # Sessions whose state the server keeps (the least recently used beyond are forgotten). Each holds at most
    # ~4.8 MB (2 x the 2 MB chat cap + ~0.8 MB of Gradio's own), so 500 stay under 2.4 GB: a small Space.
    session_capacity: int = 500
    # Bytes of export files one visitor may make an hour (each is kept an hour for its download).
    export_bytes_per_hour: int = 50_000_000
    context_tokens: int = 24_000  # history is trimmed to fit; Writer's default limit is 25,000 tokens/minute
    # Conversations saved in visitors' browsers are readable only with the key they were saved with.
    # None: a new key each start, so a restart hides them; a fixed one keeps them across restarts.
    history_key: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings that .env.example documents; blanks count as unset."""

        def get(name: str) -> str | None:
            return environ.get(name, "").strip() or None

        on_spaces = get("SPACE_ID") is not None  # Hugging Face sets it in every Space
        return cls(
            api_key=get("WRITER_API_KEY"),
            base_url=get("WRITER_BASE_URL"),
            model=get("WRITER_MODEL") or DEFAULT_MODEL,
            timeout=_number(get, "WRITER_TIMEOUT", cls.timeout, float),
            retry=RetryPolicy(attempts=1 + _number(get, "WRITER_MAX_RETRIES", RetryPolicy.attempts - 1, int)),
            limits=ReplyLimits(
                first_token=_number(get, "WRITER_FIRST_TOKEN_TIMEOUT", DEFAULT_LIMITS.first_token, float),
                reply=_number(get, "WRITER_REPLY_TIMEOUT", DEFAULT_LIMITS.reply, float),
                max_chars=_number(get, "WRITER_MAX_REPLY_CHARS", DEFAULT_LIMITS.max_chars, int),
            ),
            visitor_key_required=_choice(get, "VISITOR_KEY", {"required": True, "optional": False}, on_spaces),
            rate_limit_per_minute=_number(get, "RATE_LIMIT_PER_MINUTE", cls.rate_limit_per_minute, int),
            trusted_proxy_hops=_number(get, "TRUSTED_PROXY_HOPS", 1 if on_spaces else 0, int),
            context_tokens=_number(get, "WRITER_CONTEXT_TOKENS", cls.context_tokens, int),
            session_capacity=max(1, _number(get, "SESSION_CAPACITY", cls.session_capacity, int)),
            export_bytes_per_hour=round(
                _number(get, "EXPORT_MB_PER_HOUR", cls.export_bytes_per_hour / 1e6, float) * 1e6
            ),
            max_requests_at_once=_number(get, "MAX_REQUESTS_AT_ONCE", cls.max_requests_at_once, int),
            history_key=get("CHAT_HISTORY_KEY"),
        )

    @property
    def offline(self) -> bool:
        return self.api_key is None

    def __repr__(self) -> str:  # never print the key, whatever logs this object
        return f"Settings(api_key={'set' if self.api_key else None}, base_url={self.base_url!r}, model={self.model!r})"


def _number(get: Callable[[str], str | None], name: str, default: T, kind: Callable[[str], T]) -> T:
    raw = get(name)
    try:
        value = default if raw is None else kind(raw)
    except ValueError:
        value = None
    if value is None or not value >= 0:  # also rejects NaN
        msg = f"{name} must be a number of at least 0, not {raw!r}"
        raise SettingsError(msg)
    return value


def _choice(get: Callable[[str], str | None], name: str, options: dict[str, bool], default: bool) -> bool:
    raw = get(name)
    if raw is None:
        return default
    if raw.lower() not in options:
        msg = f"{name} must be one of {', '.join(options)}, not {raw!r}"
        raise SettingsError(msg)
    return options[raw.lower()]


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
    """The shared client for the server's own key (offline: the stand-in's)."""
    loop = _running_loop()
    if settings.offline:
        return _client(OFFLINE_API_KEY, offline_base_url(), settings.timeout, loop)
    return _client(settings.api_key, settings.base_url, settings.timeout, loop)


@asynccontextmanager
async def writer_for(settings: Settings, visitor_key: str | None = None) -> AsyncIterator[AsyncWriter]:
    """The client for one request: the visitor's own key when given, else the server's.

    A visitor's key gets a client of its own that is closed after the request: it is never
    cached, stored or logged, so it lives on the server only while its request runs.
    It goes to :func:`visitor_key_url`, in offline mode too: a visitor with a key wants Palmyra, not the echo.
    """
    if not visitor_key:
        yield client_for(settings)
        return
    async with AsyncWriter(
        api_key=visitor_key, base_url=visitor_key_url(settings), max_retries=0, timeout=_timeout(settings.timeout)
    ) as own:
        yield own


def visitor_key_url(settings: Settings) -> str:
    """Where requests made with a visitor's own key go: WRITER_BASE_URL, else Writer's API."""
    return settings.base_url or WRITER_API_URL


def visitor_key_host(settings: Settings) -> str:
    """The host (and port, if not the default) a visitor's key is sent to, as the page names it.

    Only host and port: a URL's user:password part must never reach the page.
    """
    url = httpx.URL(visitor_key_url(settings))
    return f"{url.host}:{url.port}" if url.port else url.host


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


async def list_models(client: AsyncWriter) -> list[str]:
    """Model ids from ``GET /v1/models``; the built-in list when that fails."""
    try:
        response = await client.models.list()
    except (writerai.APIError, httpx.HTTPError) as exc:
        logger.warning("Could not list models (%s); using the built-in list", type(exc).__name__)
        return list(FALLBACK_MODELS)
    return [model.id for model in response.models] or list(FALLBACK_MODELS)
