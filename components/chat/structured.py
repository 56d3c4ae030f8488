"""A structured reply checked against the schema it was asked to follow, with jsonschema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jsonschema


@dataclass(frozen=True)
class Verdict:
    """What a finished reply is, against its schema: ``line`` says it in one line, ``pretty`` is its JSON."""

    matches: bool
    line: str
    pretty: str | None  # the reply's JSON, indented; None when it is not JSON


def check_reply(text: str, schema: dict[str, Any]) -> Verdict:
    """Parse the reply and validate it; the first error (the one nearest the top) is named with its path."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        line = f"❌ Not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        return Verdict(False, line, None)
    pretty = json.dumps(value, indent=2, ensure_ascii=False)
    errors = sorted(jsonschema.validators.validator_for(schema)(schema).iter_errors(value), key=_depth)
    if not errors:
        return Verdict(True, "✅ Matches the schema", pretty)
    first = errors[0]
    where = "/".join(str(part) for part in first.absolute_path) or "the top level"
    return Verdict(False, f"❌ Does not match the schema at {where}: {first.message}", pretty)


def _depth(error: jsonschema.ValidationError) -> tuple[int, str]:
    return len(error.absolute_path), str(list(error.absolute_path))
