"""The stand-in's Knowledge Graphs: what ``GET /v1/graphs`` lists and the ``graph`` tool may name.

Writer's ``graphs_response`` (SPEC ``/v1/graphs`` 209, ``graphs_response`` 3185, ``graph`` 3207,
``graph_file_status`` 3107), paginated by cursor as the SDK's ``graphs.list()`` reads it: it asks
for the next page with ``after=<last id>`` while ``has_more`` is true (SDK ``pagination.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

_DEFAULT_LIMIT, _MAX_LIMIT = 50, 100  # SPEC 250-256: "The default value is 50 ... the maximum value is 100"


@dataclass(frozen=True)
class KnowledgeGraph:
    """One Knowledge Graph of the stand-in's account, with the files it holds (each answers with snippets)."""

    id: str  # a UUID, as Writer's are (SPEC: ``format: uuid``)
    name: str
    description: str = ""
    created_at: str = "2026-01-15T09:30:00Z"  # ISO date-time; the listing is ordered by it
    file_ids: tuple[str, ...] = ()

    def wire(self) -> dict[str, Any]:
        """The ``graph`` object of the listing; every file processed, since nothing is ever uploaded here."""
        files = len(self.file_ids)
        return {
            "id": self.id,
            "created_at": self.created_at,
            "name": self.name,
            "description": self.description,
            "file_status": {"in_progress": 0, "completed": files, "failed": 0, "total": files},
            "type": "manual",  # files "uploaded via UI or API": the only type without connector or URL details
        }


# Fixed ids, so that tests and the offline demo can name them in a ``graph`` tool. The first id is the one
# shared/writer-tools.md §1.1 uses in its example. Listed newest first (the default order), as in this tuple.
DEFAULT_GRAPHS: tuple[KnowledgeGraph, ...] = (
    KnowledgeGraph(
        id="6f0c2b9e-1d4a-4a51-8f57-0b1f0d1e2a01",
        name="Product manuals",
        description="User guides and installation manuals of every product",
        created_at="2026-02-03T14:05:00Z",
        file_ids=("3c1e8a52-7d0b-4f6e-9a3d-5b2c1e0f4a11", "3c1e8a52-7d0b-4f6e-9a3d-5b2c1e0f4a12"),
    ),
    KnowledgeGraph(
        id="6f0c2b9e-1d4a-4a51-8f57-0b1f0d1e2a02",
        name="Support tickets",
        description="Resolved customer support tickets",
        created_at="2026-01-15T09:30:00Z",
        file_ids=("3c1e8a52-7d0b-4f6e-9a3d-5b2c1e0f4a21", "3c1e8a52-7d0b-4f6e-9a3d-5b2c1e0f4a22"),
    ),
)


def graphs_page(graphs: tuple[KnowledgeGraph, ...], query_string: str) -> tuple[int, dict[str, Any] | str]:
    """One page of the listing for a request's query string: (200, ``graphs_response``) or (400, the reason).

    An unknown ``after``/``before`` id gives an empty last page: what Writer answers is unconfirmed, and an
    empty page with ``has_more: false`` ends the SDK's auto-pagination cleanly.
    """
    query = {name: values[-1] for name, values in parse_qs(query_string).items()}
    limit_text = query.get("limit", str(_DEFAULT_LIMIT))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= _MAX_LIMIT:
        return 400, f"limit must be an integer from 1 to {_MAX_LIMIT}"
    order = query.get("order", "desc")  # SPEC 226: default desc
    if order not in {"asc", "desc"}:
        return 400, "order must be asc or desc"
    ordered = sorted(graphs, key=lambda graph: (graph.created_at, graph.id), reverse=order == "desc")
    ids = [graph.id for graph in ordered]
    limit = int(limit_text)
    if "after" in query:
        start = ids.index(query["after"]) + 1 if query["after"] in ids else len(ids)
        page, has_more = ordered[start : start + limit], start + limit < len(ids)
    elif "before" in query:
        end = ids.index(query["before"]) if query["before"] in ids else 0
        page, has_more = ordered[max(0, end - limit) : end], end - limit > 0
    else:
        page, has_more = ordered[:limit], limit < len(ids)
    data = [graph.wire() for graph in page]
    first_id, last_id = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return 200, {"data": data, "first_id": first_id, "last_id": last_id, "has_more": has_more}
