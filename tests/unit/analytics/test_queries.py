"""QueryService against in-memory buckets summed from real increments: exact numbers.

The fake store holds what the rollup store would hold (``sum_by_key`` of ``increments_for``
of a generated history) and answers ``read_series`` for hours and days. Every expected
number is counted here from the events themselves.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smm_analytics.domain.buckets import RangeTooLargeError
from smm_analytics.domain.histograms import MAX_RELATIVE_ERROR, Histogram
from smm_analytics.domain.reputation import (
    ReputationInputs,
    ReviewOutcomes,
    SentimentCounts,
    reputation_index,
)
from smm_analytics.domain.rollups import (
    HISTOGRAM_METRICS,
    MAP_METRICS,
    increments_for,
    sum_by_key,
)
from smm_analytics.services.queries import (
    REPUTATION_FORMULA,
    STORED_BY,
    FilterName,
    QueryError,
    QueryService,
    SeriesMetric,
    TopKind,
    series_fields,
)
from smm_shared.events import (
    Author,
    CaseOpened,
    CaseReopened,
    CaseResolved,
    Event,
    Mention,
    MentionKind,
    MentionReceived,
    Network,
    ReplyFailed,
    ReplyPublished,
    ReviewOutcome,
    Sentiment,
    SlaBreached,
    SlaMet,
)

pytestmark = pytest.mark.unit

BRAND = "acme"
NOW = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
DAY0 = datetime(2026, 11, 27, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
LABELS = ("positive", "negative", "neutral", "mixed", "unknown")
NETWORKS = (Network.X, Network.VK, Network.TELEGRAM)
#: The terms of each text, written out by hand (not computed by the code under test).
TEXT_TERMS = {
    "Loving the #NewPhone camera": {"#newphone", "camera", "loving"},
    "battery died again #fail": {"#fail", "battery", "died"},
    "support never answers": {"answers", "never", "support"},
    "camera battery #fail #NewPhone": {"#fail", "#newphone", "battery", "camera"},
}


class Buckets:
    """``read_series`` over bucket counters summed from real ``increments_for`` output."""

    def __init__(self, events: Iterable[Event]) -> None:
        self.summed = sum_by_key(i for e in events for i in increments_for(e))
        self.calls: list[tuple[str, str, datetime, datetime, str]] = []

    async def read_many(
        self,
        brand_id: str,
        series: Sequence[tuple[str, str]],
        start: datetime,
        end: datetime,
        granularity: str,
    ) -> list[dict[str, dict[str, int]]]:
        return [
            await self.read_series(brand_id, metric, dimension, start, end, granularity)
            for metric, dimension in series
        ]

    async def read_series(
        self,
        brand_id: str,
        metric: str,
        dimension: str,
        start: datetime,
        end: datetime,
        granularity: str,
    ) -> dict[str, dict[str, int]]:
        self.calls.append((metric, dimension, start, end, granularity))
        first = start.replace(minute=0, second=0, microsecond=0)
        if granularity == "day":
            first = first.replace(hour=0)
        longest = timedelta(days=93) if granularity == "hour" else timedelta(days=3 * 365 + 1)
        if end - first > longest:
            raise RangeTooLargeError("too long for the store")
        found: dict[str, dict[str, int]] = {}
        for bucket in self.summed.values():
            if (bucket.brand_id, bucket.metric, bucket.dimension) != (brand_id, metric, dimension):
                continue
            at = datetime.strptime(bucket.slot, "%Y-%m-%dT%H").replace(tzinfo=UTC)
            slot = bucket.slot
            if granularity == "day":
                at, slot = at.replace(hour=0), bucket.slot[:10]
            if first <= at < end:
                into = found.setdefault(slot, {})
                for name, amount in bucket.inc.items():
                    into[name] = into.get(name, 0) + amount
        return found


def service(events: Iterable[Event], **options: Any) -> tuple[QueryService, Buckets]:
    store = Buckets(events)
    return QueryService(store, now=lambda: NOW, **options), store


def hour_of(at: datetime) -> str:
    return f"{at.year:04d}-{at.month:02d}-{at.day:02d}T{at.hour:02d}"


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def mention(
    i: int,
    at: datetime,
    *,
    network: Network = Network.X,
    label: str = "positive",
    score: float | None = 0.5,
    language: str | None = "en",
    author: str = "u1",
    followers: int | None = None,
    text: str = "support never answers",
    keywords: Sequence[str] = (),
    topics: Sequence[str] = (),
    brand: str = BRAND,
) -> MentionReceived:
    return MentionReceived(
        brand_id=brand,
        mention=Mention(
            mention_id=f"m{i}",
            network=network,
            kind=MentionKind.POST,
            native_id=f"n{i}",
            conversation_key=f"{network.value}:c{i}",
            author=Author(id=author, followers=followers),
            text=text,
            language=language,
            created_at=at,
            keywords=tuple(keywords),
            topics=tuple(topics),
            sentiment=Sentiment(label=label, score=None if label == "unknown" else score),
        ),
    )


def random_mentions(seed: int, count: int, start: datetime, hours: int) -> list[MentionReceived]:
    rng = random.Random(seed)
    found = []
    for i in range(count):
        found.append(
            mention(
                i,
                start + timedelta(seconds=rng.randrange(hours * 3600)),
                network=rng.choice(NETWORKS),
                label=rng.choice(LABELS),
                score=rng.choice((-0.9, -0.25, 0.0, 0.333, 0.8)),
                language=rng.choice(("en", "ru", None)),
                author=rng.choice(("u.1", "u2", "u$3")),
                followers=rng.choice((None, 0, 10, 2500)),
                text=rng.choice(tuple(TEXT_TERMS)),
                keywords=rng.choice(((), ("acme",), ("acme", "rival.co"), ("globex",))),
                topics=rng.choice(((), ("billing",), ("delivery", "billing"))),
            )
        )
    return found


def expected_mention_values(chosen: Sequence[MentionReceived]) -> dict[str, Any]:
    """The documented mention fields, from the mentions themselves."""
    count = len(chosen)
    by_label = {
        label: sum(1 for e in chosen if e.mention.sentiment.label == label) for label in LABELS
    }
    scores = [e.mention.sentiment.score for e in chosen if e.mention.sentiment.score is not None]
    values: dict[str, Any] = {"count": count, **by_label}
    values["scored"] = len(scores)
    values["reach"] = sum(e.mention.author.followers or 0 for e in chosen)
    values["net_sentiment"] = ratio(by_label["positive"] - by_label["negative"], count)
    milli = sum(round(s * 1000) for s in scores)
    values["mean_score"] = milli / len(scores) / 1000 if scores else None
    values.update({f"{label}_share": ratio(by_label[label], count) for label in LABELS})
    return values


def assert_values(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert set(got) == set(want)
    for name, value in want.items():
        if isinstance(value, float):
            assert got[name] == pytest.approx(value, rel=1e-12), name
        else:
            assert got[name] == value, name


def nearest_rank_value(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(round(q * len(ordered), 9))) - 1]


def assert_within_histogram_bound(estimate: float | None, exact: float) -> None:
    assert estimate is not None
    if exact < 1:
        assert abs(estimate - exact) < 1
    else:
        assert abs(estimate - exact) <= MAX_RELATIVE_ERROR * exact + 1e-9


# --- series ----------------------------------------------------------------------------------


async def test_hourly_mention_series_is_zero_filled_and_matches_independent_counts() -> None:
    start = DAY0 + 6 * H
    events = random_mentions(1, 300, start, 5)
    events += [mention(900, start - 3 * H), mention(901, start + 5 * H, label="negative")]
    queries, _ = service(events)

    # 02:00 to 11:00 holds two empty hours before the data and one (10:00) after it.
    series = await queries.series(
        brand_id=BRAND, metric=SeriesMetric.MENTIONS, start=start - 2 * H, end=start + 5 * H
    )

    assert series.granularity == "hour"
    assert (series.start, series.end) == (start - 2 * H, start + 5 * H)
    assert [p.slot for p in series.points] == [hour_of(start + (k - 2) * H) for k in range(7)]
    assert series.fields == list(series_fields("mentions"))
    inside = [e for e in events if start - 2 * H <= e.mention.created_at < start + 5 * H]
    assert len(inside) == 300
    for point in series.points:
        chosen = [e for e in inside if hour_of(e.mention.created_at) == point.slot]
        assert_values(point.values, expected_mention_values(chosen))
    assert series.points[0].values["count"] == 0
    assert series.points[0].values["net_sentiment"] is None
    assert_values(series.totals, expected_mention_values(inside))


async def test_a_filter_reads_its_dimension_and_fields_come_in_the_order_asked() -> None:
    start = DAY0 + 6 * H
    events = random_mentions(2, 200, start, 4)
    queries, _ = service(events)
    lo, hi = start, start + 4 * H

    on_x = await queries.series(
        brand_id=BRAND,
        metric=SeriesMetric.MENTIONS,
        filters={"network": "x"},
        fields=["net_sentiment", "count", "count"],
        start=lo,
        end=hi,
    )
    x_mentions = [e for e in events if e.mention.network is Network.X]
    assert on_x.filter is not None
    assert (on_x.filter.name, on_x.filter.value) == ("network", "x")
    assert on_x.fields == ["net_sentiment", "count"]
    want = expected_mention_values(x_mentions)
    assert on_x.totals == {
        "net_sentiment": pytest.approx(want["net_sentiment"]),
        "count": want["count"],
    }
    assert list(on_x.points[0].values) == ["net_sentiment", "count"]

    undetected = await queries.series(
        brand_id=BRAND, metric=SeriesMetric.MENTIONS, filters={"language": "none"}, start=lo, end=hi
    )
    assert undetected.totals["count"] == sum(1 for e in events if e.mention.language is None)


@pytest.mark.parametrize(
    ("metric", "filters", "code", "says"),
    [
        (
            SeriesMetric.MENTIONS,
            {"network": "x", "language": "en"},
            "filter.combination_not_stored",
            "network and language",
        ),
        (SeriesMetric.REVIEWS, {"network": "x"}, "filter.not_stored", "no dimension"),
        (
            SeriesMetric.FIRST_RESPONSE_TIME,
            {"language": "en"},
            "filter.not_stored",
            "agent, network, team",
        ),
        (SeriesMetric.SLA, {"sentiment": "negative"}, "filter.not_stored", "agent, network"),
        (SeriesMetric.MENTIONS, {"team": "billing"}, "filter.not_stored", "language, network"),
        (SeriesMetric.TERMS, {"sentiment": "positive"}, "filter.not_stored", "sentiment=negative"),
    ],
)
async def test_filters_that_are_not_stored_are_refused_with_a_reason(
    metric: SeriesMetric, filters: dict[FilterName, str | None], code: str, says: str
) -> None:
    queries, store = service([])
    with pytest.raises(QueryError) as caught:
        await queries.series(brand_id=BRAND, metric=metric, filters=filters)
    assert caught.value.code == code
    assert says in str(caught.value)
    assert store.calls == []


async def test_an_unknown_field_is_refused_with_the_fields_available() -> None:
    queries, _ = service([])
    with pytest.raises(QueryError) as caught:
        await queries.series(brand_id=BRAND, metric=SeriesMetric.POSTS, fields=["count"])
    assert caught.value.code == "series.unknown_field"
    assert "published, failed, failure_rate" in str(caught.value)


async def test_long_ranges_are_daily_and_equal_the_sum_of_their_hours() -> None:
    start = DAY0 - 5 * D
    events = random_mentions(3, 400, start, 5 * 24)
    queries, store = service(events)

    daily = await queries.series(
        brand_id=BRAND, metric=SeriesMetric.MENTIONS, start=start + 3 * H, end=DAY0
    )
    assert daily.granularity == "day"
    assert store.calls[-1][4] == "day"
    assert (daily.start, daily.end) == (start, DAY0)
    assert [p.slot for p in daily.points] == [
        "2026-11-22",
        "2026-11-23",
        "2026-11-24",
        "2026-11-25",
        "2026-11-26",
    ]
    for k, point in enumerate(daily.points):
        day = [e for e in events if start + k * D <= e.mention.created_at < start + (k + 1) * D]
        assert_values(point.values, expected_mention_values(day))
    assert daily.totals["count"] == 400

    hourly = await queries.series(
        brand_id=BRAND, metric=SeriesMetric.MENTIONS, start=start, end=DAY0, granularity="hour"
    )
    assert len(hourly.points) == 5 * 24
    assert hourly.totals == daily.totals


async def test_default_windows_end_with_the_current_slot() -> None:
    queries, _ = service([mention(1, NOW - 30 * H), mention(2, NOW - 2 * H), mention(3, NOW)])

    last_day = await queries.series(brand_id=BRAND, metric=SeriesMetric.MENTIONS)
    assert last_day.granularity == "hour"
    assert (last_day.start, last_day.end) == (DAY0 - 11 * H, DAY0 + 13 * H)
    assert len(last_day.points) == 24
    assert last_day.points[-1].slot == "2026-11-27T12"
    assert last_day.totals["count"] == 2

    month = await queries.series(brand_id=BRAND, metric=SeriesMetric.MENTIONS, granularity="day")
    assert (month.start, month.end) == (DAY0 - 29 * D, DAY0 + D)
    assert len(month.points) == 30
    assert month.totals["count"] == 3


async def test_bad_and_too_large_ranges_are_refused() -> None:
    queries, store = service([])
    with pytest.raises(QueryError) as caught:
        await queries.series(brand_id=BRAND, metric=SeriesMetric.MENTIONS, start=NOW, end=NOW)
    assert caught.value.code == "range.invalid"
    with pytest.raises(QueryError):
        await queries.series(brand_id=BRAND, metric=SeriesMetric.MENTIONS, start=NOW + H)
    with pytest.raises(RangeTooLargeError, match="granularity=day"):
        await queries.series(
            brand_id=BRAND,
            metric=SeriesMetric.MENTIONS,
            start=DAY0 - 94 * D,
            end=DAY0,
            granularity="hour",
        )
    with pytest.raises(RangeTooLargeError):
        await queries.series(
            brand_id=BRAND, metric=SeriesMetric.MENTIONS, start=DAY0 - 4 * 365 * D, end=DAY0
        )
    assert store.calls == []
    # The longest hourly window is served.
    served = await queries.series(
        brand_id=BRAND,
        metric=SeriesMetric.MENTIONS,
        start=DAY0 - 93 * D,
        end=DAY0,
        granularity="hour",
    )
    assert len(served.points) == 93 * 24


def case_events(rng: random.Random, i: int, at: datetime) -> list[Event]:
    """One case's events around ``at``: opened, maybe reopened, maybe resolved, SLA, review."""
    case, key = f"case{i}", f"vk:c{i}"
    team = rng.choice(("billing", "tech", None))
    agent = rng.choice(("ann", "bob", None))
    found: list[Event] = [
        CaseOpened(
            brand_id=BRAND,
            occurred_at=at,
            case_id=case,
            conversation_key=key,
            network=rng.choice(NETWORKS),
            mention_id=f"m{i}",
        )
    ]
    for metric in ("first_response", "resolution", "time_to_assignment"):
        within = rng.random() < 0.6
        common: dict[str, Any] = {
            "brand_id": BRAND,
            "occurred_at": at + timedelta(minutes=rng.randrange(50)),
            "case_id": case,
            "metric": metric,
            "policy_id": "p",
            "department": team,
            "assignee_id": agent,
        }
        if not within:
            found.append(SlaBreached(**common, due_at=at, lateness_ms=5))
        if rng.random() < 0.8:
            elapsed = rng.choice((0.4, rng.uniform(1, 120), rng.uniform(60, 40_000)))
            found.append(SlaMet(**common, elapsed_s=elapsed, within_target=within))
    if rng.random() < 0.7:
        found.append(
            CaseResolved(
                brand_id=BRAND,
                occurred_at=at + timedelta(minutes=rng.randrange(50)),
                case_id=case,
                conversation_key=key,
                actor="user:ann",
                resolution_s=rng.uniform(0, 90_000),
                department=team,
                assignee_id=agent,
            )
        )
        if rng.random() < 0.3:
            found.append(
                CaseReopened(
                    brand_id=BRAND,
                    occurred_at=at + timedelta(minutes=55),
                    case_id=case,
                    conversation_key=key,
                    actor="customer",
                )
            )
    if rng.random() < 0.4:
        found.append(
            ReviewOutcome(
                brand_id=BRAND,
                occurred_at=at,
                case_id=case,
                conversation_key=key,
                mention_id=f"m{i}",
                outcome=rng.choice(("improved", "deleted", "unchanged", "worsened")),
            )
        )
    reply: dict[str, Any] = {
        "brand_id": BRAND,
        "occurred_at": at,
        "reply_id": f"r{i}",
        "case_id": case,
        "network": Network.VK,
    }
    if rng.random() < 0.8:
        found.append(ReplyPublished(**reply, native_id=f"rn{i}"))
    else:
        found.append(ReplyFailed(**reply, code="E", message="no"))
    return found


