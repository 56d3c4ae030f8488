"""The key and the users: no leak anywhere, a visitor's own key, public links, Spaces, rate limits."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from components.access import AccessError, launch_auth, parse_auth
from components.chat.limits import RateLimiter, SharedCounts
from components.settings import Settings, SettingsError
from standin import Behaviour, StandIn, reply_text
from tests.conftest import PROMPT_PARAMETER, SYSTEM, TEST_KEY, launch, run_async, shown_text
from tests.replicas import Visitor, shown

ROOT = Path(__file__).resolve().parent.parent
VISITOR_KEY = "visitor-key-b41d9e"  # a marker, like TEST_KEY


def ask(app: Client, tab: str, prompt: str, own_key: str = "") -> str:
    settings = {"temperature": 1.0, "non_streaming": False, "model": "palmyra-x5", "system": SYSTEM, "own_key": own_key}
    return shown_text(app.predict(**{PROMPT_PARAMETER[tab]: prompt}, **settings, api_name=f"/{tab}"))


def test_the_key_never_reaches_a_page_the_api_info_an_error_or_a_log(
    app_url: str, standin: StandIn, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level: httpx and httpcore included
    app = Client(app_url, verbose=False)
    shown = []
    for tab in ("single_turn", "chat"):
        shown.append(ask(app, tab, "hello"))
        standin.enqueue(Behaviour(status=401))
        shown.append(ask(app, tab, "a refused key"))
        standin.enqueue(Behaviour(drop_after=3))
        shown.append(ask(app, tab, "a dropped stream"))
        standin.api_key = None  # accept the visitor's key
        shown.append(ask(app, tab, "with my own key", own_key=VISITOR_KEY))
        standin.api_key = TEST_KEY
    paths = ["", "config", "gradio_api/info", "gradio_api/openapi.json"]
    root = httpx.get(app_url).text
    assets = sorted(set(re.findall(r'(?:src|href)="\.?/?(assets/[^"]+)"', root)))
    assert assets, "the page links no assets: the pattern above is out of date"
    pages = [httpx.get(f"{app_url}{path}").text for path in paths + assets]
    logged = [record.getMessage() for record in caplog.records]
    printed = capfd.readouterr()
    assert standin.chat_requests()[-1].headers["authorization"] == f"Bearer {VISITOR_KEY}"
    for marker in (TEST_KEY, VISITOR_KEY):
        for where, texts in (
            ("shown", shown),
            ("pages", pages),
            ("logs", logged),
            ("output", [printed.out, printed.err]),
        ):
            assert not [text for text in texts if marker in text], f"{marker} leaked into {where}"
    assert len(logged) > 10  # the logs were really captured


def test_a_visitor_key_is_used_for_that_visitor_only(app_url: str, standin: StandIn) -> None:
    standin.api_key = None
    visitor, other = Client(app_url, verbose=False), Client(app_url, verbose=False)
    ask(visitor, "chat", "mine", own_key=VISITOR_KEY)
    ask(other, "chat", "theirs")
    mine, theirs = standin.chat_requests()
    assert mine.headers["authorization"] == f"Bearer {VISITOR_KEY}"
    assert theirs.headers["authorization"] == f"Bearer {TEST_KEY}"


def test_a_wrong_visitor_key_gets_the_key_advice(app_url: str, standin: StandIn) -> None:
    shown = ask(Client(app_url, verbose=False), "single_turn", "hi", own_key="not-a-real-key")
    assert "Writer rejected the API key (401)" in shown and "the key you entered" in shown
    assert "not-a-real-key" not in shown


@pytest.fixture(scope="module")
def byok_url(standin_server: StandIn) -> Iterator[str]:
    """A public deployment's policy: visitors must bring their own key."""
    demo, url = launch(
        Settings(api_key=TEST_KEY, base_url=standin_server.url, visitor_key_required=True, rate_limit_per_minute=0)
    )
    yield url
    demo.close()


@pytest.mark.parametrize("tab", ["single_turn", "chat"])
def test_when_visitors_must_bring_a_key_the_owners_is_never_spent(byok_url: str, standin: StandIn, tab: str) -> None:
    app = Client(byok_url, verbose=False)
    assert "asks each visitor to use their own Writer API key" in ask(app, tab, "free ride?")
    assert standin.chat_requests() == []
    standin.api_key = None
    ask(app, tab, "with my key", own_key=VISITOR_KEY)
    assert [r.headers["authorization"] for r in standin.chat_requests()] == [f"Bearer {VISITOR_KEY}"]


