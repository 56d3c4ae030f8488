"""Writer's built-in tools through the chat service: the tool object on the wire, the data that comes back,
and what the chat shows of it. The real SDK talks over HTTP to the stand-in, streamed and not.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest
from gradio_client import Client

from components.chat import builtin_tools, cards, tool_data
from components.chat.params import InvalidRequestError
from components.ui.chat_replies import as_messages, chat_message, reply_markdown
from components.writer.records import ReplyUpdate
from standin import StandIn, builtin
from tests.conftest import SYSTEM, run_async
from tests.test_compare import cells
from tests.test_service import VISITOR, ask, last, service_for
from tests.test_snippets import FLAVOURS, run_snippet

GRAPH_ID = "6f0c2b9e-1d4a-4a51-8f57-0b1f0d1e2a01"  # the stand-in's first demo graph
WEB_SEARCH = {"type": "web_search", "function": {"include_domains": ["wikipedia.org"], "exclude_domains": []}}
GRAPH = {"type": "graph", "function": {"graph_ids": [GRAPH_ID], "subqueries": True,
                                       "query_config": {"inline_citations": True, "max_snippets": 2}}}  # fmt: skip
DELEGATION = {"type": "llm", "function": {"model": "palmyra-x4", "description": "Careful analysis"}}
TRANSLATION = {"type": "translation", "function": {"model": "palmyra-translate", "formality": False,
               "length_control": False, "mask_profanity": False, "target_language_code": "es"}}  # fmt: skip
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def reply_with(standin: StandIn, tool: dict[str, Any], *, stream: bool, prompt: str = "Who wrote Hamlet?") -> Any:
    service = service_for(standin)
    plan = service.plan(ask(prompt, sampling={"tools": json.dumps([tool])}), VISITOR)
    return run_async(last(service.reply(plan, stream=stream)))


def shown_notices(done: ReplyUpdate) -> dict[str, dict[str, Any]]:
    """The chat's notices for a finished reply, by title."""
    return {m["metadata"]["title"]: m for m in as_messages(chat_message(done, 0, 24_000)) if m.get("metadata")}


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_web_search_sends_the_tool_and_shows_its_sources_as_links_under_the_reply(
    standin: StandIn, stream: bool
) -> None:
    done = reply_with(standin, WEB_SEARCH, stream=stream)
    (record,) = standin.chat_requests()
    assert record.body["tools"] == [WEB_SEARCH]
    sources = done.info.tool_data["web_search_data"]["sources"]
    assert sources and all(s["url"].startswith("https://wikipedia.org/") for s in sources)
    assert "Who wrote Hamlet?" in done.text
    notice = shown_notices(done)[tool_data.WEB_SEARCH]
    assert notice["metadata"]["log"] == f"{len(sources)} sources" and notice["metadata"]["status"] == "done"
    for source in sources:
        assert f"]({source['url']})" in notice["content"]  # each a link
    messages = as_messages(chat_message(done, 0, 24_000))
    titles = [(m.get("metadata") or {}).get("title") for m in messages]
    assert titles.index(tool_data.WEB_SEARCH) > titles.index(None)  # under the reply's text
    assert "web_search" in cards.summary(done.info)  # the run card names the tool
    assert f"{tool_data.WEB_SEARCH}: " in cards.format_card(done.info)


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_a_knowledge_graph_answer_shows_its_snippets_subqueries_and_the_citations_that_point_at_them(
    standin: StandIn, stream: bool
) -> None:
    done = reply_with(standin, GRAPH, stream=stream)
    (record,) = standin.chat_requests()
    assert record.body["tools"] == [GRAPH]
    data = done.info.tool_data["graph_data"]
    assert data["status"] == "finished" and 0 < len(data["sources"]) <= 2
    cites = [reference["cite"] for reference in data["references"]["files"]]
    assert cites and all(cite in done.text for cite in cites)  # inline citations in the reply...
    body = shown_notices(done)[tool_data.GRAPH]["content"]
    for reference in data["references"]["files"]:
        assert reference["cite"].replace("[", "\\[").replace("]", "\\]") in body  # ...and beside their reference
    assert data["subqueries"] and data["subqueries"][0]["query"] in body.replace("\\", "")


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_delegation_says_which_model_answered(standin: StandIn, stream: bool) -> None:
    done = reply_with(standin, DELEGATION, stream=stream)
    assert standin.chat_requests()[0].body["tools"] == [DELEGATION]
    assert done.info.tool_data["llm_data"] == {"model": "palmyra-x4", "prompt": "Who wrote Hamlet?"}
    notice = shown_notices(done)[tool_data.DELEGATED]
    assert notice["metadata"]["log"] == "answered by palmyra-x4"


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_translation_comes_whole_even_when_streamed(standin: StandIn, stream: bool) -> None:
    service = service_for(standin)
    plan = service.plan(ask("Good morning, friends", sampling={"tools": json.dumps([TRANSLATION])}), VISITOR)

    async def texts() -> list[str]:
        return [update.text async for update in service.reply(plan, stream=stream) if update.text]

    seen = run_async(texts())
    assert standin.chat_requests()[0].body["tools"] == [TRANSLATION]
    assert len(set(seen)) == 1  # no growing text: the translation arrived in one piece
    done = run_async(last(service_for(standin).reply(plan, stream=stream)))
    assert done.info.tool_data["translation_data"]["target_language_code"] == "es"
    assert "auto → es" in reply_markdown(done)


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        (
            [{"type": "graph", "function": {"graph_ids": [], "subqueries": False}}],
            "choose at least one Knowledge Graph",
        ),
        ([WEB_SEARCH, GRAPH], "one built-in tool type per request, not graph and web_search"),
        ([{"type": "vision", "function": {"model": "palmyra-vision", "variables": []}}], "retired palmyra-vision"),
        (
            [{**TRANSLATION, "function": {**TRANSLATION["function"], "target_language_code": "Spanish"}}],
            "must be a language code such as es",
        ),
        ([{"type": "web_search", "function": {"include_domains": ["not a domain"]}}], "is not a domain"),
        (
            [
                {
                    "type": "graph",
                    "function": {"graph_ids": [GRAPH_ID], "subqueries": False, "query_config": {"max_snippets": 61}},
                }
            ],
            "Max snippets must be a whole",
        ),
        ([{"type": "llm", "function": {"description": "x"}}], "Delegation: Model is needed"),
        (
            [{"type": "translation", "function": {"model": "palmyra-x5", "target_language_code": "es"}}],
            "function.model must be 'palmyra-translate'",
        ),
    ],
    ids=["no-graph", "two-types", "vision", "language", "domain", "query-config", "no-model", "translation-model"],
)
def test_bad_built_in_tools_get_a_clear_message_and_nothing_is_sent(
    standin: StandIn, tools: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message.replace("(", r"\(").replace(".", r"\.")):
        service_for(standin).plan(ask(sampling={"tools": json.dumps(tools)}), VISITOR)
    assert standin.chat_requests() == []