def backlog_change(e: Event) -> int:
    return (
        1 if isinstance(e, CaseOpened | CaseReopened) else -1 if isinstance(e, CaseResolved) else 0
    )


CARE_START = DAY0 + 6 * H  # the window: 06:00-12:00 on DAY0


def care_history(seed: int = 4) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    for i in range(80):
        events += case_events(
            rng, i, CARE_START + timedelta(seconds=rng.randrange(6 * 3600 - 3600))
        )
    # Before the window: days ago, earlier today, and far back (beyond a short origin).
    for i, at in enumerate([DAY0 - 3 * D] * 6 + [DAY0 + 2 * H] * 3 + [DAY0 - 400 * D] * 4):
        events.append(
            CaseOpened(
                brand_id=BRAND,
                occurred_at=at,
                case_id=f"old{i}",
                conversation_key=f"vk:o{i}",
                network=Network.X,
                mention_id=f"o{i}",
            )
        )
    events.append(
        CaseResolved(
            brand_id=BRAND,
            occurred_at=DAY0 - D,
            case_id="old0",
            conversation_key="vk:o0",
            actor="user:ann",
            resolution_s=3.0,
        )
    )
    return events


async def test_backlog_series_cumulates_from_the_origin_through_each_slot() -> None:
    events = care_history()
    queries, store = service(events)

    series = await queries.series(
        brand_id=BRAND, metric=SeriesMetric.BACKLOG, start=CARE_START, end=CARE_START + 6 * H
    )
    before = sum(backlog_change(e) for e in events if e.occurred_at < CARE_START)
    assert before == 6 + 3 + 4 - 1
    level = before
    for k, point in enumerate(series.points):
        inside = [
            e for e in events if CARE_START + k * H <= e.occurred_at < CARE_START + (k + 1) * H
        ]
        opened = sum(isinstance(e, CaseOpened) for e in inside)
        reopened = sum(isinstance(e, CaseReopened) for e in inside)
        resolved = sum(isinstance(e, CaseResolved) for e in inside)
        level += opened + reopened - resolved
        assert point.values == {
            "opened": opened,
            "reopened": reopened,
            "resolved": resolved,
            "backlog": level,
            "resolution_rate": ratio(resolved, opened + reopened),
        }
    assert series.totals["backlog"] == level
    assert series.totals["opened"] == 80
    # The days before the window's day are one day read back three years.
    day_reads = [c for c in store.calls if c[4] == "day"]
    assert day_reads == [("backlog", "all", DAY0 - 3 * 365 * D, DAY0, "day")]

    recent, _ = service(events, backlog_origin=timedelta(days=100))
    nearer = await recent.series(
        brand_id=BRAND,
        metric=SeriesMetric.BACKLOG,
        start=CARE_START,
        end=CARE_START + 6 * H,
        fields=["backlog"],
    )
    assert nearer.totals == {"backlog": level - 4}

    by_team = await queries.series(
        brand_id=BRAND,
        metric=SeriesMetric.BACKLOG,
        filters={"team": "billing"},
        start=CARE_START,
        end=CARE_START + 6 * H,
    )
    assert by_team.fields == ["resolved"]
    assert by_team.totals == {
        "resolved": sum(isinstance(e, CaseResolved) and e.department == "billing" for e in events)
    }


