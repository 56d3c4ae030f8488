"""The launched app, driven through gradio_client on 127.0.0.1, asserting what reaches the wire."""

from __future__ import annotations

import itertools

import httpx
import pytest
from gradio_client import Client

from components.chat.conversation import SYSTEM_MESSAGE
from components.settings import Settings
from standin import Behaviour, StandIn, reply_text
from tests.conftest import PROMPT_PARAMETER, SYSTEM, TEST_KEY, launch, reply_of, stop_after_first_update
from tests.gradio_queue import endpoint_data, fn_index


def outputs_of(app: Client, tab: str, prompt: str, **settings: object) -> list[tuple]:
    """Every update a tab's endpoint sent, called by name with the page's default settings."""
    defaults = {"temperature": 1.0, "non_streaming": False, "model": "palmyra-x5", "system": SYSTEM}
    job = app.submit(**{PROMPT_PARAMETER[tab]: prompt}, **(defaults | settings), api_name=f"/{tab}")
    job.result()
    return job.outputs()


def single_turn(app: Client, prompt: str, **settings: object) -> list[tuple]:
    return outputs_of(app, "single_turn", prompt, **settings)


def chat(app: Client, message: str, **settings: object) -> list[tuple]:
    return outputs_of(app, "chat", message, **settings)


def test_api_names_and_parameter_labels(app: Client) -> None:
    info = app.view_api(print_info=False, return_format="dict")["named_endpoints"]
    labels = [p["label"] for p in info["/single_turn"]["parameters"]]
    assert labels[:3] == ["Prompt", "Temperature", "Non-streaming"]
    assert [p["label"] for p in info["/chat"]["parameters"]][1:3] == ["Temperature", "Non-streaming"]
    assert info["/single_turn"]["returns"][0]["label"] == "Response"


def test_raw_calls_are_built_by_parameter_name(app_url: str) -> None:
    """tests/gradio_queue.py's endpoint_data, which the load tests and the benchmark build their requests with."""
    info = httpx.get(f"{app_url}gradio_api/info").json()
    config = httpx.get(f"{app_url}config").json()
    with pytest.raises(TypeError, match="no parameter promt"):
        endpoint_data(info, config, "single_turn", promt="hi")
    with pytest.raises(TypeError, match="needs a value for its parameter prompt"):
        endpoint_data(info, config, "single_turn", temperature=0.5)
    data = endpoint_data(info, config, "/chat", message="hi", top_p=0.5)
    inputs = config["dependencies"][fn_index(config, "chat")]["inputs"]
    states = {c["id"] for c in config["components"] if c["type"] == "state"}
    assert len(data) == len(inputs) and states & set(inputs)
    assert all(value is None for value, input_id in zip(data, inputs, strict=True) if input_id in states)
    sent = [value for value, input_id in zip(data, inputs, strict=True) if input_id not in states]
    assert sent == endpoint_data(info, None, "chat", message="hi", top_p=0.5)  # the REST form: no state slots
    parameters = info["named_endpoints"]["/chat"]["parameters"]
    by_name = dict(zip([p["parameter_name"] for p in parameters], sent, strict=True))
    defaults = {p["parameter_name"]: p["parameter_default"] for p in parameters}
    assert by_name == defaults | {"message": "hi", "top_p": 0.5}


def test_single_turn_streams_and_sends_only_system_and_prompt(app: Client, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.05)
    outputs = single_turn(app, "What's the fastest land animal?", temperature=0.3, model="palmyra-x4")
    body = standin.chat_requests()[0].body
    assert body["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "What's the fastest land animal?"},
    ]
    assert (body["model"], body["temperature"], body["stream"]) == ("palmyra-x4", 0.3, True)
    texts = [out[0] for out in outputs]
    assert len(set(texts)) >= 3 and texts[-1] == reply_text(body)


def test_single_turn_non_streaming_arrives_whole(app: Client, standin: StandIn) -> None:
    outputs = single_turn(app, "Synonyms for 'awesome'", non_streaming=True, temperature=1.5)
    body = standin.chat_requests()[0].body
    assert body["stream"] is False and body["temperature"] == 1.5
    assert [out[0] for out in outputs] == [reply_text(body)]


def test_single_turn_keeps_no_history(app: Client, standin: StandIn) -> None:
    single_turn(app, "first")
    single_turn(app, "second")
    assert [len(r.body["messages"]) for r in standin.chat_requests()] == [2, 2]


