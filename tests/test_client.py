"""Settings and clients: env parsing, the key kept out of reprs, lazy cached clients, the model list."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from writerai import AsyncWriter

from components import client
from components.client import FALLBACK_MODELS, Settings, client_for, list_models, visitor_key_host, writer_for
from components.standin import StandIn
from components.startup import checked_start
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
    a = client_for(Settings(api_key="k1", base_url="http://127.0.0.1:9"))
    assert a is client_for(Settings(api_key="k1", base_url="http://127.0.0.1:9", model="palmyra-x4"))
    assert a is not client_for(Settings(api_key="k2", base_url="http://127.0.0.1:9"))
    assert a.max_retries == 0  # the chat logic retries, visibly
    assert (a.timeout.read, a.timeout.connect) == (30.0, client.CONNECT_TIMEOUT)


def test_offline_mode_talks_to_a_local_stand_in_over_http() -> None:
    offline = client_for(Settings())
    assert offline.base_url.host == "127.0.0.1"
    assert httpx.get(f"{client.offline_base_url()}/v1/models", headers={"Authorization": "Bearer x"}).status_code == 200
    assert client_for(Settings()) is offline  # started once


def test_a_visitor_key_goes_to_writer_unless_writer_base_url_names_another_host() -> None:
    async def host_of(settings: Settings) -> str:
        async with writer_for(settings, "visitor-key") as own:  # nothing is sent: only the client is made
            return own.base_url.host

    for settings in (Settings(), Settings(api_key="k")):
        assert (visitor_key_host(settings), run_async(host_of(settings))) == ("api.writer.com", "api.writer.com")
    proxy = Settings(base_url="http://user:secret@127.0.0.1:9/")
    assert (visitor_key_host(proxy), run_async(host_of(proxy))) == ("127.0.0.1:9", "127.0.0.1")


def test_models_come_from_the_api(standin: StandIn, writer: AsyncWriter) -> None:
    assert run_async(list_models(writer)) == [*FALLBACK_MODELS, EXTRA_MODEL]
    assert [(r.method, r.path) for r in standin.requests] == [("GET", "/v1/models")]


def test_models_fall_back_to_the_built_in_list_when_unreachable() -> None:
    unreachable = AsyncWriter(api_key="k", base_url=f"http://127.0.0.1:{free_port()}", max_retries=0)
    assert run_async(list_models(unreachable)) == list(FALLBACK_MODELS) == ["palmyra-x5", "palmyra-x4"]


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
