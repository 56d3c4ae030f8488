"""`gradio app.py`, Gradio's reload mode: an edit to app.py or to components/ shows up in the served page.

Runs the real CLI on a temporary copy of the project (the test edits the copy), in its own
process group, killed whole at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sysconfig
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 120  # `gradio app.py` builds the page twice before it watches (a shared 2-core machine)
RELOAD_SECONDS = 20  # what a developer waits for an edit at most
RESAVE_SECONDS = 6  # more than a reload takes here (2-4 s), so a second save never lands in the middle of one


def _copy_project(to: Path) -> Path:
    shutil.copy2(ROOT / "app.py", to / "app.py")
    for package in ("components", "standin"):  # the app, and offline mode's stand-in
        shutil.copytree(ROOT / package, to / package, ignore=shutil.ignore_patterns("__pycache__"))
    return to


@pytest.fixture
def reloading_app(tmp_path: Path) -> Iterator[tuple[Path, str, Path]]:
    """``gradio app.py`` on a copy of the project: (the copy, the app's URL, its output file)."""
    project = _copy_project(tmp_path)
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_NUM_PORTS": "1",  # that port or a clear failure, never a silent move to the next one
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    output = tmp_path / "output.txt"
    gradio = Path(sysconfig.get_path("scripts")) / "gradio"  # the CLI of the Python running the tests
    with output.open("w") as sink:
        process = subprocess.Popen(  # our own app, with a fixed argument list
            [str(gradio), "app.py"], cwd=project, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield project, f"http://127.0.0.1:{port}/", output
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the CLI and the app it started
        process.wait(timeout=10)


def _config(url: str) -> str:
    try:
        return httpx.get(f"{url}config", timeout=5).text
    except httpx.HTTPError:
        return ""


def _wait_until(condition: Callable[[], bool], seconds: float, what: str, output: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds} s; the app printed:\n{output.read_text()}")
        time.sleep(0.2)


def _save(path: Path, text: str) -> None:
    """Write like an editor that saves atomically: the watcher never reads half a file."""
    draft = path.with_suffix(".draft")
    draft.write_text(text)
    draft.replace(path)


def _edit_until_served(path: Path, old: str, new: str, shows: str, url: str, output: Path) -> None:
    """Change ``old`` to ``new`` in ``path`` and wait until the served config shows ``shows``.

    The watcher notes every file's time on its first pass, which comes only after its own build
    of the page; an edit saved before that pass is taken as the starting state. So an edit that
    has not shown after RESAVE_SECONDS is saved again, as a developer would.
    """
    text = path.read_text().replace(old, new)
    assert new in text and text != path.read_text(), f"{old!r} not found in {path.name}"
    saved_at = -RESAVE_SECONDS

    def served() -> bool:
        nonlocal saved_at
        if time.monotonic() - saved_at >= RESAVE_SECONDS:
            _save(path, text)
            saved_at = time.monotonic()
        return shows in _config(url)

    _wait_until(served, RELOAD_SECONDS, f"the edit to {path.name} did not show", output)


@pytest.mark.timeout(STARTUP_SECONDS + 3 * RELOAD_SECONDS)
def test_edits_to_app_py_and_components_show_up_in_reload_mode(reloading_app: tuple[Path, str, Path]) -> None:
    project, url, output = reloading_app
    _wait_until(lambda: "Offline demo mode" in _config(url), STARTUP_SECONDS, "the app did not serve", output)
    edited_notice = "Offline demo mode (edited)."
    _edit_until_served(
        project / "components" / "ui" / "page.py", "Offline demo mode.", edited_notice, edited_notice, url, output
    )
    built = "demo = build_demo(SETTINGS)\n"
    title = '"Edited title"'  # a JSON string in the config: the page's title
    _edit_until_served(project / "app.py", built, f'{built}demo.title = "Edited title"\n', title, url, output)
    assert edited_notice in _config(url)  # the reload of app.py kept the edited component
    assert "Reloading app failed" not in output.read_text()
