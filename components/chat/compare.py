"""Compare: one prompt at several temperatures (and models) at once, streamed side by side.

Knows nothing of Gradio. ``fan_out`` runs one reply generator per cell as asyncio tasks
and yields the latest state of every cell, coalesced in time, so N streams cost the page
about as much as one. A slow or failed cell holds back no other; closing the fan-out
(Stop, a closed tab) cancels every task, which closes every upstream stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass

from components.chat.conversation import MAX_TEMPERATURE, MIN_TEMPERATURE
from components.chat.params import InvalidRequestError
from components.writer.records import ReplyUpdate
from components.writer.streaming import UPDATE_INTERVAL

logger = logging.getLogger(__name__)

DEFAULT_TEMPERATURES = "0.0, 0.7, 1.4"
MAX_TEMPERATURES = 6
MAX_MODELS = 2
MAX_CELLS = MAX_TEMPERATURES * MAX_MODELS


@dataclass(frozen=True)
class Cell:
    """One reply of a comparison: a model, a temperature, streamed or not."""

    model: str
    temperature: float
    stream: bool = True

    @property
    def title(self) -> str:
        mode = "" if self.stream else " · not streamed"
        return f"{self.model} · temperature {self.temperature:g}{mode}"


def place(cells: Sequence[Cell]) -> list[Cell | None]:
    """The grid's slots, ``MAX_TEMPERATURES`` a row: each model on a row of its own, in order; None for an empty slot.

    Rows by model keep the grid regular: the same temperature sits in the same column for both models.
    """
    placed: list[Cell | None] = [None] * MAX_CELLS
    models = list(dict.fromkeys(cell.model for cell in cells))
    used = [0] * len(models)
    for cell in cells:
        row = models.index(cell.model)
        placed[row * MAX_TEMPERATURES + used[row]] = cell
        used[row] += 1
    return placed


def stopped_status(finished: int, total: int) -> str:
    """The status line after Stop: how much of the comparison had come back."""
    return f"Stopped by you: {finished} of {total} replies had finished."


def parse_temperatures(text: object) -> list[float]:
    """``"0, 0.7, 1.4"`` as floats, in order, without repeats; raises InvalidRequestError."""
    if not isinstance(text, str):
        msg = "Temperatures must be text: numbers separated by commas."
        raise InvalidRequestError(msg, from_api_only=True)
    values: list[float] = []
    for item in filter(None, re.split(r"[\s,;]+", text.strip())):
        try:
            value = float(item)
        except ValueError:
            value = math.nan
        if not MIN_TEMPERATURE <= value <= MAX_TEMPERATURE:  # NaN fails too
            msg = f"Each temperature must be a number from {MIN_TEMPERATURE} to {MAX_TEMPERATURE}; {item!r} is not."
            raise InvalidRequestError(msg)
        if value not in values:
            values.append(value)
    if not 1 <= len(values) <= MAX_TEMPERATURES:
        msg = f"Give 1 to {MAX_TEMPERATURES} temperatures, separated by commas (e.g. {DEFAULT_TEMPERATURES})."
        raise InvalidRequestError(msg)
    return values


async def fan_out(
    replies: Sequence[AsyncIterator[ReplyUpdate]], interval: float = UPDATE_INTERVAL
) -> AsyncIterator[list[ReplyUpdate | None]]:
    """Run every reply at once; yield the latest update of each (None: nothing yet) as they change.

    The first change is shown at once, later ones at most every ``interval``, and the end
    always. A cell whose generator fails unexpectedly ends as it was; the others go on.
    """
    latest: list[ReplyUpdate | None] = [None] * len(replies)
    changed = asyncio.Event()

    async def follow(index: int, updates: AsyncIterator[ReplyUpdate]) -> None:
        async with aclosing(updates):  # closing the generator closes its upstream stream
            try:
                async for update in updates:
                    latest[index] = update
                    changed.set()
            except Exception:  # a bug in one cell must not take the others down
                logger.exception("compare cell %d failed", index)
        changed.set()

    loop = asyncio.get_running_loop()
    tasks = [asyncio.create_task(follow(index, updates)) for index, updates in enumerate(replies)]
    try:
        shown_at = -math.inf
        while not all(task.done() for task in tasks):
            await changed.wait()
            wait = shown_at + interval - loop.time()
            if wait > 0:  # coalesce: gather what else arrives within the interval
                await asyncio.wait(tasks, timeout=wait, return_when=asyncio.ALL_COMPLETED)
            changed.clear()
            shown_at = loop.time()
            yield list(latest)
        if changed.is_set():  # the last cells ended after the last update was taken
            yield list(latest)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