def test_a_built_in_tool_and_functions_go_together(standin: StandIn) -> None:
    service = service_for(standin)
    plan = service.plan(ask(sampling={"tools": json.dumps([WEATHER, WEB_SEARCH])}), VISITOR)
    done = run_async(last(service.reply(plan, stream=True)))
    assert standin.chat_requests()[0].body["tools"] == [WEATHER, WEB_SEARCH]
    assert [call.name for call in done.info.tool_calls] == ["get_weather"]
    assert done.info.tool_data["web_search_data"]["sources"]
    assert json.loads(cards.summary(done.info).split(" · ")[2].removeprefix("tools ")) == ["get_weather", "web_search"]


def test_the_form_builds_writers_entry_and_reads_it_back() -> None:
    graph = builtin_tools.BY_TYPE["graph"]
    values = {"graph_ids": [GRAPH_ID], "subqueries": True, "description": " Manuals ",
              "query_config.max_snippets": 12, "query_config.search_weight": 50}  # fmt: skip
    entry = graph.entry(values)
    # Query settings left at Writer's default are not sent; the rest as Writer names them.
    assert entry == {"type": "graph", "function": {"graph_ids": [GRAPH_ID], "subqueries": True,
                     "description": "Manuals", "query_config": {"max_snippets": 12}}}  # fmt: skip
    back = graph.form_values(entry["function"])
    assert back["query_config.max_snippets"] == 12 and back["query_config.search_weight"] == 50
    assert graph.entry(back) == entry
    web = builtin_tools.BY_TYPE["web_search"].entry({"include_domains": "wikipedia.org\n\n github.com "})
    assert web == {"type": "web_search", "function": {"include_domains": ["wikipedia.org", "github.com"],
                                                      "exclude_domains": []}}  # fmt: skip
    translation = builtin_tools.BY_TYPE["translation"].entry({"target_language_code": "it-IT", "formality": True})
    assert translation["function"] == {"model": "palmyra-translate", "target_language_code": "it-IT",
                                       "formality": True, "length_control": False, "mask_profanity": False}  # fmt: skip


