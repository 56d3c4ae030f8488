"""Evaluate: a prompt template with ``{{variables}}``, test cases that fill it, and the checks a reply must pass.

The template filler makes one pass: a value that itself holds ``{{...}}`` is sent as written, never filled
again. Cases come from a table or a CSV file (UTF-8, a header row of variable names, an optional ``expected``
column); a file that does not fit is refused with the line that does not. Knows nothing of Gradio.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.chat import structured
from components.chat.kinds import InvalidRequestError

VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
EXPECTED = "expected"  # the optional column a case's expected reply is in
MAX_CASES = 200
MAX_CSV_BYTES = 1_000_000


def variables(*templates: str) -> list[str]:
    """The variables the templates use, in the order they first appear."""
    return list(dict.fromkeys(name for template in templates for name in VARIABLE.findall(template or "")))


def fill(template: str, values: Mapping[str, str], where: str = "This case") -> str:
    """The template with each ``{{name}}`` replaced by its value, in one pass; raises InvalidRequestError
    naming the first variable the case has no value for."""
    missing = [name for name in variables(template) if name not in values]
    if missing:
        raise InvalidRequestError(f"{where} has no value for {{{{{missing[0]}}}}}: fill its {missing[0]} cell.")
    return VARIABLE.sub(lambda match: str(values[match.group(1)]), template)


def read_csv(raw: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """The columns and rows of a CSV file of cases; raises InvalidRequestError with the line at fault."""
    if len(raw) > MAX_CSV_BYTES:
        raise InvalidRequestError(f"The file is {len(raw):,} bytes; the limit is {MAX_CSV_BYTES:,}.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise InvalidRequestError(f"The file is not UTF-8 text (byte {problem.start:,}).") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise InvalidRequestError("Line 1 must name the columns: one variable a column, and optionally expected.")
        columns = [cell.strip() for cell in header]
        bad = next((c for c in columns if c != EXPECTED and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", c)), None)
        if bad is not None or len(set(columns)) != len(columns):
            what = f"{bad!r} is not a variable name" if bad is not None else "a column is named twice"
            raise InvalidRequestError(f"Line 1: {what}.")
        rows = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            if len(row) != len(columns):
                msg = f"Line {reader.line_num} has {len(row)} values; line 1 names {len(columns)} columns."
                raise InvalidRequestError(msg)
            rows.append(dict(zip(columns, row, strict=True)))
    except csv.Error as problem:
        raise InvalidRequestError(f"Line {reader.line_num} is not valid CSV: {problem}.") from None
    if len(rows) > MAX_CASES:
        raise InvalidRequestError(f"The file holds {len(rows)} cases; the limit is {MAX_CASES}.")
    return columns, rows


def write_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows as CSV text, a header row of ``columns`` first."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)  # RFC 4180's \r\n: a value holding \r or \n is then quoted, and read back whole
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(column) is None else str(row.get(column)) for column in columns])
    return out.getvalue()


CHECK_KINDS = ("contains", "does not contain", "matches", "equals expected", "is valid JSON", "matches the schema")


@dataclass(frozen=True)
class Check:
    """One check of a reply: its kind and, for contains/does not contain/matches, its text or pattern."""

    kind: str
    value: str = ""

    def __post_init__(self) -> None:
        if self.kind not in CHECK_KINDS:
            raise InvalidRequestError(f"{self.kind!r} is not a check: use one of {', '.join(CHECK_KINDS)}.")
        if self.kind == "matches":
            try:
                re.compile(self.value)
            except re.error as problem:
                raise InvalidRequestError(
                    f"The pattern {self.value!r} is not a regular expression: {problem}."
                ) from None

    @property
    def name(self) -> str:
        return f"{self.kind} {self.value!r}" if self.kind in CHECK_KINDS[:3] else self.kind


@dataclass(frozen=True)
class Verdict:
    check: str
    passed: bool
    detail: str = ""


def judge(
    reply: str, checks: Sequence[Check], case: Mapping[str, str], schema: Mapping[str, Any] | None
) -> list[Verdict]:
    """Each check's verdict on a reply (its case gives ``expected``; ``schema``, a structured reply's)."""
    return [_verdict(check, reply, case, schema) for check in checks]


def _verdict(check: Check, reply: str, case: Mapping[str, str], schema: Mapping[str, Any] | None) -> Verdict:
    kind = check.kind
    if kind == "contains":
        return Verdict(check.name, check.value in reply)
    if kind == "does not contain":
        return Verdict(check.name, check.value not in reply)
    if kind == "matches":
        return Verdict(check.name, re.search(check.value, reply) is not None)
    if kind == "equals expected":
        expected = case.get(EXPECTED)
        if expected is None:
            return Verdict(check.name, False, "this case has no expected value")
        return Verdict(check.name, reply.strip() == expected.strip())
    verdict = structured.check_reply(reply, dict(schema or {}))  # the chat's own check: one home for it
    if kind == "is valid JSON":
        return Verdict(check.name, verdict.pretty is not None, "" if verdict.pretty is not None else verdict.line)
    if schema is None:
        return Verdict(check.name, False, "no response schema is set")
    return Verdict(check.name, verdict.matches, "" if verdict.matches else verdict.line)