async def test_sla_and_duration_series_give_met_rates_and_percentiles_within_the_bound() -> None:
    events = care_history(seed=8)
    queries, _ = service(events)
    lo, hi = CARE_START, CARE_START + 6 * H

    sla = await queries.series(
        brand_id=BRAND, metric=SeriesMetric.SLA, filters={"agent": "ann"}, start=lo, end=hi
    )
    for point, k in zip(sla.points, range(6), strict=True):
        inside = [
            e
            for e in events
            if isinstance(e, SlaMet | SlaBreached)
            and e.assignee_id == "ann"
            and CARE_START + k * H <= e.occurred_at < CARE_START + (k + 1) * H
        ]
        for metric in ("first_response", "resolution", "time_to_assignment", "next_response"):
            met = sum(
                isinstance(e, SlaMet) and e.metric == metric and e.within_target for e in inside
            )
            late = sum(
                isinstance(e, SlaMet) and e.metric == metric and not e.within_target for e in inside
            )
            breached = sum(isinstance(e, SlaBreached) and e.metric == metric for e in inside)
            assert point.values[f"{metric}_met"] == met
            assert point.values[f"{metric}_late"] == late
            assert point.values[f"{metric}_breached"] == breached
            assert point.values[f"{metric}_met_rate"] == ratio(met, met + breached)

    # One hour more: 12:00 has no data.
    times = await queries.series(
        brand_id=BRAND, metric=SeriesMetric.FIRST_RESPONSE_TIME, start=lo, end=hi + H
    )
    elapsed = [
        e.elapsed_s for e in events if isinstance(e, SlaMet) and e.metric == "first_response"
    ]
    assert times.totals["count"] == len(elapsed) > 30
    assert times.totals["mean_s"] == pytest.approx(
        sum(round(s * 1000) for s in elapsed) / len(elapsed) / 1000
    )
    for q, name in ((0.5, "p50_s"), (0.9, "p90_s"), (0.95, "p95_s")):
        estimate = times.totals[name]
        assert isinstance(estimate, float)
        assert_within_histogram_bound(estimate, nearest_rank_value(elapsed, q))
    assert sum(int(p.values["count"] or 0) for p in times.points) == len(elapsed)
    assert any(p.values["count"] == 0 and p.values["p50_s"] is None for p in times.points)


