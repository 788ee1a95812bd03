"""Mongo storage of cases, each with its embedded outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo import DESCENDING
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

INDEXES = (
    IndexSpec(["open_key"], unique=True, partial_filter={"open_key": {"$exists": True}}),
    IndexSpec(["mention_ids"]),
    IndexSpec(["brand_id", "last_activity_ms"]),
    *OUTBOX_INDEXES,
)


@dataclass(frozen=True, slots=True)
class CaseCursor:
    """Where a page of the case list ended: the last case's activity time and id."""

    activity_ms: int
    case_id: str

    def encode(self) -> str:
        """The opaque cursor string handed to API clients."""
        return f"{self.activity_ms}.{self.case_id}"

    @classmethod
    def decode(cls, text: str) -> CaseCursor:
        """Parse a cursor string; ValueError when it is not one of ours."""
        ms, _, case_id = text.partition(".")
        if not ms.isdigit() or not case_id:
            raise ValueError("not a case list cursor")
        return cls(int(ms), case_id)


PUBLIC_FIELDS = {"outbox": 0, "outbox_pending": 0, "outbox_lease_until": 0, "open_key": 0}


class CaseRepository:
    """Cases by id, by active conversation and by mention; optimistic concurrency by version."""

    def __init__(self, collection: Collection, *, source: str) -> None:
        self.collection = collection
        self._source = source

    async def ensure_indexes(self) -> None:
        """Create the indexes this repository relies on."""
        await ensure_indexes(self.collection, INDEXES)

    async def holding_mention(self, brand_id: str, mention_id: str) -> Document | None:
        """The case that already contains this mention, if any (replays are no-ops)."""
        return await self.collection.find_one(
            {"brand_id": brand_id, "mention_ids": mention_id}, {"_id": 1}
        )

    async def active(self, open_key: str) -> Document | None:
        """The active case of a conversation."""
        return await self.collection.find_one({"open_key": open_key}, {"outbox": 0})

    async def insert(self, doc: Document, events: list[Event]) -> bool:
        """Insert a new case; False when another active case of the conversation won the race."""
        try:
            await self.collection.insert_one({**doc, **outbox_fields(events, source=self._source)})
        except DuplicateKeyError:
            return False
        return True

    async def update_if_version(
        self, case_id: str, version: int, update: Document, events: list[Event]
    ) -> bool:
        """Apply ``update`` and queue ``events`` only if nobody changed the case meanwhile."""
        update = {**update, "$inc": {**update.get("$inc", {}), "version": 1}}
        result = await self.collection.update_one(
            {"_id": case_id, "version": version}, with_outbox(update, events, source=self._source)
        )
        return result.matched_count == 1

    async def get(self, case_id: str) -> Document | None:
        """A case by id (without internal fields)."""
        return await self.collection.find_one({"_id": case_id}, PUBLIC_FIELDS)

    async def list_for_brand(
        self, brand_id: str, *, after: CaseCursor | None, limit: int
    ) -> list[Document]:
        """A brand's cases, most recently active first; keyset pagination, stable under ties."""
        query: dict[str, Any] = {"brand_id": brand_id}
        if after is not None:
            query["$or"] = [
                {"last_activity_ms": {"$lt": after.activity_ms}},
                {"last_activity_ms": after.activity_ms, "_id": {"$lt": after.case_id}},
            ]
        cursor = (
            self.collection.find(query, PUBLIC_FIELDS)
            .sort([("last_activity_ms", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [doc async for doc in cursor]
