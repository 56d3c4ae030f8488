"""``/evaluate``: one evaluation through the API, for scripts and CI: a template, cases, configurations and
checks in; every cell's reply, run card and checks, and each configuration's summary, out.

The same engine as the Evaluate tab will use (chat/evaluation_run.py): each request is checked and counted by
the rate limit like any other, and nothing is sent when nobody reads the result.
"""

from __future__ import annotations

import dataclasses
from contextlib import aclosing
from typing import Any

import gradio as gr

from components.chat import evaluation_run
from components.chat.kinds import InvalidRequestError
from components.chat.service import ChatService
from components.ui.listeners import LISTENERS
from components.ui.requests import session_of, visitor


def register(service: ChatService, concurrency_limit: int) -> None:
    """Add the endpoint to the Blocks being built."""

    async def evaluate(
        template: dict[str, Any],
        cases: list[dict[str, Any]],
        configurations: list[dict[str, Any]],
        checks: list[dict[str, Any]] | None = None,
        concurrency: int = evaluation_run.DEFAULT_CONCURRENCY,
        own_key: str = "",
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> dict[str, Any]:
        """Run every case on every configuration (at most ``concurrency`` requests at once, 1 to 8) and check
        each reply: {"results": [...], "summary": [...]}."""
        try:
            if not isinstance(concurrency, int) or not 1 <= concurrency <= 8:
                raise InvalidRequestError("concurrency must be a whole number from 1 to 8.")
            parsed = evaluation_run.read_request(template, cases, configurations, checks or [])
            if not await LISTENERS.wait_for(session_of(request)):
                return {"results": [], "summary": []}  # nobody is reading: send nothing, spend nothing
            run = evaluation_run.run(service, visitor(service, request), str(own_key or ""), *parsed,
                                     concurrency=concurrency)  # fmt: skip
            async with aclosing(run) as results:
                done = [result async for result in results]
        except InvalidRequestError as problem:
            raise gr.Error(problem.message, title="Nothing sent") from None
        _, rows, columns, _ = parsed
        done.sort(key=lambda result: (result.case, result.configuration))
        return {
            "results": [evaluation_run.as_record(result, rows, columns) for result in done],
            "summary": [dataclasses.asdict(row) for row in evaluation_run.summarize(done, len(columns))],
        }

    gr.api(evaluate, api_name="evaluate", concurrency_limit=concurrency_limit)
