"""The Evaluate tab: a prompt template, a table of cases, up to 4 configurations and the checks; Run fills the
results grid as cells finish, Stop closes every request. The engine is chat/evaluation_run.py, as /evaluate's.

Tables keep the page small: each component costs every new session its config, so the cases, the
configurations (a column per optional parameter, read from params.SAMPLING) and the checks are one table each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from components.chat import evaluation, evaluation_run, params
from components.chat.evaluation import EXPECTED, Check
from components.chat.evaluation_run import CellResult, Configuration, Template
from components.chat.kinds import InvalidRequestError
from components.chat.service import ChatService
from components.ui.bounds import BoundedTextbox
from components.ui.requests import visitor

SYSTEM = "You are a helpful assistant. Answer in one short sentence."
USER = "What is the capital of {{country}}?"
CASES = [["France", "Paris"], ["Japan", "Tokyo"], ["Peru", "Lima"]]
CONFIG_COLUMNS = ["model", "temperature", *params.NAMES, "system (prompt B)"]
CHECK_COLUMNS = ["check", "value"]
_PRIVATE: dict[str, Any] = {"api_visibility": "private"}


@dataclass(frozen=True)
class EvaluateTab:
    system: gr.Textbox
    user: gr.Textbox
    variables: gr.Markdown
    cases: gr.Dataframe
    import_csv: gr.UploadButton
    configurations: gr.Dataframe
    checks: gr.Dataframe
    concurrency: gr.Slider
    run: gr.Button
    stop: gr.Button
    status: gr.Markdown
    grid: gr.Dataframe
    summary: gr.Dataframe


def render(service: ChatService, own_key: gr.Textbox) -> EvaluateTab:
    tab = _layout(service)
    _wire(tab, service, own_key)
    return tab


def _layout(service: ChatService) -> EvaluateTab:
    model = service.settings.model
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            system = BoundedTextbox(SYSTEM, label="System message", lines=2, max_length=60_000, elem_id="eval-system")
            user = BoundedTextbox(USER, label="User message: {{name}} marks a variable", lines=3, max_length=60_000,
                                  elem_id="eval-user")  # fmt: skip
            variables = gr.Markdown(_variables_line(SYSTEM, USER), elem_classes="reply-info", elem_id="eval-vars")
            cases = gr.Dataframe(CASES, headers=["country", EXPECTED], type="pandas", interactive=True,
                                 label="Test cases: a row a case; expected is optional",
                                 elem_id="eval-cases")  # fmt: skip
            import_csv = gr.UploadButton("Import cases (CSV)", file_types=[".csv"], size="sm", elem_id="eval-import")
        with gr.Column(scale=2):
            configurations = gr.Dataframe(
                [[model, 0.2, *[""] * len(params.NAMES), ""], ["palmyra-x4", 1.0, *[""] * len(params.NAMES), ""]],
                headers=CONFIG_COLUMNS, type="array", interactive=True, elem_id="eval-configs",
                label=f"Configurations (up to {evaluation_run.MAX_CONFIGURATIONS}): empty cells are not sent",
            )  # fmt: skip
            checks = gr.Dataframe([["contains", ""]], headers=CHECK_COLUMNS, type="array", interactive=True,
                                  label=f"Checks: {', '.join(evaluation.CHECK_KINDS)}",
                                  elem_id="eval-checks")  # fmt: skip
            concurrency = gr.Slider(1, 8, evaluation_run.DEFAULT_CONCURRENCY, step=1, label="Requests at once",
                                    elem_id="eval-concurrency")  # fmt: skip
            with gr.Row():
                run = gr.Button("Run", variant="primary", elem_id="eval-run")
                stop = gr.Button("Stop", variant="stop", interactive=False, elem_id="eval-stop")
    status = gr.Markdown(elem_classes="reply-info", elem_id="eval-status")
    grid = gr.Dataframe(type="array", interactive=False, wrap=True, label="Results", visible=False, elem_id="eval-grid")
    summary = gr.Dataframe(type="array", interactive=False, label="Per configuration", visible=False,
                           elem_id="eval-summary")  # fmt: skip
    return EvaluateTab(system, user, variables, cases, import_csv, configurations, checks, concurrency, run, stop,
                       status, grid, summary)  # fmt: skip


def _variables_line(system: str, user: str) -> str:
    found = evaluation.variables(system, user)
    return "Variables: " + ", ".join(f"`{{{{{name}}}}}`" for name in found) if found else "No variables yet."


def _wire(tab: EvaluateTab, service: ChatService, own_key: gr.Textbox) -> None:
    def follow_variables(system: str, user: str, cases: pd.DataFrame) -> tuple[Any, Any]:
        """The cases' columns follow the variables as the person types: values kept by column name."""
        names = [*evaluation.variables(system, user), EXPECTED]
        if list(cases.columns) == names:
            return _variables_line(system, user), gr.skip()
        rows = [[record.get(name, "") for name in names] for record in cases.to_dict("records")]
        return _variables_line(system, user), pd.DataFrame(rows, columns=names)

    # .change, not .input: a paste or a fill sends no .input (Gradio 6.31).
    gr.on([tab.system.change, tab.user.change], follow_variables, inputs=[tab.system, tab.user, tab.cases],
          outputs=[tab.variables, tab.cases], queue=False, trigger_mode="always_last", **_PRIVATE)  # fmt: skip
    tab.import_csv.upload(_import, inputs=tab.import_csv, outputs=[tab.cases, tab.status], **_PRIVATE)
    controls = [tab.run, tab.stop]
    started = tab.run.click(lambda: (gr.update(interactive=False), gr.update(interactive=True)), outputs=controls,
                            queue=False, **_PRIVATE)  # fmt: skip
    running = started.then(
        _runner(service),
        inputs=[tab.system, tab.user, tab.cases, tab.configurations, tab.checks, tab.concurrency, own_key],
        outputs=[tab.status, tab.grid, tab.summary],
        **_PRIVATE,
    )
    idle = (gr.update(interactive=True), gr.update(interactive=False))
    running.then(lambda: idle, outputs=controls, queue=False, **_PRIVATE)
    tab.stop.click(lambda: idle, outputs=controls, cancels=[running], queue=False, **_PRIVATE)


