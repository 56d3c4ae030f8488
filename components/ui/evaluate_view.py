"""What an evaluation run shows: the results grid (a row a case, a cell a configuration), the summary rows of this
run and of the earlier ones beside them, the downloads, and the run kept in the session for a re-run."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from components.chat import cards, evaluation, evaluation_run
from components.chat.evaluation import Check
from components.chat.evaluation_run import CellResult, Configuration, Template
from components.ui import saving

SUMMARY_HEADERS = ["run", "configuration", "passed", "median", "p95", "tokens"]


@dataclass
class Run:
    """The session's last run, for a re-run of its failed cells, and the earlier runs' summary rows."""

    number: int
    template: Template
    rows: list[dict[str, str]]
    columns: list[Configuration]
    checks: list[Check]
    done: list[CellResult] = field(default_factory=list)
    earlier: list[list[Any]] = field(default_factory=list)  # summary rows of the runs before, newest first

    @property
    def failed(self) -> list[tuple[int, int]]:
        return [(r.case, r.configuration) for r in self.done if not r.passed]

    def merged(self, again: Sequence[CellResult]) -> list[CellResult]:
        """The results with the cells run again in place of their earlier ones."""
        fresh = {(r.case, r.configuration): r for r in again}
        return [fresh.get((r.case, r.configuration), r) for r in self.done]


SKIP = (gr.skip(), gr.skip())


def downloads(exports: saving.Exports, visitor_id: str, run: Run) -> tuple[Any, Any]:
    """The run as CSV (a row a cell) and as JSON (the template, cases, configurations, checks, results, summary)."""
    template, rows, columns, checks, done = run.template, run.rows, run.columns, run.checks, run.done
    ordered = sorted(done, key=lambda result: (result.case, result.configuration))
    records = [evaluation_run.as_record(result, rows, columns) for result in ordered]
    fields = list(dict.fromkeys(key for record in records for key in record))
    document = {
        "format": "palmyra-eval/1",
        "template": dataclasses.asdict(template),
        "cases": list(rows),
        "configurations": [dataclasses.asdict(c) | {"sampling": dict(c.sampling)} for c in columns],
        "checks": [dataclasses.asdict(check) for check in checks],
        "results": records,
        "summary": [dataclasses.asdict(row) for row in evaluation_run.summarize(done, len(columns))],
    }
    as_csv, as_json = exports.write_files(visitor_id, "palmyra-eval", {
        ".csv": evaluation.write_csv(fields, records).encode(),
        ".json": (json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n").encode(),
    })  # fmt: skip
    return gr.update(value=as_csv, visible=True), gr.update(value=as_json, visible=True)


def grid(run: Run) -> Any:
    """A row a case: its values, then a cell per configuration (PASS/FAIL, the reply's start, its checks)."""
    rows, columns, done = run.rows, run.columns, run.done
    names = list(dict.fromkeys(name for row in rows for name in row))
    headers = [*names, *(f"{i + 1}: {c.model} T {c.temperature:g}" for i, c in enumerate(columns))]
    by_cell = {(r.case, r.configuration): r for r in done}
    body = [
        [*(row.get(name, "") for name in names), *(_cell(by_cell.get((i, k))) for k in range(len(columns)))]
        for i, row in enumerate(rows)
    ]
    return gr.update(value=body, headers=headers, visible=True)


def _cell(result: CellResult | None) -> str:
    if result is None:
        return "…"
    if result.error:
        return f"FAIL · {result.error}"
    mark = "PASS ·" if result.passed else "FAIL ·"  # words: the table's monospace font has no check-mark glyphs
    failed = [v.check for v in result.verdicts if not v.passed]
    text = " ".join(result.text.split())
    return f"{mark} {text[:160]}{'…' if len(text) > 160 else ''}" + (
        f" (failed: {'; '.join(failed)})" if failed else ""
    )


def summary(run: Run) -> Any:
    """This run's row per configuration, then the earlier runs' rows beside them, for comparison."""
    return gr.update(value=[*summary_rows(run), *run.earlier], headers=SUMMARY_HEADERS, visible=True)


def summary_rows(run: Run) -> list[list[Any]]:
    return [
        [run.number, f"{s.configuration + 1}: {run.columns[s.configuration].model} T "
         f"{run.columns[s.configuration].temperature:g}", f"{s.passed}/{s.cells}", _seconds(s.median_s),
         _seconds(s.p95_s), s.tokens]
        for s in evaluation_run.summarize(run.done, len(run.columns))
    ]  # fmt: skip


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"


def detail(last: Run | None, picked: gr.SelectData) -> str:
    """A picked cell's whole reply, its checks and its run card (a case's own columns say nothing more)."""
    if last is None or not isinstance(picked.index, (list, tuple)):
        return ""
    case, column = picked.index[0], picked.index[1] - len(dict.fromkeys(n for row in last.rows for n in row))
    result = next((r for r in last.done if (r.case, r.configuration) == (case, column)), None)
    if result is None:
        return ""
    checks = "\n".join(f"- {'PASS' if v.passed else 'FAIL'} · {v.check}{f': {v.detail}' if v.detail else ''}"
                       for v in result.verdicts)  # fmt: skip
    card = cards.format_card(result.card) if result.card else ""
    title = f"**Case {case + 1} on configuration {column + 1}**"
    return "\n\n".join(part for part in (title, result.error or "", result.text, checks, card) if part)
