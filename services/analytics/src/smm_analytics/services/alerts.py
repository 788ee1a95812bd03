"""Trend and crisis alerts: hourly detection over the rollup buckets, episodes, events, the tick.

**Detection of one brand and one hour** ``[hour_end - 1 h, hour_end)`` (:meth:`AlertService.evaluate`),
reading only rollup buckets (``RollupStore.read``) and the sample store:

* *Negative spike* (:func:`spike_of`): ``mentions``/``all`` field ``negative`` of the hour
  against the same hour on the previous :data:`SAME_HOUR_DAYS` days and against the previous
  :data:`RECENT_HOURS` hours (:func:`~smm_analytics.domain.trends.negative_spike`). Its
  explanation: the hour's top terms of negative mentions (``terms``/``sentiment=negative``),
  the networks with negative mentions in the hour (``mentions``/``network=<n>``), sampled
  negative mention ids (:class:`~smm_analytics.adapters.samples.SampleStore`).
* *Rising terms* (:func:`rising_of`): ``terms``/``all`` of the hour against the previous
  :data:`RISING_BASELINE_HOURS` hours, each window's total from ``mentions``/``all`` field
  ``count`` (a term counts once per mention, so its count is at most the total; a term is
  clamped to its hour's total, which a read in the middle of a batch write could exceed).
  Hashtags are terms starting with ``#``. At most :data:`MAX_RISING_PER_HOUR` per hour, the
  most significant. Explanation: the hour's rising terms (this one first) with their
  counts, the term's sampled mentions and their networks.
* *History*: hours before the brand was first seen (``brands.first_seen_ms``) are left out
  of every baseline, so a new brand's first busy hour is not a "spike" against zeros that
  were never measured; with no history at all nothing is detected.

**Severity** (the detectors' scale mapped onto the episodes'): a negative spike the
detector calls ``warning`` is :attr:`~Severity.HIGH`, ``critical`` is
:attr:`~Severity.CRITICAL`; a rising term is :attr:`~Severity.LOW`, or
:attr:`~Severity.MEDIUM` when its smoothed share ratio is at least
:data:`RISING_MEDIUM_RATIO` and at least :data:`RISING_MEDIUM_MENTIONS` mentions carry it.
So ``low``/``medium`` are trends and ``high``/``critical`` are crises; page on ``high``+.
A rising term's ``expected`` is ``observed / ratio`` (what the smoothed baseline share
predicts for the hour), so ``ratio = observed / expected`` holds for both kinds.

**Episodes and persistence.** The detections go to
:func:`~smm_analytics.domain.episodes.evaluate_interval` with the stored state of every key
with a detection or an open episode. Each key whose state changed is written with one
single-document update that holds the new state *and* its events (embedded outbox,
``AlertRepository.save``), conditional on the version read: evaluating an hour twice
finds every key already evaluated at that time (the domain's replay rule), changes no
state and stores no event; two processes evaluating the same hour race on the version,
and the loser re-evaluates the key from the winner's state, which is a replay.

**Hourly tick** (:class:`AlertTicker`): one durable timer ``alerts|tick`` due
:data:`DEFAULT_TICK_LAG` after each hour (data of the hour has arrived by then). When it
fires, :meth:`AlertService.catch_up` evaluates, for every active brand (an event in the
last :data:`ACTIVE_WINDOW`, or an open episode), every completed hour since the brand's
last evaluated one, at most :data:`MAX_CATCH_UP_HOURS`, then the timer is armed for the
next hour. Quiet hours close episodes by time, so hours skipped beyond the bound still
close what was open.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar, TypedDict

from smm_analytics.adapters.alerts_repo import (
    AlertPage,
    AlertRecord,
    AlertRepository,
    StoredKey,
    key_id,
)
from smm_analytics.adapters.rollup_store import RollupStore
from smm_analytics.adapters.samples import SampledMention, SampleStore
from smm_analytics.domain import episodes, trends
from smm_analytics.domain.buckets import hour_slot
from smm_analytics.domain.episodes import (
    DEFAULT_POLICY,
    AlertKind,
    Detection,
    Episode,
    EpisodeAcknowledged,
    EpisodeClosed,
    EpisodeKey,
    EpisodeOpened,
    EpisodePolicy,
    EpisodeStatus,
    EpisodeUpdated,
    Explanation,
    KeyState,
    Outcome,
    Severity,
    Transition,
    UnknownEpisodeError,
)
from smm_analytics.domain.rollups import ALL, MENTIONS, TERMS, dimension, unescape_field
from smm_shared.events import (
    AlertAcknowledged,
    AlertClosed,
    AlertEvent,
    AlertExplanation,
    AlertOpened,
    AlertUpdated,
    Network,
    TermCount,
)
from smm_shared.events import AlertKind as EventKind
from smm_shared.events import AlertSeverity as EventSeverity
from smm_shared.mongo import epoch_ms, from_epoch_ms
from smm_shared.timers import SYSTEM_CLOCK, Clock, FiredTimer, TimerLoop, TimerStore

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
#: Baseline of rising terms: this many hours before the evaluated one.
RISING_BASELINE_HOURS = 12
#: Seasonal baseline of negative spikes: the same hour on this many previous days ...
SAME_HOUR_DAYS = 7
#: ... and the recent baseline: this many hours before the evaluated one.
RECENT_HOURS = 24
#: At most this many rising terms per brand and hour become detections (most significant).
MAX_RISING_PER_HOUR = 10
#: A rising term is ``medium`` (not ``low``) from this smoothed ratio ...
RISING_MEDIUM_RATIO = 2 * trends.MIN_RISE_RATIO
#: ... and this many mentions carrying it in the hour.
RISING_MEDIUM_MENTIONS = 4 * trends.MIN_CURRENT_MENTIONS
#: The subject of negative-spike episodes.
NEGATIVE_SUBJECT = "negative"
#: The tick fires this long after each hour, so that the hour's events have arrived.
DEFAULT_TICK_LAG = timedelta(seconds=120)
#: A tick evaluates at most this many hours per brand (the latest ones).
MAX_CATCH_UP_HOURS = 24
#: A brand is evaluated while its latest event is at most this old (or it has an open episode).
ACTIVE_WINDOW = timedelta(days=2)
TICK_TIMER_KEY = "alerts|tick"
TICK_TIMER_KIND = "alerts.tick"
#: Version races on one key before giving up (each is a reload and a re-evaluation).
MAX_RACES = 8

_NETWORKS = frozenset(n.value for n in Network)


# --- errors --------------------------------------------------------------------------


class AlertError(Exception):
    """An alert operation that cannot be done; ``code`` is stable for the API."""

    code: ClassVar[str] = "alert.invalid"


class AlertNotFoundError(AlertError):
    """No such episode in this brand."""

    code: ClassVar[str] = "alert.not_found"


class AlertNotCurrentError(AlertError):
    """A newer episode of the same key exists; only the latest can be acknowledged."""

    code: ClassVar[str] = "alert.not_current"


class AlertConflictError(AlertError):
    """The episode kept changing under the operation (retry)."""

    code: ClassVar[str] = "alert.conflict"


# --- hours ---------------------------------------------------------------------------


def hour_floor(at: datetime) -> datetime:
    """The start of the UTC hour ``at`` falls in."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def check_hour_end(at: datetime) -> datetime:
    """``at`` in UTC, which must be a whole hour (the end of the evaluated hour)."""
    floor = hour_floor(at)
    if floor != at:
        raise ValueError(f"an hour end must be on the hour, not {at.isoformat()}")
    return floor


