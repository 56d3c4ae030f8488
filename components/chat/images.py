"""Images in a conversation, as Writer takes them: ``image_url`` content fragments holding data URLs, for
palmyra-x5 only (shared/writer-tools.md §1.6).

An image is read from the file the chat keeps (Gradio's upload folder, and nowhere else), checked by its
first bytes (PNG, JPEG, GIF or WebP, whatever its name says) and its size, then sent as a data URL. Every
request carries every image of the conversation, so a conversation holds a bounded number. Knows nothing of
Gradio.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from components.chat.kinds import InvalidRequestError
from components.chat.messages import content_files

IMAGE_MODELS = frozenset({"palmyra-x5"})  # "Other models don't support the image_url content type" (§1.6)
MAX_IMAGE_BYTES = 3_000_000  # one image; an upload's body is refused past 4 MB anyway (ui/bounds.py)
MAX_IMAGES = 6  # in one conversation: each is sent again with every turn
# What an image counts for the context budget: an upper-side guess (Writer publishes no figure), so that
# trimming leaves room rather than overflow.
IMAGE_TOKENS = 1_600
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
KINDS = "PNG, JPEG, GIF or WebP"
DATA_URL_PREFIX = "data:image/"


def mime_type(head: bytes) -> str | None:
    """The image type a file's first bytes say, or None when they are not one Writer takes."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for signature, mime in _SIGNATURES if head.startswith(signature)), None)


def fragment(path: str, root: Path) -> dict[str, Any]:
    """The ``image_url`` fragment for an image file of the chat; raises InvalidRequestError with the reason."""
    name = Path(path).name
    file = Path(path).resolve()
    if not file.is_relative_to(root.resolve()):
        raise InvalidRequestError(f"The image {name} is not one this chat received: attach it again.")
    try:
        size = file.stat().st_size
        if size > MAX_IMAGE_BYTES:
            msg = f"The image {name} is {size / 1e6:.1f} MB; Writer takes images up to {MAX_IMAGE_BYTES / 1e6:g} MB."
            raise InvalidRequestError(msg)
        data = file.read_bytes()
    except OSError:
        raise InvalidRequestError(f"The image {name} is no longer on the server: attach it again.") from None
    mime = mime_type(data[:16])
    if mime is None:
        raise InvalidRequestError(f"{name} is not an image Writer takes: attach a {KINDS} file.")
    url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return {"type": "image_url", "image_url": {"url": url}}


def count(messages: Iterable[Mapping[str, Any]]) -> int:
    """How many images a Writer message list carries."""
    return sum(
        1
        for message in messages
        if isinstance(message.get("content"), list)
        for part in message["content"]
        if part.get("type") == "image_url"
    )


def check(messages: Iterable[Mapping[str, Any]], models: Iterable[str]) -> None:
    """Raise InvalidRequestError when the messages carry images a model does not take, or too many."""
    carried = count(messages)
    if not carried:
        return
    refused = [model for model in models if model not in IMAGE_MODELS]
    if refused:
        msg = (
            f"Writer takes images in messages on {', '.join(sorted(IMAGE_MODELS))} only, not {refused[0]}: "
            "choose palmyra-x5 (the conversation keeps its images), or start a new chat without them."
        )
        raise InvalidRequestError(msg)
    if carried > MAX_IMAGES:
        msg = f"A conversation may hold {MAX_IMAGES} images (each is sent again every turn); this one has {carried}."
        raise InvalidRequestError(msg + " Start a new chat for more.")


def shortened(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with each image's data URL cut to its type and size: for reading, not for sending."""
    return [
        {**m, "content": [_short(part) for part in m["content"]]} if isinstance(m.get("content"), list) else m
        for m in messages
    ]


def _short(part: Mapping[str, Any]) -> Mapping[str, Any]:
    url = str((part.get("image_url") or {}).get("url", "")) if part.get("type") == "image_url" else ""
    if not url.startswith(DATA_URL_PREFIX):
        return part
    head, _, data = url.partition(",")
    size = len(data) * 3 // 4 - data[-2:].count("=")  # base64's length, less its padding
    return {**part, "image_url": {"url": f"{head},… ({size:,} bytes)"}}


def data_urls(content: Any, root: Path) -> list[str]:
    """The data URLs of the images a chat message holds, for an export (an image no longer there is left out)."""
    urls = []
    for path in content_files(content):
        try:
            urls.append(fragment(path, root)["image_url"]["url"])
        except InvalidRequestError:
            continue
    return urls


def saved(urls: object, folder: Path, where: str) -> list[str]:
    """An import's data URLs, checked, each written to a file under ``folder``; their paths. Raises
    InvalidRequestError naming the problem."""
    if not isinstance(urls, list) or len(urls) > MAX_IMAGES:
        raise InvalidRequestError(f"{where}'s images must be a list of at most {MAX_IMAGES} data URLs.")
    target = folder / uuid.uuid4().hex
    paths = []
    for number, url in enumerate(urls, 1):
        head, _, encoded = url.partition(",") if isinstance(url, str) else ("", "", "")
        try:
            data = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            data = b""
        mime = mime_type(data[:16])
        if not head.startswith(DATA_URL_PREFIX) or not head.endswith(";base64") or mime != head[5:-7]:
            raise InvalidRequestError(f"{where}'s image {number} is not a {KINDS} data URL.")
        if len(data) > MAX_IMAGE_BYTES:
            raise InvalidRequestError(f"{where}'s image {number} is over {MAX_IMAGE_BYTES / 1e6:g} MB.")
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"image-{number}.{mime.removeprefix('image/')}"
        path.write_bytes(data)
        paths.append(str(path))
    return paths
