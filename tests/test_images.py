"""Images in the chat: what reaches the wire (Writer's image_url fragments, data URLs of the very bytes), what
is refused before sending, and how images count. The real SDK talks to the stand-in over HTTP.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file
from PIL import Image

from components.chat import conversation, images, snippets, transcript
from components.chat.messages import content_files as messages_files
from components.chat.params import InvalidRequestError
from components.chat.service import ChatService
from components.chat.transcript_markdown import to_markdown
from components.settings import Settings
from standin import StandIn
from tests.conftest import SYSTEM, TEST_KEY, run_async
from tests.test_service import VISITOR, ask, last
from tests.test_snippets import FLAVOURS, run_snippet

WHEN = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def picture(folder: Path, name: str = "photo.png", size: tuple[int, int] = (8, 6), kind: str = "PNG") -> Path:
    """A small real image file."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 60)).save(buffer, kind)
    path = folder / name
    path.write_bytes(buffer.getvalue())
    return path


def service_with_images(standin: StandIn, root: Path) -> ChatService:
    return ChatService(Settings(api_key=TEST_KEY, base_url=standin.url), image_root=root)


def sent_images(body: dict[str, Any]) -> list[bytes]:
    """The images a request carried, decoded from their data URLs."""
    urls = [part["image_url"]["url"] for m in body["messages"] if isinstance(m["content"], list)
            for part in m["content"] if part["type"] == "image_url"]  # fmt: skip
    return [base64.b64decode(url.split(",", 1)[1]) for url in urls]


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_an_image_goes_as_a_data_url_of_its_bytes_and_again_with_the_next_turn(
    standin: StandIn, tmp_path: Path, stream: bool
) -> None:
    photo, chart = picture(tmp_path), picture(tmp_path, "chart.jpg", kind="JPEG")
    service = service_with_images(standin, tmp_path)
    plan = service.plan(ask("What is in these?", images=[str(photo), str(chart)]), VISITOR)
    done = run_async(last(service.reply(plan, stream=stream)))
    (record,) = standin.chat_requests()
    question = record.body["messages"][-1]
    assert question["content"][0] == {"type": "text", "text": "What is in these?"}
    assert [part["image_url"]["url"][:23] for part in question["content"][1:]] == [
        "data:image/png;base64,i",
        "data:image/jpeg;base64,",
    ]
    assert sent_images(record.body) == [photo.read_bytes(), chart.read_bytes()]
    assert f"image/png {photo.stat().st_size} bytes" in done.text  # the stand-in saw them whole
    # The chat keeps the question with its files (as Gradio holds it); the next turn sends them again.
    history = [{"role": "user", "content": [{"path": str(photo)}, {"path": str(chart)}, "What is in these?"]},
               {"role": "assistant", "content": done.text}]  # fmt: skip
    run_async(last(service.reply(service.plan(ask("And now?", history=history), VISITOR), stream=stream)))
    second = standin.chat_requests()[-1].body
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "user"]
    assert sent_images(second) == [photo.read_bytes(), chart.read_bytes()]
    assert second["messages"][-1]["content"] == "And now?"


def test_a_question_of_images_alone_sends_only_them(standin: StandIn, tmp_path: Path) -> None:
    photo = picture(tmp_path)
    history = [{"role": "user", "content": [{"type": "file", "file": {"path": str(photo)}}]},
               {"role": "assistant", "content": "A red rectangle."}]  # fmt: skip
    service = service_with_images(standin, tmp_path)
    run_async(last(service.reply(service.plan(ask("Sure?", history=history), VISITOR), stream=True)))
    user = standin.chat_requests()[0].body["messages"][1]
    assert [part["type"] for part in user["content"]] == ["image_url"]


@pytest.mark.parametrize(
    ("make", "model", "message"),
    [
        (lambda d: [picture(d)], "palmyra-x4", "images in messages on palmyra-x5 only, not palmyra-x4"),
        (lambda d: [d / "notes.png"], "palmyra-x5", "notes.png is not an image Writer takes"),
        (lambda d: [picture(d, "huge.png", (1400, 1400), "BMP")], "palmyra-x5", "Writer takes images up to 3 MB"),
        (lambda d: [picture(d, f"p{n}.png") for n in range(7)], "palmyra-x5", "may hold 6 images"),
    ],
    ids=["other-model", "wrong-type", "too-large", "too-many"],
)  # fmt: skip
def test_images_writer_would_not_take_get_a_clear_message_and_nothing_is_sent(
    standin: StandIn, tmp_path: Path, make: Any, model: str, message: str
) -> None:
    (tmp_path / "notes.png").write_text("not an image at all")
    files = [str(path) for path in make(tmp_path)]
    with pytest.raises(InvalidRequestError, match=message):
        service_with_images(standin, tmp_path).plan(ask("Look", model=model, images=files), VISITOR)
    assert standin.chat_requests() == []