def _ms(at: datetime) -> int:
    return epoch_ms(at)


# --- detection (pure) ----------------------------------------------------------------

Buckets = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class HourCounts:
    """The rollup buckets the detectors read for one brand and one hour, by slot."""

    hour_end: datetime
    #: ``mentions``/``all`` counters by hour slot (at least the baselines' hours).
    mentions: Buckets
    #: ``terms``/``all`` counters by hour slot (escaped field names), for rising terms.
    terms: Buckets = field(default_factory=dict)
    #: Hours starting before this are not history (the brand was not seen yet).
    history_from: datetime | None = None

    @property
    def start(self) -> datetime:
        """The start of the evaluated hour."""
        return self.hour_end - HOUR

    @property
    def slot(self) -> str:
        """The evaluated hour's slot."""
        return hour_slot(self.start)

    def in_history(self, start: datetime) -> bool:
        """Whether the hour starting at ``start`` may serve as a baseline."""
        return self.history_from is None or start >= self.history_from

    def value(self, start: datetime, name: str) -> int:
        """A ``mentions`` counter of the hour starting at ``start`` (0 without a bucket)."""
        return int(self.mentions.get(hour_slot(start), {}).get(name, 0))

    def history(self, starts: Sequence[datetime], name: str) -> list[int]:
        """The counter over those hours that are history."""
        return [self.value(s, name) for s in starts if self.in_history(s)]


