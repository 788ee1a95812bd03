"""Folding events into the write-time rollups: the analytics consumers' one use case.

A consumed batch (any mix of the types in :data:`FOLDED`) is applied in this order, and
the consumer commits its offsets only after :meth:`FoldService.fold` returned:

1. the bucket counters of every event, exactly once (:class:`RollupStore.apply_batch`:
   ledger plus batch token, so a redelivery or a replay of any slice changes no number);
2. the per-post documents (content, published posts, latest engagement snapshots) of the
   content metrics, written idempotently by natural key;
3. the sample mention ids that explain alerts (set semantics: a replay adds nothing);
4. the brand in the ``brands`` collection (``first_seen_ms``: its earliest event time,
   where the alert baselines start; ``last_event_ms``: when it last had an event), so the
   alert tick knows whom to evaluate.

Steps 2-4 are idempotent by themselves, so a crash between steps is repaired by the
redelivery of the batch. :class:`RollupMaintenance` rolls hours into days and sweeps what
is past its retention, in every replica (both are safe to run concurrently).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from smm_analytics.adapters.rollup_store import RollupStore
from smm_analytics.domain.rollups import increments_for
from smm_shared.events import (
    CaseOpened,
    CaseReopened,
    CaseResolved,
    ContentCreated,
    EngagementObserved,
    Event,
    MentionReceived,
    PostFailed,
    PostPublished,
    ReplyFailed,
    ReplyPublished,
    ReviewOutcome,
    SlaBreached,
    SlaMet,
)
from smm_shared.mongo import Collection, epoch_ms

logger = logging.getLogger(__name__)

#: The event types each analytics consumer group folds, by topic.
_FOLDED_TYPES: tuple[type[Event], ...] = (
    MentionReceived,
    EngagementObserved,
    CaseOpened,
    CaseReopened,
    CaseResolved,
    ReviewOutcome,
    SlaMet,
    SlaBreached,
    ContentCreated,
    PostPublished,
    PostFailed,
    ReplyPublished,
    ReplyFailed,
)
FOLDED: dict[str, frozenset[type[Event]]] = {
    topic: frozenset(t for t in _FOLDED_TYPES if t.topic == topic)
    for topic in dict.fromkeys(t.topic for t in _FOLDED_TYPES)
}


class ContentRecorder(Protocol):
    """Stores content items, published posts and engagement snapshots (content metrics)."""

    async def record(self, events: Sequence[Event]) -> None: ...


class SampleRecorder(Protocol):
    """Keeps a bounded set of mention ids per brand and hour that explain alerts."""

    async def record(self, mentions: Sequence[MentionReceived]) -> None: ...


class FoldService:
    """Applies consumed batches to the rollups and the per-post documents."""

    def __init__(
        self,
        *,
        store: RollupStore,
        brands: Collection,
        content: ContentRecorder | None = None,
        samples: SampleRecorder | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._brands = brands
        self._content = content
        self._samples = samples
        self._now = now

    async def fold(self, events: Sequence[Event]) -> int:
        """Store the effects of a batch; returns how many events were new to the counters."""
        counted = [(e.event_id, incs) for e in events if (incs := increments_for(e))]
        new = await self._store.apply_batch(counted) if counted else 0
        if self._content is not None:
            await self._content.record(events)
        mentions = [e for e in events if isinstance(e, MentionReceived)]
        if self._samples is not None and mentions:
            await self._samples.record(mentions)
        await self._seen(events)
        return new

    async def _seen(self, events: Sequence[Event]) -> None:
        """Record each brand: the earliest event time seen (where its measured history
        starts, backfills included) and when it last had an event (processing time)."""
        earliest: dict[str, datetime] = {}
        for event in events:
            at = (
                event.mention.created_at
                if isinstance(event, MentionReceived)
                else event.occurred_at
            )
            if event.brand_id not in earliest or at < earliest[event.brand_id]:
                earliest[event.brand_id] = at
        now = epoch_ms(self._now())
        for brand_id, at in sorted(earliest.items()):
            await self._brands.update_one(
                {"_id": brand_id},
                {"$set": {"last_event_ms": now}, "$min": {"first_seen_ms": epoch_ms(at)}},
                upsert=True,
            )


class RollupMaintenance:
    """Rolls dirty days every ``roll_every_s`` and sweeps retention every ``sweep_every_s``."""

    def __init__(
        self, store: RollupStore, *, roll_every_s: float = 300.0, sweep_every_s: float = 3600.0
    ) -> None:
        self._store = store
        self._roll_every_s = roll_every_s
        self._sweep_every_s = sweep_every_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the background loop."""
        self._task = asyncio.create_task(self._run(), name="rollup-maintenance")

    async def stop(self) -> None:
        """Stop the background loop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self, *, sweep: bool) -> int:
        """Roll every dirty complete day (and sweep when asked); returns the days rolled."""
        if sweep:
            await self._store.sweep()
            return 0
        return await self._store.roll_days()

    async def _run(self) -> None:
        since_sweep = self._sweep_every_s  # sweep once soon after start
        while True:
            try:
                await self.run_once(sweep=since_sweep >= self._sweep_every_s)
                if since_sweep >= self._sweep_every_s:
                    since_sweep = 0.0
            except Exception:  # the next pass retries; a maintenance error must not kill us
                logger.warning("rollup maintenance failed, will retry", exc_info=True)
            await asyncio.sleep(self._roll_every_s)
            since_sweep += self._roll_every_s
