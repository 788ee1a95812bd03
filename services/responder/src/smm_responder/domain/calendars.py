"""Business calendars: when a team works, and how much working time lies between two instants.

The rules, all pure (no I/O; ``zoneinfo`` and ``holidays`` only read packaged data):

* **Wall-clock hours, real seconds.** Working intervals are written in the calendar's local
  wall-clock time (``"09:00"``-``"18:00"``), but working time is measured in real elapsed
  seconds: every computation resolves local times to UTC instants first. A night shift
  00:00-08:00 that contains the spring-forward change is 7 real hours long, and 9 when it
  contains the fall-back change; 00:00-24:00 on those days is 23 or 25 hours.
* **Resolving a local time.** A local time resolves to the *first instant at which clocks in
  the zone read that time or later*. For an ordinary time this is the only instant. For an
  ambiguous time (the repeated hour after a fall-back change) it is the first occurrence, so
  an interval that spans the repeated hour works it twice. For a nonexistent time (in the
  spring-forward gap) it is the end of the gap: a shift written to start at 02:30 in
  Europe/Berlin on the spring-forward day starts at 03:00 CEST, and an interval lying wholly
  inside the gap is empty that day. The rule is monotonic, so intervals never overlap.
* **Intervals.** A day may have several intervals. An interval whose end is not after its
  start runs past midnight and ends the next day (``["22:00", "06:00"]``; ``["09:00",
  "09:00"]`` is a 24-hour shift); ``"24:00"`` is allowed as an end and means the next
  midnight, so ``["00:00", "24:00"]`` is a whole day. Intervals are half-open ``[start, end)``.
  No two intervals of the week may overlap, including an overnight interval with the next
  day's first interval; intervals that touch are one continuous span.
* **Dates.** An interval belongs to the local date on which it *starts*. A date is closed when
  it is in ``closed_dates``, or is a public holiday of ``holidays_country`` (and
  ``holidays_subdivision``) per the ``holidays`` package (observed days included, e.g. US
  Independence Day observed on a Friday) and is not in ``open_dates``. A closed date drops the
  intervals that start on it; a shift that started the evening before still runs to its end.
  An open date works that weekday's intervals, even though it is a holiday.
* **24/7.** ``always_open=True`` means every instant is working time (``ALWAYS_OPEN`` is the
  UTC one, for brands without a calendar); it takes no week, holidays or dates. A 24/7 week
  that still closes on holidays is written as ``["00:00", "24:00"]`` every day.
* **Instants.** Every function takes timezone-aware datetimes (any zone; naive ones raise
  ``ValueError``) and returns aware UTC datetimes.
* **Termination.** Searches walk day by day over the intervals, never minute by minute. A
  calendar without any weekly interval is rejected when built; a search that finds no working
  time within ``SEARCH_HORIZON_DAYS`` days (e.g. a year of closed dates) raises
  ``NoWorkingTimeError`` instead of looping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Final, NamedTuple, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

#: Weekday keys of a calendar spec, Monday first (``date.weekday()`` order).
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MINUTES_PER_DAY: Final = 24 * 60
_MINUTES_PER_WEEK: Final = 7 * _MINUTES_PER_DAY
#: How far past the last working time a search may look before the calendar counts as closed.
SEARCH_HORIZON_DAYS: Final = 366
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SPEC_FIELDS: Final = (
    "time_zone",
    "week",
    "holidays_country",
    "holidays_subdivision",
    "closed_dates",
    "open_dates",
    "always_open",
)
_DAY: Final = timedelta(days=1)


class CalendarError(ValueError):
    """A business calendar that cannot be built or used; the message says why, for a person."""


class NoWorkingTimeError(CalendarError):
    """No working time within ``SEARCH_HORIZON_DAYS`` days of the instant a search reached."""


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_time(text: str, *, as_end: bool = False) -> int:
    """Minutes after local midnight of ``"HH:MM"``; ``"24:00"`` only when ``as_end``."""
    match = _TIME.fullmatch(text)
    hours, minutes = (int(match[1]), int(match[2])) if match else (-1, -1)
    valid = 0 <= hours <= 23 and 0 <= minutes <= 59
    if as_end and (hours, minutes) == (24, 0):
        valid = True
    if not valid:
        allowed = "00:00 to 24:00" if as_end else "00:00 to 23:59 (24:00 only as an end)"
        raise CalendarError(f"bad time {text!r}: write HH:MM from {allowed}")
    return hours * 60 + minutes


@dataclass(frozen=True, slots=True, order=True)
class WorkingInterval:
    """One working interval of a weekday, in local wall-clock minutes after midnight.

    ``end_minute <= start_minute`` means the interval runs past midnight into the next day;
    ``end_minute == 1440`` is the next midnight ("24:00").
    """

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < _MINUTES_PER_DAY:
            raise CalendarError(
                f"an interval must start between 00:00 and 23:59, not minute {self.start_minute}"
            )
        if not 0 <= self.end_minute <= _MINUTES_PER_DAY:
            raise CalendarError(
                f"an interval must end between 00:00 and 24:00, not minute {self.end_minute}"
            )

    @classmethod
    def parse(cls, start: str, end: str) -> WorkingInterval:
        """The interval from ``"HH:MM"`` to ``"HH:MM"`` (``"24:00"`` allowed as the end)."""
        return cls(parse_time(start), parse_time(end, as_end=True))

    @property
    def overnight(self) -> bool:
        """Whether the interval ends on the next day."""
        return self.end_minute <= self.start_minute

    @property
    def minutes(self) -> int:
        """Wall-clock length in minutes (real length differs on a DST change)."""
        return self.end_minute - self.start_minute + (_MINUTES_PER_DAY if self.overnight else 0)

    def to_spec(self) -> list[str]:
        """``["HH:MM", "HH:MM"]`` as stored in a calendar spec."""
        return [_clock(self.start_minute), _clock(self.end_minute)]

    def label(self) -> str:
        """``"22:00-06:00"``, for messages."""
        return "-".join(self.to_spec())


class OpenSpan(NamedTuple):
    """A continuous stretch of working time, ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        """Real elapsed time of the span."""
        return self.end - self.start


