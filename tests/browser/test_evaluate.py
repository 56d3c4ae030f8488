"""The Evaluate tab in a real browser: a template with variables, cases imported from a CSV file, a run of 5 cases
on 2 configurations into the results grid, a mistake first, and Stop closing every request."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from components.chat import evaluation
from standin import Behaviour, StandIn
from tests.browser.conftest import SCREENSHOT_DIR, open_app
from tests.browser.test_first_use import LOW_CONTRAST
from tests.browser.test_saving import download

COUNTRIES = [("France", "oui", "Paris"), ("Japan", "hai", "Tokyo"), ("Peru", "si", "Lima"),
             ("Kenya", "ndiyo", "Nairobi"), ("Chile", "si", "Santiago")]  # fmt: skip


def open_evaluate(page: Page, url: str) -> None:
    open_app(page, url, "Evaluate")


def set_template(page: Page) -> None:
    """Type the user message; its variables show (and the cases' columns follow) before anything else."""
    page.locator("#eval-user textarea").fill("Capital of {{country}}? Say {{word}}.")
    expect(page.locator("#eval-vars")).to_have_text(re.compile(r"\{\{country\}\}, \{\{word\}\}"))


def import_cases(page: Page, folder: Path, rows: list[tuple[str, ...]]) -> None:
    path = folder / "cases.csv"
    columns = ["country", "word", "expected"]
    path.write_text(evaluation.write_csv(columns, [dict(zip(columns, row, strict=True)) for row in rows]))
    with page.expect_file_chooser() as chooser:
        page.locator("#eval-import").click()
    chooser.value.set_files(path)
    expect(page.locator("#eval-status")).to_contain_text(f"Imported {len(rows)} cases")


def test_a_five_case_two_configuration_run(page: Page, app_url: str, standin: StandIn, tmp_path: Path) -> None:
    page.set_viewport_size({"width": 1280, "height": 1200})
    open_evaluate(page, app_url)
    set_template(page)
    # A mistake first: the cases have no word column yet. A clear message, nothing sent.
    page.locator("#eval-run").click()
    expect(page.locator("#eval-status")).to_contain_text("has no value for {{word}}")
    assert standin.chat_requests() == []
    expect(page.locator("#eval-run")).to_be_enabled()
    import_cases(page, tmp_path, COUNTRIES)
    # The cases go out as they came in (a CSV round trip through the page).
    columns, exported = evaluation.read_csv(download(page, "#eval-export", tmp_path).read_bytes())
    assert columns == ["country", "word", "expected"] and [tuple(r.values()) for r in exported] == COUNTRIES
    page.locator("#eval-run").click()
    expect(page.locator("#eval-status")).to_have_text("10 of 10 done: 10 passed.")
    bodies = [record.body for record in standin.chat_requests()]
    assert sorted((b["model"], b["messages"][-1]["content"]) for b in bodies) == sorted(
        (model, f"Capital of {country}? Say {word}.") for model in ("palmyra-x5", "palmyra-x4")
        for country, word, _ in COUNTRIES
    )  # fmt: skip
    assert {b["temperature"] for b in bodies if b["model"] == "palmyra-x4"} == {1.0}
    grid = page.locator("#eval-grid")
    for country, _, _ in COUNTRIES:
        expect(grid).to_contain_text(country)
    shown = grid.inner_text()  # what a person reads: each case's row, a cell per configuration
    assert shown.count("PASS · Echo: Capital of Kenya? Say ndiyo.") == 2 and "FAIL" not in shown, shown
    expect(page.locator("#eval-summary")).to_contain_text("5/5")
    page.locator("#eval-grid").get_by_text("PASS · Echo: Capital of Peru").first.click()  # a cell's details
    expect(page.locator("#eval-detail")).to_contain_text("Case 3 on configuration")
    expect(page.locator("#eval-detail")).to_contain_text("finish_reason stop")
    page.screenshot(path=str(SCREENSHOT_DIR / "evaluate.png"), full_page=True)
    # The run, downloaded: a row a cell in the CSV; the whole run in the JSON.
    _, rows = evaluation.read_csv(download(page, "#eval-csv", tmp_path).read_bytes())
    assert len(rows) == 10 and {row["passed"] for row in rows} == {"True"}
    assert {(row["country"], row["model"]) for row in rows} == {(c, m) for c, _, _ in COUNTRIES
                                                                for m in ("palmyra-x5", "palmyra-x4")}  # fmt: skip
    run = json.loads(download(page, "#eval-json", tmp_path).read_text())
    assert run["template"]["user"] == "Capital of {{country}}? Say {{word}}." and len(run["results"]) == 10
    assert [row["passed"] for row in run["summary"]] == [5, 5]


def test_a_run_reads_well_in_dark_mode_and_on_a_phone(browser: Browser, app_url: str, standin: StandIn) -> None:
    for options in ({"viewport": {"width": 1280, "height": 900}, "color_scheme": "dark"},
                    {"viewport": {"width": 390, "height": 844}}):  # fmt: skip
        context = browser.new_context(**options)
        page = context.new_page()
        try:
            open_evaluate(page, app_url + ("?__theme=dark" if "color_scheme" in options else ""))
            page.locator("#eval-run").click()
            expect(page.locator("#eval-status")).to_contain_text("done: 6 passed")
            if "color_scheme" in options:  # the suite's contrast bar is dark mode's (test_first_use.py)
                assert page.evaluate(LOW_CONTRAST) == []
            assert page.evaluate("() => document.documentElement.scrollWidth") <= options["viewport"]["width"]
        finally:
            context.close()


def test_stop_closes_every_request_of_the_run(page: Page, app_url: str, standin: StandIn, tmp_path: Path) -> None:
    standin.default = Behaviour(chunk_delay=0.3)
    open_evaluate(page, app_url)
    set_template(page)
    import_cases(page, tmp_path, COUNTRIES)
    page.locator("#eval-run").click()
    under_way = standin.wait_for_chat(4)
    page.locator("#eval-stop").click()
    expect(page.locator("#eval-run")).to_be_enabled()
    for record in under_way:
        assert record.wait_done(timeout=5) and record.disconnected
    assert len(standin.chat_requests()) == 4  # the bound held, and the waiting ones were never sent


def test_failed_cells_run_again_alone_and_an_earlier_run_stays_beside(
    page: Page, app_url: str, standin: StandIn, tmp_path: Path
) -> None:
    standin.on_prompt("Kenya", Behaviour(status=400))  # Writer refuses these two cells
    open_evaluate(page, app_url)
    set_template(page)
    import_cases(page, tmp_path, COUNTRIES)
    page.locator("#eval-run").click()
    expect(page.locator("#eval-status")).to_have_text("10 of 10 done: 8 passed.")
    assert page.locator("#eval-grid").inner_text().count("FAIL · Writer rejected the request as invalid (400)") == 2
    standin.reset()  # Writer takes them now
    page.locator("#eval-rerun").click()
    expect(page.locator("#eval-status")).to_have_text("2 of 2 done: 2 passed.")
    again = [record.body["messages"][-1]["content"] for record in standin.chat_requests()]
    assert again == ["Capital of Kenya? Say ndiyo."] * 2  # those two alone
    assert "FAIL" not in page.locator("#eval-grid").inner_text()
    expect(page.locator("#eval-summary")).to_contain_text("5/5")
    page.locator("#eval-run").click()  # a second run: the first one's rows stay under it
    expect(page.locator("#eval-status")).to_have_text("10 of 10 done: 10 passed.")
    summary = page.locator("#eval-summary").inner_text()
    assert re.search(r"^2\s", summary, re.MULTILINE) and re.search(r"^1\s", summary, re.MULTILINE), summary
