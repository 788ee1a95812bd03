"""Timers on the real nx-27017 server: deadlines, replicas, crashes, restarts and retries."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient

from smm_shared.config import MongoSettings
from smm_shared.mongo import Collection, Document, create_mongo_client
from smm_shared.testing.polling import eventually
from smm_shared.timers import (
    Backoff,
    Fired,
    FiredTimer,
    ManualClock,
    MongoTimerStore,
    Payload,
    ScheduleOutcome,
    TimerLoop,
    TimerState,
)

pytestmark = pytest.mark.integration

S = timedelta(seconds=1)
MS = timedelta(milliseconds=1)


class Recorder:
    """Counts handler calls per key; fails the first ``fail`` calls of each key."""

    def __init__(self, fail: int = 0) -> None:
        self.calls: Counter[str] = Counter()
        self.fired: dict[str, FiredTimer] = {}
        self.fail = fail

    async def __call__(self, timer: FiredTimer) -> None:
        self.calls[timer.key] += 1
        if self.calls[timer.key] <= self.fail:
            raise RuntimeError("network down")
        self.fired[timer.key] = timer


@pytest.fixture
def timers(mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings) -> Collection:
    return mongo_client[mongo_settings.database]["timers"]


@pytest.fixture
async def store(timers: Collection) -> MongoTimerStore:
    store = MongoTimerStore(timers)
    await store.ensure_indexes()
    return store


@pytest.fixture
async def other_replica(mongo_settings: MongoSettings) -> AsyncIterator[MongoTimerStore]:
    """The same collection through another client and store: its schedules wake no local loop."""
    client = create_mongo_client(mongo_settings)
    try:
        yield MongoTimerStore(client[mongo_settings.database]["timers"])
    finally:
        await client.close()


async def all_fired(store: MongoTimerStore, keys: list[str]) -> bool:
    for key in keys:
        timer = await store.get(key=key)
        if timer is None or timer.state is not TimerState.FIRED:
            return False
    return True


async def test_store_rules_hold_on_the_server(store: MongoTimerStore) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    handler = Recorder()
    loop = TimerLoop(store, handler=handler, owner_id="a", clock=clock)
    await store.ensure_indexes()  # idempotent
    due = clock.now() + 10 * S
    payload: Payload = {"case": "c1", "at": due, "tags": ["x", "y"], "n": {"k": 1.5}}
    assert await store.schedule(key="k", due_at=due, kind="t", payload=payload) == "created"
    timer = await store.get(key="k")
    assert timer is not None
    assert (timer.state, timer.due_at, timer.payload, timer.attempts) == (
        TimerState.PENDING,
        due,
        payload,
        0,
    )
    later = due + 5 * S
    assert (
        await store.schedule(key="k", due_at=later, kind="t", payload={})
        is ScheduleOutcome.RESCHEDULED
    )
    assert (
        await store.schedule(key="k", due_at=later, kind="t2", payload=payload)
        is ScheduleOutcome.UNCHANGED
    )
    timer = await store.get(key="k")
    assert timer is not None
    # Updates keep the payload's datetimes as dates, and times read back exactly.
    assert (timer.due_at, timer.kind, timer.payload) == (later, "t2", payload)
    # Sub-second differences count (nx-27017 compares datetimes at whole seconds; we do not).
    nudged = later + timedelta(milliseconds=300)
    assert (
        await store.schedule(key="k", due_at=nudged, kind="t", payload={})
        is ScheduleOutcome.RESCHEDULED
    )
    clock.advance_to(later + timedelta(milliseconds=299))
    assert await loop.run_due() == 0
    clock.advance(timedelta(milliseconds=1))
    assert await loop.run_due() == 1
    timer = await store.get(key="k")
    assert timer is not None
    assert (timer.state, timer.lateness, timer.fired_at, timer.owner) == (
        TimerState.FIRED,
        timedelta(0),
        nudged,
        "a",
    )
    assert (
        await store.schedule(key="k", due_at=later, kind="t", payload={})
        is ScheduleOutcome.ALREADY_FIRED
    )
    assert await store.cancel(key="k") is False
    assert (
        await store.schedule(key="k", due_at=later, kind="t", payload={}, rearm=True)
        is ScheduleOutcome.REARMED
    )
    assert await store.cancel(key="k") is True
    assert await store.get(key="k") is None
    assert await loop.run_due() == 0


async def test_reschedule_while_claimed_and_stale_outcomes(store: MongoTimerStore) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    await store.schedule(key="k", due_at=clock.now(), kind="t", payload={})
    first = await store.claim_due(now=clock.now(), owner="a", lease_s=10, limit=5)
    assert [(c.key, c.attempts) for c in first.claims] == [("k", 1)]
    assert (
        await store.schedule(key="k", due_at=clock.now(), kind="t", payload={})
        is ScheduleOutcome.UNCHANGED
    )
    assert (await store.claim_due(now=clock.now(), owner="b", lease_s=10, limit=5)).claims == []
    moved = clock.now() + 20 * S
    assert (
        await store.schedule(key="k", due_at=moved, kind="t", payload={})
        is ScheduleOutcome.RESCHEDULED
    )
    assert (
        await store.complete(completions=[Fired(claim=first.claims[0], fired_at=clock.now())]) == 0
    )
    timer = await store.get(key="k")
    assert timer is not None
    assert (timer.state, timer.due_at, timer.owner) == (TimerState.PENDING, moved, None)
    assert await store.next_run_at() == moved


async def test_fires_within_a_second_of_its_deadline(
    store: MongoTimerStore, other_replica: MongoTimerStore
) -> None:
    handler = Recorder()
    loop = TimerLoop(store, handler=handler, owner_id="a", max_idle_s=0.5)
    await loop.start()
    try:
        now = datetime.now(UTC)
        # One armed here (wakes the loop at once), one by another replica (seen by polling).
        await store.schedule(key="local", due_at=now + 0.3 * S, kind="t", payload={})
        await other_replica.schedule(key="remote", due_at=now + 0.4 * S, kind="t", payload={})
        await eventually(
            lambda: all_fired(store, ["local", "remote"]), timeout_s=5, what="both fired"
        )
    finally:
        await loop.stop()
    for key in ("local", "remote"):
        assert 0 <= handler.fired[key].lateness_s < 1.0, handler.fired[key]
        timer = await store.get(key=key)
        assert timer is not None
        assert timer.lateness is not None
        assert timedelta(0) <= timer.lateness < S
    assert handler.calls == {"local": 1, "remote": 1}


async def test_two_replicas_fire_200_timers_exactly_once(
    store: MongoTimerStore, other_replica: MongoTimerStore, mongo_settings: MongoSettings
) -> None:
    second_client = create_mongo_client(mongo_settings)
    second_store = MongoTimerStore(second_client[mongo_settings.database]["timers"])
    handler = Recorder()
    loops = [
        TimerLoop(store, handler=handler, owner_id="replica-a", claim_batch=8),
        TimerLoop(second_store, handler=handler, owner_id="replica-b", claim_batch=8),
    ]
    keys = [f"post:{i:03d}" for i in range(200)]
    due = datetime.now(UTC) + 3 * S
    try:
        # Armed before the loops start, so both sleep until the same deadline and contend
        # for the burst (started later, one would often find it all taken by the other).
        await asyncio.gather(
            *(
                other_replica.schedule(key=k, due_at=due, kind="publish", payload={"i": i})
                for i, k in enumerate(keys)
            )
        )
        for loop in loops:
            await loop.start()
        await eventually(lambda: all_fired(store, keys), timeout_s=30, what="200 timers fired")
    finally:
        for loop in loops:
            await loop.stop()
        await second_client.close()
    assert sorted(handler.calls) == keys
    assert set(handler.calls.values()) == {1}
    owners = Counter(t.owner for t in handler.fired.values())
    assert set(owners) == {"replica-a", "replica-b"}, owners  # both replicas took part
    stored = [await store.get(key=k) for k in keys]
    assert all(t is not None and t.attempts == 1 and t.lateness is not None for t in stored)


async def test_a_crashed_replicas_claim_fires_elsewhere_after_its_lease(
    store: MongoTimerStore,
) -> None:
    claimed = asyncio.Event()

    async def hangs(timer: FiredTimer) -> None:
        claimed.set()
        await asyncio.Event().wait()  # the crash comes first

    crashing = TimerLoop(store, handler=hangs, owner_id="crashing", lease_s=1.0)
    await store.schedule(
        key="sla:c1:first_response:breach", due_at=datetime.now(UTC), kind="sla.breach", payload={}
    )
    await crashing.start()
    await asyncio.wait_for(claimed.wait(), 5)
    await crashing.abandon()  # the task dies mid-handler: nothing is marked or released
    timer = await store.get(key="sla:c1:first_response:breach")
    assert timer is not None
    assert (timer.state, timer.owner) == (TimerState.CLAIMED, "crashing")

    handler = Recorder()
    survivor = TimerLoop(store, handler=handler, owner_id="survivor", lease_s=1.0)
    await survivor.start()
    try:
        await eventually(
            lambda: all_fired(store, ["sla:c1:first_response:breach"]),
            timeout_s=5,
            what="taken over",
        )
    finally:
        await survivor.stop()
    fired = handler.fired["sla:c1:first_response:breach"]
    assert (fired.attempt, fired.owner) == (2, "survivor")
    assert fired.lateness_s >= 0.9  # waited for the lease (1 s; BSON keeps milliseconds)
    timer = await store.get(key="sla:c1:first_response:breach")
    assert timer is not None
    assert (timer.owner, timer.attempts) == ("survivor", 2)


async def test_timers_due_while_no_loop_ran_fire_at_start(store: MongoTimerStore) -> None:
    now = datetime.now(UTC)
    keys = [f"k{i}" for i in range(20)]
    for i, key in enumerate(keys):
        await store.schedule(key=key, due_at=now - (i + 2) * S, kind="restart", payload={"i": i})
    handler = Recorder()
    loop = TimerLoop(store, handler=handler, owner_id="restarted")
    await loop.start()
    try:
        await eventually(lambda: all_fired(store, keys), timeout_s=10, what="overdue timers fired")
    finally:
        await loop.stop()
    for i, key in enumerate(keys):
        age = i + 2
        assert age <= handler.fired[key].lateness_s < age + 5
        timer = await store.get(key=key)
        assert timer is not None
        assert timer.lateness is not None
        # Stored to the millisecond, as BSON keeps times.
        assert timer.lateness == timedelta(milliseconds=handler.fired[key].lateness // MS)
    assert set(handler.calls.values()) == {1}


async def test_a_failing_handler_is_retried_until_it_fires(store: MongoTimerStore) -> None:
    failures_before = (
        REGISTRY.get_sample_value("smm_timer_failures_total", {"kind": "flaky"}) or 0.0
    )
    handler = Recorder(fail=3)
    loop = TimerLoop(
        store, handler=handler, owner_id="a", backoff=Backoff(initial_s=0.05, factor=2, max_s=0.2)
    )
    await loop.start()
    try:
        await store.schedule(key="flaky", due_at=datetime.now(UTC), kind="flaky", payload={})
        await eventually(
            lambda: all_fired(store, ["flaky"]), timeout_s=10, what="retried to success"
        )
    finally:
        await loop.stop()
    timer = await store.get(key="flaky")
    assert timer is not None
    assert (timer.attempts, timer.last_error) == (4, "RuntimeError: network down")
    assert handler.calls["flaky"] == 4
    assert handler.fired["flaky"].attempt == 4
    assert (
        REGISTRY.get_sample_value("smm_timer_failures_total", {"kind": "flaky"})
        == failures_before + 3
    )


async def test_purge_deletes_only_fired_timers_due_before_the_cutoff(
    store: MongoTimerStore,
) -> None:
    now = datetime.now(UTC)
    handled: list[str] = []

    async def handler(timer: FiredTimer) -> None:
        handled.append(timer.key)

    await store.schedule(key="fired-old", due_at=now - timedelta(days=10), kind="k", payload={})
    await store.schedule(key="pending-old", due_at=now + timedelta(days=10), kind="k", payload={})
    loop = TimerLoop(store, handler=handler, owner_id="purger", retain_fired_s=None)
    assert await loop.run_due() == 1
    assert handled == ["fired-old"]
    assert await store.purge_fired(due_before=now - timedelta(days=11)) == 0
    assert await store.purge_fired(due_before=now - timedelta(days=7)) == 1
    assert await store.get(key="fired-old") is None
    assert await store.get(key="pending-old") is not None
