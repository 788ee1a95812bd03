"""The responder's subscription to mentions."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from smm_shared.config import KafkaSettings
from smm_shared.events import MentionReceived
from smm_shared.events.topics import MENTIONS
from smm_shared.messaging import Delivery, subscribe_events

from smm_responder.services.cases import CaseService

GROUP = "responder.mentions"


def register(broker: KafkaBroker, *, cases: CaseService, settings: KafkaSettings) -> str:
    """Consume ``smm.mentions.v1``: every received mention becomes part of a case."""

    async def on_mention(event: MentionReceived, _: Delivery) -> None:
        await cases.record_mention(event)

    subscribe_events(
        broker, topic=MENTIONS, group_id=GROUP, handlers={MentionReceived: on_mention}, settings=settings
    )
    return GROUP
