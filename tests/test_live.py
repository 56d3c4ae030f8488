"""An optional check against Writer's real API: runs only with WRITER_LIVE=1 and a key."""

from __future__ import annotations

import os

import pytest

from components.chat.conversation import build_messages
from components.settings import Settings
from components.writer.clients import shared_client
from components.writer.reply import generate_reply
from tests.conftest import run_async

pytestmark = pytest.mark.skipif(
    os.environ.get("WRITER_LIVE") != "1" or not os.environ.get("WRITER_API_KEY"),
    reason="live test: set WRITER_LIVE=1 and WRITER_API_KEY to call Writer's API",
)


@pytest.mark.parametrize("stream", [True, False])
def test_a_real_reply(stream: bool) -> None:
    settings = Settings.from_env()

    async def run() -> str:
        messages = build_messages([], "Say hello in three words.", "Be brief.")
        writer = shared_client(str(settings.api_key), settings.base_url, settings.timeout)
        updates = [
            u
            async for u in generate_reply(
                writer,
                messages,
                model=settings.model,
                temperature=0.0,
                stream=stream,
            )
        ]
        assert updates[-1].info.error is None, updates[-1].info.error
        assert updates[-1].info.finish_reason in {"stop", "length"}
        return updates[-1].text

    assert run_async(run()).strip()
