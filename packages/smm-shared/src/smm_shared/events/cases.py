"""Case contracts: what the responder publishes on ``smm.cases.v1``."""

from __future__ import annotations

from typing import Annotated, Literal

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


CaseStatusName = Literal[
    "new", "open", "pending_customer", "pending_department", "resolved", "closed"
]
PriorityName = Literal["low", "normal", "high", "urgent"]
#: Who did it: ``user:<id>``, ``system:<component>`` (routing, sla, escalation) or ``customer``.
ActorRef = Annotated[
    str, Field(min_length=1, max_length=140, pattern=r"^(user:.+|system:.+|customer)$")
]
Reason = Annotated[str, Field(max_length=1000)]


class CaseChange(CaseEvent):
    """A change someone or something made to a case, with who and why (the timeline's entry)."""

    actor: ActorRef
    reason: Reason = ""


@register
class CaseStatusChanged(CaseChange):
    """The case moved between states (``smm.case.status_changed``)."""

    event_type = "smm.case.status_changed"

    previous: CaseStatusName
    current: CaseStatusName


@register
class CaseAssigned(CaseChange):
    """The case got an assignee, another one, or none (``smm.case.assigned``)."""

    event_type = "smm.case.assigned"

    assignee_id: str | None = Field(default=None, max_length=128)
    previous_assignee_id: str | None = Field(default=None, max_length=128)


@register
class CaseRouted(CaseChange):
    """A routing rule (or a person) set the case's department, priority, tags and SLA policy."""

    event_type = "smm.case.routed"

    department: str | None = Field(default=None, max_length=64)
    previous_department: str | None = Field(default=None, max_length=64)
    priority: PriorityName
    tags: tuple[str, ...] = ()
    sla_policy_id: str | None = Field(default=None, max_length=64)
    rule_id: str | None = Field(default=None, max_length=64)
    rule_name: str | None = Field(default=None, max_length=200)


@register
class CasePriorityChanged(CaseChange):
    """The case's priority changed (``smm.case.priority_changed``)."""

    event_type = "smm.case.priority_changed"

    previous: PriorityName
    current: PriorityName


@register
class CaseTagsChanged(CaseChange):
    """Tags were added to or removed from the case (``smm.case.tags_changed``)."""

    event_type = "smm.case.tags_changed"

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@register
class CaseNoteAdded(CaseChange):
    """An internal note was added (``smm.case.note_added``); the text stays in the case."""

    event_type = "smm.case.note_added"

    note_id: str = Field(min_length=1, max_length=64)


@register
class CaseReplyRequested(CaseChange):
    """An agent's reply left the case for the publisher (``smm.case.reply_requested``)."""

    event_type = "smm.case.reply_requested"

    reply_id: str = Field(min_length=1, max_length=64)
    #: Automatic acknowledgements do not count for SLAs.
    automatic: bool = False


@register
class CaseReplied(CaseEvent):
    """The publisher posted our reply on the network (``smm.case.replied``)."""

    event_type = "smm.case.replied"

    reply_id: str = Field(min_length=1, max_length=64)
    native_id: str | None = Field(default=None, max_length=256)
    url: str | None = Field(default=None, max_length=2000)


@register
class CaseReplyFailed(CaseEvent):
    """The publisher could not post our reply (``smm.case.reply_failed``)."""

    event_type = "smm.case.reply_failed"

    reply_id: str = Field(min_length=1, max_length=64)
    code: str = Field(max_length=200)
    message: str = Field(max_length=2000)


@register
class CaseResolved(CaseChange):
    """The case was resolved (``smm.case.resolved``); ``resolution_s`` counts from opening."""

    event_type = "smm.case.resolved"

    resolution_s: float = Field(ge=0)
    assignee_id: str | None = Field(default=None, max_length=128)
    department: str | None = Field(default=None, max_length=64)
    #: The case's network (absent in events from before it was carried).
    network: Network | None = None


@register
class CaseReopened(CaseChange):
    """A resolved case became active again (``smm.case.reopened``)."""

    event_type = "smm.case.reopened"


@register
class CaseHandedOff(CaseChange):
    """The case was handed to a department to fix the problem (``smm.case.handed_off``)."""

    event_type = "smm.case.handed_off"

    department: str = Field(min_length=1, max_length=64)
    handoff_id: str = Field(min_length=1, max_length=64)


@register
class CaseDepartmentAnswered(CaseChange):
    """The department answered a handoff inside the platform (``smm.case.department_answered``)."""

    event_type = "smm.case.department_answered"

    department: str = Field(min_length=1, max_length=64)
    handoff_id: str = Field(min_length=1, max_length=64)


@register
class CaseEscalated(CaseChange):
    """An escalation rule acted on an SLA warning or breach (``smm.case.escalated``)."""

    event_type = "smm.case.escalated"

    trigger: Literal["warning", "breach"]
    metric: str = Field(min_length=1, max_length=64)
    rule_id: str = Field(min_length=1, max_length=64)
    actions: tuple[str, ...] = ()
    #: Who should hear about it (user ids or queue names) for notifications.
    notify: tuple[str, ...] = ()


ReviewOutcomeName = Literal["improved", "deleted", "unchanged", "worsened"]


@register
class ReviewOutcome(CaseEvent):
    """How a followed negative review ended after resolution (``smm.review.outcome``)."""

    event_type = "smm.review.outcome"

    mention_id: str = Field(min_length=1, max_length=64)
    outcome: ReviewOutcomeName
    sentiment_before: float | None = None
    sentiment_after: float | None = None
