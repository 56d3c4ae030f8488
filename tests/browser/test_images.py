"""Images in the Multi-turn chat, in a real browser: attach, send, see them in the chat and on the wire; the
next turn carries them again; a model that takes no images gets a message and nothing is sent."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from playwright.sync_api import Page, expect

from standin import StandIn
from tests.browser.conftest import SCREENSHOT_DIR, open_app
from tests.browser.test_multi_turn import wait_idle
from tests.browser.test_saving import download, upload
from tests.test_images import picture, sent_images

USER_IMAGE = '#chatbot [data-testid="user"] img'


def attach_and_send(page: Page, text: str, *files: Path) -> None:
    page.locator('#chat-input input[type="file"]').set_input_files([str(f) for f in files])
    expect(page.locator("#chat-input img")).to_have_count(len(files))  # the previews: uploaded
    page.locator("#chat-input textarea").fill(text)
    page.locator("#chat-input textarea").press("Enter")


def test_an_attached_image_is_shown_sent_and_sent_again(
    page: Page, app_url: str, standin: StandIn, tmp_path: Path
) -> None:
    photo = picture(tmp_path, size=(64, 48))
    open_app(page, app_url, "Multi-turn")
    attach_and_send(page, "What is in this picture?", photo)
    (record,) = standin.wait_for_chat(1)
    assert sent_images(record.body) == [photo.read_bytes()]
    assert record.body["messages"][-1]["content"][0] == {"type": "text", "text": "What is in this picture?"}
    wait_idle(page)
    expect(page.locator(USER_IMAGE)).to_have_count(1)
    expect(page.locator("#chat-input img")).to_have_count(0)  # the input is empty again
    page.locator("#chat-column").screenshot(path=str(SCREENSHOT_DIR / "images-chat.png"))
    page.locator("#chat-input textarea").fill("And its colour?")
    page.locator("#chat-input textarea").press("Enter")
    second = standin.wait_for_chat(2)[1].body
    assert sent_images(second) == [photo.read_bytes()]
    wait_idle(page)


def test_an_image_to_a_model_without_images_is_refused_and_kept(
    page: Page, app_url: str, standin: StandIn, tmp_path: Path
) -> None:
    open_app(page, app_url, "Multi-turn")
    page.locator("#multi-model input").click()
    page.get_by_role("option", name="palmyra-x4").click()
    attach_and_send(page, "Describe", picture(tmp_path))
    expect(page.locator('#chatbot [data-testid="bot"]', has_text="Nothing sent")).to_contain_text(
        "on palmyra-x5 only, not palmyra-x4"
    )
    assert standin.chat_requests() == []
    wait_idle(page)
    # Back to palmyra-x5: the next request works.
    page.locator("#multi-model input").click()
    page.get_by_role("option", name="palmyra-x5").click()
    page.locator("#chat-input textarea").fill("Hello")
    page.locator("#chat-input textarea").press("Enter")
    (record,) = standin.wait_for_chat(1)
    assert record.body["model"] == "palmyra-x5"


def test_an_image_goes_out_in_the_export_and_comes_back_with_the_import(
    page: Page, app_url: str, standin: StandIn, tmp_path: Path
) -> None:
    photo = picture(tmp_path, size=(40, 30))
    open_app(page, app_url, "Multi-turn")
    attach_and_send(page, "Keep this picture", photo)
    standin.wait_for_chat(1)
    wait_idle(page)
    page.get_by_text("Save and load").click()
    exported = download(page, "#export-json", tmp_path)
    (question, _reply) = json.loads(exported.read_text())["messages"]
    assert base64.b64decode(question["images"][0].split(",", 1)[1]) == photo.read_bytes()
    page.locator("#new-chat").click()
    expect(page.locator(USER_IMAGE)).to_have_count(0)
    upload(page, exported)
    expect(page.locator(USER_IMAGE)).to_have_count(1)  # the image is back in the chat
    page.locator("#chat-input textarea").fill("Still there?")
    page.locator("#chat-input textarea").press("Enter")
    assert sent_images(standin.wait_for_chat(2)[1].body) == [photo.read_bytes()]
    wait_idle(page)


def test_a_file_that_is_not_an_image_is_refused_and_the_next_message_works(
    page: Page, app_url: str, standin: StandIn, tmp_path: Path
) -> None:
    fake = tmp_path / "holiday.png"
    fake.write_text("a text file, named like a picture")
    open_app(page, app_url, "Multi-turn")
    page.locator('#chat-input input[type="file"]').set_input_files(str(fake))
    page.locator("#chat-input textarea").fill("Look at this")
    page.locator("#chat-input textarea").press("Enter")
    expect(page.locator('#chatbot [data-testid="bot"]', has_text="Nothing sent")).to_contain_text(
        "holiday.png is not an image Writer takes: attach a PNG, JPEG, GIF or WebP file."
    )
    assert standin.chat_requests() == []
    wait_idle(page)
    page.locator("#chat-input textarea").fill("Then just text")
    page.locator("#chat-input textarea").press("Enter")
    (record,) = standin.wait_for_chat(1)
    assert record.body["messages"][-1] == {"role": "user", "content": "Then just text"}
