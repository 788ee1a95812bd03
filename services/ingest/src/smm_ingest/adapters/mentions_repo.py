"""Mongo storage of mentions with their embedded outbox."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from smm_shared.events import Event, Mention
from smm_shared.mongo import OUTBOX_INDEXES, Collection, IndexSpec, ensure_indexes, outbox_fields

INDEXES = (
    IndexSpec(["natural_key"], unique=True),
    IndexSpec(["brand_id", "received_at"]),
    *OUTBOX_INDEXES,
)


class MentionRepository:
    """Mentions by id and natural key; a mention and its events are stored in one insert."""

    def __init__(self, collection: Collection, *, source: str) -> None:
        self.collection = collection
        self._source = source

    async def ensure_indexes(self) -> None:
        """Create the indexes this repository relies on."""
        await ensure_indexes(self.collection, INDEXES)

    async def insert_new(
        self, *, brand_id: str, natural_key: str, mention: Mention, events: list[Event]
    ) -> bool:
        """Store a mention unless its natural key exists; returns False for a duplicate."""
        doc: dict[str, Any] = {
            "_id": mention.mention_id,
            "brand_id": brand_id,
            "natural_key": natural_key,
            "received_at": events[0].occurred_at if events else mention.created_at,
            "mention": mention.model_dump(mode="json", exclude_none=True),
            **outbox_fields(events, source=self._source),
        }
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def by_natural_key(self, natural_key: str) -> tuple[str, Mention] | None:
        """The stored mention with this natural key, with its brand."""
        doc = await self.collection.find_one({"natural_key": natural_key})
        return None if doc is None else (doc["brand_id"], Mention.model_validate(doc["mention"]))

    async def get(self, mention_id: str) -> tuple[str, Mention] | None:
        """A stored mention by id, with its brand."""
        doc = await self.collection.find_one({"_id": mention_id})
        return None if doc is None else (doc["brand_id"], Mention.model_validate(doc["mention"]))
