"""Hour slots and bucket keys of the write-time rollups: pure rules, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from smm_analytics.domain.buckets import (
    MAX_RANGE,
    RangeTooLargeError,
    bucket_key,
    hour_slot,
    hours,
    slot_start,
)

pytestmark = pytest.mark.unit

MOSCOW = timezone(timedelta(hours=3))


def test_hour_slot_is_the_utc_hour() -> None:
    assert hour_slot(datetime(2026, 11, 27, 10, 59, 59, tzinfo=UTC)) == "2026-11-27T10"


def test_hour_slot_converts_other_offsets_to_utc() -> None:
    assert hour_slot(datetime(2026, 11, 27, 13, 30, tzinfo=MOSCOW)) == "2026-11-27T10"
    # Crossing midnight backwards into the previous UTC day.
    assert hour_slot(datetime(2026, 11, 28, 1, 0, tzinfo=MOSCOW)) == "2026-11-27T22"


def test_slot_start_is_the_utc_start_of_the_hour() -> None:
    start = slot_start("2026-11-27T10")

    assert start == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert start.tzinfo is UTC


def test_slot_start_and_hour_slot_round_trip() -> None:
    assert hour_slot(slot_start("2026-01-01T00")) == "2026-01-01T00"


def test_bucket_key_joins_its_parts() -> None:
    assert (
        bucket_key("acme", "mentions", "network=vk", "2026-11-27T10")
        == "acme|mentions|network=vk|2026-11-27T10"
    )


def test_hours_start_inclusive_end_exclusive() -> None:
    start = datetime(2026, 11, 27, 10, tzinfo=UTC)

    assert list(hours(start, start + timedelta(hours=3))) == [
        "2026-11-27T10",
        "2026-11-27T11",
        "2026-11-27T12",
    ]


def test_hours_floors_the_start_to_the_hour() -> None:
    start = datetime(2026, 11, 27, 10, 45, 12, 5, tzinfo=UTC)
    end = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

    assert list(hours(start, end)) == ["2026-11-27T10", "2026-11-27T11"]


def test_hours_includes_a_partial_last_hour() -> None:
    start = datetime(2026, 11, 27, 10, tzinfo=UTC)

    assert list(hours(start, start + timedelta(hours=1, minutes=1))) == [
        "2026-11-27T10",
        "2026-11-27T11",
    ]


def test_hours_in_another_offset_are_utc_slots() -> None:
    start = datetime(2026, 11, 27, 13, 30, tzinfo=MOSCOW)

    assert list(hours(start, start + timedelta(hours=1))) == ["2026-11-27T10", "2026-11-27T11"]


def test_empty_or_reversed_range_yields_nothing() -> None:
    at = datetime(2026, 11, 27, 10, tzinfo=UTC)

    assert list(hours(at, at)) == []
    assert list(hours(at, at - timedelta(hours=5))) == []


def test_hours_serves_exactly_the_maximum_range() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)

    slots = list(hours(start, start + MAX_RANGE))

    assert MAX_RANGE.days == 93
    assert len(slots) == 93 * 24
    assert slots[0] == "2026-01-01T00"
    assert slots[-1] == "2026-04-03T23"


def test_hours_beyond_the_maximum_range_is_refused() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)

    with pytest.raises(RangeTooLargeError, match="93 days"):
        list(hours(start, start + MAX_RANGE + timedelta(seconds=1)))
