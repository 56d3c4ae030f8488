"""The optional request parameters, each declared once: its wire name, bounds, default and description.

Everything else reads this declaration (the shape of simonw/llm's ``Options``): the checks,
the request's keyword arguments (``Sampling.to_request``), the widgets and their hints, the
API's parameter names, run cards, exports and imports. Adding a parameter is one entry in
``SAMPLING``, plus a widget kind in the UI if it needs a new one.

A parameter left empty is not set: it never reaches the wire, and Writer's default applies.
Knows nothing of Gradio.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.chat.kinds import Flag, InvalidRequestError, Lines, Number, Param
from components.chat.tool_params import ResponseFormat, ToolChoice, Tools, chosen_function, function_names

# Palmyra X5's published limits (shared/writer-api.md: BEDROCK, WF).
MAX_OUTPUT_TOKENS = 8192
MAX_STOP_SEQUENCES = 4
MAX_STOP_CHARS = 200  # a stop sequence is a short marker, not a document

TOOLS_PANEL, FORMAT_PANEL = "Tools", "Response format"
# Tool calling is for "Palmyra X4 and later", structured output for palmyra-x4 and palmyra-x5 (writer-tools.md §1, §5).
TOOL_MODELS = frozenset({"palmyra-x4", "palmyra-x5"})

# The optional request parameters, in the order the page shows them and the API takes them.
SAMPLING: tuple[Param, ...] = (
    Number(
        "top_p",
        "top_p",
        "Nucleus sampling, above 0 and at most 1. Empty: the API's default",
        placeholder="API default",
        low=0.0,
        high=1.0,
        low_open=True,
    ),
    Number(
        "max_tokens",
        "max_tokens",
        f"Longest reply, 1 to {MAX_OUTPUT_TOKENS:,} tokens. Empty: the model's default",
        placeholder="model default",
        low=1,
        high=MAX_OUTPUT_TOKENS,
        whole=True,
    ),
    Lines(
        "stop",
        "Stop sequences",
        f"One per line, up to {MAX_STOP_SEQUENCES}: the reply ends before any of them",
        item="stop sequence",
        max_count=MAX_STOP_SEQUENCES,
        max_line_chars=MAX_STOP_CHARS,
    ),
    Flag(
        "logprobs",
        "logprobs",
        "Return each token's log probability: a finished reply can then be shown as its tokens",
    ),
    Tools(
        "tools",
        "Tools",
        "Writer's tools list: functions the model may call, as JSON. Empty: no tools",
        panel=TOOLS_PANEL,
        models=TOOL_MODELS,
    ),
    ToolChoice(
        "tool_choice",
        "tool_choice",
        "auto: the model decides · none: no call · required: at least one · a name: that function",
        panel=TOOLS_PANEL,
    ),
    ResponseFormat(
        "response_format",
        "Response format",
        "A JSON Schema the reply must follow. Empty: plain text",
        panel=FORMAT_PANEL,
        models=TOOL_MODELS,
    ),
)
NAMES: tuple[str, ...] = tuple(param.name for param in SAMPLING)


@dataclass(frozen=True)
class Sampling:
    """The optional parameters of one request, checked: only the set ones are held."""

    values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, raw: Mapping[str, object], models: Iterable[str] = ()) -> Sampling:
        """Check what a caller sent, by name (missing names are unset), for ``models``; raises InvalidRequestError."""
        values = {param.name: param.read(raw.get(param.name)) for param in SAMPLING}
        values = {name: value for name, value in values.items() if value is not None}
        _check_together(values, list(models))
        return cls(values)

    @classmethod
    def lenient(cls, raw: Mapping[str, object]) -> Sampling:
        """As ``read``, but a value a request would refuse is left unset (an export of what the page holds)."""
        values: dict[str, Any] = {}
        for param in SAMPLING:
            try:
                value = param.read(raw.get(param.name))
            except InvalidRequestError:
                continue
            if value is not None:
                values[param.name] = value
        return cls(values)

    def to_request(self) -> dict[str, Any]:
        """The set parameters as ``client.chat.chat`` keyword arguments."""
        return {param.name: param.exported(self.values[param.name]) for param in SAMPLING if param.name in self.values}

    def exported(self) -> dict[str, Any]:
        """Every parameter as an export file holds it, unset ones included."""
        return {param.name: param.exported(self.values.get(param.name)) for param in SAMPLING}

    def in_widgets(self) -> list[Any]:
        """Every parameter as its widget holds it, in declaration order."""
        return [param.in_widget(self.values.get(param.name)) for param in SAMPLING]


def _check_together(values: Mapping[str, Any], models: list[str]) -> None:
    """What no parameter shows alone: a tool_choice without its tool, a parameter the model does not take."""
    choice = values.get("tool_choice")
    if choice is not None and "tools" not in values:
        raise InvalidRequestError("tool_choice needs tools: add a function under Tools, or leave tool_choice empty.")
    named = chosen_function(choice)
    if named is not None and named not in function_names(values.get("tools")):
        msg = (
            f"tool_choice names {named!r}, which is not among the tools: {', '.join(function_names(values['tools']))}."
        )
        raise InvalidRequestError(msg)
    for param in SAMPLING:
        refused = [model for model in models if param.models and param.name in values and model not in param.models]
        if refused:
            msg = (
                f"Writer documents {param.label} for {' and '.join(sorted(param.models))} only, not {refused[0]}: "
                f"choose one of those models, or clear {param.label}."
            )
            raise InvalidRequestError(msg)


def sent(request: Mapping[str, Any]) -> list[str]:
    """The optional parameters a request sent, as ``name value`` strings for its run card."""
    return [f"{param.name} {param.shown(request[param.name])}" for param in SAMPLING if param.name in request]
