"""The publisher's subscription to reply commands from the responder."""

from __future__ import annotations

from smm_publisher.services.delivery import DeliveryService
from smm_shared.events import ReplyRequested
from smm_shared.events.topics import PUBLISH_COMMANDS
from smm_shared.messaging import Delivery
from smm_shared.service import Runtime

GROUP = "publisher.replies"


def register(runtime: Runtime, *, deliveries: DeliveryService) -> None:
    """Consume ``smm.publish-commands.v1``: each reply is posted once, in its thread.

    The command is committed once its delivery is stored and its timer armed; the post
    itself is made by the timer loop, so a slow network never holds the partition.
    """

    async def on_reply(event: ReplyRequested, _: Delivery) -> None:
        await deliveries.request_reply(event)

    runtime.subscribe(topic=PUBLISH_COMMANDS, group_id=GROUP, handlers={ReplyRequested: on_reply})
