"""Content items and their deliveries in MongoDB, with their events in an embedded outbox.

``content``: one document per item: the item's fields (``ContentItem.to_doc``), its approval
state, ``publish_at_ms`` (the scheduled instant as epoch ms, what the calendar queries),
a summary of its deliveries per account, ``version`` for optimistic updates and the outbox.

``deliveries``: one document per post of an item from one account (``_id`` =
``{content id}:{account id}``) or per reply (``reply:{reply id}``): the idempotency key of
that delivery, so a replayed command or a re-fired timer finds the one that exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from smm_shared.events import Event
from smm_shared.mongo import (
    OUTBOX_INDEXES,
    Collection,
    Document,
    IndexSpec,
    ensure_indexes,
    outbox_fields,
    with_outbox,
)

CONTENT_INDEXES = (IndexSpec(["brand_id"]), IndexSpec(["publish_at_ms"]), *OUTBOX_INDEXES)
DELIVERY_INDEXES = (IndexSpec(["content_id"]), *OUTBOX_INDEXES)
#: Fields a read for a decision never needs.
SLIM = {"outbox": 0}


@dataclass(frozen=True, slots=True)
class CalendarQuery:
    """Items of a brand in ``[from_ms, to_ms)`` of their scheduled time, with filters."""

    brand_id: str
    from_ms: int
    to_ms: int
    statuses: frozenset[str] = frozenset()
    campaign_id: str | None = None
    network: str | None = None
    account_id: str | None = None
    limit: int = 500


class ContentRepository:
    """Content items and deliveries; writes carry their events."""

    def __init__(self, content: Collection, deliveries: Collection, *, source: str) -> None:
        self.content = content
        self.deliveries = deliveries
        self.source = source
        #: Called after a write that stored events (the outbox relay's ``notify``).
        self.notify: Callable[[], None] = lambda: None

    def _wrote(self, events: Sequence[Event]) -> None:
        if events:
            self.notify()

    @property
    def collections(self) -> tuple[Collection, ...]:
        """The collections whose outbox the relay publishes."""
        return (self.content, self.deliveries)

    async def ensure_indexes(self) -> None:
        """Indexes of both collections (single fields only: see docs/mongo-subset.md)."""
        await ensure_indexes(self.content, CONTENT_INDEXES)
        await ensure_indexes(self.deliveries, DELIVERY_INDEXES)

    # --- content ---------------------------------------------------------------------------

    async def insert(self, doc: Document, events: Sequence[Event]) -> None:
        """Store a new item (``version`` 1) with its events."""
        await self.content.insert_one(
            {**doc, "version": 1, **outbox_fields(events, source=self.source)}
        )
        self._wrote(events)

    async def insert_many(self, docs: Sequence[tuple[Document, Sequence[Event]]]) -> None:
        """Store several new items at once (a CSV import)."""
        if docs:
            await self.content.insert_many(
                [
                    {**doc, "version": 1, **outbox_fields(events, source=self.source)}
                    for doc, events in docs
                ]
            )
            self.notify()

    async def get(self, content_id: str) -> Document | None:
        """An item without its outbox."""
        return await self.content.find_one({"_id": content_id}, projection=SLIM)

    async def update(
        self,
        content_id: str,
        *,
        version: int,
        fields: Mapping[str, Any],
        events: Sequence[Event],
        unset: Sequence[str] = (),
    ) -> bool:
        """Apply ``fields`` if the item is still at ``version``; False when it moved on."""
        update: Document = {"$set": {**fields, "version": version + 1}}
        if unset:
            update["$unset"] = {name: "" for name in unset}
        result = await self.content.update_one(
            {"_id": content_id, "version": version},
            with_outbox(update, events, source=self.source),
        )
        self._wrote(events)
        return result.matched_count == 1

    async def calendar(self, query: CalendarQuery) -> list[Document]:
        """Items scheduled in the range, earliest first (filters on arrays applied here)."""
        filter_: Document = {
            "brand_id": query.brand_id,
            "publish_at_ms": {"$gte": query.from_ms, "$lt": query.to_ms},
        }
        if query.statuses:
            filter_["status"] = {"$in": sorted(query.statuses)}
        if query.campaign_id:
            filter_["campaign_id"] = query.campaign_id
        cursor = self.content.find(filter_, projection=SLIM).sort("publish_at_ms", ASCENDING)
        out: list[Document] = []
        async for doc in cursor:
            if query.network and query.network not in (doc.get("networks") or ()):
                continue
            if query.account_id and query.account_id not in (doc.get("targets") or ()):
                continue
            out.append(doc)
            if len(out) >= query.limit:
                break
        return out

    async def drafts(self, brand_id: str, *, statuses: Sequence[str], limit: int) -> list[Document]:
        """Items of a brand in ``statuses`` whatever their time (unscheduled drafts, queues)."""
        cursor = self.content.find(
            {"brand_id": brand_id, "status": {"$in": list(statuses)}}, projection=SLIM
        ).limit(limit)
        return [doc async for doc in cursor]

    # --- deliveries ------------------------------------------------------------------------

    async def add_delivery(self, doc: Document, events: Sequence[Event] = ()) -> bool:
        """Create a delivery; False when one with this key exists (a replay)."""
        try:
            await self.deliveries.insert_one(
                {**doc, "version": 1, **outbox_fields(events, source=self.source)}
            )
        except DuplicateKeyError:
            return False
        self._wrote(events)
        return True

    async def delivery(self, delivery_id: str) -> Document | None:
        """A delivery without its outbox."""
        return await self.deliveries.find_one({"_id": delivery_id}, projection=SLIM)

    async def update_delivery(
        self,
        delivery_id: str,
        *,
        version: int,
        fields: Mapping[str, Any],
        events: Sequence[Event] = (),
    ) -> bool:
        """Apply ``fields`` if the delivery is still at ``version``."""
        result = await self.deliveries.update_one(
            {"_id": delivery_id, "version": version},
            with_outbox({"$set": {**fields, "version": version + 1}}, events, source=self.source),
        )
        self._wrote(events)
        return result.matched_count == 1

    async def deliveries_of(self, content_id: str) -> list[Document]:
        """Every delivery of an item."""
        cursor = self.deliveries.find({"content_id": content_id}, projection=SLIM)
        return [doc async for doc in cursor]
