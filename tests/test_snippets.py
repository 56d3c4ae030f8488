"""Copy as code: the generated snippets are run for real and must send exactly what the app sent."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gradio_client import Client

from standin import StandIn, reply_text
from tests.conftest import PROMPT_PARAMETER, SYSTEM, TEST_KEY

VISITOR_KEY = "visitor-key-5e0c1d"  # a marker: it must not appear in any snippet
FLAVOURS = ["python", "python-async", "curl"]


def run_snippet(flavour: str, code: str, standin: StandIn, cwd: Path | None = None) -> str:
    """Run a snippet as a user would, with the key and base URL in the environment (in ``cwd``, where any
    image files it reads are); return what it printed."""
    env = {"PATH": os.environ["PATH"], "WRITER_API_KEY": TEST_KEY, "WRITER_BASE_URL": standin.url}
    command = ["bash", "-c", code] if flavour == "curl" else [sys.executable, "-c", code]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("non_streaming", [False, True], ids=["stream", "batch"])
@pytest.mark.parametrize("tab", ["single_turn", "chat"])
def test_each_snippet_repeats_the_request_field_by_field(
    app: Client, standin: StandIn, tab: str, non_streaming: bool
) -> None:
    settings = {
        "temperature": 0.3,
        "non_streaming": non_streaming,
        "model": "palmyra-x4",
        "system": SYSTEM,
        "own_key": VISITOR_KEY,
        "top_p": 0.9,
        "max_tokens": 60,
        "stop": "END\n###",
    }
    standin.api_key = None  # accept the visitor's key as well as the snippets' TEST_KEY
    if tab == "chat":  # a second turn, so that the history is part of the request
        app.predict(message="the first turn", **settings, api_name="/chat")
    prompt = "naïve “quotes” it's \\ $HOME `x`"
    outputs = app.predict(**{PROMPT_PARAMETER[tab]: prompt}, **settings, api_name=f"/{tab}")
    sent = standin.chat_requests()[-1].body
    snippets = outputs[3:6]
    assert all(snippets)
    for flavour, code in zip(FLAVOURS, snippets, strict=True):
        assert VISITOR_KEY not in code and TEST_KEY not in code
        printed = run_snippet(flavour, code, standin)
        repeated = standin.chat_requests()[-1]
        assert repeated.headers["authorization"] == f"Bearer {TEST_KEY}"
        assert set(repeated.body) == set(sent), flavour  # the same fields, none more, none less
        for field, value in sent.items():
            assert repeated.body[field] == value, (flavour, field)
        if flavour != "curl":  # curl prints the raw JSON or SSE: its text is checked through the body above
            assert printed.strip() == reply_text(sent).strip()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("non_streaming", [False, True], ids=["stream", "batch"])
def test_a_tool_rounds_snippets_repeat_its_tools_and_tool_messages(
    app: Client, standin: StandIn, non_streaming: bool
) -> None:
    tools = '[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]'
    settings = {"temperature": 0.3, "non_streaming": non_streaming, "model": "palmyra-x5", "system": SYSTEM,
                "tools": tools, "tool_choice": "get_weather", "logprobs": True}  # fmt: skip
    reply, *_ = app.predict(message="Weather?", **settings, api_name="/chat")
    call_id = next(m["metadata"]["id"] for m in reply if (m.get("metadata") or {}).get("id"))
    outputs = app.predict(results=[{"tool_call_id": call_id, "content": "18°C"}], **settings, api_name="/tool_results")
    sent = standin.chat_requests()[-1].body
    assert [m["role"] for m in sent["messages"]][-2:] == ["assistant", "tool"] and sent["tool_choice"]
    for flavour, code in zip(FLAVOURS, outputs[3:6], strict=True):
        printed = run_snippet(flavour, code, standin)
        repeated = standin.chat_requests()[-1].body
        assert repeated == sent, flavour  # tools, tool_choice, logprobs and the tool messages, field by field
        if flavour != "curl":
            assert "Echo: tool results: get_weather = 18°C" in printed
