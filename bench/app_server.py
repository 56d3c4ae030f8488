"""Run ``app.py`` exactly as ``python app.py`` does, under a process name of the benchmark's own.

Settings come from the environment (bench/procs.py sets them); ``runpy`` executes the
real file as ``__main__``, so what is measured is the app as deployed.
"""

from __future__ import annotations

import runpy

from bench.procs import ROOT

if __name__ == "__main__":
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")
