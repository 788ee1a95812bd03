"""SLA policies and the business-time clock of one metric on one case.

The rules:

* **Targets** are business time (``calendars``): "10 minutes" means ten minutes of the
  calendar's working time, so a message that arrives at night is due ten minutes after the
  team opens. A target may warn either at a percentage of the target (``warn_percent=80``: at
  8 of 10 minutes) or some time before the breach (``warn_before=2 min``: also at 8 of 10);
  the warning point lies strictly between the start and the breach.
* **Deadlines are computed, never polled.** When a clock starts, resumes or is rebound it turns
  the business time left into instants, ``warn_due_at`` and ``breach_due_at``, using the
  calendar; a service arms one timer per non-null due. The dues are exactly the timers to arm:
  they are set only while the clock runs and only for points not yet fired.
* **The deadline instant is already late.** A point is reached when the consumed business time
  is at least its offset; ``warn``/``breach`` fire at ``now >= due``.
* **Firing is idempotent and stale-proof.** ``warn(now)`` and ``breach(now)`` act only on a
  running clock whose point is armed and due; a second fire, a fire on a paused clock or a fire
  from a timer armed before a pause moved the due later report that nothing happened.
* **A breach drops the warning.** Once breached, a warning not yet given is not given.
* **History stays.** A warning or breach that fired is never undone, not even by a rebind to a
  laxer target.
* **Points passed without their timer fire in place.** When a transition finds a point already
  reached (a pause or a response just after a due whose timer has not been delivered yet, a
  rebind to a stricter target), it marks the clock and lists the event in its result, so the
  service emits it at once; a response at or after the deadline is thus "met late"
  (``met`` status with ``breached`` set).
* **Pausing** (e.g. while the case waits for the customer) adds the business time of the run to
  ``consumed_ms`` and clears the dues; **resuming** starts a new run and recomputes the dues
  from the business time left. A breached clock keeps counting until met, so reports can say
  how late; it can be paused and resumed like any other.
* **Rebinding** (the case moved to another department) keeps the business time consumed under
  the old calendar and measures the rest against the new target and calendar.
* **Calendars are arguments.** The clock stores no calendar, only instants and business-time
  offsets; every transition that ends a run (pause, met, cancel, rebind) or starts one (start,
  resume, rebind) takes the calendar to count or arm with. ``warn``/``breach`` need none.
* **Status and flags.** ``status`` is where the clock stands now; ``warned``/``breached`` are
  history, so a paused or met clock can carry ``breached=True``.
* **Time** is kept to the millisecond (``now`` is truncated), the precision of the stored
  document; event times from several hosts may be slightly out of order, so a ``now`` before
  the current run began counts as no time rather than negative time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final, TypedDict

from smm_responder.domain.calendars import ALWAYS_OPEN, BusinessCalendar

_MS: Final = timedelta(milliseconds=1)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class SlaError(ValueError):
    """An SLA target, policy, clock document or transition that breaks the rules."""


class SlaMetric(StrEnum):
    """What an SLA target measures on a case."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"
    TIME_TO_ASSIGNMENT = "time_to_assignment"
    #: The internal SLA of a department handoff: from the handoff to the department's answer.
    DEPARTMENT_RESPONSE = "department_response"


class ClockStatus(StrEnum):
    """Where one metric's clock stands; ``met`` and ``cancelled`` are final."""

    RUNNING = "running"
    PAUSED = "paused"
    #: Past the breach point and still open: the clock keeps counting until met.
    BREACHED = "breached"
    MET = "met"
    CANCELLED = "cancelled"


#: Statuses in which a clock can still change.
OPEN_STATUSES: Final = frozenset({ClockStatus.RUNNING, ClockStatus.PAUSED, ClockStatus.BREACHED})
_COUNTING: Final = frozenset({ClockStatus.RUNNING, ClockStatus.BREACHED})


class ClockEvent(StrEnum):
    """What a transition did, for the service to publish and to (re)arm timers on."""

    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    WARNED = "warned"
    BREACHED = "breached"
    MET = "met"
    CANCELLED = "cancelled"
    REBOUND = "rebound"


