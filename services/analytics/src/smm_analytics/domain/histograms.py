"""Mergeable fixed-bin histograms of durations (care metrics). Pure Python.

First-response, next-response and resolution times are folded into hour bucket
documents with ``$inc`` on per-bin counters; p50/p90/p95 for any range and any
team, agent or network then come from summing the stored documents. Addition of
integer counters is exact, associative and commutative, so the order and the
grouping in which buckets are summed never change a number.

Scheme ``log1.05-v1`` (``SCHEME``) -- the edges must never change once data
exists; a different layout gets a new scheme name and is never merged with this
one:

* bin ``0`` (underflow): ``[0 s, 1 s)``, zero included;
* bins ``1 .. 326``: bin ``i`` is ``[1.05**(i-1) s, 1.05**i s)``, except that the
  last one, ``326``, ends at exactly 90 days (``[1.05**325 s, 7_776_000 s)``);
* bin ``327`` (overflow): ``[90 days, +inf)``.

Each edge ``1.05**i`` is the exact rational ``(21/20)**i`` rounded once to the
nearest float, so it is the same on every platform (no ``libm`` ``pow``).

Stored form: a flat mapping of MongoDB field names (no dots) to integers,
``{"b17": 3, "b42": 1, "n": 4, "sum_ms": 98231}``. ``bK`` counts the observations in
bin ``K`` (zero bins are omitted), ``n`` is their total and ``sum_ms`` the exact sum
of the observations, each rounded to whole milliseconds, so the mean is exact to
0.5 ms and merges by ``$inc`` like the counters (an integer sum, unlike a float one,
does not depend on the order of the additions). Keep a histogram in its own
sub-document of the bucket (``$inc: {"frt.b17": 1, ...}``) and record ``SCHEME``
next to it. Reading refuses counters that cannot come from ``increments``: unknown
fields, ``n`` unequal to the bins' total, or a ``sum_ms`` its bins cannot produce.
Durations must be finite, in ``[0, MAX_SECONDS]`` (a century); anything else is an
``InvalidDurationError``.

Percentiles use the nearest rank ``k = ceil(q * n)`` (at least 1, see
``nearest_rank``); the estimate lies in the bin holding the ``k``-th smallest
observation, at the rank's midpoint position among that bin's ``c`` observations,
``f = (k - below - 0.5) / c``, interpolated geometrically in a regular bin
(``lo * (hi / lo) ** f``) and linearly in the underflow bin. Error bound, for the
exact nearest-rank value ``x``:

* ``1 s <= x < 90 days``: ``|estimate - x| <= 0.05 * x`` (``MAX_RELATIVE_ERROR``),
  because both lie in ``[lo, hi]`` with ``hi / lo <= 1.05``; a bin holding a single
  observation answers with its geometric midpoint, within ``sqrt(1.05) - 1`` ~ 2.5 %;
* ``x < 1 s``: ``|estimate - x| < 1 s``;
* ``x >= 90 days``: the estimate is ``90 days``, a lower bound (the overflow bin has
  no upper edge to interpolate to).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

SCHEME = "log1.05-v1"
RATIO = Fraction(21, 20)
MAX_RELATIVE_ERROR = 0.05
OVERFLOW_FROM = 90 * 24 * 3600.0
REGULAR_BINS = 326
UNDERFLOW_BIN = 0
OVERFLOW_BIN = REGULAR_BINS + 1
BIN_COUNT = REGULAR_BINS + 2
# Beyond a century a duration is a clock bug, not a slow reply; the cap also keeps
# ``sum_ms`` far inside MongoDB's int64 (millions of capped observations per bucket).
MAX_SECONDS = 100 * 365 * 24 * 3600.0

COUNT_KEY = "n"
SUM_KEY = "sum_ms"
_BIN_PREFIX = "b"

EDGES: tuple[float, ...] = (*(float(RATIO**i) for i in range(REGULAR_BINS)), OVERFLOW_FROM)
"""The lower edges of bins ``1 .. OVERFLOW_BIN`` (``EDGES[i]`` starts bin ``i + 1``)."""

_BIN_KEYS: tuple[str, ...] = tuple(f"{_BIN_PREFIX}{i}" for i in range(BIN_COUNT))
_BIN_OF_KEY: dict[str, int] = {key: i for i, key in enumerate(_BIN_KEYS)}
_SNAP = 1e-9


def _ms_limits(index: int) -> tuple[int, int]:
    """The whole milliseconds one observation in a bin can add to ``sum_ms``."""
    low = 0.0 if index == UNDERFLOW_BIN else EDGES[index - 1]
    high = MAX_SECONDS if index == OVERFLOW_BIN else EDGES[index]
    return math.floor(low * 1000), math.ceil(high * 1000)


# A stored sum outside the limits its bins allow was not made by ``increments``
# (seconds stored as ms, counters of two histograms mixed): refuse it, never chart it.
_MS_LIMITS: tuple[tuple[int, int], ...] = tuple(_ms_limits(i) for i in range(BIN_COUNT))


class HistogramError(ValueError):
    """Base of the errors of duration histograms."""


class InvalidDurationError(HistogramError):
    """A duration is negative, NaN, infinite or beyond ``MAX_SECONDS``."""


class InvalidQuantileError(HistogramError):
    """A quantile is not a number in ``[0, 1]``."""


class InvalidCountsError(HistogramError):
    """Stored counters do not form a histogram of this scheme."""


def _checked(seconds: float) -> float:
    if math.isnan(seconds) or seconds < 0 or seconds > MAX_SECONDS:
        raise InvalidDurationError(
            f"a duration must be between 0 and {MAX_SECONDS:.0f} seconds, got {seconds!r}"
        )
    return seconds


def bin_of(seconds: float) -> int:
    """The index of the bin a duration in seconds falls in."""
    return bisect_right(EDGES, _checked(seconds))


def bin_bounds(index: int) -> tuple[float, float]:
    """The half-open ``[low, high)`` interval of a bin, in seconds."""
    if not 0 <= index < BIN_COUNT:
        raise IndexError(f"bin {index} is outside 0..{BIN_COUNT - 1}")
    low = 0.0 if index == UNDERFLOW_BIN else EDGES[index - 1]
    high = math.inf if index == OVERFLOW_BIN else EDGES[index]
    return low, high


def bin_key(index: int) -> str:
    """The stored field name of a bin: ``b17``."""
    if not 0 <= index < BIN_COUNT:
        raise IndexError(f"bin {index} is outside 0..{BIN_COUNT - 1}")
    return _BIN_KEYS[index]


def is_histogram_key(key: str) -> bool:
    """Whether a stored field name belongs to a histogram (a bin, ``n`` or ``sum_ms``)."""
    return key in _BIN_OF_KEY or key in (COUNT_KEY, SUM_KEY)


def _milliseconds(seconds: float) -> int:
    return round(seconds * 1000)


def increments(seconds: float) -> dict[str, int]:
    """What one observation adds to a stored histogram: ``{"bK": 1, "n": 1, "sum_ms": ms}``."""
    return {_BIN_KEYS[bin_of(seconds)]: 1, COUNT_KEY: 1, SUM_KEY: _milliseconds(seconds)}


def nearest_rank(q: float, count: int) -> int:
    """The 1-based nearest rank of quantile ``q`` among ``count`` sorted values.

    ``ceil(q * count)``, at least 1; a product within a relative 1e-9 of an integer
    is taken as that integer, so ``0.07 * 100`` is rank 7 and not 8.
    """
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0 <= q <= 1:
        raise InvalidQuantileError(f"a quantile must be a number in [0, 1], got {q!r}")
    if count < 1:
        raise ValueError(f"no rank among {count} values")
    exact = q * count
    nearest = round(exact)
    if abs(exact - nearest) <= _SNAP * max(1.0, exact):
        exact = nearest
    return min(count, max(1, math.ceil(exact)))


def _estimate(index: int, position: float) -> float:
    """The value at ``position`` in ``(0, 1)`` of a bin: linear below 1 s, geometric above."""
    low, high = bin_bounds(index)
    if index == OVERFLOW_BIN:
        return low
    if index == UNDERFLOW_BIN:
        return low + (high - low) * position
    return min(high, max(low, low * math.pow(high / low, position)))


def _zeros() -> tuple[int, ...]:
    return (0,) * BIN_COUNT


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True, slots=True)
class Histogram:
    """An immutable histogram of durations: a count per bin and the exact sum in ms."""

    counts: tuple[int, ...] = field(default_factory=_zeros)
    sum_ms: int = 0
    count: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.counts) != BIN_COUNT:
            raise InvalidCountsError(f"{len(self.counts)} bins, the scheme has {BIN_COUNT}")
        if not all(_is_count(c) for c in self.counts) or not _is_count(self.sum_ms):
            raise InvalidCountsError("counts and sum_ms must be non-negative integers")
        lowest = sum(c * _MS_LIMITS[i][0] for i, c in enumerate(self.counts) if c)
        highest = sum(c * _MS_LIMITS[i][1] for i, c in enumerate(self.counts) if c)
        if not lowest <= self.sum_ms <= highest:
            raise InvalidCountsError(
                f"sum_ms {self.sum_ms} cannot come from these bins ({lowest}..{highest} ms)"
            )
        object.__setattr__(self, "count", sum(self.counts))

    def __repr__(self) -> str:
        sparse = {i: c for i, c in enumerate(self.counts) if c}
        return f"Histogram(count={self.count}, sum_ms={self.sum_ms}, bins={sparse})"

    @classmethod
    def of(cls, durations: Iterable[float]) -> Histogram:
        """A histogram of the given durations in seconds."""
        counts = [0] * BIN_COUNT
        total = 0
        for seconds in durations:
            counts[bin_of(seconds)] += 1
            total += _milliseconds(seconds)
        return cls(tuple(counts), total)

    @classmethod
    def from_counts(cls, counts: Mapping[str, int]) -> Histogram:
        """The histogram a stored mapping (``to_counts`` or summed ``increments``) holds."""
        return cls.merge_counts((counts,))

    @classmethod
    def merge_counts(cls, many: Iterable[Mapping[str, int]]) -> Histogram:
        """The sum of many stored mappings, e.g. every hour bucket of a range."""
        bins = [0] * BIN_COUNT
        total = 0
        for counts in many:
            if not counts:
                continue
            if COUNT_KEY not in counts or SUM_KEY not in counts:
                raise InvalidCountsError(f"stored counters lack {COUNT_KEY!r} or {SUM_KEY!r}")
            in_bins = 0
            for key, value in counts.items():
                if not _is_count(value):
                    raise InvalidCountsError(f"{key!r} is {value!r}, not a non-negative integer")
                if key == COUNT_KEY:
                    continue
                if key == SUM_KEY:
                    total += value
                elif (index := _BIN_OF_KEY.get(key)) is not None:
                    bins[index] += value
                    in_bins += value
                else:
                    raise InvalidCountsError(f"{key!r} is not a field of scheme {SCHEME}")
            if in_bins != counts[COUNT_KEY]:
                raise InvalidCountsError(
                    f"{COUNT_KEY!r} is {counts[COUNT_KEY]} but the bins hold {in_bins}"
                )
        return cls._checked_elsewhere(tuple(bins), total)

    @classmethod
    def _checked_elsewhere(cls, counts: tuple[int, ...], sum_ms: int) -> Histogram:
        """A histogram of bins ``merge_counts`` already checked field by field.

        Skips ``__post_init__``'s pass over all 328 bins (about 0.4 ms), which dominated
        series of per-slot percentiles; only the cheap sum bound is kept.
        """
        filled = [(i, c) for i, c in enumerate(counts) if c]
        lowest = sum(c * _MS_LIMITS[i][0] for i, c in filled)
        highest = sum(c * _MS_LIMITS[i][1] for i, c in filled)
        if not lowest <= sum_ms <= highest:
            raise InvalidCountsError(
                f"sum_ms {sum_ms} cannot come from these bins ({lowest}..{highest} ms)"
            )
        made = object.__new__(cls)
        object.__setattr__(made, "counts", counts)
        object.__setattr__(made, "sum_ms", sum_ms)
        object.__setattr__(made, "count", sum(counts))
        return made

    def to_counts(self) -> dict[str, int]:
        """The stored form: non-zero bins as ``bK``, plus ``n`` and ``sum_ms``."""
        stored = {_BIN_KEYS[i]: c for i, c in enumerate(self.counts) if c}
        stored[COUNT_KEY] = self.count
        stored[SUM_KEY] = self.sum_ms
        return stored

    def add(self, seconds: float) -> Histogram:
        """A new histogram with one more observation."""
        counts = list(self.counts)
        counts[bin_of(seconds)] += 1
        return Histogram(tuple(counts), self.sum_ms + _milliseconds(seconds))

    def merge(self, other: Histogram) -> Histogram:
        """A new histogram holding the observations of both."""
        return Histogram(
            tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)),
            self.sum_ms + other.sum_ms,
        )

    @property
    def mean(self) -> float | None:
        """The exact mean in seconds (to 0.5 ms), or None when empty."""
        return self.sum_ms / self.count / 1000 if self.count else None

    def percentile(self, q: float) -> float | None:
        """The estimated nearest-rank quantile ``q`` in ``[0, 1]`` in seconds, or None when empty."""
        estimates = self.percentiles((q,))
        return None if estimates is None else estimates[0]

    def percentiles(self, qs: Iterable[float]) -> tuple[float, ...] | None:
        """Estimates of several quantiles in one pass, in the order given; None when empty."""
        quantiles = list(qs)
        if not self.count:
            for q in quantiles:
                nearest_rank(q, 1)  # still refuse an invalid q on an empty histogram
            return None
        ranks = [nearest_rank(q, self.count) for q in quantiles]
        found: dict[int, float] = {}
        wanted = iter(sorted(set(ranks)))
        rank = next(wanted, None)
        for index, below, in_bin in self._cumulative():
            while rank is not None and rank <= below + in_bin:
                found[rank] = _estimate(index, (rank - below - 0.5) / in_bin)
                rank = next(wanted, None)
            if rank is None:
                break
        return tuple(found[r] for r in ranks)

    def _cumulative(self) -> Iterator[tuple[int, int, int]]:
        """Each non-empty bin with the number of observations below it and in it."""
        below = 0
        for index, in_bin in enumerate(self.counts):
            if in_bin:
                yield index, below, in_bin
                below += in_bin
