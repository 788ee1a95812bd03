"""Items a network named only by id (Instagram @mentions), kept until a poll connector fetches them.

One document per request, ``_id`` = :meth:`FetchRequest.key` (brand, network, account, and
the comment or media), so a redelivered webhook inserts nothing. A pending request carries
``pending_ms`` (integer epoch ms of when it was first asked for, see docs/mongo-subset.md);
completing it removes that field and sets ``done_ms``, with ``error`` when the object could
not be fetched (gone, or unreadable with the token). ``requested_at`` (a datetime written at
insert) drives the retention TTL index: done requests are kept that long for audit, and a
request no connector took within that time is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pymongo.errors import BulkWriteError

from smm_ingest.domain.items import FetchRequest
from smm_shared.events import Network
from smm_shared.mongo import Collection, Document, IndexSpec, ensure_indexes, epoch_ms

#: MongoDB's duplicate key error.
DUPLICATE_KEY = 11000


@dataclass(frozen=True, slots=True)
class PendingFetch:
    """A request waiting to be fetched: its id and what to fetch."""

    id: str
    media_id: str
    comment_id: str | None = None


class GraphFetchRepository:
    """Fetch requests, stored once each and completed only after what they fetched is stored."""

    def __init__(self, collection: Collection, *, retention_days: int) -> None:
        self.collection = collection
        self._retention_s = retention_days * 86_400

    async def ensure_indexes(self) -> None:
        """The pending lookup per account, and the retention TTL."""
        await ensure_indexes(
            self.collection,
            [
                IndexSpec(["account_id", "pending_ms"]),
                IndexSpec(["requested_at"], expire_after_s=self._retention_s),
            ],
        )

    async def request(
        self, brand_id: str, requests: Sequence[FetchRequest], *, requested_at: datetime
    ) -> int:
        """Keep requests not seen before; returns how many were new (a redelivery adds none)."""
        docs: dict[str, Document] = {}
        for req in requests:
            doc: Document = {
                "_id": req.key(brand_id),
                "brand_id": brand_id,
                "network": req.network.value,
                "account_id": req.account_id,
                "media_id": req.media_id,
                "requested_at": requested_at,
                "pending_ms": epoch_ms(requested_at),
            }
            if req.comment_id is not None:
                doc["comment_id"] = req.comment_id
            docs.setdefault(doc["_id"], doc)
        if not docs:
            return 0
        try:
            await self.collection.insert_many(list(docs.values()), ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return len(docs) - len(errors)
        return len(docs)

    async def pending(
        self, *, brand_id: str, network: Network, account_id: str, limit: int
    ) -> list[PendingFetch]:
        """Up to ``limit`` pending requests for one account of a brand, oldest first."""
        cursor = (
            self.collection.find(
                {
                    "account_id": account_id,
                    "brand_id": brand_id,
                    "network": network.value,
                    "pending_ms": {"$exists": True},
                }
            )
            .sort([("pending_ms", 1), ("_id", 1)])
            .limit(limit)
        )
        return [
            PendingFetch(id=d["_id"], media_id=d["media_id"], comment_id=d.get("comment_id"))
            async for d in cursor
        ]

    async def complete(self, fetch_ids: Sequence[str], *, now_ms: int) -> None:
        """Mark fetched requests done (call only once what they fetched is stored)."""
        if fetch_ids:
            await self.collection.update_many(
                {"_id": {"$in": list(fetch_ids)}, "pending_ms": {"$exists": True}},
                {"$set": {"done_ms": now_ms}, "$unset": {"pending_ms": ""}},
            )

    async def give_up(self, fetch_id: str, *, error: str, now_ms: int) -> None:
        """Mark a request done without a result (its object is gone), keeping why."""
        await self.collection.update_one(
            {"_id": fetch_id, "pending_ms": {"$exists": True}},
            {"$set": {"done_ms": now_ms, "error": error[:500]}, "$unset": {"pending_ms": ""}},
        )