def _whole_ms(value: timedelta, name: str) -> int:
    if value % _MS:
        raise SlaError(f"{name} must be a whole number of milliseconds, got {value}")
    return value // _MS


@dataclass(frozen=True, slots=True)
class SlaTarget:
    """The business time allowed for one metric, and when to warn before it runs out.

    Give at most one of ``warn_percent`` (1-99: warn when that share of the target is used)
    and ``warn_before`` (warn that long before the breach, less than the target); neither
    means no warning.
    """

    metric: SlaMetric
    target: timedelta
    warn_percent: int | None = None
    warn_before: timedelta | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", SlaMetric(self.metric))
        if self.target <= timedelta():
            raise SlaError(f"the {self.metric} target must be positive, got {self.target}")
        _whole_ms(self.target, f"the {self.metric} target")
        if self.warn_percent is not None and self.warn_before is not None:
            raise SlaError(
                f"the {self.metric} target warns by warn_percent or warn_before, not both"
            )
        if self.warn_percent is not None and (
            isinstance(self.warn_percent, bool)
            or not isinstance(self.warn_percent, int)
            or not 0 < self.warn_percent < 100
        ):
            raise SlaError(
                f"warn_percent must be a whole number from 1 to 99 so the warning comes before "
                f"the breach, got {self.warn_percent!r}"
            )
        if self.warn_before is not None:
            if not timedelta() < self.warn_before < self.target:
                raise SlaError(
                    f"warn_before must be more than zero and less than the {self.metric} target "
                    f"({self.target}) so the warning comes after the start and before the "
                    f"breach, got {self.warn_before}"
                )
            _whole_ms(self.warn_before, "warn_before")
        if self.warn_after == timedelta():
            raise SlaError(
                f"the {self.metric} target {self.target} is too short to warn at {self.warn_percent}%"
            )

    @property
    def warn_after(self) -> timedelta | None:
        """Business time after which to warn (rounded down to the millisecond), or None."""
        if self.warn_before is not None:
            return self.target - self.warn_before
        if self.warn_percent is not None:
            return self.target // _MS * self.warn_percent // 100 * _MS
        return None


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Targets for any subset of the metrics, on one calendar.

    ``calendar_id`` names the business calendar the service resolves (``resolve_calendar``)
    and passes to the clock; None means the caller's default (the brand's calendar, else
    ``ALWAYS_OPEN``). With ``pause_when_pending_customer`` the service pauses the case's
    running clocks while it waits for the customer and resumes them when the customer writes.
    """

    id: str
    name: str
    targets: tuple[SlaTarget, ...]
    calendar_id: str | None = None
    pause_when_pending_customer: bool = True
    _by_metric: dict[SlaMetric, SlaTarget] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise SlaError("an SLA policy needs an id")
        if not self.name.strip():
            raise SlaError("an SLA policy needs a name")
        if self.calendar_id is not None and not self.calendar_id.strip():
            raise SlaError("calendar_id must be a calendar's id or null, not empty")
        targets = tuple(self.targets)
        if not targets:
            raise SlaError(f"SLA policy {self.name!r} has no targets")
        by_metric: dict[SlaMetric, SlaTarget] = {}
        for target in targets:
            if target.metric in by_metric:
                raise SlaError(f"SLA policy {self.name!r} has two {target.metric} targets")
            by_metric[target.metric] = target
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "_by_metric", by_metric)

    def target(self, metric: SlaMetric) -> SlaTarget | None:
        """The policy's target for ``metric``, if it has one."""
        return self._by_metric.get(metric)

    def resolve_calendar(
        self, calendars: Mapping[str, BusinessCalendar], *, default: BusinessCalendar = ALWAYS_OPEN
    ) -> BusinessCalendar:
        """The policy's calendar from ``calendars`` by id, or ``default`` when it names none."""
        if self.calendar_id is None:
            return default
        try:
            return calendars[self.calendar_id]
        except KeyError:
            raise SlaError(
                f"SLA policy {self.name!r} uses calendar {self.calendar_id!r}, which does not exist"
            ) from None


