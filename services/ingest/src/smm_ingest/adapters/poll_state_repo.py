"""Per-connector poll state: who polls it (a lease, so replicas never poll one connector twice),
where it is (the cursor, saved only after the items are stored), and how it is doing."""

from __future__ import annotations

from pymongo import ReturnDocument

from smm_shared.mongo import Collection, Document


class PollStateRepository:
    """Leases, cursors and status of poll connectors."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def acquire(
        self, connector_id: str, *, owner: str, now_ms: int, lease_ms: int
    ) -> Document | None:
        """Take or renew the lease; the state (with ``cursor``) when ours, None when another replica holds it."""
        # Create the record once; never touch an existing one here (insert-only upsert).
        await self.collection.update_one(
            {"_id": connector_id}, {"$setOnInsert": {"state": "starting"}}, upsert=True
        )
        return await self.collection.find_one_and_update(
            {
                "_id": connector_id,
                "$or": [
                    {"owner": owner},
                    {"lease_until_ms": {"$exists": False}},
                    {"lease_until_ms": {"$lt": now_ms}},
                ],
            },
            {"$set": {"owner": owner, "lease_until_ms": now_ms + lease_ms}},
            return_document=ReturnDocument.AFTER,
        )

    async def advance(
        self,
        connector_id: str,
        *,
        owner: str,
        cursor: str | None,
        items: int,
        now_ms: int,
        lease_ms: int,
    ) -> bool:
        """Save the cursor after the items are stored; False when the lease was lost meanwhile."""
        changes: Document = {
            "state": "running",
            "last_success_ms": now_ms,
            "lease_until_ms": now_ms + lease_ms,
        }
        if cursor is not None:
            changes["cursor"] = cursor
        result = await self.collection.update_one(
            {"_id": connector_id, "owner": owner},
            {"$set": changes, "$unset": {"last_error": ""}, "$inc": {"polls": 1, "items": items}},
        )
        return result.matched_count == 1

    async def failed(
        self, connector_id: str, *, owner: str, state: str, error: str, now_ms: int
    ) -> None:
        """Record why the last poll failed (the lease stays with us while we back off)."""
        await self.collection.update_one(
            {"_id": connector_id, "owner": owner},
            {"$set": {"state": state, "last_error": error[:500], "last_error_ms": now_ms}},
        )

    async def release(self, connector_id: str, *, owner: str) -> None:
        """Let another replica take over at once (clean shutdown)."""
        await self.collection.update_one(
            {"_id": connector_id, "owner": owner},
            {"$set": {"lease_until_ms": 0, "state": "stopped"}, "$unset": {"owner": ""}},
        )

    async def get(self, connector_id: str) -> Document | None:
        """The state of one connector."""
        return await self.collection.find_one({"_id": connector_id})
