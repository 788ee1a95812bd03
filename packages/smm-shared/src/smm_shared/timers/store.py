"""Timer storage: the ``TimerStore`` port and its MongoDB adapter.

One document per timer, ``_id`` = the caller's key::

    {_id, kind, payload, due_at, due_ms, state, attempts,
     run_ms,                                   # while pending or claimed
     owner, claim, claimed_at, lease_until,    # while claimed (owner kept once fired)
     last_error, fired_at, lateness_ms}

``run_ms`` (epoch milliseconds) is the one field the loop queries: the deadline while
pending, the retry time after a failure, the lease expiry while claimed, and absent once
fired. A due timer is ``run_ms <= now``, whatever its state, so a crashed replica's claims
come back by the same indexed range query. The deadline is also kept as the datetime
``due_at`` for people and callers; it is not queried because nx-27017 compares datetimes
at whole seconds (``due_at <= now`` matches a deadline 0.9 s in the future) and cannot
use an index for them, and because an equality on another field (``state``) makes it
scan the whole collection. ``due_ms`` mirrors ``due_at`` for exact equality checks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol, cast

from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError

from smm_shared.mongo import Collection, Document, IndexSpec, ensure_indexes, new_id
from smm_shared.timers.model import (
    Claim,
    ClaimBatch,
    Completion,
    Failed,
    Fired,
    InvalidTimerError,
    Listeners,
    Payload,
    Released,
    ScheduleListener,
    ScheduleOutcome,
    Timer,
    TimerState,
    check_key,
    check_kind,
    from_ms,
    normalize_payload,
    to_ms,
    utc_ms,
)

PENDING = TimerState.PENDING.value
CLAIMED = TimerState.CLAIMED.value
FIRED = TimerState.FIRED.value

TIMER_INDEXES = (IndexSpec(["run_ms"]),)

_CLAIM_FIELDS = ("claim", "claimed_at", "lease_until")
_FIRED_FIELDS = ("fired_at", "lateness_ms", "owner", "last_error")
# A concurrent schedule/cancel/claim on the same key can slip between our read and our
# guarded write; a few rounds settle it (each round is two ~1 ms round trips).
_MAX_SCHEDULE_ROUNDS = 8
_CANDIDATE_SPREAD = 4


class TimerConflictError(RuntimeError):
    """``schedule()`` kept losing races on one key (someone rewrites it in a tight loop)."""


class TimerStore(Protocol):
    """Where timers live: what callers use (schedule/cancel/get) and what the loop needs."""

    async def schedule(
        self, *, key: str, due_at: datetime, kind: str, payload: Payload, rearm: bool = False
    ) -> ScheduleOutcome:
        """Arm ``key`` to fire at ``due_at`` (upsert); a fired key is re-armed only with ``rearm``."""
        ...

    async def cancel(self, *, key: str) -> bool:
        """Disarm a pending or claimed timer; True if one was removed (fired timers stay)."""
        ...

    async def get(self, *, key: str) -> Timer | None:
        """The stored timer, or None."""
        ...

    async def claim_due(
        self, *, now: datetime, owner: str, lease_s: float, limit: int
    ) -> ClaimBatch:
        """Lease up to ``limit`` timers due at ``now`` to ``owner``, taken from the earliest due."""
        ...

    async def next_run_at(self) -> datetime | None:
        """When the earliest armed timer becomes claimable (deadline, retry or lease expiry)."""
        ...

    async def complete(self, *, completions: Sequence[Completion]) -> int:
        """Record handler outcomes; returns how many still held their claim (the rest are stale)."""
        ...

    def subscribe(self, listener: ScheduleListener) -> Callable[[], None]:
        """Call ``listener(due_at)`` whenever this process arms a timer; returns unsubscribe."""
        ...

    async def purge_fired(self, *, due_before: datetime) -> int:
        """Delete fired timers whose deadline is before ``due_before``; returns how many."""
        ...


# Reads rebuild every time from the integer fields. The datetime fields are written for
# people and MongoDB tooling only: nx-27017 0.8.1 stores a datetime written by an update
# operator ($set, update_many, bulk_write) on an existing document as a naive string
# ("2026-03-02 09:00:20.300000"); inserts and datetimes inside subdocuments (the payload)
# stay dates.
def _doc_to_timer(doc: Document) -> Timer:
    due_ms = int(doc["due_ms"])
    run_ms = doc.get("run_ms")
    lateness_ms = doc.get("lateness_ms")
    return Timer(
        key=doc["_id"],
        kind=doc["kind"],
        payload=cast(Payload, doc.get("payload", {})),
        due_at=from_ms(due_ms),
        state=TimerState(doc["state"]),
        attempts=int(doc.get("attempts", 0)),
        next_run_at=from_ms(int(run_ms)) if run_ms is not None else None,
        owner=doc.get("owner"),
        fired_at=from_ms(due_ms + int(lateness_ms)) if lateness_ms is not None else None,
        lateness=timedelta(milliseconds=int(lateness_ms)) if lateness_ms is not None else None,
        last_error=doc.get("last_error"),
    )


def _doc_to_claim(doc: Document) -> Claim:
    return Claim(
        key=doc["_id"],
        kind=doc["kind"],
        payload=cast(Payload, doc.get("payload", {})),
        due_at=from_ms(int(doc["due_ms"])),
        attempts=int(doc["attempts"]),
        owner=doc["owner"],
        token=doc["claim"],
        lease_until=from_ms(int(doc["run_ms"])),  # run_ms is the lease expiry while claimed
    )


def _unset(*fields: str) -> dict[str, str]:
    return dict.fromkeys(fields, "")


class MongoTimerStore:
    """Timers in a MongoDB collection the caller owns (one collection per purpose)."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self._listeners = Listeners()

    async def ensure_indexes(self) -> None:
        """Create the indexes the loop relies on (idempotent; call at start-up)."""
        await ensure_indexes(self.collection, TIMER_INDEXES)

    def subscribe(self, listener: ScheduleListener) -> Callable[[], None]:
        """Call ``listener(due_at)`` whenever this store arms a timer; returns unsubscribe."""
        return self._listeners.subscribe(listener)

    async def schedule(
        self, *, key: str, due_at: datetime, kind: str, payload: Payload, rearm: bool = False
    ) -> ScheduleOutcome:
        """Arm ``key`` to fire at ``due_at`` (upsert); a fired key is re-armed only with ``rearm``."""
        check_key(key)
        check_kind(kind)
        due = utc_ms(due_at)
        due_ms = to_ms(due)
        body = normalize_payload(payload)
        armed: Document = {
            "kind": kind,
            "payload": body,
            "due_at": due,
            "due_ms": due_ms,
            "run_ms": due_ms,
            "state": PENDING,
            "attempts": 0,
        }
        for _ in range(_MAX_SCHEDULE_ROUNDS):
            outcome = await self._schedule_round(key, due_ms, kind, body, armed, rearm)
            if outcome is None:
                continue
            if outcome in (
                ScheduleOutcome.CREATED,
                ScheduleOutcome.RESCHEDULED,
                ScheduleOutcome.REARMED,
            ):
                self._listeners.notify(due)
            return outcome
        raise TimerConflictError(f"timer {key!r} changed under every schedule attempt")

    async def _schedule_round(
        self, key: str, due_ms: int, kind: str, body: Document, armed: Document, rearm: bool
    ) -> ScheduleOutcome | None:
        coll = self.collection
        # Fast path, one round trip: a new key, or a pending timer whose deadline moves.
        # Any other existing state fails the filter, and the upsert then collides on _id.
        try:
            result = await coll.update_one(
                {"_id": key, "state": PENDING, "due_ms": {"$nin": [due_ms]}},
                {"$set": armed, "$unset": _unset("last_error")},
                upsert=True,
            )
        except DuplicateKeyError:
            pass
        else:
            return (
                ScheduleOutcome.CREATED
                if result.upserted_id is not None
                else ScheduleOutcome.RESCHEDULED
            )
        current = await coll.find_one({"_id": key}, {"state": 1, "due_ms": 1})
        if current is None:
            return None  # cancelled in between: upsert again
        state, current_due = current["state"], current["due_ms"]
        guard = {"_id": key, "state": state, "due_ms": current_due}
        if state == FIRED:
            if not rearm:
                return ScheduleOutcome.ALREADY_FIRED
            result = await coll.update_one(guard, {"$set": armed, "$unset": _unset(*_FIRED_FIELDS)})
            return ScheduleOutcome.REARMED if result.matched_count else None
        if current_due == due_ms:
            # Same deadline (a replayed schedule): leave its claim or retry backoff alone,
            # so a replay neither fires it twice nor skips a backoff.
            result = await coll.update_one(guard, {"$set": {"kind": kind, "payload": body}})
            return ScheduleOutcome.UNCHANGED if result.matched_count else None
        if state == CLAIMED:
            # A new deadline while a handler runs: the running firing completes as stale
            # (its mark is refused) and the new deadline fires on its own.
            result = await coll.update_one(
                guard, {"$set": armed, "$unset": _unset("owner", "last_error", *_CLAIM_FIELDS)}
            )
            return ScheduleOutcome.RESCHEDULED if result.matched_count else None
        return None  # pending with another deadline: the fast path lost a race, go again

    async def cancel(self, *, key: str) -> bool:
        """Disarm a pending or claimed timer; True if one was removed (fired timers stay)."""
        result = await self.collection.delete_one(
            {"_id": check_key(key), "state": {"$in": [PENDING, CLAIMED]}}
        )
        return result.deleted_count == 1

    async def get(self, *, key: str) -> Timer | None:
        """The stored timer, or None."""
        doc = await self.collection.find_one({"_id": check_key(key)})
        return _doc_to_timer(doc) if doc is not None else None

    async def claim_due(
        self, *, now: datetime, owner: str, lease_s: float, limit: int
    ) -> ClaimBatch:
        """Lease up to ``limit`` timers due at ``now`` to ``owner``, taken from the earliest due."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        now_ms = to_ms(now)
        due = {"run_ms": {"$lte": now_ms}}
        seen = [
            doc["_id"]
            async for doc in self.collection.find(due, {"_id": 1})
            .sort("run_ms", 1)
            .limit(limit * _CANDIDATE_SPREAD)
        ]
        if not seen:
            return ClaimBatch()
        # In a burst, replicas that all take the earliest `limit` timers collide in lockstep:
        # one wins the batch and the others' rounds are wasted, round after round. A random
        # pick among the earliest few batches keeps most of every replica's round useful.
        picked = set(random.sample(seen, limit)) if len(seen) > limit else set(seen)
        candidates = [key for key in seen if key in picked]
        # One update for the whole batch instead of a find_one_and_update per timer: each
        # document's update re-checks the filter atomically (MongoDB per-document
        # atomicity; nx-27017 serialises whole commands), so a timer another replica
        # claimed meanwhile no longer matches and every timer has at most one claim. On
        # nx-27017 this is ~3x the throughput of one find_one_and_update per timer.
        token = new_id()
        lease_until = utc_ms(now + timedelta(seconds=lease_s))
        await self.collection.update_many(
            {"_id": {"$in": candidates}, **due},
            {
                "$set": {
                    "state": CLAIMED,
                    "owner": owner,
                    "claim": token,
                    "claimed_at": utc_ms(now),
                    "lease_until": lease_until,
                    "run_ms": to_ms(lease_until),
                },
                "$inc": {"attempts": 1},
            },
        )
        won = {
            doc["_id"]: _doc_to_claim(doc)
            async for doc in self.collection.find({"_id": {"$in": candidates}, "claim": token})
        }
        return ClaimBatch(
            claims=[won[key] for key in candidates if key in won], candidates=len(seen)
        )

    async def next_run_at(self) -> datetime | None:
        """When the earliest armed timer becomes claimable (deadline, retry or lease expiry)."""
        # `$gte: 0` rather than `$exists`: nx-27017 turns the range into an index search and
        # `$exists` into a scan; both select exactly the armed timers.
        cursor = (
            self.collection.find({"run_ms": {"$gte": 0}}, {"run_ms": 1}).sort("run_ms", 1).limit(1)
        )
        async for doc in cursor:
            return from_ms(int(doc["run_ms"]))
        return None

    async def purge_fired(self, *, due_before: datetime) -> int:
        """Delete fired timers whose deadline is before ``due_before``; returns how many."""
        result = await self.collection.delete_many(
            {"state": FIRED, "due_ms": {"$lt": to_ms(due_before)}}
        )
        return int(result.deleted_count)

    async def complete(self, *, completions: Sequence[Completion]) -> int:
        """Record handler outcomes; returns how many still held their claim (the rest are stale)."""
        if not completions:
            return 0
        ops = [
            UpdateOne({"_id": c.claim.key, "claim": c.claim.token}, _completion_update(c))
            for c in completions
        ]
        result = await self.collection.bulk_write(ops, ordered=False)
        return int(result.matched_count)


def _completion_update(completion: Completion) -> Document:
    match completion:
        case Fired(claim=claim, fired_at=fired_at):
            lateness_ms = to_ms(fired_at) - to_ms(claim.due_at)
            return {
                "$set": {"state": FIRED, "fired_at": utc_ms(fired_at), "lateness_ms": lateness_ms},
                "$unset": _unset("run_ms", *_CLAIM_FIELDS),
            }
        case Failed(retry_at=retry_at, error=error):
            return {
                "$set": {"state": PENDING, "run_ms": to_ms(retry_at), "last_error": error},
                "$unset": _unset("owner", *_CLAIM_FIELDS),
            }
        case Released(at=at):
            return {
                "$set": {"state": PENDING, "run_ms": to_ms(at)},
                "$unset": _unset("owner", *_CLAIM_FIELDS),
            }
    raise InvalidTimerError(f"unknown completion {completion!r}")  # pragma: no cover
