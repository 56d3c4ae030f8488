"""Writer's built-in tools in a real browser, as a person uses them: open the Tools panel, pick a tool, fill
its fields (or leave them as the page shows them), send, and read what the tool brought back under the reply.
The stand-in records what reached the wire.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from components.chat import builtin_tools, tool_data
from standin import StandIn
from tests.browser.conftest import SCREENSHOT_DIR, open_app
from tests.browser.test_multi_turn import send, wait_idle
from tests.browser.test_single_turn import RESPONSE, submit
from tests.test_builtin_tools import GRAPH_ID

NOTICE = '#chatbot [data-testid="bot"]:has(.thought-group)'


def pick_tool(page: Page, tab: str, label: str) -> None:
    """Open the tab's Tools panel and pick one of Writer's built-in tools; its entry shows in the list."""
    page.locator("button.label-wrap:visible", has_text="Tools").first.click()
    page.locator(f"#{tab}-builtin").get_by_text(label, exact=True).click()
    kind = next(tool.type for tool in builtin_tools.TOOLS if tool.label == label)
    expect(page.locator(f"#{tab}-tools textarea")).to_have_value(re.compile(f'"type": "{kind}"'))


def sent_tools(page: Page, tab: str) -> list[dict]:
    text = page.locator(f"#{tab}-tools textarea").input_value()
    return json.loads(text) if text.strip() else []


def test_web_search_sources_show_under_the_reply_as_links(page: Page, app_url: str, standin: StandIn) -> None:
    page.set_viewport_size({"width": 1280, "height": 1000})  # the chat and the form, for the README
    open_app(page, app_url, "Multi-turn")
    pick_tool(page, "multi", "Web search")
    domains = page.locator("#multi-web_search-include-domains textarea")
    domains.fill("wikipedia.org\ngithub.com")
    expect(page.locator("#multi-tools textarea")).to_have_value(json.dumps(
        [{"type": "web_search", "function": {"include_domains": ["wikipedia.org", "github.com"],
                                             "exclude_domains": []}}], indent=2))  # fmt: skip
    send(page, "Who wrote Hamlet?")
    (record,) = standin.wait_for_chat(1)
    assert record.body["tools"] == sent_tools(page, "multi")
    wait_idle(page)
    expect(page.locator("#saved-chats")).to_contain_text("Who wrote Hamlet?")  # the reply's last step is done
    sources = page.locator(NOTICE, has_text=tool_data.WEB_SEARCH)
    expect(sources).to_contain_text("2 sources")  # compact: its summary line until opened
    links = sources.locator("a[href^='https://']")
    expect(links).to_have_count(0)
    sources.locator("button").first.click()
    expect(links).to_have_count(2)
    expect(links.last).to_be_in_viewport()
    hrefs = sorted(links.nth(i).get_attribute("href") for i in range(2))
    assert [h.split("/")[2] for h in hrefs] == ["github.com", "wikipedia.org"], hrefs
    page.screenshot(path=str(SCREENSHOT_DIR / "builtin-web-search.png"))  # full_page re-lays the chat out, closed


def test_a_knowledge_graph_needs_a_graph_then_answers_with_citations(
    page: Page, app_url: str, standin: StandIn
) -> None:
    open_app(page, app_url, "Multi-turn")
    pick_tool(page, "multi", "Knowledge Graph")
    graphs = page.locator("#multi-graph-graph-ids")
    expect(graphs).to_contain_text("Product manuals")  # read from GET /v1/graphs when the tool was picked
    # A mistake first: no graph chosen. A clear message, nothing sent, the question kept to send again.
    send(page, "How do I reset the device?")
    expect(page.locator(NOTICE, has_text="Nothing sent")).to_contain_text("choose at least one Knowledge Graph")
    assert standin.chat_requests() == []
    wait_idle(page)
    graphs.get_by_text("Product manuals").click()
    page.locator("#multi-graph-query-config button.label-wrap").click()
    page.locator("#multi-graph-inline-citations input").check()
    expect(page.locator("#multi-tools textarea")).to_have_value(re.compile('"inline_citations": true'))
    send(page, "How do I reset the device?")
    (record,) = standin.wait_for_chat(1)
    assert record.body["tools"] == [{"type": "graph", "function": {
        "graph_ids": [GRAPH_ID], "subqueries": False, "query_config": {"inline_citations": True}}}]  # fmt: skip
    wait_idle(page)
    report = page.locator(NOTICE, has_text=tool_data.GRAPH, has_not_text="Nothing sent")
    report.locator("button").first.click()
    expect(report).to_contain_text("References")
    expect(report).to_contain_text("[1]")
    expect(page.locator('#chatbot [data-testid="bot"]', has_text="[1]").first).to_be_visible()  # the reply cites


def test_an_account_without_graphs_is_told_how_to_make_one(page: Page, app_url: str, standin: StandIn) -> None:
    standin.graphs = ()
    open_app(page, app_url, "Multi-turn")
    pick_tool(page, "multi", "Knowledge Graph")
    expect(page.locator("#multi-graph-graph-ids")).to_contain_text("no Knowledge Graphs yet")
    standin.reset()  # the graphs are back: Refresh lists them
    page.locator("#multi-graphs-refresh").click()
    expect(page.locator("#multi-graph-graph-ids")).to_contain_text("Support tickets")


def test_delegation_in_single_turn_says_which_model_answered(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url)
    pick_tool(page, "single", "Delegation")
    submit(page, "Explain EBITDA")
    (record,) = standin.wait_for_chat(1)
    assert record.body["tools"] == [{"type": "llm", "function": {
        "model": "palmyra-x4", "description": "Answers questions that need a second opinion."}}]  # fmt: skip
    expect(page.locator(RESPONSE)).to_contain_text("Answered by palmyra-x4")
    expect(page.locator("#single-info")).to_contain_text("llm")


def test_translation_says_it_does_not_stream_and_shows_the_reply_whole(
    page: Page, app_url: str, standin: StandIn
) -> None:
    open_app(page, app_url)
    pick_tool(page, "single", "Translation")
    expect(page.locator("#single-builtin-translation").first).to_contain_text("does not stream")
    page.locator("#single-translation-target-language-code textarea").fill("fr")
    expect(page.locator("#single-tools textarea")).to_have_value(re.compile('"target_language_code": "fr"'))
    submit(page, "Good morning")
    (record,) = standin.wait_for_chat(1)
    assert record.body["stream"] is True
    assert record.body["tools"][0]["function"]["target_language_code"] == "fr"
    expect(page.locator(RESPONSE)).to_contain_text("auto → fr")


def test_two_built_in_tools_are_refused_before_sending(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url)
    pick_tool(page, "single", "Web search")
    both = [*sent_tools(page, "single"), {"type": "llm", "function": {"model": "palmyra-x4", "description": "x"}}]
    page.locator("#single-tools textarea").fill(json.dumps(both))
    submit(page, "Hello")
    expect(page.locator("#single-info")).to_contain_text("one built-in tool type per request, not llm and web_search")
    assert standin.chat_requests() == []
    # Picking None takes Writer's tools out of the list, and the next request works.
    page.locator("#single-builtin").get_by_text("None", exact=True).click()
    expect(page.locator("#single-tools textarea")).to_have_value("")
    submit(page, "Hello")
    (record,) = standin.wait_for_chat(1)
    assert "tools" not in record.body


def test_on_a_phone_the_form_fits_the_screen(page: Page, app_url: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_app(page, app_url, "Multi-turn")
    pick_tool(page, "multi", "Knowledge Graph")
    page.locator("#multi-graph-query-config button.label-wrap").click()
    slider = page.locator("#multi-graph-max-snippets")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOT_DIR / "builtin-phone-390.png"), full_page=True)


def test_the_form_follows_a_list_edited_by_hand(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Multi-turn")
    page.locator("button.label-wrap:visible", has_text="Tools").first.click()
    entry = {"type": "translation", "function": {"model": "palmyra-translate", "target_language_code": "de",
             "formality": True, "length_control": False, "mask_profanity": False}}  # fmt: skip
    page.locator("#multi-tools textarea").fill(json.dumps([entry]))
    expect(page.locator("#multi-builtin input[value='Translation']")).to_be_checked()
    expect(page.locator("#multi-translation-target-language-code textarea")).to_have_value("de")
    expect(page.locator("#multi-translation-formality input")).to_be_checked()
    # Then the person changes a field in the form: the list follows, the rest of the entry kept.
    page.locator("#multi-translation-target-language-code textarea").fill("it-IT")
    expect(page.locator("#multi-tools textarea")).to_have_value(re.compile('"target_language_code": "it-IT"'))
    send(page, "Good night")
    (record,) = standin.wait_for_chat(1)
    assert record.body["tools"] == [{**entry, "function": {**entry["function"], "target_language_code": "it-IT"}}]
    wait_idle(page)
