"""Duration histograms of care metrics: the fixed scheme, merging, storage form, percentiles."""

from __future__ import annotations

import hashlib
import json
import math
from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smm_analytics.domain.histograms import (
    BIN_COUNT,
    EDGES,
    MAX_RELATIVE_ERROR,
    MAX_SECONDS,
    OVERFLOW_BIN,
    OVERFLOW_FROM,
    SCHEME,
    UNDERFLOW_BIN,
    Histogram,
    InvalidCountsError,
    InvalidDurationError,
    InvalidQuantileError,
    bin_bounds,
    bin_key,
    bin_of,
    increments,
    is_histogram_key,
    nearest_rank,
)

pytestmark = pytest.mark.unit

DAY = 86_400.0
# Float rounding of the edges and of the interpolation; far below any error that matters.
SLACK = 1e-12

regular = st.floats(min_value=1.0, max_value=OVERFLOW_FROM, exclude_max=True)
durations = st.one_of(
    st.floats(min_value=0.0, max_value=1.0),
    regular,
    st.floats(min_value=0.0, max_value=MAX_SECONDS),
    st.sampled_from(EDGES),
    st.just(0.0),
)
samples = st.lists(durations, max_size=60)
quantiles = st.floats(min_value=0.0, max_value=1.0)


def exact_percentile(values: list[float], q: float) -> float:
    """The nearest-rank quantile of the raw observations, the reference the estimate is judged by."""
    return sorted(values)[nearest_rank(q, len(values)) - 1]


# --- the scheme ---------------------------------------------------------------------------------


def test_the_scheme_is_pinned() -> None:
    """Changing an edge would corrupt every stored histogram: this fails first."""
    digest = hashlib.sha256(",".join(map(repr, EDGES)).encode()).hexdigest()

    assert SCHEME == "log1.05-v1"
    assert BIN_COUNT == 328
    assert len(EDGES) == 327
    assert EDGES[:4] == (1.0, 1.05, 1.1025, 1.157625)
    assert EDGES[-1] == 90 * DAY == OVERFLOW_FROM
    assert digest == "1ce37f48e8a00cd06956fe767a96419a1e3a6a564f0c5a96b0d6fb43b425432c"


def test_regular_bins_are_at_most_five_percent_wide() -> None:
    ratios = [bin_bounds(i)[1] / bin_bounds(i)[0] for i in range(1, OVERFLOW_BIN)]

    assert max(ratios) - 1 <= MAX_RELATIVE_ERROR + SLACK
    assert min(ratios) > 1
    # Only the last regular bin is cut short, at exactly 90 days.
    assert sum(1 for r in ratios if r < 1.05 - 1e-9) == 1


def test_bins_tile_zero_to_infinity() -> None:
    assert bin_bounds(UNDERFLOW_BIN) == (0.0, 1.0)
    assert bin_bounds(OVERFLOW_BIN) == (90 * DAY, math.inf)
    for i in range(1, BIN_COUNT):
        assert bin_bounds(i)[0] == bin_bounds(i - 1)[1]


def test_landmark_durations_fall_in_their_bins() -> None:
    assert bin_of(0.0) == bin_of(-0.0) == bin_of(0.999) == UNDERFLOW_BIN
    assert bin_of(1.0) == 1
    assert bin_of(1.05) == 2
    assert bin_of(math.nextafter(90 * DAY, 0)) == OVERFLOW_BIN - 1
    assert bin_of(90 * DAY) == OVERFLOW_BIN
    assert bin_of(MAX_SECONDS) == OVERFLOW_BIN


def test_bin_keys_are_mongo_field_names() -> None:
    keys = [bin_key(i) for i in range(BIN_COUNT)]

    assert keys[0] == "b0"
    assert keys[-1] == "b327"
    assert len(set(keys)) == BIN_COUNT
    assert not any("." in k or k.startswith("$") for k in keys)
    assert all(is_histogram_key(k) for k in [*keys, "n", "sum_ms"])
    assert not any(is_histogram_key(k) for k in ("_id", "b328", "b017", "scheme"))


