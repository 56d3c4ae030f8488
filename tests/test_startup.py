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
        (  # a URI may carry a password: the reason shows its scheme alone
            "RATE_LIMIT_STORAGE",
            "mysql://user:s3cret@db/0",
            "RATE_LIMIT_STORAGE must start with one of memory://, redis://, rediss://, redis+unix://, not mysql://…",
        ),
    ],
)
def test_a_bad_setting_stops_the_app_with_one_line_and_status_2(name: str, value: str, reason: str) -> None:
    done = run_app("app.py", **{name: value})
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"app.py: error: {reason}"]
    assert "Running on" not in done.stdout


def _modules_imported(importtime_stderr: str) -> set[str]:
    """The modules named by ``python -X importtime`` (one stderr line each: ``import time: self | total | name``)."""
    lines = [line for line in importtime_stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}  # the first line is the header


@pytest.mark.parametrize(
    ("environ", "reason"),
    [
        ({}, "no key of yours would be spent (offline demo mode, no WRITER_API_KEY), but anyone with the link"),
        ({"WRITER_API_KEY": "k-7c1e"}, "anyone with the link could spend your Writer key"),
        ({"WRITER_API_KEY": "k-7c1e", "VISITOR_KEY": "required"}, "no key of yours would be spent (VISITOR_KEY"),
    ],
    ids=["offline", "own-key", "visitors-bring-keys"],
)
def test_share_without_auth_is_refused_for_the_mode_before_the_ui_is_loaded(
    environ: dict[str, str], reason: str
) -> None:
    done = run_app("-X", "importtime", "app.py", "--share", **environ)
    assert done.returncode == 2
    imported = _modules_imported(done.stderr)
    assert "components.settings" in imported, "importtime output not understood: the check below would prove nothing"
    assert not {name for name in imported if name.split(".")[0] == "gradio" or name.startswith("components.ui")}
    (refusal,) = [line for line in done.stderr.splitlines() if not line.startswith("import time:")]
    assert refusal.startswith(f"app.py: error: Refusing to open a public link without authentication: {reason}")
    assert refusal.endswith("Set APP_AUTH=user:password, or pass --allow-public-without-auth if you really mean it.")
    assert "k-7c1e" not in done.stderr + done.stdout
