"""Where the app spends CPU per streamed reply: py-spy on the app process while N replies run.

``python -m bench.profile [--replies N] [--path chat|page] [--out DIR]``

Starts the stand-in and the app as the benchmark does (bench/procs.py), warms up, then
records the app with ``py-spy record`` (raw, collapsed stacks, only samples holding the
GIL: CPU, not waits) while N paced replies stream one after the other, through ``/chat``
or the Multi-turn page's event chain. Prints the app's CPU per reply and the functions
with the most samples, inclusive and own; the collapsed stacks stay in ``--out`` for a
flame graph (e.g. speedscope.app reads them). Needs ``py-spy`` (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench.procs import start_app, start_standin
from bench.ui_path import Endpoints, PageSession, chat_turn, open_page
from tests.gradio_queue import QueueSession

PROMPT = "What's the fastest land animal?"
TOP = 40


def summarize(collapsed: Path, top: int = TOP) -> str:
    """The functions with the most samples: inclusive (on the stack) and own (at its top)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [frame.rsplit(":", 1)[0] if frame.count(":") > 1 else frame for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    lines = [f"{total} samples"]
    for title, counter in (("inclusive", inclusive), ("own", own)):
        lines.append(f"\n-- {title} --")
        lines.extend(f"{count / total:6.1%}  {frame}" for frame, count in counter.most_common(top))
    return "\n".join(lines)


async def drive(
    url: str, path: str, replies: int, cpu: Callable[[], float], record: Callable[[], None]
) -> tuple[float, float]:
    """Warm up, then ``record()`` and run the replies one after the other; the app's CPU seconds and the
    updates per reply."""
    async with httpx.AsyncClient(timeout=120) as http:
        config = (await http.get(f"{url}config")).json()
        info = (await http.get(f"{url}gradio_api/info")).json()
        endpoints = Endpoints.from_app(config, info)
        page = await PageSession(http, url, endpoints).open()
        session = QueueSession(http, url)
        await open_page(session, endpoints)

        updates: list[int] = []

        async def one() -> None:
            if path == "page":
                result = await page.send(PROMPT)
                await page.rewind()
            else:
                result = await chat_turn(session, endpoints, PROMPT)
            updates.append(result.updates)

        for _ in range(3):
            await one()
        record()
        await asyncio.sleep(1)  # py-spy attaches
        before = cpu()
        del updates[:]
        for _ in range(replies):
            await one()
        return (cpu() - before) / replies, sum(updates) / len(updates)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=40)
    parser.add_argument("--path", choices=("chat", "page"), default="chat")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "palmyra-profile")
    parser.add_argument("--no-spy", action="store_true", help="measure the CPU per reply only")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    args.out.mkdir(parents=True, exist_ok=True)
    collapsed = args.out / f"{args.path}.txt"
    with tempfile.TemporaryDirectory(prefix="palmyra-profile-") as tmp, ExitStack() as stack:
        standin, standin_url = start_standin(
            stack, Path(tmp), chunks=50, chunk_delay=0.02, burst_chunks=2000, long_delay=0.002
        )
        app, url = start_app(stack, Path(tmp), standin_url)
        spies: list[subprocess.Popen] = []

        def record() -> None:
            if not args.no_spy:
                command = [py_spy, "record", "--pid", str(app.pid), "--format", "raw", "--gil", "--rate", "250"]
                command += ["--nonblocking", "--output", str(collapsed)]
                spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # noqa: S603

        started = time.monotonic()
        per_reply, updates = asyncio.run(drive(url, args.path, args.replies, app.cpu_seconds, record))
        elapsed = time.monotonic() - started
        for spy in spies:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)
        del standin
    print(
        f"app CPU per reply ({args.path}): {per_reply * 1000:.1f} ms, {updates:.1f} updates, "
        f"over {args.replies} replies, {elapsed:.0f} s"
    )
    if spies:
        print(summarize(collapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
