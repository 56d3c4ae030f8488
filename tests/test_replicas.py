"""Two replicas behind HAProxy with their rate limit in Redis, as ``python -m deploy`` starts them.

Every process is real: the app replicas run ``app.py``, HAProxy and redis-server are Debian's, and the
visitors speak Gradio's queue through the proxy, each with its own cookies, as browsers do. The tests run
in file order: the last one stops Redis, and starts it again before it ends.
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client

from deploy import ROOT, Deployment
from deploy.processes import EPHEMERAL_PORTS, LOWEST_PORT, START_TIMEOUT_S, DeployError, free_port
from standin import Behaviour, StandIn
from tests.conftest import SYSTEM, TEST_KEY, reply_of, run_async, stop_after_first_update
from tests.replicas import (
    RATE_LIMIT,
    RedisServer,
    Visitor,
    deployment_env,
    log_text,
    ports_closed,
    require,
    shown,
    two_replicas,
)

SESSIONS, TURNS = 30, 3
MARKER = re.compile(r"marker-\d{3}")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def deployment(
    standin_server: StandIn, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    with two_replicas(standin_server, tmp_path_factory.mktemp("deployment"), redis_server.url) as started:
        yield started


def test_the_committed_haproxy_configuration_is_valid_with_a_server_line_per_replica(tmp_path: Path) -> None:
    deployment = Deployment(replicas=3, replica_ports=[7001, 7002, 7003])
    config = deployment.haproxy_config()
    assert re.findall(r"^\s*server .*$", config, re.MULTILINE) == [
        f"    server r{n} 127.0.0.1:700{n} check cookie r{n}" for n in (1, 2, 3)
    ]
    (tmp_path / "haproxy.cfg").write_text(config)
    checked = subprocess.run(
        [require("haproxy", "haproxy"), "-c", "-f", str(tmp_path / "haproxy.cfg")],
        env={"PALMYRA_BIND": "127.0.0.1:7000"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("environ", "hops"),
    [({}, "1"), ({"TRUSTED_PROXY_HOPS": "1"}, "2"), ({"SPACE_ID": "someone/palmyra"}, "2")],
)
def test_every_replica_trusts_haproxy_as_one_more_hop_and_shares_one_history_key(
    environ: dict[str, str], hops: str
) -> None:
    shared = Deployment(env=environ).shared_settings()
    assert shared["TRUSTED_PROXY_HOPS"] == hops
    assert len(shared["CHAT_HISTORY_KEY"]) >= 32
    assert Deployment(env={"CHAT_HISTORY_KEY": "ours"}).shared_settings()["CHAT_HISTORY_KEY"] == "ours"


def test_a_bad_setting_stops_the_deployment_before_anything_starts() -> None:
    deployment = Deployment(env={"WRITER_TIMEOUT": "thirty"})
    with pytest.raises(DeployError, match="WRITER_TIMEOUT must be a number of at least 0, not 'thirty'"):
        deployment.start()
    assert deployment.children == {}


def test_a_replica_whose_port_is_taken_stops_the_deployment_and_nothing_is_left(
    standin: StandIn, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Gradio moves to the next free port when its own is taken: a replica must not, for HAProxy would send
    nobody there. (A client's connection once held a replica's port at the moment it started.)"""
    taken, other = free_port(), free_port()
    env = deployment_env(standin)
    deployment = Deployment(replica_ports=[taken, other], redis_url=redis_server.url, env=env, log_dir=tmp_path)
    with socket.create_server(("127.0.0.1", taken)):
        started = time.monotonic()
        with pytest.raises(DeployError, match=r"replica-1 exited with 1"), deployment:
            pass
        assert time.monotonic() - started < START_TIMEOUT_S / 2  # it exited at once, not waited out
    assert f"Cannot find empty port in range: {taken}-{taken}" in (tmp_path / "replica-1.log").read_text()
    assert not any(child.running for child in deployment.children.values())
    assert ports_closed(other)


