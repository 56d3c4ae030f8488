"""Who may open the app: credentials for public links, and the rule that a public link needs them."""

from __future__ import annotations

from collections.abc import Mapping

ALLOW_FLAG = "--allow-public-without-auth"


class AccessError(ValueError):
    """The app must not start this way. The message says what to do instead."""


def parse_auth(value: str | None) -> list[tuple[str, str]]:
    """``APP_AUTH`` as Gradio's ``auth``: ``user:password``, several separated by commas."""
    pairs = []
    for entry in (value or "").split(","):
        if not entry.strip():
            continue
        user, sep, password = entry.strip().partition(":")
        if not sep or not user or not password:
            msg = "APP_AUTH must look like user:password (several separated by commas)"
            raise AccessError(msg)
        pairs.append((user, password))
    return pairs


def launch_auth(
    *, share: bool, allow_public_without_auth: bool, environ: Mapping[str, str]
) -> list[tuple[str, str]] | None:
    """The ``auth`` to launch with; refuses a public link without credentials unless explicitly allowed.

    A share link puts the owner's paid key one URL away from anyone who finds it.
    """
    auth = parse_auth(environ.get("APP_AUTH"))
    if share and not auth and not allow_public_without_auth:
        msg = (
            "Refusing to open a public link without authentication: anyone with the link could spend "
            "your Writer key. Set APP_AUTH=user:password, or pass "
            f"{ALLOW_FLAG} if you really mean it."
        )
        raise AccessError(msg)
    return auth or None
