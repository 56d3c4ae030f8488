"""An evaluation run: every case on every configuration through the chat service, results as they finish, and each
configuration's summary (pass rate, median and p95 latency, tokens). Knows nothing of Gradio.

Every cell is planned like any request (the checks, the rate limit: each counts), so one the limit refuses
is a failed cell with its reason, and holds back no other; it can be run again alone.
"""

from __future__ import annotations

import statistics
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from components.chat import conversation, evaluation, tool_params
from components.chat.evaluation import Check, Verdict
from components.chat.kinds import InvalidRequestError
from components.chat.service import Ask, ChatService, Plan
from components.writer.records import RunCard

MAX_CONFIGURATIONS = 4
DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True)
class Template:
    """The prompt: a system message and a user message, each with ``{{variables}}``."""

    system: str
    user: str

    @property
    def variables(self) -> list[str]:
        return evaluation.variables(self.system, self.user)


@dataclass(frozen=True)
class Configuration:
    """One column of the run: a model, a temperature, the optional parameters, and optionally another system
    message (prompt B)."""

    model: str
    temperature: float
    sampling: Mapping[str, object] = field(default_factory=dict)
    system: str | None = None


@dataclass(frozen=True)
class CellResult:
    """One case on one configuration: its reply and run card (None when it was refused), its checks."""

    case: int
    configuration: int
    text: str
    card: RunCard | None
    verdicts: list[Verdict]
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(verdict.passed for verdict in self.verdicts)


@dataclass(frozen=True)
class Summary:
    """A configuration's row under the grid."""

    configuration: int
    cells: int
    passed: int
    median_s: float | None
    p95_s: float | None
    tokens: int

    @property
    def pass_rate(self) -> float:
        return self.passed / self.cells if self.cells else 0.0


def run(
    service: ChatService,
    visitor: str,
    own_key: str,
    template: Template,
    cases: Sequence[Mapping[str, str]],
    configurations: Sequence[Configuration],
    checks: Sequence[Check] = (),
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    only: Sequence[tuple[int, int]] | None = None,
) -> AsyncIterator[CellResult]:
    """Every (case, configuration) cell, or ``only`` these, as each finishes. Raises InvalidRequestError at once,
    before anything is sent, when the run cannot be made (no case, a case without a variable's value, too many
    configurations)."""
    cells = list(only) if only is not None else [(c, k) for c in range(len(cases)) for k in range(len(configurations))]
    prompts = _prompts(template, cases, configurations, cells)
    return _results(service, visitor, own_key, cases, configurations, checks, cells, prompts, concurrency)


async def _results(
    service: ChatService,
    visitor: str,
    own_key: str,
    cases: Sequence[Mapping[str, str]],
    configurations: Sequence[Configuration],
    checks: Sequence[Check],
    cells: Sequence[tuple[int, int]],
    prompts: Sequence[tuple[str, str]],
    concurrency: int,
) -> AsyncIterator[CellResult]:
    planned: list[tuple[int, int, Plan]] = []
    for (case, column), (system, user) in zip(cells, prompts, strict=True):
        configuration = configurations[column]
        ask = Ask(user, configuration.temperature, configuration.model, system, own_key, configuration.sampling)
        try:
            planned.append((case, column, service.plan(ask, visitor)))
        except InvalidRequestError as problem:
            yield CellResult(case, column, "", None, [], problem.message)
    async with aclosing(service.each_reply([plan for *_, plan in planned], concurrency=concurrency)) as replies:
        async for index, update in replies:
            case, column, plan = planned[index]
            if update is None:
                yield CellResult(case, column, "", None, [], "The request could not be made.")
                continue
            schema = tool_params.response_schema(plan.sampling.values.get("response_format"))
            verdicts = evaluation.judge(update.text, checks, cases[case], schema) if update.info.error is None else []
            yield CellResult(case, column, update.text, update.info, verdicts, update.info.error)


