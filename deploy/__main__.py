"""``python -m deploy --replicas 2``: Palmyra Chat on N processes behind HAProxy, until Ctrl+C.

Settings come from the environment and ``.env``, as for ``python app.py``; every replica gets them.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from dotenv import load_dotenv

from deploy import Deployment
from deploy.processes import DeployError


def main(argv: list[str] | None = None) -> int:
    load_dotenv(override=False)  # as app.py does: real environment variables win
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2, help="app processes to start (default 2)")
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1",  # blank means unset, as in .env.example
        help="address HAProxy listens on (default GRADIO_SERVER_NAME, else 127.0.0.1; 0.0.0.0 for other machines)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT") or 7860),
        help="HAProxy's port (default GRADIO_SERVER_PORT, else 7860); the replicas take the ports after it",
    )
    args = parser.parse_args(argv)
    # A plain SIGTERM would end this process without stopping what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    replica_ports = [args.port + number for number in range(1, args.replicas + 1)]
    deployment = Deployment(args.replicas, args.host, args.port, replica_ports)
    try:
        with deployment:
            # The Redis we started has no password to hide; one from RATE_LIMIT_STORAGE may.
            storage = f"{deployment.redis_url}, started here" if deployment.redis else "RATE_LIMIT_STORAGE's Redis"
            print(
                f"Palmyra Chat: {deployment.url} ({args.replicas} replicas on ports "
                f"{', '.join(map(str, replica_ports))}; rate limit counted in {storage}). Ctrl+C stops everything.",
                flush=True,
            )
            return _watch(deployment)
    except DeployError as error:
        print(f"python -m deploy: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def _watch(deployment: Deployment) -> int:
    """Serve until stopped. A replica that exits leaves the others serving (HAProxy's health check takes it
    out); the proxy or our Redis exiting, or every replica, ends the deployment."""
    reported: set[str] = set()
    while True:
        exited = {name for name, child in deployment.children.items() if not child.running}
        for name in sorted(exited - reported):
            print(f"python -m deploy: {name} exited ({deployment.children[name].popen.returncode})", file=sys.stderr)
        reported |= exited
        replicas = [name for name in deployment.children if name.startswith("replica-")]
        if exited & {"haproxy", "redis"} or set(replicas) <= exited:
            print("python -m deploy: stopping everything", file=sys.stderr)
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
