"""The form for Writer's built-in tools, in the Tools panel: pick one, fill its fields, and it is written into
the tools list as its entry (the list stays the one thing sent, and what the person reads).

Each field is a widget made from its declaration (chat/builtin_tools.py). The form writes the list when the
person changes it, and follows the list when the list changes otherwise (an edit by hand, an import): the
session remembers the entries the form wrote, so the form knows its own writing and never fights the person
typing in it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components.chat import builtin_tools
from components.chat.builtin_tools import FLAG, GRAPHS, LINES, MODEL, NUMBER, BuiltInTool, Field
from components.chat.kinds import InvalidRequestError
from components.chat.service import ChatService
from components.ui.requests import visitor

NONE = "None"
NO_GRAPHS = (
    "This account has no Knowledge Graphs yet. Make one in Writer AI Studio, or with the API (POST /v1/graphs, "
    "then add files: POST /v1/files and POST /v1/graphs/{graph_id}/file), then refresh the list."
)
_PRIVATE: dict[str, Any] = {"queue": False, "api_visibility": "private"}
_RECENT = 20


@dataclass(frozen=True)
class Account:
    """Where the form reads the account's models and Knowledge Graphs: the service, with the visitor's key."""

    service: ChatService
    own_key: gr.Textbox


@dataclass(frozen=True)
class _Form:
    """The form's widgets: the tool picker, a column per tool, every field's widget (``_all_fields`` order)."""

    kind: gr.Radio
    groups: list[gr.Column]
    fields: list[gr.Component]
    graphs_refresh: gr.Button

    @property
    def graphs(self) -> gr.CheckboxGroup:
        return next(w for w, f in zip(self.fields, _all_fields(), strict=True) if f.kind == GRAPHS)


def render(tab: str, tools: gr.Textbox, account: Account) -> None:
    """The tool picker and each tool's fields (only the picked tool's are shown), kept in step with the list."""
    form = _layout(tab, account)
    # The entries the form wrote lately (canonical JSON). A list, not the last one: while the person types,
    # the list's change from one keystroke can be read after the next keystroke's entry was written.
    written = gr.State([])
    controls = [form.kind, *form.fields]
    for control in controls:
        # .change, not .input: Gradio's text boxes send .input for typed keys only, not for a paste or a fill.
        control.change(_write, inputs=[tools, written, *controls], outputs=[written, tools, *form.groups],
                       trigger_mode="always_last", **_PRIVATE)  # fmt: skip
    tools.change(_follow, inputs=[tools, written], outputs=[form.kind, written, *form.fields, *form.groups],
                 **_PRIVATE)  # fmt: skip
    _wire_graphs(form, account)


def _layout(tab: str, account: Account) -> _Form:
    kind = gr.Radio([NONE, *(t.label for t in builtin_tools.TOOLS)], value=NONE, label="Writer's built-in tool",
                    info="One at a time, beside any functions", elem_id=f"{tab}-builtin")  # fmt: skip
    groups, fields = [], []
    for tool in builtin_tools.TOOLS:
        # Few components, and no notes of their own: each costs every new session its config (the README's
        # memory figure). The tool's note is its first field's hint; the graphs' status, their list's hint.
        with gr.Column(visible=False, elem_id=f"{tab}-builtin-{tool.type}") as group:
            for number, field in enumerate(_ordered(tool)[: len(tool.fields) - len(_settings(tool))]):
                note = tool.note if number == 0 else ""
                fields.append(_widget(field, f"{tab}-{tool.type}-{field.name.replace('_', '-')}", account, note))
                if field.kind == GRAPHS:
                    refresh = gr.Button("Refresh the list", size="sm", elem_id=f"{tab}-graphs-refresh")
            if _settings(tool):
                label = "Query settings (sent where they differ from Writer's defaults)"
                with gr.Accordion(label, open=False, elem_id=f"{tab}-{tool.type}-query-config"):
                    fields.extend(
                        _widget(f, f"{tab}-{tool.type}-{f.name.replace('_', '-')}", account) for f in _settings(tool)
                    )
        groups.append(group)
    return _Form(kind, groups, fields, refresh)


def _write(current: str, recent: list[str], picked: str, *values: Any) -> tuple[Any, ...]:
    """The list with the form's entry in place of any built-in one (none for "None"); the columns follow."""
    tool = next((t for t in builtin_tools.TOOLS if t.label == picked), None)
    entry = tool.entry(_by_key(tool, values)) if tool else None
    shown = tuple(gr.update(visible=t is tool) for t in builtin_tools.TOOLS)
    try:
        if _normal(builtin_tools.built_in_entry(_parsed(current))) == _canonical(entry):
            return gr.skip(), gr.skip(), *shown  # the list says it already (the form just followed it)
        listed = _replace_entry(current, entry)
    except InvalidRequestError as problem:
        gr.Warning(problem.message, title="Tools list not changed")
        return gr.skip(), gr.skip(), *(gr.skip() for _ in builtin_tools.TOOLS)
    return [*recent[-(_RECENT - 1) :], _canonical(entry)], listed, *shown


