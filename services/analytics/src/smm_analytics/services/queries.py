"""Read side of analytics: time series, top-N, care and reputation, summed from rollup buckets.

Every answer is a sum of bucket documents (``domain/rollups.py``), read through one
:class:`SeriesReader`; no query touches raw events, so the cost grows with the number of
slots asked for, never with the history.

**Windows.** A query covers whole slots of its granularity, UTC: ``start`` is floored and
``end`` rounded up to the hour or the day, and the answer says which window it covers.
Granularity defaults to ``hour`` for a range of up to 3 days and ``day`` beyond; without
``from`` the window is the last 24 hours (hourly) or the last 30 days (daily) up to the
end of the current slot. Hourly windows span at most 93 days (hour buckets are kept that
long), daily ones at most three years; longer raises
:class:`~smm_analytics.domain.buckets.RangeTooLargeError`.

**Filters.** Buckets are stored per *one* dimension (``network=x``, ``language=en``,
``team=billing``, ``agent=ann``, ``sentiment=negative``), so a query takes at most one
filter, and only one its metric is stored by (:data:`STORED_BY`). Care metrics are
stored by team, agent and network (the network from SLA and resolution events that carry
it: responder sets it on every one it publishes).

**Derived values** (``None`` when the denominator is 0):

* mentions: ``net_sentiment = (positive - negative) / count``, ``mean_score =
  score_milli / scored / 1000``, ``<label>_share = <label> / count`` (the distribution);
* posts, replies: ``failure_rate = failed / (published + failed)``;
* backlog: ``backlog`` = opened + reopened - resolved, cumulated from
  ``backlog_origin`` (3 years by default, read as day buckets) to the end of each slot
  (the sum of the days before the window's day is reused for ``backlog_cache_ttl``, 60 s
  by default: a late event in those days shows within that time);
  ``resolution_rate = resolved / (opened + reopened)``;
* reviews: ``recovery_rate = (improved + deleted) / (improved + deleted + unchanged +
  worsened)``;
* sla: ``<metric>_met_rate = met / (met + breached)`` (a late SlaMet follows its breach,
  so ``late`` is shown but not counted as a second miss);
* duration histograms: ``count``, ``mean_s`` (exact), ``p50_s``, ``p90_s``, ``p95_s``
  (within 5 % for durations from 1 s to 90 days, see ``domain/histograms.py``).

Totals of a window apply the same formulas to the window's summed counters (a rate of
sums, not a mean of rates); the total ``backlog`` is the backlog at the window's end.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final, Literal, Protocol

from pydantic import BaseModel, Field

from smm_analytics.domain import rollups
from smm_analytics.domain.buckets import HOUR_FORMAT, MAX_RANGE, RangeTooLargeError
from smm_analytics.domain.histograms import Histogram
from smm_analytics.domain.reputation import (
    DEFAULT_REPUTATION_POLICY,
    ReputationInputs,
    ReputationPolicy,
    ReviewOutcomes,
    SentimentCounts,
    reputation_index,
)

Granularity = Literal["hour", "day"]
FilterName = Literal["network", "language", "team", "agent", "sentiment"]
Value = int | float | None
Counters = dict[str, int]

#: A range up to this long is served hourly unless the caller asks for days.
AUTO_HOURLY_UP_TO: Final = timedelta(days=3)
#: The window when the caller gives no ``from``, per granularity.
DEFAULT_SPAN: Final[Mapping[Granularity, timedelta]] = {
    "hour": timedelta(hours=24),
    "day": timedelta(days=30),
}
#: The longest window per granularity (the retention of hour and day buckets).
MAX_SPAN: Final[Mapping[Granularity, timedelta]] = {
    "hour": MAX_RANGE,
    "day": rollups.DAY_RETENTION,
}
#: How far back the backlog is cumulated before a window (read as day buckets).
DEFAULT_BACKLOG_ORIGIN: Final = timedelta(days=3 * 365)
#: How long the backlog of the days before a window's day is reused (0 s: never).
DEFAULT_BACKLOG_CACHE_TTL: Final = timedelta(seconds=60)
_BACKLOG_CACHE_SIZE: Final = 4096
#: The version of the reputation formula (``domain/reputation.py``) the answers follow.
REPUTATION_FORMULA: Final = "reputation-v1"
QUANTILES: Final = (0.5, 0.9, 0.95)
_STEP: Final[Mapping[Granularity, timedelta]] = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
_FORMAT: Final[Mapping[Granularity, str]] = {"hour": HOUR_FORMAT, "day": rollups.DAY_FORMAT}
_SLA_METRICS: Final = tuple(rollups.SLA_TIME_METRICS)
_SENTIMENTS: Final = tuple(rollups.SENTIMENT_FIELDS)
_PERSON: Final = frozenset({"team", "agent"})


class SeriesReader(Protocol):
    """Counters per slot of one bucket series (``RollupStore.read_series``)."""

    async def read_series(
        self,
        brand_id: str,
        metric: str,
        dimension: str,
        start: datetime,
        end: datetime,
        granularity: Granularity,
    ) -> dict[str, dict[str, int]]:
        """Counters by slot name for slots starting in [start floored, end); only slots with data."""
        ...

    async def read_many(
        self,
        brand_id: str,
        series: Sequence[tuple[str, str]],
        start: datetime,
        end: datetime,
        granularity: Granularity,
    ) -> list[dict[str, dict[str, int]]]:
        """``read_series`` of several ``(metric, dimension)`` series, in order, in one read."""
        ...


class QueryError(ValueError):
    """A query the buckets cannot answer as asked; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class SeriesMetric(StrEnum):
    """The metrics a time series can be asked for (``domain/rollups.py`` catalogue)."""

    MENTIONS = rollups.MENTIONS
    POSTS = rollups.POSTS
    REPLIES = rollups.REPLIES
    BACKLOG = rollups.BACKLOG
    REVIEWS = rollups.REVIEWS
    SLA = rollups.SLA
    FIRST_RESPONSE_TIME = "first_response_time"
    NEXT_RESPONSE_TIME = "next_response_time"
    RESOLUTION_TIME = "resolution_time"
    ASSIGNMENT_TIME = "assignment_time"
    DEPARTMENT_RESPONSE_TIME = "department_response_time"
    CASE_RESOLUTION_TIME = rollups.CASE_RESOLUTION_TIME
    SHARE_OF_VOICE = rollups.SHARE_OF_VOICE
    TERMS = rollups.TERMS
    TOPICS = rollups.TOPICS
    AUTHORS = rollups.AUTHORS
    AUTHOR_REACH = rollups.AUTHOR_REACH


