"""The Writer stand-in in a process of its own, paced for the benchmark: ``python -m bench.standin_server``.

Its CPU then never counts against the app's. The default reply is ``--chunks`` words, one
chunk each, ``--chunk-delay`` apart. Prompts that carry a marker get another reply, so one
server serves every part of the benchmark:

- ``FAST_MARKER``: a paragraph of ``TURN_WORDS`` words at once (cheap turns to build a history);
- ``BURST_MARKER``: ``--burst-chunks`` words with no delay between chunks (a fast upstream);
- ``LONG_MARKER``: as many words, ``--long-delay`` apart (a fast model: 500 tokens a second at 2 ms).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading

from standin import Behaviour, StandIn

FAST_MARKER = "[fast]"
BURST_MARKER = "[burst]"
LONG_MARKER = "[long]"
TURN_WORDS = 60  # about a short paragraph: ~100 tokens a turn keeps 100 turns inside the default context budget


def words(count: int, stem: str = "w") -> str:
    """A reply of exactly ``count`` chunks: the stand-in streams one word (with its leading space) per chunk."""
    return " ".join(f"{stem}{index}" for index in range(count))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--chunks", type=int, default=50, help="chunks in the default reply")
    parser.add_argument("--chunk-delay", type=float, default=0.02, help="seconds between chunks of the default reply")
    parser.add_argument("--burst-chunks", type=int, default=2000, help="chunks in the no-delay and the long reply")
    parser.add_argument("--long-delay", type=float, default=0.002, help="seconds between chunks of the long reply")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    server = StandIn(port=args.port, api_key=args.api_key)
    server.default = Behaviour(chunk_delay=args.chunk_delay, reply=words(args.chunks))
    server.on_prompt(FAST_MARKER, Behaviour(reply=words(TURN_WORDS, stem="turn")))
    server.on_prompt(BURST_MARKER, Behaviour(reply=words(args.burst_chunks)))
    server.on_prompt(LONG_MARKER, Behaviour(reply=words(args.burst_chunks), chunk_delay=args.long_delay))
    # The benchmark records nothing here: an unbounded request log would grow the stand-in, not the app.
    server.requests = _Discard()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    print(f"ready {server.url}", flush=True)  # the benchmark waits for this line
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    sys.exit(0)


class _Discard(list):
    """A request log that keeps nothing."""

    def append(self, _item: object) -> None:
        return None


if __name__ == "__main__":
    main()
