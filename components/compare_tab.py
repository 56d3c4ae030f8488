"""The Compare tab: one prompt at several temperatures (and two models), side by side; and stream vs. batch.

Layout and the mapping of ``compare.fan_out`` snapshots to the page. The checks and the
SDK calls are the other tabs' (``ui.build_demo`` hands them in), so every cell goes
through the same validation, key policy, rate limit and reply generator. Stop cancels the
handler from outside; ``runs.InFlight`` keeps its run cards so that the step after the
event can say which cells were stopped, and when.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from components import widgets
from components.bounds import BoundedTextbox
from components.cards import STOPPED, format_card
from components.chat import MAX_PROMPT_CHARS, InvalidRequestError, ReplyUpdate, RunCard
from components.compare import (
    DEFAULT_TEMPERATURES,
    MAX_MODELS,
    MAX_TEMPERATURES,
    Cell,
    parse_temperatures,
    place,
    stopped_status,
)
from components.listeners import LISTENERS
from components.runs import InFlight

# (the checked plan, the cells) -> snapshots of every cell's latest update
RunCells = Callable[[Any, list[Cell]], AsyncIterator[list[ReplyUpdate | None]]]
NO_SECOND_MODEL = "(none)"
WAITING = "⏳ waiting for the first token…"
NOTHING_BEFORE_STOP = f"**{STOPPED}** before the first token arrived."
SENDING = "Sending {} requests at once…"  # the status while a comparison runs; a finished one replaces it

# ui.py adds these rules to the page's CSS.
CSS = """
/* Each model's cells on a grid of equal columns: at most 3 a line, 1 on a phone. */
.cmp-grid { display: grid !important; grid-template-columns: repeat(auto-fit, minmax(var(--cmp-column), 1fr));
  --cmp-column: min(100%, max(240px, calc((100% - 2 * var(--layout-gap)) / 3))); }
/* On a phone the settings go below the results, so the results start right under the buttons. */
@media (max-width: 640px) {
  #cmp-top { display: contents !important; }
  #cmp-settings { order: 1; }
}
"""
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


@dataclass(frozen=True)
class CellView:
    """One cell's place in the grid: its column, title, reply and run card."""

    column: gr.Column
    title: gr.Markdown
    reply: gr.Markdown
    card: gr.Markdown


