"""Widgets shared by the tabs: request settings, sampling parameters, the system message, copy-as-code boxes.

Made unrendered (``render=False``) so that each tab places them where it wants.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from components.chat import conversation, kinds, params
from components.chat.tool_params import ToolChoice
from components.ui import builtin_panel, tools_panel
from components.ui.bounds import BoundedTextbox


@dataclass(frozen=True)
class Controls:
    """One tab's request settings. ``inputs`` gives them in the handlers' argument order."""

    temperature: gr.Slider
    non_streaming: gr.Checkbox
    model: gr.Dropdown
    system: gr.Textbox
    sampling: list[gr.Component]  # one widget per declared parameter (params.SAMPLING), in its order

    def settings(self) -> list[gr.Component]:
        """What an export records and an import restores, in ``SETTINGS`` order."""
        return [self.system, self.model, self.temperature, self.non_streaming, *self.sampling]

    def inputs(self, own_key: gr.Textbox) -> list[gr.Component]:
        # The visitor's key comes before the sampling parameters, which were added later: API callers'
        # positional calls made before them keep working, and the new ones may be left out.
        return [self.temperature, self.non_streaming, self.model, self.system, own_key, *self.sampling]


# The names of ``Controls.inputs`` and ``Controls.settings``, as the API and the handlers call them.
INPUTS = ("temperature", "non_streaming", "model", "system", "own_key", *params.NAMES)
SETTINGS = ("system", "model", "temperature", "non_streaming", *params.NAMES)


def system_box(tab: str) -> gr.Textbox:
    """The system message, the cookbook's by default; unrendered."""
    return BoundedTextbox(
        conversation.SYSTEM_MESSAGE,
        lines=4,
        label="System message",
        show_label=False,
        max_length=conversation.MAX_PROMPT_CHARS,
        elem_id=f"{tab}-system",
        render=False,
    )


def parameter_boxes(tab: str) -> list[gr.Component]:
    """A widget per declared parameter (params.SAMPLING), unset by default; unrendered.

    Numbers and lines are text boxes, not ``gr.Number``: Gradio 6.31's number field turns an empty
    value into 0 when its closed accordion is opened, and a visitor who only looked at the panel then
    sent a nucleus-sampling value of 0. Empty text stays empty; ``params.Sampling.read`` reads the
    numbers, with our own message for a bad one, and nothing is sent. A flag is a checkbox.
    """
    return [_widget(param, f"{tab}-{param.name.replace('_', '-')}") for param in params.SAMPLING]


def _widget(param: kinds.Param, elem_id: str) -> gr.Component:
    if isinstance(param, kinds.Flag):
        return gr.Checkbox(False, label=param.label, info=param.description, elem_id=elem_id, render=False)
    if isinstance(param, ToolChoice):
        return gr.Dropdown(
            tools_panel.tool_choices([]),
            value="",
            label=param.label,
            info=param.description,
            elem_id=elem_id,
            allow_custom_value=True,  # an API caller may name a function the page's list has not seen: params checks it
            render=False,
        )
    rows = 8 if isinstance(param, kinds.Json) else 2 if isinstance(param, kinds.Lines) else 1
    return BoundedTextbox(
        "",
        label=param.label,
        max_length=param.max_chars,
        placeholder=param.placeholder or None,
        info=param.description,
        lines=rows,
        max_lines=None if rows > 1 else 1,
        elem_id=elem_id,
        elem_classes=["json-editor"] if isinstance(param, kinds.Json) else None,
        render=False,
    )


def make_controls(tab: str, model_choices: list[str], model: str) -> Controls:
    """A tab's controls, unrendered, so that each tab places them where it wants (the chat tab above the chat)."""
    return Controls(
        temperature=gr.Slider(
            conversation.MIN_TEMPERATURE,
            conversation.MAX_TEMPERATURE,
            value=conversation.DEFAULT_TEMPERATURE,
            step=0.1,
            label="Temperature",
            info="0 = focused, 2 = most varied",
            elem_id=f"{tab}-temperature",
            render=False,
        ),
        non_streaming=gr.Checkbox(
            False,
            label="Non-streaming",
            info="Show the reply whole, once complete",
            elem_id=f"{tab}-non-streaming",
            render=False,
        ),
        model=gr.Dropdown(model_choices, value=model, label="Model", elem_id=f"{tab}-model", render=False),
        system=system_box(tab),
        sampling=parameter_boxes(tab),
    )


def render_controls(controls: Controls) -> Controls:
    """Render the main controls here, and the system message in its collapsed panel."""
    for control in (controls.model, controls.temperature, controls.non_streaming):
        control.render()
    render_system(controls.system)
    return controls


def render_system(system: gr.Textbox) -> None:
    """The system message in a collapsed panel, with a way back to the cookbook's."""
    with gr.Accordion("System message", open=False):
        system.render()
        reset = gr.Button("Reset to default", size="sm", elem_id=f"{system.elem_id}-reset")
        reset.click(lambda: conversation.SYSTEM_MESSAGE, outputs=system, queue=False, api_visibility="private")


def render_parameters(tab: str, boxes: list[gr.Component], account: builtin_panel.Account | None = None) -> None:
    """The optional parameters, each in its collapsed panel: most people never need them. With ``account``, the
    Tools panel has the built-in tools' form (the chat tabs: each form costs every new session ~40 components)."""
    by_name = {param.name: box for param, box in zip(params.SAMPLING, boxes, strict=True)}
    with gr.Accordion("Parameters", open=False, elem_id=f"{tab}-parameters"):
        for param, box in zip(params.SAMPLING, boxes, strict=True):
            if param.panel == "Parameters":
                box.render()
    with gr.Accordion(params.TOOLS_PANEL, open=False, elem_id=f"{tab}-tools-panel"):
        tools_panel.render_tools(tab, by_name["tools"], by_name["tool_choice"])
        if account is not None:
            builtin_panel.render(tab, by_name["tools"], account)
    with gr.Accordion(params.FORMAT_PANEL, open=False, elem_id=f"{tab}-format-panel"):
        tools_panel.render_response_format(tab, by_name["response_format"])


CODE_FLAVOURS = (("Python", "python"), ("Python (async)", "python"), ("curl", "shell"))


def make_code_boxes(tab: str) -> list[gr.Code]:
    """Unrendered code boxes for the sync Python, async Python and curl snippets."""
    return [
        gr.Code(
            language=language,
            label=label,
            buttons=["copy"],
            interactive=False,
            # No line numbers: CodeMirror sizes its gutter when the box is first filled, here inside a closed
            # panel and a hidden tab, and on a phone the numbers drifted away from their lines (1-23 beside 26
            # rows). A snippet to copy needs none.
            show_line_numbers=False,
            elem_id=f"{tab}-code-{index}",
            render=False,
        )
        for index, (label, language) in enumerate(CODE_FLAVOURS)
    ]


def render_code_panel(boxes: list[gr.Code]) -> list[gr.Code]:
    """The snippets in a collapsed panel, one tab each."""
    with gr.Accordion("Copy as code", open=False):
        gr.Markdown(
            "Repeats the last request exactly. The key is read from `WRITER_API_KEY`; "
            "`WRITER_BASE_URL`, when set, points it elsewhere.",
            elem_classes="reply-info",
        )
        with gr.Tabs():
            for box, (label, _) in zip(boxes, CODE_FLAVOURS, strict=True):
                with gr.Tab(label):
                    box.render()
    return boxes