def _import(path: str | None) -> tuple[Any, str]:
    """The file's cases in the table (its header row names the columns), or why not, the table as it was."""
    try:
        columns, rows = evaluation.read_csv(Path(path).read_bytes() if path else b"")
    except (InvalidRequestError, OSError) as problem:
        reason = problem.message if isinstance(problem, InvalidRequestError) else "The file could not be read."
        return gr.skip(), f"⚠️ **Nothing imported:** {reason} The cases are as they were."
    table = pd.DataFrame([[row[column] for column in columns] for row in rows], columns=columns)
    return table, f"Imported {len(rows)} cases with the columns {', '.join(columns)}."


def _runner(service: ChatService) -> Any:
    async def run_in_tab(  # not "evaluate": a private event of that name would push /evaluate to /evaluate_1
        system: str, user: str, cases: pd.DataFrame, configurations: list[list[Any]], checks: list[list[Any]],
        concurrency: float, own_key: str, request: gr.Request, progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> AsyncIterator[tuple[Any, Any, Any]]:  # fmt: skip
        try:
            records = cases.fillna("").astype(str).to_dict("records")
            rows = [_case(record) for record in records if any(value.strip() for value in record.values())]
            columns = [_configuration(row) for row in configurations if str(row[0]).strip()]
            tests = [Check(str(kind).strip(), str(value)) for kind, value in checks if str(kind).strip()]
            run = evaluation_run.run(service, visitor(service, request), own_key or "", Template(system, user), rows,
                                     columns, tests, concurrency=int(concurrency))  # fmt: skip
        except InvalidRequestError as problem:  # nothing stale stays on show: the last run's grid goes
            yield f"⚠️ **Nothing sent:** {problem.message}", gr.update(visible=False), gr.update(visible=False)
            return
        done: list[CellResult] = []
        total = len(rows) * len(columns)
        yield (
            f"Running {total} requests, {int(concurrency)} at once…",
            _grid(rows, columns, done),
            _summary(done, columns),
        )
        async with aclosing(run) as results:
            async for result in results:
                done.append(result)
                progress((len(done), total), desc="Cells done")
                yield f"{len(done)} of {total} done", _grid(rows, columns, done), _summary(done, columns)
        passed = sum(result.passed for result in done)
        yield f"{len(done)} of {total} done: {passed} passed.", _grid(rows, columns, done), _summary(done, columns)

    return run_in_tab


def _case(record: dict[str, str]) -> dict[str, str]:
    """A row of the cases' table as a case: an empty cell is no value (a variable's is then missing, and named)."""
    return {name: value for name, value in record.items() if value.strip()}


def _configuration(row: Sequence[Any]) -> Configuration:
    model, temperature, *rest = row
    sampling = {name: value for name, value in zip(params.NAMES, rest, strict=False) if str(value).strip()}
    system_b = str(rest[len(params.NAMES)]).strip() if len(rest) > len(params.NAMES) else ""
    try:
        temperature = float(temperature)
    except (TypeError, ValueError):
        raise InvalidRequestError(f"{model}'s temperature must be a number, not {temperature!r}.") from None
    return Configuration(str(model).strip(), temperature, sampling, system_b or None)


def _grid(rows: Sequence[dict[str, str]], columns: Sequence[Configuration], done: Sequence[CellResult]) -> Any:
    """A row a case: its values, then a cell per configuration (✅/❌, the reply's start, its checks)."""
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


def _summary(done: Sequence[CellResult], columns: Sequence[Configuration]) -> Any:
    rows = [
        [f"{s.configuration + 1}: {columns[s.configuration].model}", f"{s.passed}/{s.cells}",
         _seconds(s.median_s), _seconds(s.p95_s), s.tokens]
        for s in evaluation_run.summarize(done, len(columns))
    ]  # fmt: skip
    return gr.update(value=rows, headers=["configuration", "passed", "median", "p95", "tokens"], visible=True)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"
