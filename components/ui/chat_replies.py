"""What the chat shows for a reply: its text, its tool calls, the schema's verdict, notices and its run card.

Shared by the chat's own turn and the turn that sends tool results, so both show a reply alike.
"""

from __future__ import annotations

from typing import Any

from components.chat import conversation, messages, structured, token_view, tool_data, tool_params, tool_turns
from components.chat.cards import card_message
from components.writer.records import ReplyUpdate


def chat_message(update: ReplyUpdate, trimmed: int, context_tokens: int) -> str | list[dict[str, Any]]:
    """What the chat shows for a reply: its text, with notices around it when there is news."""
    shown: list[dict[str, Any]] = []
    if trimmed:
        note = f"The {trimmed} oldest messages were left out to fit the context budget ({context_tokens:,} tokens)."
        shown.append(conversation.notice("✂️ Conversation trimmed", note))
    if update.status:
        shown.append(conversation.notice("⏳ Retrying", update.status))
    if update.text:
        shown.append({"role": "assistant", "content": update.text})
    shown.extend(_calls(update))
    shown.extend(_tool_reports(update))
    verdict = schema_verdict(update)
    if verdict is not None:
        body = tool_turns.fenced(verdict.pretty, "json") if verdict.pretty else "The reply is shown above, as it came."
        shown.append(conversation.notice(verdict.line, body, status="done"))
    if update.info.error is not None:
        title = "⚠️ Reply interrupted" if update.interrupted or update.info.tool_calls else "⚠️ Request failed"
        shown.append(conversation.notice(title, update.info.error))
    if update.done and (update.text or update.info.tool_calls):
        shown.append(card_message(update.info))  # each reply keeps its own card, under it
    if len(shown) == 1 and not conversation.is_notice(shown[0]):
        return update.text  # the common case: just the reply
    return shown


def as_messages(message: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``chat_message``'s result as a list of chat messages."""
    return [{"role": "assistant", "content": message}] if isinstance(message, str) else message


def _calls(update: ReplyUpdate) -> list[dict[str, Any]]:
    """Each call as its own message: growing while it streams, whole when it came whole, else incomplete."""
    state = "streaming" if not update.done else "done" if update.info.calls_complete else "incomplete"
    return [
        tool_turns.call_message(tool_turns.Call(call.id, call.name, call.arguments), state=state)
        for call in update.info.tool_calls
    ]


def _tool_reports(update: ReplyUpdate) -> list[dict[str, Any]]:
    """What a built-in tool brought back (sources, the model delegated to), collapsed to its summary line."""
    return [
        conversation.notice(report.title, report.body, log=report.summary, status="done")
        for report in tool_data.reports(update.info.tool_data)
    ]


def schema_verdict(update: ReplyUpdate) -> structured.Verdict | None:
    """A finished structured reply checked against its schema; None when none was asked for, or no text came."""
    schema = tool_params.response_schema(update.info.request.get("response_format"))
    if schema is None or not update.done or not update.text or update.info.error is not None:
        return None
    return structured.check_reply(update.text, schema)


def tokens_of(update: ReplyUpdate) -> str:
    """The token view of a finished reply; empty while it streams (the last reply's view would read as this
    one's), and when logprobs were not asked for."""
    return token_view.render(update.info.logprobs) if update.done else ""


def with_reply(shown: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The chat with its last reply's text as the handler last sent it (the page may be one update behind),
    and calls still arriving marked incomplete: the reply was stopped."""
    shown = tool_turns.settled(shown)
    for index in range(len(shown) - 1, -1, -1):
        message = shown[index]
        if message.get("role") == "user":
            break  # this turn has no reply message yet
        if message.get("role") == "assistant" and not conversation.is_notice(message):
            return [*shown[:index], {**message, "content": text}, *shown[index + 1 :]]
    return [*shown, {"role": "assistant", "content": text}] if text else shown


def as_markdown(shown: list[dict[str, Any]]) -> str:
    """A reply's messages (and a tool round's) as one Markdown block, for a tab without a chat: each notice,
    call and result under its title, the text as it came; run cards left out (the tab shows its own)."""
    blocks = []
    for message in shown:
        title = conversation.notice_title(message)
        content = messages.content_text(message.get("content"))
        if title == conversation.RUN_CARD:
            continue
        if title is None:
            blocks.append(content)
        else:
            log = (message.get("metadata") or {}).get("log")
            blocks.append(f"**{title}**" + (f" · *{log}*" if log else "") + f"\n\n{content}")
    return "\n\n".join(blocks)


def reply_markdown(update: ReplyUpdate) -> str:
    """A reply for a tab without a chat: its text (a structured one formatted, under its verdict), then its calls.
    Errors and timings are the run card's."""
    verdict = schema_verdict(update)
    if verdict is not None:
        body = tool_turns.fenced(verdict.pretty, "json") if verdict.pretty else update.text
        return f"**{verdict.line}**\n\n{body}"
    text = [{"role": "assistant", "content": update.text}] if update.text else []
    return as_markdown([*text, *_calls(update), *_tool_reports(update)])
