"""Content metrics storage: our posts with their latest engagement, content items, spend.

**Collections** (the composition root names them; these are the names ``main.py`` uses):

* ``content_items`` - one document per content item, from ``ContentCreated``:
  ``{_id: "brand|<escaped content id>", brand_id, content_id, title, campaign_id?, labels}``.
  Written once (``$setOnInsert``): a content item is created once.
* ``content_posts`` - one document per post on a network, from ``PostPublished`` *and*
  ``EngagementObserved``, keyed like :class:`~smm_analytics.domain.rollups.LatestEngagement`
  (``brand|post|<network>:<escaped native id>``, :func:`post_key`): ``{_id, brand_id,
  network, native_id, observed_ms, c?: {likes, comments, shares, views, clicks},
  content_id?, account_id?, url?, published_ms?, campaign_id?, title?}``. ``observed_ms`` is
  the newest snapshot's time, ``-1`` (:data:`NOT_OBSERVED`) until one arrives; ``c`` holds
  only the counters that snapshot reports. A post we never saw published (ingest tracks
  it, or its PostPublished is still on its way) has no ``published_ms``.
* ``campaign_spend`` - one document per campaign with spend entered through the API:
  ``{_id: "brand|<escaped campaign id>", brand_id, campaign_id, version, entries: [...]}``.

**Idempotence and order** (:meth:`ContentStore.record`, one call per consumed batch):

* ContentCreated: ``$setOnInsert`` of the item, then ``update_many`` of the posts already
  stored for that item (``content_id``), so a post published before its item was seen gets
  its campaign and title when the item arrives.
* PostPublished: an upsert by key that ``$set``s the post's fields (the same values on
  every replay) with ``$min`` of ``published_ms`` (the first publication, whatever the
  order) and ``$setOnInsert`` of ``observed_ms: -1`` so the snapshot guard below matches.
  The campaign and title are copied from the item's document when it is stored (or in the
  same batch). If it is not, they stay absent; the item's later ContentCreated fills them
  (above). A ContentCreated stored between our read and our write would miss the post, so
  after the write the items that were missing are read again and copied if now present.
* EngagementObserved: the guarded replacement of rollups.py,
  ``update_one({_id, observed_ms: {$lt: ms}}, {$set: {observed_ms, c, ...}}, upsert=True)``:
  a newer snapshot replaces the counters (``c`` as a whole: counters fall, and one the
  network stopped reporting disappears); an older or equal one finds no document to update,
  its upsert collides on ``_id`` (duplicate key) and that means "a snapshot as new or newer
  is stored": a no-op. Within a batch only the newest snapshot of each post is written. On
  equal ``observed_at`` the first stored stays.

One ``bulk_write`` per collection per call (unordered). Duplicate-key errors of guarded
updates are no-ops; any other error propagates so the consumer does not commit. Two
upserts of the same new post racing each other may also end in a duplicate key, so on any
duplicate the post upserts (idempotent) are run once more.

**Spend** entries live embedded in their campaign's document and change by optimistic
replacement (``update_one({_id, version}, {$set: {entries, version + 1}})``, retried on a
lost race): a single-document atomic step, so "one currency per campaign" holds under
concurrent writers without transactions. Times inside entries are epoch milliseconds and
dates ISO strings (an updated datetime is stored as a naive string on nx-27017).

**Indexes**: single-field only (never an array): ``brand_id`` and ``campaign_id`` on items;
``brand_id``, ``campaign_id``, ``content_id``, ``published_ms``, ``observed_ms`` on posts;
``brand_id`` on spend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pymongo import UpdateMany, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from smm_analytics.domain.rollups import escape_field, latest_engagement
from smm_shared.events import ContentCreated, EngagementObserved, Event, PostPublished
from smm_shared.mongo import (
    Collection,
    Document,
    IndexSpec,
    ensure_indexes,
    epoch_ms,
    from_epoch_ms,
)

#: ``observed_ms`` of a post no snapshot has reached yet (every real snapshot is newer).
NOT_OBSERVED = -1
ITEM_INDEXES = (IndexSpec(["brand_id"]), IndexSpec(["campaign_id"]))
POST_INDEXES = (
    IndexSpec(["brand_id"]),
    IndexSpec(["campaign_id"]),
    IndexSpec(["content_id"]),
    IndexSpec(["published_ms"]),
    IndexSpec(["observed_ms"]),
)
SPEND_INDEXES = (IndexSpec(["brand_id"]),)
#: Attempts of an optimistic spend change before giving up (only lost races retry).
SPEND_ATTEMPTS = 20
_DUPLICATE_KEY = 11000
_POST_FIELDS = {
    "_id": 0,
    "brand_id": 1,
    "network": 1,
    "native_id": 1,
    "observed_ms": 1,
    "c": 1,
    "content_id": 1,
    "account_id": 1,
    "url": 1,
    "published_ms": 1,
    "campaign_id": 1,
    "title": 1,
}


def post_key(brand_id: str, network: str, native_id: str) -> str:
    """A post's document id: the :class:`LatestEngagement` key, ``brand|post|net:native``."""
    return f"{brand_id}|post|{network}:{escape_field(native_id)}"