class TopKind(StrEnum):
    """What a top-N list ranks."""

    TERMS = "terms"
    HASHTAGS = "hashtags"
    AUTHORS = "authors"
    AUTHORS_BY_REACH = "authors_by_reach"
    SHARE_OF_VOICE = "share_of_voice"
    TOPICS = "topics"


#: Care metrics: stored by team, agent and network.
_CARE_METRICS: Final = frozenset({rollups.SLA, *rollups.HISTOGRAM_METRICS})
_CARE_FILTERS: Final = _PERSON | {"network"}
#: The filters each metric is stored by (its bucket dimensions besides ``all``).
STORED_BY: Final[Mapping[str, frozenset[str]]] = {
    rollups.MENTIONS: frozenset({"network", "language"}),
    rollups.POSTS: frozenset({"network"}),
    rollups.REPLIES: frozenset({"network"}),
    rollups.BACKLOG: frozenset({"network", "team", "agent"}),
    rollups.REVIEWS: frozenset(),
    rollups.SHARE_OF_VOICE: frozenset({"network"}),
    rollups.TERMS: frozenset({"sentiment"}),
    rollups.TOPICS: frozenset(),
    rollups.AUTHORS: frozenset(),
    rollups.AUTHOR_REACH: frozenset(),
    **{metric: _CARE_FILTERS for metric in _CARE_METRICS},
}
#: The duration histograms care reports, in the order of a case's life.
_CARE_TIMES: Final = (*rollups.SLA_TIME_METRICS.values(), rollups.CASE_RESOLUTION_TIME)
#: Top-N kinds and the map metric each ranks.
_TOP_METRIC: Final[Mapping[TopKind, str]] = {
    TopKind.TERMS: rollups.TERMS,
    TopKind.HASHTAGS: rollups.TERMS,
    TopKind.AUTHORS: rollups.AUTHORS,
    TopKind.AUTHORS_BY_REACH: rollups.AUTHOR_REACH,
    TopKind.SHARE_OF_VOICE: rollups.SHARE_OF_VOICE,
    TopKind.TOPICS: rollups.TOPICS,
}


# --- windows -------------------------------------------------------------------------------


def _utc(at: datetime) -> datetime:
    """A time in UTC; a time without a zone is read as UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def floor_to(at: datetime, granularity: Granularity) -> datetime:
    """The start of the hour or UTC day holding ``at``."""
    at = _utc(at).replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0) if granularity == "day" else at


def ceil_to(at: datetime, granularity: Granularity) -> datetime:
    """The first hour or UTC day boundary at or after ``at``."""
    floored = floor_to(at, granularity)
    return floored if floored == _utc(at) else floored + _STEP[granularity]


@dataclass(frozen=True, slots=True)
class Window:
    """Whole slots of one granularity: ``[start, end)``, both on slot boundaries (UTC)."""

    start: datetime
    end: datetime
    granularity: Granularity

    @property
    def span(self) -> timedelta:
        """The window's length."""
        return self.end - self.start

    def slots(self) -> list[tuple[str, datetime]]:
        """Every slot of the window, as (name, start): ``2026-11-27T10`` or ``2026-11-27``."""
        step, name = _STEP[self.granularity], _FORMAT[self.granularity]
        found, at = [], self.start
        while at < self.end:
            found.append((at.strftime(name), at))
            at += step
        return found

    def previous(self) -> Window:
        """The window of the same length just before this one."""
        return Window(self.start - self.span, self.start, self.granularity)


