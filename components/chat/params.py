"""The optional request parameters, each declared once: its wire name, bounds, default and description.

Everything else reads this declaration (the shape of simonw/llm's ``Options``): the checks,
the request's keyword arguments (``Sampling.to_request``), the widgets and their hints, the
API's parameter names, run cards, exports and imports. Adding a parameter is one entry in
``SAMPLING``, plus a widget kind in the UI if it needs a new one.

A parameter left empty is not set: it never reaches the wire, and Writer's default applies.
Knows nothing of Gradio.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
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
            msg = f"{self.name} must be {self.range_text}, or left empty; not {_shown(raw)}."
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


# Palmyra X5's published limits (shared/writer-api.md: BEDROCK, WF).
MAX_OUTPUT_TOKENS = 8192
MAX_STOP_SEQUENCES = 4
MAX_STOP_CHARS = 200  # a stop sequence is a short marker, not a document

# The optional sampling parameters, in the order the page shows them and the API takes them.
SAMPLING: tuple[Param, ...] = (
    Number(
        "top_p",
        "top_p",
        "Nucleus sampling, above 0 and at most 1. Empty: the API's default",
        placeholder="API default",
        low=0.0,
        high=1.0,
        low_open=True,
    ),
    Number(
        "max_tokens",
        "max_tokens",
        f"Longest reply, 1 to {MAX_OUTPUT_TOKENS:,} tokens. Empty: the model's default",
        placeholder="model default",
        low=1,
        high=MAX_OUTPUT_TOKENS,
        whole=True,
    ),
    Lines(
        "stop",
        "Stop sequences",
        f"One per line, up to {MAX_STOP_SEQUENCES}: the reply ends before any of them",
        item="stop sequence",
        max_count=MAX_STOP_SEQUENCES,
        max_line_chars=MAX_STOP_CHARS,
    ),
)
NAMES: tuple[str, ...] = tuple(param.name for param in SAMPLING)


@dataclass(frozen=True)
class Sampling:
    """The optional parameters of one request, checked: only the set ones are held."""

    values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, raw: Mapping[str, object]) -> Sampling:
        """Check what a caller sent, by name (missing names are unset); raises InvalidRequestError."""
        values = {param.name: param.read(raw.get(param.name)) for param in SAMPLING}
        return cls({name: value for name, value in values.items() if value is not None})

    @classmethod
    def lenient(cls, raw: Mapping[str, object]) -> Sampling:
        """As ``read``, but a value a request would refuse is left unset (an export of what the page holds)."""
        values: dict[str, Any] = {}
        for param in SAMPLING:
            try:
                value = param.read(raw.get(param.name))
            except InvalidRequestError:
                continue
            if value is not None:
                values[param.name] = value
        return cls(values)

    def to_request(self) -> dict[str, Any]:
        """The set parameters as ``client.chat.chat`` keyword arguments."""
        return {param.name: param.exported(self.values[param.name]) for param in SAMPLING if param.name in self.values}

    def exported(self) -> dict[str, Any]:
        """Every parameter as an export file holds it, unset ones included."""
        return {param.name: param.exported(self.values.get(param.name)) for param in SAMPLING}

    def in_widgets(self) -> list[Any]:
        """Every parameter as its widget holds it, in declaration order."""
        return [param.in_widget(self.values.get(param.name)) for param in SAMPLING]


def sent(request: Mapping[str, Any]) -> list[str]:
    """The optional parameters a request sent, as ``name value`` strings for its run card."""
    return [f"{param.name} {param.shown(request[param.name])}" for param in SAMPLING if param.name in request]


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


def _shown(value: object) -> str:
    """A bad value as the user typed it (text without quotes), bounded so that a huge one stays readable."""
    text = value.strip() if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
