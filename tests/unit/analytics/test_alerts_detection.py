"""Alert detection from bucket dicts: spikes and rising terms, baselines, severities, explanations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smm_analytics.adapters.samples import SampledMention
from smm_analytics.domain.buckets import hour_slot
from smm_analytics.domain.episodes import AlertKind, EpisodeKey, EpisodePolicy, Severity
from smm_analytics.domain.rollups import escape_field
from smm_analytics.domain.trends import RisingTerm
from smm_analytics.services.alerts import (
    NEGATIVE_SUBJECT,
    HourCounts,
    check_hour_end,
    hour_floor,
    rising_findings,
    rising_of,
    rising_severity,
    spike_finding,
    spike_of,
    spike_severity,
    top_terms,
)

pytestmark = pytest.mark.unit

END = datetime(2026, 11, 28, 11, tzinfo=UTC)
START = END - timedelta(hours=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def _slot(hours_before: int = 0, days_before: int = 0) -> str:
    return hour_slot(START - hours_before * HOUR - days_before * DAY)


def _mentions(
    current: int, *, same_hour: list[int], recent: list[int], total: int = 100
) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for hours_before, negative in enumerate(recent, start=1):
        found[_slot(hours_before)] = {"count": total, "negative": negative}
    for days_before, negative in enumerate(same_hour, start=1):
        found[_slot(days_before=days_before)] = {"count": total, "negative": negative}
    found[_slot()] = {"count": total, "negative": current}
    return found


# --- hours -------------------------------------------------------------------------------


def test_hour_ends_must_be_whole_aware_hours() -> None:
    assert check_hour_end(END) == END
    assert hour_floor(END + timedelta(minutes=59, seconds=59)) == END
    with pytest.raises(ValueError, match="on the hour"):
        check_hour_end(END + timedelta(minutes=1))
    with pytest.raises(ValueError, match="timezone"):
        check_hour_end(datetime(2026, 11, 28, 11))  # a naive time


# --- negative spikes ---------------------------------------------------------------------


def test_a_spike_is_judged_against_the_larger_of_the_seasonal_and_recent_medians() -> None:
    mentions = _mentions(30, same_hour=[2, 3, 2, 2, 4, 2, 2], recent=[1] * 24)
    spike = spike_of(HourCounts(hour_end=END, mentions=mentions))
    assert spike is not None
    assert (spike.observed, spike.expected, spike.basis) == (30, 2.0, "seasonal")
    assert (spike.expected_seasonal, spike.expected_recent) == (2.0, 1.0)
    assert spike_severity(spike) is Severity.CRITICAL


def test_hours_older_than_a_day_or_a_week_are_not_read_as_baselines() -> None:
    mentions = _mentions(30, same_hour=[2] * 7, recent=[2] * 24)
    mentions[_slot(days_before=8)] = {"count": 100, "negative": 30}  # an eighth day back
    mentions[_slot(hours_before=25)] = {"count": 100, "negative": 30}  # 25 hours back
    spike = spike_of(HourCounts(hour_end=END, mentions=mentions))
    assert spike is not None
    assert spike.expected == 2.0


def test_a_warning_spike_is_high_severity() -> None:
    spike = spike_of(
        HourCounts(hour_end=END, mentions=_mentions(10, same_hour=[2] * 7, recent=[2] * 24))
    )
    assert spike is not None
    assert spike.severity == "warning"
    assert spike_severity(spike) is Severity.HIGH


def test_an_ordinary_hour_is_no_spike() -> None:
    mentions = _mentions(3, same_hour=[2] * 7, recent=[2] * 24)
    assert spike_of(HourCounts(hour_end=END, mentions=mentions)) is None


def test_hours_before_the_brand_was_seen_are_not_history() -> None:
    # Seen three hours ago with two negatives an hour; missing hours before read as zeros.
    mentions = {_slot(h): {"count": 10, "negative": 2} for h in (1, 2, 3)}
    mentions[_slot()] = {"count": 30, "negative": 20}
    seen = START - 3 * HOUR
    judged = spike_of(HourCounts(hour_end=END, mentions=mentions, history_from=seen))
    assert judged is not None
    assert (judged.expected_recent, judged.expected_seasonal, judged.expected) == (2.0, None, 2.0)
    unbounded = spike_of(HourCounts(hour_end=END, mentions=mentions))
    assert unbounded is not None
    assert unbounded.expected_recent == 0.0  # 21 unmeasured zeros would make it look worse
    first_hour = HourCounts(hour_end=END, mentions={_slot(): mentions[_slot()]}, history_from=START)
    assert spike_of(first_hour) is None  # no history at all: no judgement


# --- rising terms ------------------------------------------------------------------------


def _terms_case() -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    mentions = {_slot(h): {"count": 10} for h in range(1, 13)}
    terms = {_slot(h): {"common": 10} for h in range(1, 13)}
    mentions[_slot()] = {"count": 40}
    terms[_slot()] = {escape_field("a.b"): 20, "common": 40, "#tag": 45, "rare": 2}
    return mentions, terms


def test_rising_terms_compare_the_hour_with_the_12_before_and_unescape_names() -> None:
    mentions, terms = _terms_case()
    rising = rising_of(HourCounts(hour_end=END, mentions=mentions, terms=terms))
    # ``#tag`` counted 45 in an hour of 40 mentions (a read in the middle of a batch): clamped.
    assert [(r.term, r.current, r.baseline) for r in rising] == [("#tag", 40, 0), ("a.b", 20, 0)]


def test_a_term_busy_13_hours_ago_is_not_in_the_baseline() -> None:
    mentions, terms = _terms_case()
    mentions[_slot(13)] = {"count": 100}
    terms[_slot(13)] = {escape_field("a.b"): 100}
    rising = rising_of(HourCounts(hour_end=END, mentions=mentions, terms=terms))
    assert "a.b" in {r.term for r in rising}
    terms[_slot(12)] = {escape_field("a.b"): 10, "common": 10}  # but 12 hours ago it counts
    mentions[_slot(12)] = {"count": 10}
    rising = rising_of(HourCounts(hour_end=END, mentions=mentions, terms=terms))
    assert {r.term: r.baseline for r in rising}["a.b"] == 10


def test_rising_terms_need_a_baseline_within_the_brands_history() -> None:
    mentions, terms = _terms_case()
    counts = HourCounts(hour_end=END, mentions=mentions, terms=terms, history_from=START)
    assert rising_of(counts) == []
    assert (
        rising_of(HourCounts(hour_end=END, mentions=mentions, terms=terms), limit=1)
        == (rising_of(HourCounts(hour_end=END, mentions=mentions, terms=terms))[:1])
    )


def _rising(term: str, current: int, ratio: float) -> RisingTerm:
    return RisingTerm(term, current, 0, ratio, 100.0, 1e-20, 1e-18)


def test_rising_severity_is_medium_only_when_strong_and_frequent() -> None:
    assert rising_severity(_rising("x", 20, 4.0)) is Severity.MEDIUM
    assert rising_severity(_rising("x", 19, 50.0)) is Severity.LOW
    assert rising_severity(_rising("x", 200, 3.9)) is Severity.LOW


# --- explanations ------------------------------------------------------------------------


def test_top_terms_rank_by_count_then_code_point() -> None:
    counts = {"b": 3, "a": 3, "#z": 3, "c": 9, "zero": 0}
    assert top_terms(counts, 3) == [("c", 9), ("#z", 3), ("a", 3)]


def test_a_spike_detection_carries_its_explanation() -> None:
    mentions = _mentions(30, same_hour=[2] * 7, recent=[2] * 24)
    spike = spike_of(HourCounts(hour_end=END, mentions=mentions))
    assert spike is not None
    policy = EpisodePolicy(max_top_terms=2, max_sample_ids=2)
    samples = [SampledMention(f"m{i}", "vk") for i in range(5)]
    finding = spike_finding(
        "acme",
        END,
        spike,
        negative_terms={"refund": 12, "#outage": 20, "late": 3},
        networks=["x", "vk", "x"],
        samples=samples,
        policy=policy,
    )
    detection = finding.detection
    assert detection.key == EpisodeKey("acme", AlertKind.NEGATIVE_SPIKE, NEGATIVE_SUBJECT)
    assert (detection.at, detection.severity) == (END, Severity.CRITICAL)
    assert (detection.observed, detection.expected, detection.p_value) == (
        30.0,
        2.0,
        spike.p_value,
    )
    assert detection.explanation.top_terms == ("#outage", "refund")
    assert detection.explanation.sample_mention_ids == ("m0", "m1")
    assert detection.explanation.networks == ("vk", "x")
    assert finding.term_counts == {"#outage": 20, "refund": 12}


def test_rising_detections_put_their_term_first_and_sample_its_mentions() -> None:
    rising = [_rising("#outage", 40, 100.0), _rising("refund", 20, 4.0)]
    samples = {
        "#outage": [SampledMention("m1", "x"), SampledMention("m2", "vk")],
        "refund": [SampledMention("m3", "x")],
    }
    outage, refund = rising_findings("acme", END, rising, samples=samples)
    assert outage.detection.key == EpisodeKey("acme", AlertKind.RISING_TERM, "#outage")
    assert outage.detection.explanation.top_terms == ("#outage", "refund")
    assert refund.detection.explanation.top_terms == ("refund", "#outage")
    assert outage.detection.explanation.networks == ("vk", "x")
    assert refund.detection.explanation.sample_mention_ids == ("m3",)
    assert outage.detection.expected == pytest.approx(0.4)
    assert outage.detection.observed / outage.detection.expected == pytest.approx(100.0)
    assert (outage.detection.severity, refund.detection.severity) == (
        Severity.MEDIUM,
        Severity.MEDIUM,
    )
    assert refund.term_counts == {"refund": 20, "#outage": 40}
    assert rising_findings("acme", END, [], samples={}) == []
