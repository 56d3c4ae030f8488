"""The processes a deployment starts: each one's command, how to tell it is ready, and how to stop it."""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import redis

START_TIMEOUT_S = 90.0  # an app replica imports Gradio and builds its page: seconds, more on a loaded machine
STOP_TIMEOUT_S = 10.0


class DeployError(RuntimeError):
    """Something the deployment needs did not start; the message says what, and where its log is."""


# The range the kernel takes outgoing connections' local ports from (on Linux by default 32768-60999).
EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")
DEFAULT_FIRST_EPHEMERAL = 32_768
LOWEST_PORT = 20_000  # above the ports of well-known services
_handed_out: set[int] = set()  # one process never gets the same port twice


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing uses now, from below the range of outgoing connections' ports.

    A port the kernel picks (bind to 0) comes from that range, and any connection opened between
    the pick and the server's bind may take it: the server then fails to start (a replica once did).
    Below that range only another server's own bind can take it.
    """
    try:
        first_ephemeral = int(EPHEMERAL_PORTS.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first_ephemeral = DEFAULT_FIRST_EPHEMERAL
    candidates = [port for port in range(LOWEST_PORT, first_ephemeral) if port not in _handed_out]
    for port in random.sample(candidates, k=min(len(candidates), 200)):  # random: two processes rarely pick alike
        with socket.socket() as sock:
            try:
                sock.bind((host, port))  # no SO_REUSEADDR: a port with connections still closing is skipped too
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket() as sock:  # a kernel whose range leaves nothing below it: its own pick
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class Child:
    """One process the deployment started, and where its output goes (None: this terminal)."""

    name: str
    popen: subprocess.Popen
    log: Path | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if not self.running:
                raise DeployError(f"{self.name} exited with {self.popen.returncode} {self._see_log()}")
            if time.monotonic() > deadline:
                raise DeployError(f"{self.name} was not {what} within {timeout:.0f} s {self._see_log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.running:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=STOP_TIMEOUT_S)

    def _see_log(self) -> str:
        return f"(its output: {self.log})" if self.log else "(its output is above)"


def spawn(name: str, command: list[str], env: dict[str, str], log_dir: Path | None, cwd: Path) -> Child:
    """Start ``command``; its output goes to ``log_dir/name.log``, or to this terminal without a log_dir."""
    log = log_dir / f"{name}.log" if log_dir else None
    output: IO[bytes] | None = log.open("wb") if log else None
    try:
        popen = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT if log else None)  # noqa: S603 - our own commands, no shell
    finally:
        if output:
            output.close()  # the child holds its own copy
    return Child(name, popen, log)


def start_redis(server: str, port: int, log_dir: Path | None, cwd: Path) -> Child:
    """``redis-server`` on 127.0.0.1:``port``, once it answers: nothing written to disk (the rate limit's
    counts are worth a minute, not a backup)."""
    command = [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    child = spawn(f"redis-{port}", command, {}, log_dir, cwd)
    client = redis.Redis(port=port, socket_connect_timeout=1)

    def pong() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        child.wait_until(pong, "answering")
    except DeployError:
        child.stop()
        raise
    finally:
        client.close()
    return child


def answers(url: str) -> Callable[[], bool]:
    """Ready when ``url`` answers 200."""

    def ready() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    return ready


def accepts(host: str, port: int) -> Callable[[], bool]:
    """Ready when a TCP connection to host:port succeeds."""

    def ready() -> bool:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            return False

    return ready
