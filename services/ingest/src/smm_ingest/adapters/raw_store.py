"""Raw deliveries: webhooks stored before we acknowledge and processed from the store;
polled and streamed batches recorded (already processed) for audit.

Pending deliveries carry ``pending_ms`` (integer epoch ms, see docs/mongo-subset.md): the
time from which a processor may claim them. A claim moves it to the lease's end, so a
processor that dies mid-batch leaves them claimable again; completing removes it.
``received_at`` (a datetime written at insert) drives the retention TTL index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pymongo import UpdateOne

from smm_shared.mongo import (
    Collection,
    Document,
    IndexSpec,
    InsertBatcher,
    ensure_indexes,
    epoch_ms,
    new_id,
)


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One delivery as received."""

    id: str
    connector_id: str
    brand_id: str
    kind: str
    body: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What processing one delivery produced."""

    raw_id: str
    items: int = 0
    error: str | None = None


class RawEventStore:
    """Durable inbox of webhook deliveries with group commit and batch claims."""

    def __init__(self, collection: Collection, *, retention_days: int) -> None:
        self.collection = collection
        self._retention_s = retention_days * 86_400
        self._batcher = InsertBatcher(collection)

    async def ensure_indexes(self) -> None:
        """Claim index and the retention TTL."""
        await ensure_indexes(
            self.collection,
            [
                IndexSpec(["pending_ms"]),
                IndexSpec(["claim"]),
                IndexSpec(["received_at"], expire_after_s=self._retention_s),
            ],
        )

    async def store(
        self, *, connector_id: str, brand_id: str, kind: str, body: str, received_at: datetime
    ) -> str:
        """Store a delivery durably (shared round trip with concurrent ones); returns its id."""
        return await self._insert(
            connector_id, brand_id, kind, body, received_at, pending_ms=epoch_ms(received_at)
        )

    async def record(
        self,
        *,
        connector_id: str,
        brand_id: str,
        kind: str,
        body: str,
        received_at: datetime,
        items: int,
    ) -> str:
        """Keep an already processed batch (a poll or stream read) for audit; never claimed."""
        return await self._insert(connector_id, brand_id, kind, body, received_at, items=items)

    async def _insert(
        self,
        connector_id: str,
        brand_id: str,
        kind: str,
        body: str,
        received_at: datetime,
        **extra: int,
    ) -> str:
        raw_id = new_id()
        doc: Document = {
            "_id": raw_id,
            "connector_id": connector_id,
            "brand_id": brand_id,
            "kind": kind,
            "body": body,
            "received_at": received_at,
            **extra,
        }
        await self._batcher.insert(doc)
        return raw_id

    async def claim(
        self, *, now: datetime, lease_s: float, limit: int
    ) -> tuple[str, list[RawEvent]]:
        """Lease up to ``limit`` pending deliveries, oldest first; returns the claim token and them."""
        now_ms = epoch_ms(now)
        due = {"pending_ms": {"$lte": now_ms}}
        ids = [
            d["_id"]
            async for d in self.collection.find(due, {"_id": 1}).sort("pending_ms", 1).limit(limit)
        ]
        if not ids:
            return "", []
        token = new_id()
        await self.collection.update_many(
            {"_id": {"$in": ids}, **due},
            {"$set": {"pending_ms": now_ms + int(lease_s * 1000), "claim": token}},
        )
        docs = [d async for d in self.collection.find({"claim": token}).sort("_id", 1)]
        return token, [
            RawEvent(
                d["_id"], d["connector_id"], d["brand_id"], d["kind"], d["body"], d["received_at"]
            )
            for d in docs
        ]

    async def complete(self, token: str, outcomes: Sequence[Outcome]) -> None:
        """Record outcomes of a claim; a delivery that failed keeps its error for audit."""
        ops = []
        for o in outcomes:
            done: Document = {"items": o.items}
            if o.error is not None:
                done["error"] = o.error[:2000]
            ops.append(
                UpdateOne(
                    {"_id": o.raw_id, "claim": token},
                    {"$set": done, "$unset": {"pending_ms": "", "claim": ""}},
                )
            )
        if ops:
            await self.collection.bulk_write(ops, ordered=False)

    async def release(self, token: str, raw_ids: Sequence[str], *, retry_at: datetime) -> None:
        """Give deliveries back (e.g. the database hiccuped) to be claimed again at ``retry_at``."""
        await self.collection.update_many(
            {"_id": {"$in": list(raw_ids)}, "claim": token},
            {"$set": {"pending_ms": epoch_ms(retry_at)}, "$unset": {"claim": ""}},
        )
