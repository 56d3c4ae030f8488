"""Copy as code: ready-to-run snippets that repeat a request exactly, built from its run card's record.

The record is the set of arguments the app gave ``client.chat.chat`` (``RunCard.request``),
so a snippet sends the same JSON body: same model, messages, parameters and stream flag.
The key is never written out: snippets read it from ``WRITER_API_KEY`` (the SDK reads
``WRITER_BASE_URL`` itself; curl falls back to Writer's API when it is unset).
"""

from __future__ import annotations

import json
import pprint
import shlex
import textwrap
from collections.abc import Mapping
from typing import Any

_WIDTH = 100  # wrap long literals so the snippets read well in a code box


def _call_arguments(request: Mapping[str, Any], indent: str) -> str:
    """``name=value,`` lines for a call, each value a Python literal aligned after its ``name=``."""
    lines = []
    for name, value in request.items():
        hanging = indent + " " * (len(name) + 1)
        literal = pprint.pformat(value, width=_WIDTH - len(hanging), sort_dicts=False)
        lines.append(f"{indent}{name}={literal.replace(chr(10), chr(10) + hanging)},")
    return "\n".join(lines)


def _print_reply(request: Mapping[str, Any], *, is_async: bool, indent: str) -> str:
    """Print the reply's text, and with tools its calls (streamed: each call's fragments as they come)."""
    tools = "tools" in request
    if not request.get("stream"):
        calls = "\nprint(response.choices[0].message.tool_calls)" if tools else ""
        return textwrap.indent(f"print(response.choices[0].message.content){calls}", indent)
    loop = "async for" if is_async else "for"
    calls = (
        "    if chunk.choices and chunk.choices[0].delta.tool_calls:\n"
        "        print(chunk.choices[0].delta.tool_calls)\n"
        if tools
        else ""
    )
    return textwrap.indent(
        f"{loop} chunk in response:\n"
        "    if chunk.choices and chunk.choices[0].delta.content:\n"
        '        print(chunk.choices[0].delta.content, end="", flush=True)\n'
        f"{calls}"
        "print()",
        indent,
    )


def python_sync(request: Mapping[str, Any]) -> str:
    """A script using ``writerai.Writer``."""
    return (
        "import os\n\n"
        "from writerai import Writer\n\n"
        'client = Writer(api_key=os.environ["WRITER_API_KEY"])\n\n'
        "response = client.chat.chat(\n"
        f"{_call_arguments(request, '    ')}\n"
        ")\n"
        f"{_print_reply(request, is_async=False, indent='')}\n"
    )


def python_async(request: Mapping[str, Any]) -> str:
    """A script using ``writerai.AsyncWriter``."""
    return (
        "import asyncio\n"
        "import os\n\n"
        "from writerai import AsyncWriter\n\n\n"
        "async def main() -> None:\n"
        '    client = AsyncWriter(api_key=os.environ["WRITER_API_KEY"])\n'
        "    response = await client.chat.chat(\n"
        f"{_call_arguments(request, '        ')}\n"
        "    )\n"
        f"{_print_reply(request, is_async=True, indent='    ')}\n\n\n"
        "asyncio.run(main())\n"
    )


def curl(request: Mapping[str, Any]) -> str:
    """A curl command with the same JSON body; ``--no-buffer`` shows a stream as it arrives."""
    body = json.dumps(request, indent=2, ensure_ascii=False)
    options = ["--no-buffer"] if request.get("stream") else []
    return (
        " \\\n  ".join(
            [
                'curl "${WRITER_BASE_URL:-https://api.writer.com}/v1/chat"',
                '-H "Authorization: Bearer $WRITER_API_KEY"',
                '-H "Content-Type: application/json"',
                *options,
                f"--data {shlex.quote(body)}",
            ]
        )
        + "\n"
    )


def all_snippets(request: Mapping[str, Any] | None) -> tuple[str, str, str]:
    """(sync Python, async Python, curl) for a request record; empty strings before any request."""
    if not request:
        return "", "", ""
    return python_sync(request), python_async(request), curl(request)