def test_single_turn_shows_metadata_and_the_messages_sent(app: Client, standin: StandIn) -> None:
    response, info, sent, *_ = single_turn(app, "hi", temperature=0.2)[-1]
    body = standin.chat_requests()[0].body
    prompt_tokens = 5 + 1  # "You are a test assistant." and "hi", as the stand-in counts them
    completion = len(response.split())
    assert "**palmyra-x5**" in info and "temperature 0.2" in info and "finish_reason `stop`" in info
    assert f"tokens {prompt_tokens} prompt + {completion} completion = {prompt_tokens + completion}" in info
    assert "first token" in info and "total" in info
    assert httpx.Response(200, content=sent).json() == body["messages"]


def test_single_turn_truncation_notice(app: Client, standin: StandIn) -> None:
    standin.default = Behaviour(max_tokens=3)
    _, info, _, *_ = single_turn(app, "tell me everything")[-1]
    assert "finish_reason `length`" in info and "Truncated" in info


def test_single_turn_error_is_readable_and_the_next_request_works(app: Client, standin: StandIn) -> None:
    standin.enqueue(Behaviour(status=401))
    response, info, _, *_ = single_turn(app, "hi")[-1]
    assert response == ""
    assert "❌ **Error:** Writer rejected the API key (401). Check WRITER_API_KEY" in info
    assert TEST_KEY not in info
    assert single_turn(app, "again")[-1][0] == reply_text(standin.chat_requests()[-1].body)


def test_single_turn_drop_keeps_the_partial_reply(app: Client, standin: StandIn) -> None:
    standin.enqueue(Behaviour(drop_after=3))
    response, info, _, *_ = single_turn(app, "hello there")[-1]
    assert response == "Echo: hello"
    assert "dropped in the middle of the reply" in info and "interrupted" in info


def test_empty_prompt_sends_nothing(app: Client, standin: StandIn) -> None:
    app.predict(
        prompt="   ", temperature=1.0, non_streaming=False, model="palmyra-x5", system=SYSTEM, api_name="/single_turn"
    )
    assert standin.chat_requests() == []


@pytest.mark.parametrize("non_streaming", [False, True], ids=["streaming", "non-streaming"])
def test_chat_sends_the_whole_history_on_the_second_turn(app: Client, standin: StandIn, non_streaming: bool) -> None:
    standin.default = Behaviour(chunk_delay=0.03)
    first = chat(app, "What's the fastest bird?", non_streaming=non_streaming, temperature=0.5)
    second = chat(app, "Tell me more", non_streaming=non_streaming, temperature=0.9, model="palmyra-x4")
    one, two = (r.body for r in standin.chat_requests())
    assert one["stream"] is two["stream"] is (not non_streaming)
    assert two["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "What's the fastest bird?"},
        {"role": "assistant", "content": reply_text(one)},
        {"role": "user", "content": "Tell me more"},
    ]
    assert (two["temperature"], two["model"]) == (0.9, "palmyra-x4")
    for outputs in (first, second):
        texts = [reply_of(out[0]) for out in outputs]
        if non_streaming:
            assert len(texts) == 1
        else:
            assert len(set(texts)) >= 3 and all(b.startswith(a) for a, b in itertools.pairwise(texts))
    reply, info, sent, *_ = second[-1]
    assert reply_of(reply) == reply_text(two) and "finish_reason `stop`" in info
    assert httpx.Response(200, content=sent).json() == two["messages"]


def test_chat_defaults_to_the_cookbook_system_message(app: Client, standin: StandIn) -> None:
    app.predict(message="hi", api_name="/chat")  # every setting left at its default
    body = standin.chat_requests()[0].body
    assert body["messages"][0] == {"role": "system", "content": SYSTEM_MESSAGE}
    assert (body["temperature"], body["model"]) == (1.0, "palmyra-x5")


def test_chat_error_keeps_partial_reply_and_the_next_turn_is_well_formed(app: Client, standin: StandIn) -> None:
    standin.enqueue(Behaviour(drop_after=3), Behaviour(status=403))  # 403 is not retried
    reply, info, _, *_ = chat(app, "first")[-1]
    assert reply[0] == {"role": "assistant", "content": "Echo: first"}
    assert reply[1]["metadata"]["title"] == "⚠️ Reply interrupted" and "dropped" in reply[1]["content"]
    assert "interrupted" in info
    reply, _, _, *_ = chat(app, "second")[-1]
    assert len(reply) == 1 and reply[0]["metadata"] == {"title": "⚠️ Request failed"}
    assert reply[0]["content"].startswith("This API key has no access to the selected model (403)")
    chat(app, "third")
    assert standin.chat_requests()[-1].body["messages"][1:] == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "Echo: first"},
        {"role": "user", "content": "third"},
    ]


