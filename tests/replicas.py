"""What the replica tests share: a Redis server of their own, a deployment's settings, and a visitor that keeps
its cookies (as a browser does) and speaks Gradio's queue through HAProxy."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy import Deployment
from deploy.processes import Child, free_port, start_redis
from standin import StandIn
from tests.conftest import TEST_KEY, shown_text
from tests.gradio_queue import QueueResult, QueueSession, fn_index
from tests.test_load import chat_data

COOKIE = "PALMYRA_REPLICA"  # HAProxy's stickiness cookie (deploy/haproxy.cfg)
RATE_LIMIT = 6  # a minute, per visitor address


def require(program: str, debian_package: str) -> str:
    """The program's path; skipped where it is missing, but failed under CI (scripts/test.sh installs it)."""
    path = shutil.which(program) or next(
        (p for p in (f"/usr/sbin/{program}", f"/usr/bin/{program}") if Path(p).exists()), None
    )
    if path is None:
        reason = f"{program} not found: install Debian's {debian_package} (bash scripts/test.sh does)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@dataclass
class RedisServer:
    """A redis-server on 127.0.0.1 that a test can stop and start again on the same port."""

    log_dir: Path
    port: int = field(default_factory=free_port)
    child: Child | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.child = start_redis(require("redis-server", "redis-server"), self.port, self.log_dir, self.log_dir)
        return self

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()


def deployment_env(standin: StandIn) -> dict[str, str]:
    """The replicas' settings: the stand-in with a key, and one trusted proxy in front of HAProxy (as a cloud
    load balancer would be), so that each simulated visitor is the address it sends in X-Forwarded-For."""
    return {
        **os.environ,
        "WRITER_API_KEY": TEST_KEY,
        "WRITER_BASE_URL": standin.url,
        "RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
        "MAX_REQUESTS_AT_ONCE": "0",
        "VISITOR_KEY": "optional",
        "TRUSTED_PROXY_HOPS": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }


@contextmanager
def two_replicas(standin: StandIn, log_dir: Path, redis_url: str) -> Iterator[Deployment]:
    """Two replicas behind HAProxy on 127.0.0.1, as ``python -m deploy`` starts them, counting in ``redis_url``."""
    require("haproxy", "haproxy")
    env = deployment_env(standin)
    with Deployment(replicas=2, port=free_port(), redis_url=redis_url, env=env, log_dir=log_dir) as started:
        yield started


@dataclass
class Visitor:
    """One browser: its own cookies (HAProxy's pins it to a replica) and the address a front proxy reports."""

    http: httpx.AsyncClient
    url: str
    config: dict[str, Any]
    info: dict[str, Any]
    session: QueueSession

    @classmethod
    async def open(cls, url: str, address: str | list[str], replica: str | None = None) -> Visitor:
        """Open the page as a browser does (HAProxy answers with its cookie); ``replica`` pins it by hand.
        ``address`` is what the request's X-Forwarded-For says (a list: one header line each)."""
        lines = [address] if isinstance(address, str) else address
        http = httpx.AsyncClient(
            timeout=60,
            headers=[("X-Forwarded-For", line) for line in lines],
            cookies={COOKIE: replica} if replica else None,
        )
        (await http.get(url)).raise_for_status()
        config = (await http.get(f"{url}config")).json()
        info = (await http.get(f"{url}gradio_api/info")).json()
        return cls(http, url, config, info, QueueSession(http, url))

    @property
    def replica(self) -> str | None:
        return self.http.cookies.get(COOKIE)

    async def chat(self, message: str) -> QueueResult:
        return await self.session.call(fn_index(self.config, "chat"), chat_data(self.info, self.config, message))

    async def close(self) -> None:
        await self.http.aclose()


def shown(result: QueueResult) -> str:
    """Everything the visitor is shown of a result, its error included."""
    return f"{shown_text(result.output)}\n{result.error or ''}"


def log_text(log_dir: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in sorted(log_dir.glob("*.log")))


def ports_closed(*ports: int) -> bool:
    """Nothing listens on any of these ports of 127.0.0.1."""
    for port in ports:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            continue
        return False
    return True
