"""What the stand-in answers: a deterministic echo of the prompt, split into tokens, and its pacing."""

from __future__ import annotations

import re
from typing import Any

from standin.behaviour import Behaviour
from standin.images import images_line
from standin.tools import results_reply, schema_reply

TOKEN = re.compile(r"\s*\S+|\s+")  # words with their leading space: joined, they give back the text


def last_prompt(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    return next(
        (content_text(m.get("content")) for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"),
        "",
    )


def reply_text(body: dict[str, Any], lead: str | None = None) -> str:
    """The deterministic reply: the last user message (or ``lead``, a built-in tool's answer), the images that
    came with the messages on a line of their own, then the parameters that came with it.

    The parameters go in a paragraph of their own, after a blank line: on the prompt's last line they
    would turn a closing code fence into text, and the rest of the reply into code.
    """
    messages = body.get("messages") or []
    prompt = results_reply(body) or lead or f"Echo: {last_prompt(body)}"
    images = images_line(body)
    if images:
        prompt = f"{prompt}\n{images}"
    temperature = body.get("temperature", "default")
    # The optional sampling parameters are echoed only when sent, so tests see what reached the wire.
    extras = "".join(f" {name}={body[name]}" for name in ("top_p", "max_tokens") if name in body)
    return f"{prompt}\n\n[model={body.get('model')} messages={len(messages)} temperature={temperature}{extras}]"


def content_text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def count_tokens(text: str) -> int:
    return len(TOKEN.findall(text))


def reply_tokens(body: dict[str, Any], behaviour: Behaviour, lead: str | None = None) -> tuple[list[str], str]:
    """The reply split into tokens, ended at a stop sequence or cut at ``max_tokens``, and its finish_reason.

    ``lead``: a built-in tool's answer (:mod:`standin.builtin`), in place of the prompt's echo.
    """
    if behaviour.tool_calls:
        return [], "tool_calls"  # no text: the calls are the reply
    text = behaviour.reply if behaviour.reply is not None else (schema_reply(body) or reply_text(body, lead))
    stop = body.get("stop") or []
    for sequence in [stop] if isinstance(stop, str) else stop:
        text = text.split(sequence, 1)[0]  # like a model: the stop sequence itself is not returned
    tokens = TOKEN.findall(text)
    limits = [n for n in (body.get("max_tokens"), behaviour.max_tokens) if isinstance(n, int)]
    max_tokens = min(limits, default=None)
    if max_tokens is not None and len(tokens) > max_tokens:
        return tokens[:max_tokens], behaviour.finish_reason or "length"
    return tokens, behaviour.finish_reason or "stop"


def generation_delays(behaviour: Behaviour, completion_tokens: int) -> list[float]:
    """The pauses of generating a reply: before the first (empty) chunk, then before each token."""
    return [behaviour.first_token_delay, *[behaviour.chunk_delay] * completion_tokens]
