"""Alert episodes: one episode per burst of detections of a key, opened once, closed once.

A *key* is (brand, kind, subject): ``(acme, negative_spike, "negative")`` or
``(acme, rising_term, "#outage")``. The trend detector looks at each evaluation interval
(hourly by default) and reports zero or more :class:`Detection` for it; this module turns
that stream into episode outcomes for ``smm.alerts.v1``. It is pure and deterministic:
the same evaluations in the same order always give the same states, ids and outcomes.

Rules, as implemented:

* **Time.** Every evaluation has a time ``at``: the *end* of the interval it evaluated
  (the moment its data was complete). Evaluations of one key must come in time order.
  An evaluation whose ``at`` is not later than the key's last evaluated time is a replay
  (or a late straggler) and changes nothing: evaluating an interval twice yields no
  outcome.
* **Open.** A detection for a key with no open episode opens a new episode:
  ``EpisodeOpened``. Its id is :func:`episode_id` of the key and ``at`` (a hash), so a
  replay from scratch produces the same ids.
* **Update.** A detection for an open episode always refreshes the stored figures
  (current severity, observed/expected/p-value, top terms, sample mention ids, networks)
  but emits ``EpisodeUpdated`` only when something meaningful changed against what was
  *last reported* (opened or updated): the current severity changed (either way), the
  observed number moved by at least ``min_relative_change`` of the reported one *and* by
  at least ``min_absolute_change``, or a network not reported before appeared. Comparing
  with the last reported figures (not the previous interval) means slow drift is
  reported once it adds up, and wobble around a value never is. At most one outcome per
  key and evaluation, so the worst case is one update per key per interval.
* **Severity.** ``severity`` is the latest interval's severity; ``peak_severity`` is the
  highest seen in the episode and never goes down while it is open. A lower current
  severity is reported (reason ``severity_lowered``), never applied silently; consumers
  that page people should route on ``peak_severity``.
* **Close.** An open episode closes after ``quiet_intervals`` consecutive intervals
  without a detection (hysteresis; 2 hours by default): ``EpisodeClosed`` with reason
  ``quiet`` and ``closed_at = last_detected_at + quiet_intervals * interval``. Quiet is
  measured in time, so intervals the service never evaluated (it was down) count as
  quiet; otherwise an episode whose quiet evaluations were missed would never close. A
  detection arriving after the quiet window has passed closes the old episode and opens a
  new one in the same evaluation (closed first, then opened).
* **Resolve.** A user may resolve an open episode (:func:`resolve`): ``EpisodeClosed``
  with reason ``resolved`` at the time of the resolution. Detections of intervals that
  ended at or before that time are ignored (the user had seen them); a detection of a
  later interval opens a new episode, because the condition is back.
* **Acknowledge.** Acknowledging (:func:`acknowledge`) records who and when, emits
  ``EpisodeAcknowledged`` once (the first acknowledgement is kept) and does not close the
  episode.
* **Explanation.** Top terms are the latest detection's (bounded); sample mention ids are
  the latest detection's first, then earlier ones, de-duplicated and bounded; networks
  are every network seen during the episode, sorted.
* **Several detections of one key in one evaluation** (a detector reporting the same
  subject twice): the strongest one (severity, then observed) is used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Final, Literal

__all__ = [
    "DEFAULT_POLICY",
    "AlertKind",
    "CloseReason",
    "Detection",
    "Episode",
    "EpisodeAcknowledged",
    "EpisodeClosed",
    "EpisodeError",
    "EpisodeKey",
    "EpisodeOpened",
    "EpisodePolicy",
    "EpisodeStatus",
    "EpisodeUpdated",
    "Explanation",
    "IntervalResult",
    "KeyState",
    "Outcome",
    "ReportedFigures",
    "Severity",
    "Transition",
    "UnknownEpisodeError",
    "UpdateReason",
    "acknowledge",
    "episode_id",
    "evaluate",
    "evaluate_interval",
    "resolve",
]


class AlertKind(StrEnum):
    """What a detector found: a spike of negative volume or a rising term/hashtag."""

    NEGATIVE_SPIKE = "negative_spike"
    RISING_TERM = "rising_term"


class Severity(StrEnum):
    """How bad a detection is; ordered by :attr:`rank`."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """The order of severities: low 0 < medium 1 < high 2 < critical 3."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK: dict[Severity, int] = {s: i for i, s in enumerate(Severity)}


