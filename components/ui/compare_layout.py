"""The Compare tab's layout: the prompt and settings, the buttons, the status, the chart and the grid of cells."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.chat.compare import DEFAULT_TEMPERATURES, MAX_MODELS, MAX_TEMPERATURES
from components.chat.conversation import MAX_PROMPT_CHARS
from components.ui import controls as widgets
from components.ui.bounds import BoundedTextbox

NO_SECOND_MODEL = "(none)"
# The page's CSS includes these rules.
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


@dataclass(frozen=True)
class CellView:
    """One cell's place in the grid: its column, title, reply and run card."""

    column: gr.Column
    title: gr.Markdown
    reply: gr.Markdown
    card: gr.Markdown


@dataclass(frozen=True)
class CompareTab:
    """The tab's components."""

    prompt: gr.Textbox
    temperatures: gr.Textbox
    model: gr.Dropdown
    second_model: gr.Dropdown
    system: gr.Textbox
    sampling: list[gr.Component]  # one widget per declared parameter (params.SAMPLING)
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


def layout(model_choices: list[str], default_model: str) -> CompareTab:
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
            sampling = widgets.parameter_boxes("cmp")
            widgets.render_parameters("cmp", sampling)
    status = gr.Markdown(elem_classes="reply-info", elem_id="cmp-status")
    chart = _chart()
    return CompareTab(
        prompt, temperatures, model, second_model, system, sampling,
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
