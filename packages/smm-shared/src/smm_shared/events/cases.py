"""Case contracts: what the responder publishes on ``smm.cases.v1``."""

from __future__ import annotations

from pydantic import Field

from smm_shared.events.base import Event, register
from smm_shared.events.mentions import Network
from smm_shared.events.topics import CASES


class CaseEvent(Event):
    """Base of case events: keyed by case id."""

    topic = CASES.name

    case_id: str = Field(min_length=1, max_length=64)
    conversation_key: str = Field(min_length=3, max_length=512, pattern=r"^[a-z]+:.+$")

    def partition_key(self) -> str:
        """One case's history stays in order."""
        return self.case_id


@register
class CaseOpened(CaseEvent):
    """A mention started a new case (``smm.case.opened``)."""

    event_type = "smm.case.opened"

    network: Network
    mention_id: str = Field(min_length=1, max_length=64)


@register
class CaseMentionAdded(CaseEvent):
    """A further mention joined an open case (``smm.case.mention_added``)."""

    event_type = "smm.case.mention_added"

    mention_id: str = Field(min_length=1, max_length=64)
    mention_count: int = Field(ge=1)