@pytest.mark.parametrize("index", [-1, BIN_COUNT])
def test_bins_outside_the_scheme_are_refused(index: int) -> None:
    with pytest.raises(IndexError):
        bin_bounds(index)
    with pytest.raises(IndexError):
        bin_key(index)


@settings(max_examples=300, deadline=None)
@given(seconds=durations)
def test_a_duration_lies_in_the_bounds_of_its_bin(seconds: float) -> None:
    low, high = bin_bounds(bin_of(seconds))

    assert low <= seconds < high


@settings(max_examples=300, deadline=None)
@given(a=durations, b=durations)
def test_bin_of_is_monotone(a: float, b: float) -> None:
    low, high = sorted((a, b))

    assert bin_of(low) <= bin_of(high)


@pytest.mark.parametrize(
    "seconds", [-1.0, -1e-9, math.nan, math.inf, -math.inf, MAX_SECONDS * 1.0001, 1e300]
)
def test_invalid_durations_are_refused_everywhere(seconds: float) -> None:
    with pytest.raises(InvalidDurationError):
        bin_of(seconds)
    with pytest.raises(InvalidDurationError):
        increments(seconds)
    with pytest.raises(InvalidDurationError):
        Histogram().add(seconds)
    with pytest.raises(InvalidDurationError):
        Histogram.of([5.0, seconds])
    assert issubclass(InvalidDurationError, ValueError)


# --- storage form and merging -------------------------------------------------------------------


def test_increments_is_one_observation() -> None:
    assert increments(61.2) == {"b85": 1, "n": 1, "sum_ms": 61_200}
    assert increments(0.0) == {"b0": 1, "n": 1, "sum_ms": 0}
    assert increments(100 * DAY) == {"b327": 1, "n": 1, "sum_ms": 8_640_000_000}


@settings(max_examples=200, deadline=None)
@given(values=samples)
def test_summing_increments_like_mongo_inc_gives_the_histogram(values: list[float]) -> None:
    document: dict[str, int] = {}
    for seconds in values:
        for key, by in increments(seconds).items():
            document[key] = document.get(key, 0) + by

    assert Histogram.from_counts(document) == Histogram.of(values)
    assert Histogram.of(values).to_counts() == ({"n": 0, "sum_ms": 0} | document)


@settings(max_examples=200, deadline=None)
@given(values=samples)
def test_counts_round_trip(values: list[float]) -> None:
    histogram = Histogram.of(values)
    stored = json.loads(json.dumps(histogram.to_counts()))

    assert Histogram.from_counts(stored) == histogram
    assert histogram.count == len(values) == stored["n"]
    assert all(v > 0 for k, v in stored.items() if k.startswith("b"))


@settings(max_examples=200, deadline=None)
@given(a=samples, b=samples, c=samples)
def test_merge_is_associative_commutative_and_equals_one_histogram(
    a: list[float], b: list[float], c: list[float]
) -> None:
    ha, hb, hc = Histogram.of(a), Histogram.of(b), Histogram.of(c)
    everything = Histogram.of(a + b + c)

    assert ha.merge(hb) == hb.merge(ha)
    assert ha.merge(hb).merge(hc) == ha.merge(hb.merge(hc)) == everything
    assert ha.merge(Histogram()) == ha
    assert (
        Histogram.merge_counts([ha.to_counts(), {}, hb.to_counts(), hc.to_counts()]) == everything
    )
    assert everything.percentiles((0.5, 0.9, 0.95)) == (
        hc.merge(ha).merge(hb).percentiles((0.5, 0.9, 0.95))
    )


@settings(max_examples=200, deadline=None)
@given(values=samples)
def test_add_one_at_a_time_equals_of(values: list[float]) -> None:
    assert reduce(Histogram.add, values, Histogram()) == Histogram.of(values)


