"""Run the stand-in alone, e.g. to point another client at it: ``python -m standin --port 4010``."""

from __future__ import annotations

import argparse
import contextlib
import logging
import threading
from dataclasses import replace

import standin
from standin.server import StandIn

logger = logging.getLogger(__name__)


def main() -> None:
    """Run the stand-in alone, e.g. to point another client at it."""
    parser = argparse.ArgumentParser(prog="python -m standin", description=standin.__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=4010)
    parser.add_argument("--chunk-delay", type=float, default=0.02, help="seconds between streamed chunks")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    server = StandIn(port=args.port).start()
    server.default = replace(server.default, chunk_delay=args.chunk_delay)
    logger.info("Writer stand-in on %s (Ctrl+C stops it)", server.url)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    server.stop()


if __name__ == "__main__":
    main()
