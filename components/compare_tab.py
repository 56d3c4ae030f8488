"""The Compare tab: one prompt at several temperatures (and two models), side by side; and stream vs. batch.

Layout and the mapping of ``compare.fan_out`` snapshots to the page. The checks and the
SDK calls are the other tabs' (``ui.build_demo`` hands them in), so every cell goes
through the same validation, key policy, rate limit and reply generator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from components import widgets
from components.cards import format_card
from components.chat import InvalidRequestError, ReplyUpdate
from components.compare import DEFAULT_TEMPERATURES, MAX_MODELS, MAX_TEMPERATURES, Cell, parse_temperatures

# (the checked plan, the cells) -> snapshots of every cell's latest update
RunCells = Callable[[Any, list[Cell]], AsyncIterator[list[ReplyUpdate | None]]]
NO_SECOND_MODEL = "(none)"


@dataclass(frozen=True)
class CellView:
    """One cell's place in the grid: its column, title, reply and run card."""

    column: gr.Column
    title: gr.Markdown
    reply: gr.Markdown
    card: gr.Markdown


def _cell_outputs(view: CellView, cell: Cell | None, update: ReplyUpdate | None) -> dict[gr.Component, Any]:
    if cell is None:
        return {view.column: gr.Column(visible=False)}
    if update is None:
        card = "⏳ waiting for the first token…"
    else:
        card = format_card(update.info, interrupted=update.interrupted, status=update.status)
    return {
        view.column: gr.Column(visible=True),
        view.title: f"**{cell.title}**",
        view.reply: update.text if update else "",
        view.card: card,
    }


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