class EpisodeStatus(StrEnum):
    """Whether an episode is still going on."""

    OPEN = "open"
    CLOSED = "closed"


CloseReason = Literal["quiet", "resolved"]
UpdateReason = Literal["severity_escalated", "severity_lowered", "volume", "networks"]


class EpisodeError(ValueError):
    """An episode operation that cannot be applied; ``code`` is stable for APIs."""

    code: ClassVar[str] = "episode.invalid"


class UnknownEpisodeError(EpisodeError):
    """The episode id is not the key's current (latest) episode."""

    code: ClassVar[str] = "episode.unknown"


@dataclass(frozen=True, order=True)
class EpisodeKey:
    """What an episode is about: one brand, one kind of detection, one subject."""

    brand_id: str
    kind: AlertKind
    #: The term or hashtag for ``rising_term``; ``"negative"`` for ``negative_spike``.
    subject: str

    def __post_init__(self) -> None:
        if not self.brand_id or not self.subject:
            raise ValueError("an episode key needs a brand id and a subject")


@dataclass(frozen=True)
class Explanation:
    """Why the detector fired: top terms, some sample mention ids, the networks involved."""

    top_terms: tuple[str, ...] = ()
    sample_mention_ids: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Detection:
    """A detector's finding for one key in the interval that ended at ``at``."""

    key: EpisodeKey
    at: datetime
    severity: Severity
    #: What was counted in the interval (mentions, negative mentions, uses of the term).
    observed: float
    #: What the baseline predicted for it.
    expected: float
    p_value: float | None = None
    explanation: Explanation = field(default_factory=Explanation)


@dataclass(frozen=True)
class EpisodePolicy:
    """Tuning of the episode rules; the defaults suit hourly evaluations."""

    interval: timedelta = timedelta(hours=1)
    #: Consecutive intervals without a detection after which an episode closes.
    quiet_intervals: int = 2
    #: An update needs observed to move by this share of the last reported value ...
    min_relative_change: float = 0.25
    #: ... and by at least this much in absolute terms.
    min_absolute_change: float = 5.0
    max_sample_ids: int = 10
    max_top_terms: int = 10

    def __post_init__(self) -> None:
        if self.interval <= timedelta(0):
            raise ValueError("interval must be positive")
        if self.quiet_intervals < 1:
            raise ValueError("quiet_intervals must be at least 1")
        if self.min_relative_change < 0 or self.min_absolute_change < 0:
            raise ValueError("update thresholds must not be negative")
        if self.max_sample_ids < 0 or self.max_top_terms < 0:
            raise ValueError("bounds must not be negative")

    @property
    def quiet_window(self) -> timedelta:
        """How long without a detection closes an episode."""
        return self.interval * self.quiet_intervals


DEFAULT_POLICY: Final = EpisodePolicy()


@dataclass(frozen=True)
class ReportedFigures:
    """What the last ``opened``/``updated`` outcome told consumers; updates compare to it."""

    severity: Severity
    observed: float
    networks: tuple[str, ...]


@dataclass(frozen=True)
class Episode:
    """One alert episode: a burst of detections of one key, from open to close."""

    id: str
    key: EpisodeKey
    status: EpisodeStatus
    opened_at: datetime
    #: The latest detection's severity.
    severity: Severity
    #: The highest severity of the episode; never lowered.
    peak_severity: Severity
    observed: float
    expected: float
    p_value: float | None
    peak_observed: float
    explanation: Explanation
    last_detected_at: datetime
    #: How many intervals had a detection.
    detections: int
    last_reported: ReportedFigures
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: CloseReason | None = None
    resolved_by: str | None = None

    @property
    def is_open(self) -> bool:
        """Whether the episode is still going on."""
        return self.status is EpisodeStatus.OPEN


@dataclass(frozen=True)
class KeyState:
    """Everything remembered about one key: its latest episode and last evaluated time."""

    key: EpisodeKey
    last_evaluated_at: datetime | None = None
    #: The open episode, or the latest closed one, or None if the key never fired.
    episode: Episode | None = None


@dataclass(frozen=True)
class EpisodeOpened:
    """An episode started."""

    name: ClassVar[str] = "opened"
    episode: Episode
    at: datetime


@dataclass(frozen=True)
class EpisodeUpdated:
    """An open episode changed meaningfully (see ``reasons``)."""

    name: ClassVar[str] = "updated"
    episode: Episode
    at: datetime
    reasons: tuple[UpdateReason, ...]


