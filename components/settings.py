"""The app's settings, read from the environment (``.env.example`` documents each), checked at start.

Knows nothing of Gradio or of the SDK's objects. ``api_key=None`` means offline demo mode: the
replies then come from the local stand-in at ``offline_url``, which components/offline.py starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from components.writer.retry import DEFAULT_LIMITS, DEFAULT_RETRY, ReplyLimits, RetryPolicy

T = TypeVar("T", int, float)

DEFAULT_MODEL = "palmyra-x5"
# Shown until (or when) GET /v1/models cannot be reached: Writer's Palmyra chat models. palmyra-fin, -med,
# -creative, -x-003-instruct (and palmyra-vision, never a chat model) were removed on 2026-07-13, palmyra-x5
# replacing them (shared/writer-tools.md section 5).
FALLBACK_MODELS: tuple[str, ...] = ("palmyra-x5", "palmyra-x4")


# Where the rate limit may count (the `limits` library's storage URIs): memory, or a Redis server.
STORAGE_SCHEMES = ("memory://", "redis://", "rediss://", "redis+unix://")


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
    # Where the rate limit counts: None (this process's memory), or redis://… so that replicas count together.
    rate_limit_storage: str | None = None
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
    offline_url: str | None = None  # where offline replies come from (components/offline.py sets it)

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
            rate_limit_storage=_storage(get("RATE_LIMIT_STORAGE")),
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


def _storage(uri: str | None) -> str | None:
    if uri is not None and not uri.startswith(STORAGE_SCHEMES):
        shown = uri.split("://", 1)[0] + "://…" if "://" in uri else "a value without a scheme"
        msg = f"RATE_LIMIT_STORAGE must start with one of {', '.join(STORAGE_SCHEMES)}, not {shown}"
        raise SettingsError(msg)
    return uri


def _choice(get: Callable[[str], str | None], name: str, options: dict[str, bool], default: bool) -> bool:
    raw = get(name)
    if raw is None:
        return default
    if raw.lower() not in options:
        msg = f"{name} must be one of {', '.join(options)}, not {raw!r}"
        raise SettingsError(msg)
    return options[raw.lower()]
