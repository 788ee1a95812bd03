"""Business calendars: hours, overnight shifts, holidays, DST, working-time arithmetic, specs."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smm_responder.domain.calendars import (
    ALWAYS_OPEN,
    SEARCH_HORIZON_DAYS,
    BusinessCalendar,
    CalendarError,
    NoWorkingTimeError,
    OpenSpan,
    WorkingInterval,
    weekly,
)
from smm_shared.testing.json_properties import property_settings

pytestmark = pytest.mark.unit

WORKDAYS = ("mon", "tue", "wed", "thu", "fri")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def calendar(time_zone: str, week: dict[str, list[list[str]]], **extra: Any) -> BusinessCalendar:
    return BusinessCalendar.from_spec({"time_zone": time_zone, "week": week, **extra})


def office(time_zone: str, start: str, end: str, **extra: Any) -> BusinessCalendar:
    """Monday to Friday, one interval a day."""
    return calendar(time_zone, {day: [[start, end]] for day in WORKDAYS}, **extra)


#: Moscow is UTC+3 all year: 09:00 MSK is 06:00 UTC.
MOSCOW_SPLIT = calendar(
    "Europe/Moscow", {day: [["09:00", "13:00"], ["14:00", "18:00"]] for day in WORKDAYS}
)
#: Office hours plus a Friday night shift that ends on Saturday morning.
MOSCOW_NIGHT = calendar(
    "Europe/Moscow",
    {
        "mon": [["09:00", "18:00"]],
        "tue": [["09:00", "18:00"]],
        "wed": [["09:00", "18:00"]],
        "thu": [["09:00", "18:00"]],
        "fri": [["09:00", "18:00"], ["22:00", "06:00"]],
    },
)
MOSCOW_OFFICE = office("Europe/Moscow", "09:00", "18:00")
BERLIN_ROUND_THE_CLOCK = calendar(
    "Europe/Berlin", {day: [["00:00", "24:00"]] for day in (*WORKDAYS, "sat", "sun")}
)
NEW_YORK_ROUND_THE_CLOCK = calendar(
    "America/New_York", {day: [["00:00", "24:00"]] for day in (*WORKDAYS, "sat", "sun")}
)


# --- several intervals a day ------------------------------------------------------------------


def test_lunch_break_is_closed_and_intervals_are_half_open() -> None:
    monday = (2026, 6, 1)

    assert MOSCOW_SPLIT.is_open(utc(*monday, 9, 30))  # 12:30 MSK
    assert not MOSCOW_SPLIT.is_open(utc(*monday, 10, 0))  # 13:00 MSK: the morning has ended
    assert not MOSCOW_SPLIT.is_open(utc(*monday, 10, 30))
    assert MOSCOW_SPLIT.is_open(utc(*monday, 11, 0))  # 14:00 MSK
    assert not MOSCOW_SPLIT.is_open(utc(*monday, 5, 59))


def test_business_time_skips_the_lunch_break() -> None:
    start = utc(2026, 6, 1, 9, 30)  # Monday 12:30 MSK

    assert MOSCOW_SPLIT.add_business_time(start, timedelta(hours=1)) == utc(2026, 6, 1, 11, 30)
    assert MOSCOW_SPLIT.open_spans(utc(2026, 6, 1, 7), utc(2026, 6, 1, 12)) == [
        OpenSpan(utc(2026, 6, 1, 7), utc(2026, 6, 1, 10)),
        OpenSpan(utc(2026, 6, 1, 11), utc(2026, 6, 1, 12)),
    ]
    assert MOSCOW_SPLIT.business_time_between(utc(2026, 6, 1), utc(2026, 6, 2)) == timedelta(
        hours=8
    )


def test_time_added_at_the_end_of_a_span_ends_there_not_at_the_next_opening() -> None:
    # Monday 12:00 MSK + 1h is the end of the morning, 13:00 MSK, not 14:00 MSK.
    assert MOSCOW_SPLIT.add_business_time(utc(2026, 6, 1, 9), timedelta(hours=1)) == utc(
        2026, 6, 1, 10
    )


def test_touching_intervals_form_one_span() -> None:
    shifts = calendar("UTC", {"mon": [["09:00", "13:00"], ["13:00", "18:00"]]})

    assert shifts.open_spans(utc(2026, 6, 1), utc(2026, 6, 2)) == [
        OpenSpan(utc(2026, 6, 1, 9), utc(2026, 6, 1, 18))
    ]
    assert shifts.is_open(utc(2026, 6, 1, 13))


# --- overnight shifts -------------------------------------------------------------------------


def test_friday_night_shift_runs_past_midnight() -> None:
    assert MOSCOW_NIGHT.is_open(utc(2026, 6, 6, 0))  # Saturday 03:00 MSK
    assert not MOSCOW_NIGHT.is_open(utc(2026, 6, 6, 3))  # Saturday 06:00 MSK: shift over
    assert not MOSCOW_NIGHT.is_open(utc(2026, 6, 5, 18))  # Friday 21:00 MSK: not yet
    assert MOSCOW_NIGHT.open_spans(utc(2026, 6, 5, 17), utc(2026, 6, 6, 12)) == [
        OpenSpan(utc(2026, 6, 5, 19), utc(2026, 6, 6, 3))
    ]


def test_start_outside_hours_counts_from_the_night_shift() -> None:
    friday_evening = utc(2026, 6, 5, 15, 30)  # 18:30 MSK, between the two Friday intervals

    assert MOSCOW_NIGHT.next_open(friday_evening) == utc(2026, 6, 5, 19)
    # 22:00 + 2h = Saturday 00:00 MSK
    assert MOSCOW_NIGHT.add_business_time(friday_evening, timedelta(hours=2)) == utc(2026, 6, 5, 21)


def test_duration_longer_than_the_night_shift_continues_after_the_weekend() -> None:
    # 8h of night shift, then Monday 09:00 + 2h = 11:00 MSK.
    assert MOSCOW_NIGHT.add_business_time(utc(2026, 6, 5, 15, 30), timedelta(hours=10)) == utc(
        2026, 6, 8, 8
    )
    assert MOSCOW_NIGHT.business_time_between(utc(2026, 6, 5, 15), utc(2026, 6, 8, 8)) == timedelta(
        hours=10
    )


def test_a_closed_saturday_keeps_the_friday_night_shift() -> None:
    saturday_closed = calendar(
        "Europe/Moscow", {"fri": [["22:00", "06:00"]]}, closed_dates=["2026-06-06"]
    )
    friday_closed = calendar(
        "Europe/Moscow", {"fri": [["22:00", "06:00"]]}, closed_dates=["2026-06-05"]
    )

    assert saturday_closed.is_open(utc(2026, 6, 6, 0))
    assert not friday_closed.is_open(utc(2026, 6, 6, 0))
    assert friday_closed.next_open(utc(2026, 6, 5, 12)) == utc(2026, 6, 12, 19)


def test_sunday_night_shift_joins_monday_across_the_end_of_the_week() -> None:
    cycle = calendar("UTC", {"sun": [["22:00", "06:00"]], "mon": [["06:00", "14:00"]]})

    assert cycle.open_spans(utc(2026, 6, 7), utc(2026, 6, 9)) == [
        OpenSpan(utc(2026, 6, 7, 22), utc(2026, 6, 8, 14))
    ]


def test_a_24_hour_shift_is_written_with_equal_ends() -> None:
    shift = calendar("UTC", {"wed": [["09:00", "09:00"]]})

    assert shift.business_time_between(utc(2026, 6, 1), utc(2026, 6, 8)) == timedelta(hours=24)
    assert shift.is_open(utc(2026, 6, 4, 8, 59))
    assert not shift.is_open(utc(2026, 6, 4, 9))


# --- holidays and custom dates -----------------------------------------------------------------

RU_OFFICE = office("Europe/Moscow", "09:00", "18:00", holidays_country="RU")


def test_russian_new_year_holidays_close_the_office() -> None:
    assert not RU_OFFICE.is_working_date(date(2027, 1, 1))
    assert not RU_OFFICE.is_open(utc(2027, 1, 1, 9))  # Friday 12:00 MSK
    assert RU_OFFICE.is_open(utc(2027, 1, 11, 9))
    assert RU_OFFICE.next_open(utc(2026, 12, 30, 16)) == utc(2027, 1, 11, 6)


def test_duration_over_the_russian_new_year_spans_two_years() -> None:
    # Mon 28 - Wed 30 Dec = 27h; 31 Dec and 1-8 Jan are days off; Monday 11 Jan + 9h = 18:00 MSK.
    assert RU_OFFICE.add_business_time(utc(2026, 12, 28, 6), timedelta(hours=36)) == utc(
        2027, 1, 11, 15
    )
    assert RU_OFFICE.business_time_between(utc(2026, 12, 28), utc(2027, 1, 12)) == timedelta(
        hours=36
    )


def test_us_independence_day_and_its_observed_friday() -> None:
    new_york = office("America/New_York", "09:00", "17:00", holidays_country="US")

    assert not new_york.is_open(utc(2025, 7, 4, 16))  # Friday 12:00 EDT, 4 July 2025
    assert new_york.is_open(utc(2025, 7, 3, 16))
    # 2026: 4 July is a Saturday, observed on Friday 3 July. Thu 16:00 EDT + 2h:
    # 1h on Thursday, then Monday 09:00 EDT + 1h = 14:00 UTC.
    assert new_york.add_business_time(utc(2026, 7, 2, 20), timedelta(hours=2)) == utc(
        2026, 7, 6, 14
    )


def test_a_subdivision_adds_its_own_holidays() -> None:
    california = office(
        "America/Los_Angeles",
        "09:00",
        "17:00",
        holidays_country="US",
        holidays_subdivision="CA",
    )
    federal = office("America/Los_Angeles", "09:00", "17:00", holidays_country="US")
    cesar_chavez_day_noon = utc(2026, 3, 31, 19)  # Tuesday 12:00 PDT

    assert not california.is_open(cesar_chavez_day_noon)
    assert federal.is_open(cesar_chavez_day_noon)


def test_custom_closed_and_open_dates() -> None:
    custom = office(
        "Europe/Moscow",
        "09:00",
        "18:00",
        holidays_country="RU",
        closed_dates=["2026-12-30"],
        open_dates=["2027-01-08"],
    )

    assert not custom.is_open(utc(2026, 12, 30, 9))
    assert custom.is_open(utc(2027, 1, 8, 9))  # a holiday that is worked, Friday hours
    assert not custom.is_open(utc(2027, 1, 8, 16))  # 19:00 MSK: after Friday's hours
    assert not custom.is_open(utc(2027, 1, 7, 9))  # still a holiday
    # Tue 29 Dec 17:00 MSK + 2h: 1h on the 29th; the 30th is closed, 31 Dec - 7 Jan are days off.
    assert custom.add_business_time(utc(2026, 12, 29, 14), timedelta(hours=2)) == utc(2027, 1, 8, 7)


def test_an_open_date_on_a_weekend_uses_that_weekday_hours() -> None:
    weekend_open = office("UTC", "09:00", "17:00", open_dates=["2026-06-06"])

    assert not weekend_open.is_open(utc(2026, 6, 6, 12))  # Saturday has no intervals


# --- DST ---------------------------------------------------------------------------------------


def test_berlin_round_the_clock_days_last_23_and_25_hours() -> None:
    # Sunday 29 March 2026, 00:00 CET to Monday 00:00 CEST.
    assert BERLIN_ROUND_THE_CLOCK.business_time_between(
        utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)
    ) == timedelta(hours=23)
    # Sunday 25 October 2026, 00:00 CEST to Monday 00:00 CET.
    assert BERLIN_ROUND_THE_CLOCK.business_time_between(
        utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)
    ) == timedelta(hours=25)


def test_new_york_round_the_clock_days_last_23_and_25_hours() -> None:
    # Sunday 8 March 2026, 00:00 EST (05:00 UTC) to Monday 00:00 EDT (04:00 UTC).
    assert NEW_YORK_ROUND_THE_CLOCK.business_time_between(
        utc(2026, 3, 8, 5), utc(2026, 3, 9, 4)
    ) == timedelta(hours=23)
    # Sunday 1 November 2026, 00:00 EDT (04:00 UTC) to Monday 00:00 EST (05:00 UTC).
    assert NEW_YORK_ROUND_THE_CLOCK.business_time_between(
        utc(2026, 11, 1, 4), utc(2026, 11, 2, 5)
    ) == timedelta(hours=25)


def test_berlin_night_shift_over_the_changes_is_7_and_9_real_hours() -> None:
    nights = calendar("Europe/Berlin", {"sat": [["22:00", "06:00"]]})

    # Sat 22:00 CET (21:00 UTC) to Sun 06:00 CEST (04:00 UTC).
    assert nights.open_spans(utc(2026, 3, 28), utc(2026, 3, 30)) == [
        OpenSpan(utc(2026, 3, 28, 21), utc(2026, 3, 29, 4))
    ]
    # 5 real hours after 22:00 CET is 04:00 CEST, 02:00 UTC.
    assert nights.add_business_time(utc(2026, 3, 28, 21), timedelta(hours=5)) == utc(2026, 3, 29, 2)
    # Sat 22:00 CEST (20:00 UTC) to Sun 06:00 CET (05:00 UTC).
    assert nights.business_time_between(utc(2026, 10, 24), utc(2026, 10, 26)) == timedelta(hours=9)


def test_new_york_office_hours_follow_the_offset_over_a_weekend_change() -> None:
    new_york = office("America/New_York", "09:00", "17:00")

    # Fri 16:00 EST (21:00 UTC) + 2h: Monday 09:00 EDT (13:00 UTC) + 1h.
    assert new_york.add_business_time(utc(2026, 3, 6, 21), timedelta(hours=2)) == utc(
        2026, 3, 9, 14
    )
    # Fri 16:00 EDT (20:00 UTC) + 2h: Monday 09:00 EST (14:00 UTC) + 1h.
    assert new_york.add_business_time(utc(2026, 10, 30, 20), timedelta(hours=2)) == utc(
        2026, 11, 2, 15
    )


def test_an_opening_in_the_spring_forward_gap_moves_to_the_end_of_the_gap() -> None:
    berlin = calendar("Europe/Berlin", {"sun": [["02:30", "04:00"]]})
    new_york = calendar("America/New_York", {"sun": [["02:15", "03:15"]]})

    # 02:30 does not exist on 29 March in Berlin: the shift starts at 03:00 CEST (01:00 UTC).
    assert berlin.next_open(utc(2026, 3, 29, 0, 30)) == utc(2026, 3, 29, 1)
    assert berlin.open_spans(utc(2026, 3, 28), utc(2026, 3, 30)) == [
        OpenSpan(utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))
    ]
    # 02:15 does not exist on 8 March in New York: 03:00-03:15 EDT (07:00-07:15 UTC).
    assert new_york.open_spans(utc(2026, 3, 8), utc(2026, 3, 9)) == [
        OpenSpan(utc(2026, 3, 8, 7), utc(2026, 3, 8, 7, 15))
    ]


def test_an_interval_wholly_in_the_gap_is_empty_that_day() -> None:
    berlin = calendar("Europe/Berlin", {"sun": [["02:00", "02:45"]]})

    assert berlin.business_time_between(utc(2026, 3, 28), utc(2026, 3, 30)) == timedelta()
    # The next Sunday 02:00 CEST is 00:00 UTC.
    assert berlin.next_open(utc(2026, 3, 29)) == utc(2026, 4, 5)


def test_an_ambiguous_fall_back_time_is_its_first_occurrence() -> None:
    berlin = calendar("Europe/Berlin", {"sun": [["02:30", "03:30"]]})
    new_york = calendar("America/New_York", {"sun": [["01:30", "03:00"]]})

    # 02:30 CEST (00:30 UTC) to 03:30 CET (02:30 UTC): the repeated hour is worked twice.
    assert berlin.open_spans(utc(2026, 10, 24), utc(2026, 10, 26)) == [
        OpenSpan(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30))
    ]
    # 01:30 EDT (05:30 UTC) to 03:00 EST (08:00 UTC).
    assert new_york.open_spans(utc(2026, 11, 1), utc(2026, 11, 2)) == [
        OpenSpan(utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8))
    ]


def test_an_ordinary_office_day_on_a_dst_sunday_keeps_its_length() -> None:
    sunday_office = calendar("Europe/Berlin", {"sun": [["09:00", "18:00"]]})

    # 09:00 CEST is 07:00 UTC: the change at night does not touch the interval.
    assert sunday_office.open_spans(utc(2026, 3, 29), utc(2026, 3, 30)) == [
        OpenSpan(utc(2026, 3, 29, 7), utc(2026, 3, 29, 16))
    ]


# --- long durations, inputs and the search horizon --------------------------------------------


def test_forty_five_hours_end_on_friday_evening_and_forty_six_on_monday() -> None:
    monday_open = utc(2026, 6, 1, 6)

    assert MOSCOW_OFFICE.add_business_time(monday_open, timedelta(hours=45)) == utc(2026, 6, 5, 15)
    assert MOSCOW_OFFICE.add_business_time(monday_open, timedelta(hours=46)) == utc(2026, 6, 8, 7)


def test_a_year_of_office_hours() -> None:
    # 2027 has 261 weekdays (no holidays configured): 261 x 9h.
    assert MOSCOW_OFFICE.business_time_between(utc(2027, 1, 1), utc(2028, 1, 1)) == timedelta(
        hours=261 * 9
    )
    assert MOSCOW_OFFICE.add_business_time(utc(2027, 1, 1), timedelta(hours=261 * 9)) == utc(
        2027, 12, 31, 15
    )


def test_zero_duration_is_the_start_itself() -> None:
    saturday = utc(2026, 6, 6, 12)

    assert MOSCOW_OFFICE.add_business_time(saturday, timedelta()) == saturday


def test_next_open_of_an_open_instant_is_itself() -> None:
    assert MOSCOW_OFFICE.next_open(utc(2026, 6, 1, 7, 15)) == utc(2026, 6, 1, 7, 15)
    assert MOSCOW_OFFICE.next_open(utc(2026, 6, 1, 15)) == utc(2026, 6, 2, 6)


def test_instants_in_other_zones_are_accepted_and_results_are_utc() -> None:
    moscow_time = datetime(2026, 6, 1, 17, 0, tzinfo=ZoneInfo("Europe/Moscow"))

    result = MOSCOW_OFFICE.add_business_time(moscow_time, timedelta(hours=2))

    assert result == utc(2026, 6, 2, 7)
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    "call",
    [
        lambda c, naive: c.is_open(naive),
        lambda c, naive: c.next_open(naive),
        lambda c, naive: c.add_business_time(naive, timedelta(hours=1)),
        lambda c, naive: c.business_time_between(naive, utc(2026, 7, 1)),
        lambda c, naive: c.open_spans(utc(2026, 5, 1), naive),
    ],
)
def test_naive_datetimes_are_rejected(call: Any) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(MOSCOW_OFFICE, datetime(2026, 6, 1, 12))


def test_negative_durations_and_reversed_ranges_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        MOSCOW_OFFICE.add_business_time(utc(2026, 6, 1), timedelta(seconds=-1))
    with pytest.raises(ValueError, match="before start"):
        MOSCOW_OFFICE.business_time_between(utc(2026, 6, 2), utc(2026, 6, 1))


def test_a_week_without_hours_is_rejected_when_built() -> None:
    with pytest.raises(CalendarError, match="no working hours on any weekday"):
        calendar("Europe/Moscow", {})


def test_a_year_of_closed_dates_raises_instead_of_searching_forever() -> None:
    mondays_2026_2027 = [
        (date(2026, 1, 5) + timedelta(weeks=week)).isoformat() for week in range(105)
    ]
    closed = calendar("UTC", {"mon": [["09:00", "17:00"]]}, closed_dates=mondays_2026_2027)

    with pytest.raises(NoWorkingTimeError, match=f"no working time within {SEARCH_HORIZON_DAYS}"):
        closed.add_business_time(utc(2026, 1, 1), timedelta(minutes=1))
    with pytest.raises(NoWorkingTimeError):
        closed.next_open(utc(2026, 1, 1))
    # A bounded question has an answer: none.
    assert closed.business_time_between(utc(2026, 1, 1), utc(2027, 1, 1)) == timedelta()


def test_a_gap_shorter_than_the_horizon_is_searched_through() -> None:
    first_half_mondays = [
        (date(2026, 1, 5) + timedelta(weeks=week)).isoformat() for week in range(26)
    ]
    closed = calendar("UTC", {"mon": [["09:00", "17:00"]]}, closed_dates=first_half_mondays)

    assert closed.next_open(utc(2026, 1, 1)) == utc(2026, 7, 6, 9)
    # 8h on the first open Monday, then one more on the next.
    assert closed.add_business_time(utc(2026, 1, 1), timedelta(hours=9)) == utc(2026, 7, 13, 10)


# --- 24/7 --------------------------------------------------------------------------------------


def test_always_open_counts_every_instant() -> None:
    start = utc(2026, 12, 31, 23, 30)

    assert ALWAYS_OPEN.is_open(start)
    assert ALWAYS_OPEN.next_open(start) == start
    assert ALWAYS_OPEN.add_business_time(start, timedelta(hours=1)) == utc(2027, 1, 1, 0, 30)
    assert ALWAYS_OPEN.business_time_between(start, utc(2027, 1, 2)) == timedelta(
        hours=24, minutes=30
    )
    assert ALWAYS_OPEN.open_spans(start, utc(2027, 1, 2)) == [OpenSpan(start, utc(2027, 1, 2))]


def test_round_the_clock_week_still_closes_on_holidays() -> None:
    us = calendar(
        "America/New_York",
        {day: [["00:00", "24:00"]] for day in (*WORKDAYS, "sat", "sun")},
        holidays_country="US",
    )

    # 4 July 2025 00:00 EDT (04:00 UTC) to 5 July 00:00 EDT is closed.
    assert us.open_spans(utc(2025, 7, 3), utc(2025, 7, 6)) == [
        OpenSpan(utc(2025, 7, 3), utc(2025, 7, 4, 4)),
        OpenSpan(utc(2025, 7, 5, 4), utc(2025, 7, 6)),
    ]


# --- specs -------------------------------------------------------------------------------------

MOSCOW_SPEC: dict[str, Any] = {
    "time_zone": "Europe/Moscow",
    "week": {
        "mon": [["14:00", "18:00"], ["09:00", "13:00"]],
        "fri": [["22:00", "06:00"]],
    },
    "holidays_country": "RU",
    "holidays_subdivision": None,
    "closed_dates": ["2026-12-31", "2026-12-30"],
    "open_dates": [],
}


def test_spec_round_trip_normalises_order_and_lists_every_day() -> None:
    built = BusinessCalendar.from_spec(MOSCOW_SPEC)

    assert built.to_spec() == {
        "time_zone": "Europe/Moscow",
        "week": {
            "mon": [["09:00", "13:00"], ["14:00", "18:00"]],
            "tue": [],
            "wed": [],
            "thu": [],
            "fri": [["22:00", "06:00"]],
            "sat": [],
            "sun": [],
        },
        "holidays_country": "RU",
        "holidays_subdivision": None,
        "closed_dates": ["2026-12-30", "2026-12-31"],
        "open_dates": [],
        "always_open": False,
    }
    assert BusinessCalendar.from_spec(json.loads(json.dumps(built.to_spec()))) == built


def test_always_open_and_24_00_survive_the_round_trip() -> None:
    assert BusinessCalendar.from_spec(ALWAYS_OPEN.to_spec()) == ALWAYS_OPEN
    assert BERLIN_ROUND_THE_CLOCK.to_spec()["week"]["sun"] == [["00:00", "24:00"]]
    assert BusinessCalendar.from_spec(BERLIN_ROUND_THE_CLOCK.to_spec()) == BERLIN_ROUND_THE_CLOCK


def test_the_python_constructor_equals_the_spec() -> None:
    direct = BusinessCalendar(
        time_zone="Europe/Moscow",
        week=weekly({"mon": [("09:00", "13:00"), ("14:00", "18:00")], "fri": [("22:00", "06:00")]}),
        holidays_country="RU",
        closed_dates=frozenset({date(2026, 12, 30), date(2026, 12, 31)}),
    )

    assert direct == BusinessCalendar.from_spec(MOSCOW_SPEC)
    assert direct.week[0] == (WorkingInterval(540, 780), WorkingInterval(840, 1080))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "unknown time zone 'Mars/Olympus_Mons'"),
        ({"time_zone": "../etc/passwd"}, "unknown time zone '../etc/passwd'"),
        ({"time_zone": "Europe"}, "unknown time zone 'Europe'"),
        ({"time_zone": 3}, "time_zone must be a string"),
        ({"week": {"mon": [["25:00", "18:00"]]}}, r"week\.mon\[0\]: bad time '25:00'"),
        ({"week": {"mon": [["24:00", "18:00"]]}}, r"bad time '24:00'.*24:00 only as an end"),
        ({"week": {"mon": [["9h", "18:00"]]}}, "bad time '9h'"),
        ({"week": {"mon": [["09:00", "18:60"]]}}, "bad time '18:60'"),
        ({"week": {"mon": [["09:00"]]}}, r"week\.mon\[0\] must be a pair of times"),
        ({"week": {"mon": "09:00-18:00"}}, r"week\.mon must be a list of intervals"),
        ({"week": {"monday": [["09:00", "18:00"]]}}, "unknown weekday.*monday.*use mon, tue"),
        (
            {"week": {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}},
            "Monday 09:00-13:00 overlaps Monday 12:00-18:00",
        ),
        (
            {"week": {"fri": [["22:00", "06:00"]], "sat": [["05:00", "10:00"]]}},
            "Friday 22:00-06:00 overlaps Saturday 05:00-10:00",
        ),
        (
            {"week": {"sun": [["22:00", "06:00"]], "mon": [["05:30", "10:00"]]}},
            "Sunday 22:00-06:00 overlaps Monday 05:30-10:00",
        ),
        ({"holidays_country": "XX"}, "unknown holidays country 'XX'"),
        ({"holidays_country": "ru"}, "unknown holidays country 'ru'"),
        (
            {"holidays_country": "US", "holidays_subdivision": "ZZ"},
            "unknown holidays subdivision 'ZZ' of 'US'; known: .*CA",
        ),
        ({"holidays_country": None, "holidays_subdivision": "CA"}, "needs a holidays_country"),
        ({"closed_dates": ["2026-13-01"]}, "bad date '2026-13-01' in closed_dates"),
        ({"closed_dates": ["20261231"]}, "bad date '20261231' in closed_dates"),
        ({"open_dates": "2026-12-31"}, "open_dates must be a list of dates"),
        (
            {"closed_dates": ["2027-01-08"], "open_dates": ["2027-01-08"]},
            "both closed and open: 2027-01-08",
        ),
        ({"timezone": "UTC"}, "unknown calendar field.*timezone"),
        ({"always_open": True}, "an always-open calendar has no week, holidays_country"),
        ({"always_open": "yes"}, "always_open must be true or false"),
    ],
)
def test_bad_specs_say_what_is_wrong(change: dict[str, Any], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar.from_spec({**MOSCOW_SPEC, **change})


def test_a_spec_needs_a_time_zone_and_must_be_an_object() -> None:
    with pytest.raises(CalendarError, match="time_zone is required"):
        BusinessCalendar.from_spec({"week": {"mon": [["09:00", "18:00"]]}})
    with pytest.raises(CalendarError, match="must be an object"):
        BusinessCalendar.from_spec([["09:00", "18:00"]])


def test_calendar_errors_are_value_errors() -> None:
    assert issubclass(CalendarError, ValueError)
    assert issubclass(NoWorkingTimeError, CalendarError)


# --- properties --------------------------------------------------------------------------------

PROPERTY_CALENDARS = [
    MOSCOW_SPLIT,
    MOSCOW_NIGHT,
    RU_OFFICE,
    BERLIN_ROUND_THE_CLOCK,
    calendar(
        "Europe/Berlin",
        {
            "sat": [["22:00", "01:00"]],
            "sun": [["01:00", "02:30"], ["02:30", "04:00"], ["09:00", "18:00"]],
            "wed": [["09:00", "09:00"]],
        },
        holidays_country="DE",
        holidays_subdivision="BY",
    ),
    calendar(
        "America/New_York",
        {
            "mon": [["08:00", "12:00"], ["13:00", "17:00"]],
            "fri": [["20:00", "02:30"]],
            "sun": [["01:00", "03:00"]],
        },
        holidays_country="US",
        closed_dates=["2026-11-02"],
        open_dates=["2026-11-26"],
    ),
    ALWAYS_OPEN,
]
calendars = st.sampled_from(PROPERTY_CALENDARS)
# Two years that include both DST changes and the new-year holidays of each zone.
instants = st.integers(
    min_value=int(utc(2026, 1, 1).timestamp()), max_value=int(utc(2028, 1, 1).timestamp())
).map(lambda seconds: datetime.fromtimestamp(seconds, UTC))
durations = st.integers(min_value=1, max_value=400 * 3600).map(lambda s: timedelta(seconds=s))


@property_settings(max_examples=300)
@given(calendar_=calendars, start=instants, duration=durations)
def test_business_time_between_inverts_add_business_time(
    calendar_: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    end = calendar_.add_business_time(start, duration)

    assert calendar_.business_time_between(start, end) == duration
    # The earliest such instant: a moment earlier, the duration has not elapsed yet.
    assert calendar_.business_time_between(start, end - timedelta(microseconds=1)) < duration
    assert calendar_.is_open(end - timedelta(microseconds=1))


@property_settings(max_examples=200)
@given(calendar_=calendars, start=instants, length=durations)
def test_add_business_time_of_the_time_between_reaches_no_further(
    calendar_: BusinessCalendar, start: datetime, length: timedelta
) -> None:
    end = start + length
    between = calendar_.business_time_between(start, end)

    reached = calendar_.add_business_time(start, between)

    assert reached <= end
    assert calendar_.business_time_between(reached, end) == timedelta()


@property_settings(max_examples=200)
@given(
    calendar_=calendars,
    start=instants,
    length=st.integers(min_value=0, max_value=30 * 86400).map(lambda s: timedelta(seconds=s)),
    probes=st.lists(st.floats(min_value=0, max_value=1, exclude_max=True), max_size=8),
)
def test_open_spans_are_ordered_disjoint_and_agree_with_is_open(
    calendar_: BusinessCalendar, start: datetime, length: timedelta, probes: list[float]
) -> None:
    end = start + length

    spans = calendar_.open_spans(start, end)

    assert all(start <= span.start < span.end <= end for span in spans)
    assert all(first.end < second.start for first, second in itertools.pairwise(spans))
    micros = length // timedelta(microseconds=1)
    for fraction in probes if micros else []:
        probe = start + timedelta(microseconds=min(int(micros * fraction), micros - 1))
        inside = any(span.start <= probe < span.end for span in spans)
        assert calendar_.is_open(probe) == inside
    if spans:
        assert calendar_.next_open(start) == spans[0].start


#: Zones with unusual changes: 30-minute DST, negative DST, changes at midnight, odd offsets.
ODD_ZONES = [
    "Australia/Lord_Howe",
    "Europe/Dublin",
    "America/Santiago",
    "America/Havana",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Africa/Casablanca",
    "America/St_Johns",
]
ODD_WEEKS = [
    {day: [["00:00", "24:00"]] for day in (*WORKDAYS, "sat", "sun")},
    {day: [["00:30", "01:30"], ["08:00", "12:00"], ["23:30", "00:15"]] for day in WORKDAYS},
    {"sat": [["23:00", "03:00"]], "sun": [["03:00", "03:00"]]},
]


@property_settings(max_examples=150)
@given(
    zone=st.sampled_from(ODD_ZONES),
    start=instants,
    length=st.integers(min_value=0, max_value=60 * 86400).map(lambda s: timedelta(seconds=s)),
)
def test_a_round_the_clock_week_counts_every_real_second_in_any_zone(
    zone: str, start: datetime, length: timedelta
) -> None:
    round_the_clock = calendar(zone, ODD_WEEKS[0])

    assert round_the_clock.business_time_between(start, start + length) == length


@property_settings(max_examples=200)
@given(
    zone=st.sampled_from(ODD_ZONES),
    week=st.sampled_from(ODD_WEEKS[1:]),
    start=instants,
    duration=durations,
)
def test_the_inverse_holds_in_zones_with_odd_changes(
    zone: str, week: dict[str, list[list[str]]], start: datetime, duration: timedelta
) -> None:
    odd = calendar(zone, week)

    end = odd.add_business_time(start, duration)

    assert odd.business_time_between(start, end) == duration
    assert odd.is_open(end - timedelta(microseconds=1))