def test_free_ports_come_from_below_the_ports_of_outgoing_connections() -> None:
    """So no connection opened meanwhile can hold the port a replica, HAProxy or Redis is about to bind."""
    first_ephemeral = int(EPHEMERAL_PORTS.read_text().split()[0])
    ports = [free_port() for _ in range(20)]
    assert len(set(ports)) == len(ports)
    assert all(LOWEST_PORT <= port < first_ephemeral for port in ports), ports


async def converse(url: str, sessions: int, turns: int, prefix: str = "10.1") -> list[tuple[str, list]]:
    """``sessions`` visitors at once, each from its own address, each sending ``turns`` marked messages."""

    async def visitor(number: int) -> tuple[str, list]:
        me = await Visitor.open(url, f"{prefix}.{number // 250}.{number % 250 + 1}")
        try:
            results = [await me.chat(f"marker-{number:03} turn {turn}") for turn in range(turns)]
        finally:
            await me.close()
        return me.replica or "", results

    return await asyncio.gather(*(visitor(number) for number in range(sessions)))


def test_thirty_sessions_of_three_turns_each_keep_their_own_whole_history(
    deployment: Deployment, standin: StandIn
) -> None:
    standin.default = Behaviour(chunk_delay=0.01)  # replies overlap in time, turn after turn

    sessions = run_async(converse(deployment.url, SESSIONS, TURNS))

    for number, (_, results) in enumerate(sessions):
        for turn, result in enumerate(results):
            assert result.success, result.error
            assert reply_of(result.output[0]).startswith(f"Echo: marker-{number:03} turn {turn}")
    requests = standin.chat_requests()
    assert len(requests) == SESSIONS * TURNS
    for record in requests:  # one visitor's text only, and that visitor's whole history: the session stayed put
        messages = record.body["messages"]
        assert len(set(MARKER.findall(str(messages)))) == 1
        turn = int(messages[-1]["content"].rsplit(" ", 1)[1])
        assert [m["content"] for m in messages[1::2]] == [
            f"{messages[-1]['content'][:10]} turn {t}" for t in range(turn + 1)
        ]
    served = [replica for replica, _ in sessions]
    assert set(served) == {"r1", "r2"}, served
    assert min(served.count("r1"), served.count("r2")) >= SESSIONS // 4  # leastconn spread them


def test_the_rate_limit_is_one_count_across_the_replicas(deployment: Deployment, standin: StandIn) -> None:
    assert_one_count_across_the_replicas(deployment, standin, "10.2.0.1")


def assert_one_count_across_the_replicas(deployment: Deployment, standin: StandIn, address: str) -> None:
    """One visitor (one address) in two browsers, one pinned to each replica, meets one limit."""

    async def scenario() -> list[str]:
        browsers = [await Visitor.open(deployment.url, address, replica) for replica in ("r1", "r2")]
        try:
            return [shown(await browsers[number % 2].chat(f"request {number}")) for number in range(RATE_LIMIT + 2)]
        finally:
            for browser in browsers:
                await browser.close()

    sent_before = len(standin.chat_requests())
    answers = run_async(scenario())

    assert all("Echo: request" in answer for answer in answers[:RATE_LIMIT])  # 3 on each replica
    for refused in answers[RATE_LIMIT:]:  # on each replica: the other's requests counted too
        assert f"Too many requests: this app allows {RATE_LIMIT} a minute per visitor. Try again in" in refused
    assert len(standin.chat_requests()) - sent_before == RATE_LIMIT


def test_stop_through_the_proxy_closes_the_upstream_stream(deployment: Deployment, standin: StandIn) -> None:
    standin.enqueue(Behaviour(chunk_delay=1.0))
    app = Client(deployment.url, verbose=False, headers={"X-Forwarded-For": "10.3.0.1"})
    job = app.submit(message="a long story", system=SYSTEM, api_name="/chat")
    stop_after_first_update(job, standin)


