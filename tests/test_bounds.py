"""Memory and disk per visitor stay bounded however the data arrives: the page, the API, the internal events.

Each test sends what an attacker with the link could send, over real HTTP, and then looks at what
the server kept for that session.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from components.chat import transcript
from components.chat.conversation import MAX_PROMPT_CHARS
from components.chat.transcript import TranscriptError
from components.settings import Settings
from components.ui import saving
from components.ui.bounds import MAX_HISTORY_BYTES, MAX_REQUEST_BYTES, history_bytes
from components.ui.listeners import LISTEN_GRACE
from components.ui.saved_chats import NO_SAVED_MESSAGE
from standin import StandIn
from tests.conftest import TEST_KEY, launch
from tests.gradio_queue import endpoint_data, event_body, fn_index


@pytest.fixture(scope="module")
def served(standin_server: StandIn) -> Iterator[tuple[gr.Blocks, str]]:
    demo, url = launch(Settings(api_key=TEST_KEY, base_url=standin_server.url, rate_limit_per_minute=0))
    yield demo, url
    demo.close()


def sync_event(demo: gr.Blocks) -> tuple[int, gr.State]:
    """ChatInterface's internal step that copies the chat shown into the kept history, and that state.

    An unnamed step, found by its inputs: it has no parameter names, so its ``data`` stays positional.
    """
    (chatbot,) = [block for block in demo.blocks.values() if getattr(block, "elem_id", None) == "chatbot"]
    for index, fn in demo.fns.items():
        states = [block for block in fn.outputs if isinstance(block, gr.State)]
        if list(fn.inputs) == [chatbot] and len(states) == 2:
            return index, states[0]
    raise LookupError("ChatInterface's sync step")


def kept_history(demo: gr.Blocks, session_hash: str) -> list[Any]:
    """The conversation the server keeps for a session (ChatInterface's state)."""
    _, chatbot_state = sync_event(demo)
    return demo.state_holder[session_hash].get(chatbot_state._id, [])


def test_a_body_over_the_limit_is_refused_before_it_is_read(served: tuple[gr.Blocks, str]) -> None:
    _, url = served
    # Refused on its size alone: which event it names, and the order of its data, never matter.
    body = b'{"data": ["' + b"x" * (MAX_REQUEST_BYTES + 1) + b'"], "fn_index": 0, "session_hash": "s"}'
    response = httpx.post(f"{url}gradio_api/queue/join", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    upload = httpx.post(f"{url}gradio_api/upload", files={"files": ("big.json", b"x" * (MAX_REQUEST_BYTES + 1))})
    assert upload.status_code == 413


def test_the_internal_sync_event_cannot_set_a_history_over_the_bound(served: tuple[gr.Blocks, str]) -> None:
    demo, url = served
    session = uuid.uuid4().hex
    message = {"role": "user", "content": [{"type": "text", "text": "y" * 500_000}], "metadata": None, "options": None}
    huge = [message] * 5  # 2.5 MB as JSON: under the body limit, over the history bound
    assert MAX_HISTORY_BYTES < len(json.dumps(huge)) < MAX_REQUEST_BYTES
    payload = {"data": [huge], "fn_index": sync_event(demo)[0], "session_hash": session}
    response = httpx.post(f"{url}gradio_api/run/predict", json=payload, timeout=30)
    assert "over 2 MB" in response.text
    assert kept_history(demo, session) == []
    small = {"data": [[message]], "fn_index": sync_event(demo)[0], "session_hash": session}
    assert httpx.post(f"{url}gradio_api/run/predict", json=small, timeout=30).status_code == 200
    assert history_bytes(kept_history(demo, session)) < MAX_HISTORY_BYTES


def test_a_refused_prompt_through_the_chat_api_is_not_kept(served: tuple[gr.Blocks, str], standin: StandIn) -> None:
    demo, url = served
    client = Client(url, verbose=False)
    settings = {"temperature": 1.0, "non_streaming": False, "model": "palmyra-x5", "system": "", "own_key": ""}
    client.predict(message="hello", **settings, api_name="/chat")
    with pytest.raises(AppError, match="the limit is"):
        client.predict(message="z" * (MAX_PROMPT_CHARS + 1), **settings, api_name="/chat")
    kept = kept_history(demo, client.session_hash)
    assert [m["role"] for m in kept if not m.get("metadata")] == ["user", "assistant"]
    assert history_bytes(kept) < 10_000
    assert len(standin.chat_requests()) == 1


def test_a_nesting_bomb_import_gets_a_message_not_a_recursion_error() -> None:
    bomb = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(TranscriptError, match="nested too deeply"):
        transcript.from_json(bomb, known_models=["palmyra-x5"])


@pytest.mark.parametrize("own_key", ["abc\r\nX-Injected: 1", "two words", "ключ"], ids=["crlf", "space", "non-ascii"])
def test_a_malformed_visitor_key_is_refused_and_nothing_is_sent(
    served: tuple[gr.Blocks, str], standin: StandIn, own_key: str
) -> None:
    _, url = served
    shown = Client(url, verbose=False).predict(
        prompt="hi",
        temperature=1.0,
        non_streaming=False,
        model="palmyra-x5",
        system="",
        own_key=own_key,
        api_name="/single_turn",
    )
    assert "That API key cannot be right" in str(shown)
    assert standin.chat_requests() == []


def test_with_visitor_keys_required_the_model_list_does_not_spend_the_server_key(standin: StandIn) -> None:
    demo, url = launch(Settings(api_key=TEST_KEY, base_url=standin.url, visitor_key_required=True))
    try:
        # The page's unnamed load step, found by its function's name: it takes no inputs.
        (index,) = [i for i, fn in demo.fns.items() if fn.name == "refresh_models"]
        response = httpx.post(f"{url}gradio_api/run/predict", json={"data": [], "fn_index": index, "session_hash": "v"})
        assert response.status_code == 200
        assert [r for r in standin.requests if r.path == "/v1/models"] == []
    finally:
        demo.close()


def test_scratch_folders_left_by_a_killed_process_are_removed() -> None:
    root = Path(tempfile.gettempdir())
    old, fresh = root / "palmyra-exports-killed-test", root / "palmyra-exports-fresh-test"
    for folder in (old, fresh):
        (folder / "x").mkdir(parents=True, exist_ok=True)
    two_hours_ago = time.time() - 7_200
    os.utime(old, (two_hours_ago, two_hours_ago))
    try:
        saving._remove_abandoned_scratch()
        assert not old.exists() and fresh.exists()
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def test_a_join_nobody_listens_to_spends_no_tokens(standin: StandIn) -> None:
    demo, url = launch(Settings(api_key=TEST_KEY, base_url=standin.url, rate_limit_per_minute=0))
    try:
        config = httpx.get(f"{url}config").json()
        info = httpx.get(f"{url}gradio_api/info").json()
        data = endpoint_data(
            info,
            config,
            "single_turn",
            prompt="nobody reads this",
            temperature=1.0,
            non_streaming=False,
            model="palmyra-x5",
            system="",
            own_key="",
        )
        payload = event_body(fn_index(config, "single_turn"), data, uuid.uuid4().hex[:11])
        event_id = httpx.post(f"{url}gradio_api/queue/join", json=payload).json()["event_id"]
        deadline = time.monotonic() + LISTEN_GRACE + 10
        while event_id in demo._queue.event_ids_to_events and time.monotonic() < deadline:
            time.sleep(0.05)
        assert event_id not in demo._queue.event_ids_to_events, "the event never finished"
        assert standin.chat_requests() == []  # it ended without a request upstream
        listened = Client(url, verbose=False).predict(prompt="somebody reads this", api_name="/single_turn")
        assert "Echo: somebody reads this" in listened[0]
    finally:
        demo.close()


def test_the_documented_rest_form_still_gets_its_reply(served: tuple[gr.Blocks, str], standin: StandIn) -> None:
    _, url = served
    info = httpx.get(f"{url}gradio_api/info").json()
    data = endpoint_data(  # no config: the parameters alone, as the REST form documents them
        info,
        None,
        "single_turn",
        prompt="over REST",
        temperature=1.0,
        non_streaming=False,
        model="palmyra-x5",
        system="",
        own_key="",
    )
    posted = httpx.post(f"{url}gradio_api/call/single_turn", json={"data": data})
    event_id = posted.json()["event_id"]
    with httpx.stream("GET", f"{url}gradio_api/call/single_turn/{event_id}", timeout=30) as stream:
        events = [line for line in stream.iter_lines() if line.startswith("event:")]
    assert events[-1] == "event: complete"
    assert standin.chat_requests()[-1].body["messages"][-1]["content"] == "over REST"


def cached_exports(demo: gr.Blocks, marker: str) -> list[Path]:
    """The export files Gradio's cache holds (kept an hour) with ``marker`` in them: the cache folder is
    shared by every Gradio app on the machine."""
    found = Path(demo.GRADIO_CACHE).rglob("palmyra-chat-*")
    return sorted(path for path in found if marker in path.read_text(encoding="utf-8", errors="replace"))


def test_exports_of_an_unchanged_chat_cost_nothing_and_each_visitor_has_a_byte_budget(standin: StandIn) -> None:
    demo, url = launch(
        Settings(api_key=TEST_KEY, base_url=standin.url, rate_limit_per_minute=0, export_bytes_per_hour=30_000)
    )
    marker = uuid.uuid4().hex
    try:
        app = Client(url, verbose=False, download_files=False)  # the client's downloads would land beside the cache
        app.predict(message="hello", api_name="/chat")

        def export(system: str) -> tuple[Any, Any, str]:
            return app.predict(system=f"{marker} {system}", model="palmyra-x5", api_name="/export_conversation")

        first = export("Be brief.")
        assert first[2].startswith("The downloads hold 1 turn")
        assert len(cached_exports(demo, marker)) == 2
        size = sum(path.stat().st_size for path in cached_exports(demo, marker))
        for _ in range(5):  # the downloads remade for the same conversation: the same files, nothing new written
            assert export("Be brief.")[2] == first[2]
        assert len(cached_exports(demo, marker)) == 2
        made, shown = 1, first
        while made < 100 and not (shown := export(f"Be brief. ({made})"))[2].startswith("⚠️"):
            made += 1
        written = sum(path.stat().st_size for path in cached_exports(demo, marker))
        assert 30_000 - 2 * size < written <= 30_000, f"{made} exports wrote {written} bytes against a 30,000 budget"
        assert "Downloads paused" in shown[2] and "come back in 60 min" in shown[2]
        assert shown[0]["value"] is None and shown[1]["value"] is None  # nothing to download, rather than a stale file
        assert len(cached_exports(demo, marker)) == 2 * made  # the refused one wrote nothing
        assert export("Be brief.")[2] == first[2]  # what was already exported is still there
        assert "Echo: still talking" in str(app.predict(message="still talking", api_name="/chat"))  # chat's own budget
    finally:
        demo.close()


def test_the_chats_internal_send_step_called_alone_says_what_to_call(
    served: tuple[gr.Blocks, str], standin: StandIn
) -> None:
    demo, url = served
    steps = [index for index, fn in demo.fns.items() if fn.name in {"_submit_fn", "_stream_fn"}]
    assert steps
    for index in steps:
        # Unnamed steps, found by their function's name: no parameter names, so their data stays positional.
        _saved_message, _history, *controls = demo.fns[index].inputs  # the controls as the page shows them
        data = [None, None, *(control.value for control in controls)]
        body = {"data": data, "fn_index": index, "session_hash": uuid.uuid4().hex[:11]}
        response = httpx.post(f"{url}gradio_api/run/predict", json=body, timeout=30)
        assert NO_SAVED_MESSAGE in response.text, response.text
        assert "NoneType" not in response.text
    assert standin.chat_requests() == []
