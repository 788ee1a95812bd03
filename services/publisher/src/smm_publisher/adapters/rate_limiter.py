"""Per-account rate limiting of deliveries: the ``RateLimiter`` port, on MongoDB and in memory.

One counter document per (account, window, period)::

    {_id: "<account_key>|<window name>|<period start ms>",
     account_key, window, start_ms, count, expires_at_ms}

:meth:`MongoRateLimiter.acquire` takes one slot in each window of the delivery with a
conditional single-document update, ``{"_id": id, "count": {"$lt": limit}}`` ->
``{"$inc": {"count": 1}}``, which is atomic on MongoDB and on nx-27017, so any number of
publisher replicas never take more than ``limit`` slots between them. A period's document
is created by the first delivery in it (an insert with ``count: 1``; a replica losing that
race gets ``DuplicateKeyError`` and takes its slot by the conditional update instead); the
counter is a flat top-level field, so nx-27017's flat dotted keys on upsert
(docs/mongo-subset.md) never arise, and no upsert is used. When a later window refuses,
the slots taken in the earlier ones are given back (``$inc: -1``) before answering.

Old periods are deleted by :meth:`MongoRateLimiter.purge` on ``expires_at_ms`` (an integer,
as times are kept for updates: docs/mongo-subset.md), which ``acquire`` also runs every
``purge_every_s``. No TTL index: nx-27017 accepts one, but nothing in our compatibility
test proves when it deletes, and deleting a live counter would hand out its slots again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final, Protocol

from pymongo.errors import DuplicateKeyError

from smm_publisher.domain.rate_limits import (
    Kind,
    Window,
    epoch_ms,
    parse_kind,
    retry_at,
    window_start_ms,
    windows_for,
)
from smm_shared.events import Network
from smm_shared.mongo import Collection, Document, IndexSpec, ensure_indexes

#: Which windows a delivery takes a slot in: :func:`windows_for`, or a test's own table.
WindowsFor = Callable[[Network, Kind], tuple[Window, ...]]

RATE_LIMIT_INDEXES: Final = (IndexSpec(["expires_at_ms"]),)
#: A period's counter outlives its end by this much before it may be purged, so a replica
#: whose clock runs behind still finds it instead of starting a fresh count.
DEFAULT_GRACE_S: Final = 300
DEFAULT_PURGE_EVERY_S: Final = 600.0
# A refusal whose windows turn out not to be full any more (another acquirer's refund slipped
# in between) is tried again; after this many rounds the refusal stands.
_MAX_ROUNDS: Final = 3


class RateLimiter(Protocol):
    """Where deliveries take their slots: one per window of their network and kind."""

    async def acquire(
        self, *, account_key: str, network: Network, kind: str, now: datetime
    ) -> datetime | None:
        """None: go (one slot taken in every window); else the earliest time to try again."""
        ...


def counter_id(account_key: str, window: Window, start_ms: int) -> str:
    """The ``_id`` of ``account_key``'s counter for the ``window`` period starting at ``start_ms``."""
    return f"{account_key}|{window.name}|{start_ms}"


def _check_account_key(account_key: str) -> None:
    # The key is part of a string _id: an empty one or one with our separator could make two
    # accounts' counters the same document.
    if not account_key or "|" in account_key:
        raise ValueError("account_key must be non-empty and free of '|'")


