"""A chat message as Gradio holds it, read the same way everywhere: its text and its metadata.

Gradio gives content as a string (API callers) or as a list of parts (the browser), and metadata
as a dict or None. Knows nothing of Gradio itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def content_text(content: Any) -> str:
    """The text of a message's content: a string, or a list of parts: Gradio's ``{"type": "text", "text"}`` (from
    the browser), or plain strings beside files (a message with attachments, as the chat keeps it)."""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable) and not isinstance(content, Mapping):
        return "".join(
            part if isinstance(part, str) else part.get("text", "")
            for part in content
            if isinstance(part, str) or (isinstance(part, Mapping) and part.get("type") == "text")
        )
    return ""  # files and components have no text to send


def content_files(content: Any) -> list[str]:
    """The paths of the files a message's content holds: Gradio's ``{"type": "file", "file": {"path"}}`` parts
    (from the browser), or ``{"path"}`` ones (as the chat keeps a message with attachments)."""
    if isinstance(content, Mapping):
        content = [content]  # a message that is one file
    if isinstance(content, str) or not isinstance(content, Iterable):
        return []
    paths = []
    for part in content:
        file = part.get("file") if isinstance(part, Mapping) and part.get("type") == "file" else part
        path = file.get("path") if isinstance(file, Mapping) else None
        if isinstance(path, str) and path:
            paths.append(path)
    return paths


def metadata_of(message: Mapping[str, Any]) -> Mapping[str, Any]:
    """A message's metadata; empty when it has none."""
    metadata = message.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}
