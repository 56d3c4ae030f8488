"""Every upstream fault, in both tabs, streaming and not, through the launched app.

For each: a specific message (never a traceback, a raw error body or the key), bounded
and visible retries, partial text kept when a stream breaks, a well-formed history on
the next turn, and a next request that works.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from gradio_client import Client

from components.settings import Settings
from components.writer.retry import RetryPolicy
from standin import Behaviour, StandIn, reply_text
from tests.conftest import PROMPT_PARAMETER, SYSTEM, TEST_KEY, free_port, launch, notices_of, reply_of

TIMEOUT = 0.5  # seconds; the app under test gives up on a silent upstream this fast
RETRY = RetryPolicy(attempts=3, base_delay=0.01)


@dataclass(frozen=True)
class Fault:
    name: str
    behaviour: Behaviour | None  # None: nothing listens at the address (connection refused)
    message: str  # what the user must be told (non-streaming, where it differs: batch_message)
    retried: bool = False  # transient: tried RETRY.attempts times, visibly
    breaks_stream: bool = False  # streaming: part of the reply arrived first
    batch_message: str | None = None
    batch_retried: bool | None = None
    streaming_only: bool = False


FAULTS = [
    Fault("400", Behaviour(status=400), "Writer rejected the request as invalid (400). Writer said: Invalid input"),
    Fault("401", Behaviour(status=401), "Writer rejected the API key (401). Check WRITER_API_KEY"),
    Fault("403", Behaviour(status=403), "no access to the selected model (403). Pick another model"),
    Fault("404", Behaviour(status=404), "could not find that model or endpoint (404)"),
    Fault(
        "429-retry-after",
        Behaviour(status=429, headers=(("retry-after", "0.05"),)),
        "rate limit was hit (429): Quota exceeded. Wait 0.05 s and try again",
        retried=True,
    ),
    Fault("429", Behaviour(status=429), "rate limit was hit (429): Quota exceeded. Wait a few seconds", retried=True),
    Fault("500", Behaviour(status=500), "service failed (500): Internal server error. Try again", retried=True),
    Fault("503", Behaviour(status=503), "service failed (503): Service temporarily unavailable", retried=True),
    Fault("refused", None, "Could not reach Writer at 127.0.0.1", retried=True),
    Fault(
        "slow-first-token",
        Behaviour(first_token_delay=3.0),
        f"Writer stopped sending for {TIMEOUT:g} s; the reply was cut off",
        batch_message=f"Writer did not answer within {TIMEOUT:g} s",
        batch_retried=True,
    ),
    Fault(
        "drop-halfway",
        Behaviour(drop_after=3),
        "The connection to Writer dropped in the middle of the reply",
        breaks_stream=True,
        batch_message="the connection dropped before a reply",
        batch_retried=True,
    ),
    Fault(
        "sse-error",
        Behaviour(error_event_after=3),
        "Writer reported an error in the middle of the reply: The model failed",
        breaks_stream=True,
        streaming_only=True,
    ),
]
CASES = [
    pytest.param(fault, tab, stream, id=f"{fault.name}-{tab}-{'stream' if stream else 'batch'}")
    for fault in FAULTS
    for tab in ("single_turn", "chat")
    for stream in (True, False)
    if stream or not fault.streaming_only  # an SSE error event exists only in a stream
]


def app_settings(base_url: str) -> Settings:
    return Settings(api_key=TEST_KEY, base_url=base_url, timeout=TIMEOUT, retry=RETRY, rate_limit_per_minute=0)


@pytest.fixture(scope="module")
def fault_app(standin_server: StandIn) -> Iterator[str]:
    demo, url = launch(app_settings(standin_server.url))
    yield url
    demo.close()


@pytest.fixture(scope="module")
def dead_end_app() -> Iterator[str]:
    """The app pointed at an address where nothing listens."""
    demo, url = launch(app_settings(f"http://127.0.0.1:{free_port()}"))
    yield url
    demo.close()


def send(client: Client, tab: str, prompt: str, *, stream: bool) -> list[tuple]:
    job = client.submit(
        **{PROMPT_PARAMETER[tab]: prompt},
        temperature=1.0,
        non_streaming=not stream,
        model="palmyra-x5",
        system=SYSTEM,
        api_name=f"/{tab}",
    )
    job.result()
    return job.outputs()


def shown_text(tab: str, output: tuple) -> tuple[str, str]:
    """(the reply text, everything else the user is told) for one output of either tab."""
    shown, info, *_ = output
    if tab == "single_turn":
        return shown, info
    notices = " ".join(f"{title}: {text}" for title, text in notices_of(shown).items())
    return reply_of(shown), f"{notices} {info}"


@pytest.mark.parametrize(("fault", "tab", "stream"), CASES)
def test_fault(fault: Fault, tab: str, stream: bool, fault_app: str, dead_end_app: str, standin: StandIn) -> None:
    url = dead_end_app if fault.behaviour is None else fault_app
    standin.default = fault.behaviour or Behaviour()  # server-wide, so retries meet the fault too
    client = Client(url, verbose=False)
    outputs = send(client, tab, "hello there", stream=stream)

    text, told = shown_text(tab, outputs[-1])
    expected = fault.message if stream or fault.batch_message is None else fault.batch_message
    assert expected in told
    everything = repr(outputs)
    for leak in ("Traceback", "'tpe'", '"tpe"', "errors': [", TEST_KEY):
        assert leak not in everything

    retried = fault.retried if stream or fault.batch_retried is None else fault.batch_retried
    if fault.behaviour is not None:
        assert len(standin.chat_requests()) == (RETRY.attempts if retried else 1)
    if retried:
        assert any("Retrying in" in shown_text(tab, out)[1] for out in outputs[:-1])

    if stream and fault.breaks_stream:
        assert text == "Echo: hello"  # the part that arrived
        assert "interrupted" in told.lower()
    else:
        assert text == ""

    # The next request in the same session works, with a well-formed history.
    standin.default = Behaviour()
    if fault.behaviour is None:
        assert expected in shown_text(tab, send(client, tab, "again", stream=stream)[-1])[1]  # still answers
        return
    text, _ = shown_text(tab, send(client, tab, "next", stream=stream)[-1])
    body = standin.chat_requests()[-1].body
    assert text == reply_text(body)
    roles = [m["role"] for m in body["messages"]]
    assert all(m["content"].strip() for m in body["messages"])
    if tab == "single_turn":
        assert roles == ["system", "user"]
    elif stream and fault.breaks_stream:
        assert body["messages"][1:] == [
            {"role": "user", "content": "hello there"},
            {"role": "assistant", "content": "Echo: hello"},
            {"role": "user", "content": "next"},
        ]
    else:
        assert roles == ["system", "user"]  # the failed question is not sent again


def test_a_fault_in_one_session_leaves_another_untouched(fault_app: str, standin: StandIn) -> None:
    standin.on_prompt("FAIL-A", Behaviour(status=503, first_token_delay=0.2))
    standin.default = Behaviour(chunk_delay=0.05)
    results: dict[str, Any] = {}

    def visitor(name: str, prompt: str) -> None:
        client = Client(fault_app, verbose=False)
        results[name] = send(client, "chat", prompt, stream=True)[-1]

    threads = [threading.Thread(target=visitor, args=args) for args in (("a", "FAIL-A please"), ("b", "B is fine"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert "service failed (503)" in shown_text("chat", results["a"])[1]
    b_body = next(r.body for r in standin.chat_requests() if "B is fine" in str(r.body))
    assert shown_text("chat", results["b"])[0] == reply_text(b_body)
    assert "FAIL-A" not in str(b_body)
