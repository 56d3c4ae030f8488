"""Writer's built-in tools (shared/writer-tools.md §1.1, §2.2, §3.3): what they reject and what they answer.

The model runs a built-in tool on the server side: the reply is the tool's answer in ``content`` plus one
data object (``web_search_data``, ``graph_data``, ``llm_data`` or ``translation_data``) on the message, or
once in a stream's first delta (:mod:`standin.wire`). ``tools.validate`` already allows one built-in type a
request; this module checks each type's ``function`` (SPEC 3891-4029, 4338-4390, 4689-4706) and builds the
answer: deterministic, echoing the prompt, so tests can assert on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from standin.graphs import KnowledgeGraph
from standin.reply import last_prompt
from standin.tools import BUILT_IN_TYPES

TRANSLATE_MODEL = "palmyra-translate"  # the translation tool's only model (SPEC 4349 enum)
# "The following models are deprecated and will be removed on July 13, 2026: ... palmyra-vision" (§5).
VISION_RETIRED = (
    "The vision tool's model palmyra-vision was retired on 2026-07-13: send images in the messages "
    "(image_url content fragments) to palmyra-x5 instead"
)
_DEFAULT_DOMAINS = ("en.wikipedia.org", "github.com", "developer.mozilla.org", "stackoverflow.com")
_MAX_SOURCES = 3
# graph_query_config (SPEC 3917-4001): key -> (integer only, minimum, maximum).
_QUERY_RANGES: dict[str, tuple[bool, float, float]] = {
    "max_subquestions": (True, 1, 10),
    "search_weight": (True, 0, 100),
    "grounding_level": (False, 0, 1),
    "max_snippets": (True, 1, 60),
    "max_tokens": (True, 100, 8000),
    "keyword_threshold": (False, 0, 1),
    "semantic_threshold": (False, 0, 1),
}
_QUERY_DEFAULTS = {"max_subquestions": 6, "max_snippets": 30}  # the SPEC defaults the answer depends on
_TRANSLATION_FLAGS = ("formality", "length_control", "mask_profanity")  # required booleans (SPEC 4343-4347)
# ISO-639-1 (SPEC 4352: "The ISO-639-1 language code"), optionally with an ISO-3166 region: "es", "it-IT".
_ISO_639_1 = (
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz "
    "ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io "
    "is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr "
    "ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si "
    "sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh "
    "yi yo za zh zu"
)
_LANGUAGES = frozenset(_ISO_639_1.split())
_LANGUAGE_CODE = re.compile(r"([a-z]{2})(?:-[A-Za-z]{2})?")


@dataclass(frozen=True)
class BuiltInAnswer:
    """What a built-in tool gives the reply: its text and the one data object that comes with it."""

    lead: str  # the reply's first paragraph, in place of "Echo: <prompt>"
    field: str  # the message/delta field that carries ``data``: graph_data, llm_data, ...
    data: dict[str, Any]
    streams: bool = True  # False: a stream sends the whole text in one chunk (translation, SPEC 4323)


def built_in_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    """The request's (first) built-in tool, or None."""
    tools = body.get("tools") if isinstance(body.get("tools"), list) else []
    return next((tool for tool in tools if isinstance(tool, dict) and tool.get("type") in BUILT_IN_TYPES), None)


def validate(
    body: dict[str, Any], models: tuple[tuple[str, str], ...], graphs: tuple[KnowledgeGraph, ...]
) -> str | None:
    """What Writer would reject in the built-in tools' ``function``s, or None. The texts are invented (§4)."""
    for tool in body.get("tools") or []:
        function = tool["function"]  # tools.validate made sure it is an object
        kind = tool["type"]
        if kind == "vision":
            return VISION_RETIRED
        if kind == "web_search":
            problem = _web_search_problem(function)
        elif kind == "graph":
            problem = _graph_problem(function, graphs)
        elif kind == "llm":
            problem = _llm_problem(function, models)
        elif kind == "translation":
            problem = _translation_problem(function)
        else:
            problem = None
        if problem:
            return problem
    return None


