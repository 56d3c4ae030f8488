"""The Compare tab: one prompt at several temperatures (and two models), side by side; and stream vs. batch.

The mapping of ``ChatService.compare`` snapshots to the page (its layout: compare_layout.py). The checks and
the SDK calls are the service's, as for the other tabs, so every cell goes through the same
validation, key policy, rate limit and reply generator. Stop cancels the
handler from outside; ``runs.InFlight`` keeps its run cards so that the step after the
event can say which cells were stopped, and when.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import gradio as gr
import pandas as pd

from components.chat import params
from components.chat.cards import STOPPED, format_card
from components.chat.compare import (
    Cell,
    parse_temperatures,
    place,
    stopped_status,
)
from components.chat.params import InvalidRequestError
from components.chat.service import Ask, ChatService, Plan
from components.ui.chat_replies import reply_markdown
from components.ui.compare_layout import NO_SECOND_MODEL, CellView, CompareTab, layout
from components.ui.endpoints import endpoint
from components.ui.listeners import LISTENERS
from components.ui.requests import session_of, visitor
from components.writer.records import ReplyUpdate, RunCard

WAITING = "⏳ waiting for the first token…"
NOTHING_BEFORE_STOP = f"**{STOPPED}** before the first token arrived."
SENDING = "Sending {} requests at once…"  # the status while a comparison runs; a finished one replaces it

# Screen readers: the status line is a polite live region (it says when a run starts and ends); the cells
# are busy while they stream, so that no one hears every token. Gradio gives no attributes for these.
_MARK_BUSY = """() => {
    const status = document.querySelector('#cmp-status');
    status?.setAttribute('role', 'status');
    status?.setAttribute('aria-live', 'polite');
    document.querySelectorAll('.cmp-grid').forEach((grid) => grid.setAttribute('aria-busy', 'true'));
}"""
_MARK_IDLE = (
    "() => { document.querySelectorAll('.cmp-grid').forEach((grid) => grid.setAttribute('aria-busy', 'false')); }"
)


def _cell_outputs(view: CellView, cell: Cell | None, update: ReplyUpdate | None) -> dict[gr.Component, Any]:
    if cell is None:  # emptied as well as hidden: nothing of an earlier run stays to be read as this one's
        return {view.column: gr.Column(visible=False), view.title: "", view.reply: "", view.card: ""}
    card = WAITING if update is None else format_card(update.info, interrupted=update.interrupted, status=update.status)
    return {
        view.column: gr.Column(visible=True),
        view.title: _title(cell),
        view.reply: reply_markdown(update) if update else "",  # with its calls, or a schema's verdict
        view.card: card,
    }


def _title(cell: Cell) -> str:
    return f"**{cell.title}**"


def _cell_of(card: RunCard) -> Cell:
    """The cell a run card belongs to, from what was sent (the response may name the model differently)."""
    return Cell(card.request["model"], card.request["temperature"], stream=card.request["stream"])


def timing_chart(cells: Sequence[Cell], updates: Sequence[ReplyUpdate | None]) -> pd.DataFrame:
    """Time to first token and total time of each finished cell, for the stream-vs-batch chart."""
    rows = []
    for cell, update in zip(cells, updates, strict=True):
        if update is None or update.info.total_s is None or update.info.first_token_s is None:
            continue
        mode = "streamed" if cell.stream else "not streamed"
        rows.append({"run": f"{mode}: first token", "seconds": update.info.first_token_s, "mode": mode})
        rows.append({"run": f"{mode}: total", "seconds": update.info.total_s, "mode": mode})
    return pd.DataFrame(rows, columns=["run", "seconds", "mode"])


# The in-flight registry's name for this tab: one visitor's page runs one comparison at a time (the buttons
# are disabled meanwhile).
TAB = "compare"


def _refused(tab: CompareTab, message: str) -> dict[gr.Component, Any]:
    """Nothing was sent: the message, and no cells or chart of an earlier run to be taken for this one's."""
    refused: dict[gr.Component, Any] = {
        tab.status: f"⚠️ **Nothing sent:** {message}",
        tab.chart: gr.BarPlot(visible=False),
    }
    for view in tab.views:
        refused |= _cell_outputs(view, None, None)
    return refused


def _stopped(tab: CompareTab, shown: dict[gr.Component, Any], cards: Sequence[RunCard]) -> dict[gr.Component, Any]:
    """The cells as Stop left them: the unfinished ones' cards say so; the text that had arrived stays."""
    by_title = {_title(_cell_of(card)): card for card in cards}
    changed: dict[gr.Component, Any] = {}
    finished = total = 0
    for view in tab.views:
        if not shown[view.title]:
            continue  # not part of this run
        total += 1
        card = by_title.get(shown[view.title])
        if card is None:
            if shown[view.card] == WAITING:
                changed[view.card] = NOTHING_BEFORE_STOP
        elif card.stopped:
            changed[view.card] = format_card(card)
        elif not card.error:
            finished += 1
    changed[tab.status] = stopped_status(finished, total)
    return changed


# The handlers' parameters, in the order of the tab's inputs: the API's names.
INPUTS = ("prompt", "temperatures", "model", "second_model", "system", "own_key", *params.NAMES)


