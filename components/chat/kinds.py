"""The kinds of optional request parameter: a number in a range, lines, a flag, a JSON value.

Each reads what a caller sent (the page's text, an API caller's or an import's value) into what
goes on the wire, or None when unset, and raises ``InvalidRequestError`` with a message for the
user otherwise. The parameters themselves are declared in params.py. Knows nothing of Gradio.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, ClassVar


class InvalidRequestError(ValueError):
    """A request that is not sent. ``message`` is for the user."""

    def __init__(self, message: str, *, from_api_only: bool = False) -> None:
        super().__init__(message)
        self.message = message
        # True when the page's widgets cannot produce it (only a direct API call can).
        self.from_api_only = from_api_only


@dataclass(frozen=True)
class Param:
    """One optional parameter. ``read`` takes what a caller sent (the page's text, an API caller's or an
    import's value) and gives the value to send, or None when unset; raises InvalidRequestError."""

    name: str  # on the wire, in the API, in exports
    label: str
    description: str  # the widget's hint: what it does and its range
    placeholder: str = ""
    panel: str = "Parameters"  # the collapsed panel its widget is in
    models: frozenset[str] = frozenset()  # the models Writer documents it for; empty: every model
    max_chars: ClassVar[int] = 32  # the most its text box holds: a number, typed, is never longer

    def read(self, raw: object) -> Any:
        raise NotImplementedError

    def shown(self, value: Any) -> str:
        """A set value as a run card lists it."""
        return json.dumps(value, ensure_ascii=False)

    def in_widget(self, value: Any) -> Any:
        """A value as its widget holds it (an empty box for unset)."""
        return "" if value is None else f"{value:g}"

    def exported(self, value: Any) -> Any:
        """A value as an export file holds it (None for unset)."""
        return value


@dataclass(frozen=True)
class Number(Param):
    """A number in a range; typed as text on the page ("" is unset), sent as a number."""

    low: float = 0.0
    high: float = 1.0
    low_open: bool = False  # True: the low end itself is not allowed
    whole: bool = False

    def read(self, raw: object) -> float | int | None:
        value = _optional_number(raw)
        if value is None:
            return None
        fits = self.low < value <= self.high if self.low_open else self.low <= value <= self.high  # NaN fails both
        if not fits or (self.whole and not value.is_integer()):
            msg = f"{self.name} must be {self.range_text}, or left empty; not {as_typed(raw)}."
            raise InvalidRequestError(msg)
        return int(value) if self.whole else value

    @property
    def range_text(self) -> str:
        if self.whole:
            return f"a whole number from {self.low:,.0f} to {self.high:,.0f}"
        return f"a number {'above' if self.low_open else 'from'} {self.low:g} and at most {self.high:g}"


@dataclass(frozen=True)
class Lines(Param):
    """Short texts, one per line; sent as a list, left out when there are none."""

    item: str = "line"  # what one line is called in messages
    max_count: int = 4
    max_line_chars: int = 200

    @property
    def max_chars(self) -> int:
        return self.max_count * (self.max_line_chars + 1)

    def read(self, raw: object) -> tuple[str, ...] | None:
        if raw is None:
            raw = ""
        if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            raw = "\n".join(raw)  # an export's form
        if not isinstance(raw, str):
            msg = f"{self.label} must be text, one per line."
            raise InvalidRequestError(msg, from_api_only=True)
        # Only line feeds separate them: str.splitlines() would also split at \x1e, \x85, \u2028 and the like.
        items = tuple(line.removesuffix("\r") for line in raw.split("\n") if line.strip())
        if len(items) > self.max_count:
            msg = f"Writer accepts at most {self.max_count} {self.item}s (one per line); {len(items)} were given."
            raise InvalidRequestError(msg)
        if any(len(item) > self.max_line_chars for item in items):
            msg = f"A {self.item} may be at most {self.max_line_chars} characters long."
            raise InvalidRequestError(msg)
        return items or None

    def shown(self, value: Any) -> str:
        return json.dumps(list(value), ensure_ascii=False)

    def in_widget(self, value: Any) -> Any:
        return "\n".join(value or ())

    def exported(self, value: Any) -> Any:
        return list(value or ())


@dataclass(frozen=True)
class Flag(Param):
    """On or off (a checkbox); sent only when on, off being the API's default."""

    def read(self, raw: object) -> bool | None:
        if raw is None or raw is False or raw == "":
            return None
        if raw is True:
            return True
        msg = f"{self.name} must be true or false."
        raise InvalidRequestError(msg, from_api_only=True)

    def in_widget(self, value: Any) -> Any:
        return bool(value)

    def exported(self, value: Any) -> Any:
        return bool(value)


@dataclass(frozen=True)
class Json(Param):
    """A JSON value typed in an editor ("" is unset; an API caller may send the value itself)."""

    max_chars: ClassVar[int] = 20_000  # a few tools' or one schema's definition, with room to spare

    def read(self, raw: object) -> Any:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as error:
                msg = f"{self.label} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
                raise InvalidRequestError(msg) from None
        return self.check(raw)

    def check(self, value: Any) -> Any:
        """The value to send (None for unset), once its shape is right; raises InvalidRequestError."""
        raise NotImplementedError

    def in_widget(self, value: Any) -> Any:
        return "" if value is None else json.dumps(value, indent=2, ensure_ascii=False)


_UNREADABLE = math.nan  # fails every range check, so the message names the bad value


def _optional_number(value: object) -> float | None:
    """A parameter's value: None when left empty, NaN when it is not a number at all."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return _UNREADABLE
    return float(value) if is_number(value) else _UNREADABLE


def as_typed(value: object) -> str:
    """A bad value as the user typed it (text without quotes), bounded so that a huge one stays readable."""
    text = value.strip() if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
