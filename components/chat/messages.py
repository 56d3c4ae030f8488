"""A chat message as Gradio holds it, read the same way everywhere: its text and its metadata.

Gradio gives content as a string (API callers) or as a list of parts (the browser), and metadata
as a dict or None. Knows nothing of Gradio itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def content_text(content: Any) -> str:
    """The text of a message's content: a string, or Gradio's list of parts (``[{"type": "text", "text"}]``)."""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable) and not isinstance(content, Mapping):
        return "".join(p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") == "text")
    return ""  # files and components have no text to send


def metadata_of(message: Mapping[str, Any]) -> Mapping[str, Any]:
    """A message's metadata; empty when it has none."""
    metadata = message.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}