class SlaClockDoc(TypedDict):
    """An ``SlaClock`` as stored on the case document: every time is int epoch milliseconds."""

    metric: str
    status: str
    target_ms: int
    warn_after_ms: int | None
    started_at: int
    consumed_ms: int
    running_since: int | None
    warn_due_at: int | None
    breach_due_at: int | None
    warned: bool
    breached: bool
    met_at: int | None


@dataclass(frozen=True, slots=True)
class ClockUpdate:
    """The clock after a transition and what happened, in order (empty: nothing happened).

    ``warned_due_at``/``breached_due_at`` are set when the transition fired that point: the
    instant it fell due (the armed due; ``now`` when no due was armed), for the event's
    ``due_at`` and lateness.
    """

    clock: SlaClock
    events: tuple[ClockEvent, ...]
    warned_due_at: datetime | None = None
    breached_due_at: datetime | None = None

    @property
    def happened(self) -> bool:
        """Whether the transition changed anything."""
        return bool(self.events)


@dataclass(frozen=True, slots=True)
class Rebinding:
    """The clock after a rebind, what happened, and the old dues and target for an audit entry.

    ``warn_now``/``breach_now``: the consumed time already reached the new point, so the clock
    is marked and the service should publish that event at once (no timer to wait for); its
    ``warned_due_at``/``breached_due_at`` is the rebind instant, when the new target applied.
    """

    clock: SlaClock
    events: tuple[ClockEvent, ...]
    old_target_ms: int
    old_warn_due_at: datetime | None
    old_breach_due_at: datetime | None
    warned_due_at: datetime | None = None
    breached_due_at: datetime | None = None

    @property
    def new_warn_due_at(self) -> datetime | None:
        """The warning timer to arm now, if any."""
        return self.clock.warn_due_at

    @property
    def new_breach_due_at(self) -> datetime | None:
        """The breach timer to arm now, if any."""
        return self.clock.breach_due_at

    @property
    def warn_now(self) -> bool:
        """Whether the rebind fired the warning in place."""
        return ClockEvent.WARNED in self.events

    @property
    def breach_now(self) -> bool:
        """Whether the rebind fired the breach in place."""
        return ClockEvent.BREACHED in self.events