async def test_map_series_take_the_top_labels_or_the_labels_asked_unescaped() -> None:
    start = DAY0 + 6 * H
    events = random_mentions(5, 300, start, 3)
    queries, _ = service(events)
    lo, hi = start, start + 3 * H

    voice = await queries.series(
        brand_id=BRAND, metric=SeriesMetric.SHARE_OF_VOICE, limit=2, start=lo, end=hi
    )
    counts = {
        label: sum(label in e.mention.keywords for e in events)
        for label in ("acme", "rival.co", "globex")
    }
    ranked = sorted(counts, key=lambda label: (-counts[label], label))
    assert voice.fields == ranked[:2]
    assert voice.totals == {label: counts[label] for label in ranked[:2]}
    for k, point in enumerate(voice.points):
        inside = [e for e in events if hour_of(e.mention.created_at) == hour_of(start + k * H)]
        assert point.values == {
            label: sum(label in e.mention.keywords for e in inside) for label in ranked[:2]
        }

    asked = await queries.series(
        brand_id=BRAND,
        metric=SeriesMetric.TERMS,
        fields=["#fail,", "battery", "nothing"],
        start=lo,
        end=hi,
    )
    assert asked.fields == ["#fail,", "battery", "nothing"]  # the service takes labels as given
    assert asked.totals == {
        "#fail,": 0,
        "battery": sum("battery" in TEXT_TERMS[e.mention.text] for e in events),
        "nothing": 0,
    }
    reach = await queries.series(
        brand_id=BRAND, metric=SeriesMetric.AUTHOR_REACH, fields=["vk:u.1"], start=lo, end=hi
    )
    assert reach.totals == {
        "vk:u.1": sum(
            e.mention.author.followers or 0
            for e in events
            if e.mention.network is Network.VK and e.mention.author.id == "u.1"
        )
    }