def _web_search_problem(function: dict[str, Any]) -> str | None:
    # SPEC marks both lists required, but live requests without them work (§1.1): both are optional here.
    for name in ("include_domains", "exclude_domains"):
        value = function.get(name, [])
        if not isinstance(value, list) or not all(isinstance(domain, str) and domain for domain in value):
            return f"web_search {name} must be a list of domains"
    return None


def _graph_problem(function: dict[str, Any], graphs: tuple[KnowledgeGraph, ...]) -> str | None:
    graph_ids = function.get("graph_ids")
    if not isinstance(graph_ids, list) or not graph_ids or not all(isinstance(i, str) for i in graph_ids):
        return "graph graph_ids must be a non-empty list of Knowledge Graph ids"
    known = {graph.id for graph in graphs}
    for graph_id in graph_ids:
        if graph_id not in known:
            return f"Knowledge Graph {graph_id} was not found in this account"
    if not isinstance(function.get("subqueries"), bool):  # required (SPEC 3895; SDK ``Required[bool]``)
        return "graph subqueries must be true or false"
    if "description" in function and not isinstance(function["description"], str):
        return "graph description must be a string"
    config = function.get("query_config", {})
    if not isinstance(config, dict):
        return "graph query_config must be an object"
    for name, (integer, low, high) in _QUERY_RANGES.items():
        if name not in config:
            continue
        value = config[name]
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
            kind = "an integer" if integer else "a number"
            return f"graph query_config.{name} must be {kind} from {low:g} to {high:g}"
    if not isinstance(config.get("inline_citations", False), bool):
        return "graph query_config.inline_citations must be true or false"
    return None


def _llm_problem(function: dict[str, Any], models: tuple[tuple[str, str], ...]) -> str | None:
    if function.get("model") not in {model_id for model_id, _ in models}:
        return f"llm model {function.get('model')!r} is not an available chat model"
    if not isinstance(function.get("description"), str) or not function["description"]:
        return "llm description is required"  # required (SPEC 4021; DOC-model-delegation)
    return None


def _translation_problem(function: dict[str, Any]) -> str | None:
    if function.get("model") != TRANSLATE_MODEL:
        return f"translation model must be {TRANSLATE_MODEL}"
    for flag in _TRANSLATION_FLAGS:
        if not isinstance(function.get(flag), bool):
            return f"translation {flag} must be true or false"
    # Both codes are optional (SPEC 4350-4370); "gg" is refused live, streaming or not (§4).
    for name in ("source_language_code", "target_language_code"):
        code = function.get(name)
        if code is not None and not _is_language(code):
            return f"translation {name} {code!r} is not a supported language code"
    return None


def _is_language(code: Any) -> bool:
    found = _LANGUAGE_CODE.fullmatch(code) if isinstance(code, str) else None
    return bool(found) and found.group(1) in _LANGUAGES


def answer(body: dict[str, Any], graphs: tuple[KnowledgeGraph, ...]) -> BuiltInAnswer | None:
    """The answer of the request's built-in tool, or None without one. ``validate`` has passed."""
    tool = built_in_tool(body)
    if tool is None:
        return None
    function, prompt = tool["function"], last_prompt(body)
    if tool["type"] == "web_search":
        return _web_search(function, prompt)
    if tool["type"] == "graph":
        return _graph(function, prompt, graphs)
    if tool["type"] == "llm":
        lead = f"Echo (delegated to {function['model']}): {prompt}"
        return BuiltInAnswer(lead, "llm_data", {"prompt": prompt, "model": function["model"]})
    if tool["type"] == "translation":
        return _translation(function, prompt)
    return None  # vision never gets here: validate refuses it


