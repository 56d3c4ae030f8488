#!/usr/bin/env bash
# The project's one test command: install what the tests need, then lint and run every test.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k chat`).
set -euo pipefail
cd "$(dirname "$0")/.."
# The quick start's virtual environment when there is one: a system Python may refuse pip installs.
if [ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; fi
PYTHON="${PYTHON:-python3}"
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/lib/chromium/chromium}"

"$PYTHON" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# Debian packages the tests drive: Chromium for the browser tests (Playwright's own download cannot work
# offline), HAProxy and Redis for the replica tests. Installed once; skipped when present. Without apt
# those tests skip, except under CI=true.
MISSING=()
[ -x "$CHROMIUM_PATH" ] || MISSING+=(chromium)
[ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null 2>&1 || MISSING+=(haproxy)
command -v redis-server >/dev/null 2>&1 || MISSING+=(redis-server)
if [ "${#MISSING[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
  else
    echo "apt-get not found: cannot install ${MISSING[*]}; the tests that need them will be skipped." >&2
  fi
fi

"$PYTHON" -m ruff format --check .
"$PYTHON" -m ruff check .
"$PYTHON" -m pytest "$@"
