"""The Tools and Response format panels: the editors of ``tools``, ``tool_choice`` and ``response_format``,
with examples to start from. The values are read and checked by params.py like any other parameter."""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from components.chat import tool_examples
from components.chat.kinds import InvalidRequestError
from components.chat.tool_params import TOOL_CHOICES, function_names

TEXT, JSON_SCHEMA = "Text", "JSON schema"
_PRIVATE: dict[str, Any] = {"queue": False, "api_visibility": "private"}


def tool_choices(functions: list[str]) -> list[tuple[str, str]]:
    """tool_choice's options: unset (Writer's default, auto), the three modes, then each offered function."""
    return [("not sent (Writer's default: auto)", ""), *((c, c) for c in TOOL_CHOICES), *((f, f) for f in functions)]


def offered_functions(tools_text: str) -> list[str]:
    """The function names in the tools editor, as far as it reads (none while it is not valid yet)."""
    try:
        tools = json.loads(tools_text) if tools_text and tools_text.strip() else []
    except json.JSONDecodeError:
        return []
    if not isinstance(tools, list):
        return []
    return function_names(t for t in tools if isinstance(t, dict) and isinstance(t.get("function"), dict)
                          and isinstance(t["function"].get("name"), str))  # fmt: skip


def render_tools(tab: str, tools: gr.Textbox, choice: gr.Dropdown) -> None:
    """The tools editor, an example picker, and tool_choice, whose options follow the functions offered."""
    gr.Markdown(
        "Functions the model may call. When it calls one, the chat shows the call and asks you for its result.",
        elem_classes="reply-info",
    )
    example = gr.Dropdown(
        list(tool_examples.EXAMPLE_TOOLS),
        value=None,
        label="Add an example function",
        elem_id=f"{tab}-tool-example",
    )
    tools.render()
    choice.render()

    def add_example(current: str, picked: str | None) -> tuple[Any, Any]:
        if not picked:
            return gr.skip(), None
        try:
            return tool_examples.with_example(current or "", picked), None
        except InvalidRequestError as problem:
            gr.Warning(problem.message, title="Example not added")
            return gr.skip(), None

    def follow_functions(current: str, chosen: str) -> Any:
        functions = offered_functions(current)
        keep = chosen if chosen in (*TOOL_CHOICES, *functions) else ""
        return gr.update(choices=tool_choices(functions), value=keep or "")

    example.input(add_example, inputs=[tools, example], outputs=[tools, example], **_PRIVATE)
    tools.change(follow_functions, inputs=[tools, choice], outputs=choice, trigger_mode="always_last", **_PRIVATE)


def render_response_format(tab: str, schema: gr.Textbox) -> None:
    """Text or a JSON schema: choosing the schema shows its editor, seeded with an example."""
    kind = gr.Radio([TEXT, JSON_SCHEMA], value=TEXT, label="Reply as", elem_id=f"{tab}-format-kind")
    gr.Markdown(
        "With a schema the reply is JSON, checked against it when it completes. Writer documents this for "
        "palmyra-x4 and palmyra-x5.",
        elem_classes="reply-info",
    )
    schema.visible = False
    schema.render()

    def chosen(picked: str, current: str) -> Any:
        if picked == TEXT:
            return gr.update(value="", visible=False)  # an unseen schema must not be sent
        return gr.update(value=current if current.strip() else tool_examples.schema_text(), visible=True)

    def follow_schema(current: str) -> tuple[Any, Any]:
        """An imported or restored schema shows itself (and the choice says so)."""
        has_schema = bool(current and current.strip())
        return gr.update(value=JSON_SCHEMA if has_schema else TEXT), gr.update(visible=has_schema)

    kind.input(chosen, inputs=[kind, schema], outputs=schema, **_PRIVATE)
    schema.change(follow_schema, inputs=schema, outputs=[kind, schema], **_PRIVATE)
