"""The replicas section: 100 visitors streaming at once through HAProxy, to 1 replica and to 2, in one run.

Both deployments are what ``python -m deploy`` starts (deploy.Deployment): HAProxy in front, the rate limit
counted in Redis (on, with a limit no visitor reaches, so every request asks Redis as in production). Each
simulated visitor is its own HTTP client with its own cookies, as a browser is: it opens the page (HAProxy
pins it to a replica with its cookie), then sends one streamed ``/chat`` turn over Gradio's queue. The two
deployments take turns, run after run, so that drift in the machine's load hits both alike.

``python -m bench.replicas`` runs this section alone; ``python -m bench.run`` includes it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.procs import BENCH_KEY, Process, start_standin
from bench.ui_path import Endpoints, chat_turn, open_page
from deploy import Deployment
from deploy.processes import free_port
from tests.gradio_queue import QueueSession

SESSIONS = 100
COOKIE = "PALMYRA_REPLICA"
PROMPT = "What's the fastest land animal?"
TARGET_RATIO = 0.8  # 2 replicas' wall time against 1's, on this 2-core machine


@dataclass
class Run:
    """One load run through one deployment."""

    wall_s: float
    errors: int
    served: dict[str, int]  # sessions per replica, by HAProxy's cookie value
    app_cpu_s: float  # every replica's CPU during the run
    proxy_cpu_s: float


@dataclass
class Figures:
    sessions: int = SESSIONS  # visitors at once in each run
    runs: dict[int, list[Run]] = field(default_factory=dict)  # by replica count
    one_reply_s: float = 0.0  # one visitor alone, through the 1-replica deployment

    def wall(self, replicas: int) -> float:
        return statistics.median(run.wall_s for run in self.runs[replicas])


async def _load(deployment: Deployment, endpoints: Endpoints, tls: ssl.SSLContext, sessions: int) -> Run:
    """``sessions`` visitors at once: each opens the page, then streams one reply; timed from the first send."""
    clients = [httpx.AsyncClient(timeout=120, verify=tls) for _ in range(sessions)]
    processes = {name: Process(name, child.popen, child.log) for name, child in deployment.children.items()}
    replicas = [process for name, process in processes.items() if name.startswith("replica-")]
    try:
        # Each visitor opens the page (HAProxy assigns it a replica), then its load event runs.
        opened = await asyncio.gather(*(_open(client, deployment.url, endpoints) for client in clients))
        queues = [queue for queue in opened if queue is not None]
        app_before = sum(p.cpu_seconds() for p in replicas)
        proxy_before = processes["haproxy"].cpu_seconds()
        started = time.monotonic()
        results = await asyncio.gather(
            *(chat_turn(queue, endpoints, PROMPT) for queue in queues), return_exceptions=True
        )
        wall = time.monotonic() - started
        app_cpu = sum(p.cpu_seconds() for p in replicas) - app_before
        proxy_cpu = processes["haproxy"].cpu_seconds() - proxy_before
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    failed = [r for r in results if isinstance(r, BaseException) or not r.success or not r.output]
    errors = len(clients) - len(queues) + len(failed)
    if errors and (log := deployment.children["haproxy"].log):  # the evidence, before the logs' folder goes
        print(
            f"[bench] {errors} errors; HAProxy's log ends:",
            *log.read_text().splitlines()[-20:],
            sep="\n",
            file=sys.stderr,
        )
    served: dict[str, int] = {}
    for client in clients:
        replica = client.cookies.get(COOKIE, "none")
        served[replica] = served.get(replica, 0) + 1
    return Run(wall, errors, served, app_cpu, proxy_cpu)


async def _open(client: httpx.AsyncClient, url: str, endpoints: Endpoints) -> QueueSession | None:
    """A visitor's page load: its cookie from HAProxy, then the page's load event; None if either failed."""
    try:
        (await client.get(url)).raise_for_status()
        queue = QueueSession(client, url)
        await open_page(queue, endpoints)
    except (httpx.HTTPError, RuntimeError):
        return None
    return queue


def _deployment(replicas: int, standin_url: str, log_dir: Path) -> Deployment:
    env = {
        **os.environ,
        "WRITER_API_KEY": BENCH_KEY,
        "WRITER_BASE_URL": standin_url,
        "RATE_LIMIT_PER_MINUTE": "1000000",  # on (each request asks Redis), never reached
        "MAX_REQUESTS_AT_ONCE": "0",  # every simulated visitor comes from 127.0.0.1
        "VISITOR_KEY": "optional",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    folder = log_dir / f"{replicas}-replicas"
    folder.mkdir()
    return Deployment(replicas=replicas, port=free_port(), env=env, log_dir=folder)


async def measure(standin_url: str, log_dir: Path, repeats: int, sessions: int = SESSIONS) -> Figures:
    """Start a 1-replica and a 2-replica deployment, warm both, alternate load runs on them, stop them."""
    with ExitStack() as stack:
        deployments = {n: stack.enter_context(_deployment(n, standin_url, log_dir)) for n in (1, 2)}
        return await _measure(deployments, repeats, sessions)


async def _measure(deployments: dict[int, Deployment], repeats: int, sessions: int) -> Figures:
    tls = ssl.create_default_context()  # one for every client: making one each costs the load generator CPU
    figures = Figures(sessions)
    async with httpx.AsyncClient(timeout=60) as http:
        config = (await http.get(f"{deployments[1].url}config")).json()
        info = (await http.get(f"{deployments[1].url}gradio_api/info")).json()
    endpoints = Endpoints.from_app(config, info)
    for deployment in deployments.values():
        await _load(deployment, endpoints, tls, 10)  # warm: first-use imports and caches in every replica
    figures.one_reply_s = statistics.median([(await _load(deployments[1], endpoints, tls, 1)).wall_s for _ in range(3)])
    for _ in range(repeats):
        for replicas, deployment in deployments.items():
            figures.runs.setdefault(replicas, []).append(await _load(deployment, endpoints, tls, sessions))
    return figures


def summary(figures: Figures) -> list[tuple[str, str, str, bool | None, dict]]:
    """The section's rows as (name, value, target, met, data)."""
    one, two = figures.wall(1), figures.wall(2)
    sessions = figures.sessions
    rows = []
    for replicas, runs in figures.runs.items():
        wall = figures.wall(replicas)
        errors = sum(run.errors for run in runs)
        served = {name: sum(run.served.get(name, 0) for run in runs) for name in sorted(runs[0].served)}
        total = sum(served.values())
        shares = ", ".join(f"{name} {count / total:.0%}" for name, count in served.items())
        cpu = statistics.median(run.app_cpu_s for run in runs)
        proxy = statistics.median(run.proxy_cpu_s for run in runs)
        value = (
            f"median wall {wall:.2f} s = {wall / figures.one_reply_s:.1f}× one reply; errors {errors}; "
            f"sessions: {shares}; app CPU {cpu:.2f} s ({1000 * cpu / sessions:.0f} ms a reply), HAProxy {proxy:.2f} s"
        )
        data = {"replicas": replicas, "wall_s": wall, "errors": errors, "served": served, "app_cpu_s": cpu}
        data |= {"proxy_cpu_s": proxy, "walls_s": [run.wall_s for run in runs], "one_reply_s": figures.one_reply_s}
        if replicas == 1:
            rows.append((f"{sessions} sessions through HAProxy, 1 replica", value, "errors 0", errors == 0, data))
        else:
            target = f"≤ {TARGET_RATIO}× 1 replica, errors 0 (here {two / one:.2f}×)"
            met = two / one <= TARGET_RATIO and errors == 0
            rows.append((f"{sessions} sessions through HAProxy, 2 replicas", value, target, met, data))
    # Each reply costs the same CPU on any replica, so with k cores serving k replicas (the stand-in, HAProxy
    # and the load generator elsewhere) the wall time is about the larger of one reply and the CPU shared by k.
    cpu = statistics.median(run.app_cpu_s for run in figures.runs[1])
    estimates = {cores: max(figures.one_reply_s, cpu / cores) for cores in (1, 2, 4, 8)}
    shown = ", ".join(f"{cores} → {wall:.1f} s" for cores, wall in estimates.items())
    value = f"{sessions} replies need {cpu:.1f} s of app CPU; estimated wall with k cores and k replicas: {shown}"
    rows.append(("how it scales with cores", value, "", None, {"app_cpu_s": cpu, "estimates_s": estimates}))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Palmyra Chat's replica benchmark (part of python -m bench.run).")
    parser.add_argument("--repeats", type=int, default=3, help="load runs on each deployment (default 3)")
    parser.add_argument("--sessions", type=int, default=SESSIONS, help=f"visitors at once (default {SESSIONS})")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="palmyra-bench-") as tmp, ExitStack() as stack:
        log_dir = Path(tmp)
        _, standin_url = start_standin(stack, log_dir, chunks=50, chunk_delay=0.02, burst_chunks=2000, long_delay=0.002)
        figures = asyncio.run(measure(standin_url, log_dir, args.repeats, args.sessions))
    for name, value, target, met, _ in summary(figures):
        print(f"{name}: {value} [{target}: {'met' if met else 'MISSED' if met is False else '-'}]")
    return 0 if all(met is not False for *_, met, _ in summary(figures)) else 1


if __name__ == "__main__":
    sys.exit(main())
