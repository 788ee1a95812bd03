"""Timer values shared by the stores and the loop: what is stored, claimed, fired and completed."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeAlias

PlainValue: TypeAlias = (
    str | int | float | bool | datetime | Sequence["PlainValue"] | Mapping[str, "PlainValue"]
)
Payload: TypeAlias = Mapping[str, PlainValue]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_INT64 = 2**63


class InvalidTimerError(ValueError):
    """A timer cannot be stored as given (naive datetime, empty key, unstorable payload)."""


class TimerState(StrEnum):
    """Where a timer is in its life: waiting, being fired by one replica, or done."""

    PENDING = "pending"
    CLAIMED = "claimed"
    FIRED = "fired"


class ScheduleOutcome(StrEnum):
    """What ``schedule()`` did."""

    CREATED = "created"
    RESCHEDULED = "rescheduled"  # an armed timer got a new deadline
    UNCHANGED = "unchanged"  # same deadline as the armed timer: kind/payload refreshed only
    ALREADY_FIRED = "already_fired"  # the key has fired; nothing changed (pass rearm=True)
    REARMED = "rearmed"  # a fired key was armed again because rearm=True


def utc_ms(when: datetime) -> datetime:
    """``when`` in UTC, cut to the millisecond: what BSON stores, so reads equal writes."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise InvalidTimerError(f"timer times must be timezone-aware, got {when!r}")
    utc = when.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def to_ms(when: datetime) -> int:
    """Milliseconds since the epoch (integer arithmetic: no float rounding)."""
    return (utc_ms(when) - EPOCH) // _ONE_MS


def from_ms(ms: int) -> datetime:
    """The UTC datetime of epoch milliseconds."""
    return EPOCH + timedelta(milliseconds=ms)


def check_key(key: str) -> str:
    """A timer key: a non-empty string (it is the document ``_id``)."""
    if not isinstance(key, str) or not key:
        raise InvalidTimerError("a timer key must be a non-empty string")
    return key


def check_kind(kind: str) -> str:
    """A timer kind: a non-empty string (it labels metrics, so keep the set small)."""
    if not isinstance(kind, str) or not kind:
        raise InvalidTimerError("a timer kind must be a non-empty string")
    return kind


def normalize_payload(payload: Payload) -> dict[str, Any]:
    """A copy of ``payload`` that stores and reads back the same on MongoDB and nx-27017."""
    if not isinstance(payload, Mapping):
        raise InvalidTimerError("a timer payload must be a mapping")
    return _normalize_mapping(payload, "payload")


def _normalize_mapping(value: Mapping[Any, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key or key.startswith("$") or "." in key:
            raise InvalidTimerError(f"{path}: field names must be plain strings, got {key!r}")
        out[key] = _normalize_value(item, f"{path}.{key}")
    return out


def _normalize_value(value: Any, path: str) -> Any:
    # None is refused, not stored: explicit null and a missing field differ on nx-27017
    # (docs/mongo-subset.md); omit the field instead.
    if value is None:
        raise InvalidTimerError(f"{path}: None is not stored; omit the field")
    if isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        if not -_INT64 <= value < _INT64:
            raise InvalidTimerError(f"{path}: integer out of the int64 range")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidTimerError(f"{path}: only finite floats are stored")
        return value
    if isinstance(value, datetime):
        return utc_ms(value)
    if isinstance(value, Mapping):
        return _normalize_mapping(value, path)
    if isinstance(value, list | tuple):
        return [_normalize_value(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise InvalidTimerError(f"{path}: {type(value).__name__} is not a plain value")


@dataclass(frozen=True, slots=True)
class Timer:
    """A stored timer as ``TimerStore.get`` returns it."""

    key: str
    kind: str
    payload: Payload
    due_at: datetime
    state: TimerState
    attempts: int
    next_run_at: datetime | None  # pending: deadline or retry time; claimed: lease expiry
    owner: str | None  # claimed: the replica holding it; fired: the replica that fired it
    fired_at: datetime | None = None
    lateness: timedelta | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """A timer leased to one loop: only the holder of ``token`` may complete it."""

    key: str
    kind: str
    payload: Payload
    due_at: datetime
    attempts: int  # including this one
    owner: str
    token: str
    lease_until: datetime


@dataclass(frozen=True, slots=True)
class ClaimBatch:
    """The timers one claim round won, and how many due candidates it saw (0: nothing is due)."""

    claims: list[Claim] = field(default_factory=list)
    candidates: int = 0


@dataclass(frozen=True, slots=True)
class FiredTimer:
    """What a handler receives: the timer, when it fired and how late."""

    key: str
    kind: str
    payload: Payload
    due_at: datetime
    fired_at: datetime
    attempt: int  # 1 on the first hand-over; more after failures or a lease take-over
    owner: str

    @property
    def lateness(self) -> timedelta:
        """How long after its deadline the timer was handed to the handler."""
        return self.fired_at - self.due_at

    @property
    def lateness_s(self) -> float:
        """``lateness`` in seconds."""
        return self.lateness.total_seconds()


@dataclass(frozen=True, slots=True)
class Fired:
    """Completion: the handler succeeded; the timer is done."""

    claim: Claim
    fired_at: datetime


@dataclass(frozen=True, slots=True)
class Failed:
    """Completion: the handler raised; the timer waits until ``retry_at``."""

    claim: Claim
    retry_at: datetime
    error: str


@dataclass(frozen=True, slots=True)
class Released:
    """Completion: the loop stopped before the handler finished; any replica may take it at once."""

    claim: Claim
    at: datetime


Completion: TypeAlias = Fired | Failed | Released
ScheduleListener: TypeAlias = Callable[[datetime], None]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Retry delays after handler failures: exponential, capped; never gives up."""

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 60.0
    alert_after: int = 5  # from this many attempts on, each failure logs at ERROR

    def __post_init__(self) -> None:
        if self.initial_s <= 0 or self.factor < 1 or self.max_s < self.initial_s:
            raise ValueError("Backoff needs initial_s > 0, factor >= 1 and max_s >= initial_s")

    def delay_s(self, attempts: int) -> float:
        """The wait before the next try after ``attempts`` failed tries (1-based)."""
        exponent = max(attempts - 1, 0)
        # Past the cap the power would only overflow: stop computing it there.
        if exponent > 64 or self.initial_s * self.factor**exponent >= self.max_s:
            return self.max_s
        return float(self.initial_s * self.factor**exponent)


class Listeners:
    """The local loops to wake when a timer is scheduled in this process."""

    def __init__(self) -> None:
        self._listeners: list[ScheduleListener] = []

    def subscribe(self, listener: ScheduleListener) -> Callable[[], None]:
        """Call ``listener(due_at)`` on every local schedule; returns the unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def notify(self, due_at: datetime) -> None:
        """Tell every listener that a timer is now armed for ``due_at``."""
        for listener in list(self._listeners):
            listener(due_at)
