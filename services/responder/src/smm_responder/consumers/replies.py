"""The responder's subscription to the publisher's answers about replies."""

from __future__ import annotations

from smm_responder.services.cases import CaseService
from smm_shared.events import ReplyFailed, ReplyPublished
from smm_shared.events.topics import POSTS
from smm_shared.messaging import Delivery
from smm_shared.service import Runtime

GROUP = "responder.replies"


def register(runtime: Runtime, *, cases: CaseService) -> None:
    """Consume ``smm.posts.v1``: a reply's delivery state shows on its case."""

    async def on_outcome(event: ReplyPublished | ReplyFailed, _: Delivery) -> None:
        await cases.reply_outcome(event)

    runtime.subscribe(
        topic=POSTS, group_id=GROUP, handlers={ReplyPublished: on_outcome, ReplyFailed: on_outcome}
    )
