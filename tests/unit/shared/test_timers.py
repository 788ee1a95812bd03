"""Timers without I/O: the manual clock, the store rules, and the loop driven by fake time."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest
from prometheus_client import REGISTRY

from smm_shared.timers import (
    Backoff,
    Fired,
    FiredTimer,
    InMemoryTimerStore,
    InvalidTimerError,
    ManualClock,
    ScheduleOutcome,
    TimerLoop,
    TimerState,
)
from smm_shared.timers.model import from_ms, normalize_payload, to_ms, utc_ms

pytestmark = pytest.mark.unit

S = timedelta(seconds=1)


class Recorder:
    """A handler that records what it gets and fails the first ``fail`` calls of each key."""

    def __init__(self, fail: int = 0) -> None:
        self.fired: list[FiredTimer] = []
        self.calls: Counter[str] = Counter()
        self.queue: asyncio.Queue[FiredTimer] = asyncio.Queue()
        self.fail = fail

    async def __call__(self, timer: FiredTimer) -> None:
        self.calls[timer.key] += 1
        if self.calls[timer.key] <= self.fail:
            raise RuntimeError(f"boom {self.calls[timer.key]}")
        self.fired.append(timer)
        self.queue.put_nowait(timer)

    async def next(self) -> FiredTimer:
        # A safety net against a hang, not a wait for time to pass: fake time never passes.
        return await asyncio.wait_for(self.queue.get(), timeout=5)

    @property
    def keys(self) -> list[str]:
        return [t.key for t in self.fired]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def store() -> InMemoryTimerStore:
    return InMemoryTimerStore()


def make_loop(
    store: InMemoryTimerStore,
    clock: ManualClock,
    handler: Recorder,
    *,
    owner_id: str = "a",
    max_in_flight: int = 64,
    claim_batch: int = 32,
    backoff: Backoff | None = None,
) -> TimerLoop:
    # max_idle_s is fake time here: the loop only wakes when the test advances the clock.
    return TimerLoop(
        store,
        handler=handler,
        owner_id=owner_id,
        clock=clock,
        lease_s=30.0,
        max_idle_s=60.0,
        max_in_flight=max_in_flight,
        claim_batch=claim_batch,
        backoff=backoff,
    )


# ---------------------------------------------------------------------------- clock


async def test_manual_clock_wakes_sleepers_only_when_advanced(clock: ManualClock) -> None:
    start = clock.now()
    woke: list[datetime] = []

    async def sleeper(seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(clock.now())

    tasks = [asyncio.create_task(sleeper(s)) for s in (5, 2)]
    assert await clock.wait_for_sleeper(until=start + 5 * S) == start + 5 * S
    assert clock.next_wakeup == start + 2 * S
    clock.advance(1.5)
    await asyncio.sleep(0)
    assert woke == []
    clock.advance(timedelta(seconds=1))
    await tasks[1]
    assert woke == [start + 2.5 * S]
    clock.advance_to(start + 10 * S)
    await tasks[0]
    assert woke[-1] == start + 10 * S
    assert clock.next_wakeup is None
    await clock.sleep(0)  # no wait at all
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_manual_clock_needs_aware_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 1, 1))


# ---------------------------------------------------------------------------- model


def test_times_are_utc_milliseconds() -> None:
    plus2 = timezone(timedelta(hours=2))
    local = datetime(2026, 3, 2, 11, 0, 0, 123987, tzinfo=plus2)
    assert utc_ms(local) == datetime(2026, 3, 2, 9, 0, 0, 123000, tzinfo=UTC)
    assert from_ms(to_ms(local)) == utc_ms(local)
    with pytest.raises(InvalidTimerError, match="timezone-aware"):
        utc_ms(datetime(2026, 3, 2))


def test_payload_must_be_plain_values() -> None:
    when = datetime(2026, 3, 2, 9, 0, 0, 5999, tzinfo=UTC)
    assert normalize_payload(
        {"case": "c1", "n": 2, "tags": ("a", "b"), "at": when, "x": {"y": 1.5}}
    ) == {
        "case": "c1",
        "n": 2,
        "tags": ["a", "b"],
        "at": datetime(2026, 3, 2, 9, 0, 0, 5000, tzinfo=UTC),
        "x": {"y": 1.5},
    }
    for bad in (
        {"a": None},
        {"a": {1, 2}},
        {"$a": 1},
        {"a.b": 1},
        {"a": float("nan")},
        {"a": 2**64},
    ):
        with pytest.raises(InvalidTimerError):
            normalize_payload(bad)  # type: ignore[arg-type]


def test_backoff_grows_and_caps() -> None:
    backoff = Backoff(initial_s=1, factor=2, max_s=10)
    assert [backoff.delay_s(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert backoff.delay_s(10_000) == 10
    with pytest.raises(ValueError, match="initial_s"):
        Backoff(initial_s=0)


def test_fired_timer_lateness() -> None:
    due = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    fired = FiredTimer(
        key="k",
        kind="t",
        payload={},
        due_at=due,
        fired_at=due + timedelta(milliseconds=1250),
        attempt=1,
        owner="a",
    )
    assert fired.lateness == timedelta(milliseconds=1250)
    assert fired.lateness_s == 1.25


def test_loop_rejects_a_timeout_longer_than_the_lease(store: InMemoryTimerStore) -> None:
    with pytest.raises(ValueError, match="shorter than lease_s"):
        TimerLoop(store, handler=Recorder(), owner_id="a", lease_s=1, handler_timeout_s=1)
    with pytest.raises(ValueError, match="owner_id"):
        TimerLoop(store, handler=Recorder(), owner_id="")


# ---------------------------------------------------------------------------- store rules


async def test_schedule_reschedule_and_cancel(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    due = clock.now() + 10 * S
    assert (
        await store.schedule(key="k", due_at=due, kind="t", payload={"v": 1})
        is ScheduleOutcome.CREATED
    )
    timer = await store.get(key="k")
    assert timer is not None
    assert (timer.state, timer.due_at, timer.next_run_at, timer.payload) == (
        TimerState.PENDING,
        due,
        due,
        {"v": 1},
    )
    later = due + 5 * S
    assert (
        await store.schedule(key="k", due_at=later, kind="t", payload={"v": 2})
        is ScheduleOutcome.RESCHEDULED
    )
    assert (
        await store.schedule(key="k", due_at=later, kind="t", payload={"v": 3})
        is ScheduleOutcome.UNCHANGED
    )
    timer = await store.get(key="k")
    assert timer is not None
    assert (timer.due_at, timer.payload) == (later, {"v": 3})
    assert await store.cancel(key="k") is True
    assert await store.get(key="k") is None
    assert await store.cancel(key="k") is False
    with pytest.raises(InvalidTimerError):
        await store.schedule(key="", due_at=due, kind="t", payload={})


async def test_fired_key_is_not_rearmed_unless_asked(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    handler = Recorder()
    loop = make_loop(store, clock, handler)
    await store.schedule(key="k", due_at=clock.now(), kind="t", payload={})
    assert await loop.run_due() == 1
    again = clock.now() + S
    assert (
        await store.schedule(key="k", due_at=again, kind="t", payload={})
        is ScheduleOutcome.ALREADY_FIRED
    )
    assert await store.cancel(key="k") is False  # the fired record stays
    clock.advance(2)
    assert await loop.run_due() == 0
    assert (
        await store.schedule(key="k", due_at=again, kind="t", payload={}, rearm=True)
        is ScheduleOutcome.REARMED
    )
    assert await loop.run_due() == 1
    assert handler.keys == ["k", "k"]


# ---------------------------------------------------------------------------- loop, stepped by hand


async def test_nothing_fires_before_its_deadline_and_lateness_is_recorded(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    handler = Recorder()
    loop = make_loop(store, clock, handler)
    due = clock.now() + 10 * S
    await store.schedule(key="k", due_at=due, kind="sla.warning", payload={"case": "c1"})
    clock.advance(timedelta(seconds=9, milliseconds=999))
    assert await loop.run_due() == 0
    clock.advance(timedelta(seconds=2, milliseconds=1))
    assert await loop.run_due() == 1
    [fired] = handler.fired
    assert (fired.key, fired.kind, fired.payload, fired.due_at) == (
        "k",
        "sla.warning",
        {"case": "c1"},
        due,
    )
    assert fired.fired_at == clock.now()
    assert fired.lateness == 2 * S
    assert (fired.attempt, fired.owner) == (1, "a")
    timer = await store.get(key="k")
    assert timer is not None
    assert (timer.state, timer.lateness, timer.fired_at, timer.owner, timer.next_run_at) == (
        TimerState.FIRED,
        2 * S,
        clock.now(),
        "a",
        None,
    )
    assert await loop.run_due() == 0  # fired once only


async def test_overdue_timers_fire_earliest_first(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    handler = Recorder()
    loop = make_loop(store, clock, handler, max_in_flight=1, claim_batch=1)
    base = clock.now()
    for key, offset in (("c", 30), ("a", 10), ("d", 40), ("b", 20)):
        await store.schedule(key=key, due_at=base + offset * S, kind="t", payload={})
    clock.advance(60)
    assert await loop.run_due() == 4
    assert handler.keys == ["a", "b", "c", "d"]
    assert [t.lateness for t in handler.fired] == [50 * S, 40 * S, 30 * S, 20 * S]


async def test_reschedule_and_cancel_before_the_deadline(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    handler = Recorder()
    loop = make_loop(store, clock, handler)
    base = clock.now()
    await store.schedule(key="moved", due_at=base + 10 * S, kind="t", payload={})
    await store.schedule(key="cancelled", due_at=base + 10 * S, kind="t", payload={})
    await store.schedule(key="moved", due_at=base + 20 * S, kind="t", payload={})
    await store.cancel(key="cancelled")
    clock.advance(15)
    assert await loop.run_due() == 0
    clock.advance(5)
    assert await loop.run_due() == 1
    assert handler.keys == ["moved"]
    assert handler.fired[0].lateness == timedelta(0)


async def test_failing_handler_retries_with_backoff_and_is_never_dropped(
    store: InMemoryTimerStore, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    handler = Recorder(fail=6)
    backoff = Backoff(initial_s=1, factor=2, max_s=5, alert_after=3)
    loop = make_loop(store, clock, handler, backoff=backoff)
    due = clock.now()
    await store.schedule(key="k", due_at=due, kind="flaky", payload={})
    failures_before = (
        REGISTRY.get_sample_value("smm_timer_failures_total", {"kind": "flaky"}) or 0.0
    )
    caplog.set_level(logging.WARNING, logger="smm_shared.timers.loop")
    waits = []
    for _ in range(6):
        assert await loop.run_due() == 1
        timer = await store.get(key="k")
        assert timer is not None
        assert timer.state is TimerState.PENDING
        assert timer.last_error is not None
        assert timer.last_error.startswith("RuntimeError: boom")
        assert timer.next_run_at is not None
        waits.append((timer.next_run_at - clock.now()).total_seconds())
        clock.advance(timedelta(seconds=waits[-1]) - timedelta(milliseconds=1))
        assert await loop.run_due() == 0  # not before the backoff is over
        clock.advance(timedelta(milliseconds=1))
    assert waits == [1, 2, 4, 5, 5, 5]
    assert await loop.run_due() == 1
    timer = await store.get(key="k")
    assert timer is not None
    assert (timer.state, timer.attempts) == (TimerState.FIRED, 7)
    assert handler.fired[0].attempt == 7
    assert handler.fired[0].lateness == timedelta(seconds=sum(waits))
    assert (
        REGISTRY.get_sample_value("smm_timer_failures_total", {"kind": "flaky"})
        == failures_before + 6
    )
    levels = [r.levelno for r in caplog.records if "failed on attempt" in r.getMessage()]
    assert levels == [logging.WARNING] * 2 + [logging.ERROR] * 4


async def test_a_handler_exceeding_its_timeout_is_retried(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    calls = 0

    async def stuck_once(timer: FiredTimer) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.Event().wait()  # never set: only the timeout ends it

    loop = TimerLoop(
        store, handler=stuck_once, owner_id="a", clock=clock, lease_s=1, handler_timeout_s=0.01
    )
    await store.schedule(key="k", due_at=clock.now(), kind="t", payload={})
    assert await loop.run_due() == 1
    timer = await store.get(key="k")
    assert timer is not None
    assert (timer.state, timer.last_error) == (TimerState.PENDING, "TimeoutError")
    clock.advance(60)
    assert await loop.run_due() == 1
    assert calls == 2


async def test_expired_lease_goes_to_another_owner_and_the_late_outcome_is_refused(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    await store.schedule(key="k", due_at=clock.now(), kind="t", payload={})
    first = await store.claim_due(now=clock.now(), owner="a", lease_s=10, limit=10)
    assert [c.key for c in first.claims] == ["k"]
    assert (await store.claim_due(now=clock.now(), owner="b", lease_s=10, limit=10)).candidates == 0
    clock.advance(10)
    second = await store.claim_due(now=clock.now(), owner="b", lease_s=10, limit=10)
    assert [(c.key, c.owner, c.attempts) for c in second.claims] == [("k", "b", 2)]
    assert (
        await store.complete(completions=[Fired(claim=first.claims[0], fired_at=clock.now())]) == 0
    )
    assert (
        await store.complete(completions=[Fired(claim=second.claims[0], fired_at=clock.now())]) == 1
    )
    timer = await store.get(key="k")
    assert timer is not None
    assert (timer.state, timer.owner) == (TimerState.FIRED, "b")


async def test_rescheduling_while_firing_arms_the_new_deadline(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    release, started = asyncio.Event(), asyncio.Event()
    seen: list[datetime] = []

    async def slow(timer: FiredTimer) -> None:
        seen.append(timer.due_at)
        started.set()
        await release.wait()

    loop = TimerLoop(store, handler=slow, owner_id="a", clock=clock)
    first_due = clock.now()
    await store.schedule(key="k", due_at=first_due, kind="t", payload={})
    running = asyncio.create_task(loop.run_due())
    await asyncio.wait_for(started.wait(), 5)
    new_due = clock.now() + 30 * S
    assert (
        await store.schedule(key="k", due_at=new_due, kind="t", payload={})
        is ScheduleOutcome.RESCHEDULED
    )
    release.set()
    await running
    timer = await store.get(key="k")
    assert timer is not None
    assert (timer.state, timer.due_at) == (TimerState.PENDING, new_due)  # old outcome was stale
    clock.advance(30)
    assert await loop.run_due() == 1
    assert seen == [first_due, new_due]


# ---------------------------------------------------------------------------- loop in the background


async def test_loop_sleeps_until_the_earliest_deadline(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    handler = Recorder()
    loop = make_loop(store, clock, handler)
    await loop.start()
    try:
        idle_until = await clock.wait_for_sleeper(
            until=clock.now() + 60 * S
        )  # nothing armed: max_idle_s
        assert idle_until == clock.now() + 60 * S
        due = clock.now() + 3 * S
        await store.schedule(key="k", due_at=due, kind="t", payload={})  # wakes the loop
        await clock.wait_for_sleeper(until=due)
        assert handler.fired == []
        clock.advance(3)
        fired = await handler.next()
        assert (fired.key, fired.lateness) == ("k", timedelta(0))
    finally:
        await loop.stop()


async def test_local_schedule_wakes_the_loop_at_once(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    handler = Recorder()
    loop = make_loop(store, clock, handler)
    await loop.start()
    try:
        await clock.wait_for_sleeper()
        await store.schedule(key="now", due_at=clock.now(), kind="t", payload={})
        fired = await handler.next()  # the clock did not move
        assert fired.key == "now"
        assert fired.lateness == timedelta(0)
    finally:
        await loop.stop()


async def test_timers_due_before_start_fire_at_start_with_their_lateness(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    base = clock.now()
    for i in range(5):
        await store.schedule(key=f"k{i}", due_at=base + i * S, kind="t", payload={})
    clock.advance(3600)  # the service was down for an hour
    handler = Recorder()
    loop = make_loop(store, clock, handler)
    await loop.start()
    try:
        fired = [await handler.next() for _ in range(5)]
    finally:
        await loop.stop()
    assert sorted(t.key for t in fired) == [f"k{i}" for i in range(5)]
    assert {t.key: t.lateness for t in fired} == {f"k{i}": (3600 - i) * S for i in range(5)}
    assert all(t.state is TimerState.FIRED for t in store.snapshot())


async def test_many_due_timers_with_bounded_concurrency(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    active = peak = done = 0
    all_done = asyncio.Event()

    async def handler(timer: FiredTimer) -> None:
        nonlocal active, peak, done
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0)  # let the others start: concurrency shows only across a yield
        active -= 1
        done += 1
        if done == 100:
            all_done.set()

    loop = TimerLoop(
        store, handler=handler, owner_id="a", clock=clock, max_in_flight=8, claim_batch=5
    )
    for i in range(100):
        await store.schedule(key=f"k{i:03d}", due_at=clock.now(), kind="t", payload={})
    await loop.start()
    try:
        await asyncio.wait_for(all_done.wait(), 5)
    finally:
        await loop.stop()
    assert 1 < peak <= 8
    assert all(t.state is TimerState.FIRED for t in store.snapshot())


async def test_two_loops_on_one_store_fire_each_timer_once(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    handler = Recorder()
    loops = [make_loop(store, clock, handler, owner_id=o, claim_batch=3) for o in ("a", "b")]
    for i in range(50):
        await store.schedule(key=f"k{i:02d}", due_at=clock.now() + S, kind="t", payload={})
    for loop in loops:
        await loop.start()
    try:
        clock.advance(1)
        for loop in loops:
            loop.wake()
        fired = [await handler.next() for _ in range(50)]
    finally:
        for loop in loops:
            await loop.stop()
    assert sorted(t.key for t in fired) == [f"k{i:02d}" for i in range(50)]
    assert set(handler.calls.values()) == {1}


async def test_stop_releases_unfinished_claims_and_abandon_keeps_them(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    started = asyncio.Event()

    async def hangs(timer: FiredTimer) -> None:
        started.set()
        await asyncio.Event().wait()

    await store.schedule(key="k", due_at=clock.now(), kind="t", payload={})
    graceful = TimerLoop(store, handler=hangs, owner_id="a", clock=clock, drain_timeout_s=0)
    await graceful.start()
    await asyncio.wait_for(started.wait(), 5)
    await graceful.stop()
    timer = await store.get(key="k")
    assert timer is not None
    assert (timer.state, timer.next_run_at, timer.owner) == (TimerState.PENDING, clock.now(), None)

    started.clear()
    crashing = TimerLoop(store, handler=hangs, owner_id="b", clock=clock, lease_s=30)
    await crashing.start()
    await asyncio.wait_for(started.wait(), 5)
    await crashing.abandon()
    timer = await store.get(key="k")
    assert timer is not None
    assert (timer.state, timer.owner, timer.next_run_at) == (
        TimerState.CLAIMED,
        "b",
        clock.now() + 30 * S,
    )
    assert not crashing.running


async def test_metrics_count_fired_timers_and_their_lateness(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    def sample(name: str) -> float:
        return REGISTRY.get_sample_value(name, {"kind": "metered"}) or 0.0

    fired_before = sample("smm_timers_fired_total")
    count_before = sample("smm_timer_lateness_seconds_count")
    sum_before = sample("smm_timer_lateness_seconds_sum")
    loop = make_loop(store, clock, Recorder())
    await store.schedule(key="k", due_at=clock.now(), kind="metered", payload={})
    clock.advance(2)
    await loop.run_due()
    assert sample("smm_timers_fired_total") == fired_before + 1
    assert sample("smm_timer_lateness_seconds_count") == count_before + 1
    assert sample("smm_timer_lateness_seconds_sum") == pytest.approx(sum_before + 2)


async def test_fired_records_are_purged_after_the_retention(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    handler = Recorder()
    loop = TimerLoop(store, handler=handler, owner_id="a", clock=clock, retain_fired_s=86_400)
    await store.schedule(key="old", due_at=clock.now(), kind="k", payload={})
    await store.schedule(key="later", due_at=clock.now() + 2 * 86_400 * S, kind="k", payload={})
    assert await loop.run_due() == 1
    assert (
        await store.get(key="old")
    ) is not None  # fired, kept: a replayed schedule stays a no-op
    assert await loop.purge_fired() == 0  # not older than a day yet
    clock.advance(86_400 * S + S)
    assert await loop.purge_fired() == 1
    assert await store.get(key="old") is None
    later = await store.get(key="later")
    assert later is not None
    assert later.state is TimerState.PENDING  # armed timers are never purged


async def test_no_retention_keeps_fired_records(
    store: InMemoryTimerStore, clock: ManualClock
) -> None:
    loop = TimerLoop(store, handler=Recorder(), owner_id="a", clock=clock, retain_fired_s=None)
    await store.schedule(key="old", due_at=clock.now(), kind="k", payload={})
    await loop.run_due()
    clock.advance(365 * 86_400 * S)
    assert await loop.purge_fired() == 0
    assert await store.get(key="old") is not None