# --- top-N -----------------------------------------------------------------------------------


def expected_top(counts: dict[str, int], limit: int) -> list[tuple[str, int, float]]:
    total = sum(counts.values())
    ranked = sorted(((k, v) for k, v in counts.items() if v), key=lambda i: (-i[1], i[0]))
    return [(k, v, v / total) for k, v in ranked[:limit]]


def as_rows(top: Any) -> list[tuple[str, int, float]]:
    return [(i.name, i.value, i.share) for i in top.items]


async def test_top_terms_hashtags_authors_topics_and_voice_match_independent_counts() -> None:
    start = DAY0 - 2 * D
    events = random_mentions(6, 500, start, 48)
    queries, _ = service(events)
    lo, hi = start, DAY0
    mentions = [e.mention for e in events]

    def term_counts(only: Iterable[Mention]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in only:
            for term in TEXT_TERMS[m.text]:
                counts[term] = counts.get(term, 0) + 1
        return counts

    terms = term_counts(mentions)
    plain = {k: v for k, v in terms.items() if not k.startswith("#")}
    tags = {k: v for k, v in terms.items() if k.startswith("#")}
    got = await queries.top(brand_id=BRAND, kind=TopKind.TERMS, limit=3, start=lo, end=hi)
    assert got.granularity == "hour"
    assert got.labels == len(plain)
    assert got.total == sum(plain.values())
    assert as_rows(got) == expected_top(plain, 3)
    assert [i.rank for i in got.items] == [1, 2, 3]
    assert as_rows(
        await queries.top(brand_id=BRAND, kind=TopKind.HASHTAGS, start=lo, end=hi)
    ) == expected_top(tags, 10)

    negative = term_counts(m for m in mentions if m.sentiment.label == "negative")
    negative_tags = {k: v for k, v in negative.items() if k.startswith("#")}
    got = await queries.top(
        brand_id=BRAND, kind=TopKind.HASHTAGS, filters={"sentiment": "negative"}, start=lo, end=hi
    )
    assert as_rows(got) == expected_top(negative_tags, 10)

    authors: dict[str, int] = {}
    reach: dict[str, int] = {}
    for m in mentions:
        name = f"{m.network.value}:{m.author.id}"
        authors[name] = authors.get(name, 0) + 1
        reach[name] = reach.get(name, 0) + (m.author.followers or 0)
    got = await queries.top(brand_id=BRAND, kind=TopKind.AUTHORS, limit=4, start=lo, end=hi)
    assert as_rows(got) == expected_top(authors, 4)
    assert {"x:u$3", "vk:u.1"} <= set(authors)  # escaped in storage, plain here
    got = await queries.top(
        brand_id=BRAND, kind=TopKind.AUTHORS_BY_REACH, limit=100, start=lo, end=hi
    )
    assert as_rows(got) == expected_top(reach, 100)
    got = await queries.top(
        brand_id=BRAND, kind=TopKind.AUTHORS, filters={"network": "vk"}, start=lo, end=hi
    )
    assert as_rows(got) == expected_top(
        {k: v for k, v in authors.items() if k.startswith("vk:")}, 10
    )

    voice: dict[str, int] = {}
    for m in mentions:
        for label in m.keywords:
            voice[label] = voice.get(label, 0) + 1
    got = await queries.top(brand_id=BRAND, kind=TopKind.SHARE_OF_VOICE, start=lo, end=hi)
    assert as_rows(got) == expected_top(voice, 10)
    assert sum(i.share or 0 for i in got.items) == pytest.approx(1.0)
    on_x: dict[str, int] = {}
    for m in mentions:
        if m.network is Network.X:
            for label in m.keywords:
                on_x[label] = on_x.get(label, 0) + 1
    got = await queries.top(
        brand_id=BRAND, kind=TopKind.SHARE_OF_VOICE, filters={"network": "x"}, start=lo, end=hi
    )
    assert as_rows(got) == expected_top(on_x, 10)

    topics: dict[str, int] = {}
    for m in mentions:
        for topic in m.topics:
            topics[topic] = topics.get(topic, 0) + 1
    assert as_rows(
        await queries.top(brand_id=BRAND, kind=TopKind.TOPICS, start=lo, end=hi)
    ) == expected_top(topics, 10)
    with pytest.raises(QueryError) as caught:
        await queries.top(
            brand_id=BRAND, kind=TopKind.TOPICS, filters={"network": "x"}, start=lo, end=hi
        )
    assert caught.value.code == "filter.not_stored"


async def test_top_ties_rank_by_name_and_other_brands_do_not_count() -> None:
    at = DAY0 + 3 * H
    events = [
        mention(1, at, keywords=("b",)),
        mention(2, at, keywords=("a",)),
        mention(3, at, keywords=("c", "a")),
        mention(4, at, keywords=("b",)),
        mention(5, at, keywords=("a", "b"), brand="globex"),
    ]
    queries, _ = service(events)
    got = await queries.top(brand_id=BRAND, kind=TopKind.SHARE_OF_VOICE, start=DAY0, end=DAY0 + D)
    assert as_rows(got) == [("a", 2, 0.4), ("b", 2, 0.4), ("c", 1, 0.2)]
    assert got.granularity == "hour"


# --- care ------------------------------------------------------------------------------------


async def test_care_merges_histograms_rates_backlog_and_replies_of_the_window() -> None:
    events = care_history(seed=11)
    queries, _ = service(events)
    care = await queries.care(brand_id=BRAND, start=CARE_START, end=CARE_START + 6 * H)
    inside = [e for e in events if CARE_START <= e.occurred_at < CARE_START + 6 * H]

    times = {t.metric: t for t in care.times}
    assert list(times) == [
        "first_response_time",
        "next_response_time",
        "resolution_time",
        "assignment_time",
        "department_response_time",
        "case_resolution_time",
    ]
    stems = {
        "first_response_time": "first_response",
        "resolution_time": "resolution",
        "assignment_time": "time_to_assignment",
    }
    for name, stem in stems.items():
        elapsed = [e.elapsed_s for e in inside if isinstance(e, SlaMet) and e.metric == stem]
        got = times[name]
        assert got.count == len(elapsed) > 20
        assert got.mean_s == pytest.approx(
            sum(round(s * 1000) for s in elapsed) / len(elapsed) / 1000
        )
        for q, estimate in ((0.5, got.p50_s), (0.9, got.p90_s), (0.95, got.p95_s)):
            assert_within_histogram_bound(estimate, nearest_rank_value(elapsed, q))
    assert (times["next_response_time"].count, times["next_response_time"].p50_s) == (0, None)
    resolutions = [e.resolution_s for e in inside if isinstance(e, CaseResolved)]
    assert times["case_resolution_time"].count == len(resolutions)
    assert_within_histogram_bound(
        times["case_resolution_time"].p90_s, nearest_rank_value(resolutions, 0.9)
    )

    for rate in care.sla:
        met = sum(
            isinstance(e, SlaMet) and e.metric == rate.metric and e.within_target for e in inside
        )
        late = sum(
            isinstance(e, SlaMet) and e.metric == rate.metric and not e.within_target
            for e in inside
        )
        breached = sum(isinstance(e, SlaBreached) and e.metric == rate.metric for e in inside)
        assert (rate.met, rate.late, rate.breached) == (met, late, breached)
        assert rate.met_rate == ratio(met, met + breached)

    opened = sum(isinstance(e, CaseOpened) for e in inside)
    reopened = sum(isinstance(e, CaseReopened) for e in inside)
    resolved = sum(isinstance(e, CaseResolved) for e in inside)
    assert (care.opened, care.reopened, care.resolved) == (opened, reopened, resolved)
    assert care.resolution_rate == pytest.approx(resolved / (opened + reopened))
    outcomes = [e.outcome for e in inside if isinstance(e, ReviewOutcome)]
    assert care.reviews is not None
    assert care.reviews.improved == outcomes.count("improved")
    assert care.reviews.worsened == outcomes.count("worsened")
    assert care.reviews.recovery_rate == pytest.approx(
        (outcomes.count("improved") + outcomes.count("deleted")) / len(outcomes)
    )
    assert care.replies_published == sum(isinstance(e, ReplyPublished) for e in inside)
    assert care.replies_failed == sum(isinstance(e, ReplyFailed) for e in inside)

    base = sum(backlog_change(e) for e in events if e.occurred_at < CARE_START)
    assert care.backlog_start == base
    level = base
    for k, point in enumerate(care.points):
        slot = [e for e in inside if CARE_START + k * H <= e.occurred_at < CARE_START + (k + 1) * H]
        level += sum(backlog_change(e) for e in slot)
        assert point.backlog == level
        assert point.replies_published == sum(isinstance(e, ReplyPublished) for e in slot)
    assert care.backlog_end == level == base + opened + reopened - resolved


async def test_care_of_a_team_keeps_only_what_is_stored_per_team() -> None:
    events = care_history(seed=12)
    queries, _ = service(events)
    care = await queries.care(
        brand_id=BRAND, start=CARE_START, end=CARE_START + 6 * H, filters={"team": "billing"}
    )
    billing = [
        e
        for e in events
        if isinstance(e, SlaMet | SlaBreached | CaseResolved)
        and e.department == "billing"
        and CARE_START <= e.occurred_at < CARE_START + 6 * H
    ]
    first = [e.elapsed_s for e in billing if isinstance(e, SlaMet) and e.metric == "first_response"]
    assert care.times[0].count == len(first) > 5
    assert_within_histogram_bound(care.times[0].p50_s, nearest_rank_value(first, 0.5))
    assert care.resolved == sum(isinstance(e, CaseResolved) for e in billing)
    assert (care.opened, care.resolution_rate, care.reviews, care.backlog_start) == (None,) * 4
    assert all(p.backlog is None for p in care.points)
    assert sum(p.resolved for p in care.points) == care.resolved


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        ({"language": "en"}, "team, agent and network"),
        ({"team": "billing", "agent": "ann"}, "cannot be combined"),
    ],
)
async def test_care_refuses_filters_it_is_not_stored_by(
    filters: dict[FilterName, str | None], says: str
) -> None:
    queries, store = service([])
    with pytest.raises(QueryError, match=says):
        await queries.care(brand_id=BRAND, filters=filters)
    assert store.calls == []