def resolve_window(
    start: datetime | None,
    end: datetime | None,
    granularity: Granularity | None,
    *,
    now: datetime,
    default_granularity: Granularity = "hour",
) -> Window:
    """The window a query covers (module doc): defaults, alignment and size checks."""
    start = None if start is None else _utc(start)
    end = None if end is None else _utc(end)
    if start is None:
        chosen = granularity or default_granularity
        stop = ceil_to(end or now, chosen)
        window = Window(stop - DEFAULT_SPAN[chosen], stop, chosen)
    else:
        stop = end or _utc(now)
        if start >= stop:
            said = "'to'" if end is not None else "now"
            raise QueryError("range.invalid", f"'from' must be before {said}")
        chosen = granularity or ("hour" if stop - start <= AUTO_HOURLY_UP_TO else "day")
        window = Window(floor_to(start, chosen), ceil_to(stop, chosen), chosen)
    if window.span > MAX_SPAN[chosen]:
        longest = MAX_SPAN[chosen].days
        hint = "; ask for granularity=day" if chosen == "hour" else ""
        raise RangeTooLargeError(
            f"{chosen}ly data covers at most {longest} days per query "
            f"(asked {window.span.days} days){hint}"
        )
    return window


# --- filters -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filter:
    """The one dimension a query is narrowed to."""

    name: FilterName
    value: str

    @property
    def dimension(self) -> str:
        """The bucket dimension: ``network=x`` (the value escaped as stored)."""
        return rollups.dimension(self.name, self.value)


def single_filter(filters: Mapping[FilterName, str | None]) -> Filter | None:
    """The one filter given, None without any; QueryError for a combination (not stored)."""
    given = [Filter(name, value) for name, value in filters.items() if value is not None]
    if len(given) > 1:
        names = " and ".join(f.name for f in given)
        raise QueryError(
            "filter.combination_not_stored",
            f"Buckets are stored per single dimension, so {names} cannot be combined; "
            "use one filter at a time",
        )
    if given and not given[0].value:
        raise QueryError("filter.empty", f"The {given[0].name} filter needs a value")
    return given[0] if given else None


def _check_stored(metric: str, chosen: Filter | None) -> str:
    """The dimension a metric's buckets are read from; QueryError when not stored."""
    if chosen is None:
        return rollups.ALL
    stored = STORED_BY[metric]
    if chosen.name not in stored:
        dims = ", ".join(sorted(stored)) or "no dimension"
        reason = f"'{metric}' is stored by {dims}, not by {chosen.name}"
        raise QueryError("filter.not_stored", reason)
    if chosen.name == "sentiment" and chosen.value != "negative":
        raise QueryError(
            "filter.not_stored", "terms are stored by sentiment only for sentiment=negative"
        )
    return chosen.dimension


# --- derived values ------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mention_values(c: Mapping[str, int]) -> dict[str, Value]:
    count, scored = c.get("count", 0), c.get("scored", 0)
    values: dict[str, Value] = {"count": count}
    values.update({label: c.get(label, 0) for label in _SENTIMENTS})
    values["scored"] = scored
    values["reach"] = c.get("reach", 0)
    values["net_sentiment"] = _ratio(c.get("positive", 0) - c.get("negative", 0), count)
    values["mean_score"] = c.get("score_milli", 0) / scored / 1000 if scored else None
    values.update({f"{label}_share": _ratio(c.get(label, 0), count) for label in _SENTIMENTS})
    return values


def _outcome_values(c: Mapping[str, int]) -> dict[str, Value]:
    published, failed = c.get("published", 0), c.get("failed", 0)
    return {
        "published": published,
        "failed": failed,
        "failure_rate": _ratio(failed, published + failed),
    }


def _backlog_values(c: Mapping[str, int]) -> dict[str, Value]:
    opened, reopened, resolved = c.get("opened", 0), c.get("reopened", 0), c.get("resolved", 0)
    return {
        "opened": opened,
        "reopened": reopened,
        "resolved": resolved,
        "backlog": None,  # cumulative: filled in by the caller, who knows the slot order
        "resolution_rate": _ratio(resolved, opened + reopened),
    }


def _review_values(c: Mapping[str, int]) -> dict[str, Value]:
    values: dict[str, Value] = {name: c.get(name, 0) for name in rollups.REVIEW_FIELDS}
    recovered = c.get("improved", 0) + c.get("deleted", 0)
    ended = sum(c.get(name, 0) for name in rollups.REVIEW_FIELDS)
    values["recovery_rate"] = _ratio(recovered, ended)
    return values


def _sla_values(c: Mapping[str, int]) -> dict[str, Value]:
    values: dict[str, Value] = {}
    for metric in _SLA_METRICS:
        met, breached = c.get(f"{metric}_met", 0), c.get(f"{metric}_breached", 0)
        values[f"{metric}_met"] = met
        values[f"{metric}_late"] = c.get(f"{metric}_late", 0)
        values[f"{metric}_breached"] = breached
        values[f"{metric}_met_rate"] = _ratio(met, met + breached)
    return values


