"""Palmyra Chat on several processes: N app replicas behind HAProxy, their rate limit counted in Redis.

``python -m deploy --replicas 2`` starts it (deploy/__main__.py); ``Deployment`` is the same thing for the
tests and the benchmark. Gradio keeps each session in the memory of the process that made it, so HAProxy
pins each visitor to one replica with a cookie (deploy/haproxy.cfg says how, and how to add replicas on
other hosts). What must hold across replicas lives outside them: the rate limit's counts in Redis, and the
key of the chats saved in visitors' browsers (CHAT_HISTORY_KEY), the same in every replica.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from components.settings import Settings, SettingsError
from deploy.processes import Child, DeployError, accepts, answers, free_port, spawn, start_redis

ROOT = Path(__file__).resolve().parent.parent
HAPROXY_CONFIG = Path(__file__).with_name("haproxy.cfg")
_SERVER_LINE = re.compile(r"^\s*server\s.*\n", re.MULTILINE)


@dataclass
class Deployment:
    """What ``python -m deploy`` starts. Use as a context manager: everything it started stops on exit.

    ``redis_url`` None starts a local ``redis-server`` for the rate limit (unless the environment names one
    in RATE_LIMIT_STORAGE); ``replica_ports`` None takes free ones. ``log_dir`` None leaves every process's
    output on this terminal.
    """

    replicas: int = 2
    host: str = "127.0.0.1"
    port: int = 7860
    replica_ports: list[int] | None = None
    redis_url: str | None = None
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    log_dir: Path | None = None
    app_command: list[str] = field(default_factory=lambda: [sys.executable, str(ROOT / "app.py")])
    children: dict[str, Child] = field(default_factory=dict, init=False)
    _config_dir: tempfile.TemporaryDirectory | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def replica_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}/" for port in self.replica_ports or []]

    @property
    def redis(self) -> Child | None:
        """The Redis server this deployment started (None when it uses one it was given)."""
        return self.children.get("redis")

    def __enter__(self) -> Deployment:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        if self.replicas < 1:
            raise DeployError("at least one replica")
        shared = self.shared_settings()  # before anything starts: a bad setting stops the command at once
        self.replica_ports = self.replica_ports or [free_port() for _ in range(self.replicas)]
        self.redis_url = self.redis_url or shared.get("RATE_LIMIT_STORAGE") or self._start_redis()
        shared["RATE_LIMIT_STORAGE"] = self.redis_url
        for number, port in enumerate(self.replica_ports, start=1):
            # GRADIO_NUM_PORTS: on its own port or not at all. Gradio otherwise serves on the next free
            # port when that one is taken, and the replica would be up where HAProxy never sends anyone.
            own_port = {"GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port), "GRADIO_NUM_PORTS": "1"}
            self._spawn(f"replica-{number}", self.app_command, {**shared, **own_port})
        for number, url in enumerate(self.replica_urls, start=1):
            self.children[f"replica-{number}"].wait_until(answers(f"{url}robots.txt"), "serving")
        self._start_haproxy()

    def shared_settings(self) -> dict[str, str]:
        """The environment every replica gets: this one's, checked as app.py checks it, with what must be the same
        in all of them. Raises DeployError for a setting the app cannot use."""
        try:
            hops = Settings.from_env(self.env).trusted_proxy_hops
        except SettingsError as error:
            raise DeployError(str(error)) from None
        return {
            **self.env,
            # Not a secret (the page receives it): it only decides which saved chats a page can read, so every
            # replica needs the same one. A new one per start hides the chats saved before, as a restart does.
            "CHAT_HISTORY_KEY": self.env.get("CHAT_HISTORY_KEY") or secrets.token_urlsafe(24),
            # HAProxy appends the visitor's address: one more trusted hop than the app has on its own.
            "TRUSTED_PROXY_HOPS": str(hops + 1),
        }

    def stop(self) -> None:
        """Stop everything this deployment started: the proxy first (no new requests), then the replicas, then Redis."""
        for name in sorted(self.children, key=lambda name: ("haproxy", "replica", "redis").index(name.split("-")[0])):
            self.children[name].stop()
        if self._config_dir is not None:
            self._config_dir.cleanup()
            self._config_dir = None

    def haproxy_config(self) -> str:
        """deploy/haproxy.cfg with one ``server`` line per replica in place of its examples."""
        template = HAPROXY_CONFIG.read_text()
        servers = "".join(
            f"    server r{number} 127.0.0.1:{port} check cookie r{number}\n"
            for number, port in enumerate(self.replica_ports or [], start=1)
        )
        first = _SERVER_LINE.search(template)
        if first is None:
            raise DeployError(f"{HAPROXY_CONFIG} has no server lines to replace")
        return template[: first.start()] + servers + _SERVER_LINE.sub("", template[first.start() :])

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> Child:
        self.children[name] = spawn(name, command, env, self.log_dir, ROOT)
        return self.children[name]

    def _start_redis(self) -> str:
        server = shutil.which("redis-server")
        if server is None:
            msg = "redis-server is not installed (Debian: apt install redis-server); or set RATE_LIMIT_STORAGE"
            raise DeployError(msg)
        port = free_port()
        self.children["redis"] = start_redis(server, port, self.log_dir, ROOT)
        return f"redis://127.0.0.1:{port}/0"

    def _start_haproxy(self) -> None:
        haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
        if haproxy is None:
            raise DeployError("haproxy is not installed (Debian: apt install haproxy)")
        self._config_dir = tempfile.TemporaryDirectory(prefix="palmyra-haproxy-")
        config = Path(self._config_dir.name) / "haproxy.cfg"
        config.write_text(self.haproxy_config())
        env = {**self.env, "PALMYRA_BIND": f"{self.host}:{self.port}"}
        child = self._spawn("haproxy", [haproxy, "-db", "-f", str(config)], env)
        child.wait_until(accepts(self.host, self.port), "accepting connections")
