"""The stand-in's built-in tools, Knowledge Graph listing and images (shared/writer-tools.md), read by the real SDK.

Each built-in tool answers whole and streamed: its data object arrives once and intact (in a stream, on the
first chunk; ``chat.stream()`` would concatenate a repeat), the translation as one content chunk; Writer's
400s; ``GET /v1/graphs`` through the SDK's auto-paginating ``graphs.list()``; images that reach the echo.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import writerai
from pydantic import BaseModel
from writerai import Writer

from standin import DEFAULT_GRAPHS, Behaviour, KnowledgeGraph, StandIn
from standin.builtin import VISION_RETIRED
from standin.images import IMAGE_TOKENS
from standin.reply import count_tokens
from standin.tools import ONE_BUILT_IN
from tests.conftest import TEST_KEY

PROMPT = "Who wrote Dune?"
ASK = [{"role": "user", "content": PROMPT}]
PARAMS = "\n\n[model=palmyra-x5 messages=1 temperature=default]"
MANUALS, TICKETS = DEFAULT_GRAPHS
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
FIELDS = ("graph_data", "llm_data", "translation_data", "web_search_data")
NO_GRAPH_DATA = {"sources": None, "status": None, "subqueries": None}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))  # 48 bytes: what arrives is counted, not decoded as an image


def graph_tool(*graph_ids: str, subqueries: bool = False, **query_config: Any) -> dict[str, Any]:
    function: dict[str, Any] = {"graph_ids": list(graph_ids), "subqueries": subqueries}
    if query_config:
        function["query_config"] = query_config
    return {"type": "graph", "function": function}


def translation_tool(**codes: str) -> dict[str, Any]:
    flags = {"formality": False, "length_control": False, "mask_profanity": False}
    return {"type": "translation", "function": {"model": "palmyra-translate", **flags, **codes}}


LLM = {"type": "llm", "function": {"model": "palmyra-x4", "description": "A model for a second opinion"}}


@pytest.fixture
def client(standin: StandIn) -> Iterator[Writer]:
    """A sync SDK client on the stand-in, no retries; closed after the test."""
    with Writer(api_key=TEST_KEY, base_url=standin.url, max_retries=0) as writer:
        yield writer


def dumped(value: Any) -> Any:
    """A data object as plain JSON values, by its wire names (``fileId``), whether the SDK typed it or not."""
    return value.model_dump(by_alias=True) if isinstance(value, BaseModel) else value


def whole(client: Writer, tools: list[dict[str, Any]], **params: Any) -> Any:
    params.setdefault("model", "palmyra-x5")
    return client.chat.chat(messages=params.pop("messages", ASK), tools=tools, **params).choices[0]


def chunks(client: Writer, tools: list[dict[str, Any]], **params: Any) -> list[Any]:
    params.setdefault("model", "palmyra-x5")
    stream = client.chat.chat(messages=params.pop("messages", ASK), tools=tools, stream=True, **params)
    return [chunk for chunk in stream if chunk.choices]


def final_message(client: Writer, tools: list[dict[str, Any]]) -> Any:
    """The message ``chat.stream()`` accumulates from the stream's deltas."""
    with client.chat.stream(model="palmyra-x5", messages=ASK, tools=tools) as stream:
        return stream.get_final_completion().choices[0].message


def data_per_chunk(streamed: list[Any], field: str) -> list[Any]:
    """Each chunk's value of ``field``, as sent; the graph_data every chunk carries counts when not all null."""
    values = [dumped(getattr(chunk.choices[0].delta, field, None)) for chunk in streamed]
    if field == "graph_data":
        values = [None if value is None or not any(value.values()) else value for value in values]
    return values


def assert_data_once(client: Writer, tools: list[dict[str, Any]], field: str, expected: dict[str, Any]) -> str:
    """The data object arrives intact, whole and streamed (once, on the first chunk); the other fields stay null.

    Returns the reply text, the same both ways.
    """
    choice = whole(client, tools)
    assert dumped(getattr(choice.message, field)) == expected
    assert all(getattr(choice.message, other) is None for other in FIELDS if other not in {field, "graph_data"})
    streamed = chunks(client, tools)
    assert data_per_chunk(streamed, field) == [expected] + [None] * (len(streamed) - 1)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in streamed)
    assert text == choice.message.content
    return text


