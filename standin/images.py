"""Images in messages (shared/writer-tools.md §1.6): content fragments, what Writer rejects, and their echo.

A message's ``content`` may be a list of ``{"type": "text", "text"}`` and ``{"type": "image_url",
"image_url": {"url"}}`` fragments (SPEC ``composite_content`` 4707-4755). Only palmyra-x5 takes images
(SPEC 4711, 4735). The echo names each image that arrived, so tests can tell its bytes reached the wire.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import urlsplit

IMAGE_MODELS = frozenset({"palmyra-x5"})  # "Other models don't support the image_url content type" (§1.6)
# What one image adds to usage.prompt_tokens. Writer does not say how it counts an image; a fixed number, the
# same for every image, lets a test compute the usage exactly (85 is the cost OpenAI gives a low-detail image).
IMAGE_TOKENS = 85
_DATA_URL = re.compile(r"data:(image/(?:png|jpeg|gif|webp));base64,(.*)", re.DOTALL)  # "JPEG, PNG, GIF, etc."


def validate(body: dict[str, Any]) -> str | None:
    """What Writer would reject in the messages' content fragments, or None.

    The descriptions are invented: the error for an image sent to another model is unconfirmed (§1.6, §4).
    """
    for message in body.get("messages") or []:
        content = message.get("content")
        if content is None or isinstance(content, str):
            continue
        if not isinstance(content, list) or not content:
            return "A message's content must be a string or a non-empty list of content fragments"
        for fragment in content:
            problem = _fragment_problem(fragment, body.get("model"))
            if problem:
                return problem
    return None


def _fragment_problem(fragment: Any, model: Any) -> str | None:
    kind = fragment.get("type") if isinstance(fragment, dict) else None
    if kind == "text":
        return None if isinstance(fragment.get("text"), str) else "A text fragment needs a text string"
    if kind != "image_url":
        return "Each content fragment must be of type text or image_url"
    if model not in IMAGE_MODELS:
        return f"image_url content is only supported by palmyra-x5, not {model}"
    url = (fragment.get("image_url") or {}).get("url") if isinstance(fragment.get("image_url"), dict) else None
    if not isinstance(url, str) or _describe(url) is None:
        return "image_url.url must be an http(s) URL or a data:image/(png|jpeg|gif|webp);base64 URL"
    return None


def _describe(url: str) -> str | None:
    """``image/png 1234 bytes`` for a data URL, the URL itself for a web address; None if it is neither."""
    found = _DATA_URL.fullmatch(url)
    if found:
        try:
            size = len(base64.b64decode(found.group(2), validate=True))
        except (binascii.Error, ValueError):
            return None
        return f"{found.group(1)} {size} bytes" if size else None
    parts = urlsplit(url)
    return url if parts.scheme in {"http", "https"} and parts.netloc else None


def image_urls(body: dict[str, Any]) -> list[str]:
    """The URLs of every image in the messages, in order."""
    return [
        fragment["image_url"]["url"]
        for message in body.get("messages") or []
        if isinstance(message, dict) and isinstance(message.get("content"), list)
        for fragment in message["content"]
        if isinstance(fragment, dict) and fragment.get("type") == "image_url"
    ]


def images_line(body: dict[str, Any]) -> str | None:
    """The echo's line for the images that arrived, e.g. ``[images: 1 image/png 1234 bytes]``; None if none."""
    urls = image_urls(body)
    return f"[images: {len(urls)} {'; '.join(_describe(url) or url for url in urls)}]" if urls else None
