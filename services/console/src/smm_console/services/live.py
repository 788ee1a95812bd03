"""The live view's in-process fan-out: recent events for resuming, one bounded queue per client.

Every console replica consumes the live topics itself (no consumer group), so each holds
the same events but numbers them with its own ``seq``. An event's id on the wire is
``<instance>.<seq>``: a client that reconnects to another replica, or to this one after a
restart, presents an id that is not from this process's history and gets ``reset`` (it
refetches) instead of a silently wrong resume.

Nothing here does I/O; the Kafka side (``adapters.live_feed``) calls :meth:`LiveHub.publish`,
the HTTP side (``api.live``) reads :class:`LiveSubscription`\\ s.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Literal

from smm_shared.auth.tokens import ROLE_PERMISSIONS, Permission, Role
from smm_shared.events import Event
from smm_shared.events.replies import ReplyOutcome
from smm_shared.events.topics import ALERTS, CASES, CONTESTS, POSTS, SLA

logger = logging.getLogger(__name__)

LiveKind = Literal["case", "sla", "alert", "post", "contest"]

#: Which kind of live event each topic carries; events of other topics are not live.
KIND_OF_TOPIC: Final[Mapping[str, LiveKind]] = {
    CASES.name: "case",
    SLA.name: "sla",
    ALERTS.name: "alert",
    POSTS.name: "post",
    CONTESTS.name: "contest",
}
#: The permission a kind needs: the one the service's own read API for it checks
#: (responder ``GET /v1/cases``, analytics ``GET /v1/alerts``, publisher ``GET /v1/content``).
PERMISSION_OF_KIND: Final[Mapping[LiveKind, Permission]] = {
    "case": Permission.MENTIONS_READ,
    "sla": Permission.MENTIONS_READ,
    "alert": Permission.ANALYTICS_READ,
    "post": Permission.CONTENT_READ,
    "contest": Permission.CONTENT_READ,
}

DEFAULT_BUFFER_SIZE: Final = 2000
DEFAULT_QUEUE_SIZE: Final = 500

JsonObject = dict[str, Any]


def live_kind(event: Event) -> LiveKind | None:
    """The live kind of an event, or None when the live view does not show it.

    ``reply.published`` / ``reply.failed`` travel on the posts topic but are about cases;
    the responder restates them on the cases topic (``case.replied``, ``case.reply_failed``),
    so the live view takes them from there, under the cases' permission.
    """
    if isinstance(event, ReplyOutcome):
        return None
    return KIND_OF_TOPIC.get(event.topic)


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One event as the live view shows it, numbered in this process."""

    seq: int
    brand_id: str
    kind: LiveKind
    #: The CloudEvents type, e.g. ``smm.case.opened``.
    event_type: str
    #: The event as JSON (``model_dump(mode="json", exclude_none=True)``).
    data: JsonObject = field(repr=False)
    #: The SSE ``data:`` line's JSON, serialised once for every client.
    payload: str = field(repr=False, compare=False)

    @classmethod
    def of(cls, event: Event, *, seq: int, kind: LiveKind) -> LiveEvent:
        """The live form of ``event``."""
        data = event.model_dump(mode="json", exclude_none=True)
        body = {"type": event.event_type, "kind": kind, "brand_id": event.brand_id, "data": data}
        return cls(
            seq=seq,
            brand_id=event.brand_id,
            kind=kind,
            event_type=event.event_type,
            data=data,
            payload=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        )


@dataclass(frozen=True, slots=True)
class LiveReset:
    """The client missed events (it fell behind, or cannot resume): refetch, then go on.

    ``seq`` is the last event the refetch covers, so a reconnect resumes after it.
    """

    seq: int
    reason: Literal["overflow", "resume_unavailable"]


LiveItem = LiveEvent | LiveReset


@dataclass(frozen=True, slots=True)
class LiveView:
    """What one session may see: its current brand, and the permissions of its roles."""

    brand_id: str
    permissions: frozenset[Permission]

    @classmethod
    def of(
        cls,
        brand_id: str,
        roles: Iterable[Role],
        *,
        table: Mapping[Role, frozenset[Permission]] = ROLE_PERMISSIONS,
    ) -> LiveView:
        """The view of a session in ``brand_id`` holding ``roles`` (``table``: who may do what)."""
        granted: set[Permission] = set()
        for role in roles:
            granted |= table.get(role, frozenset())
        return cls(brand_id, frozenset(granted))

    def sees(self, event: LiveEvent) -> bool:
        """Whether the session may see ``event``: same brand, and a role grants its kind."""
        return (
            event.brand_id == self.brand_id and PERMISSION_OF_KIND[event.kind] in self.permissions
        )


