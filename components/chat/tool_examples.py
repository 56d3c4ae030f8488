"""Ready examples to start from: functions to offer the model, and a response schema. Plain data."""

from __future__ import annotations

import json
from typing import Any

from components.chat.kinds import InvalidRequestError

EXAMPLE_TOOLS: dict[str, dict[str, Any]] = {
    "Weather lookup": {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The current weather in a city",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city's name, e.g. Paris"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
    },
    "Calculator": {
        "type": "function",
        "function": {
            "name": "calculate",
            "description": "Evaluate an arithmetic expression exactly",
            "parameters": {
                "type": "object",
                "properties": {"expression": {"type": "string", "description": "e.g. (17 + 25) * 3"}},
                "required": ["expression"],
            },
        },
    },
    "Document search": {
        "type": "function",
        "function": {
            "name": "search_documents",
            "description": "Search the company's documents; returns the best passages with their titles",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "max_results": {"type": "integer", "minimum": 1, "maximum": 10},
                },
                "required": ["query"],
            },
        },
    },
}

EXAMPLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "country": {"type": "string"},
        "population": {"type": "integer", "minimum": 0},
        "landmarks": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["city", "country", "population", "landmarks"],  # Writer advises listing every field
}


def with_example(tools_text: str, example: str) -> str:
    """The tools editor's text with one example function added (replacing one of the same name).

    Raises InvalidRequestError when the editor holds something other than a JSON list: what the person
    typed is not thrown away.
    """
    try:
        tools = json.loads(tools_text) if tools_text.strip() else []
    except json.JSONDecodeError:
        tools = None
    if not isinstance(tools, list):
        raise InvalidRequestError("The Tools box does not hold a JSON list: fix it or clear it, then add the example.")
    name = EXAMPLE_TOOLS[example]["function"]["name"]
    tools = [tool for tool in tools if not (isinstance(tool, dict) and tool.get("function", {}).get("name") == name)]
    return json.dumps([*tools, EXAMPLE_TOOLS[example]], indent=2, ensure_ascii=False)


def schema_text() -> str:
    return json.dumps(EXAMPLE_SCHEMA, indent=2)
