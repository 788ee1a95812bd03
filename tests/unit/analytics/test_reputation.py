"""The reputation index: worked examples by hand, bounds, monotonicity, missing parts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smm_analytics.domain.reputation import (
    Component,
    ReputationInputError,
    ReputationInputs,
    ReputationPolicy,
    ReputationWeights,
    ReviewOutcomes,
    SentimentCounts,
    reputation_index,
)

pytestmark = pytest.mark.unit

HOUR = timedelta(hours=1)


def test_worked_example_with_every_component() -> None:
    inputs = ReputationInputs(
        sentiment=SentimentCounts(positive=60, negative=20, total=100),
        previous_sentiment=SentimentCounts(positive=50, negative=30, total=100),
        median_first_response=2 * HOUR,
        reviews=ReviewOutcomes(improved=3, deleted=1, unchanged=3, worsened=1),
    )

    index = reputation_index(inputs)

    # net n = (60 - 20) / 100 = 0.4            -> (0.4 + 1) / 2        = 0.7
    # trend d = 0.4 - (50 - 30) / 100 = 0.2     -> 0.5 + 0.2 / (2*0.5)  = 0.7
    # speed m = 2 h, T = 1 h                    -> 0.5 ** ((2 - 1) / 1)  = 0.5
    # recovery (3 + 1) / 8 = 0.5                -> 0.5
    # score = 40*0.7 + 15*0.7 + 25*0.5 + 20*0.5 = 28 + 10.5 + 12.5 + 10 = 61 (of 100)
    assert index.score == pytest.approx(61.0)
    assert index.missing == ()
    expected = {
        Component.NET_SENTIMENT: (0.4, 0.7, 40.0, 0.40),
        Component.SENTIMENT_TREND: (0.2, 0.7, 15.0, 0.15),
        Component.RESPONSE_SPEED: (7200.0, 0.5, 25.0, 0.25),
        Component.RECOVERY_RATE: (0.5, 0.5, 20.0, 0.20),
    }
    assert [c.component for c in index.components] == list(expected)
    for component, (raw, normalised, weight, used) in expected.items():
        part = index.component(component)
        assert part.raw == pytest.approx(raw)
        assert part.normalised == pytest.approx(normalised)
        assert part.weight == weight
        assert part.weight_used == pytest.approx(used)
        assert not part.missing


def test_missing_components_are_reported_and_their_weight_shared_out() -> None:
    inputs = ReputationInputs(
        sentiment=SentimentCounts(positive=30, negative=10, total=80),
        median_first_response=timedelta(minutes=30),
    )

    index = reputation_index(inputs)

    # net n = 20 / 80 = 0.25 -> 0.625; speed 30 min <= 1 h -> 1.0; trend and recovery missing
    # score = 100 * (40*0.625 + 25*1.0) / (40 + 25) = 100 * 50 / 65 = 76.923...
    assert index.score == pytest.approx(5000 / 65)
    assert index.missing == (Component.SENTIMENT_TREND, Component.RECOVERY_RATE)
    assert index.component(Component.NET_SENTIMENT).weight_used == pytest.approx(40 / 65)
    assert index.component(Component.RESPONSE_SPEED).weight_used == pytest.approx(25 / 65)
    trend = index.component(Component.SENTIMENT_TREND)
    assert (trend.raw, trend.normalised, trend.weight, trend.weight_used) == (None, None, 15.0, 0)
    assert index.component(Component.RECOVERY_RATE).weight_used == 0


def test_response_speed_alone_halves_every_further_target_of_delay() -> None:
    ninety = reputation_index(ReputationInputs(median_first_response=timedelta(minutes=90)))
    three_hours = reputation_index(ReputationInputs(median_first_response=3 * HOUR))
    on_target = reputation_index(ReputationInputs(median_first_response=HOUR))

    assert ninety.score == pytest.approx(100 * 0.5**0.5)  # 70.71
    assert three_hours.score == pytest.approx(25.0)
    assert on_target.score == pytest.approx(100.0)
    assert ninety.component(Component.RESPONSE_SPEED).weight_used == 1.0


def test_the_target_comes_from_the_policy() -> None:
    policy = ReputationPolicy(first_response_target=timedelta(minutes=15))

    index = reputation_index(ReputationInputs(median_first_response=timedelta(minutes=30)), policy)

    assert index.score == pytest.approx(50.0)


def test_the_trend_saturates_at_the_full_scale() -> None:
    def trend(previous: SentimentCounts, current: SentimentCounts) -> float | None:
        inputs = ReputationInputs(sentiment=current, previous_sentiment=previous)
        return reputation_index(inputs).component(Component.SENTIMENT_TREND).normalised

    bad = SentimentCounts(positive=1, negative=3, total=4)  # n = -0.5
    good = SentimentCounts(positive=3, negative=1, total=4)  # n = +0.5
    flat = SentimentCounts(positive=2, negative=2, total=4)  # n = 0

    assert trend(bad, good) == 1.0  # d = +1 is beyond +0.5
    assert trend(good, bad) == 0.0
    assert trend(flat, flat) == 0.5
    assert trend(flat, SentimentCounts(positive=1, negative=0, total=4)) == pytest.approx(0.75)


def test_the_trend_needs_sentiment_in_both_periods() -> None:
    empty_before = ReputationInputs(
        sentiment=SentimentCounts(positive=1, negative=0, total=1),
        previous_sentiment=SentimentCounts(),
    )

    index = reputation_index(empty_before)

    assert index.missing == (
        Component.SENTIMENT_TREND,
        Component.RESPONSE_SPEED,
        Component.RECOVERY_RATE,
    )
    assert index.score == pytest.approx(100.0)  # n = 1 -> 1.0, the only component


def test_no_data_at_all_is_no_score_not_zero() -> None:
    index = reputation_index(ReputationInputs())

    assert index.score is None
    assert index.missing == tuple(Component)
    assert all(c.weight_used == 0 for c in index.components)


def test_present_components_of_zero_weight_give_no_score() -> None:
    policy = ReputationPolicy(weights=ReputationWeights(response_speed=0.0))

    index = reputation_index(ReputationInputs(median_first_response=HOUR), policy)

    assert index.score is None
    assert index.component(Component.RESPONSE_SPEED).normalised == 1.0


def test_custom_weights_are_used() -> None:
    policy = ReputationPolicy(
        weights=ReputationWeights(
            net_sentiment=1, sentiment_trend=0, response_speed=1, recovery_rate=0
        )
    )
    inputs = ReputationInputs(
        sentiment=SentimentCounts(positive=0, negative=10, total=10),  # n = -1 -> 0
        median_first_response=HOUR,  # -> 1
        reviews=ReviewOutcomes(improved=1),  # -> 1, weight 0
    )

    assert reputation_index(inputs, policy).score == pytest.approx(50.0)


def test_impossible_inputs_are_refused() -> None:
    with pytest.raises(ReputationInputError, match="exceed"):
        SentimentCounts(positive=5, negative=6, total=10)
    with pytest.raises(ReputationInputError, match="negative"):
        SentimentCounts(positive=-1, negative=0, total=0)
    with pytest.raises(ReputationInputError, match="negative"):
        ReviewOutcomes(worsened=-1)
    with pytest.raises(ReputationInputError, match="response time"):
        ReputationInputs(median_first_response=-HOUR)
    with pytest.raises(ReputationInputError, match="weights"):
        ReputationWeights(0, 0, 0, 0)
    with pytest.raises(ReputationInputError, match="target"):
        ReputationPolicy(first_response_target=timedelta(0))


# -- properties ---------------------------------------------------------------------------


@st.composite
def _counts(draw: st.DrawFn, min_total: int = 0) -> SentimentCounts:
    positive = draw(st.integers(0, 500))
    negative = draw(st.integers(0, 500))
    other = draw(st.integers(0, 500))
    if positive + negative + other < min_total:
        other = min_total
    return SentimentCounts(positive=positive, negative=negative, total=positive + negative + other)


_reviews = st.builds(
    ReviewOutcomes,
    improved=st.integers(0, 50),
    deleted=st.integers(0, 50),
    unchanged=st.integers(0, 50),
    worsened=st.integers(0, 50),
)
_median = st.none() | st.integers(0, 7 * 24 * 3600).map(lambda s: timedelta(seconds=s))
_inputs = st.builds(
    ReputationInputs,
    sentiment=_counts(),
    previous_sentiment=st.none() | _counts(),
    median_first_response=_median,
    reviews=_reviews,
)
_weights = (
    st.tuples(*[st.floats(0, 100) for _ in Component])
    .filter(lambda values: sum(values) > 0)
    .map(lambda values: ReputationWeights(*values))
)

_policies = st.builds(
    ReputationPolicy,
    weights=_weights,
    first_response_target=st.integers(1, 86_400).map(lambda s: timedelta(seconds=s)),
    trend_full_scale=st.floats(0.05, 2.0),
)


@settings(max_examples=300, deadline=None)
@given(inputs=_inputs, policy=_policies)
def test_the_score_is_always_between_0_and_100_and_the_weights_used_add_up(
    inputs: ReputationInputs, policy: ReputationPolicy
) -> None:
    index = reputation_index(inputs, policy)

    for part in index.components:
        assert part.normalised is None or 0.0 <= part.normalised <= 1.0
    if index.score is None:
        assert all(c.weight_used == 0 for c in index.components)
    else:
        assert 0.0 <= index.score <= 100.0
        assert sum(c.weight_used for c in index.components) == pytest.approx(1.0)


@settings(max_examples=300, deadline=None)
@given(
    inputs=_inputs,
    current=_counts(min_total=1),
    change=st.sampled_from(["negative_to_neutral", "neutral_to_positive", "add_positive"]),
)
def test_better_sentiment_never_lowers_the_score(
    inputs: ReputationInputs, current: SentimentCounts, change: str
) -> None:
    before = replace(inputs, sentiment=current)
    p, n, total = current.positive, current.negative, current.total
    if change == "negative_to_neutral" and n > 0:
        better = SentimentCounts(positive=p, negative=n - 1, total=total)
    elif change == "neutral_to_positive" and total > p + n:
        better = SentimentCounts(positive=p + 1, negative=n, total=total)
    else:
        better = SentimentCounts(positive=p + 1, negative=n, total=total + 1)
    after = replace(inputs, sentiment=better)

    old, new = reputation_index(before).score, reputation_index(after).score

    assert old is not None
    assert new is not None
    assert new >= old - 1e-9


@settings(max_examples=300, deadline=None)
@given(
    inputs=_inputs,
    seconds=st.lists(st.integers(0, 7 * 24 * 3600), min_size=2, max_size=2),
    policy=_policies,
)
def test_a_faster_response_never_lowers_the_score(
    inputs: ReputationInputs, seconds: list[int], policy: ReputationPolicy
) -> None:
    fast, slow = sorted(seconds)
    quick = replace(inputs, median_first_response=timedelta(seconds=fast))
    late = replace(inputs, median_first_response=timedelta(seconds=slow))

    quick_score = reputation_index(quick, policy).score
    late_score = reputation_index(late, policy).score

    assert (quick_score is None) == (late_score is None)
    if quick_score is not None and late_score is not None:
        assert quick_score >= late_score - 1e-9


@settings(max_examples=200, deadline=None)
@given(inputs=_inputs, extra=st.sampled_from(["improved", "deleted"]))
def test_turning_a_lost_review_into_a_recovered_one_never_lowers_the_score(
    inputs: ReputationInputs, extra: str
) -> None:
    reviews = inputs.reviews
    if reviews.unchanged + reviews.worsened == 0:
        reviews = replace(reviews, worsened=1)
    before = replace(inputs, reviews=reviews)
    if reviews.worsened > 0:
        moved = replace(reviews, worsened=reviews.worsened - 1)
    else:
        moved = replace(reviews, unchanged=reviews.unchanged - 1)
    moved = replace(moved, **{extra: getattr(moved, extra) + 1})
    after = replace(inputs, reviews=moved)

    old, new = reputation_index(before).score, reputation_index(after).score

    assert old is not None
    assert new is not None
    assert new >= old - 1e-9
