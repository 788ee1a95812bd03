"""SLA contracts: what the responder publishes on ``smm.sla.v1``.

One SLA clock runs per case and metric (``first_response``, ``next_response``, ``resolution``,
``time_to_assignment``, ``department_response``). Deadlines are computed in business time of
the policy's calendar when the clock is applied, resumed or re-bound, and stored; warnings
and breaches are fired by the durable timer loop, once, with their lateness.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from smm_shared.events.base import Event, register
from smm_shared.events.mentions import Network
from smm_shared.events.topics import SLA

SlaMetricName = Literal[
    "first_response", "next_response", "resolution", "time_to_assignment", "department_response"
]


class SlaEvent(Event):
    """Base of SLA events: keyed by case id, so one case's clocks stay in order."""

    topic = SLA.name

    case_id: str = Field(min_length=1, max_length=64)
    metric: SlaMetricName
    policy_id: str = Field(min_length=1, max_length=64)
    department: str | None = Field(default=None, max_length=64)
    assignee_id: str | None = Field(default=None, max_length=128)
    #: The network the case's conversation is on (absent in events from before it was
    #: carried); analytics breaks care metrics down by it.
    network: Network | None = None

    def partition_key(self) -> str:
        """One case's SLA history stays in order."""
        return self.case_id


@register
class SlaApplied(SlaEvent):
    """A clock started (``smm.sla.applied``) with its computed deadlines."""

    event_type = "smm.sla.applied"

    target_s: float = Field(gt=0)
    warn_due_at: datetime | None = None
    breach_due_at: datetime | None = None
    calendar_id: str | None = Field(default=None, max_length=64)


@register
class SlaWarning(SlaEvent):
    """The warning point passed without the target being met (``smm.sla.warning``)."""

    event_type = "smm.sla.warning"

    due_at: datetime
    breach_due_at: datetime | None = None
    lateness_ms: int = Field(ge=0)


@register
class SlaBreached(SlaEvent):
    """The target was missed (``smm.sla.breached``)."""

    event_type = "smm.sla.breached"

    due_at: datetime
    lateness_ms: int = Field(ge=0)


@register
class SlaMet(SlaEvent):
    """The clock stopped because its goal was reached (``smm.sla.met``)."""

    event_type = "smm.sla.met"

    #: Business time the metric took (pauses excluded).
    elapsed_s: float = Field(ge=0)
    within_target: bool


@register
class SlaPaused(SlaEvent):
    """The clock stopped counting, e.g. while the case waits for the customer."""

    event_type = "smm.sla.paused"

    consumed_s: float = Field(ge=0)


@register
class SlaResumed(SlaEvent):
    """The clock counts again with new deadlines (``smm.sla.resumed``)."""

    event_type = "smm.sla.resumed"

    warn_due_at: datetime | None = None
    breach_due_at: datetime | None = None


@register
class SlaRebound(SlaEvent):
    """The case moved (another department or policy): the clock now follows a new policy."""

    event_type = "smm.sla.rebound"

    previous_policy_id: str = Field(min_length=1, max_length=64)
    previous_breach_due_at: datetime | None = None
    warn_due_at: datetime | None = None
    breach_due_at: datetime | None = None
    reason: str = Field(default="", max_length=1000)
