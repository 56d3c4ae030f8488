"""The Evaluate section: a run of 20 cases on 3 configurations through ``/evaluate``, against one reply's time.

With 4 requests at once, 60 replies take about 60 / 4 = 15 replies' time; a run that queued them one by one
would take 60. Both are measured through the same endpoint, in the same run, so the ratio is what holds.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from gradio_client import Client

CASES, CONFIGURATIONS, CONCURRENCY = 20, 3, 4
IDEAL = CASES * CONFIGURATIONS / CONCURRENCY  # replies' time, with the bound full all along
SLACK = 1.25  # the target: within 25% of that
TEMPLATE = {"system": "You answer about {{country}}.", "user": "What is the capital of {{country}}?"}


def _run(client: Client, cases: int, configurations: int, concurrency: int) -> float:
    """One evaluation's wall time, through the API as a script calls it."""
    started = time.monotonic()
    out = client.predict(
        template=TEMPLATE,
        cases=[{"country": f"Country {n}"} for n in range(cases)],
        configurations=[{"model": "palmyra-x5", "temperature": 0.2 + 0.4 * k} for k in range(configurations)],
        checks=[],  # the bench stand-in paces its own text: what is timed is the run, every cell answered
        concurrency=concurrency,
        api_name="/evaluate",
    )
    wall = time.monotonic() - started
    if len(out["results"]) != cases * configurations or not all(r["passed"] for r in out["results"]):
        msg = f"the evaluation did not complete: {out['summary']}"
        raise RuntimeError(msg)
    return wall


async def wall_times(url: str, repeats: int) -> tuple[float, float]:
    """The median wall time of one reply (1 case, 1 configuration) and of the whole run, through ``/evaluate``."""
    client = await asyncio.to_thread(Client, url, verbose=False)
    ones = [await asyncio.to_thread(_run, client, 1, 1, 1) for _ in range(max(3, repeats))]
    runs = [
        await asyncio.to_thread(_run, client, CASES, CONFIGURATIONS, CONCURRENCY) for _ in range(max(1, repeats // 4))
    ]
    return statistics.median(ones), statistics.median(runs)