def distribution(counters: Mapping[str, int]) -> tuple[int, float | None, tuple[float, ...] | None]:
    """Count, exact mean and the :data:`QUANTILES` of stored histogram counters."""
    histogram = Histogram.from_counts(counters)
    return histogram.count, histogram.mean, histogram.percentiles(QUANTILES)


def _histogram_values(c: Mapping[str, int]) -> dict[str, Value]:
    count, mean, quantiles = distribution(c)
    p50, p90, p95 = quantiles or (None, None, None)
    return {"count": count, "mean_s": mean, "p50_s": p50, "p90_s": p90, "p95_s": p95}


_VALUES: Final[Mapping[str, Callable[[Mapping[str, int]], dict[str, Value]]]] = {
    rollups.MENTIONS: _mention_values,
    rollups.POSTS: _outcome_values,
    rollups.REPLIES: _outcome_values,
    rollups.BACKLOG: _backlog_values,
    rollups.REVIEWS: _review_values,
    rollups.SLA: _sla_values,
    **{metric: _histogram_values for metric in rollups.HISTOGRAM_METRICS},
}
#: Backlog fields stored per dimension: opened by network; resolved by team and agent.
_BACKLOG_BY: Final[Mapping[str, tuple[str, ...]]] = {
    "network": ("opened",),
    "team": ("resolved",),
    "agent": ("resolved",),
}


def series_fields(metric: str, chosen: Filter | None = None) -> tuple[str, ...]:
    """The fields a series of a counter metric offers (map metrics take labels instead)."""
    if metric == rollups.BACKLOG and chosen is not None:
        return _BACKLOG_BY[chosen.name]
    return tuple(_VALUES[metric]({}))


def _sum(slots: Iterable[Mapping[str, int]]) -> Counters:
    return rollups.roll_up(slots)


# --- results -------------------------------------------------------------------------------


class AppliedFilter(BaseModel):
    """The dimension the answer is narrowed to."""

    name: FilterName
    value: str


class SeriesPoint(BaseModel):
    """One slot: its name (``2026-11-27T10`` or ``2026-11-27``), start (UTC) and values."""

    slot: str
    start: datetime
    values: dict[str, Value]


class Series(BaseModel):
    """A zero-filled series of whole slots, its fields in order, and the window's totals."""

    brand_id: str
    metric: SeriesMetric
    granularity: Granularity
    start: datetime = Field(description="First slot's start (UTC), inclusive.")
    end: datetime = Field(description="Last slot's end (UTC), exclusive.")
    filter: AppliedFilter | None = None
    fields: list[str] = Field(description="Value names, in column order; labels for maps.")
    totals: dict[str, Value] = Field(description="The fields over the whole window.")
    points: list[SeriesPoint]


class TopItem(BaseModel):
    """One ranked label and its value (mentions, or followers summed for reach)."""

    rank: int
    name: str
    value: int
    share: float | None = Field(description="value / total, in [0, 1].")


class Top(BaseModel):
    """The top labels of a window, highest value first (ties by name)."""

    brand_id: str
    kind: TopKind
    granularity: Granularity
    start: datetime
    end: datetime
    filter: AppliedFilter | None = None
    total: int = Field(
        description=(
            "Sum of the values of every label of the kind, not only the top. Rolled days "
            "keep their 200 largest labels; the rest of an unfiltered kind is included "
            "here, that of a filtered one (terms without hashtags, one network's authors) "
            "is not."
        )
    )
    labels: int = Field(
        description="How many distinct labels the window holds (of the days' kept labels)."
    )
    tail_bound: int = Field(
        default=0,
        description=(
            "The most a label could be missing from its value because a rolled day left "
            "it out of its 200 largest (0: every value is exact). Ranks are exact where "
            "values differ by more than this."
        ),
    )
    items: list[TopItem]


class Distribution(BaseModel):
    """A duration distribution in seconds, merged from histogram buckets."""

    metric: str
    count: int
    mean_s: float | None
    p50_s: float | None
    p90_s: float | None
    p95_s: float | None


class SlaRate(BaseModel):
    """SLA outcomes of one SLA metric: met rate = met / (met + breached)."""

    metric: str
    met: int
    late: int
    breached: int
    met_rate: float | None


class ReviewCounts(BaseModel):
    """How the follow-ups of negative reviews ended."""

    improved: int
    deleted: int
    unchanged: int
    worsened: int
    recovery_rate: float | None


class CarePoint(BaseModel):
    """One slot of care volume; brand-wide fields are null under a team or agent filter."""

    slot: str
    start: datetime
    opened: int | None
    reopened: int | None
    resolved: int
    backlog: int | None = Field(description="Open cases at the end of the slot.")
    replies_published: int | None
    replies_failed: int | None


