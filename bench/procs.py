"""Start the stand-in and the app as processes of their own, and read their CPU time and memory from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from deploy.processes import answers, free_port

ROOT = Path(__file__).resolve().parent.parent
BENCH_KEY = "bench-key"  # the stand-in's key: any value works, the SDK insists on one
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
START_TIMEOUT = 60.0  # seconds; `import gradio` alone takes 3-5 s, more on a loaded machine


@dataclass
class Process:
    """A child process we started; read its counters while it runs."""

    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far (all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime (fields 14, 15 of stat)

    def rss_bytes(self) -> int:
        return int(Path(f"/proc/{self.pid}/statm").read_text().split()[1]) * _PAGE

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            msg = f"{self.name} exited with {self.popen.returncode}:\n{tail}"
            raise RuntimeError(msg)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


def _spawn(stack: ExitStack, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> Process:
    log = log_dir / f"{name}.log"
    handle = stack.enter_context(log.open("w"))
    popen = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
        [sys.executable, *args], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT
    )
    process = Process(name, popen, log)
    stack.callback(process.stop)
    return process


def _wait_for(process: Process, ready: callable) -> None:  # type: ignore[valid-type]
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        process.check_alive()
        if time.monotonic() > deadline:
            msg = f"{process.name} did not start within {START_TIMEOUT:.0f} s (log: {process.log})"
            raise RuntimeError(msg)
        time.sleep(0.05)


def start_standin(
    stack: ExitStack, log_dir: Path, *, chunks: int, chunk_delay: float, burst_chunks: int, long_delay: float
) -> tuple[Process, str]:
    port = free_port()
    args = ["-m", "bench.standin_server", "--port", str(port), "--api-key", BENCH_KEY]
    args += ["--chunks", str(chunks), "--chunk-delay", str(chunk_delay), "--burst-chunks", str(burst_chunks)]
    args += ["--long-delay", str(long_delay)]
    process = _spawn(stack, "standin", args, dict(os.environ), log_dir)
    _wait_for(process, lambda: "ready" in process.log.read_text())
    return process, f"http://127.0.0.1:{port}"


def start_app(stack: ExitStack, log_dir: Path, standin_url: str) -> tuple[Process, str]:
    """``app.py`` as deployed (run by bench/app_server.py), pointed at the stand-in, on 127.0.0.1.

    The rate limit is off (a benchmark sends hundreds of turns a minute from one session);
    every other setting is the app's default.
    """
    limits_off = {
        "RATE_LIMIT_PER_MINUTE": "0",
        "MAX_REQUESTS_AT_ONCE": "0",  # every benchmark session comes from 127.0.0.1
        "VISITOR_KEY": "optional",
    }
    return _start_gradio(stack, log_dir, "app", ["-m", "bench.app_server"], standin_url, limits_off)


def start_minimal_app(stack: ExitStack, log_dir: Path, standin_url: str) -> tuple[Process, str]:
    """bench/minimal_app.py, the floor of the CPU comparison, on 127.0.0.1, pointed at the same stand-in."""
    return _start_gradio(stack, log_dir, "minimal-app", ["-m", "bench.minimal_app"], standin_url, {})


def _start_gradio(
    stack: ExitStack, log_dir: Path, name: str, args: list[str], standin_url: str, settings: dict[str, str]
) -> tuple[Process, str]:
    port = free_port()
    env = {
        **os.environ,
        "WRITER_API_KEY": BENCH_KEY,
        "WRITER_BASE_URL": standin_url,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_NUM_PORTS": "1",  # that port or a clear failure, never a silent move to the next one
        "GRADIO_ANALYTICS_ENABLED": "False",
        **settings,
    }
    process = _spawn(stack, name, args, env, log_dir)
    url = f"http://127.0.0.1:{port}/"
    _wait_for(process, answers(f"{url}config"))
    return process, url