# --- reputation ------------------------------------------------------------------------------


async def test_reputation_combines_the_window_the_window_before_and_care() -> None:
    rng = random.Random(21)
    start = DAY0 - 7 * D
    events: list[Event] = [*random_mentions(30, 400, start, 7 * 24)]
    events += random_mentions(31, 300, start - 7 * D, 7 * 24)
    events += [mention(9000 + i, start - 8 * D, label="negative") for i in range(50)]  # too old
    times = [rng.uniform(100, 20_000) for _ in range(40)]
    for i, elapsed in enumerate(times):
        events.append(
            SlaMet(
                brand_id=BRAND,
                occurred_at=start + i * H,
                case_id=f"c{i}",
                metric="first_response",
                policy_id="p",
                elapsed_s=elapsed,
                within_target=True,
            )
        )
    events.append(
        SlaMet(
            brand_id=BRAND,
            occurred_at=start - H,
            case_id="old",
            metric="first_response",
            policy_id="p",
            elapsed_s=99_000,
            within_target=False,
        )
    )
    outcomes = ["improved"] * 3 + ["deleted"] * 2 + ["unchanged"] * 4 + ["worsened"]
    for i, outcome in enumerate(outcomes):
        events.append(
            ReviewOutcome(
                brand_id=BRAND,
                occurred_at=start + i * 12 * H,
                case_id=f"r{i}",
                conversation_key=f"vk:r{i}",
                mention_id=f"m{i}",
                outcome=outcome,
            )
        )
    queries, _ = service(events)

    got = await queries.reputation(brand_id=BRAND, start=start, end=DAY0)

    def sentiment(lo: datetime, hi: datetime) -> SentimentCounts:
        chosen = [
            e.mention
            for e in events
            if isinstance(e, MentionReceived) and lo <= e.mention.created_at < hi
        ]
        labels = [m.sentiment.label for m in chosen]
        return SentimentCounts(
            labels.count("positive"),
            labels.count("negative"),
            len(labels) - labels.count("unknown"),
        )

    now_counts, before_counts = sentiment(start, DAY0), sentiment(start - 7 * D, start)
    assert got.formula == REPUTATION_FORMULA
    assert (got.granularity, got.start, got.end, got.previous_start) == (
        "day",
        start,
        DAY0,
        start - 7 * D,
    )
    assert (got.inputs.positive, got.inputs.negative, got.inputs.with_sentiment) == (
        now_counts.positive,
        now_counts.negative,
        now_counts.total,
    )
    assert got.inputs.previous_with_sentiment == before_counts.total
    assert got.inputs.first_responses == 40
    median = got.inputs.median_first_response_s
    assert_within_histogram_bound(median, nearest_rank_value(times, 0.5))
    assert (got.inputs.reviews.improved, got.inputs.reviews.unchanged) == (3, 4)

    want = reputation_index(
        ReputationInputs(
            sentiment=now_counts,
            previous_sentiment=before_counts,
            median_first_response=timedelta(seconds=Histogram.of(times).percentile(0.5) or 0),
            reviews=ReviewOutcomes(improved=3, deleted=2, unchanged=4, worsened=1),
        )
    )
    assert want.score is not None
    assert got.score == pytest.approx(want.score)
    parts = {c.component: c for c in got.components}
    assert parts["net_sentiment"].value == pytest.approx(
        (now_counts.positive - now_counts.negative) / now_counts.total
    )
    assert parts["sentiment_trend"].value == pytest.approx(
        (now_counts.positive - now_counts.negative) / now_counts.total
        - (before_counts.positive - before_counts.negative) / before_counts.total
    )
    assert parts["recovery_rate"].value == pytest.approx(0.5)
    assert parts["response_speed"].value == pytest.approx(median)
    assert not any(c.missing for c in got.components)
    assert sum(c.contribution for c in got.components) == pytest.approx(got.score)
    assert [c.weight for c in got.components] == [40.0, 15.0, 25.0, 20.0]


