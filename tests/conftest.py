"""Shared fixtures: the Writer stand-in and the app, both served for real on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no network

import gradio as gr
import pytest
from gradio_client import Client
from writerai import AsyncWriter

from components.offline import with_standin
from components.settings import Settings
from components.ui.page import build_demo, launch_options
from deploy.processes import free_port
from standin import MODELS, StandIn

TEST_KEY = "test-key-7f3a9c"  # a marker: it must never show up anywhere but the Authorization header
SYSTEM = "You are a test assistant."
EXTRA_MODEL = "palmyra-lab-test"  # listed only by the stand-in: proves the model list comes from the API
# The first parameter of the two text endpoints, by API name: tests call them by keyword, and the names differ.
PROMPT_PARAMETER = {"single_turn": "prompt", "chat": "message"}


T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a fresh event loop in its own thread.

    pytest-playwright's sync API keeps a loop running on the main thread for the whole
    session, so a plain asyncio.run() there fails once a browser test has run.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fast tests first, the browser tests last."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)


def _messages(chat_output: str | dict[str, Any] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A chat output as messages: Gradio takes a string, one message, or a list of them."""
    if isinstance(chat_output, str):
        return [{"role": "assistant", "content": chat_output}]
    return [chat_output] if isinstance(chat_output, dict) else list(chat_output)


def reply_of(chat_output: str | dict[str, Any] | list[dict[str, Any]]) -> str:
    """The reply text of a chat output, without its notices and run card."""
    return "".join(m["content"] for m in _messages(chat_output) if not m.get("metadata"))


def notices_of(chat_output: str | dict[str, Any] | list[dict[str, Any]]) -> dict[str, str]:
    """The notices and the run card of a chat output, by title."""
    return {m["metadata"]["title"]: m["content"] for m in _messages(chat_output) if m.get("metadata")}


def stop_after_first_update(job: Any, standin: StandIn) -> None:
    """Cancel ``job`` (a gradio_client job streaming a reply) once its first update arrives, as Stop does;
    the upstream request must close then, having sent only the first chunks."""
    for _ in job:  # the first streamed update: the reply has started
        break
    job.cancel()
    record = standin.chat_requests()[0]
    assert record.wait_done(timeout=5), "the upstream request was still open 5 s after Stop"
    assert record.disconnected and record.chunks_sent < 5


def shown_text(outputs: object) -> str:
    """Every text in a handler's outputs, one per line: what the user is shown.

    Not ``str(outputs)``: that escapes the newlines inside a reply, so a reply would not be found in it.
    """
    if isinstance(outputs, dict):
        return "\n".join(shown_text(value) for value in outputs.values())
    if isinstance(outputs, (list, tuple)):
        return "\n".join(shown_text(item) for item in outputs)
    return "" if outputs is None else str(outputs)


@pytest.fixture(scope="session")
def standin_server() -> Iterator[StandIn]:
    with StandIn(api_key=TEST_KEY, models=(*MODELS, (EXTRA_MODEL, "Palmyra Lab (test)"))) as server:
        yield server


@pytest.fixture
def standin(standin_server: StandIn) -> Iterator[StandIn]:
    """The session's stand-in with a clean record and default behaviour for each test."""
    standin_server.reset()
    yield standin_server
    standin_server.reset()


@pytest.fixture
def writer(standin: StandIn) -> AsyncWriter:
    """A real SDK client pointed at the stand-in; no retries, so faults surface at once."""
    return AsyncWriter(api_key=TEST_KEY, base_url=standin.url, max_retries=0)


def launch(settings: Settings, **overrides: Any) -> tuple[gr.Blocks, str]:
    """Build and serve the app on a free port of 127.0.0.1; ``overrides`` change the launch options."""
    settings = with_standin(settings)  # offline settings: the stand-in's address, as app.py does
    demo = build_demo(settings)
    options = launch_options(settings) | overrides
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True, **options)
    return demo, demo.local_url


@pytest.fixture(scope="session")
def app_url(standin_server: StandIn) -> Iterator[str]:
    """The app, served once per session, talking to the stand-in with a key."""
    # No rate or concurrency limit: they count per address, and every test comes from 127.0.0.1 (their own
    # tests launch apps of their own).
    settings = Settings(api_key=TEST_KEY, base_url=standin_server.url, rate_limit_per_minute=0, max_requests_at_once=0)
    demo, url = launch(settings)
    yield url
    demo.close()


@pytest.fixture
def app(app_url: str, standin: StandIn) -> Client:
    """A fresh gradio_client session (its own chat history) on the app."""
    return Client(app_url, verbose=False)
