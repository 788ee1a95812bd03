"""SLA targets, policies and the business-time clock of one metric on one case."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smm_responder.domain.calendars import ALWAYS_OPEN, BusinessCalendar
from smm_responder.domain.sla import (
    ClockEvent,
    ClockStatus,
    SlaClock,
    SlaError,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
)

pytestmark = pytest.mark.unit

#: Monday to Friday, 09:00-18:00 Moscow time (UTC+3 all year): 09:00 MSK is 06:00 UTC.
OFFICE = BusinessCalendar.from_spec(
    {
        "time_zone": "Europe/Moscow",
        "week": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    }
)
FIRST = SlaMetric.FIRST_RESPONSE
MINUTE = timedelta(minutes=1)


def utc(day: int, hour: int, minute: int = 0, second: int = 0, ms: int = 0) -> datetime:
    """An instant in June 2026 (1 June is a Monday)."""
    return datetime(2026, 6, day, hour, minute, second, ms * 1000, tzinfo=UTC)


def target(minutes: float, **warning: Any) -> SlaTarget:
    return SlaTarget(FIRST, timedelta(minutes=minutes), **warning)


def started(sla: SlaTarget, at: datetime, calendar: BusinessCalendar = ALWAYS_OPEN) -> SlaClock:
    return SlaClock.start(sla, calendar=calendar, now=at).clock


# --- targets -----------------------------------------------------------------------------------


def test_metrics_are_stored_as_their_names() -> None:
    assert [metric.value for metric in SlaMetric] == [
        "first_response",
        "next_response",
        "resolution",
        "time_to_assignment",
        "department_response",
    ]


def test_warn_percent_and_warn_before_give_the_warning_point() -> None:
    assert target(10, warn_percent=80).warn_after == timedelta(minutes=8)
    assert target(10, warn_before=timedelta(minutes=2)).warn_after == timedelta(minutes=8)
    assert target(10, warn_before=timedelta(minutes=7)).warn_after == timedelta(minutes=3)
    assert target(10).warn_after is None
    # 33% of one second, rounded down to the millisecond.
    assert SlaTarget(FIRST, timedelta(seconds=1), warn_percent=33).warn_after == timedelta(
        milliseconds=330
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"target": timedelta()}, "target must be positive"),
        ({"target": -MINUTE}, "target must be positive"),
        ({"target": timedelta(microseconds=1500)}, "whole number of milliseconds"),
        ({"warn_percent": 80, "warn_before": MINUTE}, "not both"),
        ({"warn_percent": 100}, "from 1 to 99"),
        ({"warn_percent": 0}, "from 1 to 99"),
        ({"warn_percent": True}, "from 1 to 99"),
        ({"warn_before": timedelta(minutes=10)}, "less than the first_response target"),
        ({"warn_before": timedelta(minutes=11)}, "less than the first_response target"),
        ({"warn_before": timedelta()}, "more than zero"),
        ({"target": timedelta(milliseconds=10), "warn_percent": 5}, "too short to warn at 5%"),
    ],
)
def test_bad_targets_say_what_is_wrong(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(SlaError, match=message):
        SlaTarget(**{"metric": FIRST, "target": timedelta(minutes=10), **arguments})


# --- policies ----------------------------------------------------------------------------------


def test_a_policy_finds_its_target_per_metric() -> None:
    first = target(10, warn_percent=80)
    resolution = SlaTarget(SlaMetric.RESOLUTION, timedelta(hours=8))
    policy = SlaPolicy(id="p1", name="Care", targets=(first, resolution))

    assert policy.target(FIRST) is first
    assert policy.target(SlaMetric.RESOLUTION) is resolution
    assert policy.target(SlaMetric.NEXT_RESPONSE) is None
    assert policy.pause_when_pending_customer is True


def test_a_policy_resolves_its_calendar_or_the_default() -> None:
    calendars = {"office": OFFICE}
    named = SlaPolicy(id="p1", name="Care", targets=(target(10),), calendar_id="office")
    unnamed = SlaPolicy(id="p2", name="Night", targets=(target(10),))
    missing = SlaPolicy(id="p3", name="Lost", targets=(target(10),), calendar_id="gone")

    assert named.resolve_calendar(calendars) is OFFICE
    assert unnamed.resolve_calendar(calendars) is ALWAYS_OPEN
    assert unnamed.resolve_calendar(calendars, default=OFFICE) is OFFICE
    with pytest.raises(SlaError, match="calendar 'gone', which does not exist"):
        missing.resolve_calendar(calendars)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"targets": (target(10), target(20))}, "two first_response targets"),
        ({"targets": ()}, "has no targets"),
        ({"id": " "}, "needs an id"),
        ({"name": ""}, "needs a name"),
        ({"calendar_id": ""}, "calendar_id must be"),
    ],
)
def test_bad_policies_say_what_is_wrong(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(SlaError, match=message):
        SlaPolicy(**{"id": "p1", "name": "Care", "targets": (target(10),), **arguments})


# --- starting: dues in business time ----------------------------------------------------------


def test_start_on_a_round_the_clock_calendar_is_plain_arithmetic() -> None:
    update = SlaClock.start(target(10, warn_percent=80), calendar=ALWAYS_OPEN, now=utc(1, 10))

    assert update.events == (ClockEvent.STARTED,)
    clock = update.clock
    assert clock.status is ClockStatus.RUNNING
    assert clock.running_since == utc(1, 10)
    assert clock.consumed_ms == 0
    assert clock.warn_due_at == utc(1, 10, 8)
    assert clock.breach_due_at == utc(1, 10, 10)


def test_times_are_kept_to_the_millisecond() -> None:
    clock = started(target(10), datetime(2026, 6, 1, 10, 0, 0, 123_456, tzinfo=UTC))

    assert clock.started_at == utc(1, 10, ms=123)
    assert clock.breach_due_at == utc(1, 10, 10, ms=123)


def test_warn_percent_and_warn_before_on_office_hours_after_closing() -> None:
    monday_1755_msk = utc(1, 14, 55)

    by_percent = started(target(10, warn_percent=80), monday_1755_msk, OFFICE)
    by_before = started(target(10, warn_before=MINUTE), monday_1755_msk, OFFICE)
    early = started(target(10, warn_before=7 * MINUTE), monday_1755_msk, OFFICE)

    # 5 minutes on Monday, the rest from Tuesday 09:00 MSK (06:00 UTC).
    assert by_percent.warn_due_at == utc(2, 6, 3)
    assert by_before.warn_due_at == utc(2, 6, 4)
    assert early.warn_due_at == utc(1, 14, 58)
    assert by_percent.breach_due_at == by_before.breach_due_at == utc(2, 6, 5)


def test_start_outside_hours_counts_from_the_opening() -> None:
    saturday = utc(6, 12)

    clock = started(target(30), saturday, OFFICE)

    assert clock.breach_due_at == utc(8, 6, 30)  # Monday 09:30 MSK
    assert clock.consumed(calendar=OFFICE, now=utc(8, 6, 10)) == 10 * MINUTE


# --- pause and resume --------------------------------------------------------------------------


def test_pause_and_resume_across_a_night() -> None:
    clock = started(target(120, warn_percent=50), utc(1, 14), OFFICE)  # Monday 17:00 MSK
    assert clock.warn_due_at == utc(1, 15)  # 1h: the end of Monday, 18:00 MSK
    assert clock.breach_due_at == utc(2, 7)  # Tuesday 10:00 MSK

    paused = clock.pause(calendar=OFFICE, now=utc(1, 14, 30))

    assert paused.events == (ClockEvent.PAUSED,)
    assert paused.clock.status is ClockStatus.PAUSED
    assert paused.clock.consumed_ms == 30 * 60_000
    assert paused.clock.running_since is None
    assert paused.clock.warn_due_at is None
    assert paused.clock.breach_due_at is None

    resumed = paused.clock.resume(calendar=OFFICE, now=utc(2, 5))  # Tuesday 08:00 MSK

    assert resumed.events == (ClockEvent.RESUMED,)
    assert resumed.clock.status is ClockStatus.RUNNING
    assert resumed.clock.running_since == utc(2, 5)
    assert resumed.clock.warn_due_at == utc(2, 6, 30)  # 30 min left from 09:00 MSK
    assert resumed.clock.breach_due_at == utc(2, 7, 30)  # 90 min left
    assert resumed.clock.consumed(calendar=OFFICE, now=utc(2, 6, 15)) == 45 * MINUTE


def test_a_pause_counts_only_business_time() -> None:
    clock = started(target(120), utc(1, 14), OFFICE)

    paused = clock.pause(calendar=OFFICE, now=utc(1, 19)).clock  # Monday 22:00 MSK

    assert paused.consumed_ms == 60 * 60_000


def test_pause_and_resume_twice_change_nothing_the_second_time() -> None:
    paused = started(target(10), utc(1, 10)).pause(calendar=ALWAYS_OPEN, now=utc(1, 10, 2)).clock

    again = paused.pause(calendar=ALWAYS_OPEN, now=utc(1, 10, 5))
    resumed = paused.resume(calendar=ALWAYS_OPEN, now=utc(1, 11)).clock
    resumed_again = resumed.resume(calendar=ALWAYS_OPEN, now=utc(1, 11, 5))

    assert again.events == ()
    assert again.clock == paused
    assert resumed_again.events == ()
    assert resumed_again.clock == resumed
    assert resumed.breach_due_at == utc(1, 11, 8)


def test_timers_armed_before_a_pause_are_stale_afterwards() -> None:
    clock = started(target(120, warn_percent=50), utc(1, 14), OFFICE)
    paused = clock.pause(calendar=OFFICE, now=utc(1, 14, 30)).clock

    # The old warning timer fires at Monday 18:00 MSK while the clock is paused.
    assert paused.warn(now=utc(1, 15)).events == ()
    resumed = paused.resume(calendar=OFFICE, now=utc(2, 5)).clock
    # The old breach timer fires at Tuesday 10:00 MSK; the breach is now due at 10:30.
    assert resumed.breach(now=utc(2, 7)).events == ()
    assert resumed.breach(now=utc(2, 7, 30)).events == (ClockEvent.BREACHED,)


def test_a_point_passed_before_its_timer_fires_when_paused() -> None:
    clock = started(target(120, warn_percent=50), utc(1, 14), OFFICE)

    # Paused at 20:00 MSK: the hour to 18:00 reached the warning point; its timer is late.
    paused = clock.pause(calendar=OFFICE, now=utc(1, 17))

    assert paused.events == (ClockEvent.WARNED, ClockEvent.PAUSED)
    assert paused.clock.warned
    assert paused.warned_due_at == utc(1, 15)  # when it fell due, for the event's lateness
    assert paused.breached_due_at is None


# --- warn and breach ---------------------------------------------------------------------------


def test_warn_and_breach_fire_once() -> None:
    clock = started(target(10, warn_percent=80), utc(1, 10))

    assert clock.warn(now=utc(1, 10, 7, 59, 999)).events == ()  # not due yet
    warned = clock.warn(now=utc(1, 10, 8))
    assert warned.events == (ClockEvent.WARNED,)
    assert warned.clock.warned
    assert warned.clock.warn_due_at is None
    assert warned.clock.breach_due_at == utc(1, 10, 10)

    assert warned.warned_due_at == utc(1, 10, 8)
    assert warned.breached_due_at is None

    second_warning = warned.clock.warn(now=utc(1, 10, 8))
    assert second_warning.events == ()
    assert not second_warning.happened
    assert second_warning.clock == warned.clock
    assert second_warning.warned_due_at is None

    breached = warned.clock.breach(now=utc(1, 10, 10, 30))  # a timer delivered late
    assert breached.events == (ClockEvent.BREACHED,)
    assert breached.breached_due_at == utc(1, 10, 10)
    assert breached.clock.status is ClockStatus.BREACHED
    assert breached.clock.breached
    assert breached.clock.breach_due_at is None
    assert breached.clock.running_since == utc(1, 10)  # still counting

    second_breach = breached.clock.breach(now=utc(1, 10, 11))
    assert second_breach.events == ()
    assert second_breach.clock == breached.clock


def test_a_breach_drops_a_warning_not_yet_given() -> None:
    clock = started(target(10, warn_percent=80), utc(1, 10))

    breached = clock.breach(now=utc(1, 10, 10)).clock

    assert not breached.warned
    assert breached.warn_due_at is None
    assert breached.warn(now=utc(1, 10, 11)).events == ()


def test_a_paused_clock_ignores_its_timers() -> None:
    paused = started(target(10, warn_percent=80), utc(1, 10)).pause(
        calendar=ALWAYS_OPEN, now=utc(1, 10, 1)
    )

    assert paused.clock.warn(now=utc(1, 10, 8)).events == ()
    assert paused.clock.breach(now=utc(1, 10, 10)).events == ()


def test_a_breached_clock_keeps_counting_through_pause_and_resume() -> None:
    breached = started(target(10), utc(1, 10)).breach(now=utc(1, 10, 10)).clock

    paused = breached.pause(calendar=ALWAYS_OPEN, now=utc(1, 10, 12)).clock
    resumed = paused.resume(calendar=ALWAYS_OPEN, now=utc(1, 11))

    assert paused.status is ClockStatus.PAUSED
    assert paused.breached
    assert paused.consumed_ms == 12 * 60_000
    assert resumed.events == (ClockEvent.RESUMED,)
    assert resumed.clock.status is ClockStatus.BREACHED
    assert resumed.clock.breach_due_at is None
    assert resumed.clock.warn_due_at is None


# --- met and cancelled -------------------------------------------------------------------------


def test_met_stops_the_clock_and_keeps_the_business_time_used() -> None:
    clock = started(target(60), utc(1, 7), OFFICE)  # Monday 10:00 MSK

    met = clock.met(calendar=OFFICE, now=utc(1, 7, 20))

    assert met.events == (ClockEvent.MET,)
    assert met.clock.status is ClockStatus.MET
    assert met.clock.met_at == utc(1, 7, 20)
    assert met.clock.consumed_ms == 20 * 60_000
    assert met.clock.running_since is None
    assert met.clock.breach_due_at is None
    assert not met.clock.breached


def test_a_met_clock_ignores_everything_after() -> None:
    met = started(target(60), utc(1, 7), OFFICE).met(calendar=OFFICE, now=utc(1, 7, 20)).clock

    assert met.breach(now=utc(1, 8)).events == ()
    assert met.warn(now=utc(1, 8)).events == ()
    assert met.pause(calendar=OFFICE, now=utc(1, 8)).events == ()
    assert met.resume(calendar=OFFICE, now=utc(1, 8)).events == ()
    assert met.met(calendar=OFFICE, now=utc(1, 8)).clock == met
    assert met.cancel(calendar=OFFICE, now=utc(1, 8)).events == ()
    assert met.rebind(target(5), calendar=OFFICE, new_calendar=OFFICE, now=utc(1, 8)).events == ()


def test_met_at_or_after_the_deadline_before_the_timer_is_met_late() -> None:
    clock = started(target(10), utc(1, 10))

    at_deadline = clock.met(calendar=ALWAYS_OPEN, now=utc(1, 10, 10))
    late = clock.met(calendar=ALWAYS_OPEN, now=utc(1, 10, 12))
    just_in_time = clock.met(calendar=ALWAYS_OPEN, now=utc(1, 10, 9, 59, 999))

    assert at_deadline.events == (ClockEvent.BREACHED, ClockEvent.MET)
    assert late.events == (ClockEvent.BREACHED, ClockEvent.MET)
    assert late.breached_due_at == utc(1, 10, 10)
    assert late.clock.status is ClockStatus.MET
    assert late.clock.breached
    assert late.clock.consumed_ms == 12 * 60_000
    assert just_in_time.events == (ClockEvent.MET,)
    assert just_in_time.breached_due_at is None
    assert not just_in_time.clock.breached


def test_met_after_a_breach_records_how_late() -> None:
    breached = started(target(10), utc(1, 10)).breach(now=utc(1, 10, 10)).clock

    met = breached.met(calendar=ALWAYS_OPEN, now=utc(1, 10, 25))

    assert met.events == (ClockEvent.MET,)
    assert met.clock.breached
    assert met.clock.consumed_ms == 25 * 60_000


def test_cancel_stops_without_a_verdict() -> None:
    clock = started(target(10), utc(1, 10))

    cancelled = clock.cancel(calendar=ALWAYS_OPEN, now=utc(1, 10, 4))

    assert cancelled.events == (ClockEvent.CANCELLED,)
    assert cancelled.clock.status is ClockStatus.CANCELLED
    assert cancelled.clock.consumed_ms == 4 * 60_000
    assert cancelled.clock.met_at is None
    assert cancelled.clock.breach(now=utc(1, 10, 10)).events == ()


# --- rebind ------------------------------------------------------------------------------------


def test_rebind_keeps_the_time_consumed_on_the_old_calendar() -> None:
    # Monday 17:20 MSK on office hours, 1h with a warning at 48 min.
    clock = started(target(60, warn_percent=80), utc(1, 14, 20), OFFICE)
    assert clock.warn_due_at == utc(2, 6, 8)
    assert clock.breach_due_at == utc(2, 6, 20)

    # At 19:00 MSK the case moves to a round-the-clock team: 40 min were used by 18:00.
    moved = clock.rebind(
        SlaTarget(FIRST, timedelta(hours=2), warn_before=timedelta(minutes=30)),
        calendar=OFFICE,
        new_calendar=ALWAYS_OPEN,
        now=utc(1, 16),
    )

    assert moved.events == (ClockEvent.REBOUND,)
    assert not moved.warn_now
    assert not moved.breach_now
    assert moved.clock.consumed_ms == 40 * 60_000
    assert moved.clock.running_since == utc(1, 16)
    assert moved.clock.target_ms == 2 * 3_600_000
    assert moved.clock.warn_after_ms == 90 * 60_000
    assert moved.new_warn_due_at == utc(1, 16, 50)
    assert moved.new_breach_due_at == utc(1, 17, 20)
    assert moved.old_warn_due_at == utc(2, 6, 8)
    assert moved.old_breach_due_at == utc(2, 6, 20)
    assert moved.old_target_ms == 3_600_000


def test_rebind_past_the_new_breach_point_breaches_at_once() -> None:
    clock = started(target(120, warn_percent=80), utc(1, 7), OFFICE)  # Monday 10:00 MSK

    moved = clock.rebind(
        target(60, warn_percent=50), calendar=OFFICE, new_calendar=OFFICE, now=utc(1, 8, 30)
    )

    assert moved.events == (ClockEvent.REBOUND, ClockEvent.BREACHED)
    assert moved.breach_now
    assert moved.breached_due_at == utc(1, 8, 30)  # the stricter target applies from now
    assert not moved.warn_now  # the breach drops the warning
    assert moved.warned_due_at is None
    assert moved.clock.status is ClockStatus.BREACHED
    assert moved.clock.breached
    assert moved.clock.consumed_ms == 90 * 60_000
    assert moved.clock.running_since == utc(1, 8, 30)
    assert moved.new_breach_due_at is None
    assert moved.new_warn_due_at is None
    assert moved.old_warn_due_at == utc(1, 8, 36)
    assert moved.old_breach_due_at == utc(1, 9)


def test_rebind_past_the_new_warning_point_warns_at_once() -> None:
    clock = started(target(180), utc(1, 7), OFFICE)

    moved = clock.rebind(
        target(120, warn_before=45 * MINUTE),
        calendar=OFFICE,
        new_calendar=OFFICE,
        now=utc(1, 8, 30),
    )

    assert moved.events == (ClockEvent.REBOUND, ClockEvent.WARNED)
    assert moved.warn_now
    assert moved.warned_due_at == utc(1, 8, 30)
    assert not moved.breach_now
    assert moved.clock.warned
    assert moved.new_warn_due_at is None
    assert moved.new_breach_due_at == utc(1, 9)  # 30 min left: 12:00 MSK


def test_rebind_of_a_paused_clock_arms_nothing_until_it_resumes() -> None:
    paused = started(target(120), utc(1, 7), OFFICE).pause(calendar=OFFICE, now=utc(1, 8, 30)).clock

    moved = paused.rebind(target(60), calendar=OFFICE, new_calendar=ALWAYS_OPEN, now=utc(2, 12))

    assert moved.events == (ClockEvent.REBOUND, ClockEvent.BREACHED)
    assert moved.clock.status is ClockStatus.PAUSED
    assert moved.clock.breached
    assert moved.clock.consumed_ms == 90 * 60_000
    assert moved.new_breach_due_at is None
    resumed = moved.clock.resume(calendar=ALWAYS_OPEN, now=utc(2, 13)).clock
    assert resumed.status is ClockStatus.BREACHED


def test_rebind_of_a_paused_clock_within_target_resumes_on_the_new_calendar() -> None:
    paused = started(target(120), utc(1, 7), OFFICE).pause(calendar=OFFICE, now=utc(1, 7, 30)).clock

    moved = paused.rebind(target(60), calendar=OFFICE, new_calendar=ALWAYS_OPEN, now=utc(6, 12))
    resumed = moved.clock.resume(calendar=ALWAYS_OPEN, now=utc(6, 13))  # a Saturday

    assert moved.events == (ClockEvent.REBOUND,)
    assert moved.new_breach_due_at is None
    assert resumed.clock.breach_due_at == utc(6, 13, 30)


def test_a_breach_already_recorded_survives_a_laxer_target() -> None:
    breached = started(target(10), utc(1, 10)).breach(now=utc(1, 10, 10)).clock

    moved = breached.rebind(
        target(24 * 60), calendar=ALWAYS_OPEN, new_calendar=ALWAYS_OPEN, now=utc(1, 10, 20)
    )

    assert moved.events == (ClockEvent.REBOUND,)
    assert moved.clock.status is ClockStatus.BREACHED
    assert moved.clock.breached
    assert moved.new_breach_due_at is None


def test_rebind_needs_a_target_for_the_same_metric() -> None:
    clock = started(target(10), utc(1, 10))

    with pytest.raises(SlaError, match="cannot rebind a first_response clock to a resolution"):
        clock.rebind(
            SlaTarget(SlaMetric.RESOLUTION, timedelta(hours=1)),
            calendar=ALWAYS_OPEN,
            new_calendar=ALWAYS_OPEN,
            now=utc(1, 10, 1),
        )


# --- input checks ------------------------------------------------------------------------------


def test_naive_now_is_rejected() -> None:
    naive = datetime(2026, 6, 1, 10)
    clock = started(target(10), utc(1, 10))

    with pytest.raises(ValueError, match="timezone-aware"):
        SlaClock.start(target(10), calendar=ALWAYS_OPEN, now=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.warn(now=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.pause(calendar=ALWAYS_OPEN, now=naive)


def test_a_now_before_the_run_began_counts_as_no_time() -> None:
    clock = started(target(10), utc(1, 10))

    paused = clock.pause(calendar=ALWAYS_OPEN, now=utc(1, 9, 59, 59, 900)).clock

    assert paused.consumed_ms == 0


def test_an_inconsistent_clock_cannot_be_built() -> None:
    with pytest.raises(SlaError, match="running_since must be set exactly while counting"):
        SlaClock(
            metric=FIRST,
            target_ms=600_000,
            warn_after_ms=None,
            started_at=utc(1, 10),
            consumed_ms=0,
            running_since=None,
            status=ClockStatus.RUNNING,
        )


# --- documents ---------------------------------------------------------------------------------


def test_a_clock_is_stored_with_int_epoch_milliseconds() -> None:
    clock = started(target(10, warn_percent=80), utc(1, 10, ms=123))

    assert clock.to_doc() == {
        "metric": "first_response",
        "status": "running",
        "target_ms": 600_000,
        "warn_after_ms": 480_000,
        "started_at": 1_780_308_000_123,
        "consumed_ms": 0,
        "running_since": 1_780_308_000_123,
        "warn_due_at": 1_780_308_480_123,
        "breach_due_at": 1_780_308_600_123,
        "warned": False,
        "breached": False,
        "met_at": None,
    }


def _clocks_in_every_state() -> list[SlaClock]:
    running = started(target(120, warn_percent=50), utc(1, 14), OFFICE)
    paused = running.pause(calendar=OFFICE, now=utc(1, 14, 30)).clock
    warned = started(target(10, warn_percent=80), utc(1, 10)).warn(now=utc(1, 10, 8)).clock
    breached = warned.breach(now=utc(1, 10, 10)).clock
    met = breached.met(calendar=ALWAYS_OPEN, now=utc(1, 10, 30, ms=5)).clock
    cancelled = running.cancel(calendar=OFFICE, now=utc(1, 14, 1)).clock
    return [running, paused, warned, breached, met, cancelled]


@pytest.mark.parametrize("clock", _clocks_in_every_state(), ids=lambda clock: clock.status.value)
def test_doc_round_trip(clock: SlaClock) -> None:
    doc = json.loads(json.dumps(clock.to_doc()))

    assert SlaClock.from_doc(doc) == clock


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"started_at": datetime(2026, 6, 1, tzinfo=UTC)}, "started_at must be an integer"),
        ({"breach_due_at": "2026-06-01T10:10:00+00:00"}, "breach_due_at must be an integer"),
        ({"consumed_ms": True}, "consumed_ms must be an integer"),
        ({"warned": 0}, "warned must be true or false"),
        ({"status": "sleeping"}, "bad SLA clock document"),
        ({"metric": "happiness"}, "bad SLA clock document"),
        ({"running_since": None}, "running_since must be set exactly while counting"),
        ({"breach_due_at": None, "breached": False, "status": "breached"}, "breached flag"),
    ],
)
def test_bad_docs_say_what_is_wrong(change: dict[str, Any], message: str) -> None:
    doc = {**started(target(10), utc(1, 10)).to_doc(), **change}

    with pytest.raises(SlaError, match=message):
        SlaClock.from_doc(doc)


def test_a_doc_missing_a_field_is_rejected() -> None:
    doc: dict[str, Any] = dict(started(target(10), utc(1, 10)).to_doc())
    del doc["status"]

    with pytest.raises(SlaError, match="lacks 'status'"):
        SlaClock.from_doc(doc)