# -- web search ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("function", "urls"),
    [
        pytest.param(
            {},
            [
                "https://en.wikipedia.org/search?q=who-wrote-dune",
                "https://github.com/search?q=who-wrote-dune",
                "https://developer.mozilla.org/search?q=who-wrote-dune",
            ],
            id="default-domains",
        ),
        pytest.param(
            {"exclude_domains": ["wikipedia.org"]},
            [
                "https://github.com/search?q=who-wrote-dune",
                "https://developer.mozilla.org/search?q=who-wrote-dune",
                "https://stackoverflow.com/search?q=who-wrote-dune",
            ],
            id="a-default-excluded",
        ),
        pytest.param(
            {"include_domains": ["wikipedia.org", "github.com"], "exclude_domains": ["github.com"]},
            ["https://wikipedia.org/search?q=who-wrote-dune", "https://wikipedia.org/articles/who-wrote-dune"],
            id="one-included-left",
        ),
        pytest.param(
            {"include_domains": ["dune.fandom.com", "gutenberg.org"], "exclude_domains": []},
            ["https://dune.fandom.com/search?q=who-wrote-dune", "https://gutenberg.org/search?q=who-wrote-dune"],
            id="included",
        ),
    ],
)
def test_web_search_cites_sources_under_the_allowed_domains(
    client: Writer, function: dict[str, Any], urls: list[str]
) -> None:
    tools = [{"type": "web_search", "function": function}]
    expected = {"sources": [{"url": url, "raw_content": None} for url in urls]}
    text = assert_data_once(client, tools, "web_search_data", expected)
    markers = " ".join(f"[{n}]" for n in range(1, len(urls) + 1))
    assert text == f"Echo (web search): {PROMPT} {markers}{PARAMS}"
    # chat.stream() keeps it as an extra attribute and merges it once, not doubled (§3.2).
    assert dumped(final_message(client, tools).web_search_data) == expected


# -- Knowledge Graph ----------------------------------------------------------------------------------------
def snippet(graph: KnowledgeGraph, n: int) -> dict[str, str]:
    return {"file_id": graph.file_ids[n - 1], "snippet": f"{graph.name}, file {n}: a passage about {PROMPT}"}


def test_a_graph_answer_cites_its_snippets_inline_and_answers_subqueries(client: Writer) -> None:
    tools = [graph_tool(MANUALS.id, TICKETS.id, subqueries=True, inline_citations=True, max_snippets=3)]
    sources = [snippet(MANUALS, 1), snippet(MANUALS, 2), snippet(TICKETS, 1)]  # cut at max_snippets
    files = [
        {"text": source["snippet"], "fileId": source["file_id"], "score": score, "page": n, "cite": f"[{n}]"}
        for n, (source, score) in enumerate(zip(sources, (0.9, 0.85, 0.8), strict=True), 1)
    ]
    expected = {
        "sources": sources,
        "status": "finished",
        "subqueries": [
            {
                "query": f"What do the Product manuals say about: {PROMPT}?",
                "answer": f"Echo (Product manuals): {PROMPT}",
                "sources": sources[:2],
            },
            {
                "query": f"What do the Support tickets say about: {PROMPT}?",
                "answer": f"Echo (Support tickets): {PROMPT}",
                "sources": sources[2:],
            },
        ],
        "references": {"files": files, "web": []},
    }
    text = assert_data_once(client, tools, "graph_data", expected)
    assert text == f"Echo (Knowledge Graph Product manuals, Support tickets): {PROMPT} [1] [2] [3]{PARAMS}"
    final = dumped(final_message(client, tools).graph_data)
    # chat.stream() re-dumps its snapshot by field name on every later chunk, and so loses the one aliased key,
    # references.files[].fileId (SDK lib/streaming/chat/_completions.py); everything else is merged once.
    assert [file.pop("fileId") for file in final["references"]["files"]] == [None] * 3
    unaliased = [{key: value for key, value in file.items() if key != "fileId"} for file in files]
    assert final == expected | {"references": {"files": unaliased, "web": []}}


def test_a_graph_answer_without_citations_or_subqueries(client: Writer) -> None:
    choice = whole(client, [graph_tool(TICKETS.id)])
    data = dumped(choice.message.graph_data)
    assert choice.message.content == f"Echo (Knowledge Graph Support tickets): {PROMPT}{PARAMS}"  # no markers
    assert data["sources"] == [snippet(TICKETS, 1), snippet(TICKETS, 2)]
    assert data["subqueries"] == [] and data["status"] == "finished"
    assert [file["cite"] for file in data["references"]["files"]] == [None, None]  # "null if not cited"


def test_a_graph_of_an_account_made_for_the_test(standin: StandIn) -> None:
    mine = KnowledgeGraph(id="0b6d3f4e-8a1c-4d2e-b5f6-7a8b9c0d1e2f", name="Recipes", file_ids=("file-1",))
    with StandIn(graphs=(mine,)) as server, Writer(api_key="any", base_url=server.url, max_retries=0) as client:
        assert [graph.name for graph in client.graphs.list()] == ["Recipes"]
        data = whole(client, [graph_tool(mine.id)]).message.graph_data
        assert [source.file_id for source in data.sources] == ["file-1"]
        with pytest.raises(writerai.BadRequestError, match=MANUALS.id):
            whole(client, [graph_tool(MANUALS.id)])  # the default graphs are not this account's