async def test_reputation_without_data_has_no_score_and_every_component_missing() -> None:
    queries, _ = service([mention(1, DAY0 - 90 * D)])
    got = await queries.reputation(brand_id=BRAND)
    assert (got.start, got.end) == (DAY0 - 29 * D, DAY0 + D)
    assert got.score is None
    assert all(c.missing and c.contribution == 0.0 for c in got.components)
    assert got.inputs.median_first_response_s is None


async def test_the_backlog_of_the_days_before_is_read_once_per_cache_period() -> None:
    clock = [100.0]
    events = care_history()
    queries, store = service(
        events, backlog_cache_ttl=timedelta(seconds=60), monotonic=lambda: clock[0]
    )

    async def backlog_end() -> int | None:
        care = await queries.care(brand_id=BRAND, start=CARE_START, end=CARE_START + 6 * H)
        return care.backlog_end

    def day_reads() -> int:
        return sum(1 for call in store.calls if call[4] == "day")

    first = await backlog_end()
    assert day_reads() == 1
    clock[0] += 59
    assert await backlog_end() == first
    assert day_reads() == 1
    clock[0] += 2
    assert await backlog_end() == first
    assert day_reads() == 2

    uncached, store = service(events, backlog_cache_ttl=timedelta(0))
    for _ in range(2):
        await uncached.series(
            brand_id=BRAND, metric=SeriesMetric.BACKLOG, start=CARE_START, end=CARE_START + H
        )
    assert sum(1 for call in store.calls if call[4] == "day") == 2


def test_every_metric_of_the_catalogue_can_be_asked_for_and_has_its_dimensions() -> None:
    assert {m.value for m in SeriesMetric} == set(STORED_BY)
    assert set(STORED_BY) >= HISTOGRAM_METRICS | MAP_METRICS
