"""The reputation index of a brand for a period: one number in [0, 100] and its parts.

Formula, exactly as implemented by :func:`reputation_index`.

Inputs for one brand and one period (and the period before it, of the same length):

* ``P``, ``N``, ``S``: positive, negative and all mentions *with a sentiment* in the period
  (``S`` counts positive, neutral, negative and mixed; ``unknown`` is left out);
  ``P'``, ``N'``, ``S'`` the same for the previous period.
* ``m``: the median first-response time of the period; ``T`` the target
  (:attr:`ReputationPolicy.first_response_target`, 1 hour by default).
* ``I``, ``D``, ``U``, ``W``: followed negative reviews whose follow-up ended in the period
  as improved, deleted, unchanged and worsened (``smm.review.outcome``).

Components (raw value -> normalised value in [0, 1]):

1. ``net_sentiment``: ``n = (P - N) / S`` in [-1, 1] -> ``(n + 1) / 2``.
   Missing when ``S = 0``.
2. ``sentiment_trend``: ``d = n - n'`` (with ``n' = (P' - N') / S'``) in [-2, 2]
   -> ``clamp(0.5 + d / (2 * K), 0, 1)`` with ``K`` = :attr:`ReputationPolicy.trend_full_scale`
   (0.5 by default: a gain of 0.5 in net sentiment scores 1, a loss of 0.5 scores 0,
   no change scores 0.5). Missing when ``S = 0`` or ``S' = 0`` or no previous period.
3. ``response_speed``: ``m`` in seconds -> ``1`` when ``m <= T``, else
   ``0.5 ** ((m - T) / T)`` (halves for every further ``T`` of delay: 2T -> 0.5,
   3T -> 0.25). Missing when there was no first response in the period.
4. ``recovery_rate``: ``r = (I + D) / (I + D + U + W)`` -> ``r``.
   Missing when no follow-up ended in the period.

Weights ``w`` (:class:`ReputationWeights`): net sentiment 40, trend 15, response speed 25,
recovery rate 20. With ``A`` the components that are not missing::

    score = 100 * sum(w_i * norm_i for i in A) / sum(w_i for i in A)

so a missing component's weight is shared out over the others in proportion to their
weights (``weight_used_i = w_i / sum(w_j for j in A)``; 0 for missing components). When
every component is missing (or the present ones all weigh 0) the score is ``None``: no
data is not a reputation of 0. The score is clamped to [0, 100] against float rounding
and not rounded; presentation rounds.

Properties the tests hold it to: the score is always in [0, 100]; with the same
components present, better sentiment (more positive or fewer negative mentions), a faster
median response or more recovered reviews never lower it. Adding data for a component
that was missing can move the score either way (it replaces the re-weighted average).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import ClassVar, Final

__all__ = [
    "DEFAULT_REPUTATION_POLICY",
    "Component",
    "ComponentScore",
    "ReputationIndex",
    "ReputationInputError",
    "ReputationInputs",
    "ReputationPolicy",
    "ReputationWeights",
    "ReviewOutcomes",
    "SentimentCounts",
    "reputation_index",
]


class ReputationInputError(ValueError):
    """Inputs that cannot describe a real period (negative counts, more parts than total)."""

    code: ClassVar[str] = "reputation.invalid_inputs"


class Component(StrEnum):
    """The parts of the reputation index, in the order they are reported."""

    NET_SENTIMENT = "net_sentiment"
    SENTIMENT_TREND = "sentiment_trend"
    RESPONSE_SPEED = "response_speed"
    RECOVERY_RATE = "recovery_rate"


@dataclass(frozen=True)
class SentimentCounts:
    """Mentions of a period by sentiment; ``total`` counts every mention with a sentiment."""

    positive: int = 0
    negative: int = 0
    total: int = 0

    def __post_init__(self) -> None:
        if min(self.positive, self.negative, self.total) < 0:
            raise ReputationInputError("sentiment counts must not be negative")
        if self.positive + self.negative > self.total:
            raise ReputationInputError("positive + negative cannot exceed the total")

    @property
    def net(self) -> float | None:
        """Net sentiment ``(positive - negative) / total`` in [-1, 1]; None without data."""
        if self.total == 0:
            return None
        return (self.positive - self.negative) / self.total


@dataclass(frozen=True)
class ReviewOutcomes:
    """How the follow-ups of negative reviews that ended in the period turned out."""

    improved: int = 0
    deleted: int = 0
    unchanged: int = 0
    worsened: int = 0

    def __post_init__(self) -> None:
        if min(self.improved, self.deleted, self.unchanged, self.worsened) < 0:
            raise ReputationInputError("review outcome counts must not be negative")

    @property
    def ended(self) -> int:
        """Follow-ups that ended, whatever the outcome."""
        return self.improved + self.deleted + self.unchanged + self.worsened

    @property
    def recovery_rate(self) -> float | None:
        """``(improved + deleted) / ended``; None when none ended."""
        if self.ended == 0:
            return None
        return (self.improved + self.deleted) / self.ended


@dataclass(frozen=True)
class ReputationInputs:
    """What the index is computed from, for one brand and one period."""

    sentiment: SentimentCounts = field(default_factory=SentimentCounts)
    #: The period before, of the same length; None when not available.
    previous_sentiment: SentimentCounts | None = None
    #: Median first-response time of the period; None when nothing was answered.
    median_first_response: timedelta | None = None
    reviews: ReviewOutcomes = field(default_factory=ReviewOutcomes)

    def __post_init__(self) -> None:
        if self.median_first_response is not None and self.median_first_response < timedelta(0):
            raise ReputationInputError("a response time cannot be negative")


@dataclass(frozen=True)
class ReputationWeights:
    """Nominal weights of the components (any non-negative numbers; shares are computed)."""

    net_sentiment: float = 40.0
    sentiment_trend: float = 15.0
    response_speed: float = 25.0
    recovery_rate: float = 20.0

    def __post_init__(self) -> None:
        values = (self.net_sentiment, self.sentiment_trend, self.response_speed, self.recovery_rate)
        if min(values) < 0 or sum(values) <= 0:
            raise ReputationInputError("weights must be non-negative and not all zero")

    def of(self, component: Component) -> float:
        """The nominal weight of ``component``."""
        return float(getattr(self, component.value))


@dataclass(frozen=True)
class ReputationPolicy:
    """The documented constants of the index."""

    weights: ReputationWeights = field(default_factory=ReputationWeights)
    first_response_target: timedelta = timedelta(hours=1)
    #: The change of net sentiment that saturates the trend component (to 0 or to 1).
    trend_full_scale: float = 0.5

    def __post_init__(self) -> None:
        if self.first_response_target <= timedelta(0):
            raise ReputationInputError("the first-response target must be positive")
        if self.trend_full_scale <= 0:
            raise ReputationInputError("the trend full scale must be positive")


DEFAULT_REPUTATION_POLICY: Final = ReputationPolicy()


@dataclass(frozen=True)
class ComponentScore:
    """One component as the API shows it."""

    component: Component
    #: net sentiment [-1, 1]; trend [-2, 2]; response speed in seconds; recovery rate [0, 1].
    raw: float | None
    #: In [0, 1]; None when missing.
    normalised: float | None
    #: The nominal weight from the policy.
    weight: float
    #: The share of the score this component got, in [0, 1]; 0 when missing.
    weight_used: float

    @property
    def missing(self) -> bool:
        """Whether there was no data for this component."""
        return self.normalised is None


@dataclass(frozen=True)
class ReputationIndex:
    """The index (None without any data) and every component behind it."""

    score: float | None
    components: tuple[ComponentScore, ...]

    @property
    def missing(self) -> tuple[Component, ...]:
        """Components without data, whose weight went to the others."""
        return tuple(c.component for c in self.components if c.missing)

    def component(self, which: Component) -> ComponentScore:
        """The score of one component."""
        return next(c for c in self.components if c.component is which)


def reputation_index(
    inputs: ReputationInputs, policy: ReputationPolicy = DEFAULT_REPUTATION_POLICY
) -> ReputationIndex:
    """The reputation index of one brand and period, with its components (see module doc)."""
    parts: list[tuple[Component, float | None, float | None]] = []

    net = inputs.sentiment.net
    parts.append((Component.NET_SENTIMENT, net, None if net is None else (net + 1) / 2))

    previous = inputs.previous_sentiment.net if inputs.previous_sentiment is not None else None
    if net is None or previous is None:
        parts.append((Component.SENTIMENT_TREND, None, None))
    else:
        delta = net - previous
        parts.append(
            (
                Component.SENTIMENT_TREND,
                delta,
                _clamp(0.5 + delta / (2 * policy.trend_full_scale)),
            )
        )

    median = inputs.median_first_response
    if median is None:
        parts.append((Component.RESPONSE_SPEED, None, None))
    else:
        seconds = median.total_seconds()
        target = policy.first_response_target.total_seconds()
        speed = 1.0 if seconds <= target else 0.5 ** ((seconds - target) / target)
        parts.append((Component.RESPONSE_SPEED, seconds, speed))

    rate = inputs.reviews.recovery_rate
    parts.append((Component.RECOVERY_RATE, rate, rate))

    present_weight = sum(
        policy.weights.of(component) for component, _, norm in parts if norm is not None
    )
    components = tuple(
        ComponentScore(
            component=component,
            raw=raw,
            normalised=norm,
            weight=policy.weights.of(component),
            weight_used=(
                policy.weights.of(component) / present_weight
                if norm is not None and present_weight > 0
                else 0.0
            ),
        )
        for component, raw, norm in parts
    )
    if present_weight <= 0:
        return ReputationIndex(score=None, components=components)
    weighted = sum(c.weight * c.normalised for c in components if c.normalised is not None)
    score = min(100.0, max(0.0, 100.0 * weighted / present_weight))
    return ReputationIndex(score=score, components=components)


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))
