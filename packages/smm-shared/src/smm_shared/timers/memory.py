"""An in-memory ``TimerStore`` with the same rules as the MongoDB one, for unit tests."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from smm_shared.mongo import new_id
from smm_shared.timers.model import (
    Claim,
    ClaimBatch,
    Completion,
    Failed,
    Fired,
    Listeners,
    Payload,
    Released,
    ScheduleListener,
    ScheduleOutcome,
    Timer,
    TimerState,
    check_key,
    check_kind,
    from_ms,
    normalize_payload,
    to_ms,
    utc_ms,
)


@dataclass(slots=True)
class _Record:
    key: str
    kind: str
    payload: dict[str, Any]
    due_ms: int
    state: TimerState
    run_ms: int | None
    attempts: int = 0
    owner: str | None = None
    token: str | None = None
    lease_until: datetime | None = None
    fired_at: datetime | None = None
    lateness_ms: int | None = None
    last_error: str | None = None

    def arm(self, *, kind: str, payload: dict[str, Any], due_ms: int) -> None:
        self.kind, self.payload, self.due_ms = kind, payload, due_ms
        self.state, self.run_ms, self.attempts = TimerState.PENDING, due_ms, 0
        self.owner = self.token = self.lease_until = None
        self.fired_at = self.lateness_ms = self.last_error = None

    def unclaim(self, run_ms: int) -> None:
        self.state, self.run_ms = TimerState.PENDING, run_ms
        self.owner = self.token = self.lease_until = None


class InMemoryTimerStore:
    """Timers in a dict: each method is one atomic step, like one MongoDB command."""

    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}
        self._listeners = Listeners()

    def subscribe(self, listener: ScheduleListener) -> Callable[[], None]:
        """Call ``listener(due_at)`` whenever this store arms a timer; returns unsubscribe."""
        return self._listeners.subscribe(listener)

    async def schedule(
        self, *, key: str, due_at: datetime, kind: str, payload: Payload, rearm: bool = False
    ) -> ScheduleOutcome:
        """Arm ``key`` to fire at ``due_at`` (upsert); a fired key is re-armed only with ``rearm``."""
        check_key(key)
        check_kind(kind)
        due = utc_ms(due_at)
        due_ms = to_ms(due)
        body = normalize_payload(payload)
        record = self._records.get(key)
        if record is None:
            record = _Record(key, kind, body, due_ms, TimerState.PENDING, due_ms)
            self._records[key] = record
            outcome = ScheduleOutcome.CREATED
        elif record.state is TimerState.FIRED:
            if not rearm:
                return ScheduleOutcome.ALREADY_FIRED
            record.arm(kind=kind, payload=body, due_ms=due_ms)
            outcome = ScheduleOutcome.REARMED
        elif record.due_ms == due_ms:
            record.kind, record.payload = kind, body
            return ScheduleOutcome.UNCHANGED
        else:
            record.arm(kind=kind, payload=body, due_ms=due_ms)
            outcome = ScheduleOutcome.RESCHEDULED
        self._listeners.notify(due)
        return outcome

    async def cancel(self, *, key: str) -> bool:
        """Disarm a pending or claimed timer; True if one was removed (fired timers stay)."""
        record = self._records.get(check_key(key))
        if record is None or record.state is TimerState.FIRED:
            return False
        del self._records[key]
        return True

    async def get(self, *, key: str) -> Timer | None:
        """The stored timer, or None."""
        return self._timer(check_key(key))

    async def claim_due(
        self, *, now: datetime, owner: str, lease_s: float, limit: int
    ) -> ClaimBatch:
        """Lease up to ``limit`` timers due at ``now`` to ``owner``, taken from the earliest due."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        now_ms = to_ms(now)
        due = sorted(
            (r for r in self._records.values() if r.run_ms is not None and r.run_ms <= now_ms),
            key=lambda r: (r.run_ms or 0, r.key),
        )[:limit]
        lease_until = utc_ms(now + timedelta(seconds=lease_s))
        token = new_id()
        claims = []
        for record in due:
            record.state, record.owner, record.token = TimerState.CLAIMED, owner, token
            record.lease_until, record.run_ms = lease_until, to_ms(lease_until)
            record.attempts += 1
            claims.append(
                Claim(
                    key=record.key,
                    kind=record.kind,
                    payload=cast(Payload, copy.deepcopy(record.payload)),
                    due_at=from_ms(record.due_ms),
                    attempts=record.attempts,
                    owner=owner,
                    token=token,
                    lease_until=lease_until,
                )
            )
        return ClaimBatch(claims=claims, candidates=len(due))

    async def next_run_at(self) -> datetime | None:
        """When the earliest armed timer becomes claimable (deadline, retry or lease expiry)."""
        armed = [r.run_ms for r in self._records.values() if r.run_ms is not None]
        return from_ms(min(armed)) if armed else None

    async def purge_fired(self, *, due_before: datetime) -> int:
        """Delete fired timers whose deadline is before ``due_before``; returns how many."""
        cutoff = to_ms(due_before)
        gone = [
            k for k, r in self._records.items() if r.state is TimerState.FIRED and r.due_ms < cutoff
        ]
        for key in gone:
            del self._records[key]
        return len(gone)

    async def complete(self, *, completions: Sequence[Completion]) -> int:
        """Record handler outcomes; returns how many still held their claim (the rest are stale)."""
        applied = 0
        for completion in completions:
            claim = completion.claim
            record = self._records.get(claim.key)
            if record is None or record.token != claim.token:
                continue
            applied += 1
            match completion:
                case Fired(fired_at=fired_at):
                    record.state, record.run_ms = TimerState.FIRED, None
                    record.token = record.lease_until = None
                    record.fired_at = utc_ms(fired_at)
                    record.lateness_ms = to_ms(fired_at) - record.due_ms
                case Failed(retry_at=retry_at, error=error):
                    record.unclaim(to_ms(retry_at))
                    record.last_error = error
                case Released(at=at):
                    record.unclaim(to_ms(at))
        return applied

    def snapshot(self) -> list[Timer]:
        """Every stored timer, ordered by key, for assertions."""
        return [t for key in sorted(self._records) if (t := self._timer(key)) is not None]

    def _timer(self, key: str) -> Timer | None:
        record = self._records.get(key)
        if record is None:
            return None
        return Timer(
            key=record.key,
            kind=record.kind,
            payload=cast(Payload, copy.deepcopy(record.payload)),
            due_at=from_ms(record.due_ms),
            state=record.state,
            attempts=record.attempts,
            next_run_at=from_ms(record.run_ms) if record.run_ms is not None else None,
            owner=record.owner,
            fired_at=record.fired_at,
            lateness=timedelta(milliseconds=record.lateness_ms)
            if record.lateness_ms is not None
            else None,
            last_error=record.last_error,
        )
