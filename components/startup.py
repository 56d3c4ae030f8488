"""How the app starts: the settings and the command line, checked before anything slow happens.

Importing Gradio and building the page take seconds; a setting or a flag the app cannot use
should not wait for them, nor end in a traceback. Knows nothing of Gradio.

It lives here rather than in app.py because in reload mode (``gradio app.py``) Gradio takes
``__main__`` out of ``sys.modules`` and re-executes app.py's source: a dataclass defined there
then fails to build (dataclasses looks its module up in ``sys.modules``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass

from components.access import ALLOW_FLAG, AccessError, launch_auth
from components.settings import Settings, SettingsError

PROG = "app.py"


@dataclass(frozen=True)
class Start:
    """How to start: the settings, and whether to ask for a public link with which login."""

    settings: Settings
    share: bool = False
    auth: list[tuple[str, str]] | None = None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Palmyra Chat")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public link (needs APP_AUTH)")
    parser.add_argument(ALLOW_FLAG, action="store_true", help="open a public link with no login (not advised)")
    return parser


def checked_start(argv: list[str], environ: Mapping[str, str] = os.environ) -> Start:
    """The settings and launch flags, or exit with status 2 and the reason on one line of stderr."""
    parser = _parser()
    args = parser.parse_args(argv)
    share = args.share or environ.get("GRADIO_SHARE", "").lower() in {"1", "true"}
    try:
        settings = Settings.from_env(environ)
        auth = launch_auth(
            share=share,
            allow_public_without_auth=args.allow_public_without_auth,
            environ=environ,
            offline=settings.offline,
            visitor_keys_only=settings.visitor_key_required,
        )
    except (SettingsError, AccessError) as refusal:
        parser.exit(2, f"{parser.prog}: error: {refusal}\n")  # argparse's own form, without the usage lines
    return Start(settings, share, auth)