def test_spaces_default_to_visitor_keys_and_one_trusted_proxy() -> None:
    on_spaces = Settings.from_env({"SPACE_ID": "someone/palmyra-chat", "WRITER_API_KEY": "k"})
    assert on_spaces.visitor_key_required and on_spaces.trusted_proxy_hops == 1
    shared = Settings.from_env({"SPACE_ID": "x", "VISITOR_KEY": "optional", "TRUSTED_PROXY_HOPS": "2"})
    assert not shared.visitor_key_required and shared.trusted_proxy_hops == 2
    local = Settings.from_env({})
    assert not local.visitor_key_required and local.trusted_proxy_hops == 0


@pytest.mark.parametrize(
    "environ",
    [
        {"VISITOR_KEY": "sometimes"},
        {"RATE_LIMIT_PER_MINUTE": "-1"},
        {"WRITER_TIMEOUT": "nan"},
        {"WRITER_MAX_RETRIES": "x"},
    ],
)
def test_bad_settings_stop_the_app_with_a_reason(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match=next(iter(environ))):
        Settings.from_env(environ)


def test_a_public_link_needs_credentials_unless_explicitly_allowed() -> None:
    with pytest.raises(AccessError, match="APP_AUTH=user:password"):
        launch_auth(share=True, allow_public_without_auth=False, environ={})
    assert launch_auth(share=True, allow_public_without_auth=True, environ={}) is None
    assert launch_auth(share=True, allow_public_without_auth=False, environ={"APP_AUTH": "ann:s3cret"}) == [
        ("ann", "s3cret")
    ]
    assert launch_auth(share=False, allow_public_without_auth=False, environ={}) is None
    assert parse_auth("a:1, b:2:3") == [("a", "1"), ("b", "2:3")]
    with pytest.raises(AccessError):
        parse_auth("nopassword")