@dataclass(frozen=True, slots=True)
class SlaClock:
    """The running state of one metric on one case (rules in the module doc).

    ``consumed_ms`` is the business time of the runs before the current one; while the clock
    counts (``running`` or ``breached``) the current run began at ``running_since``.
    """

    metric: SlaMetric
    target_ms: int
    warn_after_ms: int | None
    started_at: datetime
    consumed_ms: int
    running_since: datetime | None
    status: ClockStatus
    warn_due_at: datetime | None = None
    breach_due_at: datetime | None = None
    warned: bool = False
    breached: bool = False
    met_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric", SlaMetric(self.metric))
        object.__setattr__(self, "status", ClockStatus(self.status))
        for name in ("started_at", "running_since", "warn_due_at", "breach_due_at", "met_at"):
            value = getattr(self, name)
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                raise SlaError(f"{name} must be timezone-aware")
        problem = self._invariant_problem()
        if problem:
            raise SlaError(f"inconsistent {self.metric} clock: {problem}")

    def _invariant_problem(self) -> str | None:
        counting = self.status in _COUNTING
        if self.target_ms <= 0:
            return "target_ms must be positive"
        if self.warn_after_ms is not None and not 0 < self.warn_after_ms < self.target_ms:
            return "warn_after_ms must lie between 0 and target_ms"
        if self.consumed_ms < 0:
            return "consumed_ms must not be negative"
        if (self.running_since is not None) != counting:
            return f"running_since must be set exactly while counting, status is {self.status}"
        if self.status is ClockStatus.BREACHED and not self.breached:
            return "a breached clock has the breached flag"
        if (self.met_at is not None) != (self.status is ClockStatus.MET):
            return "met_at must be set exactly when met"
        if self.breach_due_at is not None and (
            self.status is not ClockStatus.RUNNING or self.breached
        ):
            return "breach_due_at is armed only on a running clock not yet breached"
        if self.warn_due_at is not None and (
            self.status is not ClockStatus.RUNNING
            or self.warned
            or self.breached
            or self.warn_after_ms is None
        ):
            return "warn_due_at is armed only on a running clock with a warning not yet given"
        return None

    # --- transitions ------------------------------------------------------------------------

    @classmethod
    def start(cls, target: SlaTarget, *, calendar: BusinessCalendar, now: datetime) -> ClockUpdate:
        """A new clock for ``target`` running from ``now``, with its dues armed."""
        now = _instant(now)
        warn_after = target.warn_after
        clock = cls(
            metric=target.metric,
            target_ms=target.target // _MS,
            warn_after_ms=None if warn_after is None else warn_after // _MS,
            started_at=now,
            consumed_ms=0,
            running_since=now,
            status=ClockStatus.RUNNING,
        )
        return ClockUpdate(clock._armed(calendar, now), (ClockEvent.STARTED,))

    def pause(self, *, calendar: BusinessCalendar, now: datetime) -> ClockUpdate:
        """Stop counting: add the run's business time to ``consumed_ms`` and clear the dues."""
        now = _instant(now)
        if self.status not in _COUNTING:
            return ClockUpdate(self, ())
        clock, fired = self._stopped(calendar, now)._fire_reached()
        clock = replace(clock, status=ClockStatus.PAUSED)
        warned_due, breached_due = self._fired_dues(fired, now)
        return ClockUpdate(clock, (*fired, ClockEvent.PAUSED), warned_due, breached_due)

    def resume(self, *, calendar: BusinessCalendar, now: datetime) -> ClockUpdate:
        """Count again from ``now``; the dues are recomputed from the business time left."""
        now = _instant(now)
        if self.status is not ClockStatus.PAUSED:
            return ClockUpdate(self, ())
        status = ClockStatus.BREACHED if self.breached else ClockStatus.RUNNING
        clock, fired = replace(self, status=status, running_since=now)._fire_reached()
        warned_due, breached_due = self._fired_dues(fired, now)
        events = (*fired, ClockEvent.RESUMED)
        return ClockUpdate(clock._armed(calendar, now), events, warned_due, breached_due)

    def met(self, *, calendar: BusinessCalendar, now: datetime) -> ClockUpdate:
        """The metric was satisfied at ``now``: stop for good, keeping the business time used.

        Met at or after the breach point means met late: the breach is recorded too.
        """
        now = _instant(now)
        if self.status not in OPEN_STATUSES:
            return ClockUpdate(self, ())
        clock, fired = self._stopped(calendar, now)._fire_reached()
        clock = replace(clock, status=ClockStatus.MET, met_at=now)
        warned_due, breached_due = self._fired_dues(fired, now)
        return ClockUpdate(clock, (*fired, ClockEvent.MET), warned_due, breached_due)

    def cancel(self, *, calendar: BusinessCalendar, now: datetime) -> ClockUpdate:
        """The metric no longer applies (e.g. the case closed unanswered): stop without a verdict."""
        now = _instant(now)
        if self.status not in OPEN_STATUSES:
            return ClockUpdate(self, ())
        clock = replace(self._stopped(calendar, now), status=ClockStatus.CANCELLED)
        return ClockUpdate(clock, (ClockEvent.CANCELLED,))

    def warn(self, *, now: datetime) -> ClockUpdate:
        """The warning timer fired: warn once, if the clock runs and the warning is due."""
        now = _instant(now)
        if (
            self.status is not ClockStatus.RUNNING
            or self.warn_due_at is None
            or now < self.warn_due_at
        ):
            return ClockUpdate(self, ())
        clock = replace(self, warned=True, warn_due_at=None)
        return ClockUpdate(clock, (ClockEvent.WARNED,), warned_due_at=self.warn_due_at)

    def breach(self, *, now: datetime) -> ClockUpdate:
        """The breach timer fired: breach once, if the clock runs and the breach is due."""
        now = _instant(now)
        if (
            self.status is not ClockStatus.RUNNING
            or self.breach_due_at is None
            or now < self.breach_due_at
        ):
            return ClockUpdate(self, ())
        return ClockUpdate(
            self._breached(), (ClockEvent.BREACHED,), breached_due_at=self.breach_due_at
        )

    def rebind(
        self,
        target: SlaTarget,
        *,
        calendar: BusinessCalendar,
        new_calendar: BusinessCalendar,
        now: datetime,
    ) -> Rebinding:
        """Measure against ``target`` on ``new_calendar`` from ``now``, keeping the time consumed.

        The business time of the current run is counted on the old ``calendar`` up to ``now``.
        Points the consumed time already reached fire in place (``warn_now``/``breach_now``);
        a finished clock is left as it is (no events).
        """
        now = _instant(now)
        if target.metric is not self.metric:
            raise SlaError(f"cannot rebind a {self.metric} clock to a {target.metric} target")
        if self.status not in OPEN_STATUSES:
            return Rebinding(self, (), self.target_ms, self.warn_due_at, self.breach_due_at)
        counting = self.status in _COUNTING
        warn_after = target.warn_after
        clock = replace(
            self._stopped(calendar, now),
            status=self.status,
            running_since=now if counting else None,
            target_ms=target.target // _MS,
            warn_after_ms=None if warn_after is None else warn_after // _MS,
        )
        clock, fired = clock._fire_reached()
        if counting:
            clock = clock._armed(new_calendar, now)
        return Rebinding(
            clock,
            (ClockEvent.REBOUND, *fired),
            old_target_ms=self.target_ms,
            old_warn_due_at=self.warn_due_at,
            old_breach_due_at=self.breach_due_at,
            warned_due_at=now if ClockEvent.WARNED in fired else None,
            breached_due_at=now if ClockEvent.BREACHED in fired else None,
        )

    # --- queries ----------------------------------------------------------------------------

    def consumed(self, *, calendar: BusinessCalendar, now: datetime) -> timedelta:
        """Business time used so far, the current run counted up to ``now``."""
        return self._consumed_ms(calendar, _instant(now)) * _MS

    def to_doc(self) -> SlaClockDoc:
        """The clock as plain fields for the case document (times as int epoch milliseconds)."""
        return {
            "metric": self.metric.value,
            "status": self.status.value,
            "target_ms": self.target_ms,
            "warn_after_ms": self.warn_after_ms,
            "started_at": _to_ms(self.started_at),
            "consumed_ms": self.consumed_ms,
            "running_since": _optional_ms(self.running_since),
            "warn_due_at": _optional_ms(self.warn_due_at),
            "breach_due_at": _optional_ms(self.breach_due_at),
            "warned": self.warned,
            "breached": self.breached,
            "met_at": _optional_ms(self.met_at),
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, object]) -> SlaClock:
        """The clock stored by ``to_doc``; a malformed or inconsistent document raises SlaError."""
        try:
            return cls(
                metric=SlaMetric(_str(doc, "metric")),
                status=ClockStatus(_str(doc, "status")),
                target_ms=_int(doc, "target_ms"),
                warn_after_ms=_optional_int(doc, "warn_after_ms"),
                started_at=_from_ms(_int(doc, "started_at")),
                consumed_ms=_int(doc, "consumed_ms"),
                running_since=_optional_time(doc, "running_since"),
                warn_due_at=_optional_time(doc, "warn_due_at"),
                breach_due_at=_optional_time(doc, "breach_due_at"),
                warned=_bool(doc, "warned"),
                breached=_bool(doc, "breached"),
                met_at=_optional_time(doc, "met_at"),
            )
        except KeyError as missing:
            raise SlaError(f"the SLA clock document lacks {missing}") from None
        except SlaError:
            raise
        except ValueError as error:  # an unknown metric or status
            raise SlaError(f"bad SLA clock document: {error}") from None

    # --- internals --------------------------------------------------------------------------

    def _consumed_ms(self, calendar: BusinessCalendar, now: datetime) -> int:
        if self.running_since is None:
            return self.consumed_ms
        run = calendar.business_time_between(self.running_since, max(now, self.running_since))
        return self.consumed_ms + _ceil_ms(run)

    def _stopped(self, calendar: BusinessCalendar, now: datetime) -> SlaClock:
        """Not counting: the run's business time added, the dues cleared (status unchanged)."""
        return replace(
            self,
            consumed_ms=self._consumed_ms(calendar, now),
            running_since=None,
            status=ClockStatus.PAUSED,
            warn_due_at=None,
            breach_due_at=None,
        )

    def _breached(self) -> SlaClock:
        status = ClockStatus.BREACHED if self.status is ClockStatus.RUNNING else self.status
        return replace(self, breached=True, status=status, warn_due_at=None, breach_due_at=None)

    def _fire_reached(self) -> tuple[SlaClock, tuple[ClockEvent, ...]]:
        """Fire the points ``consumed_ms`` already reached; a breach drops the pending warning."""
        if not self.breached and self.consumed_ms >= self.target_ms:
            return self._breached(), (ClockEvent.BREACHED,)
        if (
            not self.breached
            and not self.warned
            and self.warn_after_ms is not None
            and self.consumed_ms >= self.warn_after_ms
        ):
            return replace(self, warned=True, warn_due_at=None), (ClockEvent.WARNED,)
        return self, ()

    def _fired_dues(
        self, fired: tuple[ClockEvent, ...], now: datetime
    ) -> tuple[datetime | None, datetime | None]:
        """When the points ``fired`` in place fell due: this clock's armed dues, else ``now``."""
        warned = (self.warn_due_at or now) if ClockEvent.WARNED in fired else None
        breached = (self.breach_due_at or now) if ClockEvent.BREACHED in fired else None
        return warned, breached

    def _armed(self, calendar: BusinessCalendar, now: datetime) -> SlaClock:
        """The dues of the points not yet fired, for a run starting at ``now``."""
        if self.status is not ClockStatus.RUNNING:
            return replace(self, warn_due_at=None, breach_due_at=None)
        warn_due = None
        if self.warn_after_ms is not None and not self.warned:
            warn_due = _due(calendar, now, self.warn_after_ms - self.consumed_ms)
        breach_due = _due(calendar, now, self.target_ms - self.consumed_ms)
        return replace(self, warn_due_at=warn_due, breach_due_at=breach_due)


