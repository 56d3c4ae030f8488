"""Evaluate's engine: the template filler, CSV cases, the checks, and a run through the chat service (the real
SDK over HTTP to the stand-in): what each request carried, the concurrency bound, Stop closing every request."""

from __future__ import annotations

import itertools
from contextlib import aclosing

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from hypothesis import given
from hypothesis import strategies as st

from components.chat import evaluation
from components.chat.evaluation import Check
from components.chat.evaluation_run import Configuration, Template, run, summarize
from components.chat.kinds import InvalidRequestError
from standin import Behaviour, StandIn
from tests.conftest import run_async
from tests.test_service import VISITOR, service_for

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@given(st.dictionaries(NAMES, TEXT, min_size=1, max_size=4), st.text(max_size=20))
def test_fill_puts_each_value_in_once_braces_and_all(values: dict[str, str], glue: str) -> None:
    glue = glue.replace("{", "(").replace("}", ")")  # the template's own text: no variables in it
    template = glue.join(f"{{{{{name}}}}}" for name in values)
    filled = evaluation.fill(template, values)
    assert filled == glue.join(values.values())  # a value holding {{x}} is sent as written, not filled again


def test_fill_names_the_first_missing_variable_and_reads_spaced_braces() -> None:
    assert evaluation.variables("Hi {{ name }}, from {{city}} to {{name}}") == ["name", "city"]
    assert evaluation.fill("Привет, {{ name }}!", {"name": "Мир {{x}}"}) == "Привет, Мир {{x}}!"
    with pytest.raises(InvalidRequestError, match=r"Case 3 has no value for \{\{city\}\}: fill its city cell"):
        evaluation.fill("{{name}} in {{city}}", {"name": "Ada"}, "Case 3")


ROWS = st.lists(st.fixed_dictionaries({"city": TEXT, "country": TEXT, "expected": TEXT}), max_size=5)


