"""Palmyra Chat: a Gradio web app for chat completions with Writer's Palmyra models.

Run ``python app.py`` (``--share`` for a public link, which requires ``APP_AUTH``), or
``gradio app.py`` to reload on every edit. Settings come from the environment and an
optional ``.env``; see ``.env.example``. Without ``WRITER_API_KEY`` the app runs in
offline demo mode against a local Writer stand-in.

The module-level ``demo`` is what Hugging Face Spaces and ``gradio app.py`` look for.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass

from dotenv import load_dotenv

# Real environment variables (e.g. Space secrets) win over .env: override=False.
load_dotenv(override=False)
# Analytics threads try the network with no timeout; offline, the process never exited.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from components.access import ALLOW_FLAG, AccessError, launch_auth  # noqa: E402 - after .env is loaded
from components.client import Settings, SettingsError  # noqa: E402


@dataclass(frozen=True)
class Start:
    """How to start: checked before the UI is built, so that a refusal comes at once and in one line."""

    settings: Settings
    share: bool = False
    auth: list[tuple[str, str]] | None = None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="app.py", description="Palmyra Chat")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public link (needs APP_AUTH)")
    parser.add_argument(ALLOW_FLAG, action="store_true", help="open a public link with no login (not advised)")
    return parser


def checked_start(argv: list[str]) -> Start:
    """The settings and launch flags, or exit with status 2 and the reason on one line of stderr.

    Importing Gradio and building the page take seconds; a setting or a flag the app cannot
    use should not wait for them, nor end in a traceback.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    share = args.share or os.environ.get("GRADIO_SHARE", "").lower() in {"1", "true"}
    try:
        settings = Settings.from_env()
        auth = launch_auth(
            share=share,
            allow_public_without_auth=args.allow_public_without_auth,
            environ=os.environ,
            offline=settings.offline,
            visitor_keys_only=settings.visitor_key_required,
        )
    except (SettingsError, AccessError) as refusal:
        parser.exit(2, f"{parser.prog}: error: {refusal}\n")  # argparse's own form, without the usage lines
    return Start(settings, share, auth)


# Run as a script (`python app.py`, Spaces, `gradio app.py`): check the command line too. Imported: only the settings.
START = checked_start(sys.argv[1:]) if __name__ == "__main__" else Start(Settings.from_env())

from components.ui import LAUNCH_OPTIONS, build_demo  # noqa: E402 - after the checks: importing Gradio takes seconds

demo = build_demo(START.settings)

# No sys.exit() after launch: in reload mode (`gradio app.py`) Gradio re-executes this whole file on
# a watcher thread, where launch() returns at once. A SystemExit there ended the watcher silently
# on its first pass, so no edit was ever picked up.
if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request is noise
    # GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are read by launch() itself.
    demo.launch(share=START.share or None, auth=START.auth, **LAUNCH_OPTIONS)