def spike_of(counts: HourCounts) -> trends.Spike | None:
    """The negative spike of the hour, against the same hour on previous days and recent hours."""
    start = counts.start
    same_hour = [start - k * DAY for k in range(1, SAME_HOUR_DAYS + 1)]
    recent = [start - k * HOUR for k in range(1, RECENT_HOURS + 1)]
    return trends.negative_spike(
        counts.value(start, "negative"),
        counts.history(same_hour, "negative"),
        counts.history(recent, "negative"),
    )


def _terms_of_slot(counts: HourCounts, start: datetime) -> dict[str, int]:
    total = counts.value(start, "count")
    found: dict[str, int] = {}
    for name, amount in counts.terms.get(hour_slot(start), {}).items():
        if amount > 0:
            found[unescape_field(name)] = min(int(amount), total)
    return found


def rising_of(counts: HourCounts, *, limit: int = MAX_RISING_PER_HOUR) -> list[trends.RisingTerm]:
    """The hour's rising terms and hashtags against the previous hours, most significant first."""
    start = counts.start
    baseline_hours = [
        s
        for s in (start - k * HOUR for k in range(1, RISING_BASELINE_HOURS + 1))
        if counts.in_history(s)
    ]
    baseline: dict[str, int] = {}
    for hour in baseline_hours:
        for term, amount in _terms_of_slot(counts, hour).items():
            baseline[term] = baseline.get(term, 0) + amount
    return trends.rising_terms(
        _terms_of_slot(counts, start),
        counts.value(start, "count"),
        baseline,
        sum(counts.value(s, "count") for s in baseline_hours),
        limit=limit,
    )


def spike_severity(spike: trends.Spike) -> Severity:
    """The episode severity of a negative spike: warning is high, critical is critical."""
    return Severity.CRITICAL if spike.severity == "critical" else Severity.HIGH


def rising_severity(rising: trends.RisingTerm) -> Severity:
    """The episode severity of a rising term: low, or medium when strong and frequent."""
    strong = rising.ratio >= RISING_MEDIUM_RATIO and rising.current >= RISING_MEDIUM_MENTIONS
    return Severity.MEDIUM if strong else Severity.LOW


def top_terms(counts: Mapping[str, int], limit: int) -> list[tuple[str, int]]:
    """The most frequent terms, ties in code point order."""
    ranked = sorted(((t, n) for t, n in counts.items() if n > 0), key=lambda tn: (-tn[1], tn[0]))
    return ranked[:limit]


@dataclass(frozen=True)
class Finding:
    """A detection and the counts of its explanation's top terms (the domain keeps only terms)."""

    detection: Detection
    term_counts: Mapping[str, int] = field(default_factory=dict)