def test_python_app_py_share_refuses_without_auth() -> None:
    env = {"PATH": "/usr/bin:/bin", "GRADIO_ANALYTICS_ENABLED": "False", "HOME": str(ROOT)}
    done = subprocess.run(  # our own app, with a fixed argument list
        [sys.executable, "app.py", "--share"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Refusing to open a public link without authentication" in done.stderr
    assert "Running on" not in done.stdout


@pytest.fixture  # one app per test: its limiter counts every request from 127.0.0.1
def limited_url(standin_server: StandIn) -> Iterator[str]:
    demo, url = launch(Settings(api_key=TEST_KEY, base_url=standin_server.url, rate_limit_per_minute=2))
    yield url
    demo.close()


@pytest.mark.parametrize("tab", ["single_turn", "chat"])
def test_the_rate_limit_is_per_visitor_and_new_sessions_do_not_reset_it(
    limited_url: str, standin: StandIn, tab: str
) -> None:
    ask(Client(limited_url, verbose=False), tab, "one")
    ask(Client(limited_url, verbose=False), tab, "two")
    refused = ask(Client(limited_url, verbose=False), tab, "three")  # a fresh session per request
    assert "Too many requests: this app allows 2 a minute per visitor. Try again in" in refused
    assert len(standin.chat_requests()) == 2


def test_refused_requests_count_against_the_rate_limit(limited_url: str, standin: StandIn) -> None:
    app = Client(limited_url, verbose=False)
    assert "Type a prompt first" in ask(app, "single_turn", "   ")
    assert "Type a prompt first" in ask(app, "single_turn", "   ")
    assert "Too many requests" in ask(app, "single_turn", "a real question")
    assert standin.chat_requests() == []


def test_rate_limiter_window_and_all_or_nothing_batches() -> None:
    limiter = RateLimiter(2, window=60)
    assert limiter.acquire("a") is None and limiter.acquire("a") is None
    assert 59 < limiter.acquire("a") <= 60  # until the first request leaves the window
    assert limiter.acquire("b", 3) == 60.0  # more than the limit at once never fits
    assert limiter.acquire("b", 2) is None  # a refused batch counted for nothing
    assert 59 < limiter.acquire("b") <= 60
    assert RateLimiter(0).acquire("a", 1_000) is None  # 0 turns the limit off


def test_a_byte_budget_counts_every_byte_and_once_spent_pauses_until_its_hour_ends() -> None:
    budget = RateLimiter(1_000_000, window=3600, counts=SharedCounts(moving=False), name="bytes")
    assert budget.acquire("a", 600_000) is None and budget.acquire("a", 400_000) is None  # exactly the budget
    assert 3590 < budget.acquire("a", 1) <= 3600  # the hour that began with the first export
    assert budget.acquire("b", 1_000_001) == 3600  # more than the budget at once never fits


def test_a_window_lets_requests_through_again_once_the_wait_it_gave_has_passed() -> None:
    limiter = RateLimiter(2, window=1)
    limiter.acquire("a")
    limiter.acquire("a")
    wait = limiter.acquire("a")
    assert wait is not None and 0 < wait <= 1
    time.sleep(wait + 0.01)  # the wait the limiter promised, not a guess
    assert limiter.acquire("a") is None


@pytest.fixture
def proxied_url(standin_server: StandIn) -> Iterator[str]:
    """The app behind one trusted proxy (simulated: the test sends the header the proxy would add)."""
    settings = Settings(api_key=TEST_KEY, base_url=standin_server.url, rate_limit_per_minute=2, trusted_proxy_hops=1)
    demo, url = launch(settings)
    yield url
    demo.close()


def from_address(url: str, forwarded_for: str) -> Client:
    return Client(url, verbose=False, headers={"X-Forwarded-For": forwarded_for})


def test_a_forged_forwarded_for_does_not_reset_the_limit(proxied_url: str, standin: StandIn) -> None:
    # The proxy appends the real address; whatever the client wrote before it is its own word.
    for forged in ("10.0.0.1", "10.0.0.2"):
        ask(from_address(proxied_url, f"{forged}, 203.0.113.7"), "single_turn", "hello")
    refused = ask(from_address(proxied_url, "10.0.0.3, 203.0.113.7"), "single_turn", "hello")
    assert "Too many requests" in refused
    assert len(standin.chat_requests()) == 2
    other = ask(from_address(proxied_url, "10.0.0.3, 198.51.100.4"), "single_turn", "hello")  # another visitor
    assert reply_text(standin.chat_requests()[-1].body) in other


def test_a_forged_header_line_before_the_proxys_own_does_not_reset_the_limit(proxied_url: str) -> None:
    # HAProxy's `option forwardfor` adds a line of its own after whatever the visitor sent: one list (RFC 9110).
    async def three_requests() -> list[str]:
        answers = []
        for forged in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
            browser = await Visitor.open(proxied_url, [forged, "203.0.113.7"])
            answers.append(shown(await browser.chat("hello")))
            await browser.close()
        return answers

    answers = run_async(three_requests())
    assert "Too many requests" not in answers[1] and "Too many requests" in answers[2]


def test_without_a_trusted_proxy_the_header_is_ignored(limited_url: str, standin: StandIn) -> None:
    for forged in ("10.0.0.1", "10.0.0.2"):
        ask(from_address(limited_url, forged), "single_turn", "hello")
    assert "Too many requests" in ask(from_address(limited_url, "10.0.0.3"), "single_turn", "hello")


def test_one_visitor_holds_at_most_a_few_replies_at_once(standin: StandIn) -> None:
    settings = Settings(api_key=TEST_KEY, base_url=standin.url, rate_limit_per_minute=0, max_requests_at_once=2)
    demo, url = launch(settings)
    try:
        standin.default = Behaviour(chunk_delay=0.3)
        slow = {"prompt": "slow", "temperature": 1.0, "non_streaming": False, "model": "palmyra-x5", "system": SYSTEM}
        jobs = [Client(url, verbose=False).submit(**slow, own_key="", api_name="/single_turn")]
        jobs.append(Client(url, verbose=False).submit(**slow, own_key="", api_name="/single_turn"))
        standin.wait_for_chat(2)
        refused = ask(Client(url, verbose=False), "single_turn", "a third at once")
        assert "You already have 2 replies under way" in refused
        assert len(standin.chat_requests()) == 2
        for job in jobs:
            job.result(timeout=30)
        standin.default = Behaviour()
        shown = ask(Client(url, verbose=False), "single_turn", "now")
        assert reply_text(standin.chat_requests()[-1].body) in shown
    finally:
        demo.close()
