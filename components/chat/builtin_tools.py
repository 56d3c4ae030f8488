"""Writer's built-in tools (web search, Knowledge Graph, delegation, translation): each tool's fields declared
once, with Writer's names (shared/writer-tools.md §1.1), and read the same way from the page's form and from an
API caller's ``tools`` entry.

A built-in tool goes on the wire as one more entry of ``tools``: ``{"type": "web_search", "function": {...}}``.
The declaration gives the checks (before anything is sent), the form's widgets, the entry the form builds and,
read back, the form's values for an entry (an import, an edited list). Knows nothing of Gradio.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.chat.kinds import InvalidRequestError, as_typed, is_number

TEXT, LINES, FLAG, NUMBER, MODEL, GRAPHS, LANGUAGE = "text", "lines", "flag", "number", "model", "graphs", "language"
TRANSLATION_MODEL = "palmyra-translate"  # the translation tool's one model (SPEC 4338-4390)
# Writer retired palmyra-vision, the vision tool's model, on 2026-07-13 (writer-tools.md §5).
VISION_RETIRED = (
    "Writer retired palmyra-vision, the vision tool's model, on 2026-07-13: attach images to a message "
    "in the Multi-turn chat on palmyra-x5 instead."
)
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z]{2,4})?")  # ISO 639 with an optional region, e.g. es, it-IT
_DOMAIN = re.compile(r"(?i)[a-z0-9-]+(\.[a-z0-9-]+)+")
MAX_DOMAINS = 20
MAX_TEXT = 2_000  # a description, a language code: short texts


@dataclass(frozen=True)
class Field:
    """One field of a built-in tool's ``function`` object. ``key`` is its place there, dotted for
    ``query_config``'s settings, which are sent only when they differ from Writer's default."""

    key: str
    label: str
    kind: str
    default: Any = None
    hint: str = ""
    required: bool = False
    low: float = 0.0
    high: float = 1.0
    whole: bool = False

    @property
    def in_query_config(self) -> bool:
        return self.key.startswith("query_config.")

    @property
    def name(self) -> str:
        """The field's own name on the wire (the last part of its key)."""
        return self.key.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class BuiltInTool:
    """One of Writer's built-in tools: its wire type, what the page calls it, the response field of its data."""

    type: str
    label: str
    data_key: str
    note: str
    fields: tuple[Field, ...]
    fixed: tuple[tuple[str, Any], ...] = ()  # function fields with one possible value

    def entry(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The ``tools`` entry for the form's values (by field key), as typed: it is checked when sent."""
        function: dict[str, Any] = dict(self.fixed)
        query_config: dict[str, Any] = {}
        for field in self.fields:
            value = _as_typed(field, values.get(field.key))
            if field.in_query_config:
                if value is not None and value != field.default:
                    query_config[field.name] = value
            elif value is not None:
                function[field.key] = value
        if query_config:
            function["query_config"] = query_config
        return {"type": self.type, "function": function}

    def check(self, function: Mapping[str, Any]) -> None:
        """Raise InvalidRequestError unless an API caller's ``function`` object is one Writer takes."""
        for key, value in self.fixed:
            if function.get(key, value) != value:
                raise InvalidRequestError(f"{self.label}: function.{key} must be {value!r}.")
        config = function.get("query_config", {})
        if not isinstance(config, Mapping):
            raise InvalidRequestError(f"{self.label}: query_config must be an object.")
        for field in self.fields:
            raw = config.get(field.name) if field.in_query_config else function.get(field.key)
            _check_value(self, field, raw)

    def form_values(self, function: Mapping[str, Any]) -> dict[str, Any]:
        """The form's values (by field key) that build ``function``: what an entry shows in the form."""
        config = function.get("query_config") if isinstance(function.get("query_config"), Mapping) else {}
        values = {}
        for field in self.fields:
            value = config.get(field.name) if field.in_query_config else function.get(field.key)
            values[field.key] = field.default if value is None else value
        return values


def _as_typed(field: Field, raw: object) -> Any:
    """A form value as it goes in the entry, unchecked (None: left out): lines split, numbers as numbers."""
    if field.kind == FLAG:
        return bool(raw)
    if field.kind in (LINES, GRAPHS):
        items = raw.splitlines() if isinstance(raw, str) else raw if isinstance(raw, list) else []
        return [str(item).strip() for item in items if str(item).strip()]
    if field.kind == NUMBER:
        return (int(raw) if field.whole and float(raw).is_integer() else raw) if is_number(raw) else None
    text = str(raw).strip() if raw is not None else ""
    return text or None


def _check_value(tool: BuiltInTool, field: Field, raw: object) -> None:
    """Raise InvalidRequestError unless an API caller's (or the form's) value of ``field`` is one Writer takes."""
    where = f"{tool.label}: {field.label}"
    if raw is None or raw == "":
        if field.required:
            what = (
                "choose at least one Knowledge Graph to search" if field.kind == GRAPHS else f"{field.label} is needed"
            )
            raise InvalidRequestError(f"{tool.label}: {what}.")
        return
    if field.kind == FLAG and not isinstance(raw, bool):
        raise InvalidRequestError(f"{where} must be true or false.")
    if field.kind in (LINES, GRAPHS):
        _check_items(tool, field, raw)
    elif field.kind == NUMBER:
        value = float(raw) if is_number(raw) else None
        if value is None or not field.low <= value <= field.high or (field.whole and not value.is_integer()):
            kind = "a whole number" if field.whole else "a number"
            raise InvalidRequestError(f"{where} must be {kind} from {field.low:g} to {field.high:g}, not {raw!r}.")
    elif field.kind in (TEXT, MODEL, LANGUAGE):
        if not isinstance(raw, str) or len(raw) > MAX_TEXT:
            raise InvalidRequestError(f"{where} must be text of at most {MAX_TEXT:,} characters.")
        if field.kind == LANGUAGE and not _LANGUAGE.fullmatch(raw):
            raise InvalidRequestError(f"{where} must be a language code such as es or it-IT, not {as_typed(raw)}.")


def _check_items(tool: BuiltInTool, field: Field, raw: object) -> None:
    where = f"{tool.label}: {field.label}"
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise InvalidRequestError(f"{where} must be a list of texts.")
    if field.required and not raw:
        raise InvalidRequestError(f"{tool.label}: choose at least one Knowledge Graph to search.")
    if field.kind == LINES:
        _check_domains(where, raw)


def _check_domains(where: str, domains: list[str]) -> None:
    if len(domains) > MAX_DOMAINS:
        raise InvalidRequestError(f"{where}: at most {MAX_DOMAINS} domains.")
    for domain in domains:
        if not _DOMAIN.fullmatch(domain):
            raise InvalidRequestError(f"{where}: {as_typed(domain)} is not a domain such as wikipedia.org.")


TOOLS: tuple[BuiltInTool, ...] = (
    BuiltInTool(
        "web_search",
        "Web search",
        "web_search_data",
        "The model searches the web and answers with its sources, listed under the reply.",
        (
            Field("include_domains", "Only these domains", LINES, [], "One per line, e.g. wikipedia.org. Empty: any"),
            Field("exclude_domains", "Never these domains", LINES, [], "One per line"),
        ),
    ),
    BuiltInTool(
        "graph",
        "Knowledge Graph",
        "graph_data",
        "The model answers from your Knowledge Graphs, with the snippets it used under the reply.",
        (
            Field("graph_ids", "Graphs", GRAPHS, [], "The account's Knowledge Graphs to search", required=True),
            Field("subqueries", "Subqueries", FLAG, False, "Split the question and show each part's answer"),
            Field("description", "Description", TEXT, "", "When the model should use these graphs"),
            Field("query_config.inline_citations", "Inline citations", FLAG, False, "Mark the reply with [1], [2]…"),
            Field("query_config.max_subquestions", "Max subquestions", NUMBER, 6, "", low=1, high=10, whole=True),
            Field(
                "query_config.search_weight",
                "Search weight",
                NUMBER,
                50,
                "0 keyword · 100 semantic",
                high=100,
                whole=True,
            ),
            Field("query_config.grounding_level", "Grounding level", NUMBER, 0.0, "0 creative · 1 strict"),
            Field("query_config.max_snippets", "Max snippets", NUMBER, 30, "", low=1, high=60, whole=True),
            Field("query_config.max_tokens", "Max tokens", NUMBER, 4000, "", low=100, high=8000, whole=True),
            Field("query_config.keyword_threshold", "Keyword threshold", NUMBER, 0.7, ""),
            Field("query_config.semantic_threshold", "Semantic threshold", NUMBER, 0.7, ""),
        ),
    ),
    BuiltInTool(
        "llm",
        "Delegation",
        "llm_data",
        "The model may hand the question to another Palmyra model; the reply says which one answered.",
        (
            Field("model", "Model", MODEL, "palmyra-x4", "The model the question is handed to", required=True),
            Field(
                "description",
                "When to use it",
                TEXT,
                "Answers questions that need a second opinion.",
                "Tells the model when to hand a question over",
                required=True,
            ),
        ),
    ),
    BuiltInTool(
        "translation",
        "Translation",
        "translation_data",
        "Writer's translation tool does not stream: the reply comes whole, even with streaming on.",
        (
            Field("source_language_code", "From", LANGUAGE, "", "A language code, e.g. en. Empty: detected"),
            Field("target_language_code", "To", LANGUAGE, "es", "A language code, e.g. es or it-IT", required=True),
            Field("formality", "Formal", FLAG, False, "A formal register"),
            Field("length_control", "Length control", FLAG, False, "Keep the translation about as long"),
            Field("mask_profanity", "Mask profanity", FLAG, False, "Mask profane words"),
        ),
        fixed=(("model", TRANSLATION_MODEL),),
    ),
)
BY_TYPE: dict[str, BuiltInTool] = {tool.type: tool for tool in TOOLS}
DATA_KEYS: tuple[str, ...] = tuple(tool.data_key for tool in TOOLS)


def check_entry(kind: str, function: Mapping[str, Any]) -> None:
    """Raise InvalidRequestError unless a built-in ``tools`` entry is one Writer takes (and still offers)."""
    if kind == "vision":
        raise InvalidRequestError(VISION_RETIRED)
    BY_TYPE[kind].check(function)


def built_in_entry(tools: Sequence[Mapping[str, Any]] | None) -> Mapping[str, Any] | None:
    """The built-in tool among ``tools`` (Writer takes one), or None."""
    return next((tool for tool in tools or () if tool.get("type") in BY_TYPE), None)