class CalendarSpec(TypedDict):
    """A calendar as plain JSON-like data, the form an API stores."""

    time_zone: str
    week: dict[str, list[list[str]]]
    holidays_country: str | None
    holidays_subdivision: str | None
    closed_dates: list[str]
    open_dates: list[str]
    always_open: bool


_NO_WEEK: Final[tuple[tuple[WorkingInterval, ...], ...]] = ((),) * 7


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """When a team works: weekly local intervals, minus holidays and closed dates (module doc)."""

    time_zone: str = "UTC"
    #: Seven tuples of intervals, Monday first; stored sorted by start.
    week: tuple[tuple[WorkingInterval, ...], ...] = _NO_WEEK
    holidays_country: str | None = None
    holidays_subdivision: str | None = None
    closed_dates: frozenset[date] = frozenset()
    open_dates: frozenset[date] = frozenset()
    always_open: bool = False
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", _load_zone(self.time_zone))
        if len(self.week) != 7:
            raise CalendarError(f"a week has 7 days (Monday first), got {len(self.week)}")
        object.__setattr__(self, "week", tuple(tuple(sorted(day)) for day in self.week))
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))
        object.__setattr__(self, "open_dates", frozenset(self.open_dates))
        if self.always_open:
            extras = [
                name
                for name, value in (
                    ("week", any(self.week)),
                    ("holidays_country", self.holidays_country is not None),
                    ("holidays_subdivision", self.holidays_subdivision is not None),
                    ("closed_dates", bool(self.closed_dates)),
                    ("open_dates", bool(self.open_dates)),
                )
                if value
            ]
            if extras:
                raise CalendarError(
                    "an always-open calendar has no " + ", ".join(extras) + "; to close on "
                    'holidays, use ["00:00", "24:00"] every day instead'
                )
            return
        if not any(self.week):
            raise CalendarError(
                "the calendar has no working hours on any weekday; add intervals or use always_open"
            )
        _check_overlaps(self.week)
        _check_holidays(self.holidays_country, self.holidays_subdivision)
        both = sorted(self.closed_dates & self.open_dates)
        if both:
            raise CalendarError(
                "dates cannot be both closed and open: " + ", ".join(d.isoformat() for d in both)
            )

    # --- spec -------------------------------------------------------------------------------

    @classmethod
    def from_spec(cls, spec: object) -> BusinessCalendar:
        """The calendar described by a plain JSON-like ``spec`` (see ``CalendarSpec``).

        Missing weekdays are closed; missing optional fields take their defaults. Any problem
        raises ``CalendarError`` naming the field.
        """
        if not isinstance(spec, Mapping):
            raise CalendarError("a calendar spec must be an object")
        unknown = sorted(str(key) for key in spec if key not in _SPEC_FIELDS)
        if unknown:
            raise CalendarError(
                f"unknown calendar field(s): {', '.join(unknown)}; known: {', '.join(_SPEC_FIELDS)}"
            )
        if "time_zone" not in spec:
            raise CalendarError("time_zone is required, e.g. 'Europe/Moscow'")
        always_open = spec.get("always_open", False)
        if not isinstance(always_open, bool):
            raise CalendarError("always_open must be true or false")
        return cls(
            time_zone=_text(spec["time_zone"], "time_zone"),
            week=_week_from_spec(spec.get("week", {})),
            holidays_country=_optional_text(spec.get("holidays_country"), "holidays_country"),
            holidays_subdivision=_optional_text(
                spec.get("holidays_subdivision"), "holidays_subdivision"
            ),
            closed_dates=_dates_from_spec(spec.get("closed_dates", []), "closed_dates"),
            open_dates=_dates_from_spec(spec.get("open_dates", []), "open_dates"),
            always_open=always_open,
        )

    def to_spec(self) -> CalendarSpec:
        """The plain JSON-like form of the calendar; ``from_spec`` of it is an equal calendar."""
        return {
            "time_zone": self.time_zone,
            "week": {
                key: [interval.to_spec() for interval in day]
                for key, day in zip(WEEKDAYS, self.week, strict=True)
            },
            "holidays_country": self.holidays_country,
            "holidays_subdivision": self.holidays_subdivision,
            "closed_dates": sorted(d.isoformat() for d in self.closed_dates),
            "open_dates": sorted(d.isoformat() for d in self.open_dates),
            "always_open": self.always_open,
        }

    # --- queries ----------------------------------------------------------------------------

    def is_working_date(self, day: date) -> bool:
        """Whether intervals starting on local date ``day`` are worked (not closed, not a holiday)."""
        if self.always_open:
            return True
        if day in self.closed_dates:
            return False
        if day in self.open_dates or self.holidays_country is None:
            return True
        return day not in _holiday_dates(self.holidays_country, self.holidays_subdivision, day.year)

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls within working time (intervals are half-open)."""
        at = _utc(at, "at")
        if self.always_open:
            return True
        today = self._local_date(at)
        return any(
            span.start <= at < span.end
            for day in (today - _DAY, today)
            for span in self._day_spans(day)
        )

    def open_spans(self, start: datetime, end: datetime) -> list[OpenSpan]:
        """The working spans within ``[start, end)``, clipped, in order; touching spans merged."""
        start, end = _utc(start, "start"), _utc(end, "end")
        if end < start:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        if start == end:
            return []
        if self.always_open:
            return [OpenSpan(start, end)]
        spans: list[OpenSpan] = []
        day, last_day = self._local_date(start) - _DAY, self._local_date(end)
        while day <= last_day:
            for span in self._day_spans(day):
                clipped = OpenSpan(max(span.start, start), min(span.end, end))
                if clipped.start >= clipped.end:
                    continue
                if spans and spans[-1].end == clipped.start:
                    spans[-1] = OpenSpan(spans[-1].start, clipped.end)
                else:
                    spans.append(clipped)
            day += _DAY
        return spans

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time (real elapsed) within ``[start, end)``; ``end`` must not precede ``start``."""
        return sum((span.duration for span in self.open_spans(start, end)), timedelta())

    def next_open(self, at: datetime) -> datetime:
        """``at`` itself when open, else the start of the next working span after it."""
        at = _utc(at, "at")
        if self.always_open:
            return at
        for span in self._spans_from(at):
            return max(span.start, at)
        raise AssertionError("unreachable: _spans_from is endless or raises")  # pragma: no cover

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The first instant at which ``duration`` of working time has elapsed since ``start``.

        Counting starts at ``start`` if open, else at the next opening. The result lies in
        working time or is the end of a span (never a later opening): 1 hour added at 17:00 to
        a 09:00-18:00 day is 18:00. A zero duration returns ``start`` unchanged.
        ``business_time_between(start, result) == duration`` always holds.
        """
        start = _utc(start, "start")
        if duration < timedelta():
            raise ValueError(f"duration must not be negative, got {duration}")
        if duration == timedelta() or self.always_open:
            return start + duration
        remaining = duration
        for span in self._spans_from(start):
            available = span.end - max(span.start, start)
            if remaining <= available:
                return max(span.start, start) + remaining
            remaining -= available
        raise AssertionError("unreachable: _spans_from is endless or raises")  # pragma: no cover

    # --- internals --------------------------------------------------------------------------

    def _local_date(self, at: datetime) -> date:
        return at.astimezone(self._zone).date()

    def _instant(self, day: date, minute: int) -> datetime:
        """The UTC instant of local ``day`` + ``minute`` (1440 is the next midnight)."""
        if minute == _MINUTES_PER_DAY:
            day, minute = day + _DAY, 0
        wall = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
        return first_instant_reading(wall, self._zone)

    def _day_spans(self, day: date) -> list[OpenSpan]:
        """The UTC spans of the intervals starting on local ``day``, in order (none if closed)."""
        if not self.is_working_date(day):
            return []
        spans = []
        for interval in self.week[day.weekday()]:
            start = self._instant(day, interval.start_minute)
            end = self._instant(day + _DAY if interval.overnight else day, interval.end_minute)
            if end > start:  # empty when it lies wholly in a spring-forward gap
                spans.append(OpenSpan(start, end))
        return spans

    def _spans_from(self, at: datetime) -> Iterator[OpenSpan]:
        """The spans ending after ``at``, in order, endlessly; raises after a horizon of nothing."""
        day = self._local_date(at) - _DAY  # an overnight interval of yesterday may still run
        last_seen = day + _DAY
        while True:
            for span in self._day_spans(day):
                if span.end > at:
                    last_seen = day
                    yield span
            day += _DAY
            if (day - last_seen).days > SEARCH_HORIZON_DAYS:
                raise NoWorkingTimeError(
                    f"no working time within {SEARCH_HORIZON_DAYS} days after "
                    f"{last_seen.isoformat()} in {self.time_zone}: check the closed dates"
                )


def first_instant_reading(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first UTC instant at which clocks in ``zone`` read naive ``wall`` or later.

    An existing time maps to itself, an ambiguous one to its first occurrence, and a time in a
    spring-forward gap to the end of the gap (module doc).
    """
    earliest = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if earliest.astimezone(zone).replace(tzinfo=None) == wall:
        return earliest  # exists; fold=0 is the first occurrence of an ambiguous time
    # In a gap fold=0 applies the offset from before the change (an instant after the gap) and
    # fold=1 the offset from after it (an instant before): the change lies between them.
    before = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    after = int(earliest.timestamp())
    while after - before > 1:  # tzdata changes fall on whole seconds
        middle = (before + after) // 2
        reads = datetime.fromtimestamp(middle, zone).replace(tzinfo=None)
        before, after = (before, middle) if reads >= wall else (middle, after)
    return datetime.fromtimestamp(after, UTC)


