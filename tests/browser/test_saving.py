"""Conversations in a real browser: kept across a reload, private to the browser, exported and imported."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from standin import StandIn, reply_text
from tests.browser.conftest import REPLY, SCREENSHOT_DIR, bot_messages, open_app

SAVED = "#saved-chats"


def send(page: Page, standin: StandIn, message: str) -> dict:
    count = len(standin.chat_requests()) + 1
    page.locator("#chat-input textarea").fill(message)
    page.locator("#chat-input textarea").press("Enter")
    record = standin.wait_for_chat(count)[-1]
    expect(page.locator(REPLY).last).to_have_text(reply_text(record.body))
    expect(page.locator("#chat-input .stop-button")).to_have_count(0)
    return record.body


def reopen_and_continue(page: Page, standin: StandIn, first: dict) -> None:
    """Open the chat saved as "remember the cheetah" (``first`` its request) and go on: the next request
    sends it whole."""
    page.locator(SAVED).get_by_text("remember the cheetah").click()
    expect(page.locator(REPLY).last).to_have_text(reply_text(first))
    after = send(page, standin, "and the slowest animal?")
    assert [m["content"] for m in after["messages"][1:]] == [
        "remember the cheetah",
        reply_text(first),
        "and the slowest animal?",
    ]


def test_a_conversation_survives_a_reload_and_continues(page: Page, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Multi-turn")
    first = send(page, standin, "remember the cheetah")
    expect(page.locator(SAVED)).to_contain_text("remember the cheetah")  # saved once the reply was complete
    page.reload()
    open_app(page, app_url, "Multi-turn")
    expect(page.locator(REPLY)).to_have_count(0)  # a fresh chat...
    reopen_and_continue(page, standin, first)  # the old one is in the side panel


def test_another_browser_does_not_see_them(page: Page, browser: Browser, app_url: str, standin: StandIn) -> None:
    open_app(page, app_url, "Multi-turn")
    send(page, standin, "only mine")
    expect(page.locator(SAVED)).to_contain_text("only mine")
    stranger = browser.new_context().new_page()
    try:
        open_app(stranger, app_url, "Multi-turn")
        expect(stranger.locator("#new-chat")).to_be_visible()
        expect(stranger.locator(SAVED)).not_to_contain_text("only mine")
    finally:
        stranger.context.close()


def download(page: Page, selector: str, folder: Path) -> Path:
    with page.expect_download() as event:
        page.locator(selector).click()
    target = folder / f"{len(list(folder.iterdir()))}-{event.value.suggested_filename}"  # two in one second differ
    event.value.save_as(target)
    return target


def test_the_downloads_hold_the_conversation(page: Page, app_url: str, standin: StandIn, tmp_path: Path) -> None:
    open_app(page, app_url, "Multi-turn")
    one = send(page, standin, "What's the fastest bird?")
    two = send(page, standin, "Tell me more")
    page.get_by_text("Save and load").click()
    expect(page.locator("#export-summary")).to_have_text("The downloads hold 2 turns: 2 messages from you, 2 replies.")
    exported = json.loads(download(page, "#export-json", tmp_path).read_text())
    shown = bot_messages(page)
    assert [m["content"] for m in exported["messages"]] == [
        "What's the fastest bird?",
        shown[0],
        "Tell me more",
        shown[1],
    ]
    assert [m["content"] for m in exported["messages"][1::2]] == [reply_text(one), reply_text(two)]
    markdown = download(page, "#export-md", tmp_path).read_text()
    assert f"## User\n\nTell me more\n\n## Assistant\n\n{reply_text(two)}" in markdown


def upload(page: Page, path: Path) -> None:
    with page.expect_file_chooser() as chooser:
        page.locator("#import").click()
    chooser.value.set_files(path)


def test_import_in_the_page_and_a_bad_file_changes_nothing(
    page: Page, app_url: str, standin: StandIn, tmp_path: Path
) -> None:
    open_app(page, app_url, "Multi-turn")
    first = send(page, standin, "an exchange to export")
    page.get_by_text("Save and load").click()
    expect(page.locator("#export-summary")).to_contain_text("1 turn")
    good = download(page, "#export-json", tmp_path)
    page.locator("#new-chat").click()
    expect(page.locator(REPLY)).to_have_count(0)

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "palmyra-chat/1", "messages": "<script>alert(1)</script>"}')
    upload(page, bad)
    expect(page.locator("#save-load-status")).to_contain_text("Nothing imported")
    expect(page.locator(REPLY)).to_have_count(0)

    upload(page, good)
    expect(page.locator("#save-load-status")).to_contain_text("Imported 1 turn: 1 message from you, 1 reply")
    expect(page.locator(REPLY).last).to_have_text(reply_text(first))
    after = send(page, standin, "continue it")
    assert [m["content"] for m in after["messages"][1:]] == ["an exchange to export", reply_text(first), "continue it"]


def test_an_imported_file_with_html_executes_nothing(page: Page, app_url: str, tmp_path: Path) -> None:
    hostile = "<img src=x onerror=\"window.__xss='img'\"> <script>window.__xss='script'</script> **bold**"
    document = {
        "format": "palmyra-chat/1",
        "system": "s",
        "model": "palmyra-x5",
        "messages": [{"role": "user", "content": hostile}, {"role": "assistant", "content": hostile}],
    }
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document))
    open_app(page, app_url, "Multi-turn")
    page.get_by_text("Save and load").click()
    upload(page, path)
    expect(page.locator("#save-load-status")).to_contain_text("Imported 1 turn: 1 message from you, 1 reply")
    expect(page.locator(f"{REPLY} strong")).to_have_text("bold")  # Markdown renders...
    assert page.evaluate("window.__xss") is None  # ...and nothing runs
    assert page.locator("#chatbot [onerror], #chatbot script").count() == 0


ENTRIES = f"{SAVED} tbody tr"  # one row a saved chat


def test_saved_chats_have_a_heading_an_empty_note_and_entries_told_apart(
    page: Page, browser: Browser, app_url: str, standin: StandIn, tmp_path: Path
) -> None:
    newcomer = browser.new_context().new_page()  # nothing saved in this browser yet
    try:
        open_app(newcomer, app_url, "Multi-turn")
        expect(newcomer.locator("#saved-chats-heading")).to_have_text("Saved chats")
        expect(newcomer.locator("#saved-chats-empty")).to_contain_text("kept in this browser only")
        expect(newcomer.locator(ENTRIES)).to_have_count(0)
        send(newcomer, standin, "What's the fastest bird?")
        expect(newcomer.locator(ENTRIES)).to_have_count(1)
        expect(newcomer.locator(ENTRIES)).to_contain_text(
            re.compile(r"^What's the fastest bird\? · 1 turn · \d+ \w+ \d\d:\d\d UTC$")
        )
        expect(newcomer.locator("#saved-chats-empty")).to_be_hidden()

        newcomer.get_by_text("Save and load").click()
        exported = download(newcomer, "#export-json", tmp_path)
        upload(newcomer, exported)  # the same conversation again, as a new saved chat
        expect(newcomer.locator(ENTRIES)).to_have_count(2)
        imported, original = newcomer.locator(ENTRIES).all_inner_texts()
        assert re.fullmatch(r"What's the fastest… · 1 turn · \d+ \w+ \d\d:\d\d UTC · imported", imported)
        assert not original.endswith("imported")

        send(newcomer, standin, "and the slowest?")  # continuing the import saves over it, still marked
        expect(newcomer.locator(ENTRIES).first).to_contain_text("2 turns")
        expect(newcomer.locator(ENTRIES).first).to_contain_text("imported")
        newcomer.reload()
        open_app(newcomer, app_url, "Multi-turn")
        expect(newcomer.locator(ENTRIES)).to_have_count(2)
        expect(newcomer.locator(ENTRIES).first).to_contain_text("2 turns · ")
        expect(newcomer.locator("#saved-chats-empty")).to_be_hidden()
    finally:
        newcomer.context.close()


def test_one_click_downloads_the_conversation_shown_after_new_chat_and_import(
    page: Page, app_url: str, standin: StandIn, tmp_path: Path
) -> None:
    open_app(page, app_url, "Multi-turn")
    page.get_by_text("Save and load").click()
    expect(page.locator("#export-json")).to_be_disabled()  # nothing to download yet
    send(page, standin, "What's the fastest bird?")
    send(page, standin, "Tell me more")
    summary = "The downloads hold 2 turns: 2 messages from you, 2 replies."
    expect(page.locator("#export-summary")).to_have_text(summary)
    first = download(page, "#export-json", tmp_path)
    assert [m["content"] for m in json.loads(first.read_text())["messages"]][::2] == [
        "What's the fastest bird?",
        "Tell me more",
    ]

    page.locator("#new-chat").click()
    expect(page.locator("#export-json")).to_be_disabled()  # not the old conversation's file
    expect(page.locator("#export-md")).to_be_disabled()
    send(page, standin, "a new chat")
    expect(page.locator("#export-summary")).to_have_text("The downloads hold 1 turn: 1 message from you, 1 reply.")
    fresh = json.loads(download(page, "#export-json", tmp_path).read_text())
    assert [m["content"] for m in fresh["messages"]][::2] == ["a new chat"]
    assert "## User\n\na new chat" in download(page, "#export-md", tmp_path).read_text()

    upload(page, first)
    imported = "Imported 2 turns: 2 messages from you, 2 replies."
    expect(page.locator("#save-load-status")).to_contain_text(imported)  # the same count as when exported
    expect(page.locator("#export-summary")).to_have_text(summary)
    again = json.loads(download(page, "#export-json", tmp_path).read_text())
    assert again["messages"] == json.loads(first.read_text())["messages"]

    page.locator(ENTRIES).filter(has_text="a new chat").click()  # back to a saved chat: its file at once
    expect(page.locator(REPLY)).to_have_count(1)
    expect(page.locator("#export-summary")).to_have_text("The downloads hold 1 turn: 1 message from you, 1 reply.")
    picked = json.loads(download(page, "#export-json", tmp_path).read_text())
    assert [m["content"] for m in picked["messages"]][::2] == ["a new chat"]


SCREENS = [("light", 1280, 900), ("light", 390, 844), ("dark", 390, 844)]  # 390 by 844: a phone


@pytest.mark.parametrize(("theme", "width", "height"), SCREENS, ids=[f"{t}-{w}" for t, w, _ in SCREENS])
def test_screenshots_of_saved_chats_and_save_and_load(
    browser: Browser, app_url: str, standin: StandIn, tmp_path: Path, theme: str, width: int, height: int
) -> None:
    """Saved for a person to look at: the empty panel, then a chat and its import side by side."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page = browser.new_context(viewport={"width": width, "height": height}, color_scheme=theme).new_page()
    try:
        open_app(page, f"{app_url}?__theme={theme}", "Multi-turn")
        expect(page.locator("#saved-chats-empty")).to_be_visible()
        page.screenshot(path=SCREENSHOT_DIR / f"saved-chats-empty-{theme}-{width}.png", full_page=True)
        send(page, standin, "What's the fastest bird?")
        page.get_by_text("Save and load").click()
        upload(page, download(page, "#export-json", tmp_path))
        expect(page.locator(ENTRIES)).to_have_count(2)
        expect(page.locator("#save-load-status")).to_contain_text("Imported")
        assert page.locator("#export-json").bounding_box()["width"] >= 100  # the buttons keep a tappable size
        page.screenshot(path=SCREENSHOT_DIR / f"saved-chats-{theme}-{width}.png", full_page=True)
    finally:
        page.context.close()