def test_the_mean_is_exact_to_the_millisecond() -> None:
    histogram = Histogram.of([0.0, 1.5, 60.0, 3_600.25])

    assert histogram.mean == pytest.approx((0.0 + 1.5 + 60.0 + 3_600.25) / 4, abs=5e-4)
    assert histogram.sum_ms == 3_661_750


@settings(max_examples=200, deadline=None)
@given(values=st.lists(durations, min_size=1, max_size=60))
def test_the_mean_is_within_half_a_millisecond(values: list[float]) -> None:
    mean = Histogram.of(values).mean

    assert mean is not None
    assert abs(mean - math.fsum(values) / len(values)) <= 5e-4 + 1e-9 * max(values)


@pytest.mark.parametrize(
    ("counts", "complaint"),
    [
        ({"b3": 1, "n": 1, "sum_ms": 1_100, "_id": 7}, "'_id' is not a field"),
        ({"b328": 1, "n": 1, "sum_ms": 1}, "'b328' is not a field"),
        ({"b03": 1, "n": 1, "sum_ms": 1_100}, "'b03' is not a field"),
        ({"b3": -1, "n": -1, "sum_ms": 0}, "not a non-negative integer"),
        ({"b3": 1.0, "n": 1, "sum_ms": 1_100}, "not a non-negative integer"),
        ({"b3": True, "n": 1, "sum_ms": 1_100}, "not a non-negative integer"),
        ({"b3": 2, "n": 1, "sum_ms": 2_200}, "'n' is 1 but the bins hold 2"),
        ({"b3": 1, "sum_ms": 1_100}, "lack"),
        ({"b3": 1, "n": 1}, "lack"),
        ({"n": 0, "sum_ms": 5}, "cannot come from these bins"),
        # 61 s stored as seconds instead of milliseconds
        ({"b85": 1, "n": 1, "sum_ms": 61}, "cannot come from these bins"),
    ],
)
def test_counters_that_increments_cannot_make_are_refused(
    counts: dict[str, int], complaint: str
) -> None:
    with pytest.raises(InvalidCountsError, match=complaint):
        Histogram.from_counts(counts)


def test_a_histogram_of_another_layout_is_refused() -> None:
    with pytest.raises(InvalidCountsError, match="bins"):
        Histogram(counts=(0,) * (BIN_COUNT - 1))


# --- percentiles --------------------------------------------------------------------------------


def test_an_empty_histogram_has_no_statistics() -> None:
    empty = Histogram.from_counts({})

    assert empty == Histogram() == Histogram.of([])
    assert empty.count == 0
    assert empty.percentile(0.5) is None
    assert empty.percentiles((0.5, 0.9)) is None
    assert empty.mean is None
    assert empty.to_counts() == {"n": 0, "sum_ms": 0}


def test_one_value_is_every_percentile_within_its_bins_midpoint() -> None:
    histogram = Histogram().add(300.0)
    low, high = bin_bounds(bin_of(300.0))
    midpoint = math.sqrt(low * high)

    assert histogram.percentiles((0.0, 0.5, 1.0)) == (midpoint, midpoint, midpoint)
    assert abs(midpoint - 300.0) / 300.0 <= math.sqrt(1.05) - 1
    assert histogram.mean == 300.0


def test_zero_seconds_is_estimated_below_one_second() -> None:
    histogram = Histogram.of([0.0, 0.0, 0.0, 0.0])

    estimates = histogram.percentiles((0.0, 0.5, 1.0))

    assert estimates is not None
    assert all(0.0 <= e < 1.0 for e in estimates)
    assert histogram.mean == 0.0


def test_durations_beyond_ninety_days_report_ninety_days_as_a_floor() -> None:
    histogram = Histogram.of([60.0, 200 * DAY, 10 * 365 * DAY])

    assert histogram.percentile(1.0) == 90 * DAY
    assert histogram.percentile(0.5) == 90 * DAY
    assert histogram.percentile(0.0) == pytest.approx(60.0, rel=MAX_RELATIVE_ERROR)
    assert histogram.to_counts()["b327"] == 2


