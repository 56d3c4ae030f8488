"""Palmyra Chat: a Gradio web app for chat completions with Writer's Palmyra models.

Run ``python app.py`` (``--share`` for a public link, which requires ``APP_AUTH``).
Settings come from the environment and an optional ``.env``; see ``.env.example``.
Without ``WRITER_API_KEY`` the app runs in offline demo mode against a local Writer stand-in.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from dotenv import load_dotenv

# Real environment variables (e.g. Space secrets) win over .env: override=False.
load_dotenv(override=False)
# Analytics threads try the network with no timeout; offline, the process never exited.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from components.access import ALLOW_FLAG, AccessError, launch_auth  # noqa: E402 - after .env is loaded
from components.client import Settings  # noqa: E402
from components.ui import LAUNCH_OPTIONS, build_demo  # noqa: E402

demo = build_demo(Settings.from_env())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Palmyra Chat")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public link (needs APP_AUTH)")
    parser.add_argument(ALLOW_FLAG, action="store_true", help="open a public link with no login (not advised)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request is noise
    share = args.share or os.environ.get("GRADIO_SHARE", "").lower() in {"1", "true"}
    try:
        auth = launch_auth(share=share, allow_public_without_auth=args.allow_public_without_auth, environ=os.environ)
    except AccessError as refusal:
        parser.error(str(refusal))  # exits with status 2 and the reason
    # GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are read by launch() itself.
    demo.launch(share=share or None, auth=auth, **LAUNCH_OPTIONS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
