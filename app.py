"""Palmyra Chat: a Gradio web app for chat completions with Writer's Palmyra models.

Run ``python app.py`` (``--share`` for a public link). Settings come from the
environment and an optional ``.env``; see ``.env.example``. Without ``WRITER_API_KEY``
the app runs in offline demo mode against a local Writer stand-in.
"""

from __future__ import annotations

import argparse
import logging
import os

from dotenv import load_dotenv

# Real environment variables (e.g. Space secrets) win over .env: override=False.
load_dotenv(override=False)
# Analytics threads try the network with no timeout; offline, the process never exited.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from components.client import Settings  # noqa: E402 - after .env is loaded
from components.ui import LAUNCH_OPTIONS, build_demo  # noqa: E402

demo = build_demo(Settings.from_env())


def main() -> None:
    parser = argparse.ArgumentParser(description="Palmyra Chat")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request is noise
    # GRADIO_SERVER_NAME / GRADIO_SERVER_PORT / GRADIO_SHARE are read by launch() itself.
    demo.launch(share=True if args.share else None, **LAUNCH_OPTIONS)


if __name__ == "__main__":
    main()