def _layout(model_choices: list[str], default_model: str) -> CompareTab:
    gr.Markdown(
        "Send one prompt at several temperatures, and optionally to a second model: the replies stream "
        "side by side, each with its run card. **Stream vs. non-stream** sends it both ways and charts "
        "time to first token against total time: the cookbook's streaming lesson, measured."
    )
    with gr.Row():
        with gr.Column(scale=3):
            prompt = gr.Textbox(label="Prompt", lines=2, placeholder="One prompt, many settings", elem_id="cmp-prompt")
            with gr.Row():
                compare = gr.Button("Compare", variant="primary", elem_id="cmp-submit")
                versus = gr.Button("Stream vs. non-stream", elem_id="cmp-versus")
                stop_button = gr.Button("Stop", variant="stop", elem_id="cmp-stop-button")
        with gr.Column(scale=2):
            temperatures = gr.Textbox(
                DEFAULT_TEMPERATURES,
                label="Temperatures",
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
    chart = gr.BarPlot(
        x="run",
        y="seconds",
        color="mode",
        title="Stream vs. non-stream",
        sort=[f"{mode}: {moment}" for mode in ("streamed", "not streamed") for moment in ("first token", "total")],
        visible=False,
        elem_id="cmp-chart",
    )
    views: list[CellView] = []
    for row in range(MAX_MODELS):
        with gr.Row(equal_height=False):
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
    return CompareTab(
        prompt, temperatures, model, second_model, system, top_p, max_tokens, stop,
        compare, versus, stop_button, status, chart, views,
    )  # fmt: skip


def render(
    *,
    model_choices: list[str],
    default_model: str,
    own_key: gr.Textbox,
    prepare: Callable[..., Any],
    run_cells: RunCells,
    concurrency_limit: int,
) -> list[tuple[gr.Dropdown, list[str]]]:
    """Lay out the Compare tab and wire its events; return its model dropdowns with the choices they add."""
    tab = _layout(model_choices, default_model)

    def plan_cells(
        prompt: object, temperatures: object, first: object, second: object, system: object, key: object,
        sampling: tuple[object, object, object], request: gr.Request | None, *, versus: bool,
    ) -> tuple[Any, list[Cell]]:  # fmt: skip
        temps = parse_temperatures(temperatures)
        if versus:  # one setting, both ways
            cells = [Cell(str(first), temps[0], stream=True), Cell(str(first), temps[0], stream=False)]
            extra: list[object] = []
        else:
            extra = [second] if second not in (None, "", NO_SECOND_MODEL, first) else []
            cells = [Cell(str(m), t) for m in [first, *extra] for t in temps]
        plan = prepare(
            [], prompt, temps[0], first, system, key, sampling, request, extra_models=extra, count=len(cells)
        )
        return plan, cells

    async def run(arguments: tuple[Any, ...], request: gr.Request | None, *, versus: bool) -> AsyncIterator[dict]:
        prompt, temperatures, first, second, system, key, top_p, max_tokens, stop = arguments
        try:
            plan, cells = plan_cells(
                prompt, temperatures, first, second, system, key, (top_p, max_tokens, stop), request, versus=versus
            )
        except InvalidRequestError as problem:
            if problem.from_api_only:
                raise gr.Error(problem.message, title="Invalid request") from None
            gr.Warning(problem.message, title="Nothing sent")
            yield {tab.status: f"⚠️ **Nothing sent:** {problem.message}"}
            return
        placed = [*cells, *[None] * (len(tab.views) - len(cells))]
        start: dict[gr.Component, Any] = {tab.status: f"Sending {len(cells)} requests at once…"}
        # Shown empty from the start of a race: a plot that turns visible with its data draws at zero width.
        start[tab.chart] = gr.BarPlot(value=None, visible=versus)
        for view, cell in zip(tab.views, placed, strict=True):
            start |= _cell_outputs(view, cell, None)
        yield start
        snapshot: list[ReplyUpdate | None] = [None] * len(cells)
        async for snapshot in run_cells(plan, cells):
            changed: dict[gr.Component, Any] = {}
            for view, cell, update in zip(tab.views, cells, snapshot, strict=False):
                changed |= _cell_outputs(view, cell, update)
            yield changed
        done = sum(1 for update in snapshot if update is not None and update.done and not update.info.error)
        failed = sum(1 for update in snapshot if update is not None and update.info.error)
        # The last update carries every cell in full: an API caller's result is the whole comparison.
        final: dict[gr.Component, Any] = {
            tab.status: f"{done} of {len(cells)} replies complete" + (f"; {failed} failed." if failed else ".")
        }
        for view, cell, update in zip(tab.views, placed, [*snapshot, *[None] * len(tab.views)], strict=False):
            final |= _cell_outputs(view, cell, update)
        if versus:
            final[tab.chart] = timing_chart(cells, snapshot)
        yield final

    # Explicit signatures: Gradio reads them for the API's parameter names and to pass the request.
    async def compare(
        prompt: str, temperatures: str, model: str, second_model: str, system: str, own_key: str = "",
        top_p: str = "", max_tokens: str = "", stop: str = "", request: gr.Request | None = None,
    ) -> AsyncIterator[dict]:  # fmt: skip
        arguments = (prompt, temperatures, model, second_model, system, own_key, top_p, max_tokens, stop)
        async for update in run(arguments, request, versus=False):
            yield update

    async def stream_vs_batch(
        prompt: str, temperatures: str, model: str, second_model: str, system: str, own_key: str = "",
        top_p: str = "", max_tokens: str = "", stop: str = "", request: gr.Request | None = None,
    ) -> AsyncIterator[dict]:  # fmt: skip
        arguments = (prompt, temperatures, model, second_model, system, own_key, top_p, max_tokens, stop)
        async for update in run(arguments, request, versus=True):
            yield update

    inputs = [tab.prompt, tab.temperatures, tab.model, tab.second_model, tab.system, own_key]
    inputs += [tab.top_p, tab.max_tokens, tab.stop]
    common = {"inputs": inputs, "outputs": tab.outputs(), "concurrency_limit": concurrency_limit}
    comparing = gr.on([tab.compare.click, tab.prompt.submit], compare, api_name="compare", **common)
    racing = tab.versus.click(stream_vs_batch, api_name="stream_vs_batch", **common)
    tab.stop_button.click(None, cancels=[comparing, racing], queue=False, api_visibility="private")
    return [(tab.model, []), (tab.second_model, [NO_SECOND_MODEL])]
