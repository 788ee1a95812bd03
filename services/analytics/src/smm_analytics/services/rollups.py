"""Use cases of rollups: fold events into buckets, read series."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from smm_analytics.adapters.buckets_repo import BucketRepository
from smm_analytics.domain.buckets import bucket_key, hour_slot, hours, slot_start
from smm_shared.events import MentionReceived

MENTIONS = "mentions"


@dataclass(frozen=True, slots=True)
class Point:
    """One slot of a series."""

    slot: str
    count: int


class RollupService:
    """Counts events into hourly buckets at write time; reads cost O(buckets)."""

    def __init__(self, *, buckets: BucketRepository) -> None:
        self._buckets = buckets

    async def count_mention(self, event: MentionReceived) -> bool:
        """Count a mention in its brand's hourly bucket for its network; False on a replay."""
        mention = event.mention
        slot = hour_slot(mention.created_at)
        dimension = f"network={mention.network.value}"
        return await self._buckets.count_once(
            key=bucket_key(event.brand_id, MENTIONS, dimension, slot),
            brand_id=event.brand_id,
            metric=MENTIONS,
            dimension=dimension,
            slot=slot,
            slot_start=slot_start(slot),
            event_id=event.event_id,
        )

    async def mention_series(
        self, *, brand_id: str, start: datetime, end: datetime, network: str | None
    ) -> list[Point]:
        """Hourly mention counts from ``start`` to ``end``, zero-filled."""
        slots = list(hours(start, end))
        if not slots:
            return []
        counts = await self._buckets.counts(
            brand_id=brand_id,
            metric=MENTIONS,
            first=slot_start(slots[0]),
            last=slot_start(slots[-1]),
            dimension=f"network={network}" if network else None,
        )
        return [Point(slot, counts.get(slot, 0)) for slot in slots]