def item_key(brand_id: str, content_id: str) -> str:
    """A content item's document id: ``brand|<escaped content id>``."""
    return f"{brand_id}|{escape_field(content_id)}"


def campaign_key(brand_id: str, campaign_id: str) -> str:
    """A campaign's spend document id: ``brand|<escaped campaign id>``."""
    return f"{brand_id}|{escape_field(campaign_id)}"


@dataclass(frozen=True, slots=True)
class PostRow:
    """One stored post: where it is, what it belongs to, its newest counters."""

    brand_id: str
    network: str
    native_id: str
    counters: Mapping[str, int]
    observed_at: datetime | None = None
    published_at: datetime | None = None
    content_id: str | None = None
    account_id: str | None = None
    campaign_id: str | None = None
    title: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SpendEntry:
    """Money spent on a campaign, as a person entered it (integer minor units)."""

    id: str
    amount_minor: int
    currency: str
    spent_on: date
    created_at: datetime
    created_by: str
    network: str | None = None
    note: str | None = None


class SpendConflictError(RuntimeError):
    """A spend change lost the optimistic race too many times in a row."""


SpendChange = Callable[[list[SpendEntry]], list[SpendEntry]]


def _only_duplicates(error: BulkWriteError) -> None:
    """Re-raise unless every failed write of an unordered bulk was a duplicate key."""
    details: Mapping[str, Any] = error.details or {}
    if details.get("writeConcernErrors") or any(
        e.get("code") != _DUPLICATE_KEY for e in details.get("writeErrors", [])
    ):
        raise error


def _content_fields(doc: Mapping[str, Any]) -> Document:
    """What a post copies from its item: title, and campaign when it has one."""
    copied: Document = {"title": doc["title"]}
    if doc.get("campaign_id"):
        copied["campaign_id"] = doc["campaign_id"]
    return copied


def _row(doc: Mapping[str, Any]) -> PostRow:
    observed = int(doc.get("observed_ms", NOT_OBSERVED))
    published = doc.get("published_ms")
    counters = {str(k): int(v) for k, v in dict(doc.get("c") or {}).items()}

    def text(name: str) -> str | None:
        value = doc.get(name)
        return None if value is None else str(value)

    return PostRow(
        brand_id=str(doc["brand_id"]),
        network=str(doc["network"]),
        native_id=str(doc["native_id"]),
        counters=counters,
        observed_at=from_epoch_ms(observed) if observed != NOT_OBSERVED else None,
        published_at=None if published is None else from_epoch_ms(int(published)),
        content_id=text("content_id"),
        account_id=text("account_id"),
        campaign_id=text("campaign_id"),
        title=text("title"),
        url=text("url"),
    )


def _entry_doc(entry: SpendEntry) -> Document:
    doc: Document = {
        "id": entry.id,
        "amount_minor": entry.amount_minor,
        "currency": entry.currency,
        "spent_on": entry.spent_on.isoformat(),
        "created_ms": epoch_ms(entry.created_at),
        "created_by": entry.created_by,
    }
    if entry.network is not None:
        doc["network"] = entry.network
    if entry.note is not None:
        doc["note"] = entry.note
    return doc


def _entry(doc: Mapping[str, Any]) -> SpendEntry:
    network, note = doc.get("network"), doc.get("note")
    return SpendEntry(
        id=str(doc["id"]),
        amount_minor=int(doc["amount_minor"]),
        currency=str(doc["currency"]),
        spent_on=date.fromisoformat(str(doc["spent_on"])),
        created_at=from_epoch_ms(int(doc["created_ms"])),
        created_by=str(doc["created_by"]),
        network=None if network is None else str(network),
        note=None if note is None else str(note),
    )


def _newest(events: Iterable[EngagementObserved]) -> list[EngagementObserved]:
    """The newest snapshot per post; equal times keep the larger counters (any order)."""
    best: dict[str, tuple[tuple[int, list[tuple[str, int]]], EngagementObserved]] = {}
    for event in events:
        latest = latest_engagement(event)
        rank = (latest.observed_ms, sorted(latest.counters.items()))
        held = best.get(latest.key)
        if held is None or rank > held[0]:
            best[latest.key] = (rank, event)
    return [event for _, event in best.values()]


