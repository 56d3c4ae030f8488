"""The Compare tab through the launched app: N replies at once, each on its own, and Stop for all."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from gradio_client import Client

from components.chat.compare import MAX_TEMPERATURES, Cell, place, stopped_status
from components.settings import Settings
from standin import Behaviour, StandIn, reply_text
from tests.conftest import SYSTEM, TEST_KEY, launch


@dataclass(frozen=True)
class Shown:
    """One cell as the page shows it."""

    title: str
    reply: str
    card: str


def cells(output: tuple) -> list[Shown]:
    """The cells shown by the compare outputs: status, chart, then (title, reply, card) per cell.

    The API leaves the cells' columns out; a cell that was not used has no title.
    """
    shown = []
    for index in range(2, len(output), 3):
        title, reply, card = output[index : index + 3]
        if isinstance(title, str) and title:
            shown.append(Shown(title, reply, card))
    return shown


def compare(app: Client, temperatures: str, second_model: str = "(none)", **kwargs: object) -> tuple:
    return app.predict(
        prompt="hello there",
        temperatures=temperatures,
        model="palmyra-x5",
        second_model=second_model,
        system=SYSTEM,
        **kwargs,
        api_name="/compare",
    )


def body_for(standin: StandIn, model: str, temperature: float) -> dict:
    return next(
        r.body for r in standin.chat_requests() if (r.body["model"], r.body["temperature"]) == (model, temperature)
    )


def test_all_cells_stream_at_once_and_take_about_one_replys_time(app: Client, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.1)
    started = time.monotonic()
    app.predict(
        prompt="hello there",
        temperature=1.0,
        non_streaming=False,
        model="palmyra-x5",
        system=SYSTEM,
        api_name="/single_turn",
    )
    one = time.monotonic() - started
    standin.reset()
    standin.default = Behaviour(chunk_delay=0.1)

    started = time.monotonic()
    output = compare(app, "0.0, 0.7, 1.4", second_model="palmyra-x4")
    sweep = time.monotonic() - started

    records = standin.chat_requests()
    assert len(records) == 6
    assert max(r.received_at for r in records) < min(r.finished_at for r in records)  # all open at once
    assert sweep < 2 * one, f"6 replies took {sweep:.2f} s, one took {one:.2f} s"
    shown = cells(output)
    expected = [(m, t) for m in ("palmyra-x5", "palmyra-x4") for t in (0.0, 0.7, 1.4)]
    assert [cell.title for cell in shown] == [f"**{m} · temperature {t:g}**" for m, t in expected]
    for cell, (model, temperature) in zip(shown, expected, strict=True):
        assert cell.reply == reply_text(body_for(standin, model, temperature))
        assert f"**{model}** · temperature {temperature:g}" in cell.card and "finish_reason `stop`" in cell.card
    assert output[0] == "6 of 6 replies complete."


def test_a_failed_or_slow_cell_holds_back_no_other(app: Client, standin: StandIn) -> None:
    standin.on_request(lambda body: body["temperature"] == 0.7, Behaviour(status=400))  # not retried
    standin.on_request(lambda body: body["temperature"] == 1.4, Behaviour(first_token_delay=1.5))
    output = compare(app, "0, 0.7, 1.4")
    fast, failed, slow = cells(output)
    assert fast.reply == reply_text(body_for(standin, "palmyra-x5", 0.0))
    assert failed.reply == "" and "Writer rejected the request as invalid (400)" in failed.card
    assert slow.reply == reply_text(body_for(standin, "palmyra-x5", 1.4))
    records = {r.body["temperature"]: r for r in standin.chat_requests()}
    assert records[0.0].finished_at < records[1.4].finished_at - 1.0  # the fast one did not wait for the slow
    assert output[0] == "2 of 3 replies complete; 1 failed."


def test_stop_closes_every_upstream_request(app: Client, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=1.0)
    job = app.submit(
        prompt="a long story",
        temperatures="0, 0.5, 1, 1.5",
        model="palmyra-x5",
        second_model="(none)",
        system=SYSTEM,
        api_name="/compare",
    )
    records = standin.wait_for_chat(4)
    for _ in job:  # the first update: the cells are on their way
        break
    job.cancel()
    for record in records:
        assert record.wait_done(timeout=5), "an upstream request was still open 5 s after Stop"
        assert record.disconnected and record.chunks_sent < 5


def test_stream_vs_batch_sends_both_ways_and_charts_the_timings(app: Client, standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.05)
    output = app.predict(
        prompt="hello there",
        temperatures="0.3",
        model="palmyra-x5",
        second_model="(none)",
        system=SYSTEM,
        api_name="/stream_vs_batch",
    )
    streamed, whole = (r.body for r in sorted(standin.chat_requests(), key=lambda r: not r.body["stream"]))
    assert (streamed["stream"], whole["stream"]) == (True, False)
    assert streamed["temperature"] == whole["temperature"] == 0.3
    shown = cells(output)
    assert [cell.reply for cell in shown] == [reply_text(streamed), reply_text(whole)]
    assert "· streamed" in shown[0].card and "not streamed" in shown[1].card
    chart = output[1].get("value") or output[1]  # the plot's data, with or without an update around it
    rows = {run: seconds for run, seconds, _ in chart["data"]}
    assert set(rows) == {"streamed: first token", "streamed: total", "not streamed: first token", "not streamed: total"}
    assert rows["streamed: first token"] < rows["streamed: total"]
    assert rows["streamed: first token"] < rows["not streamed: first token"]  # the lesson: streaming shows text sooner


@pytest.mark.parametrize(
    ("temperatures", "message"),
    [
        ("abc", "Each temperature must be a number from 0.0 to 2.0; 'abc' is not."),
        ("0.5, 3", "'3' is not"),
        ("", f"Give 1 to {MAX_TEMPERATURES} temperatures"),
        (", ".join(str(t / 10) for t in range(MAX_TEMPERATURES + 1)), f"Give 1 to {MAX_TEMPERATURES} temperatures"),
    ],
    ids=["not-a-number", "out-of-range", "none", "too-many"],
)
def test_bad_temperatures_get_a_message_and_no_request(
    app: Client, standin: StandIn, temperatures: str, message: str
) -> None:
    compare(app, "0.5")  # a good run first: a refused one must not leave its cells on show
    standin.reset()
    refused = compare(app, temperatures)
    assert message in refused[0]
    assert cells(refused) == []
    assert standin.chat_requests() == []


def test_an_unknown_second_model_sent_through_the_api_is_refused(app: Client, standin: StandIn) -> None:
    with pytest.raises(Exception, match=r"not in the list of choices|Unknown model"):
        compare(app, "0.5", second_model="gpt-4")
    assert standin.chat_requests() == []


def test_the_rate_limit_counts_every_cell(standin: StandIn) -> None:
    demo, url = launch(Settings(api_key=TEST_KEY, base_url=standin.url, rate_limit_per_minute=4))
    try:
        app = Client(url, verbose=False)
        refused = compare(app, "0, 0.4, 0.8", second_model="palmyra-x4")
        assert "allows 4 a minute per visitor (6 asked for at once)" in refused[0]
        assert standin.chat_requests() == []
        assert compare(app, "0, 0.4, 0.8")[0] == "3 of 3 replies complete."
    finally:
        demo.close()


def test_each_model_has_a_row_of_the_grid_and_stop_says_how_much_had_finished() -> None:
    cells_ = [Cell(m, t) for m in ("palmyra-x5", "palmyra-x4") for t in (0.0, 1.0)]
    placed = place(cells_)
    assert placed[:2] == cells_[:2] and placed[MAX_TEMPERATURES : MAX_TEMPERATURES + 2] == cells_[2:]
    assert sum(cell is not None for cell in placed) == 4
    assert stopped_status(1, 3) == "Stopped by you: 1 of 3 replies had finished."
