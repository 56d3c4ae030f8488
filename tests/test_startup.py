"""Starting the app as a new user does: `python app.py` as a process, with the settings and flags it is given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_app(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """``python <args>`` in the project, with only ``environ`` set; for runs that end by themselves."""
    env = {"PATH": "/usr/bin:/bin", "GRADIO_ANALYTICS_ENABLED": "False", "HOME": str(ROOT), **environ}
    return subprocess.run(  # our own app, with a fixed argument list
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("WRITER_TIMEOUT", "thirty", "WRITER_TIMEOUT must be a number of at least 0, not 'thirty'"),
        ("VISITOR_KEY", "sometimes", "VISITOR_KEY must be one of required, optional, not 'sometimes'"),
    ],
)
def test_a_bad_setting_stops_the_app_with_one_line_and_status_2(name: str, value: str, reason: str) -> None:
    done = run_app("app.py", **{name: value})
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"app.py: error: {reason}"]
    assert "Running on" not in done.stdout