class ContentStore:
    """Posts with their newest engagement, content items and campaign spend in MongoDB."""

    def __init__(self, items: Collection, posts: Collection, spend: Collection) -> None:
        self.items = items
        self.posts = posts
        self.spend = spend

    async def ensure_indexes(self) -> None:
        """Create the single-field indexes this store relies on."""
        await ensure_indexes(self.items, ITEM_INDEXES)
        await ensure_indexes(self.posts, POST_INDEXES)
        await ensure_indexes(self.spend, SPEND_INDEXES)

    # --- writes from events ------------------------------------------------------------

    async def record(self, events: Sequence[Event]) -> None:
        """Fold a batch of ContentCreated, PostPublished and EngagementObserved (others ignored).

        Idempotent and order-tolerant: a replay or redelivery of any slice changes nothing.
        """
        created = [e for e in events if isinstance(e, ContentCreated)]
        published = [e for e in events if isinstance(e, PostPublished)]
        observed = _newest(e for e in events if isinstance(e, EngagementObserved))
        if created:
            await self._write_items(created)
        known = {
            item_key(e.brand_id, e.content_id): _content_fields(
                {"title": e.title, "campaign_id": e.campaign_id}
            )
            for e in created
        }
        wanted = {item_key(e.brand_id, e.content_id) for e in published} - set(known)
        known.update(await self._item_fields(wanted))
        missing = wanted - set(known)

        upserts = [
            self._published(e, known.get(item_key(e.brand_id, e.content_id))) for e in published
        ]
        fills = [
            UpdateMany(
                {"brand_id": e.brand_id, "content_id": e.content_id},
                {"$set": known[item_key(e.brand_id, e.content_id)]},
            )
            for e in created
        ]
        guarded = [self._snapshot(e) for e in observed]
        operations: list[UpdateOne | UpdateMany] = [*upserts, *fills, *guarded]
        if operations:
            try:
                await self.posts.bulk_write(operations, ordered=False)
            except BulkWriteError as error:
                _only_duplicates(error)
                if upserts:
                    # A racing insert of the same new post: ours matches it now.
                    await self.posts.bulk_write(upserts, ordered=False)
        if missing:
            await self._fill_late(missing, published)

    async def _write_items(self, created: Sequence[ContentCreated]) -> None:
        operations = []
        for event in created:
            doc: Document = {
                "brand_id": event.brand_id,
                "content_id": event.content_id,
                "title": event.title,
                "labels": list(event.labels),
            }
            if event.campaign_id:
                doc["campaign_id"] = event.campaign_id
            key = item_key(event.brand_id, event.content_id)
            operations.append(UpdateOne({"_id": key}, {"$setOnInsert": doc}, upsert=True))
        try:
            await self.items.bulk_write(operations, ordered=False)
        except BulkWriteError as error:
            _only_duplicates(error)  # a racing insert of the same item: it is stored

    async def _item_fields(self, keys: Iterable[str]) -> dict[str, Document]:
        wanted = sorted(keys)
        if not wanted:
            return {}
        found = self.items.find({"_id": {"$in": wanted}}, {"title": 1, "campaign_id": 1})
        return {str(doc["_id"]): _content_fields(doc) async for doc in found}

    @staticmethod
    def _published(event: PostPublished, content: Document | None) -> UpdateOne:
        fields: Document = {
            "brand_id": event.brand_id,
            "network": event.network.value,
            "native_id": event.native_id,
            "content_id": event.content_id,
            "account_id": event.account_id,
            **(content or {}),
        }
        if event.url:
            fields["url"] = event.url
        key = post_key(event.brand_id, event.network.value, event.native_id)
        update = {
            "$set": fields,
            "$min": {"published_ms": epoch_ms(event.occurred_at)},
            "$setOnInsert": {"observed_ms": NOT_OBSERVED},
        }
        return UpdateOne({"_id": key}, update, upsert=True)

    @staticmethod
    def _snapshot(event: EngagementObserved) -> UpdateOne:
        latest = latest_engagement(event)
        fields: Document = {
            "brand_id": latest.brand_id,
            "network": latest.network,
            "native_id": latest.native_post_id,
            "observed_ms": latest.observed_ms,
            "c": dict(latest.counters),
        }
        return UpdateOne(
            {"_id": latest.key, "observed_ms": {"$lt": latest.observed_ms}},
            {"$set": fields},
            upsert=True,
        )

    async def _fill_late(self, missing: set[str], published: Sequence[PostPublished]) -> None:
        """Copy item fields stored after our read (a racing ContentCreated) onto its posts."""
        found = await self._item_fields(missing)
        if not found:
            return
        targets = {
            item_key(e.brand_id, e.content_id): (e.brand_id, e.content_id) for e in published
        }
        await self.posts.bulk_write(
            [
                UpdateMany(
                    {"brand_id": targets[key][0], "content_id": targets[key][1]}, {"$set": fields}
                )
                for key, fields in found.items()
            ],
            ordered=False,
        )

    # --- reads -------------------------------------------------------------------------

    async def published_posts(
        self,
        *,
        brand_id: str,
        start: datetime,
        end: datetime,
        network: str | None = None,
        campaign_id: str | None = None,
    ) -> list[PostRow]:
        """Posts published in ``[start, end)``, optionally of one network or campaign."""
        query: Document = {
            "brand_id": brand_id,
            "published_ms": {"$gte": epoch_ms(start), "$lt": epoch_ms(end)},
        }
        if network:
            query["network"] = network
        if campaign_id:
            query["campaign_id"] = campaign_id
        return [_row(doc) async for doc in self.posts.find(query, _POST_FIELDS)]

    async def tracked_posts(
        self, *, brand_id: str, start: datetime, end: datetime, network: str | None = None
    ) -> list[PostRow]:
        """Posts never seen published whose newest snapshot was taken in ``[start, end)``."""
        query: Document = {
            "brand_id": brand_id,
            "published_ms": {"$exists": False},
            "observed_ms": {"$gte": epoch_ms(start), "$lt": epoch_ms(end)},
        }
        if network:
            query["network"] = network
        return [_row(doc) async for doc in self.posts.find(query, _POST_FIELDS)]

    async def campaign_posts(
        self, *, brand_id: str, campaign_id: str | None = None
    ) -> list[PostRow]:
        """The posts of one campaign, or of every campaign when ``campaign_id`` is None."""
        query: Document = {"brand_id": brand_id}
        query["campaign_id"] = campaign_id if campaign_id else {"$exists": True}
        return [_row(doc) async for doc in self.posts.find(query, _POST_FIELDS)]

    async def has_campaign_items(self, *, brand_id: str, campaign_id: str) -> bool:
        """Whether a content item of the brand names the campaign."""
        query = {"brand_id": brand_id, "campaign_id": campaign_id}
        return await self.items.find_one(query, {"_id": 1}) is not None

    async def item_campaigns(self, *, brand_id: str) -> set[str]:
        """The campaign ids the brand's content items name."""
        found = await self.items.distinct("campaign_id", {"brand_id": brand_id})
        return {str(c) for c in found if c}

    # --- spend ---------------------------------------------------------------------------

    async def spend_entries(self, *, brand_id: str, campaign_id: str) -> list[SpendEntry]:
        """The campaign's spend entries in the order they were entered."""
        doc = await self.spend.find_one({"_id": campaign_key(brand_id, campaign_id)})
        return [_entry(e) for e in (doc or {}).get("entries") or []]

    async def spend_by_campaign(self, *, brand_id: str) -> dict[str, list[SpendEntry]]:
        """Every campaign of the brand with spend documents, with its entries."""
        found: dict[str, list[SpendEntry]] = {}
        async for doc in self.spend.find({"brand_id": brand_id}, {"campaign_id": 1, "entries": 1}):
            found[str(doc["campaign_id"])] = [_entry(e) for e in doc.get("entries") or []]
        return found

    async def change_spend(
        self, *, brand_id: str, campaign_id: str, change: SpendChange
    ) -> list[SpendEntry]:
        """Replace the campaign's entries by ``change(entries)`` atomically; the new entries.

        ``change`` may raise to refuse (nothing is written); it may run more than once when
        another writer changed the campaign meanwhile.
        """
        key = campaign_key(brand_id, campaign_id)
        for _ in range(SPEND_ATTEMPTS):
            doc = await self.spend.find_one({"_id": key})
            current = [_entry(e) for e in (doc or {}).get("entries") or []]
            changed = change(list(current))
            entries = [_entry_doc(e) for e in changed]
            if doc is None:
                fresh: Document = {
                    "_id": key,
                    "brand_id": brand_id,
                    "campaign_id": campaign_id,
                    "version": 1,
                    "entries": entries,
                }
                try:
                    await self.spend.insert_one(fresh)
                except DuplicateKeyError:
                    continue
                return changed
            version = int(doc["version"])
            result = await self.spend.update_one(
                {"_id": key, "version": version},
                {"$set": {"entries": entries, "version": version + 1}},
            )
            if result.matched_count == 1:
                return changed
        raise SpendConflictError(f"campaign {campaign_id!r} changed too often; try again")
