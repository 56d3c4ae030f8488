"""Settings and clients: env parsing, the key kept out of reprs, lazy cached clients, the model list."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from writerai import AsyncWriter

from components.chat.service import ChatService
from components.offline import standin_url, with_standin
from components.settings import FALLBACK_MODELS, Settings
from components.startup import checked_start
from components.writer.clients import CONNECT_TIMEOUT, host_of, list_models, own_client, shared_client
from standin import StandIn
from tests.conftest import EXTRA_MODEL, TEST_KEY, free_port, run_async


def test_settings_from_env_treats_blanks_as_unset() -> None:
    assert Settings.from_env({"WRITER_API_KEY": "  ", "WRITER_BASE_URL": "", "WRITER_MODEL": ""}) == Settings()
    settings = Settings.from_env({"WRITER_API_KEY": "k", "WRITER_BASE_URL": "http://h", "WRITER_MODEL": "palmyra-x4"})
    assert (settings.api_key, settings.base_url, settings.model, settings.offline) == (
        "k",
        "http://h",
        "palmyra-x4",
        False,
    )
    assert Settings().offline


def test_the_key_stays_out_of_the_settings_repr() -> None:
    assert TEST_KEY not in repr(Settings(api_key=TEST_KEY))
    assert TEST_KEY not in str(Settings(api_key=TEST_KEY))


def test_one_client_per_key_and_base_url_and_the_sdk_retries_nothing() -> None:
    a = shared_client("k1", "http://127.0.0.1:9", 30.0)
    assert a is shared_client("k1", "http://127.0.0.1:9", 30.0)
    assert a is not shared_client("k2", "http://127.0.0.1:9", 30.0)
    assert a.max_retries == 0  # the chat logic retries, visibly
    assert (a.timeout.read, a.timeout.connect) == (30.0, CONNECT_TIMEOUT)


def test_offline_mode_talks_to_a_local_stand_in_over_http() -> None:
    offline = with_standin(Settings())
    assert httpx.URL(offline.offline_url).host == "127.0.0.1"
    assert httpx.get(f"{offline.offline_url}/v1/models", headers={"Authorization": "Bearer x"}).status_code == 200
    assert with_standin(Settings()).offline_url == standin_url() == offline.offline_url  # started once
    assert with_standin(Settings(api_key="k")).offline_url is None  # with a key, no stand-in


def test_an_offline_service_without_its_stand_in_refuses_to_start() -> None:
    with pytest.raises(ValueError, match="start the stand-in first"):
        ChatService(Settings())


def test_a_visitor_key_goes_to_writer_unless_writer_base_url_names_another_host() -> None:
    async def host_sent_to(service: ChatService) -> str:
        async with own_client("visitor-key", service.visitor_key_url(), 30.0) as own:  # only the client is made
            return own.base_url.host

    for settings in (with_standin(Settings()), Settings(api_key="k")):
        service = ChatService(settings)
        assert (host_of(service.visitor_key_url()), run_async(host_sent_to(service))) == ("api.writer.com",) * 2
    proxy = ChatService(Settings(api_key="k", base_url="http://user:secret@127.0.0.1:9/"))
    assert (host_of(proxy.visitor_key_url()), run_async(host_sent_to(proxy))) == ("127.0.0.1:9", "127.0.0.1")


def test_models_come_from_the_api(standin: StandIn, writer: AsyncWriter) -> None:
    assert run_async(list_models(writer, FALLBACK_MODELS)) == [*FALLBACK_MODELS, EXTRA_MODEL]
    assert [(r.method, r.path) for r in standin.requests] == [("GET", "/v1/models")]


def test_models_fall_back_to_the_built_in_list_when_unreachable() -> None:
    unreachable = AsyncWriter(api_key="k", base_url=f"http://127.0.0.1:{free_port()}", max_retries=0)
    assert run_async(list_models(unreachable, FALLBACK_MODELS)) == list(FALLBACK_MODELS) == ["palmyra-x5", "palmyra-x4"]


class _RecordingEnviron(dict):
    """An empty environment that notes every name the app looks up."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, name: str, default: object = None) -> object:
        self.asked.add(name)
        return super().get(name, default)


def test_env_example_documents_every_setting_the_app_reads() -> None:
    environ = _RecordingEnviron()
    checked_start([], environ)  # what `python app.py` reads before it builds the page
    documented = set(
        re.findall(
            r"^#? ?([A-Z][A-Z_]+)=",
            (Path(__file__).resolve().parent.parent / ".env.example").read_text(),
            flags=re.MULTILINE,
        )
    )
    assert environ.asked - {"SPACE_ID"} <= documented  # SPACE_ID is set by Hugging Face, not by you
    assert len(environ.asked) >= 10
