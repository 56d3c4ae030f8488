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


# Images are not written into a snippet (a data URL is megabytes): it reads each from a file saved beside it.
_IMAGE_HELPER = (
    "\n\ndef image_url(path: str, mime_type: str) -> str:\n"
    '    """An image file as the data URL Writer takes."""\n'
    '    with open(path, "rb") as file:\n'
    '        return f"data:{mime_type};base64,{base64.b64encode(file.read()).decode()}"\n'
)


def python_sync(request: Mapping[str, Any]) -> str:
    """A script using ``writerai.Writer``."""
    request, files, arguments = _python_arguments(request, "    ")
    return (
        f"{_files_note(files, '# ')}{'import base64' + chr(10) if files else ''}import os\n\n"
        f"from writerai import Writer{_IMAGE_HELPER if files else ''}\n\n"
        'client = Writer(api_key=os.environ["WRITER_API_KEY"])\n\n'
        "response = client.chat.chat(\n"
        f"{arguments}\n"
        ")\n"
        f"{_print_reply(request, is_async=False, indent='')}\n"
    )


def python_async(request: Mapping[str, Any]) -> str:
    """A script using ``writerai.AsyncWriter``."""
    request, files, arguments = _python_arguments(request, "        ")
    return (
        f"{_files_note(files, '# ')}import asyncio\n{'import base64' + chr(10) if files else ''}import os\n\n"
        f"from writerai import AsyncWriter{_IMAGE_HELPER if files else ''}\n\n\n"
        "async def main() -> None:\n"
        '    client = AsyncWriter(api_key=os.environ["WRITER_API_KEY"])\n'
        "    response = await client.chat.chat(\n"
        f"{arguments}\n"
        "    )\n"
        f"{_print_reply(request, is_async=True, indent='    ')}\n\n\n"
        "asyncio.run(main())\n"
    )


def curl(request: Mapping[str, Any]) -> str:
    """A curl command with the same JSON body; ``--no-buffer`` shows a stream as it arrives."""
    request, files = _image_files(request)
    body = shlex.quote(json.dumps(request, indent=2, ensure_ascii=False))
    for marker, name, mime in files:  # each image read from its file by the shell, into the quoted body
        body = body.replace(marker, f"data:{mime};base64,'\"$(base64 < {name} | tr -d '\\n')\"'")
    options = ["--no-buffer"] if request.get("stream") else []
    return _files_note(files, "# ") + (
        " \\\n  ".join(
            [
                'curl "${WRITER_BASE_URL:-https://api.writer.com}/v1/chat"',
                '-H "Authorization: Bearer $WRITER_API_KEY"',
                '-H "Content-Type: application/json"',
                *options,
                f"--data {body}",
            ]
        )
        + "\n"
    )


def _python_arguments(request: Mapping[str, Any], indent: str) -> tuple[dict[str, Any], list[Any], str]:
    """The call's arguments for a Python snippet, each image read by ``image_url`` from its file."""
    request, files = _image_files(request)
    arguments = _call_arguments(request, indent)
    for marker, name, mime in files:
        arguments = arguments.replace(repr(marker), f'image_url("{name}", "{mime}")')
    return request, files, arguments


def _image_files(request: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """The request with each image's data URL replaced by a marker, and (marker, file name, type) for each."""
    files: list[tuple[str, str, str]] = []

    def part_of(part: Any) -> Any:
        url = str((part.get("image_url") or {}).get("url", "")) if isinstance(part, dict) else ""
        if part.get("type") != "image_url" or not url.startswith("data:"):
            return part
        mime = url[5:].split(";", 1)[0]
        marker = f"@@IMAGE-{len(files) + 1}@@"
        files.append((marker, f"image-{len(files) + 1}.{mime.rsplit('/', 1)[-1]}", mime))
        return {**part, "image_url": {**part["image_url"], "url": marker}}

    messages = [
        {**m, "content": [part_of(p) for p in m["content"]]} if isinstance(m.get("content"), list) else m
        for m in request.get("messages", [])
    ]
    return {**request, "messages": messages}, files


def _files_note(files: list[tuple[str, str, str]], comment: str) -> str:
    if not files:
        return ""
    return f"{comment}Save the conversation's images beside this, in order: {', '.join(n for _, n, _ in files)}\n"


def all_snippets(request: Mapping[str, Any] | None) -> tuple[str, str, str]:
    """(sync Python, async Python, curl) for a request record; empty strings before any request."""
    if not request:
        return "", "", ""
    return python_sync(request), python_async(request), curl(request)