def spike_finding(
    brand_id: str,
    hour_end: datetime,
    spike: trends.Spike,
    *,
    negative_terms: Mapping[str, int],
    networks: Sequence[str],
    samples: Sequence[SampledMention],
    policy: EpisodePolicy = DEFAULT_POLICY,
) -> Finding:
    """The detection of a negative spike, explained by the hour's negative mentions."""
    top = top_terms(negative_terms, policy.max_top_terms)
    detection = Detection(
        key=EpisodeKey(brand_id, AlertKind.NEGATIVE_SPIKE, NEGATIVE_SUBJECT),
        at=hour_end,
        severity=spike_severity(spike),
        observed=float(spike.observed),
        expected=spike.expected,
        p_value=spike.p_value,
        explanation=Explanation(
            top_terms=tuple(t for t, _ in top),
            sample_mention_ids=tuple(s.mention_id for s in samples[: policy.max_sample_ids]),
            networks=tuple(sorted(set(networks))),
        ),
    )
    return Finding(detection, dict(top))


def rising_findings(
    brand_id: str,
    hour_end: datetime,
    rising: Sequence[trends.RisingTerm],
    *,
    samples: Mapping[str, Sequence[SampledMention]],
    policy: EpisodePolicy = DEFAULT_POLICY,
) -> list[Finding]:
    """One detection per rising term, explained by the hour's rising terms and its samples."""
    counts = {r.term: r.current for r in rising}
    found: list[Finding] = []
    for r in rising:
        others = [o.term for o in rising if o.term != r.term]
        terms = (r.term, *others)[: policy.max_top_terms]
        sampled = list(samples.get(r.term, ()))[: policy.max_sample_ids]
        detection = Detection(
            key=EpisodeKey(brand_id, AlertKind.RISING_TERM, r.term),
            at=hour_end,
            severity=rising_severity(r),
            observed=float(r.current),
            # What the smoothed baseline share predicts: observed / expected is the ratio.
            expected=r.current / r.ratio,
            p_value=r.p_value,
            explanation=Explanation(
                top_terms=terms,
                sample_mention_ids=tuple(s.mention_id for s in sampled),
                networks=tuple(sorted({s.network for s in sampled})),
            ),
        )
        found.append(Finding(detection, {t: counts[t] for t in terms}))
    return found


# --- events (pure) -------------------------------------------------------------------


class _Common(TypedDict):
    brand_id: str
    occurred_at: datetime
    episode_id: str
    kind: EventKind
    subject: str
    severity: EventSeverity
    peak_severity: EventSeverity
    opened_at: datetime


class _Figures(TypedDict):
    interval_start: datetime
    interval_end: datetime
    observed: int
    expected: float
    ratio: float
    p_value: float | None
    detections: int
    explanation: AlertExplanation


def _common(episode: Episode, at: datetime) -> _Common:
    return _Common(
        brand_id=episode.key.brand_id,
        occurred_at=at,
        episode_id=episode.id,
        kind=EventKind(episode.key.kind.value),
        subject=episode.key.subject,
        severity=EventSeverity(episode.severity.value),
        peak_severity=EventSeverity(episode.peak_severity.value),
        opened_at=episode.opened_at,
    )


def _figures(episode: Episode, term_counts: Mapping[str, int], policy: EpisodePolicy) -> _Figures:
    explanation = episode.explanation
    ratio = episode.observed / episode.expected if episode.expected > 0 else 0.0
    p_value = episode.p_value
    return _Figures(
        interval_start=episode.last_detected_at - policy.interval,
        interval_end=episode.last_detected_at,
        observed=round(episode.observed),
        expected=episode.expected,
        ratio=ratio if math.isfinite(ratio) else 0.0,
        p_value=None if p_value is None else min(max(p_value, 0.0), 1.0),
        detections=episode.detections,
        explanation=AlertExplanation(
            top_terms=[
                TermCount(term=t, count=int(term_counts.get(t, 0))) for t in explanation.top_terms
            ],
            sample_mention_ids=list(explanation.sample_mention_ids),
            networks=[Network(n) for n in explanation.networks if n in _NETWORKS],
        ),
    )


