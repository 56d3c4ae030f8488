"""The chat service: a checked plan from what a visitor asked, then its reply or its comparison.

Knows nothing of Gradio. It holds the request policy in one place: the visitor's rate limit
(refusals count too), how many replies one visitor may have under way, the key policy (the
server's key, or the visitor's own for that request only), the models on offer, and trimming
the history to the context budget. Every tab asks it for a ``Plan``, then for that plan's
reply (or its cells' replies), so every request takes the same checks and the same path.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, aclosing, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import writerai
from writerai import AsyncWriter

from components.chat import conversation, images
from components.chat.compare import Cell, fan_out
from components.chat.limits import ConcurrencyLimit, RateLimiter, SharedCounts
from components.chat.params import InvalidRequestError, Sampling
from components.chat.runs import InFlight
from components.settings import FALLBACK_MODELS, Settings
from components.writer import clients
from components.writer.errors import describe_error
from components.writer.records import ReplyUpdate
from components.writer.reply import generate_reply

OFFLINE_API_KEY = "offline-demo"  # the stand-in accepts any bearer token; the SDK insists on one
MALFORMED_KEY = (
    "That API key cannot be right: it has a space, a line break or a character outside ASCII. "
    "Copy it again from Writer's dashboard."
)
VISITOR_KEY_REQUIRED = (
    "This app asks each visitor to use their own Writer API key: enter it under "
    "“Your Writer API key” at the top of the page."
)


@dataclass(frozen=True)
class Ask:
    """What a visitor asked for, unchecked: as the page or an API caller sent it."""

    prompt: object
    temperature: object
    model: object
    system: object
    own_key: object = ""
    sampling: Mapping[str, object] = field(default_factory=dict)  # by parameter name (params.SAMPLING)
    history: Sequence[Mapping[str, Any]] = ()
    # No new question: the history ends with tool results for the model to read (``prompt`` is ignored).
    after_tool_results: bool = False
    images: Sequence[str] = ()  # the files attached to the question (paths the chat received)


@dataclass(frozen=True)
class Plan:
    """A checked request, ready to send."""

    messages: list[dict[str, Any]]
    temperature: float
    model: str
    sampling: Sampling
    visitor_key: str | None  # the visitor's own key, for this request only
    trimmed: int  # how many old messages were left out to fit the context budget
    visitor: str  # whose request it is: their address, as the rate limit counts them


def visitor_of(peer: str | None, forwarded_for: str | None, trusted_hops: int) -> str:
    """Whom the rate limit counts: the client's address, as the nearest trusted proxy saw it.

    With no trusted proxy it is the peer's address, whatever X-Forwarded-For claims. With N,
    it is the N-th entry from the end of X-Forwarded-For: each proxy appends the address it
    was reached from, so entries before that are the client's own word and can be forged.
    """
    peer = peer or "unknown"
    if trusted_hops <= 0:
        return peer
    forwarded = [entry.strip() for entry in (forwarded_for or "").split(",") if entry.strip()]
    if not forwarded:
        return peer
    return forwarded[-trusted_hops] if len(forwarded) >= trusted_hops else forwarded[0]


class ChatService:
    """Plans and replies for one app's settings. One per app; shared by every visitor and tab."""

    def __init__(self, settings: Settings, *, image_root: Path | None = None) -> None:
        if settings.offline and not settings.offline_url:
            msg = "offline mode: start the stand-in first (components.offline.with_standin)"
            raise ValueError(msg)
        self.settings = settings
        # Where the chat keeps the files visitors attach: an image is read from there and from nowhere else.
        self.image_root = image_root
        self.runs = InFlight()  # what each visitor's tabs are generating, so that Stop can say what it stopped
        self._listed: list[str] = []  # filled from GET /v1/models on the first page load
        self._limiter = RateLimiter(settings.rate_limit_per_minute, counts=SharedCounts(settings.rate_limit_storage))
        self._under_way = ConcurrencyLimit(settings.max_requests_at_once)  # slots and connections a visitor holds

    @property
    def models(self) -> list[str]:
        """The models on offer: the configured one first, then Writer's list (the built-in one until it came)."""
        return list(dict.fromkeys([self.settings.model, *(self._listed or FALLBACK_MODELS)]))

    @property
    def read_image(self) -> conversation.ImageReader | None:
        """Reads an image the chat received into Writer's fragment (None: this app takes no images)."""
        return functools.partial(images.fragment, root=self.image_root) if self.image_root else None

    async def refresh_models(self) -> list[str]:
        """Ask Writer for its models, once. Not when visitors must bring their own key: the server's is not
        theirs to spend, not even on a list."""
        if not self._listed and not self.settings.visitor_key_required:
            self._listed = await clients.list_models(self._server_client(), FALLBACK_MODELS)
        return self.models

    async def list_graphs(self, own_key: object, visitor: str) -> list[tuple[str, str]]:
        """The Knowledge Graphs the key in use can search, as (name, id) pairs; counted by the rate limit like a
        request. Raises InvalidRequestError (the key policy, the limit) or a message for Writer's failure."""
        self._charge(visitor, 1)
        visitor_key = self._visitor_key(own_key)
        try:
            async with self._client(visitor_key) as writer:
                return await clients.list_graphs(writer)
        except (writerai.APIError, httpx.HTTPError) as exc:
            secrets = (visitor_key, self.settings.api_key)
            reason = describe_error(exc, timeout=self.settings.timeout, secrets=[s for s in secrets if s])
            raise InvalidRequestError(f"Could not list the Knowledge Graphs: {reason}") from None

    def plan(self, ask: Ask, visitor: str, *, extra_models: Sequence[object] = (), count: int = 1) -> Plan:
        """Check everything before anything is sent; raises InvalidRequestError with a message for the user.

        The rate limit comes first: a refused request counts too, or refusals would cost nothing.
        ``count`` is how many requests the plan makes (a comparison makes several at once).
        """
        self._charge(visitor, count)
        if self._under_way.full(visitor):
            msg = (
                f"You already have {self.settings.max_requests_at_once} replies under way: "
                "wait for one to finish (or stop it), then try again."
            )
            raise InvalidRequestError(msg)
        temperature = conversation.check_parameters(ask.temperature, ask.model, self.models)
        for other in extra_models:
            conversation.check_parameters(ask.temperature, other, self.models)
        if ask.after_tool_results:
            prompt = None
            conversation.check_system(ask.system)
        else:
            prompt = conversation.check_prompt(ask.prompt, ask.system)
        sampling = Sampling.read(dict(ask.sampling), models=[str(ask.model), *map(str, extra_models)])
        visitor_key = self._visitor_key(ask.own_key)
        messages = conversation.build_messages(
            ask.history, prompt, str(ask.system), images=ask.images, read_image=self.read_image
        )
        images.check(messages, [str(ask.model), *map(str, extra_models)])
        if prompt is None and (not messages or messages[-1]["role"] != "tool"):
            raise InvalidRequestError("No tool results to send: answer the pending calls first.")
        messages, trimmed = conversation.fit_to_context(messages, self.settings.context_tokens)
        return Plan(messages, temperature, str(ask.model), sampling, visitor_key, trimmed, visitor)

    async def reply(self, plan: Plan, *, stream: bool) -> AsyncIterator[ReplyUpdate]:
        """The plan's reply, growing; the last update has ``done=True``."""
        with self._under_way.hold(plan.visitor):
            async with (
                self._client(plan.visitor_key) as writer,
                aclosing(self._generate(writer, plan, Cell(plan.model, plan.temperature, stream))) as updates,
            ):
                async for update in updates:
                    yield update

    async def compare(self, plan: Plan, cells: Sequence[Cell]) -> AsyncIterator[list[ReplyUpdate | None]]:
        """Every cell's reply at once, on one client: snapshots of each cell's latest update."""
        with self._under_way.hold(plan.visitor):
            async with self._client(plan.visitor_key) as writer:
                replies = [self._generate(writer, plan, cell) for cell in cells]
                async with aclosing(fan_out(replies)) as snapshots:
                    async for snapshot in snapshots:
                        yield snapshot

    async def each_reply(
        self, plans: Sequence[Plan], *, concurrency: int
    ) -> AsyncIterator[tuple[int, ReplyUpdate | None]]:
        """Each plan's finished reply (streamed), at most ``concurrency`` under way at once, as they finish.

        The whole run holds one of the visitor's slots, as a comparison does; closing it (Stop) cancels every
        request still under way or waiting, which closes its upstream stream. None: a reply that could not run.
        """
        if not plans:
            return
        with self._under_way.hold(plans[0].visitor):
            async with self._client(plans[0].visitor_key) as writer:
                gate, finished = asyncio.Semaphore(max(1, concurrency)), asyncio.Queue()

                async def one(index: int, plan: Plan) -> None:
                    final = None
                    try:
                        async with (
                            gate,
                            aclosing(self._generate(writer, plan, Cell(plan.model, plan.temperature))) as r,
                        ):
                            async for final in r:  # noqa: B007 (the last update is the reply)
                                pass
                    finally:
                        finished.put_nowait((index, final))  # whatever happened, the run learns this one ended

                tasks = [asyncio.create_task(one(index, plan)) for index, plan in enumerate(plans)]
                try:
                    for _ in plans:
                        yield await finished.get()
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)

    def visitor_key_url(self) -> str:
        """Where requests made with a visitor's own key go: WRITER_BASE_URL, else Writer's API. In offline
        mode too: a visitor with a key wants Palmyra, not the echo."""
        return self.settings.base_url or clients.WRITER_API_URL

    def _generate(self, writer: AsyncWriter, plan: Plan, cell: Cell) -> AsyncIterator[ReplyUpdate]:
        return generate_reply(
            writer,
            plan.messages,
            model=cell.model,
            temperature=cell.temperature,
            stream=cell.stream,
            options=plan.sampling.to_request(),
            retry=self.settings.retry,
            limits=self.settings.limits,
        )

    def _charge(self, visitor: str, count: int) -> None:
        """Count ``count`` requests against the visitor's rate limit; raises InvalidRequestError past it."""
        wait = self._limiter.acquire(visitor, count)
        if wait is not None:
            asked = f" ({count} asked for at once)" if count > 1 else ""
            msg = (
                f"Too many requests: this app allows {self.settings.rate_limit_per_minute} a minute per "
                f"visitor{asked}. Try again in {math.ceil(wait)} s."
            )
            raise InvalidRequestError(msg)

    def _visitor_key(self, own_key: object) -> str | None:
        key = own_key.strip() if isinstance(own_key, str) and own_key.strip() else None
        if self.settings.visitor_key_required and not key:
            raise InvalidRequestError(VISITOR_KEY_REQUIRED)
        if key is not None and (not key.isascii() or any(c.isspace() for c in key)):
            # It would go upstream as an HTTP header: a line break is refused there and retried as a network failure.
            raise InvalidRequestError(MALFORMED_KEY)
        return key

    def _server_client(self) -> AsyncWriter:
        """The shared client for the server's own key (offline: the stand-in's)."""
        settings = self.settings
        if settings.offline:
            return clients.shared_client(OFFLINE_API_KEY, settings.offline_url, settings.timeout)
        return clients.shared_client(str(settings.api_key), settings.base_url, settings.timeout)

    def _client(self, visitor_key: str | None) -> AbstractAsyncContextManager[AsyncWriter]:
        """The client for one request: the visitor's own (closed after it), else the server's."""
        if visitor_key:
            return clients.own_client(visitor_key, self.visitor_key_url(), self.settings.timeout)
        return nullcontext(self._server_client())
