"""Bad input through the API: a clear message, nothing sent that Writer would reject, the app alive after."""

from __future__ import annotations

import math
from collections.abc import Iterator

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from components.chat.conversation import MAX_PROMPT_CHARS
from components.settings import Settings
from standin import StandIn, reply_text
from tests.conftest import PROMPT_PARAMETER, SYSTEM, TEST_KEY, launch, run_async, shown_text
from tests.gradio_queue import QueueResult, QueueSession, endpoint_data, fn_index

TABS = ["single_turn", "chat"]


def call(app: Client, tab: str, prompt: object, temperature: object = 1.0, model: object = "palmyra-x5") -> str:
    """Everything the user is shown for one request, as text."""
    settings = {"temperature": temperature, "non_streaming": False, "model": model, "system": SYSTEM}
    return shown_text(app.predict(**{PROMPT_PARAMETER[tab]: prompt}, **settings, api_name=f"/{tab}"))


def assert_alive(app: Client, tab: str, standin: StandIn) -> None:
    shown = call(app, tab, "still there?")
    assert reply_text(standin.chat_requests()[-1].body) in shown


@pytest.mark.parametrize("tab", TABS)
@pytest.mark.parametrize("prompt", ["", "   ", "\n\t "], ids=["empty", "spaces", "whitespace"])
def test_an_empty_prompt_sends_nothing_and_says_so(app: Client, standin: StandIn, tab: str, prompt: str) -> None:
    assert "Type a prompt first." in call(app, tab, prompt)
    assert standin.chat_requests() == []
    assert_alive(app, tab, standin)


@pytest.mark.parametrize("tab", TABS)
def test_a_huge_prompt_is_refused_before_sending(app: Client, standin: StandIn, tab: str) -> None:
    with pytest.raises(AppError, match=f"the limit is {MAX_PROMPT_CHARS:,}"):
        call(app, tab, "x" * (MAX_PROMPT_CHARS + 1))
    assert standin.chat_requests() == []
    assert_alive(app, tab, standin)


@pytest.mark.parametrize("tab", TABS)
@pytest.mark.parametrize("prompt", [{"text": "hi"}, ["hi"], True], ids=["dict", "list", "bool"])
def test_a_prompt_that_is_not_text_is_refused_not_sent_as_its_repr(
    app: Client, standin: StandIn, tab: str, prompt: object
) -> None:
    if tab == "chat" and isinstance(prompt, dict):  # the chat takes a message with attachments: text and files
        call(app, tab, prompt)
        assert standin.chat_requests()[-1].body["messages"][-1] == {"role": "user", "content": "hi"}
        return
    with pytest.raises(AppError, match="must be text"):
        call(app, tab, prompt)
    assert standin.chat_requests() == []
    assert_alive(app, tab, standin)


@pytest.mark.parametrize("own_key", [["a", "b"], "k" * 1_000_000], ids=["list", "1 MB"])
def test_a_visitor_key_that_is_not_a_key_is_refused(app: Client, standin: StandIn, own_key: object) -> None:
    with pytest.raises(AppError, match="Your Writer API key"):
        app.predict(
            prompt="hi",
            temperature=1.0,
            non_streaming=False,
            model="palmyra-x5",
            system=SYSTEM,
            own_key=own_key,
            api_name="/single_turn",
        )
    assert standin.chat_requests() == []


@pytest.mark.parametrize("tab", TABS)
def test_control_characters_and_non_latin_text_pass_through_intact(app: Client, standin: StandIn, tab: str) -> None:
    text = "naïve — 日本語 · العربية · 🚀 \x07bell \x1b[31mred\x1b[0m tab\there \u200b zero-width"
    call(app, tab, text)
    assert standin.chat_requests()[0].body["messages"][-1] == {"role": "user", "content": text}