class MongoRateLimiter:
    """Fixed-window counters in one MongoDB collection, shared by every publisher replica."""

    def __init__(
        self,
        collection: Collection,
        *,
        windows: WindowsFor = windows_for,
        grace_s: int = DEFAULT_GRACE_S,
        purge_every_s: float | None = DEFAULT_PURGE_EVERY_S,
    ) -> None:
        self.collection = collection
        self._windows = windows
        self._grace_ms = grace_s * 1000
        self._purge_every_ms = None if purge_every_s is None else int(purge_every_s * 1000)
        self._next_purge_ms = 0

    async def ensure_indexes(self) -> None:
        """Create the index ``purge`` uses (idempotent)."""
        await ensure_indexes(self.collection, RATE_LIMIT_INDEXES)

    async def acquire(
        self, *, account_key: str, network: Network, kind: str, now: datetime
    ) -> datetime | None:
        """None: go (one slot taken in every window); else the earliest time to try again."""
        _check_account_key(account_key)
        windows = self._windows(network, parse_kind(kind))
        if not windows:
            raise ValueError(f"no windows for {network.value} {kind}s")
        await self._purge_now_and_then(now)
        refused = windows[0]
        for _ in range(_MAX_ROUNDS):
            taken: list[str] = []
            refusing: Window | None = None
            for window in windows:
                if await self._take(account_key, window, now):
                    taken.append(counter_id(account_key, window, window_start_ms(now, window)))
                else:
                    refusing = window
                    break
            if refusing is None:
                return None
            refused = refusing
            for cid in taken:
                await self.collection.update_one(
                    {"_id": cid, "count": {"$gt": 0}}, {"$inc": {"count": -1}}
                )
            full = await self._full(account_key, windows, now)
            if full:
                return retry_at(now, full)
        return retry_at(now, [refused])

    async def used(self, *, account_key: str, window: Window, now: datetime) -> int:
        """Slots taken in ``account_key``'s current ``window`` period (tests, dashboards)."""
        cid = counter_id(account_key, window, window_start_ms(now, window))
        doc = await self.collection.find_one({"_id": cid}, {"count": 1})
        return 0 if doc is None else int(doc["count"])

    async def purge(self, *, before: datetime) -> int:
        """Delete counters whose period (plus grace) ended before ``before``; returns how many."""
        result = await self.collection.delete_many({"expires_at_ms": {"$lt": epoch_ms(before)}})
        return result.deleted_count

    async def _take(self, account_key: str, window: Window, now: datetime) -> bool:
        start_ms = window_start_ms(now, window)
        guarded: Document = {
            "_id": counter_id(account_key, window, start_ms),
            "count": {"$lt": window.limit},
        }
        if (await self.collection.update_one(guarded, {"$inc": {"count": 1}})).matched_count:
            return True
        # No slot: the period's counter is full, or nobody has created it yet.
        try:
            await self.collection.insert_one(
                {
                    "_id": guarded["_id"],
                    "account_key": account_key,
                    "window": window.name,
                    "start_ms": start_ms,
                    "count": 1,
                    "expires_at_ms": start_ms + window.seconds * 1000 + self._grace_ms,
                }
            )
            return True
        except DuplicateKeyError:
            pass
        # It exists: full all along, or another replica created it just now.
        return bool(
            (await self.collection.update_one(guarded, {"$inc": {"count": 1}})).matched_count
        )

    async def _full(
        self, account_key: str, windows: Sequence[Window], now: datetime
    ) -> list[Window]:
        ids = {counter_id(account_key, w, window_start_ms(now, w)): w for w in windows}
        counts = {
            doc["_id"]: int(doc["count"])
            async for doc in self.collection.find({"_id": {"$in": list(ids)}}, {"count": 1})
        }
        return [w for cid, w in ids.items() if counts.get(cid, 0) >= w.limit]

    async def _purge_now_and_then(self, now: datetime) -> None:
        if self._purge_every_ms is None:
            return
        now_ms = epoch_ms(now)
        if now_ms < self._next_purge_ms:
            return
        self._next_purge_ms = now_ms + self._purge_every_ms
        await self.purge(before=now)


class InMemoryRateLimiter:
    """The same windows and answers as :class:`MongoRateLimiter`, in one process (unit tests)."""

    def __init__(self, *, windows: WindowsFor = windows_for) -> None:
        self._windows = windows
        self._counts: dict[str, int] = {}
        self._expires_ms: dict[str, int] = {}

    async def ensure_indexes(self) -> None:
        """Nothing to create; here for the same interface."""

    async def acquire(
        self, *, account_key: str, network: Network, kind: str, now: datetime
    ) -> datetime | None:
        """None: go (one slot taken in every window); else the earliest time to try again."""
        _check_account_key(account_key)
        windows = self._windows(network, parse_kind(kind))
        if not windows:
            raise ValueError(f"no windows for {network.value} {kind}s")
        # No await between the check and the take: atomic within the event loop.
        ids = [counter_id(account_key, w, window_start_ms(now, w)) for w in windows]
        full = [
            w for w, cid in zip(windows, ids, strict=True) if self._counts.get(cid, 0) >= w.limit
        ]
        if full:
            return retry_at(now, full)
        for window, cid in zip(windows, ids, strict=True):
            self._counts[cid] = self._counts.get(cid, 0) + 1
            self._expires_ms[cid] = window_start_ms(now, window) + window.seconds * 1000
        return None

    async def used(self, *, account_key: str, window: Window, now: datetime) -> int:
        """Slots taken in ``account_key``'s current ``window`` period."""
        return self._counts.get(counter_id(account_key, window, window_start_ms(now, window)), 0)

    async def purge(self, *, before: datetime) -> int:
        """Forget counters whose period ended before ``before``; returns how many."""
        cutoff = epoch_ms(before)
        old = [cid for cid, end in self._expires_ms.items() if end < cutoff]
        for cid in old:
            del self._counts[cid], self._expires_ms[cid]
        return len(old)