# -- LLM delegation and translation -------------------------------------------------------------------------
def test_the_llm_tool_delegates_the_prompt_to_the_named_model(client: Writer) -> None:
    expected = {"prompt": PROMPT, "model": "palmyra-x4"}
    text = assert_data_once(client, [LLM], "llm_data", expected)
    assert text == f"Echo (delegated to palmyra-x4): {PROMPT}{PARAMS}"
    assert dumped(final_message(client, [LLM]).llm_data) == expected  # once, not "palmyra-x4palmyra-x4"


@pytest.mark.parametrize(
    ("codes", "source"),
    [({"target_language_code": "it-IT"}, "auto"), ({"source_language_code": "en", "target_language_code": "es"}, "en")],
    ids=["source-detected", "source-given"],
)
def test_a_translation_arrives_as_one_content_chunk(client: Writer, codes: dict[str, str], source: str) -> None:
    tools = [translation_tool(**codes)]
    target = codes["target_language_code"]
    expected = {"source_text": PROMPT, "source_language_code": source, "target_language_code": target}
    text = assert_data_once(client, tools, "translation_data", expected)
    assert text == f"[{target}] {PROMPT}{PARAMS}"
    streamed = chunks(client, tools, stream_options={"include_usage": True})
    assert [chunk.choices[0].delta.content for chunk in streamed] == ["", text]  # it does not stream (SPEC 4323)
    assert streamed[-1].choices[0].finish_reason == "stop"
    assert dumped(final_message(client, tools).translation_data) == expected


# -- built-in beside functions, and a test's own reply ------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_function_call_beside_a_built_in_tool_brings_the_tools_data_too(client: Writer, stream: bool) -> None:
    tools = [WEATHER, LLM]
    if stream:
        streamed = chunks(client, tools)
        assert data_per_chunk(streamed, "llm_data")[0] == {"prompt": PROMPT, "model": "palmyra-x4"}
        names = [c.function.name for chunk in streamed for c in chunk.choices[0].delta.tool_calls or [] if c.id]
        finish = streamed[-1].choices[0].finish_reason
    else:
        choice = whole(client, tools)
        assert dumped(choice.message.llm_data) == {"prompt": PROMPT, "model": "palmyra-x4"}
        names, finish = [call.function.name for call in choice.message.tool_calls], choice.finish_reason
    assert (names, finish) == (["get_weather"], "tool_calls")


def test_a_tests_reply_replaces_the_text_but_the_data_still_comes(standin: StandIn, client: Writer) -> None:
    standin.default = Behaviour(reply="Frank Herbert [1]")
    choice = whole(client, [{"type": "web_search", "function": {}}])
    assert choice.message.content == "Frank Herbert [1]"
    assert len(choice.message.web_search_data.sources) == 3


# -- what Writer rejects ------------------------------------------------------------------------------------
DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()


def with_image(url: str) -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "content": [{"type": "text", "text": PROMPT}, {"type": "image_url", "image_url": {"url": url}}],
        }
    ]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        pytest.param(
            {"tools": [graph_tool("00000000-0000-4000-8000-000000000000")]},
            "Knowledge Graph 00000000-0000-4000-8000-000000000000 was not found",
            id="unknown-graph",
        ),
        pytest.param({"tools": [graph_tool()]}, "graph_ids must be a non-empty list", id="no-graph-ids"),
        pytest.param(
            {"tools": [graph_tool(MANUALS.id, max_snippets=61)]},
            "query_config.max_snippets must be an integer from 1 to 60",
            id="max-snippets",
        ),
        pytest.param(
            {"tools": [graph_tool(MANUALS.id, grounding_level=1.5)]},
            "query_config.grounding_level must be a number from 0 to 1",
            id="grounding-level",
        ),
        pytest.param(
            {"tools": [{"type": "graph", "function": {"graph_ids": [MANUALS.id]}}]},
            "subqueries must be true or false",
            id="no-subqueries",
        ),
        pytest.param(
            {"tools": [translation_tool(source_language_code="gg", target_language_code="es")]},
            "source_language_code 'gg' is not a supported language code",
            id="gg-language",
        ),
        pytest.param(
            {"tools": [{"type": "llm", "function": {"model": "palmyra-fin", "description": "finance"}}]},
            "llm model 'palmyra-fin' is not an available chat model",
            id="llm-retired-model",
        ),
        pytest.param(
            {"tools": [{"type": "llm", "function": {"model": "palmyra-x4"}}]}, "description", id="llm-no-desc"
        ),
        pytest.param(
            {"tools": [{"type": "vision", "function": {"model": "palmyra-vision", "variables": []}}]},
            VISION_RETIRED,
            id="vision",
        ),
        pytest.param({"tools": [LLM, graph_tool(MANUALS.id)]}, ONE_BUILT_IN, id="two-built-ins"),
        pytest.param(
            {"model": "palmyra-x4", "messages": with_image(DATA_URL)},
            "image_url content is only supported by palmyra-x5, not palmyra-x4",
            id="image-to-x4",
        ),
        pytest.param({"messages": with_image("data:image/png;base64,%%%")}, "image_url.url must be", id="bad-base64"),
        pytest.param({"messages": with_image("data:text/plain;base64,aGk=")}, "image_url.url must be", id="not-image"),
        pytest.param({"messages": with_image("ftp://example.com/a.png")}, "image_url.url must be", id="ftp-url"),
    ],
)
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_what_writer_rejects_is_a_400_before_any_stream(
    standin: StandIn, client: Writer, params: dict[str, Any], says: str, stream: bool
) -> None:
    params = {"model": "palmyra-x5", "messages": ASK} | params
    with pytest.raises(writerai.BadRequestError) as refused:
        client.chat.chat(**params, stream=stream)
    assert says in refused.value.body["errors"][0]["description"]
    assert refused.value.body["errors"][0]["key"] == "fail.badRequest.invalidParameters"
    assert standin.chat_requests()[0].chunks_sent == 0