def _utc(at: datetime, name: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {at.isoformat()}")
    return at.astimezone(UTC)


def _load_zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise CalendarError("time_zone must be an IANA name such as 'Europe/Moscow'")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError/OSError: keys that are paths, directories or non-zone files of tzdata.
        raise CalendarError(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/Moscow' or 'UTC'"
        ) from None


def _check_overlaps(week: tuple[tuple[WorkingInterval, ...], ...]) -> None:
    """Reject intervals that overlap anywhere on the weekly cycle, overnight ones included."""
    placed = sorted(
        (weekday * _MINUTES_PER_DAY + interval.start_minute, weekday, interval)
        for weekday, day in enumerate(week)
        for interval in day
    )
    for index, (start, weekday, interval) in enumerate(placed):
        if index + 1 < len(placed):
            next_start, next_day, next_interval = placed[index + 1]
        elif len(placed) > 1:  # the week's last interval against the first, a week later
            next_start, next_day, next_interval = placed[0]
            next_start += _MINUTES_PER_WEEK
        else:
            return
        if start + interval.minutes > next_start:
            raise CalendarError(
                f"{_DAY_NAMES[weekday]} {interval.label()} overlaps "
                f"{_DAY_NAMES[next_day]} {next_interval.label()}"
            )


def _check_holidays(country: str | None, subdivision: str | None) -> None:
    if country is None:
        if subdivision is not None:
            raise CalendarError("holidays_subdivision needs a holidays_country")
        return
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise CalendarError(
            f"unknown holidays country {country!r}: use an ISO 3166-1 alpha-2 code such as "
            "'RU' or 'US'"
        )
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError:
        known = ", ".join(supported[country]) or "none"
        raise CalendarError(
            f"unknown holidays subdivision {subdivision!r} of {country!r}; known: {known}"
        ) from None


@lru_cache(maxsize=256)
def _holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The public holidays (observed days included) of one year; empty outside the data's range."""
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise CalendarError(f"{name} must be a string")
    return value


def _optional_text(value: object, name: str) -> str | None:
    return None if value is None else _text(value, name)


def _week_from_spec(week: object) -> tuple[tuple[WorkingInterval, ...], ...]:
    if not isinstance(week, Mapping):
        raise CalendarError('week must be an object like {"mon": [["09:00", "18:00"]]}')
    unknown = sorted(str(key) for key in week if key not in WEEKDAYS)
    if unknown:
        raise CalendarError(
            f"unknown weekday(s) in week: {', '.join(unknown)}; use {', '.join(WEEKDAYS)}"
        )
    return tuple(_intervals_from_spec(week.get(key, []), f"week.{key}") for key in WEEKDAYS)


def _intervals_from_spec(intervals: object, where: str) -> tuple[WorkingInterval, ...]:
    if not isinstance(intervals, list | tuple):
        raise CalendarError(f'{where} must be a list of intervals like [["09:00", "18:00"]]')
    parsed = []
    for index, pair in enumerate(intervals):
        if not (
            isinstance(pair, list | tuple)
            and len(pair) == 2
            and all(isinstance(part, str) for part in pair)
        ):
            raise CalendarError(f'{where}[{index}] must be a pair of times like ["09:00", "18:00"]')
        try:
            parsed.append(WorkingInterval.parse(pair[0], pair[1]))
        except CalendarError as error:
            raise CalendarError(f"{where}[{index}]: {error}") from None
    return tuple(parsed)


def _dates_from_spec(values: object, name: str) -> frozenset[date]:
    if not isinstance(values, list | tuple):
        raise CalendarError(f'{name} must be a list of dates like ["2026-12-31"]')
    found = set()
    for value in values:
        try:
            if not (isinstance(value, str) and _DATE.fullmatch(value)):
                raise ValueError(value)
            found.add(date.fromisoformat(value))
        except ValueError:
            raise CalendarError(f"bad date {value!r} in {name}: write YYYY-MM-DD") from None
    return frozenset(found)


def weekly(
    hours: Mapping[str, Iterable[tuple[str, str]]],
) -> tuple[tuple[WorkingInterval, ...], ...]:
    """A ``week`` for ``BusinessCalendar`` from ``{"mon": [("09:00", "18:00")], ...}``."""
    return _week_from_spec({key: [list(pair) for pair in pairs] for key, pairs in hours.items()})


#: Every instant is working time; the calendar of brands that have none.
ALWAYS_OPEN: Final = BusinessCalendar(time_zone="UTC", always_open=True)
