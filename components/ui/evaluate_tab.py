"""The Evaluate tab: a prompt template, a table of cases, up to 4 configurations and the checks; Run fills the
results grid as cells finish, Stop closes every request. The engine is chat/evaluation_run.py, as /evaluate's.

Tables keep the page small: each component costs every new session its config, so the cases, the
configurations (a column per optional parameter, read from params.SAMPLING) and the checks are one table each.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from components.chat import conversation, evaluation, evaluation_run, params
from components.chat.evaluation import EXPECTED, Check
from components.chat.evaluation_run import CellResult, Configuration, Template
from components.chat.kinds import InvalidRequestError
from components.chat.service import ChatService
from components.ui import evaluate_view as view
from components.ui import saving
from components.ui.bounds import BoundedTextbox
from components.ui.evaluate_view import Run
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
    export_csv: gr.DownloadButton
    configurations: gr.Dataframe
    checks: gr.Dataframe
    concurrency: gr.Slider
    run: gr.Button
    stop: gr.Button
    rerun: gr.Button
    status: gr.Markdown
    grid: gr.Dataframe
    detail: gr.Markdown
    summary: gr.Dataframe
    as_csv: gr.DownloadButton
    as_json: gr.DownloadButton


def render(service: ChatService, own_key: gr.Textbox, exports: saving.Exports) -> EvaluateTab:
    tab = _layout(service)
    _wire(tab, service, own_key, exports)
    return tab


def _layout(service: ChatService) -> EvaluateTab:
    model = service.settings.model
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            limit = conversation.MAX_PROMPT_CHARS
            system = BoundedTextbox(SYSTEM, label="System message", lines=2, max_length=limit, elem_id="eval-system")
            user = BoundedTextbox(USER, label="User message: {{name}} marks a variable", lines=3, max_length=limit,
                                  elem_id="eval-user")  # fmt: skip
            variables = gr.Markdown(_variables_line(SYSTEM, USER), elem_classes="reply-info", elem_id="eval-vars")
            cases = gr.Dataframe(CASES, headers=["country", EXPECTED], type="pandas", interactive=True,
                                 label="Test cases: a row a case; expected is optional",
                                 elem_id="eval-cases")  # fmt: skip
            with gr.Row():
                import_csv = gr.UploadButton("Import cases (CSV)", file_types=[".csv"], size="sm",
                                             elem_id="eval-import")  # fmt: skip
                export_csv = gr.DownloadButton("Download cases (CSV)", _default_cases_file(), size="sm",
                                               elem_id="eval-export")  # fmt: skip
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
            rerun = gr.Button("Run the failed cells again", size="sm", elem_id="eval-rerun")
    status = gr.Markdown(elem_classes="reply-info", elem_id="eval-status")
    grid = gr.Dataframe(type="array", interactive=False, wrap=True, visible=False, elem_id="eval-grid",
                        label="Results: pick a cell for its whole reply, checks and run card")  # fmt: skip
    detail = gr.Markdown(elem_id="eval-detail")
    summary = gr.Dataframe(type="array", interactive=False, label="Per configuration", visible=False,
                           elem_id="eval-summary")  # fmt: skip
    with gr.Row():
        as_csv = gr.DownloadButton("Download results (CSV)", visible=False, size="sm", elem_id="eval-csv")
        as_json = gr.DownloadButton("Download the run (JSON)", visible=False, size="sm", elem_id="eval-json")
    return EvaluateTab(system, user, variables, cases, import_csv, export_csv, configurations, checks, concurrency,
                       run, stop, rerun, status, grid, detail, summary, as_csv, as_json)  # fmt: skip


_SCRATCH = tempfile.TemporaryDirectory(prefix="palmyra-eval-")  # removed when the process exits


def _default_cases_file() -> str:
    """The example cases as a CSV file, written once at start: the download works before any edit."""
    path = Path(_SCRATCH.name) / "palmyra-cases.csv"
    path.write_text(evaluation.write_csv(["country", EXPECTED], [dict(zip(("country", EXPECTED), row, strict=True))
                                                                  for row in CASES]), encoding="utf-8")  # fmt: skip
    return str(path)


def _variables_line(system: str, user: str) -> str:
    found = evaluation.variables(system, user)
    return "Variables: " + ", ".join(f"`{{{{{name}}}}}`" for name in found) if found else "No variables yet."


def _wire(tab: EvaluateTab, service: ChatService, own_key: gr.Textbox, exports: saving.Exports) -> None:
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

    def cases_file(cases: pd.DataFrame, request: gr.Request) -> Any:
        """The cases as CSV, remade as they change: the download is one click (a click's answer comes too late)."""
        text = evaluation.write_csv(list(cases.columns), cases.fillna("").astype(str).to_dict("records"))
        try:
            (path,) = exports.write_files(visitor(service, request), "palmyra-cases", {".csv": text.encode()})
        except saving.ExportBudgetError:
            return gr.update(value=None, interactive=False)
        return gr.update(value=path, interactive=True)

    gr.on([tab.cases.change], cases_file, inputs=tab.cases, outputs=tab.export_csv, trigger_mode="always_last",
          show_progress="hidden", **_PRIVATE)  # fmt: skip
    controls = [tab.run, tab.stop]
    started = tab.run.click(lambda: (gr.update(interactive=False), gr.update(interactive=True)), outputs=controls,
                            queue=False, **_PRIVATE)  # fmt: skip
    last = gr.State(None)  # the session's last run: a re-run of its failed cells, its summary beside the next
    outputs = [tab.status, tab.grid, tab.summary, tab.as_csv, tab.as_json, last]
    running = started.then(
        _runner(service, exports),
        inputs=[tab.system, tab.user, tab.cases, tab.configurations, tab.checks, tab.concurrency, own_key, last],
        outputs=outputs,
        **_PRIVATE,
    )
    again = tab.rerun.click(lambda: (gr.update(interactive=False), gr.update(interactive=True)), outputs=controls,
                            queue=False, **_PRIVATE).then(
        _rerunner(service, exports), inputs=[last, tab.concurrency, own_key], outputs=outputs, **_PRIVATE
    )  # fmt: skip
    tab.grid.select(view.detail, inputs=last, outputs=tab.detail, **_PRIVATE)
    idle = (gr.update(interactive=True), gr.update(interactive=False))
    for event in (running, again):
        event.then(lambda: idle, outputs=controls, queue=False, **_PRIVATE)
    tab.stop.click(lambda: idle, outputs=controls, cancels=[running, again], queue=False, **_PRIVATE)


def _import(path: str | None) -> tuple[Any, str]:
    """The file's cases in the table (its header row names the columns), or why not, the table as it was."""
    try:
        columns, rows = evaluation.read_csv(Path(path).read_bytes() if path else b"")
    except (InvalidRequestError, OSError) as problem:
        reason = problem.message if isinstance(problem, InvalidRequestError) else "The file could not be read."
        return gr.skip(), f"⚠️ **Nothing imported:** {reason} The cases are as they were."
    table = pd.DataFrame([[row[column] for column in columns] for row in rows], columns=columns)
    return table, f"Imported {len(rows)} cases with the columns {', '.join(columns)}."


def _runner(service: ChatService, exports: saving.Exports) -> Any:
    async def run_in_tab(  # not "evaluate": a private event of that name would push /evaluate to /evaluate_1
        system: str, user: str, cases: pd.DataFrame, configurations: list[list[Any]], checks: list[list[Any]],
        concurrency: float, own_key: str, last: Run | None, request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> AsyncIterator[tuple[Any, ...]]:  # fmt: skip
        try:
            records = cases.fillna("").astype(str).to_dict("records")
            rows = [_case(record) for record in records if any(value.strip() for value in record.values())]
            columns = [_configuration(row) for row in configurations if str(row[0]).strip()]
            tests = [Check(str(kind).strip(), str(value)) for kind, value in checks if str(kind).strip()]
            earlier = [*view.summary_rows(last), *last.earlier] if last else []
            run = Run((last.number + 1) if last else 1, Template(system, user), rows, columns, tests, [], earlier)
            cells = evaluation_run.run(service, visitor(service, request), own_key or "", run.template, rows,
                                       columns, tests, concurrency=int(concurrency))  # fmt: skip
        except InvalidRequestError as problem:  # nothing stale stays on show: the last run's grid goes
            yield f"⚠️ **Nothing sent:** {problem.message}", *(gr.update(visible=False),) * 4, gr.skip()
            return
        async for shown in _show(run, cells, exports, visitor(service, request), progress):
            yield shown

    return run_in_tab


def _rerunner(service: ChatService, exports: saving.Exports) -> Any:
    async def rerun_failed(
        last: Run | None, concurrency: float, own_key: str, request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> AsyncIterator[tuple[Any, ...]]:  # fmt: skip
        if last is None or not last.failed:
            yield "No failed cells to run again.", *(gr.skip(),) * 5
            return
        cells = evaluation_run.run(service, visitor(service, request), own_key or "", last.template, last.rows,
                                   last.columns, last.checks, concurrency=int(concurrency),
                                   only=last.failed)  # fmt: skip
        async for shown in _show(last, cells, exports, visitor(service, request), progress, again=True):
            yield shown

    return rerun_failed


async def _show(
    run: Run, cells: AsyncIterator[CellResult], exports: saving.Exports, visitor_id: str, progress: gr.Progress,
    *, again: bool = False,
) -> AsyncIterator[tuple[Any, ...]]:  # fmt: skip
    """The grid and summary as cells finish; at the end, the downloads and the run kept for a re-run."""
    fresh: list[CellResult] = []
    total = len(run.failed) if again else len(run.rows) * len(run.columns)
    shown = dataclasses.replace(run, done=list(run.done)) if again else run
    hidden = (gr.update(visible=False),) * 2  # the last run's downloads, until this one is done
    yield f"Running {total} requests…", view.grid(shown), view.summary(shown), *hidden, gr.skip()
    async with aclosing(cells) as results:
        async for result in results:
            fresh.append(result)
            shown.done = run.merged(fresh) if again else fresh
            progress((len(fresh), total), desc="Cells done")
            yield f"{len(fresh)} of {total} done", view.grid(shown), view.summary(shown), *view.SKIP, gr.skip()
    line = f"{len(fresh)} of {total} done: {sum(r.passed for r in fresh)} passed."
    try:
        files = view.downloads(exports, visitor_id, shown)
    except saving.ExportBudgetError as problem:
        line, files = f"{line} {problem}", hidden
    yield line, view.grid(shown), view.summary(shown), *files, shown


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
