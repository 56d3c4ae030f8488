"""Two replicas behind HAProxy in a real browser: a chat saved on one replica opens, whole, on the other."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from deploy import Deployment
from standin import StandIn
from tests.browser.conftest import SCREENSHOT_DIR, open_app
from tests.browser.test_saving import SAVED, reopen_and_continue, send
from tests.replicas import COOKIE, RedisServer, two_replicas


@pytest.fixture(scope="module")
def deployment(standin_server: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    redis_server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        with two_replicas(standin_server, tmp_path_factory.mktemp("deployment"), redis_server.url) as started:
            yield started
    finally:
        redis_server.stop()


def replica_of(page: Page) -> str:
    return next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == COOKIE)


def test_a_chat_saved_on_one_replica_opens_whole_on_the_other(
    page: Page, deployment: Deployment, standin: StandIn
) -> None:
    open_app(page, deployment.url, "Multi-turn")
    first_replica = replica_of(page)
    first = send(page, standin, "remember the cheetah")
    expect(page.locator(SAVED)).to_contain_text("remember the cheetah")

    # The visitor comes back and lands on the other replica (as after the first one was taken out).
    other = {"r1": "r2", "r2": "r1"}[first_replica]
    page.context.add_cookies([{"name": COOKIE, "value": other, "url": deployment.url}])
    page.reload()
    open_app(page, deployment.url, "Multi-turn")
    assert replica_of(page) == other
    reopen_and_continue(page, standin, first)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOT_DIR / f"replicas-saved-chat-on-{other}.png")
