"""Trend and crisis alert contracts on ``smm.alerts.v1``, keyed by alert episode id.

Analytics evaluates every brand once per hour (the interval ``[interval_start,
interval_end)``) for two kinds of finding:

* ``rising_term``: a term or hashtag (``subject``; hashtags keep their ``#``) whose share of
  the brand's mentions in the hour rose significantly against the 12 hours before;
* ``negative_spike``: the hour's count of negative mentions (``subject`` is ``"negative"``)
  is a spike against the same hour on previous days and against the recent hours.

One *episode* is a burst of such findings for one (brand, kind, subject): it is opened once
(``smm.alert.opened``), reported again only when it changes meaningfully
(``smm.alert.updated``, with the reasons), may be acknowledged by a person
(``smm.alert.acknowledged``, it stays open), and is closed once (``smm.alert.closed``): after
two quiet hours (reason ``quiet``; ``closed_at`` is the end of the quiet window, which can
be earlier than ``occurred_at`` after an outage) or because a person resolved it (reason
``resolved``). Every event of an episode carries the episode's latest figures, so a
subscriber needs no state of its own. Route pages on ``peak_severity``: it never goes down
while the episode is open, whereas ``severity`` is the latest hour's.

Severity: ``low`` and ``medium`` are trends (rising terms), ``high`` and ``critical`` are
crises (negative spikes: the detector's "warning" is ``high``, its "critical" is
``critical``). docs/events.md has the thresholds.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from smm_shared.events.base import Contract, Event, register
from smm_shared.events.mentions import Network
from smm_shared.events.topics import ALERTS


class AlertKind(StrEnum):
    """What was detected: a rising term or hashtag, or a spike of negative mentions."""

    RISING_TERM = "rising_term"
    NEGATIVE_SPIKE = "negative_spike"


class AlertSeverity(StrEnum):
    """How bad it is: ``low`` < ``medium`` (trends) < ``high`` < ``critical`` (crises)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


AlertUpdateReason = Literal["severity_escalated", "severity_lowered", "volume", "networks"]
AlertCloseReason = Literal["quiet", "resolved"]


class TermCount(Contract):
    """A term (or ``#hashtag``) and how many of the hour's mentions carried it."""

    term: str = Field(min_length=1, max_length=64)
    count: int = Field(ge=0)


class AlertExplanation(Contract):
    """Why it fired: top terms of the latest hour, sample mention ids, networks involved.

    For a negative spike the top terms are those of the hour's negative mentions and the
    networks are those with negative mentions in the episode; for a rising term the top
    terms are the hour's rising terms (this one among them) and the networks are those of
    its sample mentions. Sample ids are ``mention_id`` values of ``smm.mention.received``.
    """

    top_terms: list[TermCount] = Field(default=[], max_length=20)
    sample_mention_ids: list[str] = Field(default=[], max_length=20)
    networks: list[Network] = Field(default=[], max_length=16)


class AlertEvent(Event):
    """Base of an alert episode's events: which episode, of what, and how bad."""

    topic = ALERTS.name

    episode_id: str = Field(min_length=1, max_length=64)
    kind: AlertKind
    #: The term or ``#hashtag`` of a rising term; ``"negative"`` for a negative spike.
    subject: str = Field(min_length=1, max_length=64)
    severity: AlertSeverity
    peak_severity: AlertSeverity
    opened_at: datetime

    def partition_key(self) -> str:
        """One episode's events stay in order."""
        return self.episode_id


class AlertFigures(AlertEvent):
    """Base of the events that carry the figures of the episode's latest detected hour."""

    #: The latest hour with a detection: ``[interval_start, interval_end)``, UTC.
    interval_start: datetime
    interval_end: datetime
    #: Mentions counted in that hour: carrying the term, or negative.
    observed: int = Field(ge=0)
    #: What the baseline predicted for that hour.
    expected: float = Field(ge=0)
    #: ``observed / expected`` (for a rising term: the smoothed ratio of shares).
    ratio: float = Field(ge=0)
    #: The test's one-sided p-value (G-test of shares, or Poisson tail of the count).
    p_value: float | None = Field(default=None, ge=0, le=1)
    #: Hours of the episode with a detection.
    detections: int = Field(ge=1)
    explanation: AlertExplanation = AlertExplanation()


@register
class AlertOpened(AlertFigures):
    """A new alert episode started (``smm.alert.opened``)."""

    event_type = "smm.alert.opened"


@register
class AlertUpdated(AlertFigures):
    """An open episode changed meaningfully (``smm.alert.updated``); ``reasons`` say how."""

    event_type = "smm.alert.updated"

    reasons: list[AlertUpdateReason] = Field(min_length=1, max_length=4)


@register
class AlertAcknowledged(AlertEvent):
    """A person acknowledged the episode; it stays open (``smm.alert.acknowledged``)."""

    event_type = "smm.alert.acknowledged"

    acknowledged_by: str = Field(min_length=1, max_length=140)
    acknowledged_at: datetime


@register
class AlertClosed(AlertFigures):
    """The episode ended (``smm.alert.closed``): it went quiet, or a person resolved it."""

    event_type = "smm.alert.closed"

    reason: AlertCloseReason
    closed_at: datetime
    #: Who resolved it (reason ``resolved`` only).
    resolved_by: str | None = Field(default=None, min_length=1, max_length=140)
    #: Who acknowledged it before it closed, if anybody did.
    acknowledged_by: str | None = Field(default=None, min_length=1, max_length=140)
