"""Palmyra Chat: a Gradio web app for chat completions with Writer's Palmyra models.

Run ``python app.py`` (``--share`` for a public link, which requires ``APP_AUTH``), or
``gradio app.py`` to reload on every edit. Settings come from the environment and an
optional ``.env``; see ``.env.example``. Without ``WRITER_API_KEY`` the app runs in
offline demo mode against a local Writer stand-in.

The module-level ``demo`` is what Hugging Face Spaces and ``gradio app.py`` look for.
"""

from __future__ import annotations

import logging
import os
import sys

from dotenv import load_dotenv

# Real environment variables (e.g. Space secrets) win over .env: override=False.
load_dotenv(override=False)
# Analytics threads try the network with no timeout; offline, the process never exited.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from components.settings import Settings  # noqa: E402 - after .env is loaded
from components.startup import Start, checked_start  # noqa: E402

# Run as a script (`python app.py`, Spaces, `gradio app.py`): check the command line too, and refuse
# before the slow part below. Imported as a module: only the settings.
START = checked_start(sys.argv[1:]) if __name__ == "__main__" else Start(Settings.from_env())

from components.offline import with_standin  # noqa: E402 - after the checks: importing Gradio takes seconds
from components.ui.page import build_demo, launch_options  # noqa: E402

SETTINGS = with_standin(START.settings)  # offline mode: the stand-in's address (and the stand-in running)
demo = build_demo(SETTINGS)

# No sys.exit() after launch: in reload mode (`gradio app.py`) Gradio re-executes this whole file on
# a watcher thread, where launch() returns at once. A SystemExit there ended the watcher silently
# on its first pass, so no edit was ever picked up.
if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request is noise
    # GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are read by launch() itself.
    demo.launch(share=START.share or None, auth=START.auth, **launch_options(SETTINGS))