class _Runner:
    """The tab's handlers, over the chat service."""

    def __init__(self, tab: CompareTab, service: ChatService) -> None:
        self.tab, self.service = tab, service

    def plan_cells(self, arguments: dict[str, Any], visitor: str, *, versus: bool) -> tuple[Plan, list[Cell]]:
        temps = parse_temperatures(arguments["temperatures"])
        first, second = arguments["model"], arguments["second_model"]
        if versus:  # one setting, both ways
            cells = [Cell(str(first), temps[0], stream=True), Cell(str(first), temps[0], stream=False)]
            extra: list[object] = []
        else:
            extra = [second] if second not in (None, "", NO_SECOND_MODEL, first) else []
            cells = [Cell(str(m), t) for m in [first, *extra] for t in temps]
        sampling = {name: arguments[name] for name in params.NAMES}
        ask = Ask(arguments["prompt"], temps[0], first, arguments["system"], arguments["own_key"], sampling)
        return self.service.plan(ask, visitor, extra_models=extra, count=len(cells)), cells

    async def run(self, arguments: dict[str, Any], request: gr.Request | None, *, versus: bool) -> AsyncIterator[dict]:
        tab = self.tab
        try:
            plan, cells = self.plan_cells(arguments, visitor(self.service, request), versus=versus)
        except InvalidRequestError as problem:
            if problem.from_api_only:
                raise gr.Error(problem.message, title="Invalid request") from None
            gr.Warning(problem.message, title="Nothing sent")
            yield _refused(tab, problem.message)
            return
        session = session_of(request)
        if not await LISTENERS.wait_for(session):
            return  # nobody is reading this session's results: send nothing, spend nothing
        placed = place(cells)
        slot = {cell: index for index, cell in enumerate(placed) if cell is not None}
        start: dict[gr.Component, Any] = {tab.status: SENDING.format(len(cells))}
        # Shown empty from the start of a race: a plot that turns visible with its data draws at zero width.
        start[tab.chart] = gr.BarPlot(value=None, visible=versus)
        for view, cell in zip(tab.views, placed, strict=True):
            start |= _cell_outputs(view, cell, None)
        yield start
        snapshot: list[ReplyUpdate | None] = [None] * len(cells)
        with self.service.runs.tracking(session, TAB) as note:
            async for snapshot in self.service.compare(plan, cells):
                changed: dict[gr.Component, Any] = {}
                for cell, update in zip(cells, snapshot, strict=True):
                    if update is not None:
                        note(update.info)
                    changed |= _cell_outputs(tab.views[slot[cell]], cell, update)
                yield changed
        yield self._final(cells, snapshot, versus=versus)

    def _final(self, cells: list[Cell], snapshot: list[ReplyUpdate | None], *, versus: bool) -> dict[gr.Component, Any]:
        """The last update carries every cell in full: an API caller's result is the whole comparison."""
        tab = self.tab
        done = sum(1 for update in snapshot if update is not None and update.done and not update.info.error)
        failed = sum(1 for update in snapshot if update is not None and update.info.error)
        final: dict[gr.Component, Any] = {
            tab.status: f"{done} of {len(cells)} replies complete" + (f"; {failed} failed." if failed else ".")
        }
        updates = dict(zip(cells, snapshot, strict=True))
        for view, cell in zip(tab.views, place(cells), strict=True):
            final |= _cell_outputs(view, cell, updates.get(cell) if cell else None)
        if versus:
            final[tab.chart] = timing_chart(cells, snapshot)
        return final

    async def after(self, shown: dict[gr.Component, Any], request: gr.Request | None = None) -> dict:
        """After a run, finished or stopped: the buttons back, and what Stop stopped, if it did."""
        cards = await self.service.runs.take_stopped(session_of(request), TAB)
        changed = self.tab.buttons(running=False)
        # A run stopped before any reply began left no cards, only its "Sending…" status.
        running = SENDING.format(sum(1 for view in self.tab.views if shown[view.title]))
        if cards or shown[self.tab.status] == running:
            changed |= _stopped(self.tab, shown, cards)
        return changed


def render(service: ChatService, own_key: gr.Textbox, concurrency_limit: int) -> CompareTab:
    """Lay out the Compare tab and wire its events."""
    tab = layout(service.models, service.settings.model)
    runner = _Runner(tab, service)

    async def compare(request: gr.Request | None, **arguments: Any) -> AsyncIterator[dict]:
        async for update in runner.run(arguments, request, versus=False):
            yield update

    async def stream_vs_batch(request: gr.Request | None, **arguments: Any) -> AsyncIterator[dict]:
        async for update in runner.run(arguments, request, versus=True):
            yield update

    optional = ["own_key", *params.NAMES]
    handlers = (endpoint(compare, INPUTS, optional=optional), endpoint(stream_vs_batch, INPUTS, optional=optional))
    _wire(tab, own_key, *handlers, runner.after, concurrency_limit)
    return tab


def _wire(
    tab: CompareTab, own_key: gr.Textbox, compare: Callable, stream_vs_batch: Callable, after: Callable, limit: int
) -> None:
    """Both runs: buttons busy at once, the run, then (finished or stopped: Gradio runs ``.then`` after a cancel
    too) the buttons back and what Stop stopped."""
    inputs = [tab.prompt, tab.temperatures, tab.model, tab.second_model, tab.system, own_key, *tab.sampling]
    buttons = [tab.compare, tab.versus, tab.stop_button]
    # Bookkeeping steps: no progress overlay on the cells they touch, no API endpoint.
    private: dict[str, Any] = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
    events = []
    for triggers, handler, api_name in (
        ([tab.compare.click, tab.prompt.submit], compare, "compare"),
        ([tab.versus.click], stream_vs_batch, "stream_vs_batch"),
    ):
        gr.on(triggers, lambda: tab.buttons(running=True), outputs=buttons, js=_MARK_BUSY, **private)
        event = gr.on(
            triggers, handler, inputs=inputs, outputs=tab.outputs(), api_name=api_name, concurrency_limit=limit
        )
        event.then(after, inputs=tab.shown(), outputs=[*tab.outputs(), *buttons], **private).then(
            None, js=_MARK_IDLE, **private
        )
        events.append(event)
    tab.stop_button.click(None, cancels=events, **private)
