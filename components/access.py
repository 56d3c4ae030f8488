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
    *,
    share: bool,
    allow_public_without_auth: bool,
    environ: Mapping[str, str],
    offline: bool = False,
    visitor_keys_only: bool = False,
) -> list[tuple[str, str]] | None:
    """The ``auth`` to launch with; refuses a public link without credentials unless explicitly allowed.

    A share link puts the owner's paid key one URL away from anyone who finds it. Where no key
    of the owner's is at stake (offline demo mode, or visitors must bring their own) the link is
    refused all the same, with that reason: it still opens the app on the owner's machine to anyone,
    strangers would type their own Writer keys into a page nobody vouches for, and "a public link
    needs a login" stays one rule with one flag to override it, rather than a rule that changes
    silently the day WRITER_API_KEY is set.
    """
    auth = parse_auth(environ.get("APP_AUTH"))
    if share and not auth and not allow_public_without_auth:
        msg = (
            f"Refusing to open a public link without authentication: {_exposed(offline, visitor_keys_only)}. "
            f"Set APP_AUTH=user:password, or pass {ALLOW_FLAG} if you really mean it."
        )
        raise AccessError(msg)
    return auth or None


def _exposed(offline: bool, visitor_keys_only: bool) -> str:
    """What anyone with a login-less public link could do, in this mode."""
    if offline:
        return (
            "no key of yours would be spent (offline demo mode, no WRITER_API_KEY), but anyone with the link "
            "could use this app and its echo stand-in on your machine"
        )
    if visitor_keys_only:
        return (
            "no key of yours would be spent (VISITOR_KEY=required), but anyone with the link "
            "could use this app on your machine"
        )
    return "anyone with the link could spend your Writer key"
