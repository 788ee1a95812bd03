"""Analytics' subscriptions: every topic it folds, in batches, one consumer group per topic."""

from __future__ import annotations

from collections.abc import Sequence

from smm_analytics.services.folding import FOLDED, FoldService
from smm_shared.events import BY_NAME, Event
from smm_shared.messaging import Delivery
from smm_shared.service import Runtime


def group_of(topic: str) -> str:
    """The consumer group folding ``topic``: ``analytics.mentions`` for ``smm.mentions.v1``."""
    return f"analytics.{topic.split('.')[1]}"


def register(runtime: Runtime, *, fold: FoldService, max_records: int = 500) -> None:
    """Consume every folded topic in batches of up to ``max_records``; commit after the fold."""

    async def on_batch(events: Sequence[tuple[Event, Delivery]]) -> None:
        await fold.fold([event for event, _ in events])

    for topic, types in FOLDED.items():
        runtime.subscribe_batches(
            topic=BY_NAME[topic],
            group_id=group_of(topic),
            event_types=types,
            handler=on_batch,
            max_records=max_records,
        )
