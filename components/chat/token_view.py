"""A finished reply as its tokens, each shaded by how sure the model was, with the alternatives it weighed.

Pure HTML from a run card's log probabilities: the shading is one hue whose strength grows as the
token's probability falls, so sure stretches read as plain text and hesitations stand out. Every
token's alternatives are in its tooltip, and the least sure tokens are listed in a table under it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from components.writer.records import TokenChance

UNSURE_SHOWN = 10  # rows of the table of the least sure tokens
EMPTY = "Turn on **logprobs** (under Parameters): the next reply can then be shown as its tokens."


def probability(logprob: float) -> float:
    return math.exp(logprob)


def _visible(token: str) -> str:
    """A token as the table shows it: whitespace made visible."""
    return token.replace(" ", "␣").replace("\n", "⏎") or "∅"


def _tooltip(token: TokenChance) -> str:
    alternatives = ", ".join(f"{_visible(t)} {probability(p):.0%}" for t, p in token.alternatives if t != token.token)
    return f"{probability(token.logprob):.1%}" + (f" · also: {alternatives}" if alternatives else "")


def render(tokens: Sequence[TokenChance]) -> str:
    """The reply's tokens as shaded spans, then a table of the least sure ones."""
    if not tokens:
        return ""
    spans = []
    for token in tokens:
        strength = round(0.75 * (1 - probability(token.logprob)), 2)  # 0: certain; 0.75: a coin toss or worse
        spans.append(
            f'<span class="token" style="background: rgba(245, 130, 32, {strength})" '
            f'title="{html.escape(_tooltip(token))}">{html.escape(token.token)}</span>'
        )
    rows = "".join(
        f"<tr><td><code>{html.escape(_visible(token.token))}</code></td><td>{probability(token.logprob):.1%}</td>"
        f"<td>{html.escape(_tooltip(token).partition(' · also: ')[2] or '-')}</td></tr>"
        for token in sorted(tokens, key=lambda t: t.logprob)[:UNSURE_SHOWN]
    )
    average = sum(probability(t.logprob) for t in tokens) / len(tokens)
    return (
        f'<div class="token-view"><p class="reply-info">{len(tokens)} tokens, on average {average:.0%} sure. '
        "The stronger the shade, the less sure the model was; hover over a token for its alternatives.</p>"
        f'<p class="tokens">{"".join(spans)}</p>'
        f"<table><caption>The {min(UNSURE_SHOWN, len(tokens))} least sure tokens</caption>"
        f"<thead><tr><th>token</th><th>probability</th><th>alternatives</th></tr></thead><tbody>{rows}</tbody></table>"
        "</div>"
    )
