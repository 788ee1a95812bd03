"""Write-time rollup buckets applied exactly once per event (ledger + per-bucket batch markers).

**Documents.** A bucket is ``{_id: "brand|metric|dimension|slot", brand_id, metric,
dimension, slot, slot_ms, c: {<counter>: n}, ev: [<batch token>, ...]}``. A ledger entry is
``{_id: event_id, state: "applying" | "applied", batch: <token>, incs: [...]}``.

**Protocol** (one *batch* is one call of :meth:`RollupStore.apply` or
:meth:`RollupStore.apply_batch`; a single event is a batch whose token is its event id):

1. *Claim*: insert one ledger entry per new event (``state="applying"``, the batch token,
   the event's increments). The unique ``_id`` makes exactly one caller the owner of an
   event; events already in the ledger are left out of this batch.
2. *Create* every touched bucket with ``c: {}`` and ``ev: []`` (insert, duplicate ignored):
   nx-27017 stores a dotted ``$inc`` of an inserting upsert as a flat key.
3. *Apply*: one ``bulk_write`` with one guarded update per bucket,
   ``update_one({_id: key, ev: {$nin: [token]}}, {$inc: {"c.<f>": n}, $push: {ev: token}})``
   carrying the batch's increments summed per bucket (:func:`sum_by_key`). Each update is a
   single-document atomic step: the bucket either holds the token *and* the batch's counts
   or neither.
4. *Mark* the batch's ledger entries ``applied``.

**Crash windows, and why none of them double counts or loses a count** (events are
redelivered until processed: consumers commit offsets after the store returns):

* before 1: nothing was written; the redelivery claims the event normally;
* between 1 and 4 (including in the middle of the bulk write): the ledger entries stay
  ``applying``. Meeting such an entry (a redelivery, or a concurrent applier of the same
  event) runs *recovery*: it loads every ledger entry of that batch token, sums them again
  (the same sum: the claimed set of a token never changes) and re-runs steps 2-4 with the
  same token. Buckets that already hold the token refuse the update, the others take it;
  two recoveries racing each other are safe for the same reason;
* during 4 (some entries of a batch marked, others not): recovery reloads the batch by
  token whatever the state, so the marked ones are still part of the sum, and the token
  guard keeps the buckets unchanged.

An event whose ledger entry is ``applied`` is never written again. Remaining limits: an
entry claimed by a process that dies is completed only when the event is seen again (a
redelivery, a replay, or :meth:`RollupStore.recover_pending`); markers are never removed
in the hot path (a removal racing a slow recovery could count twice), so ``ev`` grows by
one short token per batch touching the bucket: batching keeps that small, and hour buckets
are dropped after their retention anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pymongo import InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from smm_analytics.domain.buckets import bucket_key, hours, slot_start
from smm_analytics.domain.rollups import BucketIncrement, sum_by_key
from smm_shared.mongo import (
    Collection,
    Document,
    IndexSpec,
    ensure_indexes,
    epoch_ms,
    from_epoch_ms,
    new_id,
)

APPLYING = "applying"
APPLIED = "applied"
#: Ledger indexes: the batch token (recovery loads a whole batch) and the state.
LEDGER_INDEXES = (IndexSpec(["batch"]), IndexSpec(["state"]))
#: Bucket reads walk the ``_id`` index (``$in`` of the range's keys, see ``read_filter``);
#: ``slot_ms`` serves retention sweeps.
BUCKET_INDEXES = (IndexSpec(["slot_ms"]),)
_DUPLICATE_KEY = 11000


def _stored(increment: BucketIncrement) -> Document:
    return {
        "b": increment.brand_id,
        "m": increment.metric,
        "d": increment.dimension,
        "s": increment.slot,
        "inc": dict(increment.inc),
    }


def _loaded(doc: Document) -> BucketIncrement:
    inc = {str(name): int(amount) for name, amount in dict(doc["inc"]).items()}
    return BucketIncrement(str(doc["b"]), str(doc["m"]), str(doc["d"]), str(doc["s"]), inc)


def _only_duplicates(error: BulkWriteError) -> None:
    """Re-raise unless every failed write of an unordered bulk was a duplicate key."""
    details: Mapping[str, Any] = error.details or {}
    if details.get("writeConcernErrors") or any(
        e.get("code") != _DUPLICATE_KEY for e in details.get("writeErrors", [])
    ):
        raise error


class RollupStore:
    """Hour buckets whose counters every event adds to exactly once, replay or crash."""

    def __init__(self, buckets: Collection, ledger: Collection) -> None:
        self.buckets = buckets
        self.ledger = ledger

    async def ensure_indexes(self) -> None:
        """Create the indexes this store relies on (single-field ones only)."""
        await ensure_indexes(self.buckets, BUCKET_INDEXES)
        await ensure_indexes(self.ledger, LEDGER_INDEXES)

    async def apply(self, event_id: str, increments: Sequence[BucketIncrement]) -> bool:
        """Add one event's increments exactly once; False when the event was applied before.

        An entry left ``applying`` by a crash (or by a concurrent applier) is completed
        here, idempotently, and the call returns True.
        """
        entry: Document = {"_id": event_id, "state": APPLYING, "batch": event_id}
        entry["incs"] = [_stored(i) for i in increments]
        try:
            await self.ledger.insert_one(entry)
        except DuplicateKeyError:
            found = await self.ledger.find_one({"_id": event_id}, {"state": 1, "batch": 1})
            if found is None or found.get("state") == APPLIED:
                return False
            await self._recover(str(found["batch"]))
            return True
        await self._write(event_id, [event_id], increments)
        return True

    async def apply_batch(self, items: Sequence[tuple[str, Sequence[BucketIncrement]]]) -> int:
        """Add the increments of many events, each exactly once; returns how many were new.

        One ledger query drops the events seen before (those left ``applying`` are
        recovered by their batch), the rest are claimed under a fresh batch token, summed
        per bucket and written with one ``bulk_write`` guarded by that token (module doc).
        """
        by_id: dict[str, Sequence[BucketIncrement]] = {}
        for event_id, increments in items:
            by_id.setdefault(event_id, increments)  # an id twice in a batch counts once
        if not by_id:
            return 0
        seen = {
            str(doc["_id"]): doc
            async for doc in self.ledger.find(
                {"_id": {"$in": list(by_id)}}, {"state": 1, "batch": 1}
            )
        }
        stuck = {str(d["batch"]) for d in seen.values() if d.get("state") != APPLIED}
        for token in sorted(stuck):
            await self._recover(token)
        token = new_id()
        fresh = [event_id for event_id in by_id if event_id not in seen]
        claimed = await self._claim(token, {event_id: by_id[event_id] for event_id in fresh})
        if claimed:
            await self._write(token, claimed, [i for e in claimed for i in by_id[e]])
        return len(claimed)

    async def recover_pending(self) -> int:
        """Complete every batch left ``applying`` (e.g. at start-up); returns how many."""
        tokens = {
            str(d["batch"]) async for d in self.ledger.find({"state": APPLYING}, {"batch": 1})
        }
        for token in sorted(tokens):
            await self._recover(token)
        return len(tokens)

    def read_filter(
        self, brand_id: str, metric: str, dimension: str, from_slot_ms: int, to_slot_ms: int
    ) -> Document:
        """The query :meth:`read` runs: ``_id $in`` the range's bucket keys.

        On nx-27017 an ``_id`` *range* is a table scan (measured with ``explain``) while
        ``_id`` equality and ``$in`` walk the ``_id`` index, so the range is spelled out as
        its keys (at most ``buckets.MAX_RANGE``: 2,232 hours; longer raises
        ``RangeTooLargeError``).
        """
        start, end = from_epoch_ms(from_slot_ms), from_epoch_ms(to_slot_ms)
        keys = [bucket_key(brand_id, metric, dimension, slot) for slot in hours(start, end)]
        return {"_id": {"$in": keys}}

    async def read(
        self, brand_id: str, metric: str, dimension: str, from_slot_ms: int, to_slot_ms: int
    ) -> dict[str, dict[str, int]]:
        """Counters per hour slot with ``from_slot_ms <= slot start < to_slot_ms``, by slot.

        Only bucket documents are read, through the ``_id`` index (:meth:`read_filter`);
        slots without a bucket are absent.
        """
        query = self.read_filter(brand_id, metric, dimension, from_slot_ms, to_slot_ms)
        found: dict[str, dict[str, int]] = {}
        async for doc in self.buckets.find(query, {"slot": 1, "slot_ms": 1, "c": 1}):
            if not from_slot_ms <= int(doc.get("slot_ms", -1)) < to_slot_ms:
                continue  # the hour that holds a mid-hour start begins before it
            counters = dict(doc.get("c") or {})
            found[str(doc["slot"])] = {str(k): int(v) for k, v in counters.items()}
        return dict(sorted(found.items()))

    # --- internals ---------------------------------------------------------------------

    async def _claim(
        self, token: str, events: Mapping[str, Sequence[BucketIncrement]]
    ) -> list[str]:
        """Insert ledger entries under ``token``; the ids whose insert won (ours to apply)."""
        if not events:
            return []
        entries = [
            {"_id": e, "state": APPLYING, "batch": token, "incs": [_stored(i) for i in incs]}
            for e, incs in events.items()
        ]
        try:
            await self.ledger.insert_many(entries, ordered=False)
        except BulkWriteError as error:
            _only_duplicates(error)
            # Someone else claimed some ids meanwhile: those are theirs. Read back which
            # entries carry our token rather than trusting the error's indexes.
            mine = self.ledger.find({"_id": {"$in": list(events)}, "batch": token}, {"_id": 1})
            ours = {str(doc["_id"]) async for doc in mine}
            return [e for e in events if e in ours]
        return list(events)

    async def _recover(self, token: str) -> None:
        """Re-run a batch from its ledger entries; the token guard makes it idempotent."""
        event_ids: list[str] = []
        increments: list[BucketIncrement] = []
        async for doc in self.ledger.find({"batch": token}):
            event_ids.append(str(doc["_id"]))
            increments.extend(_loaded(i) for i in doc.get("incs") or [])
        if event_ids:
            await self._write(token, event_ids, increments)

    async def _write(
        self, token: str, event_ids: Sequence[str], increments: Iterable[BucketIncrement]
    ) -> None:
        """Steps 2-4 of the protocol for one batch token."""
        summed = sum_by_key(increments)
        buckets = [b for b in summed.values() if any(b.inc.values())]
        if buckets:
            await self._create(buckets)
            await self.buckets.bulk_write(
                [
                    UpdateOne(
                        {"_id": b.key, "ev": {"$nin": [token]}},
                        {
                            "$inc": {f"c.{name}": n for name, n in b.inc.items() if n},
                            "$push": {"ev": token},
                        },
                    )
                    for b in buckets
                ],
                ordered=False,
            )
        await self.ledger.update_many(
            {"_id": {"$in": list(event_ids)}, "batch": token}, {"$set": {"state": APPLIED}}
        )

    async def _create(self, buckets: Sequence[BucketIncrement]) -> None:
        """Insert the missing bucket documents with empty counters and markers."""
        docs = [
            {
                "_id": b.key,
                "brand_id": b.brand_id,
                "metric": b.metric,
                "dimension": b.dimension,
                "slot": b.slot,
                "slot_ms": epoch_ms(slot_start(b.slot)),
                "c": {},
                "ev": [],
            }
            for b in buckets
        ]
        try:
            await self.buckets.bulk_write([InsertOne(d) for d in docs], ordered=False)
        except BulkWriteError as error:
            _only_duplicates(error)