def _due(calendar: BusinessCalendar, now: datetime, remaining_ms: int) -> datetime:
    # Rounded up: a timer armed at a truncated due could fire a moment before the point.
    due = calendar.add_business_time(now, remaining_ms * _MS)
    return _from_ms(_ceil_ms(due - _EPOCH))


def _instant(now: datetime) -> datetime:
    """``now`` in UTC, truncated to the millisecond; naive datetimes are rejected."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got naive {now.isoformat()}")
    return _from_ms(_to_ms(now))


def _ceil_ms(value: timedelta) -> int:
    return -(-value // _MS)


def _to_ms(at: datetime) -> int:
    return (at - _EPOCH) // _MS


def _from_ms(ms: int) -> datetime:
    return _EPOCH + ms * _MS


def _optional_ms(at: datetime | None) -> int | None:
    return None if at is None else _to_ms(at)


def _str(doc: Mapping[str, object], key: str) -> str:
    value = doc[key]
    if not isinstance(value, str):
        raise SlaError(f"the SLA clock document's {key} must be a string, got {value!r}")
    return value


def _int(doc: Mapping[str, object], key: str) -> int:
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise SlaError(f"the SLA clock document's {key} must be an integer, got {value!r}")
    return value


def _optional_int(doc: Mapping[str, object], key: str) -> int | None:
    return None if doc.get(key) is None else _int(doc, key)


def _optional_time(doc: Mapping[str, object], key: str) -> datetime | None:
    ms = _optional_int(doc, key)
    return None if ms is None else _from_ms(ms)


def _bool(doc: Mapping[str, object], key: str) -> bool:
    value = doc[key]
    if not isinstance(value, bool):
        raise SlaError(f"the SLA clock document's {key} must be true or false, got {value!r}")
    return value
