"""Durable timers: deadlines stored as data and fired by a loop in each replica.

The responder (SLA deadlines) and the publisher (scheduled posts) keep their timers in a
collection of their own and run one :class:`TimerLoop` per replica (ARCHITECTURE.md §4)::

    store = MongoTimerStore(db.sla_timers)
    await store.ensure_indexes()
    loop = TimerLoop(store, handler=on_deadline, owner_id=f"responder-{new_id()}")
    await loop.start()
    await store.schedule(key=f"sla:{case_id}:first_response:warning", due_at=due,
                         kind="sla.warning", payload={"case_id": case_id})

Guarantees and what callers must do:

- **One firing at a time, across replicas.** A due timer is claimed atomically with a
  lease; two loops never hold the same timer. Its outcome is recorded only if the loop
  still holds the claim (same claim token).
- **At least once, so handlers are idempotent.** A replica that dies after the handler's
  effect but before recording it loses its lease, and the timer fires again elsewhere.
  Store the effect and its outgoing events in one document update (embedded outbox,
  ``smm_shared.mongo.with_outbox``) guarded by the timer key or a state check, so the
  second firing is a no-op. A handler running past ``handler_timeout_s`` (default half
  the lease) is cancelled and retried, so it cannot outlive its lease unnoticed.
- **Never dropped.** A handler that raises is retried with capped exponential backoff
  (``Backoff``), forever, logging at ERROR after ``alert_after`` attempts.
- **Survives restarts.** Timers that fell due while no loop ran fire at start; their
  ``lateness`` (fired_at - due_at) shows how late.
- **No order between due timers.** Due timers are claimed roughly earliest first, in
  batches, and handlers run concurrently (``max_in_flight``): two timers due together
  (or overdue after downtime) may fire in either order. Keep ordering rules in the
  domain (a breach handler that finds no warning sent yet decides what that means).
- **Within ~1 s.** The loop sleeps until the earliest deadline, at most ``max_idle_s``
  (0.5 s) so timers armed by other replicas are seen, and a ``schedule()`` in this
  process wakes it at once.

Re-scheduling rules (``schedule`` is an upsert keyed by the caller's key):

- pending or claimed with another deadline: the deadline moves (``RESCHEDULED``); a
  handler already running for the old deadline finishes but its outcome is not recorded;
- same deadline: only kind/payload are refreshed (``UNCHANGED``), so replaying a schedule
  neither fires it twice nor cuts a retry backoff short;
- fired: nothing changes (``ALREADY_FIRED``) unless ``rearm=True`` (``REARMED``). A
  deadline that should fire again is a new occurrence: give it a new key (e.g. with a
  sequence number) or pass ``rearm=True``. Fired records stay in the collection.
- ``cancel`` removes a pending or claimed timer (a running handler still finishes);
  fired records stay.

All times are timezone-aware; they are kept to the millisecond (BSON precision).
"""

from smm_shared.timers.clock import SYSTEM_CLOCK, Clock, ManualClock, SystemClock
from smm_shared.timers.loop import (
    TIMER_FAILURES,
    TIMER_LATENESS,
    TIMER_STALE_COMPLETIONS,
    TIMERS_FIRED,
    TimerHandler,
    TimerLoop,
)
from smm_shared.timers.memory import InMemoryTimerStore
from smm_shared.timers.model import (
    Backoff,
    Claim,
    ClaimBatch,
    Completion,
    Failed,
    Fired,
    FiredTimer,
    InvalidTimerError,
    Payload,
    PlainValue,
    Released,
    ScheduleOutcome,
    Timer,
    TimerState,
)
from smm_shared.timers.store import TIMER_INDEXES, MongoTimerStore, TimerConflictError, TimerStore

__all__ = [
    "SYSTEM_CLOCK",
    "TIMERS_FIRED",
    "TIMER_FAILURES",
    "TIMER_INDEXES",
    "TIMER_LATENESS",
    "TIMER_STALE_COMPLETIONS",
    "Backoff",
    "Claim",
    "ClaimBatch",
    "Clock",
    "Completion",
    "Failed",
    "Fired",
    "FiredTimer",
    "InMemoryTimerStore",
    "InvalidTimerError",
    "ManualClock",
    "MongoTimerStore",
    "Payload",
    "PlainValue",
    "Released",
    "ScheduleOutcome",
    "SystemClock",
    "Timer",
    "TimerConflictError",
    "TimerHandler",
    "TimerLoop",
    "TimerState",
    "TimerStore",
]
