"""Rollup buckets in Mongo: ``$inc`` upserts guarded against counting an event twice."""

from __future__ import annotations

from datetime import datetime

from pymongo.errors import DuplicateKeyError

from smm_shared.mongo import Collection, IndexSpec, ensure_indexes

INDEXES = (IndexSpec(["brand_id", "metric", "slot_start"]),)


class BucketRepository:
    """Counters per bucket; each counted event id is kept in its bucket so a replay is a no-op."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        """Create the indexes this repository relies on."""
        await ensure_indexes(self.collection, INDEXES)

    async def count_once(
        self,
        *,
        key: str,
        brand_id: str,
        metric: str,
        dimension: str,
        slot: str,
        slot_start: datetime,
        event_id: str,
    ) -> bool:
        """Add one to the bucket unless this event was counted already; True when it counted."""
        try:
            await self.collection.update_one(
                # $nin, not $ne: only $nin has array semantics on nx-27017 (compat test).
                {"_id": key, "events": {"$nin": [event_id]}},
                {
                    "$inc": {"count": 1},
                    "$push": {"events": event_id},
                    "$setOnInsert": {
                        "brand_id": brand_id,
                        "metric": metric,
                        "dimension": dimension,
                        "slot": slot,
                        "slot_start": slot_start,
                    },
                },
                upsert=True,
            )
        except DuplicateKeyError:
            # The bucket exists and already holds this event: the guard failed to match, the
            # upsert tried to insert a second document with the same id.
            return False
        return True

    async def counts(
        self, *, brand_id: str, metric: str, first: datetime, last: datetime, dimension: str | None
    ) -> dict[str, int]:
        """Counts per slot from ``first`` to ``last`` slot start (summed over dimensions unless one is given)."""
        # By the slot's datetime, not its string: nx-27017 matches nothing on equality with
        # strings shaped like "2026-11-27T08" (docs/mongo-subset.md).
        query: dict[str, object] = {
            "brand_id": brand_id,
            "metric": metric,
            "slot_start": {"$gte": first, "$lte": last},
        }
        if dimension is not None:
            query["dimension"] = dimension
        totals: dict[str, int] = {}
        async for doc in self.collection.find(query, {"slot": 1, "count": 1}):
            totals[doc["slot"]] = totals.get(doc["slot"], 0) + int(doc["count"])
        return totals
