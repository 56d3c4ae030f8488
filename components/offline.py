"""Offline demo mode's Writer: the local stand-in, started once per process.

Without ``WRITER_API_KEY`` the app still runs: the real SDK talks over HTTP to the stand-in,
which echoes each prompt and the settings it received, so offline mode runs the same code
path as production. The only production module that imports the stand-in.
"""

from __future__ import annotations

import dataclasses
import logging
import threading

import standin
from components.settings import Settings

logger = logging.getLogger(__name__)

CHUNK_DELAY = 0.03  # seconds between the stand-in's tokens, so offline replies visibly stream

_lock = threading.Lock()
_server: standin.StandIn | None = None


def with_standin(settings: Settings) -> Settings:
    """``settings`` with the stand-in's address when they are offline (started on first use); else as they are."""
    if not settings.offline or settings.offline_url:
        return settings
    return dataclasses.replace(settings, offline_url=standin_url())


def standin_url() -> str:
    """Start the local stand-in once per process and return its URL."""
    global _server  # noqa: PLW0603 - one shared server per process, started on demand
    with _lock:
        if _server is None:
            server = standin.StandIn(keep_records=0).start()  # what a public demo is sent is not kept
            server.default = standin.Behaviour(chunk_delay=CHUNK_DELAY)
            _server = server
            logger.info("Offline demo mode: the Writer stand-in answers on %s", server.url)
        return _server.url