# Gradio checks ranges, choices and types itself, with clear messages; our own checks
# (components/chat.py) stand behind them for what gets through, such as NaN.
BAD_PARAMETERS = [
    pytest.param({"temperature": -1}, "Value -1 is less than minimum value 0.0", id="temperature=-1"),
    pytest.param({"temperature": 5}, "Value 5 is greater than maximum value 2.0", id="temperature=5"),
    pytest.param({"temperature": "abc"}, "Expected a `float`, but the value passed", id="temperature=abc"),
    pytest.param({"model": "gpt-4"}, "Value: gpt-4 is not in the list of choices", id="unknown-model"),
]


@pytest.mark.parametrize("tab", TABS)
@pytest.mark.parametrize(("arguments", "message"), BAD_PARAMETERS)
def test_bad_parameters_get_a_clear_error_and_nothing_is_sent(
    app: Client, standin: StandIn, tab: str, arguments: dict, message: str
) -> None:
    arguments = {"prompt": "hi"} | arguments
    try:
        shown = call(app, tab, **arguments)
    except Exception as error:
        shown = str(error)
    assert message in shown
    assert standin.chat_requests() == []
    assert_alive(app, tab, standin)


def test_a_prompt_that_is_not_text_is_refused(app: Client, standin: StandIn) -> None:
    with pytest.raises(Exception, match="must be text"):
        call(app, "single_turn", None)
    assert standin.chat_requests() == []


@pytest.mark.parametrize("tab", TABS)
def test_nan_temperature_sent_raw_is_refused(app_url: str, standin: StandIn, tab: str) -> None:
    """JSON has no NaN, so gradio_client cannot send it; a hand-made request can (Python parses it)."""
    config = httpx.get(f"{app_url}config").json()
    info = httpx.get(f"{app_url}gradio_api/info").json()
    data = endpoint_data(  # for /chat, with a None in its history's gr.State slot
        info,
        config,
        tab,
        **{PROMPT_PARAMETER[tab]: "hi"},
        temperature=math.nan,
        non_streaming=False,
        model="palmyra-x5",
        system=SYSTEM,
        own_key="",
        top_p=None,
        max_tokens=None,
    )

    async def send() -> QueueResult:
        async with httpx.AsyncClient(timeout=30) as http:
            return await QueueSession(http, app_url).call(fn_index(config, tab), data)

    result = run_async(send())
    assert "Temperature must be a number from 0.0 to 2.0, not nan" in str(result.output) + str(result.error)
    assert standin.chat_requests() == []


@pytest.fixture(scope="module")
def small_context_url(standin_server: StandIn) -> Iterator[str]:
    """The app with a tiny context budget, so that a few turns overflow it."""
    demo, url = launch(
        Settings(api_key=TEST_KEY, base_url=standin_server.url, context_tokens=120, rate_limit_per_minute=0)
    )
    yield url
    demo.close()


def test_a_long_conversation_is_trimmed_oldest_first_and_the_user_told(
    small_context_url: str, standin: StandIn
) -> None:
    app = Client(small_context_url, verbose=False)
    for turn in range(4):
        call(app, "chat", f"question {turn}: " + "words " * 10)
    last = standin.chat_requests()[-1].body["messages"]
    shown = call(app, "chat", "the newest question")
    sent = standin.chat_requests()[-1].body["messages"]
    assert len(sent) < len(last) + 2  # something old was left out
    assert sent[0]["role"] == "system" and sent[1]["role"] == "user"
    assert sent[-1] == {"role": "user", "content": "the newest question"}
    assert sum(len(m["content"]) // 4 + 4 for m in sent) <= 120
    assert "Conversation trimmed" in shown and "oldest messages were left out" in shown


def test_a_prompt_beyond_the_context_budget_is_refused(small_context_url: str, standin: StandIn) -> None:
    app = Client(small_context_url, verbose=False)
    assert "too long for the context budget (120 tokens)" in call(app, "chat", "y" * 1000)
    assert standin.chat_requests() == []