def test_an_image_is_read_only_from_where_the_chat_keeps_its_files(standin: StandIn, tmp_path: Path) -> None:
    elsewhere = picture(tmp_path)  # a real image, but not in the chat's folder
    (tmp_path / "chat").mkdir()
    service = service_with_images(standin, tmp_path / "chat")
    history = [{"role": "user", "content": [{"path": str(elsewhere)}, "hi"]}, {"role": "assistant", "content": "x"}]
    with pytest.raises(InvalidRequestError, match="is not one this chat received"):
        service.plan(ask("Again", history=history), VISITOR)
    assert standin.chat_requests() == []


def test_images_count_in_the_context_estimate_and_are_shortened_for_reading(tmp_path: Path) -> None:
    photo = picture(tmp_path)
    read = images.fragment(str(photo), tmp_path)
    message = {"role": "user", "content": [{"type": "text", "text": "abcd" * 10}, read]}
    assert conversation.estimate_tokens(message) == 10 + images.IMAGE_TOKENS + 4
    (shown,) = images.shortened([message])
    assert shown["content"][1]["image_url"]["url"] == f"data:image/png;base64,… ({photo.stat().st_size:,} bytes)"
    assert message["content"][1] is read  # the message sent is left whole


def test_a_script_attaches_an_image_to_chat(app: Client, standin: StandIn, tmp_path: Path) -> None:
    photo = picture(tmp_path)
    settings = {"temperature": 1.0, "model": "palmyra-x5", "system": SYSTEM, "non_streaming": False}
    reply, _info, sent, *_ = app.predict(message={"text": "Describe it", "files": [handle_file(str(photo))]},
                                         **settings, api_name="/chat")  # fmt: skip
    (record,) = standin.chat_requests()
    assert sent_images(record.body) == [photo.read_bytes()]
    assert "base64,… (" in sent  # the page's copy of the messages stays small
    app.predict(message="And the colour?", **settings, api_name="/chat")
    assert sent_images(standin.chat_requests()[-1].body) == [photo.read_bytes()]
    assert "image/png" in str(reply)


def test_images_survive_export_and_import_and_a_bad_one_is_named(tmp_path: Path) -> None:
    photo = picture(tmp_path)
    settings = transcript.ChatSettings(model="palmyra-x5")
    messages = [{"role": "user", "content": [{"path": str(photo)}, "What is it?"]},
                {"role": "assistant", "content": "A red rectangle."}]  # fmt: skip
    exported = transcript.to_json(transcript.Transcript(SYSTEM, settings, messages, tmp_path), exported_at=WHEN)
    record = json.loads(exported)["messages"][0]
    assert record["content"] == "What is it?"
    assert base64.b64decode(record["images"][0].split(",", 1)[1]) == photo.read_bytes()
    back = transcript.from_json(exported.encode(), known_models=["palmyra-x5"], image_root=tmp_path)
    (path,) = messages_files(back.messages[0]["content"])
    assert Path(path).read_bytes() == photo.read_bytes() and Path(path).is_relative_to(tmp_path)
    assert transcript.to_json(back, exported_at=WHEN) == exported  # export → import → export: the same file
    assert "1 image(s) attached" in to_markdown(back, exported_at=WHEN)
    record["images"] = ["data:image/png;base64,bm90IGFuIGltYWdl"]  # "not an image"
    bad = json.dumps({**json.loads(exported), "messages": [record]}).encode()
    with pytest.raises(transcript.TranscriptError, match="Message 1's image 1 is not a PNG, JPEG, GIF or WebP"):
        transcript.from_json(bad, known_models=["palmyra-x5"], image_root=tmp_path)
    with pytest.raises(transcript.TranscriptError, match="takes none"):
        transcript.from_json(exported.encode(), known_models=["palmyra-x5"])


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_copy_as_code_reads_the_images_from_files_and_repeats_the_request(
    standin: StandIn, tmp_path: Path, stream: bool
) -> None:
    photo, chart = picture(tmp_path), picture(tmp_path, "chart.gif", kind="GIF")
    service = service_with_images(standin, tmp_path)
    plan = service.plan(ask("What are these?", images=[str(photo), str(chart)]), VISITOR)
    done = run_async(last(service.reply(plan, stream=stream)))
    sent = standin.chat_requests()[-1].body
    (tmp_path / "image-1.png").write_bytes(photo.read_bytes())  # saved beside the snippet, as its note says
    (tmp_path / "image-2.gif").write_bytes(chart.read_bytes())
    for flavour, code in zip(FLAVOURS, snippets.all_snippets(done.info.request), strict=True):
        assert "base64,iVBOR" not in code and "image-1.png, image-2.gif" in code  # small: no image inside
        run_snippet(flavour, code, standin, cwd=tmp_path)
        assert standin.chat_requests()[-1].body == sent, flavour