def alert_event(
    outcome: Outcome, *, term_counts: Mapping[str, int], policy: EpisodePolicy = DEFAULT_POLICY
) -> AlertEvent:
    """The ``smm.alerts.v1`` event of an episode outcome (``occurred_at`` is the outcome's time)."""
    episode = outcome.episode
    common = _common(episode, outcome.at)
    if isinstance(outcome, EpisodeAcknowledged):
        return AlertAcknowledged(**common, acknowledged_by=outcome.by, acknowledged_at=outcome.at)
    figures = _figures(episode, term_counts, policy)
    if isinstance(outcome, EpisodeOpened):
        return AlertOpened(**common, **figures)
    if isinstance(outcome, EpisodeUpdated):
        return AlertUpdated(**common, **figures, reasons=list(outcome.reasons))
    return AlertClosed(
        **common,
        **figures,
        reason=outcome.reason,
        closed_at=episode.closed_at or outcome.at,
        resolved_by=episode.resolved_by,
        acknowledged_by=episode.acknowledged_by,
    )


# --- the service ---------------------------------------------------------------------


class AlertService:
    """Evaluates brands hour by hour into alert episodes; acknowledges and resolves them."""

    def __init__(
        self,
        *,
        rollups: RollupStore,
        samples: SampleStore,
        repository: AlertRepository,
        clock: Clock = SYSTEM_CLOCK,
        policy: EpisodePolicy = DEFAULT_POLICY,
        tick_lag: timedelta = DEFAULT_TICK_LAG,
    ) -> None:
        if policy.interval != HOUR:
            raise ValueError(
                "alerts are evaluated hourly: the episode policy's interval must be 1 h"
            )
        if tick_lag < timedelta(0) or tick_lag >= HOUR:
            raise ValueError("the tick lag must be between 0 and one hour")
        self.rollups = rollups
        self.samples = samples
        self.repository = repository
        self.clock = clock
        self.policy = policy
        self.tick_lag = tick_lag

    def _now(self) -> datetime:
        # Cut to the millisecond: what is stored is what the domain compared.
        return from_epoch_ms(epoch_ms(self.clock.now()))

    # --- evaluation ----------------------------------------------------------------------

    async def evaluate(self, *, brand_id: str, hour_end: datetime) -> tuple[AlertEvent, ...]:
        """Evaluate the brand's hour ending at ``hour_end``; returns the events stored.

        Idempotent: evaluating an hour again (or an earlier hour than a key's last) stores
        and returns nothing. The hour must be over (``hour_end`` not after the clock). The
        brand's ``brands`` document bounds its history (``first_seen_ms``); without one,
        every earlier hour counts as history, empty or not.
        """
        activity = await self.repository.brand(brand_id)
        first = activity.first_seen_ms if activity is not None else None
        history_from = None if first is None else hour_floor(from_epoch_ms(first))
        return await self._evaluate(brand_id, check_hour_end(hour_end), history_from)

    async def _evaluate(
        self, brand_id: str, hour_end: datetime, history_from: datetime | None
    ) -> tuple[AlertEvent, ...]:
        if hour_end > self.clock.now():
            raise ValueError(f"the hour ending {hour_end.isoformat()} is not over yet")
        await self.repository.sync_projections(brand_id)
        findings = {f.detection.key: f for f in await self.detect(brand_id, hour_end, history_from)}
        stored = await self.repository.states(brand_id, findings)
        result = episodes.evaluate_interval(
            {key: s.state for key, s in stored.items()},
            at=hour_end,
            detections=[f.detection for f in findings.values()],
            policy=self.policy,
        )
        outcomes: dict[EpisodeKey, list[Outcome]] = {}
        for outcome in result.outcomes:
            outcomes.setdefault(outcome.episode.key, []).append(outcome)
        emitted: list[AlertEvent] = []
        for key in sorted(result.states):
            before = stored.get(key)
            state = result.states[key]
            if before is not None and state is before.state:
                continue  # not in scope, or a replay: nothing to store
            current = before or StoredKey(id=key_id(key), state=KeyState(key=key))
            transition = Transition(state, tuple(outcomes.get(key, ())))
            emitted.extend(await self._commit(current, transition, findings.get(key), hour_end))
        return tuple(emitted)

    async def _commit(
        self, stored: StoredKey, transition: Transition, finding: Finding | None, at: datetime
    ) -> list[AlertEvent]:
        """Store one key's transition with its events; on a version race, redo it from the winner."""
        key = stored.state.key
        for _ in range(MAX_RACES):
            counts = _counts_after(stored, transition.state, finding, at)
            events = [
                alert_event(
                    o,
                    term_counts=_counts_of(o.episode, stored, transition.state, counts),
                    policy=self.policy,
                )
                for o in transition.outcomes
            ]
            current = transition.state.episode
            closed = [
                o.episode
                for o in transition.outcomes
                if isinstance(o, EpisodeClosed) and (current is None or o.episode.id != current.id)
            ]
            if await self.repository.save(
                stored, transition.state, term_counts=counts, events=events, closed=closed
            ):
                return events
            fresh = await self.repository.load(stored.id)
            stored = fresh or StoredKey(id=stored.id, state=KeyState(key=key))
            result = episodes.evaluate_interval(
                {key: stored.state},
                at=at,
                detections=[finding.detection] if finding is not None else [],
                policy=self.policy,
            )
            if result.states.get(key, stored.state) is stored.state:
                return []  # the winner already evaluated this hour
            transition = Transition(result.states[key], result.outcomes)
        raise AlertConflictError(f"alert key {stored.id} kept changing")

    async def detect(
        self, brand_id: str, hour_end: datetime, history_from: datetime | None
    ) -> list[Finding]:
        """The brand's detections for the hour ending at ``hour_end`` (reads buckets only)."""
        start = hour_end - HOUR
        slot = hour_slot(start)
        mentions = await self._mention_history(brand_id, start)
        counts = HourCounts(hour_end=hour_end, mentions=mentions, history_from=history_from)
        found: list[Finding] = []
        spike = spike_of(counts)
        if spike is not None:
            found.append(await self._explain_spike(brand_id, hour_end, spike))
        if counts.value(start, "count") >= trends.MIN_CURRENT_MENTIONS:
            terms = await self.rollups.read(
                brand_id, TERMS, ALL, _ms(start - RISING_BASELINE_HOURS * HOUR), _ms(hour_end)
            )
            rising = rising_of(
                HourCounts(
                    hour_end=hour_end, mentions=mentions, terms=terms, history_from=history_from
                )
            )
            if rising:
                samples = await self.samples.for_terms(brand_id, slot, [r.term for r in rising])
                found.extend(
                    rising_findings(brand_id, hour_end, rising, samples=samples, policy=self.policy)
                )
        return found

    async def _mention_history(self, brand_id: str, start: datetime) -> dict[str, dict[str, int]]:
        """``mentions``/``all`` of the hour, the recent hours and the same hour on previous days.

        The recent hours are one range; each previous day's hour is a read of its own, run
        concurrently: reading the whole week as one range would fetch 169 buckets for 32.
        """
        recent = start - RECENT_HOURS * HOUR
        reads = [self.rollups.read(brand_id, MENTIONS, ALL, _ms(recent), _ms(start + HOUR))]
        for days in range(1, SAME_HOUR_DAYS + 1):
            day = start - days * DAY
            if day < recent:
                reads.append(self.rollups.read(brand_id, MENTIONS, ALL, _ms(day), _ms(day + HOUR)))
        found: dict[str, dict[str, int]] = {}
        for part in await asyncio.gather(*reads):
            found.update(part)
        return found

    async def _explain_spike(
        self, brand_id: str, hour_end: datetime, spike: trends.Spike
    ) -> Finding:
        start, end = _ms(hour_end - HOUR), _ms(hour_end)
        slot = hour_slot(hour_end - HOUR)
        negative = await self.rollups.read(
            brand_id, TERMS, dimension("sentiment", "negative"), start, end
        )
        terms = {unescape_field(t): n for t, n in negative.get(slot, {}).items()}
        by_network = await asyncio.gather(
            *(
                self.rollups.read(brand_id, MENTIONS, dimension("network", n.value), start, end)
                for n in Network
            )
        )
        networks = [
            n.value
            for n, buckets in zip(Network, by_network, strict=True)
            if buckets.get(slot, {}).get("negative", 0) > 0
        ]
        samples = await self.samples.negatives(brand_id, slot)
        return spike_finding(
            brand_id,
            hour_end,
            spike,
            negative_terms=terms,
            networks=networks,
            samples=samples,
            policy=self.policy,
        )

    # --- the hourly tick -----------------------------------------------------------------

    def latest_complete_hour_end(self, now: datetime) -> datetime:
        """The end of the latest hour whose data is in (``tick_lag`` after it ended)."""
        return hour_floor(now - self.tick_lag)

    async def catch_up(self, *, now: datetime | None = None) -> int:
        """Evaluate every active brand's completed hours since its last; returns brand-hours done.

        A brand that fails is logged and the others still run; the call then raises, so
        the tick is retried (every evaluation is idempotent).
        """
        now = now or self.clock.now()
        latest = self.latest_complete_hour_end(now)
        brands = await self.repository.active_brands(since_ms=_ms(latest - ACTIVE_WINDOW))
        cursors = await self.repository.evaluated_until([b.brand_id for b in brands])
        done = 0
        failed: list[str] = []
        for brand in brands:
            first = (
                hour_floor(from_epoch_ms(brand.first_seen_ms))
                if brand.first_seen_ms is not None
                else None
            )
            evaluated = cursors.get(brand.brand_id)
            if evaluated is not None:
                hour_end = from_epoch_ms(evaluated) + HOUR
            elif first is not None:
                hour_end = first + HOUR
            else:
                hour_end = latest
            hour_end = max(hour_end, latest - (MAX_CATCH_UP_HOURS - 1) * HOUR)
            try:
                while hour_end <= latest:
                    await self._evaluate(brand.brand_id, hour_end, first)
                    await self.repository.advance(brand.brand_id, _ms(hour_end))
                    done += 1
                    hour_end += HOUR
            except Exception:
                logger.exception("alert evaluation of brand %s failed", brand.brand_id)
                failed.append(brand.brand_id)
        if failed:
            raise AlertError(f"alert evaluation failed for brands {', '.join(failed)}")
        return done

    # --- people's actions ----------------------------------------------------------------

    async def get(self, *, brand_id: str, episode_id: str) -> AlertRecord:
        """One episode of the brand."""
        record = await self.repository.get(episode_id)
        if record is None or record.brand_id != brand_id:
            raise AlertNotFoundError(f"no alert {episode_id} in this brand")
        return record

    async def page(
        self,
        *,
        brand_id: str,
        status: EpisodeStatus | None = None,
        kind: AlertKind | None = None,
        since: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> AlertPage:
        """The brand's episodes, newest first."""
        return await self.repository.page(
            brand_id, status=status, kind=kind, since=since, limit=limit, cursor=cursor
        )

    async def acknowledge(self, *, brand_id: str, episode_id: str, by: str) -> AlertRecord:
        """Record that ``by`` saw the episode (the first acknowledgement counts); it stays open."""
        return await self._act(brand_id, episode_id, by, episodes.acknowledge, resolving=False)

    async def resolve(self, *, brand_id: str, episode_id: str, by: str) -> AlertRecord:
        """Close the episode because ``by`` resolved it; a closed episode is returned as it is."""
        return await self._act(brand_id, episode_id, by, episodes.resolve, resolving=True)

    async def _act(
        self,
        brand_id: str,
        episode_id: str,
        by: str,
        action: Callable[..., Transition],
        *,
        resolving: bool,
    ) -> AlertRecord:
        await self.repository.sync_projections(brand_id)
        record = await self.get(brand_id=brand_id, episode_id=episode_id)
        key = EpisodeKey(record.brand_id, record.kind, record.subject)
        for _ in range(MAX_RACES):
            stored = await self.repository.load(key_id(key))
            if stored is None:
                raise AlertNotFoundError(f"no alert {episode_id} in this brand")
            try:
                transition = action(stored.state, episode_id=episode_id, by=by, at=self._now())
            except UnknownEpisodeError as exc:
                # An older episode of the key: nothing to do if already in the wanted state.
                done = (
                    record.status is EpisodeStatus.CLOSED if resolving else record.acknowledged_by
                )
                if done:
                    return record
                raise AlertNotCurrentError(
                    "a newer episode of the same alert exists; act on that one"
                ) from exc
            if not transition.outcomes:
                return await self.get(brand_id=brand_id, episode_id=episode_id)
            events = [
                alert_event(o, term_counts=stored.term_counts, policy=self.policy)
                for o in transition.outcomes
            ]
            if await self.repository.save(
                stored, transition.state, term_counts=stored.term_counts, events=events
            ):
                return await self.get(brand_id=brand_id, episode_id=episode_id)
        raise AlertConflictError(f"alert {episode_id} kept changing; try again")


def _counts_after(
    stored: StoredKey, state: KeyState, finding: Finding | None, at: datetime
) -> Mapping[str, int]:
    """The top-term counts of the key's episode after the transition."""
    episode = state.episode
    if episode is None:
        return {}
    if finding is not None and episode.last_detected_at == at:
        return finding.term_counts  # this hour's detection was applied
    before = stored.state.episode
    if before is not None and before.id == episode.id:
        return stored.term_counts
    return {}


def _counts_of(
    episode: Episode, stored: StoredKey, state: KeyState, counts: Mapping[str, int]
) -> Mapping[str, int]:
    """The top-term counts of ``episode``: the new state's, or the stored state's."""
    if state.episode is not None and state.episode.id == episode.id:
        return counts
    before = stored.state.episode
    if before is not None and before.id == episode.id:
        return stored.term_counts
    return {}


# --- the tick ------------------------------------------------------------------------


class AlertTicker:
    """The durable hourly tick: one timer, re-armed after every firing, run by its own loop.

    ``start()`` arms the timer for the latest completed hour (due at once after a restart,
    so missed hours are caught up) and starts the loop; ``stop()`` stops the loop. Several
    replicas may run one each: the timer fires in one at a time, and evaluations are
    idempotent anyway.
    """

    def __init__(
        self,
        service: AlertService,
        timers: TimerStore,
        *,
        owner_id: str,
        clock: Clock = SYSTEM_CLOCK,
        lease_s: float = 600.0,
        max_idle_s: float = 0.5,
    ) -> None:
        self.service = service
        self.timers = timers
        self.clock = clock
        # A catch-up of many brands can take a while: a long lease (its handler timeout is
        # half of it); an interrupted catch-up resumes where the brand cursors stopped.
        self.loop = TimerLoop(
            timers,
            handler=self.on_timer,
            owner_id=owner_id,
            clock=clock,
            lease_s=lease_s,
            max_idle_s=max_idle_s,
        )

    def next_due(self, now: datetime) -> datetime:
        """When the tick after ``now`` is due: ``tick_lag`` after the next hour starts."""
        return self.service.latest_complete_hour_end(now) + HOUR + self.service.tick_lag

    async def arm(self) -> None:
        """Arm the tick for the latest completed hour (at once if that moment is past)."""
        due = self.service.latest_complete_hour_end(self.clock.now()) + self.service.tick_lag
        await self._schedule(due)

    async def start(self) -> None:
        """Arm the tick and start the timer loop."""
        await self.arm()
        await self.loop.start()

    async def stop(self) -> None:
        """Stop the timer loop (the timer stays armed in the store)."""
        await self.loop.stop()

    async def on_timer(self, fired: FiredTimer) -> None:
        """Evaluate what is due, then arm the next tick (only after success: else retried)."""
        if fired.kind != TICK_TIMER_KIND:
            logger.error("timer %s of unknown kind %s ignored", fired.key, fired.kind)
            return
        await self.service.catch_up(now=self.clock.now())
        await self._schedule(self.next_due(self.clock.now()))

    async def _schedule(self, due: datetime) -> None:
        await self.timers.schedule(
            key=TICK_TIMER_KEY, due_at=due, kind=TICK_TIMER_KIND, payload={}, rearm=True
        )