def test_known_percentiles_of_a_response_time_sample() -> None:
    # 100 replies: 1..100 minutes. Nearest rank: p50 = 50 min, p90 = 90 min, p95 = 95 min.
    histogram = Histogram.of([60.0 * m for m in range(1, 101)])

    p50, p90, p95 = histogram.percentiles((0.5, 0.9, 0.95)) or (0.0, 0.0, 0.0)

    assert p50 == pytest.approx(3_000.0, rel=MAX_RELATIVE_ERROR)
    assert p90 == pytest.approx(5_400.0, rel=MAX_RELATIVE_ERROR)
    assert p95 == pytest.approx(5_700.0, rel=MAX_RELATIVE_ERROR)
    assert histogram.percentile(0.0) == pytest.approx(60.0, rel=MAX_RELATIVE_ERROR)
    assert histogram.percentile(1.0) == pytest.approx(6_000.0, rel=MAX_RELATIVE_ERROR)


@pytest.mark.parametrize("q", [-0.01, 1.01, 95, math.nan, math.inf, True])
def test_invalid_quantiles_are_refused_even_when_empty(q: float) -> None:
    for histogram in (Histogram(), Histogram.of([1.0, 2.0])):
        with pytest.raises(InvalidQuantileError):
            histogram.percentile(q)
        with pytest.raises(InvalidQuantileError):
            histogram.percentiles((0.5, q))


@pytest.mark.parametrize(
    ("q", "count", "rank"),
    [
        (0.0, 10, 1),
        (1.0, 10, 10),
        (0.5, 3, 2),
        (0.5, 4, 2),
        (0.07, 100, 7),  # 0.07 * 100 == 7.000000000000001 in floats
        (0.95, 20, 19),
        (0.951, 20, 20),
        (0.9, 1, 1),
    ],
)
def test_nearest_rank(q: float, count: int, rank: int) -> None:
    assert nearest_rank(q, count) == rank


@settings(max_examples=400, deadline=None)
@given(values=st.lists(durations, min_size=1, max_size=300), q=quantiles)
def test_an_estimate_is_within_the_documented_error(values: list[float], q: float) -> None:
    exact = exact_percentile(values, q)
    estimate = Histogram.of(values).percentile(q)

    assert estimate is not None
    if exact < 1.0:
        assert 0.0 <= estimate < 1.0
    elif exact < OVERFLOW_FROM:
        assert abs(estimate - exact) <= (MAX_RELATIVE_ERROR + SLACK) * exact
    else:
        assert estimate == OVERFLOW_FROM <= exact


@settings(max_examples=400, deadline=None)
@given(values=st.lists(regular, min_size=1, max_size=300), q=quantiles)
def test_the_relative_error_is_bounded_from_one_second_to_ninety_days(
    values: list[float], q: float
) -> None:
    exact = exact_percentile(values, q)
    estimate = Histogram.of(values).percentile(q)

    assert estimate is not None
    assert abs(estimate - exact) <= (MAX_RELATIVE_ERROR + SLACK) * exact


@settings(max_examples=300, deadline=None)
@given(values=st.lists(durations, min_size=1, max_size=100), qs=st.lists(quantiles, min_size=1))
def test_percentiles_are_monotone_in_q_and_match_one_at_a_time(
    values: list[float], qs: list[float]
) -> None:
    histogram = Histogram.of(values)
    ordered = sorted(qs)

    estimates = histogram.percentiles(ordered)

    assert estimates is not None
    assert list(estimates) == sorted(estimates)
    assert list(estimates) == [histogram.percentile(q) for q in ordered]
    assert histogram.percentiles(qs) == tuple(histogram.percentile(q) for q in qs)