def test_a_visitors_own_key_goes_upstream_and_no_key_reaches_a_log(deployment: Deployment, standin: StandIn) -> None:
    own_key = "visitor-key-5d1e8b"
    app = Client(deployment.url, verbose=False, headers={"X-Forwarded-For": "10.4.0.1"})
    app.predict(message="with my key", system=SYSTEM, own_key=own_key, api_name="/chat")
    assert standin.chat_requests()[-1].headers["authorization"] == f"Bearer {own_key}"
    logs = log_text(deployment.log_dir)
    assert "Running on local URL" in logs  # the replicas' logs are there to search
    assert TEST_KEY not in logs and own_key not in logs


def test_with_redis_gone_each_replica_counts_alone_and_the_shared_count_resumes_when_it_returns(
    deployment: Deployment, redis_server: RedisServer, standin: StandIn
) -> None:
    """The documented behaviour (README, "Running more than one process"): fail open to a per-replica count."""
    standin.default = Behaviour(chunk_delay=0.05)

    async def mid_run() -> list[tuple[str, list]]:
        talking = asyncio.ensure_future(converse(deployment.url, 10, TURNS, prefix="10.5"))
        await asyncio.to_thread(standin.wait_for_chat, 12, 30)  # the run is under way
        await asyncio.to_thread(redis_server.stop)
        return await talking

    for _, results in run_async(mid_run()):  # every turn answered, Redis or not
        assert all(reply_of(result.output[0]).startswith("Echo: marker-") for result in results)
    replica_logs = [deployment.log_dir / f"replica-{number}.log" for number in (1, 2)]

    async def one_replica(address: str, replica: str, count: int) -> list[str]:
        browser = await Visitor.open(deployment.url, address, replica)
        try:
            return [shown(await browser.chat(f"request {number}")) for number in range(count)]
        finally:
            await browser.close()

    # Still a limit while Redis is away: each replica counts on its own.
    alone = run_async(one_replica("10.6.0.1", "r1", RATE_LIMIT + 1))
    assert "Too many requests" not in "".join(alone[:RATE_LIMIT]) and "Too many requests" in alone[-1]
    noticed = [log for log in replica_logs if "cannot be reached" in log.read_text()]
    assert replica_logs[0] in noticed  # said in the log, once per outage
    assert all(log.read_text().count("cannot be reached") == 1 for log in noticed)

    redis_server.start()  # the same port: each replica uses it again at its first request after its pause
    deadline = time.monotonic() + 30
    number = 0
    while any(log.read_text().count("cannot be reached") > log.read_text().count("is back") for log in replica_logs):
        assert time.monotonic() < deadline, "the replicas did not use Redis again within 30 s"
        run_async(one_replica(f"10.7.0.{number % 250 + 1}", ("r1", "r2")[number % 2], 1))
        number += 1
    assert_one_count_across_the_replicas(deployment, standin, "10.8.0.1")  # shared again


def test_the_deploy_command_starts_everything_and_stops_it_all(standin: StandIn, tmp_path: Path) -> None:
    require("haproxy", "haproxy")
    require("redis-server", "redis-server")
    port = free_port()
    while not ports_closed(port + 1, port + 2):
        port = free_port()
    command = [sys.executable, "-m", "deploy", "--replicas", "2", "--port", str(port)]
    env = deployment_env(standin) | {"PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as run:
        try:
            output = []
            for line in run.stdout:  # until it says it is serving
                output.append(line)
                if line.startswith("Palmyra Chat:"):
                    break
            serving = f"Palmyra Chat: http://127.0.0.1:{port}/ (2 replicas"
            assert output and output[-1].startswith(serving), "".join(output)
            redis_port = int(re.search(r"redis://127\.0\.0\.1:(\d+)", output[-1]).group(1))
            app = Client(f"http://127.0.0.1:{port}/", verbose=False)
            assert reply_of(app.predict(message="through the command", system=SYSTEM, api_name="/chat")[0]).startswith(
                "Echo: through the command"
            )
            run.send_signal(signal.SIGTERM)
            assert run.wait(timeout=30) == 143
        finally:
            run.kill()
    assert ports_closed(port, port + 1, port + 2, redis_port)