class LiveSubscription:
    """One client's stream: the buffered events it missed, then live ones, then ``close()``."""

    def __init__(
        self,
        hub: LiveHub,
        view: LiveView,
        *,
        backlog: Iterable[LiveItem],
        queue_size: int,
    ) -> None:
        self.hub = hub
        self.view = view
        self._backlog: deque[LiveItem] = deque(backlog)
        self._queue: asyncio.Queue[LiveItem] = asyncio.Queue(maxsize=queue_size)
        #: Times this client fell behind and was told to refetch.
        self.overflows = 0
        self.closed = False

    def offer(self, event: LiveEvent) -> None:
        """Queue ``event`` without ever waiting; a full queue becomes one reset (the hub goes on)."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflows += 1
            # What is queued is superseded by the refetch the reset asks for: drop it.
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(LiveReset(event.seq, "overflow"))

    def next_nowait(self) -> LiveItem | None:
        """The next item if one is ready, else None."""
        if self._backlog:
            return self._backlog.popleft()
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    async def next(self) -> LiveItem:
        """The next item, waiting for one."""
        if self._backlog:
            return self._backlog.popleft()
        return await self._queue.get()

    def close(self) -> None:
        """Stop receiving; idempotent."""
        if not self.closed:
            self.closed = True
            self.hub._remove(self)

    def __enter__(self) -> LiveSubscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class LiveHub:
    """Numbers live events, keeps the latest ``buffer_size`` and hands them to subscribers."""

    def __init__(
        self,
        *,
        buffer_size: int = DEFAULT_BUFFER_SIZE,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        instance: str | None = None,
    ) -> None:
        if buffer_size < 1 or queue_size < 1:
            raise ValueError("buffer_size and queue_size must be positive")
        #: Names this process's numbering in event ids (a restart or another replica differs).
        self.instance = instance or secrets.token_hex(4)
        if not (self.instance.isascii() and self.instance.isalnum()):
            raise ValueError("instance must be letters and digits")
        self.queue_size = queue_size
        self._buffer: deque[LiveEvent] = deque(maxlen=buffer_size)
        self._last_seq = 0
        self._by_brand: dict[str, set[LiveSubscription]] = {}

    @property
    def last_seq(self) -> int:
        """The number of the latest event (0 before the first)."""
        return self._last_seq

    @property
    def subscriber_count(self) -> int:
        """Open subscriptions."""
        return sum(len(subs) for subs in self._by_brand.values())

    def buffered(self) -> list[LiveEvent]:
        """The events kept for resuming, oldest first."""
        return list(self._buffer)

    def publish(self, event: Event) -> LiveEvent | None:
        """Number, keep and fan out ``event``; None (nothing done) when it is not a live event."""
        kind = live_kind(event)
        if kind is None:
            return None
        self._last_seq += 1
        live = LiveEvent.of(event, seq=self._last_seq, kind=kind)
        self._buffer.append(live)
        for subscription in tuple(self._by_brand.get(live.brand_id, ())):
            if subscription.view.sees(live):
                subscription.offer(live)
        return live

    def subscribe(self, view: LiveView, *, after_seq: int | None = None) -> LiveSubscription:
        """A subscription for ``view``: buffered events after ``after_seq``, then live ones.

        ``after_seq`` None starts with live events only. When the events after it are no
        longer all buffered (or it is not from this process), the subscription starts with
        a reset instead.
        """
        backlog: list[LiveItem] = []
        if after_seq is not None:
            oldest = self._buffer[0].seq if self._buffer else self._last_seq + 1
            if oldest - 1 <= after_seq <= self._last_seq:
                skip = after_seq - (oldest - 1)
                backlog = [e for e in itertools.islice(self._buffer, skip, None) if view.sees(e)]
            else:
                backlog = [LiveReset(self._last_seq, "resume_unavailable")]
        subscription = LiveSubscription(self, view, backlog=backlog, queue_size=self.queue_size)
        self._by_brand.setdefault(view.brand_id, set()).add(subscription)
        return subscription

    def event_id(self, seq: int) -> str:
        """The SSE id of the event numbered ``seq`` here."""
        return f"{self.instance}.{seq}"

    def resume_point(self, last_event_id: str | None) -> int | None:
        """The ``after_seq`` for a client's ``Last-Event-ID``: None without one, -1 if not ours."""
        if not last_event_id:
            return None
        instance, _, seq = last_event_id.strip().partition(".")
        if instance != self.instance or not (seq.isascii() and seq.isdigit()) or len(seq) > 18:
            return -1  # another replica's or process's numbering: nothing to resume from
        return int(seq)

    def _remove(self, subscription: LiveSubscription) -> None:
        subs = self._by_brand.get(subscription.view.brand_id)
        if subs is None:
            return
        subs.discard(subscription)
        if not subs:
            del self._by_brand[subscription.view.brand_id]
