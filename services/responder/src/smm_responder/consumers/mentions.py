"""The responder's subscription to mentions."""

from __future__ import annotations

from smm_responder.services.cases import CaseService
from smm_shared.events import MentionDeleted, MentionReceived, MentionUpdated
from smm_shared.events.topics import MENTIONS
from smm_shared.messaging import Delivery
from smm_shared.service import Runtime

GROUP = "responder.mentions"


def register(runtime: Runtime, *, cases: CaseService) -> None:
    """Consume ``smm.mentions.v1``: mentions feed cases; edits and deletions decide reviews."""

    async def on_mention(event: MentionReceived, _: Delivery) -> None:
        await cases.record_mention(event)

    async def on_change(event: MentionUpdated | MentionDeleted, _: Delivery) -> None:
        await cases.mention_changed(event)

    runtime.subscribe(
        topic=MENTIONS,
        group_id=GROUP,
        handlers={
            MentionReceived: on_mention,
            MentionUpdated: on_change,
            MentionDeleted: on_change,
        },
    )