@given(ROWS)
def test_cases_survive_a_csv_round_trip(rows: list[dict[str, str]]) -> None:
    columns = ["city", "country", "expected"]
    rows = [row for row in rows if any(value.strip() for value in row.values())]  # a blank row is no case
    written = evaluation.write_csv(columns, rows)
    assert evaluation.read_csv(written.encode()) == (columns, rows)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"city,country\nParis,France\nLyon\n", "Line 3 has 1 values; line 1 names 2 columns"),
        (b"city,city\nParis,Paris\n", "Line 1: a column is named twice"),
        (b"my city\nParis\n", "Line 1: 'my city' is not a variable name"),
        (b"\xff\xfe", "not UTF-8 text"),
        (b"", "Line 1 must name the columns"),
    ],
)
def test_a_csv_that_does_not_fit_names_the_line(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        evaluation.read_csv(raw)


def test_each_check_is_computed_right() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    case = {"expected": " Paris "}
    verdicts = evaluation.judge(
        "Paris",
        [Check("contains", "ar"), Check("does not contain", "Lyon"), Check("matches", r"^P\w+s$"),
         Check("equals expected"), Check("is valid JSON"), Check("matches the schema")],
        case, schema,
    )  # fmt: skip
    assert [v.passed for v in verdicts] == [True, True, True, True, False, False]
    json_verdicts = evaluation.judge('{"n": "x"}', [Check("is valid JSON"), Check("matches the schema")], {}, schema)
    assert [v.passed for v in json_verdicts] == [True, False] and "at n" in json_verdicts[1].detail
    assert evaluation.judge("x", [Check("equals expected")], {}, None)[0].detail == "this case has no expected value"
    with pytest.raises(InvalidRequestError, match="not a regular expression"):
        Check("matches", "(")


TEMPLATE = Template("You answer about {{country}}.", "What is the capital of {{country}}? Say {{word}}.")
CASES = [{"country": c, "word": w} for c, w in (("France", "oui"), ("Japan", "はい"), ("Peru", "sí"))]


def test_a_run_fills_every_request_and_sends_each_configurations_parameters(standin: StandIn) -> None:
    configurations = [
        Configuration("palmyra-x5", 0.2, {"top_p": "0.5"}),
        Configuration("palmyra-x4", 1.3, {}, system="Prompt B for {{country}}."),
    ]
    service = service_for(standin)

    async def collect() -> list:
        return [
            r async for r in run(service, VISITOR, "", TEMPLATE, CASES, configurations, [Check("contains", "Echo")])
        ]

    results = run_async(collect())
    assert len(results) == 6 and all(r.passed for r in results)
    bodies = {(r.body["model"], r.body["messages"][1]["content"]): r.body for r in standin.chat_requests()}
    for case, configuration in itertools.product(CASES, configurations):
        user = f"What is the capital of {case['country']}? Say {case['word']}."
        body = bodies[(configuration.model, user)]
        system = "Prompt B for {country}." if configuration.system else "You answer about {country}."
        assert body["messages"][0] == {"role": "system", "content": system.format(country=case["country"])}
        assert body["temperature"] == configuration.temperature
        assert body.get("top_p") == (0.5 if configuration.model == "palmyra-x5" else None)
    (first, second) = summarize(results, 2)
    assert (first.cells, first.passed, second.cells) == (3, 3, 3) and first.median_s is not None


def test_a_run_keeps_to_its_concurrency_and_stop_closes_every_request(standin: StandIn) -> None:
    standin.default = Behaviour(chunk_delay=0.05)
    standin.on_prompt("Country 2?", Behaviour(chunk_delay=0.5))  # still under way when Stop comes
    cases = [{"country": f"Country {n}", "word": "x"} for n in range(10)]
    service = service_for(standin)

    async def stop_after_two() -> int:
        seen = 0
        async with aclosing(run(service, VISITOR, "", TEMPLATE, cases, [Configuration("palmyra-x5", 1.0)],
                                concurrency=3)) as results:  # fmt: skip
            async for _ in results:
                seen += 1
                if seen == 2:
                    break  # Stop: the run is closed here
        return seen

    assert run_async(stop_after_two()) == 2
    records = standin.chat_requests()
    spans = [(r.received_at, r.finished_at or float("inf")) for r in records]
    at_once = max(sum(1 for s, e in spans if s <= moment < e) for moment, _ in spans)
    assert at_once <= 3  # never more than the bound under way
    assert len(records) < 10  # those still waiting were never sent
    assert all(record.wait_done(timeout=5) for record in records)  # nothing is left open upstream
    slow = next(r for r in records if "Country 2?" in r.body["messages"][-1]["content"])
    assert slow.disconnected and slow.chunks_sent < 10  # under way at Stop: closed mid-reply


def test_a_run_that_cannot_be_made_sends_nothing(standin: StandIn) -> None:
    async def collect(cases: list, configurations: list) -> list:
        return [r async for r in run(service_for(standin), VISITOR, "", TEMPLATE, cases, configurations)]

    with pytest.raises(InvalidRequestError, match=r"Case 2 has no value for \{\{word\}\}"):
        run_async(collect([CASES[0], {"country": "Chile"}], [Configuration("palmyra-x5", 1.0)]))
    with pytest.raises(InvalidRequestError, match="Choose 1 to 4 configurations"):
        run_async(collect(CASES, [Configuration("palmyra-x5", 1.0)] * 5))
    assert standin.chat_requests() == []


def test_a_cell_the_rate_limit_refuses_holds_back_no_other(standin: StandIn) -> None:
    service = service_for(standin, rate_limit_per_minute=2)

    async def collect() -> list:
        return [r async for r in run(service, VISITOR, "", TEMPLATE, CASES, [Configuration("palmyra-x5", 1.0)])]

    results = run_async(collect())
    refused = [r for r in results if r.error]
    assert len(refused) == 1 and "Too many requests" in refused[0].error
    assert len(standin.chat_requests()) == 2 and sum(r.passed for r in results) == 2


def test_a_script_runs_an_evaluation_through_the_api(app: Client, standin: StandIn) -> None:
    checks = [{"kind": "contains", "value": "capital"}, {"kind": "does not contain", "value": "Peru"}]
    out = app.predict(
        template={"system": TEMPLATE.system, "user": TEMPLATE.user},
        cases=CASES,
        configurations=[{"model": "palmyra-x5", "temperature": 0.3}, {"model": "palmyra-x4", "temperature": 1.1,
                                                                      "parameters": {"max_tokens": 40}}],
        checks=checks,
        concurrency=2,
        api_name="/evaluate",
    )  # fmt: skip
    assert [(r["case"], r["configuration"]) for r in out["results"]] == [(c, k) for c in (1, 2, 3) for k in (1, 2)]
    assert [r["passed"] for r in out["results"]] == [True, True, True, True, False, False]  # case 3 says Peru
    assert [row["passed"] for row in out["summary"]] == [2, 2]
    sent = {(r.body["model"], r.body["messages"][-1]["content"]): r.body for r in standin.chat_requests()}
    assert sent[("palmyra-x4", "What is the capital of Japan? Say はい.")]["max_tokens"] == 40
    with pytest.raises(AppError, match=r"Case 1 has no value for \{\{word\}\}"):
        app.predict(template={"system": "", "user": "{{word}}"}, cases=[{}], configurations=[{"model": "palmyra-x5"}],
                    api_name="/evaluate")  # fmt: skip
    assert len(standin.chat_requests()) == 6
