"""The chat service without Gradio: what it refuses, what it sends, and whose key it spends.

The real SDK talks over HTTP to the stand-in; the service is used as the tabs use it: a plan, then
its reply or its comparison.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from components.chat.compare import Cell
from components.chat.params import InvalidRequestError
from components.chat.service import MALFORMED_KEY, VISITOR_KEY_REQUIRED, Ask, ChatService, visitor_of
from components.settings import FALLBACK_MODELS, Settings
from components.writer.records import ReplyUpdate
from standin import Behaviour, StandIn, reply_text
from tests.conftest import EXTRA_MODEL, SYSTEM, TEST_KEY, run_async

VISITOR = "203.0.113.7"


def service_for(standin: StandIn, **settings: object) -> ChatService:
    return ChatService(Settings(api_key=TEST_KEY, base_url=standin.url, **settings))  # type: ignore[arg-type]


def ask(prompt: str = "What's the fastest bird?", **fields: object) -> Ask:
    return Ask(**{"prompt": prompt, "temperature": 0.7, "model": "palmyra-x5", "system": SYSTEM, **fields})


async def last(updates: AsyncIterator[ReplyUpdate]) -> ReplyUpdate:
    """The reply's final update (the whole reply and its card)."""
    seen = [update async for update in updates]
    return seen[-1]


def test_a_plan_sends_the_set_parameters_only_and_the_reply_is_the_stand_ins(standin: StandIn) -> None:
    service = service_for(standin)
    plan = service.plan(ask(sampling={"top_p": "0.5", "max_tokens": "", "stop": "END\n###"}), VISITOR)
    done = run_async(last(service.reply(plan, stream=True)))
    (record,) = standin.chat_requests()
    assert record.body["top_p"] == 0.5 and record.body["stop"] == ["END", "###"] and "max_tokens" not in record.body
    assert record.body["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "What's the fastest bird?"},
    ]
    assert (done.done, done.text, done.info.error) == (True, reply_text(record.body), None)


def test_refusals_count_against_the_rate_limit_and_nothing_is_sent(standin: StandIn) -> None:
    service = service_for(standin, rate_limit_per_minute=2)
    with pytest.raises(InvalidRequestError, match="Type a prompt first"):
        service.plan(ask("  "), VISITOR)
    service.plan(ask(), VISITOR)
    with pytest.raises(InvalidRequestError, match="allows 2 a minute per visitor"):
        service.plan(ask(), VISITOR)
    service.plan(ask(), "198.51.100.1")  # another visitor has a budget of their own
    assert standin.chat_requests() == []  # planning sends nothing


def test_a_comparison_is_charged_for_every_cell(standin: StandIn) -> None:
    service = service_for(standin, rate_limit_per_minute=5)
    with pytest.raises(InvalidRequestError, match=r"\(6 asked for at once\)"):
        service.plan(ask(), VISITOR, count=6)
    plan = service.plan(ask(), VISITOR, count=3)
    cells = [Cell("palmyra-x5", t) for t in (0.0, 0.7)] + [Cell("palmyra-x4", 1.4, stream=False)]

    async def run() -> list[ReplyUpdate | None]:
        snapshots = [snapshot async for snapshot in service.compare(plan, cells)]
        return snapshots[-1]

    final = run_async(run())
    sent = sorted((r.body["model"], r.body["temperature"], r.body["stream"]) for r in standin.chat_requests())
    assert sent == [("palmyra-x4", 1.4, False), ("palmyra-x5", 0.0, True), ("palmyra-x5", 0.7, True)]
    assert all(update is not None and update.done and not update.info.error for update in final)


def test_one_visitor_may_have_only_so_many_replies_under_way(standin: StandIn) -> None:
    service = service_for(standin, max_requests_at_once=1)
    standin.default = Behaviour(chunk_delay=0.2)

    async def run() -> str:
        first = service.reply(service.plan(ask(), VISITOR), stream=True)
        await anext(first)  # under way
        try:
            service.plan(ask(), VISITOR)
        except InvalidRequestError as refused:
            return refused.message
        finally:
            await first.aclose()
        return "not refused"

    assert run_async(run()).startswith("You already have 1 replies under way")
    service.plan(ask(), VISITOR)  # the closed one no longer counts


def test_a_visitor_key_is_used_for_that_request_only_and_checked_first(standin: StandIn) -> None:
    service = service_for(standin, visitor_key_required=True)
    with pytest.raises(InvalidRequestError) as required:
        service.plan(ask(), VISITOR)
    assert required.value.message == VISITOR_KEY_REQUIRED
    with pytest.raises(InvalidRequestError) as malformed:
        service.plan(ask(own_key="abc\r\nX-Injected: 1"), VISITOR)
    assert malformed.value.message == MALFORMED_KEY
    plan = service.plan(ask(own_key="  visitor-key-1  "), VISITOR)
    run_async(last(service.reply(plan, stream=False)))
    (record,) = standin.chat_requests()
    assert record.headers["authorization"] == "Bearer visitor-key-1"  # WRITER_BASE_URL names the stand-in


def test_a_long_history_is_trimmed_oldest_first(standin: StandIn) -> None:
    history = [
        {"role": role, "content": f"{role} {n} " + "x" * 400} for n in range(20) for role in ("user", "assistant")
    ]
    plan = service_for(standin, context_tokens=1_000).plan(ask("and now?", history=history), VISITOR)
    assert plan.trimmed > 0 and plan.messages[0]["role"] == "system" and plan.messages[-1]["content"] == "and now?"
    assert plan.messages[1]["role"] == "user"  # never a reply first
    assert plan.messages[1:-1] == [{"role": m["role"], "content": m["content"]} for m in history[plan.trimmed :]]


def test_the_models_come_from_writer_unless_the_servers_key_is_not_to_be_spent(standin: StandIn) -> None:
    service = service_for(standin)
    assert service.models == list(FALLBACK_MODELS)
    assert run_async(service.refresh_models()) == [*FALLBACK_MODELS, EXTRA_MODEL]
    service.plan(ask(model=EXTRA_MODEL), VISITOR)  # now on offer
    standin.reset()
    keys_required = service_for(standin, visitor_key_required=True)
    assert run_async(keys_required.refresh_models()) == list(FALLBACK_MODELS)
    assert standin.requests == []


@pytest.mark.parametrize(
    ("peer", "forwarded", "hops", "visitor"),
    [
        ("10.0.0.2", "1.2.3.4", 0, "10.0.0.2"),  # no trusted proxy: the header is the client's word
        ("10.0.0.2", "6.6.6.6, 1.2.3.4", 1, "1.2.3.4"),  # the entry the trusted proxy added
        ("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.9", 2, "1.2.3.4"),
        ("10.0.0.2", "", 1, "10.0.0.2"),
    ],
)
def test_the_visitor_is_the_address_the_last_trusted_proxy_saw(
    peer: str, forwarded: str, hops: int, visitor: str
) -> None:
    assert visitor_of(peer, forwarded, hops) == visitor