class Care(BaseModel):
    """Care performance of a window, brand-wide or for one team or agent."""

    brand_id: str
    granularity: Granularity
    start: datetime
    end: datetime
    filter: AppliedFilter | None = None
    times: list[Distribution]
    sla: list[SlaRate]
    opened: int | None
    reopened: int | None
    resolved: int
    resolution_rate: float | None = Field(description="resolved / (opened + reopened).")
    backlog_start: int | None
    backlog_end: int | None
    reviews: ReviewCounts | None
    replies_published: int | None
    replies_failed: int | None
    points: list[CarePoint]


class ReputationComponentOut(BaseModel):
    """One component: raw value, normalised value, weights and its points in the score."""

    component: str
    value: float | None = Field(
        description="Raw: net sentiment [-1, 1], trend [-2, 2], median response s, rate [0, 1]."
    )
    normalised: float | None
    weight: float = Field(description="Nominal weight from the policy.")
    weight_used: float = Field(description="Share of the score given to this component.")
    contribution: float = Field(description="Points of the score: 100 * weight_used * normalised.")
    missing: bool


class ReputationInputsOut(BaseModel):
    """The bucket sums the index was computed from."""

    positive: int
    negative: int
    with_sentiment: int
    previous_positive: int
    previous_negative: int
    previous_with_sentiment: int
    first_responses: int
    median_first_response_s: float | None
    reviews: ReviewCounts


class Reputation(BaseModel):
    """The reputation index of a window (None without any data) and every component."""

    brand_id: str
    formula: str
    granularity: Granularity
    start: datetime
    end: datetime
    previous_start: datetime
    score: float | None
    components: list[ReputationComponentOut]
    inputs: ReputationInputsOut


def _applied(chosen: Filter | None) -> AppliedFilter | None:
    return None if chosen is None else AppliedFilter(name=chosen.name, value=chosen.value)


def _reviews(c: Mapping[str, int]) -> ReviewCounts:
    values = _review_values(c)
    return ReviewCounts(
        improved=c.get("improved", 0),
        deleted=c.get("deleted", 0),
        unchanged=c.get("unchanged", 0),
        worsened=c.get("worsened", 0),
        recovery_rate=values["recovery_rate"],
    )


def _with_sentiment(c: Mapping[str, int]) -> SentimentCounts:
    total = sum(c.get(label, 0) for label in _SENTIMENTS if label != "unknown")
    return SentimentCounts(c.get("positive", 0), c.get("negative", 0), total)


# --- the service ---------------------------------------------------------------------------


