"""The rest of Writer's chat endpoint, as the stand-in speaks it (shared/writer-tools.md).

Function tools and ``tool_choice``, ``response_format`` with a JSON schema, and ``logprobs``:
what Writer rejects with a 400 (§1, §4), a model's function calls (whole, §2.1, and streamed in
the live null-filled form, §3.1 and §3.5), token log probabilities (§2.3, §3.4), and a reply
that fills the asked-for schema with placeholder values.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

BUILT_IN_TYPES = frozenset({"graph", "llm", "translation", "vision", "web_search"})
TOOL_CHOICES = frozenset({"auto", "none", "required"})
SCHEMA_MODELS = frozenset({"palmyra-x4", "palmyra-x5"})  # response_format's models (SPEC 2583)
ONE_BUILT_IN = "Only one prebuilt tool type is allowed per request"  # invented: no Writer text exists (§4)


def validate(body: dict[str, Any]) -> str | None:
    """What Writer would reject in ``tools``, ``tool_choice``, ``response_format`` or ``logprobs``, or None."""
    return _tools_problem(body) or _choice_problem(body) or _format_problem(body) or _logprobs_problem(body)


def _tools_problem(body: dict[str, Any]) -> str | None:
    tools = body.get("tools")
    if tools is None:
        return None
    if not isinstance(tools, list) or not all(isinstance(tool, dict) for tool in tools):
        return "tools must be a list of objects"
    built_in = {tool.get("type") for tool in tools} & BUILT_IN_TYPES
    if len(built_in) > 1:
        return ONE_BUILT_IN
    for tool in tools:
        if tool.get("type") not in BUILT_IN_TYPES | {"function"} or not isinstance(tool.get("function"), dict):
            return "Each tool needs a known type and a function object"
        function = tool["function"]
        if tool["type"] == "function":
            if not isinstance(function.get("name"), str) or not function["name"]:
                return "A function tool needs a name"
            if not isinstance(function.get("parameters", {}), dict):
                return "A function tool's parameters must be a JSON schema object"
    return None


def _choice_problem(body: dict[str, Any]) -> str | None:
    if "tool_choice" not in body:
        return None
    choice = body["tool_choice"]
    if isinstance(choice, dict) and set(choice) == {"value"}:
        choice = choice["value"]  # the SDK's wrapped form (§0 item 4): accepted as well
    if isinstance(choice, str) and choice in TOOL_CHOICES:
        return None
    named = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    names = {(tool.get("function") or {}).get("name") for tool in body.get("tools") or []}
    if isinstance(choice, dict) and choice.get("type") == "function" and named in names:
        return None
    return "tool_choice must be auto, none, required or one of the request's functions"


def _format_problem(body: dict[str, Any]) -> str | None:
    response_format = body.get("response_format")
    if response_format is None or response_format == {"type": "text"}:
        return None
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return "response_format must be text or json_schema"
    schema = (response_format.get("json_schema") or {}).get("schema")
    if not isinstance(schema, dict):
        return "response_format.json_schema.schema must be an object"
    if body.get("model") not in SCHEMA_MODELS:
        return f"response_format is not supported for {body.get('model')}"
    return None


def _logprobs_problem(body: dict[str, Any]) -> str | None:
    return None if isinstance(body.get("logprobs", False), bool) else "logprobs must be true or false"


def schema_reply(body: dict[str, Any]) -> str | None:
    """The reply to a json_schema request: an instance of the schema, with placeholder values; else None."""
    response_format = body.get("response_format") or {}
    if response_format.get("type") != "json_schema":
        return None
    return json.dumps(_instance(response_format["json_schema"]["schema"]))


def _instance(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {name: _instance(sub) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_instance(schema.get("items"))]
    return {"string": "echo", "integer": 1, "number": 1.5, "boolean": True}.get(kind)


def demo_calls(body: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """What the stand-in's model calls when no test says: offered functions (and not told ``none``) right after
    a user's message, it calls the chosen function, else the first, with arguments that fit its parameters."""
    tools = body.get("tools") if isinstance(body.get("tools"), list) else []
    functions = [tool["function"] for tool in tools if isinstance(tool, dict) and tool.get("type") == "function"]
    functions = [function for function in functions if isinstance(function, dict) and "name" in function]
    messages = body.get("messages") or []
    choice = body.get("tool_choice", "auto")
    if isinstance(choice, dict) and set(choice) == {"value"}:
        choice = choice["value"]
    if not functions or choice == "none" or not messages or (messages[-1] or {}).get("role") != "user":
        return ()
    named = choice.get("function", {}).get("name") if isinstance(choice, dict) else None
    function = next((f for f in functions if f["name"] == named), functions[0])
    return ((function["name"], json.dumps(_instance(function.get("parameters") or {"type": "object"}))),)


def results_reply(body: dict[str, Any]) -> str | None:
    """The reply after tool results (the request ends with tool messages): they are echoed, in order; else None."""
    messages = body.get("messages") or []
    results = []
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "tool":
            break
        results.insert(0, f"{message.get('name') or message.get('tool_call_id')} = {message.get('content')}")
    return f"Echo: tool results: {'; '.join(results)}" if results else None


def tool_calls_message(calls: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    """A whole response's ``tool_calls``: ``index`` null, as live (§2.1)."""
    return [
        {"id": call_id(), "type": "function", "index": None, "function": {"name": name, "arguments": arguments}}
        for name, arguments in calls
    ]


def tool_call_deltas(calls: tuple[tuple[str, str], ...]) -> list[list[dict[str, Any]]]:
    """The ``delta.tool_calls`` of each streamed chunk, in the live form (§3.1): a call's first fragment has
    its id, type and name with ``arguments: null``; later ones repeat every key as null but the arguments."""
    deltas = []
    for index, (name, arguments) in enumerate(calls):
        deltas.append([{"index": index, "id": call_id(), "type": "function",
                        "function": {"name": name, "arguments": None}}])  # fmt: skip
        third = max(1, len(arguments) // 3)
        for piece in (arguments[:third], "", arguments[third:]):  # an empty fragment, as captured
            deltas.append([{"index": index, "id": None, "type": None, "function": {"name": None, "arguments": piece}}])
    return deltas


def call_id() -> str:
    return f"chatcmpl-tool-{uuid.uuid4().hex}"


def logprobs_of(tokens: list[str], start: int = 0) -> dict[str, Any]:
    """Deterministic log probabilities for ``tokens`` (§2.3), the first at position ``start`` of the reply (a
    stream sends one token a chunk): the token itself and one alternative."""
    content = []
    for position, token in enumerate(tokens, start):
        logprob = -round(0.05 + (position % 7) * 0.35, 4)  # varied, so a view can shade sure and unsure tokens
        alternative = {"token": token.upper() if token.strip() else "\n", "logprob": round(logprob - 1.5, 4)}
        entry = {"token": token, "logprob": logprob, "bytes": list(token.encode())}
        top = [entry.copy(), {**alternative, "bytes": list(alternative["token"].encode())}]
        content.append({**entry, "top_logprobs": top})
    return {"content": content, "refusal": None}
