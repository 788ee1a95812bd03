"""Analytics' subscription to mentions."""

from __future__ import annotations

from smm_analytics.services.rollups import RollupService
from smm_shared.events import MentionReceived
from smm_shared.events.topics import MENTIONS
from smm_shared.messaging import Delivery
from smm_shared.service import Runtime

GROUP = "analytics.mentions"


def register(runtime: Runtime, *, rollups: RollupService) -> None:
    """Consume ``smm.mentions.v1`` into mention-volume buckets."""

    async def on_mention(event: MentionReceived, _: Delivery) -> None:
        await rollups.count_mention(event)

    runtime.subscribe(topic=MENTIONS, group_id=GROUP, handlers={MentionReceived: on_mention})
