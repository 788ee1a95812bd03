"""Bucket keys and time slots of write-time rollups. Pure Python."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

HOUR_FORMAT = "%Y-%m-%dT%H"
MAX_RANGE = timedelta(days=93)


class RangeTooLargeError(ValueError):
    """A query asks for more hourly buckets than we serve at once."""


def hour_slot(at: datetime) -> str:
    """The hour bucket a time falls in, in UTC: ``2026-11-27T10``."""
    return at.astimezone(UTC).strftime(HOUR_FORMAT)


def slot_start(slot: str) -> datetime:
    """The UTC start of an hour slot."""
    return datetime.strptime(slot, HOUR_FORMAT).replace(tzinfo=UTC)


def bucket_key(brand_id: str, metric: str, dimension: str, slot: str) -> str:
    """The string id of a bucket document: ``brand|metric|dimension|slot``."""
    return f"{brand_id}|{metric}|{dimension}|{slot}"


def hours(start: datetime, end: datetime) -> Iterator[str]:
    """Every hour slot from ``start`` (inclusive) to ``end`` (exclusive)."""
    if end - start > MAX_RANGE:
        raise RangeTooLargeError(f"at most {MAX_RANGE.days} days per query")
    at = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while at < end:
        yield at.strftime(HOUR_FORMAT)
        at += timedelta(hours=1)
