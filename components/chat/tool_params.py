"""The parameters of Writer's tool calling and structured output: ``tools``, ``tool_choice``, ``response_format``.

Checked before anything is sent (shared/writer-tools.md §1): function names and JSON-Schema
parameters, at most one of Writer's built-in tool types, a schema that is a valid JSON Schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import jsonschema

from components.chat import builtin_tools
from components.chat.kinds import InvalidRequestError, Json, Param, as_typed

BUILT_IN_TOOLS = ("web_search", "graph", "llm", "translation", "vision")  # Writer's own tools (writer-tools.md §1.1)
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Tools(Json):
    """The functions (and at most one of Writer's built-in tools) offered to the model: Writer's ``tools`` list."""

    def check(self, value: Any) -> list[dict[str, Any]] | None:
        if isinstance(value, dict):
            value = [value]  # one tool, not yet in a list
        if not isinstance(value, list) or not all(isinstance(tool, dict) for tool in value):
            raise InvalidRequestError('tools must be a list of {"type": "function", "function": {...}} objects.')
        built_in = sorted({tool.get("type") for tool in value} & set(BUILT_IN_TOOLS))
        if len(built_in) > 1:
            msg = f"Writer takes one built-in tool type per request, not {' and '.join(built_in)}: remove one."
            raise InvalidRequestError(msg)
        names: list[str] = []
        for number, tool in enumerate(value, 1):
            names.extend(_checked_tool(tool, number))
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise InvalidRequestError(f"Two tools are named {repeated[0]!r}: each function needs a name of its own.")
        return value or None

    def shown(self, value: Any) -> str:
        """The functions by name and a built-in tool by its type: ["get_weather", "web_search"]."""
        return json.dumps([tool["function"].get("name", tool["type"]) if tool["type"] == "function" else tool["type"]
                           for tool in value], ensure_ascii=False)  # fmt: skip


def _checked_tool(tool: dict[str, Any], number: int) -> list[str]:
    """A tool's function name (none for a built-in tool), once its definition is right."""
    where = f"Tool {number}"
    kind, function = tool.get("type"), tool.get("function")
    if kind not in ("function", *BUILT_IN_TOOLS):
        msg = f'{where} has the type {kind!r}: use "function" (or one of Writer\'s: {", ".join(BUILT_IN_TOOLS)}).'
        raise InvalidRequestError(msg)
    if not isinstance(function, dict):
        raise InvalidRequestError(f'{where} needs a "function" object.')
    if kind != "function":
        builtin_tools.check_entry(kind, function)
        return []
    name = function.get("name")
    if not isinstance(name, str) or not _FUNCTION_NAME.fullmatch(name):
        msg = f"{where}'s name must be 1 to 64 letters, digits, _ or -, not {name!r}."
        raise InvalidRequestError(msg)
    if not isinstance(function.get("description", ""), str):
        raise InvalidRequestError(f"{name}'s description must be text.")
    parameters = function.get("parameters", {"type": "object"})
    if not isinstance(parameters, dict) or parameters.get("type", "object") != "object":
        raise InvalidRequestError(f'{name}\'s parameters must be a JSON Schema with "type": "object".')
    _check_schema(parameters, f"{name}'s parameters")
    return [name]


def function_names(tools: Iterable[Mapping[str, Any]] | None) -> list[str]:
    """The names of the functions among ``tools``, in order."""
    return [tool["function"]["name"] for tool in tools or () if tool.get("type") == "function"]


TOOL_CHOICES = ("auto", "none", "required")


@dataclass(frozen=True)
class ToolChoice(Param):
    """Whether the model must, may or must not call a tool, or which function: Writer's ``tool_choice``."""

    max_chars: ClassVar[int] = 64 + 16

    def read(self, raw: object) -> str | dict[str, Any] | None:
        if isinstance(raw, dict) and set(raw) == {"value"}:
            raw = raw["value"]  # the SDK's wrapped form
        if raw is None or raw == "":
            return None
        if isinstance(raw, str) and raw in TOOL_CHOICES:
            return raw
        if isinstance(raw, str) and _FUNCTION_NAME.fullmatch(raw):
            return {"type": "function", "function": {"name": raw}}
        named = raw.get("function", {}).get("name") if isinstance(raw, dict) else None
        if isinstance(raw, dict) and raw.get("type") == "function" and isinstance(named, str):
            return {"type": "function", "function": {"name": named}}
        msg = f"tool_choice must be auto, none, required or a function's name, not {as_typed(raw)}."
        raise InvalidRequestError(msg, from_api_only=True)

    def shown(self, value: Any) -> str:
        return chosen_function(value) or str(value)

    def in_widget(self, value: Any) -> Any:
        return chosen_function(value) or value or ""


def chosen_function(choice: Any) -> str | None:
    """The function a ``tool_choice`` names, if it names one."""
    return choice["function"]["name"] if isinstance(choice, dict) else None


@dataclass(frozen=True)
class ResponseFormat(Json):
    """Text (unset, the default) or a JSON schema the reply must follow: Writer's ``response_format``.

    The editor holds the schema alone; an API caller may send Writer's whole object instead.
    """

    def check(self, value: Any) -> dict[str, Any] | None:
        if value == {"type": "text"}:
            return None
        if not isinstance(value, dict):
            raise InvalidRequestError("The response format must be a JSON Schema object.")
        if value.get("type") != "json_schema":
            value = {"type": "json_schema", "json_schema": {"schema": value}}  # the schema alone
        schema = value.get("json_schema", {}).get("schema") if isinstance(value.get("json_schema"), dict) else None
        if not isinstance(schema, dict):
            raise InvalidRequestError("response_format.json_schema.schema must be a JSON Schema object.")
        _check_schema(schema, "The response schema")
        return value

    def shown(self, value: Any) -> str:
        return "json_schema"

    def in_widget(self, value: Any) -> Any:
        if value is None:
            return ""
        only_schema = set(value["json_schema"]) == {"schema"}
        return super().in_widget(value["json_schema"]["schema"] if only_schema else value)


def response_schema(response_format: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The JSON schema a reply must follow, when the request asked for one."""
    if not response_format or response_format.get("type") != "json_schema":
        return None
    return response_format["json_schema"]["schema"]


def _check_schema(schema: dict[str, Any], what: str) -> None:
    """Raise InvalidRequestError unless ``schema`` is a valid JSON Schema (of the draft it names)."""
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "its top level"
        msg = f"{what} is not a valid JSON Schema (at {where}): {error.message}"
        raise InvalidRequestError(msg) from None