def test_the_account_graphs_are_listed_with_the_visitors_key_and_counted_by_the_rate_limit(standin: StandIn) -> None:
    service = service_for(standin, rate_limit_per_minute=2)
    found = run_async(service.list_graphs("", VISITOR))
    assert (("Product manuals", GRAPH_ID) in found) and len(found) == len(standin.graphs)
    standin.graphs = ()
    standin.api_key = None  # any key: the visitor's own
    assert run_async(service.list_graphs("visitor-key-123", VISITOR)) == []
    listed = [r for r in standin.requests if r.path == "/v1/graphs"]
    assert listed[-1].headers["authorization"] == "Bearer visitor-key-123"
    with pytest.raises(InvalidRequestError, match="allows 2 a minute"):
        run_async(service.list_graphs("", VISITOR))


def test_writers_data_is_shown_as_text_never_as_markup() -> None:
    report = tool_data.report("web_search_data", {"sources": [
        {"url": "javascript:alert(1)"}, {"url": "https://ok.example/a", "title": "<b>[x](y)</b>"}]})  # fmt: skip
    assert report is not None
    assert "](javascript:" not in report.body and "<b>" not in report.body
    assert "[\\<b\\>\\[x\\](y)\\</b\\>](https://ok.example/a)" in report.body
    assert tool_data.report("graph_data", {"sources": None, "status": None, "subqueries": None}) is None


@pytest.mark.parametrize("non_streaming", [False, True], ids=["streamed", "whole"])
def test_a_script_gets_the_tools_data_from_every_tab_by_writers_names(
    app: Client, standin: StandIn, non_streaming: bool
) -> None:
    settings = {"temperature": 1.0, "model": "palmyra-x5", "system": SYSTEM, "non_streaming": non_streaming}
    reply, *_ = app.predict(message="Who wrote Hamlet?", tools=json.dumps([WEB_SEARCH]), **settings, api_name="/chat")
    notice = next(m for m in reply if (m.get("metadata") or {}).get("title") == tool_data.WEB_SEARCH)
    expected = builtin.answer(standin.chat_requests()[-1].body, standin.graphs)  # what the stand-in sent
    assert expected is not None
    urls = [source["url"] for source in expected.data["sources"]]
    assert urls and all(f"]({url})" in notice["content"] for url in urls)
    response, info, *_ = app.predict(prompt="Explain EBITDA", tools=json.dumps([DELEGATION]), **settings,
                                     api_name="/single_turn")  # fmt: skip
    assert "Answered by **palmyra-x4**" in response and "llm" in info
    assert [r.body["tools"] for r in standin.chat_requests()] == [[WEB_SEARCH], [DELEGATION]]
    output = app.predict(prompt="Bonjour", temperatures="0.2, 0.9", model="palmyra-x5", second_model="(none)",
                         system=SYSTEM, tools=json.dumps([TRANSLATION]), api_name="/compare")  # fmt: skip
    shown = cells(output)
    assert len(shown) == 2 and all("auto → es" in cell.reply for cell in shown)  # each cell, its translation
    assert [r.body["tools"] for r in standin.chat_requests()[2:]] == [[TRANSLATION], [TRANSLATION]]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("tool", [GRAPH, TRANSLATION], ids=["graph", "translation"])
def test_copy_as_code_repeats_a_built_in_tool_request(app: Client, standin: StandIn, tool: dict[str, Any]) -> None:
    outputs = app.predict(prompt="Résumé, “quoted”", tools=json.dumps([tool]), temperature=0.5, model="palmyra-x5",
                          system=SYSTEM, non_streaming=False, api_name="/single_turn")  # fmt: skip
    sent = standin.chat_requests()[-1].body
    for flavour, code in zip(FLAVOURS, outputs[3:6], strict=True):
        run_snippet(flavour, code, standin)
        assert standin.chat_requests()[-1].body == sent, flavour  # the tool object too, field by field
