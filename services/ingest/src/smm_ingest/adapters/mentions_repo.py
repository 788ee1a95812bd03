"""Mongo storage of mentions (each with its embedded outbox) and of engagement snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import BulkWriteError, DuplicateKeyError

from smm_shared.events import Event, Mention
from smm_shared.mongo import (
    OUTBOX_INDEXES,
    Collection,
    Document,
    IndexSpec,
    ensure_indexes,
    epoch_ms,
    outbox_fields,
    with_outbox,
)

INDEXES = (
    IndexSpec(["natural_key"], unique=True),
    IndexSpec(["brand_id", "created_ms"]),
    *OUTBOX_INDEXES,
)
ENGAGEMENT_INDEXES = OUTBOX_INDEXES
PUBLIC = {"outbox": 0, "outbox_pending": 0, "outbox_lease_until_ms": 0, "outbox_lease_owner": 0}


@dataclass(frozen=True, slots=True)
class StoredMention:
    """A mention as stored: its brand, version and whether it was deleted."""

    brand_id: str
    mention: Mention
    version: int
    edited_ms: int | None
    deleted: bool


@dataclass(frozen=True, slots=True)
class MentionCursor:
    """Where a page of the mention list ended."""

    created_ms: int
    mention_id: str

    def encode(self) -> str:
        """The opaque cursor string."""
        return f"{self.created_ms}.{self.mention_id}"

    @classmethod
    def decode(cls, text: str) -> MentionCursor:
        """Parse a cursor; ValueError when it is not one of ours."""
        ms, _, mention_id = text.partition(".")
        if not ms.isdigit() or not mention_id:
            raise ValueError("not a mention list cursor")
        return cls(int(ms), mention_id)


def mention_doc(*, brand_id: str, natural_key: str, mention: Mention, received_ms: int) -> Document:
    """The stored shape: the contract plus flat fields to filter and sort on."""
    doc: Document = {
        "_id": mention.mention_id,
        "brand_id": brand_id,
        "natural_key": natural_key,
        "network": mention.network.value,
        "kind": mention.kind.value,
        "sentiment": mention.sentiment.label,
        "created_ms": epoch_ms(mention.created_at),
        "received_ms": received_ms,
        "version": 1,
        "mention": mention.model_dump(mode="json", exclude_none=True),
    }
    if mention.language:
        doc["language"] = mention.language
    if mention.edited_at is not None:
        doc["edited_ms"] = epoch_ms(mention.edited_at)
    return doc


def _stored(doc: Document) -> StoredMention:
    return StoredMention(
        brand_id=doc["brand_id"],
        mention=Mention.model_validate(doc["mention"]),
        version=int(doc.get("version", 1)),
        edited_ms=doc.get("edited_ms"),
        deleted="deleted_ms" in doc,
    )


class MentionRepository:
    """Mentions by id and natural key; every change and its event are one atomic write."""

    def __init__(self, collection: Collection, engagement: Collection, *, source: str) -> None:
        self.collection = collection
        self.engagement = engagement
        self._source = source

    async def ensure_indexes(self) -> None:
        """Create the indexes this repository relies on."""
        await ensure_indexes(self.collection, INDEXES)
        await ensure_indexes(self.engagement, ENGAGEMENT_INDEXES)

    async def insert_new(self, docs: Sequence[tuple[Document, Sequence[Event]]]) -> set[str]:
        """Insert new mentions with their events; returns the ids stored (duplicates are skipped)."""
        if not docs:
            return set()
        full = [{**d, **outbox_fields(list(events), source=self._source)} for d, events in docs]
        try:
            await self.collection.insert_many(full, ordered=False)
            return {d["_id"] for d in full}
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != 11000 for e in errors):
                raise
            failed = {e["index"] for e in errors}
            return {d["_id"] for i, d in enumerate(full) if i not in failed}

    async def by_natural_key(self, natural_key: str) -> StoredMention | None:
        """The stored mention with this natural key."""
        doc = await self.collection.find_one({"natural_key": natural_key}, PUBLIC)
        return None if doc is None else _stored(doc)

    async def get(self, mention_id: str) -> StoredMention | None:
        """A stored mention by id."""
        doc = await self.collection.find_one({"_id": mention_id}, PUBLIC)
        return None if doc is None else _stored(doc)

    async def replace_if_version(
        self, mention_id: str, version: int, changes: Document, events: Sequence[Event]
    ) -> bool:
        """Set ``changes`` and queue ``events`` only if the mention is still at ``version``."""
        update = with_outbox(
            {"$set": changes, "$inc": {"version": 1}}, list(events), source=self._source
        )
        result = await self.collection.update_one({"_id": mention_id, "version": version}, update)
        return result.matched_count == 1

    async def record_engagement(
        self, *, key: str, brand_id: str, observed_ms: int, counters: Document, event: Event
    ) -> bool:
        """Keep the newest snapshot of a post and queue its event; an older one is a no-op."""
        fields = {"brand_id": brand_id, "observed_ms": observed_ms, **counters}
        result = await self.engagement.update_one(
            {"_id": key, "observed_ms": {"$lt": observed_ms}},
            with_outbox({"$set": fields}, [event], source=self._source),
        )
        if result.matched_count:
            return True
        try:
            await self.engagement.insert_one(
                {"_id": key, **fields, **outbox_fields([event], source=self._source)}
            )
        except DuplicateKeyError:
            return False  # a newer (or the same) snapshot is already stored
        return True

    async def list(
        self, *, brand_id: str, filters: dict[str, Any], after: MentionCursor | None, limit: int
    ) -> list[StoredMention]:
        """A brand's mentions, newest first, filtered on stored flat fields."""
        query: dict[str, Any] = {"brand_id": brand_id, **filters}
        if after is not None:
            query["$or"] = [
                {"created_ms": {"$lt": after.created_ms}},
                {"created_ms": after.created_ms, "_id": {"$lt": after.mention_id}},
            ]
        cursor = (
            self.collection.find(query, PUBLIC)
            .sort([("created_ms", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [_stored(d) async for d in cursor]