def _prompts(
    template: Template,
    cases: Sequence[Mapping[str, str]],
    configurations: Sequence[Configuration],
    cells: Sequence[tuple[int, int]],
) -> list[tuple[str, str]]:
    """Each cell's system and user message, filled; raises InvalidRequestError naming the first problem."""
    if not cases:
        raise InvalidRequestError("Add a test case first: one row a case.")
    if not 1 <= len(configurations) <= MAX_CONFIGURATIONS:
        raise InvalidRequestError(f"Choose 1 to {MAX_CONFIGURATIONS} configurations.")
    prompts = []
    for case, column in cells:
        where = f"Case {case + 1}"
        system = configurations[column].system
        prompts.append(
            (
                evaluation.fill(template.system if system is None else system, cases[case], where),
                evaluation.fill(template.user, cases[case], where),
            )
        )
    return prompts


def summarize(results: Sequence[CellResult], configurations: int) -> list[Summary]:
    """Each configuration's pass rate, median and p95 latency (whole replies), and tokens."""
    rows = []
    for column in range(configurations):
        mine = [result for result in results if result.configuration == column]
        times = sorted(r.card.total_s for r in mine if r.card is not None and r.card.total_s is not None)
        tokens = sum(r.card.total_tokens or 0 for r in mine if r.card is not None)
        rows.append(
            Summary(
                column, len(mine), sum(r.passed for r in mine), _quantile(times, 0.5), _quantile(times, 0.95), tokens
            )
        )
    return rows


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def as_record(
    result: CellResult, cases: Sequence[Mapping[str, str]], configurations: Sequence[Configuration]
) -> dict[str, Any]:
    """A cell as an export row: its case's values, its configuration, its reply, card and checks."""
    card = result.card
    configuration = configurations[result.configuration]
    return {
        "case": result.case + 1,
        **cases[result.case],
        "configuration": result.configuration + 1,
        "model": configuration.model,
        "temperature": configuration.temperature,
        "reply": result.text,
        "passed": result.passed,
        "checks": "; ".join(f"{v.check}: {'pass' if v.passed else 'fail'}" for v in result.verdicts),
        "error": result.error or "",
        "finish_reason": card.finish_reason if card else None,
        "first_token_s": round(card.first_token_s, 3) if card and card.first_token_s is not None else None,
        "total_s": round(card.total_s, 3) if card and card.total_s is not None else None,
        "total_tokens": card.total_tokens if card else None,
    }


def read_request(
    template: object, cases: object, configurations: object, checks: object
) -> tuple[Template, list[dict[str, str]], list[Configuration], list[Check]]:
    """An API caller's evaluation, checked: ``{"system", "user"}``, cases as objects of texts, configurations as
    ``{"model", "temperature", "parameters"?, "system"?}``, checks as ``{"kind", "value"?}``. Raises
    InvalidRequestError with the first problem."""
    if not isinstance(template, dict) or not all(isinstance(template.get(k, ""), str) for k in ("system", "user")):
        raise InvalidRequestError('template must be {"system": text, "user": text}.')
    if not isinstance(cases, list) or not all(
        isinstance(case, dict) and all(isinstance(v, str) for v in case.values()) for case in cases
    ):
        raise InvalidRequestError("cases must be a list of objects whose values are texts.")
    if len(cases) > evaluation.MAX_CASES:
        raise InvalidRequestError(f"At most {evaluation.MAX_CASES} cases, not {len(cases)}.")
    if not isinstance(configurations, list) or not all(isinstance(c, dict) for c in configurations):
        raise InvalidRequestError('configurations must be a list of {"model", "temperature"} objects.')
    if not isinstance(checks, list) or not all(isinstance(c, dict) and isinstance(c.get("kind"), str) for c in checks):
        raise InvalidRequestError('checks must be a list of {"kind", "value"} objects.')
    columns = [
        Configuration(
            str(c.get("model")),
            c.get("temperature", conversation.DEFAULT_TEMPERATURE),
            dict(c.get("parameters") or {}),
            c.get("system"),
        )
        for c in configurations
    ]
    return (
        Template(template.get("system", ""), template.get("user", "")),
        cases,
        columns,
        [Check(check["kind"], str(check.get("value", ""))) for check in checks],
    )
