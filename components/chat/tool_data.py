"""What a built-in tool brought back, as the person reads it under the reply: web sources as links, a Knowledge
Graph's snippets (with the citation marks that point at them), the model a question was delegated to, the
languages of a translation.

Reads the response's data objects by Writer's names (``web_search_data``, ``graph_data``, ``llm_data``,
``translation_data``; shared/writer-tools.md §2.2) as plain dicts. Knows nothing of Gradio.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Notice titles, in words: the page's fonts here have no glyph for most emoji (🔎 drew as an empty box).
WEB_SEARCH, GRAPH, DELEGATED, TRANSLATION = "Web search", "Knowledge Graph", "↪ Delegated", "Translation"
MAX_SHOWN = 60  # sources listed; Writer's max_snippets is 60 at most
SNIPPET_CHARS = 400


@dataclass(frozen=True)
class ToolReport:
    """A built-in tool's data as the chat shows it: a title, a one-line summary, and the whole as Markdown."""

    title: str
    summary: str
    body: str


def report(data_key: str, data: Mapping[str, Any]) -> ToolReport | None:
    """The report of one data object; None when it holds nothing to show (Writer's all-null ``graph_data``)."""
    shown = {
        "web_search_data": _web_search,
        "graph_data": _graph,
        "llm_data": _llm,
        "translation_data": _translation,
    }.get(data_key)
    return shown(data) if shown else None


def reports(tool_data: Mapping[str, Mapping[str, Any]]) -> list[ToolReport]:
    """Every report a reply's data objects make, in the order they came."""
    return [made for key, data in tool_data.items() if (made := report(key, data)) is not None]


def _web_search(data: Mapping[str, Any]) -> ToolReport | None:
    sources = [s for s in data.get("sources") or () if isinstance(s, Mapping)]
    lines = [f"{number}. {_link(s.get('title'), s.get('url'))}" for number, s in enumerate(sources[:MAX_SHOWN], 1)]
    if not lines:
        return ToolReport(WEB_SEARCH, "no sources", "The search returned no sources.")
    return ToolReport(WEB_SEARCH, _count(len(sources), "source"), "\n".join(lines))


def _graph(data: Mapping[str, Any]) -> ToolReport | None:
    sources = [s for s in data.get("sources") or () if isinstance(s, Mapping)]
    subqueries = [q for q in data.get("subqueries") or () if isinstance(q, Mapping)]
    references = data.get("references") if isinstance(data.get("references"), Mapping) else {}
    cited = [f for f in references.get("files") or () if isinstance(f, Mapping)]
    web = [w for w in references.get("web") or () if isinstance(w, Mapping)]
    if not (sources or subqueries or cited or web):
        return None
    blocks = []
    if cited or web:
        # With inline citations the reply carries marks such as [1]: each reference says which is its own.
        lines = [f"- {_mark(f.get('cite'))}`{_plain(f.get('fileId'))}`{_page(f.get('page'))}: {_quote(f.get('text'))}"
                 for f in cited[:MAX_SHOWN]]  # fmt: skip
        lines += [f"- {_link(w.get('title'), w.get('url'))}: {_quote(w.get('text'))}" for w in web[:MAX_SHOWN]]
        blocks.append("**References**\n\n" + "\n".join(lines))
    if sources:
        lines = [f"{n}. `{_plain(s.get('file_id'))}`: {_quote(s.get('snippet'))}" for n, s in enumerate(sources, 1)]
        blocks.append("**Sources**\n\n" + "\n".join(lines[:MAX_SHOWN]))
    for query in subqueries[:MAX_SHOWN]:
        blocks.append(f"**Subquery:** {_plain(query.get('query'))}\n\n{_quote(query.get('answer'))}")
    summary = [_count(len(sources), "source"), *([_count(len(cited) + len(web), "reference")] if cited or web else []),
               *([_count(len(subqueries), "subquery", "subqueries")] if subqueries else [])]  # fmt: skip
    return ToolReport(GRAPH, " · ".join(summary), "\n\n".join(blocks))


def _llm(data: Mapping[str, Any]) -> ToolReport | None:
    model = _plain(data.get("model")) or "another model"
    prompt = _quote(data.get("prompt"))
    return ToolReport(DELEGATED, f"answered by {model}", f"Answered by **{model}**, asked:\n\n> {prompt}")


def _translation(data: Mapping[str, Any]) -> ToolReport | None:
    source = _plain(data.get("source_language_code")) or "auto"
    target = _plain(data.get("target_language_code")) or "?"
    text = _quote(data.get("source_text"))
    return ToolReport(TRANSLATION, f"{source} → {target}", f"Translated from `{source}` to `{target}`:\n\n> {text}")


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


_MARKDOWN = re.compile(r"([\\`*_\[\]<>|#])")


def _plain(value: object) -> str:
    """Text from Writer's data, shown as text: Markdown's marks escaped, one line."""
    text = " ".join(str(value).split()) if value is not None else ""
    return _MARKDOWN.sub(r"\\\1", text)


def _quote(value: object) -> str:
    text = _plain(value)
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS] + "…"


def _link(title: object, url: object) -> str:
    """A source as a link, titled when it has a title; only http(s) addresses become links."""
    address = str(url or "").strip()
    name = _plain(title) or _plain(address) or "(no address)"
    if urlsplit(address).scheme in ("http", "https") and not any(c in address for c in " ()<>\n"):
        return f"[{name}]({address})"
    return name


def _mark(cite: object) -> str:
    return f"**{_plain(cite)}** " if cite else ""


def _page(page: object) -> str:
    return f", page {page}" if isinstance(page, int) else ""