def _follow(current: str, recent: list[str]) -> tuple[Any, ...]:
    """The list changed: unless the form wrote it, the form shows its built-in entry (or none)."""
    unchanged = (gr.skip(),) * (2 + len(_all_fields()) + len(builtin_tools.TOOLS))
    try:
        entry = builtin_tools.built_in_entry(_parsed(current))
    except InvalidRequestError:
        return unchanged  # a list being typed by hand: the form waits until it reads
    if _canonical(entry) in recent or (entry is None and not recent):
        return unchanged  # the form's own writing (or nothing to show, and nothing shown)
    tool = builtin_tools.BY_TYPE.get(entry["type"]) if entry else None
    values = tool.form_values(entry.get("function") or {}) if tool else {}
    shown = [_shown(field, values[field.key]) if tool and t is tool else gr.skip()
             for t in builtin_tools.TOOLS for field in _ordered(t)]  # fmt: skip
    label = tool.label if tool else NONE
    return label, [_canonical(entry)], *shown, *(gr.update(visible=t is tool) for t in builtin_tools.TOOLS)


def _all_fields() -> list[Field]:
    """Every tool's fields in the form's order: the widgets', the events' inputs and outputs."""
    return [field for tool in builtin_tools.TOOLS for field in _ordered(tool)]


def _settings(tool: BuiltInTool) -> list[Field]:
    """The query settings, in their own collapsed panel under the tool's other fields."""
    return [field for field in tool.fields if field.in_query_config]


def _ordered(tool: BuiltInTool) -> list[Field]:
    return [*(field for field in tool.fields if not field.in_query_config), *_settings(tool)]


def _by_key(tool: BuiltInTool, values: Sequence[Any]) -> dict[str, Any]:
    """The form's values of ``tool``'s fields, by key, from every field's value in declaration order."""
    keyed = [(owner, field.key) for owner in builtin_tools.TOOLS for field in _ordered(owner)]
    return {key: value for (owner, key), value in zip(keyed, values, strict=True) if owner is tool}


def _widget(field: Field, elem_id: str, account: Account, note: str = "") -> gr.Component:
    common: dict[str, Any] = {"label": field.label, "info": " ".join(filter(None, [note, field.hint])) or None,
                              "elem_id": elem_id}  # fmt: skip
    if field.kind == FLAG:
        return gr.Checkbox(field.default, **common)
    if field.kind == NUMBER:
        step = 1 if field.whole and field.high <= 100 else 100 if field.whole else 0.05
        return gr.Slider(field.low, field.high, value=field.default, step=step, **common)
    if field.kind == MODEL:
        models = account.service.models
        return gr.Dropdown(models, value=field.default if field.default in models else models[-1],
                           allow_custom_value=True, **common)  # fmt: skip
    if field.kind == GRAPHS:
        return gr.CheckboxGroup([], value=[], **common)
    lines = 2 if field.kind == LINES else 1
    return gr.Textbox(
        _shown(field, field.default), lines=lines, max_lines=6, max_length=builtin_tools.MAX_TEXT, **common
    )


def _shown(field: Field, value: Any) -> Any:
    """A field's wire value as its widget holds it."""
    if field.kind == LINES:
        return "\n".join(value or ())
    if field.kind == GRAPHS:
        ids = list(value or ())
        return gr.update(choices=[(graph_id, graph_id) for graph_id in ids], value=ids)  # refreshed with names later
    return value


def _parsed(text: str) -> list[dict[str, Any]]:
    if not text or not text.strip():
        return []
    try:
        listed = json.loads(text)
    except json.JSONDecodeError:
        raise InvalidRequestError("The Tools list is not valid JSON: fix it first, then pick the tool again.") from None
    listed = [listed] if isinstance(listed, dict) else listed
    if not isinstance(listed, list) or not all(isinstance(tool, dict) for tool in listed):
        raise InvalidRequestError("The Tools list must be a list of tool objects: fix it first.")
    return listed


def _replace_entry(current: str, entry: Mapping[str, Any] | None) -> str:
    """The tools list text with ``entry`` in place of its built-in tools; "" when nothing is left."""
    kept = [tool for tool in _parsed(current) if tool.get("type") not in (*builtin_tools.BY_TYPE, "vision")]
    listed = [*kept, entry] if entry else kept
    return json.dumps(listed, indent=2, ensure_ascii=False) if listed else ""


def _normal(entry: Mapping[str, Any] | None) -> str:
    """An entry as the form would write it (Writer's defaults left out): equal entries mean the same request."""
    tool = builtin_tools.BY_TYPE.get(entry["type"]) if entry else None
    return _canonical(tool.entry(tool.form_values(entry.get("function") or {}))) if tool else ""


def _canonical(entry: Mapping[str, Any] | None) -> str:
    return json.dumps(entry, sort_keys=True, ensure_ascii=False) if entry else ""


def _wire_graphs(form: _Form, account: Account) -> None:
    """The account's Knowledge Graphs, read when the tool is picked and on Refresh, with the visitor's key."""

    async def load(picked: str, chosen: list[str] | None, own_key: str, request: gr.Request) -> Any:
        if picked != builtin_tools.BY_TYPE["graph"].label:
            return gr.skip()
        try:
            found = await account.service.list_graphs(own_key, visitor(account.service, request))
        except InvalidRequestError as problem:
            return gr.update(info=f"⚠️ {problem.message}")
        known = {graph_id for _, graph_id in found}
        kept = [graph_id for graph_id in chosen or () if graph_id in known]
        note = NO_GRAPHS if not found else f"{len(found)} in this account: pick the ones to search."
        return gr.update(choices=found, value=kept, info=note)

    gr.on([form.kind.input, form.graphs_refresh.click], load, inputs=[form.kind, form.graphs, account.own_key],
          outputs=form.graphs, api_visibility="private")  # fmt: skip
