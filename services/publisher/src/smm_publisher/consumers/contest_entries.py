"""The publisher's subscription to mentions: contest entries are collected from them."""

from __future__ import annotations

from smm_publisher.services.contests import ContestService
from smm_shared.events import MentionDeleted, MentionReceived, MentionUpdated
from smm_shared.events.topics import MENTIONS
from smm_shared.messaging import Delivery
from smm_shared.service import Runtime

GROUP = "publisher.contests"


def register(runtime: Runtime, *, contests: ContestService) -> None:
    """Consume ``smm.mentions.v1``: new, edited and deleted mentions enter or leave contests."""

    async def on_mention(
        event: MentionReceived | MentionUpdated | MentionDeleted, _: Delivery
    ) -> None:
        await contests.on_mention(event)

    runtime.subscribe(
        topic=MENTIONS,
        group_id=GROUP,
        handlers={
            MentionReceived: on_mention,
            MentionUpdated: on_mention,
            MentionDeleted: on_mention,
        },
    )