def _cell_outputs(view: CellView, cell: Cell | None, update: ReplyUpdate | None) -> dict[gr.Component, Any]:
    if cell is None:  # emptied as well as hidden: nothing of an earlier run stays to be read as this one's
        return {view.column: gr.Column(visible=False), view.title: "", view.reply: "", view.card: ""}
    card = WAITING if update is None else format_card(update.info, interrupted=update.interrupted, status=update.status)
    return {
        view.column: gr.Column(visible=True),
        view.title: _title(cell),
        view.reply: update.text if update else "",
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


@dataclass(frozen=True)
class CompareTab:
    """The tab's components."""

    prompt: gr.Textbox
    temperatures: gr.Textbox
    model: gr.Dropdown
    second_model: gr.Dropdown
    system: gr.Textbox
    top_p: gr.Textbox
    max_tokens: gr.Textbox
    stop: gr.Textbox
    compare: gr.Button
    versus: gr.Button
    stop_button: gr.Button
    status: gr.Markdown
    chart: gr.BarPlot
    views: list[CellView]

    def outputs(self) -> list[gr.Component]:
        outputs: list[gr.Component] = [self.status, self.chart]
        for view in self.views:
            outputs.extend([view.column, view.title, view.reply, view.card])
        return outputs

    def shown(self) -> set[gr.Component]:
        """What the step after a run reads back from the page (as a dict): the status, every cell's title and card."""
        return {self.status, *(view.title for view in self.views), *(view.card for view in self.views)}

    def buttons(self, *, running: bool) -> dict[gr.Component, Any]:
        """Compare and Stream vs. non-stream while idle, Stop while running, as in the other tabs."""
        return {
            self.compare: gr.update(interactive=not running),
            self.versus: gr.update(interactive=not running),
            self.stop_button: gr.update(interactive=running),
        }


def _layout(model_choices: list[str], default_model: str) -> CompareTab:
    gr.Markdown(
        "One prompt at several temperatures, on one or two models: the replies stream side by side, each "
        "with its run card. **Stream vs. non-stream** charts time to first token against total time."
    )
    with gr.Row(elem_id="cmp-top"):
        with gr.Column(scale=3):
            prompt = BoundedTextbox(
                label="Prompt",
                lines=2,
                max_length=MAX_PROMPT_CHARS,
                placeholder="One prompt, many settings (Ctrl+Enter runs Compare)",
                elem_id="cmp-prompt",
            )
            with gr.Row():
                # Stop before Stream vs. non-stream: on a phone Compare and Stop share a line and the long label
                # gets one of its own; on a wide screen its double share keeps it on one line.
                compare = gr.Button("Compare", variant="primary", scale=1, min_width=100, elem_id="cmp-submit")
                stop_button = gr.Button(
                    "Stop", variant="stop", interactive=False, scale=1, min_width=100, elem_id="cmp-stop-button"
                )
                versus = gr.Button("Stream vs. non-stream", scale=2, min_width=200, elem_id="cmp-versus")
        with gr.Column(scale=2, elem_id="cmp-settings"):
            temperatures = BoundedTextbox(
                DEFAULT_TEMPERATURES,
                label="Temperatures",
                max_length=200,
                info=f"Up to {MAX_TEMPERATURES}, separated by commas, each from 0.0 to 2.0",
                elem_id="cmp-temperatures",
            )
            with gr.Row():
                model = gr.Dropdown(model_choices, value=default_model, label="Model", elem_id="cmp-model")
                second_model = gr.Dropdown(
                    [NO_SECOND_MODEL, *model_choices],
                    value=NO_SECOND_MODEL,
                    label="Second model",
                    info="Optional: the same temperatures on another model",
                    elem_id="cmp-model-2",
                )
            system = widgets.system_box("cmp")
            widgets.render_system(system)
            top_p, max_tokens, stop = widgets.parameter_boxes("cmp")
            widgets.render_parameters(top_p, max_tokens, stop)
    status = gr.Markdown(elem_classes="reply-info", elem_id="cmp-status")
    chart = _chart()
    return CompareTab(
        prompt, temperatures, model, second_model, system, top_p, max_tokens, stop,
        compare, versus, stop_button, status, chart, _grid(),
    )  # fmt: skip


def _chart() -> gr.BarPlot:
    # Horizontal bars: each label has a line of its own, so none overlaps another however narrow the screen.
    return gr.BarPlot(
        x="seconds",
        y="run",
        color="mode",
        x_lim=[0, None],  # bars start at zero, or the shorter ones look shorter than they are
        title="Stream vs. non-stream",
        visible=False,
        elem_id="cmp-chart",
    )


def _grid() -> list[CellView]:
    """A row of the grid per model, a slot per temperature; hidden until a run fills them."""
    views: list[CellView] = []
    for row in range(MAX_MODELS):
        with gr.Row(equal_height=False, elem_classes="cmp-grid", elem_id=f"cmp-cells-{row}"):
            for column in range(MAX_TEMPERATURES):
                index = row * MAX_TEMPERATURES + column
                with gr.Column(min_width=240, visible=False, elem_classes="cmp-cell") as cell_column:
                    views.append(
                        CellView(
                            cell_column,
                            gr.Markdown(elem_id=f"cmp-title-{index}"),
                            gr.Markdown(container=True, buttons=["copy"], min_height=80, elem_id=f"cmp-reply-{index}"),
                            gr.Markdown(elem_classes="reply-info", elem_id=f"cmp-card-{index}"),
                        )
                    )
    return views


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


class _Runner:
    """The tab's handlers, over the checks and the cells' runner that ``ui.build_demo`` hands in."""

    def __init__(self, tab: CompareTab, prepare: Callable[..., Any], run_cells: RunCells, in_flight: InFlight) -> None:
        self.tab, self.prepare, self.run_cells, self.in_flight = tab, prepare, run_cells, in_flight

    def plan_cells(
        self, prompt: object, temperatures: object, first: object, second: object, system: object, key: object,
        sampling: tuple[object, object, object], request: gr.Request | None, *, versus: bool,
    ) -> tuple[Any, list[Cell]]:  # fmt: skip
        temps = parse_temperatures(temperatures)
        if versus:  # one setting, both ways
            cells = [Cell(str(first), temps[0], stream=True), Cell(str(first), temps[0], stream=False)]
            extra: list[object] = []
        else:
            extra = [second] if second not in (None, "", NO_SECOND_MODEL, first) else []
            cells = [Cell(str(m), t) for m in [first, *extra] for t in temps]
        plan = self.prepare(
            [], prompt, temps[0], first, system, key, sampling, request, extra_models=extra, count=len(cells)
        )
        return plan, cells

    async def run(self, arguments: tuple[Any, ...], request: gr.Request | None, *, versus: bool) -> AsyncIterator[dict]:
        prompt, temperatures, first, second, system, key, top_p, max_tokens, stop = arguments
        tab = self.tab
        try:
            plan, cells = self.plan_cells(
                prompt, temperatures, first, second, system, key, (top_p, max_tokens, stop), request, versus=versus
            )
        except InvalidRequestError as problem:
            if problem.from_api_only:
                raise gr.Error(problem.message, title="Invalid request") from None
            gr.Warning(problem.message, title="Nothing sent")
            yield _refused(tab, problem.message)
            return
        session = getattr(request, "session_hash", None)
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
        with self.in_flight.tracking(session, TAB) as note:
            async for snapshot in self.run_cells(plan, cells):
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
        cards = await self.in_flight.take_stopped(getattr(request, "session_hash", None), TAB)
        changed = self.tab.buttons(running=False)
        # A run stopped before any reply began left no cards, only its "Sending…" status.
        running = SENDING.format(sum(1 for view in self.tab.views if shown[view.title]))
        if cards or shown[self.tab.status] == running:
            changed |= _stopped(self.tab, shown, cards)
        return changed


def render(
    *,
    model_choices: list[str],
    default_model: str,
    own_key: gr.Textbox,
    prepare: Callable[..., Any],
    run_cells: RunCells,
    in_flight: InFlight,
    concurrency_limit: int,
) -> list[tuple[gr.Dropdown, list[str]]]:
    """Lay out the Compare tab and wire its events; return its model dropdowns with the choices they add."""
    tab = _layout(model_choices, default_model)
    runner = _Runner(tab, prepare, run_cells, in_flight)

    # Explicit signatures: Gradio reads them for the API's parameter names and to pass the request.
    async def compare(
        prompt: str, temperatures: str, model: str, second_model: str, system: str, own_key: str = "",
        top_p: str = "", max_tokens: str = "", stop: str = "", request: gr.Request | None = None,
    ) -> AsyncIterator[dict]:  # fmt: skip
        arguments = (prompt, temperatures, model, second_model, system, own_key, top_p, max_tokens, stop)
        async for update in runner.run(arguments, request, versus=False):
            yield update

    async def stream_vs_batch(
        prompt: str, temperatures: str, model: str, second_model: str, system: str, own_key: str = "",
        top_p: str = "", max_tokens: str = "", stop: str = "", request: gr.Request | None = None,
    ) -> AsyncIterator[dict]:  # fmt: skip
        arguments = (prompt, temperatures, model, second_model, system, own_key, top_p, max_tokens, stop)
        async for update in runner.run(arguments, request, versus=True):
            yield update

    _wire(tab, own_key, compare, stream_vs_batch, runner.after, concurrency_limit)
    return [(tab.model, []), (tab.second_model, [NO_SECOND_MODEL])]


def _wire(
    tab: CompareTab, own_key: gr.Textbox, compare: Callable, stream_vs_batch: Callable, after: Callable, limit: int
) -> None:
    """Both runs: buttons busy at once, the run, then (finished or stopped: Gradio runs ``.then`` after a cancel
    too) the buttons back and what Stop stopped."""
    inputs = [tab.prompt, tab.temperatures, tab.model, tab.second_model, tab.system, own_key]
    inputs += [tab.top_p, tab.max_tokens, tab.stop]
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