class QueryService:
    """Dashboards' questions answered from rollup buckets (module doc)."""

    def __init__(
        self,
        store: SeriesReader,
        *,
        backlog_origin: timedelta = DEFAULT_BACKLOG_ORIGIN,
        backlog_cache_ttl: timedelta = DEFAULT_BACKLOG_CACHE_TTL,
        reputation_policy: ReputationPolicy = DEFAULT_REPUTATION_POLICY,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not timedelta(0) < backlog_origin <= MAX_SPAN["day"]:
            raise ValueError(f"backlog_origin must be within {MAX_SPAN['day'].days} days")
        self._store = store
        self._backlog_origin = backlog_origin
        self._backlog_cache_ttl = backlog_cache_ttl.total_seconds()
        self._backlog_cache: dict[tuple[str, datetime], tuple[float, int]] = {}
        self._monotonic = monotonic
        self._policy = reputation_policy
        self._now = now

    def window(
        self,
        start: datetime | None,
        end: datetime | None,
        granularity: Granularity | None,
        *,
        default_granularity: Granularity = "hour",
    ) -> Window:
        """The window a query covers, against this service's clock."""
        return resolve_window(
            start, end, granularity, now=self._now(), default_granularity=default_granularity
        )

    async def _read_many(
        self, brand_id: str, series: Sequence[tuple[str, str]], window: Window
    ) -> list[dict[str, Counters]]:
        return await self._store.read_many(
            brand_id=brand_id,
            series=series,
            start=window.start,
            end=window.end,
            granularity=window.granularity,
        )

    async def _read(
        self, brand_id: str, metric: str, dimension: str, window: Window
    ) -> dict[str, Counters]:
        return await self._store.read_series(
            brand_id=brand_id,
            metric=metric,
            dimension=dimension,
            start=window.start,
            end=window.end,
            granularity=window.granularity,
        )

    # --- series ------------------------------------------------------------------------

    async def series(
        self,
        *,
        brand_id: str,
        metric: SeriesMetric,
        start: datetime | None = None,
        end: datetime | None = None,
        granularity: Granularity | None = None,
        filters: Mapping[FilterName, str | None] | None = None,
        fields: Sequence[str] | None = None,
        limit: int = 10,
    ) -> Series:
        """A zero-filled series of one metric, one optional filter, chosen fields and totals.

        Map metrics (share_of_voice, terms, topics, authors, author_reach) have labels as
        fields: the ``limit`` labels with the highest totals, or the labels in ``fields``.
        """
        chosen = single_filter(filters or {})
        dimension = _check_stored(metric.value, chosen)
        window = self.window(start, end, granularity)
        slots = window.slots()
        wanted = list(dict.fromkeys(f.strip() for f in fields or () if f.strip()))
        if metric.value in rollups.MAP_METRICS:
            read = await self._read(brand_id, metric.value, dimension, window)
            columns, points, totals = _map_series(slots, read, wanted, limit)
        else:
            offered = series_fields(metric.value, chosen)
            unknown = [f for f in wanted if f not in offered]
            if unknown:
                raise QueryError(
                    "series.unknown_field",
                    f"Unknown field(s) for {metric.value}: {', '.join(unknown)}; "
                    f"available: {', '.join(offered)}",
                )
            columns = wanted or list(offered)
            base: int | None = None
            if metric.value == rollups.BACKLOG and chosen is None and "backlog" in columns:
                read, base = await asyncio.gather(
                    self._read(brand_id, metric.value, dimension, window),
                    self._backlog_before(brand_id, window.start),
                )
            else:
                read = await self._read(brand_id, metric.value, dimension, window)
            points, totals = _counter_series(metric.value, slots, read, columns, base)
        return Series(
            brand_id=brand_id,
            metric=metric,
            granularity=window.granularity,
            start=window.start,
            end=window.end,
            filter=_applied(chosen),
            fields=columns,
            totals=totals,
            points=points,
        )

    async def _backlog_before(self, brand_id: str, at: datetime) -> int:
        """Opened + reopened - resolved from ``backlog_origin`` before ``at`` up to ``at``.

        The hours of ``at``'s own day come from hour buckets; the whole days before it from
        day buckets (:meth:`_days_backlog`).
        """
        day = floor_to(at, "day")
        hours = (
            self._read(brand_id, rollups.BACKLOG, rollups.ALL, Window(day, at, "hour"))
            if day < at
            else _nothing()
        )
        days, today = await asyncio.gather(self._days_backlog(brand_id, day), hours)
        return days + _backlog_change(_sum(today.values()))

    async def _days_backlog(self, brand_id: str, day: datetime) -> int:
        """The backlog change of the days from ``backlog_origin`` before ``day`` to ``day``.

        One read of up to ~1,100 day keys (~25 ms on nx-27017), so the answer is kept for
        ``backlog_cache_ttl``: dashboards ask the same again on every refresh, and those
        days change only by late events.
        """
        key = (brand_id, day)
        cached = self._backlog_cache.get(key)
        if cached is not None and cached[0] > self._monotonic():
            return cached[1]
        origin = floor_to(day - self._backlog_origin, "day")
        found = await self._read(brand_id, rollups.BACKLOG, rollups.ALL, Window(origin, day, "day"))
        change = _backlog_change(_sum(found.values()))
        if self._backlog_cache_ttl > 0:
            if len(self._backlog_cache) >= _BACKLOG_CACHE_SIZE:
                self._backlog_cache.clear()
            self._backlog_cache[key] = (self._monotonic() + self._backlog_cache_ttl, change)
        return change

    async def _backlog_if(self, wanted: bool, brand_id: str, at: datetime) -> int | None:
        return await self._backlog_before(brand_id, at) if wanted else None

    # --- top-N -------------------------------------------------------------------------

    async def top(
        self,
        *,
        brand_id: str,
        kind: TopKind,
        start: datetime | None = None,
        end: datetime | None = None,
        granularity: Granularity | None = None,
        filters: Mapping[FilterName, str | None] | None = None,
        limit: int = 10,
    ) -> Top:
        """The ``limit`` labels with the highest values over a window.

        Hashtags are the terms starting with ``#``; ``terms`` leaves them out. A network
        filter narrows share of voice (stored by network) and authors (whose names are
        ``<network>:<author id>``); ``sentiment=negative`` narrows terms and hashtags.
        """
        chosen = single_filter(filters or {})
        metric = _TOP_METRIC[kind]
        prefix = ""
        authors = metric in (rollups.AUTHORS, rollups.AUTHOR_REACH)
        if chosen is not None and chosen.name == "network" and authors:
            # Authors are stored by name only; the name starts with the network.
            dimension, prefix = rollups.ALL, f"{rollups.escape_field(chosen.value)}:"
        else:
            dimension = _check_stored(metric, chosen)
        window = self.window(start, end, granularity)
        read = await self._read(brand_id, metric, dimension, window)
        # Filters run on the stored (escaped) names: escaping leaves "#", ":" and the
        # network names alone. Only the candidates for the top are unescaped: a month of
        # authors holds tens of thousands of names.
        hashtags = kind is TopKind.HASHTAGS
        everything = kind is not TopKind.TERMS and not hashtags
        summed = _sum(read.values())
        # Rolled days keep their largest labels only (rollups.trim_map): what they left
        # out is in the total but cannot be ranked, and bounds what a missing label adds.
        rest = summed.pop(rollups.REST_FIELD, 0)
        bound = summed.pop(rollups.FLOOR_FIELD, 0)
        found = [
            (name, value)
            for name, value in summed.items()
            if value
            and name.startswith(prefix)
            and (everything or name.startswith("#") == hashtags)
        ]
        filtered = bool(prefix) or not everything
        total = sum(value for _, value in found) + (0 if filtered else rest)
        if len(found) > limit:
            lowest = heapq.nlargest(limit, (value for _, value in found))[-1]
            found_top = [(name, value) for name, value in found if value >= lowest]
        else:
            found_top = found
        ranked = sorted(
            ((rollups.unescape_field(name), value) for name, value in found_top),
            key=lambda item: (-item[1], item[0]),
        )[:limit]
        return Top(
            brand_id=brand_id,
            kind=kind,
            granularity=window.granularity,
            start=window.start,
            end=window.end,
            filter=_applied(chosen),
            total=total,
            labels=len(found),
            tail_bound=bound,
            items=[
                TopItem(rank=i, name=name, value=value, share=_ratio(value, total))
                for i, (name, value) in enumerate(ranked, start=1)
            ],
        )

    # --- care --------------------------------------------------------------------------

    async def care(
        self,
        *,
        brand_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
        granularity: Granularity | None = None,
        filters: Mapping[FilterName, str | None] | None = None,
    ) -> Care:
        """Response and resolution time distributions, SLA met rates, backlog, rates.

        With a team, agent or network filter only what is stored that way comes back
        (times, SLA counts, resolved cases); opened and reopened cases, backlog, reviews
        and replies are brand-wide only and are null.
        """
        chosen = single_filter(filters or {})
        if chosen is not None and chosen.name not in _CARE_FILTERS:
            raise QueryError(
                "filter.not_stored",
                f"care metrics are stored by team, agent and network, not by {chosen.name}",
            )
        dimension = _check_stored(rollups.SLA, chosen)
        window = self.window(start, end, granularity)
        brand_wide = chosen is None
        times = _CARE_TIMES
        wanted = [(metric, dimension) for metric in times]
        wanted += [(rollups.SLA, dimension), (rollups.BACKLOG, dimension)]
        if brand_wide:
            wanted += [(rollups.REVIEWS, rollups.ALL), (rollups.REPLIES, rollups.ALL)]
        found, base = await asyncio.gather(
            self._read_many(brand_id, wanted, window),
            self._backlog_if(brand_wide, brand_id, window.start),
        )
        histograms, (sla, backlog, *rest) = found[: len(times)], found[len(times) :]
        distributions = []
        for metric, read in zip(times, histograms, strict=True):
            count, mean, quantiles = distribution(_sum(read.values()))
            p50, p90, p95 = quantiles or (None, None, None)
            distributions.append(
                Distribution(
                    metric=metric, count=count, mean_s=mean, p50_s=p50, p90_s=p90, p95_s=p95
                )
            )
        sla_total = _sum(sla.values())
        rates = [
            SlaRate(
                metric=m,
                met=sla_total.get(f"{m}_met", 0),
                late=sla_total.get(f"{m}_late", 0),
                breached=sla_total.get(f"{m}_breached", 0),
                met_rate=_ratio(
                    sla_total.get(f"{m}_met", 0),
                    sla_total.get(f"{m}_met", 0) + sla_total.get(f"{m}_breached", 0),
                ),
            )
            for m in _SLA_METRICS
        ]
        cases = _sum(backlog.values())
        reviews, replies = (rest[0], rest[1]) if brand_wide else ({}, {})
        points: list[CarePoint] = []
        level = base
        for slot, at in window.slots():
            c, r = backlog.get(slot, {}), replies.get(slot, {})
            if level is not None:
                level += c.get("opened", 0) + c.get("reopened", 0) - c.get("resolved", 0)
            points.append(
                CarePoint.model_construct(
                    slot=slot,
                    start=at,
                    opened=c.get("opened", 0) if brand_wide else None,
                    reopened=c.get("reopened", 0) if brand_wide else None,
                    resolved=c.get("resolved", 0),
                    backlog=level,
                    replies_published=r.get("published", 0) if brand_wide else None,
                    replies_failed=r.get("failed", 0) if brand_wide else None,
                )
            )
        replied = _sum(replies.values())
        opened, reopened = cases.get("opened", 0), cases.get("reopened", 0)
        return Care(
            brand_id=brand_id,
            granularity=window.granularity,
            start=window.start,
            end=window.end,
            filter=_applied(chosen),
            times=distributions,
            sla=rates,
            opened=opened if brand_wide else None,
            reopened=reopened if brand_wide else None,
            resolved=cases.get("resolved", 0),
            resolution_rate=_ratio(cases.get("resolved", 0), opened + reopened)
            if brand_wide
            else None,
            backlog_start=base,
            backlog_end=level,
            reviews=_reviews(_sum(reviews.values())) if brand_wide else None,
            replies_published=replied.get("published", 0) if brand_wide else None,
            replies_failed=replied.get("failed", 0) if brand_wide else None,
            points=points,
        )

    # --- reputation --------------------------------------------------------------------

    async def reputation(
        self,
        *,
        brand_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
        granularity: Granularity | None = None,
    ) -> Reputation:
        """The reputation index (``domain/reputation.py``) of a window, with its inputs.

        Sentiment of the window and of the window of the same length before it, the median
        first-response time of the window, and the review outcomes of the window; the
        default window is the last 30 days.
        """
        window = self.window(start, end, granularity, default_granularity="day")
        before = window.previous()
        (now_read, frt_read, review_read), before_read = await asyncio.gather(
            self._read_many(
                brand_id,
                [
                    (rollups.MENTIONS, rollups.ALL),
                    (SeriesMetric.FIRST_RESPONSE_TIME.value, rollups.ALL),
                    (rollups.REVIEWS, rollups.ALL),
                ],
                window,
            ),
            self._read(brand_id, rollups.MENTIONS, rollups.ALL, before),
        )
        sentiment = _with_sentiment(_sum(now_read.values()))
        previous = _with_sentiment(_sum(before_read.values()))
        responses = Histogram.merge_counts(frt_read.values())
        median = responses.percentile(0.5)
        review_total = _sum(review_read.values())
        outcomes = ReviewOutcomes(**{n: review_total.get(n, 0) for n in rollups.REVIEW_FIELDS})
        index = reputation_index(
            ReputationInputs(
                sentiment=sentiment,
                previous_sentiment=previous,
                median_first_response=None if median is None else timedelta(seconds=median),
                reviews=outcomes,
            ),
            self._policy,
        )
        return Reputation(
            brand_id=brand_id,
            formula=REPUTATION_FORMULA,
            granularity=window.granularity,
            start=window.start,
            end=window.end,
            previous_start=before.start,
            score=index.score,
            components=[
                ReputationComponentOut(
                    component=c.component.value,
                    value=c.raw,
                    normalised=c.normalised,
                    weight=c.weight,
                    weight_used=c.weight_used,
                    contribution=0.0
                    if c.normalised is None
                    else 100 * c.weight_used * c.normalised,
                    missing=c.missing,
                )
                for c in index.components
            ],
            inputs=ReputationInputsOut(
                positive=sentiment.positive,
                negative=sentiment.negative,
                with_sentiment=sentiment.total,
                previous_positive=previous.positive,
                previous_negative=previous.negative,
                previous_with_sentiment=previous.total,
                first_responses=responses.count,
                median_first_response_s=median,
                reviews=_reviews(review_total),
            ),
        )


async def _nothing() -> dict[str, Counters]:
    return {}


def _backlog_change(c: Mapping[str, int]) -> int:
    return c.get("opened", 0) + c.get("reopened", 0) - c.get("resolved", 0)


def _counter_series(
    metric: str,
    slots: Sequence[tuple[str, datetime]],
    read: Mapping[str, Counters],
    columns: Sequence[str],
    base: int | None,
) -> tuple[list[SeriesPoint], dict[str, Value]]:
    """Points and totals of a counter metric; ``base`` is the backlog before the window."""
    compute = _VALUES[metric]
    empty = compute({})
    points: list[SeriesPoint] = []
    level = base
    for slot, at in slots:
        counters = read.get(slot, {})
        # Long sparse windows are mostly empty slots: their values are computed once.
        values = compute(counters) if counters else dict(empty)
        if level is not None:
            level += counters.get("opened", 0) + counters.get("reopened", 0)
            level -= counters.get("resolved", 0)
            values["backlog"] = level
        # Built from typed values, so validation (a third of a long series' time) is skipped.
        point = SeriesPoint.model_construct(
            slot=slot, start=at, values={f: values[f] for f in columns}
        )
        points.append(point)
    total = compute(_sum(read.get(slot, {}) for slot, _ in slots))
    if level is not None:
        total["backlog"] = level
    return points, {f: total[f] for f in columns}


def _map_series(
    slots: Sequence[tuple[str, datetime]],
    read: Mapping[str, Counters],
    wanted: Sequence[str],
    limit: int,
) -> tuple[list[str], list[SeriesPoint], dict[str, Value]]:
    """Fields, points and totals of a map metric: the wanted labels or the top ``limit``."""
    total = _sum(read.get(slot, {}) for slot, _ in slots)
    if wanted:
        labels = list(wanted)
    else:
        named = {
            rollups.unescape_field(k): v
            for k, v in total.items()
            if v and not k.startswith(rollups.RESERVED_PREFIX)
        }
        labels = [k for k, _ in sorted(named.items(), key=lambda i: (-i[1], i[0]))[:limit]]
    keys = {label: rollups.escape_field(label) for label in labels}
    points = [
        SeriesPoint.model_construct(
            slot=slot,
            start=at,
            values={label: read.get(slot, {}).get(keys[label], 0) for label in labels},
        )
        for slot, at in slots
    ]
    return labels, points, {label: total.get(keys[label], 0) for label in labels}