def test_messages_command_shows_the_list_and_sends_nothing(app: Client, standin: StandIn) -> None:
    chat(app, "hello")
    reply, _, _, *_ = chat(app, "!messages")[-1]
    assert len(standin.chat_requests()) == 1
    assert reply["metadata"]["title"] == "Messages so far"
    assert '"content": "hello"' in reply["content"] and '"role": "system"' in reply["content"]
    chat(app, "next")
    assert [m["content"] for m in standin.chat_requests()[-1].body["messages"][1:]] == [
        "hello",
        reply_text(standin.chat_requests()[0].body),
        "next",
    ]


def test_two_sessions_never_share_a_conversation(app_url: str, standin: StandIn) -> None:
    alice, bob = Client(app_url, verbose=False), Client(app_url, verbose=False)
    chat(alice, "alice-secret-1")
    chat(bob, "bob-secret-1")
    chat(alice, "alice-2")
    chat(bob, "bob-2")
    alice_last, bob_last = (r.body["messages"] for r in standin.chat_requests()[2:])
    assert "bob" not in str(alice_last) and "alice" not in str(bob_last)
    assert len(alice_last) == len(bob_last) == 4


@pytest.mark.parametrize("api_name", ["/single_turn", "/chat"])
def test_stop_closes_the_upstream_stream(app: Client, standin: StandIn, api_name: str) -> None:
    standin.enqueue(Behaviour(chunk_delay=1.0))
    prompt = {PROMPT_PARAMETER[api_name.removeprefix("/")]: "a long story"}
    settings = {"temperature": 1.0, "non_streaming": False, "model": "palmyra-x5", "system": SYSTEM}
    job = app.submit(**prompt, **settings, api_name=api_name)
    stop_after_first_update(job, standin)


def test_offline_mode_answers_without_a_key_and_says_so() -> None:
    demo, url = launch(Settings(api_key=None, rate_limit_per_minute=0))
    try:
        client = Client(url, verbose=False)
        reply = client.predict(
            prompt="hello offline",
            temperature=0.4,
            non_streaming=False,
            model="palmyra-x5",
            system=SYSTEM,
            api_name="/single_turn",
        )[0]
        assert reply == "Echo: hello offline\n\n[model=palmyra-x5 messages=2 temperature=0.4]"
        config = httpx.get(f"{url}config").text
        assert "Offline demo mode" in config and "WRITER_API_KEY" in config
    finally:
        demo.close()


def _component_props(config: dict, elem_id: str) -> dict:
    return next(c["props"] for c in config["components"] if c["props"].get("elem_id") == elem_id)


def test_offline_a_visitor_key_goes_where_the_page_says_without_a_restart(standin: StandIn) -> None:
    demo, url = launch(Settings(api_key=None, base_url=standin.url))  # WRITER_BASE_URL: the stand-in, to observe
    try:
        config = httpx.get(f"{url}config").json()
        notice = _component_props(config, "offline-notice")["value"]
        assert "enter your own key under “Your Writer API key”" in notice and "no restart needed" in notice
        address = httpx.URL(standin.url)
        assert _component_props(config, "own-key")["info"].startswith(f"Sent to {address.host}:{address.port} ")
        client = Client(url, verbose=False)
        settings = {"temperature": 1.0, "non_streaming": False, "model": "palmyra-x5", "system": SYSTEM}
        reply = client.predict(prompt="my own key", **settings, own_key=TEST_KEY, api_name="/single_turn")[0]
        (record,) = standin.chat_requests()
        assert record.headers["authorization"] == f"Bearer {TEST_KEY}"
        assert reply == reply_text(record.body)
        echo = client.predict(prompt="no key", **settings, own_key="", api_name="/single_turn")[0]
        assert echo.startswith("Echo: no key") and len(standin.chat_requests()) == 1  # the offline stand-in's
    finally:
        demo.close()


def test_online_mode_has_no_offline_notice(app_url: str) -> None:
    assert "Offline demo mode" not in httpx.get(f"{app_url}config").text