def _web_search(function: dict[str, Any], prompt: str) -> BuiltInAnswer:
    """2-3 sources: under the included domains when given (one each, a second page from a lone domain),
    else under default ones; never under an excluded domain (live behaviour, §2.2)."""
    excluded = [_domain(d) for d in function.get("exclude_domains") or []]
    included = [_domain(d) for d in function.get("include_domains") or []] or list(_DEFAULT_DOMAINS)
    allowed = [d for d in dict.fromkeys(included) if not any(d == x or d.endswith(f".{x}") for x in excluded)]
    slug = _slug(prompt)
    urls = [f"https://{domain}/search?q={slug}" for domain in allowed][:_MAX_SOURCES]
    if len(allowed) == 1:
        urls.append(f"https://{allowed[0]}/articles/{slug}")
    sources = [{"url": url, "raw_content": None} for url in urls]  # raw_content only "if requested" (§2.2)
    lead = _cited(f"Echo (web search): {prompt}", len(sources))
    return BuiltInAnswer(lead, "web_search_data", {"sources": sources})


def _graph(function: dict[str, Any], prompt: str, graphs: tuple[KnowledgeGraph, ...]) -> BuiltInAnswer:
    """Snippets from each named graph's files, at most ``max_snippets``; one subquery a graph when asked."""
    by_id = {graph.id: graph for graph in graphs}
    named = [by_id[graph_id] for graph_id in dict.fromkeys(function["graph_ids"])]
    config = _QUERY_DEFAULTS | (function.get("query_config") or {})
    cited = config.get("inline_citations", False)
    found = [
        (graph, {"file_id": file_id, "snippet": f"{graph.name}, file {n}: a passage about {prompt[:60]}"})
        for graph in named
        for n, file_id in enumerate(graph.file_ids, 1)
    ][: config["max_snippets"]]
    sources = [source for _, source in found]
    files = [
        {"text": source["snippet"], "fileId": source["file_id"], "score": round(0.9 - 0.05 * n, 2), "page": n + 1,
         "cite": f"[{n + 1}]" if cited else None}  # "null if not cited" (SPEC references.file.cite)
        for n, source in enumerate(sources)
    ]  # fmt: skip
    subqueries = [
        {"query": f"What do the {graph.name} say about: {prompt}?", "answer": f"Echo ({graph.name}): {prompt}",
         "sources": [source for owner, source in found if owner is graph]}
        for graph in named[: config["max_subquestions"]]
        if function["subqueries"]
    ]  # fmt: skip
    names = ", ".join(graph.name for graph in named)
    lead = f"Echo (Knowledge Graph {names}): {prompt}"
    # ``references.web`` is [] here: the stand-in's graphs hold files only (SPEC asks minItems 1 of a present
    # list; the SDK's ``References`` takes an empty one, and a client iterates it without a None check).
    data = {"sources": sources, "status": "finished", "subqueries": subqueries,
            "references": {"files": files, "web": []}}  # fmt: skip
    return BuiltInAnswer(_cited(lead, len(files)) if cited else lead, "graph_data", data)


def _translation(function: dict[str, Any], prompt: str) -> BuiltInAnswer:
    # Without a target "the LLM uses the content of the chat message" (SPEC 4366): the stand-in assumes English.
    target = function.get("target_language_code") or "en"
    data = {
        "source_text": prompt,
        "source_language_code": function.get("source_language_code") or "auto",  # as seen live (§2.2)
        "target_language_code": target,
    }
    return BuiltInAnswer(f"[{target}] {prompt}", "translation_data", data, streams=False)


def _cited(text: str, count: int) -> str:
    """``text`` with citation markers ``[1] [2]``; on a line of their own after a code fence, which they would open."""
    if not count:
        return text
    markers = " ".join(f"[{n}]" for n in range(1, count + 1))
    return f"{text}\n{markers}" if text.rstrip().endswith("```") else f"{text} {markers}"


def _domain(domain: str) -> str:
    """A domain as given, or a URL's host: ``https://www.github.com/x`` -> ``www.github.com``."""
    return domain.lower().split("://")[-1].split("/")[0]


def _slug(prompt: str) -> str:
    words = re.findall(r"[a-z0-9]+", prompt.lower())
    return "-".join(words)[:60].strip("-") or "query"
