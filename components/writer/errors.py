"""Writer's errors in words for the user: specific, actionable, and never a secret.

Knows nothing of Gradio.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import httpx
import writerai
from writerai import AsyncWriter


def retry_after(exc: writerai.APIStatusError) -> float | None:
    """The server's ``retry-after`` in seconds, when it sent a number."""
    try:
        value = float(exc.response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


_STATUS_ADVICE = {
    400: "Writer rejected the request as invalid (400)",
    401: (
        "Writer rejected the API key (401). Check WRITER_API_KEY, or the key you entered: "
        "it must be valid and unexpired"
    ),
    403: "This API key has no access to the selected model (403). Pick another model or check the key's permissions",
    404: "Writer could not find that model or endpoint (404). Pick another model, or check WRITER_BASE_URL",
    408: "Writer timed out handling the request (408). Try again",
    409: "Writer reported a conflict (409). Try again",
    413: "The request is too large for Writer (413). Shorten the prompt or clear the conversation",
    422: "Writer could not process the request (422)",
}


def describe_error(exc: BaseException, timeout: float | None = None, secrets: Iterable[str | None] = ()) -> str:
    """A specific, actionable message for the user. Never the raw error body, never a secret.

    Writer's own description is quoted, with ``secrets`` (the keys in use) and anything
    key-shaped taken out, and bounded: an upstream that echoes the Authorization header
    must not show the key to the visitor.
    """
    waited = f"{timeout:g} s" if timeout else "the time limit"
    if isinstance(exc, writerai.APITimeoutError):
        return f"Writer did not answer within {waited}. Try again, or try a shorter prompt."
    if isinstance(exc, writerai.APIConnectionError):
        return (
            f"Could not reach Writer at {_host(exc.request)}, or the connection dropped before a reply. "
            "Check the network connection and WRITER_BASE_URL."
        )
    if isinstance(exc, writerai.APIStatusError):
        status, detail = exc.status_code, redact(_description(exc.body), secrets)
        if status == 200:  # an SSE `event: error` inside a started stream
            return f"Writer reported an error in the middle of the reply: {detail or 'no details given'}."
        if status == 429:
            waited = retry_after(exc)
            wait = f"Wait {waited:g} s and try again" if waited else "Wait a few seconds and try again"
            return f"Writer's rate limit was hit (429): {detail or 'too many requests'}. {wait}."
        if status >= 500:
            return f"Writer's service failed ({status}): {detail or 'server error'}. Try again in a moment."
        advice = _STATUS_ADVICE.get(status, f"Writer answered with an error ({status})")
        return f"{advice}. Writer said: {detail}." if detail else f"{advice}."
    if isinstance(exc, httpx.TimeoutException):
        return f"Writer stopped sending for {waited}; the reply was cut off. Try again."
    if isinstance(exc, httpx.HTTPError):
        return "The connection to Writer dropped in the middle of the reply. Try again."
    return "The request failed unexpectedly. Try again."


MAX_QUOTED_CHARS = 300  # of Writer's error text: a sentence, not a page
REDACTED = "[redacted]"
# "Bearer <token>", and any long unbroken run of token characters (API keys, JWTs): no word is like that.
_KEY_SHAPED = re.compile(r"(?i:bearer)\s+\S+|[A-Za-z0-9_\-.+/=]{32,}")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without the given secrets or anything key-shaped, and at most MAX_QUOTED_CHARS long."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _KEY_SHAPED.sub(REDACTED, text)
    return text if len(text) <= MAX_QUOTED_CHARS else text[: MAX_QUOTED_CHARS - 1] + "…"


def read_timeout(client: AsyncWriter) -> float | None:
    timeout = client.timeout
    return timeout.read if isinstance(timeout, httpx.Timeout) else timeout


def _description(body: object) -> str:
    """The human text of Writer's error body (``errors[0].description``), else ''."""
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            return str(errors[0].get("description") or "").rstrip(".")
    return ""


def _host(request: httpx.Request | None) -> str:
    return request.url.host if request is not None else "the configured address"