@dataclass(frozen=True)
class EpisodeClosed:
    """An episode ended, because it went quiet or a user resolved it."""

    name: ClassVar[str] = "closed"
    episode: Episode
    at: datetime
    reason: CloseReason


@dataclass(frozen=True)
class EpisodeAcknowledged:
    """A user acknowledged an episode (it stays open)."""

    name: ClassVar[str] = "acknowledged"
    episode: Episode
    at: datetime
    by: str


Outcome = EpisodeOpened | EpisodeUpdated | EpisodeClosed | EpisodeAcknowledged


@dataclass(frozen=True)
class Transition:
    """The new state of one key and the outcomes to emit, in order."""

    state: KeyState
    outcomes: tuple[Outcome, ...] = ()


@dataclass(frozen=True)
class IntervalResult:
    """The new states of every key in scope and the outcomes to emit, in order."""

    states: Mapping[EpisodeKey, KeyState]
    outcomes: tuple[Outcome, ...] = ()


def episode_id(key: EpisodeKey, opened_at: datetime) -> str:
    """The id of the episode of ``key`` opened at ``opened_at``: 32 hex digits of a hash."""
    canonical = "\x00".join(
        (key.brand_id, key.kind.value, key.subject, _utc(opened_at).isoformat())
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def evaluate(
    state: KeyState | None,
    *,
    key: EpisodeKey,
    at: datetime,
    detection: Detection | None,
    policy: EpisodePolicy = DEFAULT_POLICY,
) -> Transition:
    """Apply the evaluation of the interval ending at ``at`` (with or without a detection)."""
    at = _utc(at)
    if detection is not None and (detection.key != key or _utc(detection.at) != at):
        raise ValueError("the detection belongs to another key or interval")
    current = state if state is not None else KeyState(key=key)
    if current.key != key:
        raise ValueError("the state belongs to another key")
    if current.last_evaluated_at is not None and at <= current.last_evaluated_at:
        return Transition(current)

    outcomes: list[Outcome] = []
    episode = current.episode
    if episode is not None and episode.is_open:
        quiet_for = at - episode.last_detected_at
        # With a detection at ``at``, only the intervals strictly before it were quiet.
        window = policy.quiet_window + (policy.interval if detection is not None else timedelta(0))
        if quiet_for >= window:
            closed_at = episode.last_detected_at + policy.quiet_window
            episode = replace(
                episode, status=EpisodeStatus.CLOSED, closed_at=closed_at, close_reason="quiet"
            )
            outcomes.append(EpisodeClosed(episode=episode, at=closed_at, reason="quiet"))

    if detection is not None:
        if episode is not None and episode.is_open:
            episode, reasons = _update(episode, detection, policy)
            if reasons:
                outcomes.append(EpisodeUpdated(episode=episode, at=at, reasons=reasons))
        elif not _suppressed_by_resolution(episode, at):
            episode = _open(detection, policy)
            outcomes.append(EpisodeOpened(episode=episode, at=at))

    return Transition(KeyState(key=key, last_evaluated_at=at, episode=episode), tuple(outcomes))


def evaluate_interval(
    states: Mapping[EpisodeKey, KeyState],
    *,
    at: datetime,
    detections: Iterable[Detection],
    policy: EpisodePolicy = DEFAULT_POLICY,
) -> IntervalResult:
    """Evaluate one interval for every key in scope (typically one brand's keys).

    ``states`` are the stored states of the keys in scope; every key with a detection or an
    open episode is evaluated, and the returned mapping holds every state passed in plus
    the new ones. Outcomes come in key order.
    """
    at = _utc(at)
    strongest: dict[EpisodeKey, Detection] = {}
    for detection in detections:
        if _utc(detection.at) != at:
            raise ValueError("every detection must belong to the evaluated interval")
        known = strongest.get(detection.key)
        if known is None or _strength(detection) > _strength(known):
            strongest[detection.key] = detection
    in_scope = set(strongest) | {
        key for key, s in states.items() if s.episode is not None and s.episode.is_open
    }
    new_states = dict(states)
    outcomes: list[Outcome] = []
    for key in sorted(in_scope):
        transition = evaluate(
            states.get(key), key=key, at=at, detection=strongest.get(key), policy=policy
        )
        new_states[key] = transition.state
        outcomes.extend(transition.outcomes)
    return IntervalResult(states=new_states, outcomes=tuple(outcomes))


def acknowledge(state: KeyState, *, episode_id: str, by: str, at: datetime) -> Transition:
    """Record that ``by`` acknowledged the key's current episode; it stays open."""
    episode = _current(state, episode_id)
    if not by:
        raise EpisodeError("an acknowledgement needs a user")
    if episode.acknowledged_by is not None:
        return Transition(state)
    at = _utc(at)
    episode = replace(episode, acknowledged_by=by, acknowledged_at=at)
    return Transition(
        replace(state, episode=episode), (EpisodeAcknowledged(episode=episode, at=at, by=by),)
    )


def resolve(state: KeyState, *, episode_id: str, by: str, at: datetime) -> Transition:
    """Close the key's open episode because ``by`` resolved it; no-op if already closed."""
    episode = _current(state, episode_id)
    if not by:
        raise EpisodeError("a resolution needs a user")
    if not episode.is_open:
        return Transition(state)
    at = _utc(at)
    episode = replace(
        episode,
        status=EpisodeStatus.CLOSED,
        closed_at=at,
        close_reason="resolved",
        resolved_by=by,
    )
    return Transition(
        replace(state, episode=episode), (EpisodeClosed(episode=episode, at=at, reason="resolved"),)
    )


def _open(detection: Detection, policy: EpisodePolicy) -> Episode:
    at = _utc(detection.at)
    explanation = _merge_explanation(None, detection.explanation, policy)
    return Episode(
        id=episode_id(detection.key, at),
        key=detection.key,
        status=EpisodeStatus.OPEN,
        opened_at=at,
        severity=detection.severity,
        peak_severity=detection.severity,
        observed=detection.observed,
        expected=detection.expected,
        p_value=detection.p_value,
        peak_observed=detection.observed,
        explanation=explanation,
        last_detected_at=at,
        detections=1,
        last_reported=ReportedFigures(
            severity=detection.severity,
            observed=detection.observed,
            networks=explanation.networks,
        ),
    )


def _update(
    episode: Episode, detection: Detection, policy: EpisodePolicy
) -> tuple[Episode, tuple[UpdateReason, ...]]:
    reported = episode.last_reported
    explanation = _merge_explanation(episode.explanation, detection.explanation, policy)
    reasons: list[UpdateReason] = []
    if detection.severity.rank > reported.severity.rank:
        reasons.append("severity_escalated")
    elif detection.severity.rank < reported.severity.rank:
        reasons.append("severity_lowered")
    change = abs(detection.observed - reported.observed)
    if change >= policy.min_absolute_change and change >= policy.min_relative_change * abs(
        reported.observed
    ):
        reasons.append("volume")
    if set(explanation.networks) - set(reported.networks):
        reasons.append("networks")
    peak = max(episode.peak_severity, detection.severity, key=lambda s: s.rank)
    updated = replace(
        episode,
        severity=detection.severity,
        peak_severity=peak,
        observed=detection.observed,
        expected=detection.expected,
        p_value=detection.p_value,
        peak_observed=max(episode.peak_observed, detection.observed),
        explanation=explanation,
        last_detected_at=_utc(detection.at),
        detections=episode.detections + 1,
    )
    if reasons:
        updated = replace(
            updated,
            last_reported=ReportedFigures(
                severity=detection.severity,
                observed=detection.observed,
                networks=explanation.networks,
            ),
        )
    return updated, tuple(reasons)


def _merge_explanation(
    before: Explanation | None, latest: Explanation, policy: EpisodePolicy
) -> Explanation:
    earlier_ids: Sequence[str] = before.sample_mention_ids if before is not None else ()
    earlier_networks: Sequence[str] = before.networks if before is not None else ()
    return Explanation(
        top_terms=_dedupe(latest.top_terms)[: policy.max_top_terms],
        sample_mention_ids=_dedupe((*latest.sample_mention_ids, *earlier_ids))[
            : policy.max_sample_ids
        ],
        networks=tuple(sorted({*earlier_networks, *latest.networks})),
    )


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _suppressed_by_resolution(episode: Episode | None, at: datetime) -> bool:
    return (
        episode is not None
        and episode.close_reason == "resolved"
        and episode.closed_at is not None
        and at <= episode.closed_at
    )


def _current(state: KeyState, wanted: str) -> Episode:
    if state.episode is None or state.episode.id != wanted:
        raise UnknownEpisodeError(f"episode {wanted} is not the current episode of its key")
    return state.episode


def _strength(detection: Detection) -> tuple[int, float]:
    return detection.severity.rank, detection.observed


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("episode times must be timezone-aware")
    return at.astimezone(UTC)
