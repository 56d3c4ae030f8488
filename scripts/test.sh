#!/usr/bin/env bash
# The project's one test command: install what the tests need, then lint and run every test.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k chat`).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

"$PYTHON" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
"$PYTHON" -m ruff format --check .
"$PYTHON" -m ruff check .
"$PYTHON" -m pytest "$@"