# -- GET /v1/graphs -----------------------------------------------------------------------------------------
def test_the_sdk_lists_the_default_graphs(standin: StandIn, client: Writer) -> None:
    graphs = list(client.graphs.list())
    assert [(graph.id, graph.name, graph.type) for graph in graphs] == [
        ("6f0c2b9e-1d4a-4a51-8f57-0b1f0d1e2a01", "Product manuals", "manual"),
        ("6f0c2b9e-1d4a-4a51-8f57-0b1f0d1e2a02", "Support tickets", "manual"),
    ]  # newest first: the default order is desc
    status = graphs[0].file_status
    assert (status.in_progress, status.completed, status.failed, status.total) == (0, 2, 0, 2)
    assert graphs[0].created_at.isoformat() == "2026-02-03T14:05:00+00:00"
    assert [graph.name for graph in client.graphs.list(order="asc")] == ["Support tickets", "Product manuals"]
    assert [r.query for r in standin.requests if r.path == "/v1/graphs"] == ["", "order=asc"]


def test_the_sdk_pages_through_the_graphs_one_at_a_time(standin: StandIn, client: Writer) -> None:
    page = client.graphs.list(limit=1)
    assert [graph.name for graph in page.data] == ["Product manuals"] and page.has_more
    assert [graph.name for graph in page] == ["Product manuals", "Support tickets"]  # auto-pagination
    queries = [r.query for r in standin.requests if r.path == "/v1/graphs"]
    assert queries == ["limit=1", f"limit=1&after={MANUALS.id}"]
    assert not client.graphs.list(limit=1, after=MANUALS.id).has_more


def test_an_account_without_graphs_lists_none_and_a_bad_limit_is_a_400(standin: StandIn, client: Writer) -> None:
    standin.graphs = ()
    page = client.graphs.list()
    assert (page.data, page.has_more, list(page)) == ([], False, [])
    with pytest.raises(writerai.BadRequestError, match="Knowledge Graph"):
        whole(client, [graph_tool(MANUALS.id)])
    with pytest.raises(writerai.BadRequestError, match="limit must be an integer from 1 to 100"):
        client.graphs.list(limit=101)
    standin.reset()
    assert standin.graphs == DEFAULT_GRAPHS


# -- images -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_images_reach_the_echo_and_count_in_the_usage(standin: StandIn, client: Writer, stream: bool) -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in these?"},
                {"type": "image_url", "image_url": {"url": DATA_URL}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
            ],
        }
    ]
    params = {"model": "palmyra-x5", "messages": messages}
    if stream:
        streamed = list(client.chat.chat(**params, stream=True, stream_options={"include_usage": True}))
        text = "".join(chunk.choices[0].delta.content or "" for chunk in streamed if chunk.choices)
        usage = streamed[-1].usage
    else:
        response = client.chat.chat(**params)
        text, usage = response.choices[0].message.content, response.usage
    assert text == (
        "Echo: What is in these?\n[images: 2 image/png 48 bytes; https://example.com/cat.jpg]"
        "\n\n[model=palmyra-x5 messages=1 temperature=default]"
    )
    assert usage.prompt_tokens == count_tokens("What is in these?") + 2 * IMAGE_TOKENS
    sent = standin.chat_requests()[0].body["messages"][0]["content"][1]["image_url"]["url"]
    assert base64.b64decode(sent.split(",", 1)[1]) == PNG
