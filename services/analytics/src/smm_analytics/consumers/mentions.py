"""Analytics' subscription to mentions."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from smm_shared.config import KafkaSettings
from smm_shared.events import MentionReceived
from smm_shared.events.topics import MENTIONS
from smm_shared.messaging import Delivery, subscribe_events

from smm_analytics.services.rollups import RollupService

GROUP = "analytics.mentions"


def register(broker: KafkaBroker, *, rollups: RollupService, settings: KafkaSettings) -> str:
    """Consume ``smm.mentions.v1`` into mention-volume buckets."""

    async def on_mention(event: MentionReceived, _: Delivery) -> None:
        await rollups.count_mention(event)

    subscribe_events(
        broker, topic=MENTIONS, group_id=GROUP, handlers={MentionReceived: on_mention}, settings=settings
    )
    return GROUP
