"""The run card of a reply, as Markdown: what was sent, what came back, how long it took.

Pure formatting of a ``RunCard``; knows nothing of Gradio, so both tabs, the compare
view and exports render the same record the same way.
"""

from __future__ import annotations

import time
from typing import Any

from components.chat import conversation, params, tool_data
from components.writer.records import RunCard

STOPPED = "stopped by you"


def summary(card: RunCard) -> str:
    """One short line: model, temperature, finish_reason, tokens and time."""
    facts = [card.model, f"T {card.temperature:g}", *params.sent(card.request)]
    if card.stopped:
        facts.append(STOPPED)
    elif card.finish_reason:
        facts.append(card.finish_reason)
    if card.tool_calls:
        facts.append(f"called {', '.join(call.name for call in card.tool_calls)}")
    if card.completion_tokens is not None:
        facts.append(f"{card.completion_tokens} tokens")
    if card.total_s is not None:
        facts.append(f"{card.total_s:.2f} s")
    return " · ".join(facts)


def format_card(card: RunCard, *, interrupted: bool = False, status: str | None = None) -> str:
    """The whole card as one Markdown block: the notebook's response table, made visible."""
    facts = [f"**{card.model}**", f"temperature {card.temperature:g}", *params.sent(card.request)]
    facts.append("streamed" if card.stream else "not streamed")
    if card.stopped:
        facts.append(f"**{STOPPED}** (no finish_reason from the API)")
    elif card.finish_reason:
        facts.append(f"finish_reason `{card.finish_reason}`")
    if card.total_tokens is not None:
        facts.append(f"tokens {card.prompt_tokens} prompt + {card.completion_tokens} completion = {card.total_tokens}")
    if card.first_token_s is not None:
        facts.append(f"first token {card.first_token_s:.2f} s")
    if card.total_s is not None:
        facts.append(f"{'stopped after' if card.stopped else 'total'} {card.total_s:.2f} s")
    if card.tokens_per_second is not None:
        facts.append(f"{card.tokens_per_second:.1f} tokens/s")
    if card.response_id:
        facts.append(f"id `{card.response_id}`")
    if card.created:
        facts.append(f"created {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(card.created))}")
    reports = [f"{report.title}: {report.summary}" for report in tool_data.reports(card.tool_data)]
    return "\n\n".join(
        [" · ".join(facts), *_calls(card), *reports, *_notices(card, interrupted=interrupted, status=status)]
    )


def _calls(card: RunCard) -> list[str]:
    """The functions the model called, with their arguments as they came."""
    if not card.tool_calls:
        return []
    calls = ", ".join(f"`{call.name}({_short(call.arguments)})`" for call in card.tool_calls)
    whole = "" if card.calls_complete else " (incomplete: not sent back)"
    return [f"⚙ **Called:** {calls}{whole}"]


def _short(text: str, limit: int = 120) -> str:
    text = text.replace("`", "'").replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def _notices(card: RunCard, *, interrupted: bool, status: str | None) -> list[str]:
    """The lines under the facts: what is happening, and what went wrong."""
    lines = []
    if status:
        lines.append(f"⏳ {status}")
    if card.truncated:
        lines.append("⚠️ **Truncated:** the reply hit the token limit (`finish_reason: length`) and was cut off.")
    if card.filtered:
        lines.append("🛡️ **Filtered:** Writer's content filter stopped this reply (`finish_reason: content_filter`).")
    if card.error:
        lines.append(f"❌ **Error:** {card.error}")
        if interrupted:
            lines.append("The reply was interrupted; the part that arrived is kept.")
    return lines


def card_message(card: RunCard) -> dict[str, Any]:
    """The card as a collapsed chat message under its reply. Its metadata title keeps it out of the history."""
    return conversation.card_message(format_card(card), summary(card))
