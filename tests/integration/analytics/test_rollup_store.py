"""Rollup buckets on the real MongoDB-protocol server: exactly once under replay, crash and races."""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from smm_analytics.adapters.rollup_store import (
    ABORTED,
    APPLIED,
    APPLYING,
    RollupStore,
    _guarded,
)
from smm_analytics.adapters.rollup_store import _stored as _stored_increment
from smm_analytics.domain.buckets import RangeTooLargeError
from smm_analytics.domain.histograms import Histogram, bin_bounds, bin_of
from smm_analytics.domain.rollups import BucketIncrement, increments_for, sum_by_key
from smm_shared.config import MongoSettings
from smm_shared.events import (
    Author,
    CaseOpened,
    CaseResolved,
    Event,
    Mention,
    MentionKind,
    MentionReceived,
    Network,
    PostPublished,
    Sentiment,
    SlaMet,
)
from smm_shared.mongo import Document, create_mongo_client, epoch_ms

pytestmark = pytest.mark.integration

BRAND = "acme"
DAY_MS = 24 * 3600 * 1000
START = datetime(2026, 11, 27, 21, tzinfo=UTC)
NETWORKS = (Network.VK, Network.X, Network.TELEGRAM)
LABELS = ("positive", "negative", "neutral", "mixed", "unknown")
TEXTS = ("Loving the #NewPhone camera", "battery died again #fail", "support never answers")

Totals = dict[str, dict[str, int]]


def _at(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.randrange(0, 5 * 3600))


def _history(seed: int = 11, mentions: int = 80, cases: int = 40) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    for i in range(mentions):
        network, label = rng.choice(NETWORKS), rng.choice(LABELS)
        events.append(
            MentionReceived(
                brand_id=BRAND,
                mention=Mention(
                    mention_id=f"m{i}",
                    network=network,
                    kind=MentionKind.POST,
                    native_id=f"n{i}",
                    conversation_key=f"{network.value}:c{i}",
                    author=Author(id=rng.choice(("u.1", "u$2")), followers=rng.choice((None, 10))),
                    text=rng.choice(TEXTS),
                    language=rng.choice(("en", None)),
                    created_at=_at(rng),
                    keywords=rng.choice(((), ("acme",), ("acme", "rival.co"))),
                    sentiment=Sentiment(label=label, score=None if label == "unknown" else 0.5),
                ),
            )
        )
    for i in range(cases):
        at, team = _at(rng), rng.choice(("billing", None))
        events.append(
            CaseOpened(
                brand_id=BRAND,
                occurred_at=at,
                case_id=f"case{i}",
                conversation_key=f"vk:c{i}",
                network=rng.choice(NETWORKS),
                mention_id=f"m{i}",
            )
        )
        events.append(
            SlaMet(
                brand_id=BRAND,
                occurred_at=at,
                case_id=f"case{i}",
                metric="first_response",
                policy_id="p",
                department=team,
                elapsed_s=rng.uniform(0, 20_000),
                within_target=rng.random() < 0.7,
            )
        )
        events.append(
            CaseResolved(
                brand_id=BRAND,
                occurred_at=at,
                case_id=f"case{i}",
                conversation_key=f"vk:c{i}",
                actor="user:ann",
                resolution_s=rng.uniform(0, 90_000),
                department=team,
            )
        )
    for i in range(10):
        events.append(
            PostPublished(
                brand_id=BRAND,
                occurred_at=_at(rng),
                content_id=f"c{i}",
                actor="system:publisher",
                delivery_id=f"d{i}",
                account_id="a",
                network=rng.choice(NETWORKS),
                attempts=1,
                native_id=f"p{i}",
            )
        )
    rng.shuffle(events)
    return events


def _expected(events: list[Event]) -> Totals:
    """Counters per bucket, summed here without the store's (or sum_by_key's) help."""
    totals: dict[str, dict[str, int]] = defaultdict(dict)
    for event in events:
        for inc in increments_for(event):
            counters = totals[inc.key]
            for name, amount in inc.inc.items():
                counters[name] = counters.get(name, 0) + amount
    return {k: {f: n for f, n in c.items() if n} for k, c in totals.items()}


async def _stored(store: RollupStore) -> Totals:
    found: Totals = {}
    async for doc in store.buckets.find({}):
        counters = {str(k): int(v) for k, v in dict(doc["c"]).items() if v}
        if counters:
            found[str(doc["_id"])] = counters
    return found


def _store(client: AsyncMongoClient[Document], settings: MongoSettings) -> RollupStore:
    db = client[settings.database]
    return RollupStore(db.rollup_buckets, db.rollup_ledger)


@pytest.fixture
async def store(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> RollupStore:
    made = _store(mongo_client, mongo_settings)
    await made.ensure_indexes()
    return made


def _items(events: list[Event]) -> list[tuple[str, list[BucketIncrement]]]:
    return [(e.event_id, increments_for(e)) for e in events]


async def test_applied_once_equals_independent_sums_and_replays_change_nothing(
    store: RollupStore,
) -> None:
    events = _history()
    expected = _expected(events)
    assert len(expected) > 50

    counted = [await store.apply(event_id, incs) for event_id, incs in _items(events)]
    assert all(counted)
    assert await _stored(store) == expected

    # The same events again, one by one: every apply says "seen".
    again = [await store.apply(event_id, incs) for event_id, incs in _items(events)]
    assert not any(again)
    # A shuffled replay through apply_batch (with repeats inside a batch) mixed with apply.
    replay = _items(events)
    random.Random(3).shuffle(replay)
    for start in range(0, len(replay), 25):
        chunk = replay[start : start + 25]
        assert await store.apply_batch([*chunk, chunk[0]]) == 0
        assert not await store.apply(*chunk[-1])
    assert await _stored(store) == expected
    assert await store.ledger.count_documents({}) == len(events)
    assert await store.batches.count_documents({"state": {"$ne": APPLIED}}) == 0


async def test_batches_and_single_applies_mixed_count_each_event_once(store: RollupStore) -> None:
    events = _history(seed=5)
    items = _items(events)
    half = len(items) // 2
    assert await store.apply_batch(items[:half]) == half
    # The second batch overlaps the first by ten events: only the new ones count.
    assert await store.apply_batch(items[half - 10 :]) == len(items) - half
    for item in items[::7]:
        assert not await store.apply(*item)
    assert await _stored(store) == _expected(events)


async def test_a_batch_that_crashed_mid_write_is_completed_once_on_replay(
    store: RollupStore,
) -> None:
    events = _history(seed=9, mentions=30, cases=10)
    items = _items(events)
    crashed = dict(items[:20])
    # Simulate a crash after the commit: the batch is stored, the bulk write reached only
    # some buckets (each of them atomically, token and counts), nothing was marked applied.
    token = "crashed-batch"
    assert await store._claim(token, list(crashed)) == list(crashed)
    summed = list(sum_by_key(i for incs in crashed.values() for i in incs).values())
    await store.batches.insert_one(
        {"_id": token, "state": APPLYING, "buckets": [_stored_increment(b) for b in summed]}
    )
    reached = summed[::2]
    await store._create(store.buckets, reached, hourly=True)
    await store.buckets.bulk_write(_guarded(token, reached), ordered=False)
    partly = await _stored(store)
    assert partly
    assert partly != _expected(events[:20])

    # The replay: one event of the crashed batch alone, then everything as a batch.
    first_id, first_incs = items[3]
    assert await store.apply(first_id, first_incs)  # completed the whole crashed batch
    assert await store.batches.count_documents({"state": APPLYING}) == 0
    assert await _stored(store) == _expected(events[:20])
    assert await store.apply_batch(items) == len(items) - 20
    assert await _stored(store) == _expected(events)

    # A committed batch nobody meets again is completed by recover_pending (start-up).
    lonely = BucketIncrement(BRAND, "posts", "all", "2026-11-27T22", {"published": 1})
    await store.batches.insert_one(
        {"_id": "stuck", "state": APPLYING, "buckets": [_stored_increment(lonely)]}
    )
    assert await store.recover_pending() == 1
    assert await store.recover_pending() == 0
    doubled = _expected(events)
    doubled.setdefault(lonely.key, {})
    doubled[lonely.key]["published"] = doubled[lonely.key].get("published", 0) + 1
    assert await _stored(store) == doubled


async def test_claims_that_never_committed_are_aborted_and_claimed_again(
    store: RollupStore,
) -> None:
    events = _history(seed=10, mentions=20, cases=5)
    items = _items(events)
    # A claimer died (or stalls) between its claims and its commit: nothing was written.
    assert await store._claim("orphan", [e for e, _ in items[:10]]) == [e for e, _ in items[:10]]
    assert await store.apply_batch(items) == len(items)  # the orphan's events count now
    assert await _stored(store) == _expected(events)
    orphan = await store.batches.find_one({"_id": "orphan"})
    assert orphan is not None
    assert orphan["state"] == ABORTED
    # Were the claimer alive, its commit would now fail: it has written nothing and
    # starts over, finding every event applied.
    with pytest.raises(DuplicateKeyError):
        await store.batches.insert_one({"_id": "orphan", "state": APPLYING})
    assert await store.apply_batch(items) == 0
    assert await _stored(store) == _expected(events)


async def test_two_concurrent_appliers_of_overlapping_events_count_each_once(
    store: RollupStore, mongo_settings: MongoSettings
) -> None:
    events = _history(seed=21)
    items = _items(events)
    other_client = create_mongo_client(mongo_settings)
    try:
        other = _store(other_client, mongo_settings)
        left, right = items[: len(items) * 2 // 3], items[len(items) // 3 :]
        random.Random(1).shuffle(right)

        async def one_by_one(
            target: RollupStore, chosen: list[tuple[str, list[BucketIncrement]]]
        ) -> None:
            for item in chosen:
                await target.apply(*item)

        async def batched(
            target: RollupStore, chosen: list[tuple[str, list[BucketIncrement]]]
        ) -> None:
            for start in range(0, len(chosen), 15):
                await target.apply_batch(chosen[start : start + 15])

        await asyncio.gather(
            one_by_one(store, left), batched(other, right), batched(store, right[::-1])
        )
    finally:
        await other_client.close()
    assert await _stored(store) == _expected(events)
    assert await store.batches.count_documents({"state": APPLYING}) == 0


def _exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


async def test_histograms_read_back_give_nearest_rank_percentiles(store: RollupStore) -> None:
    events = _history(seed=13, mentions=0, cases=120)
    assert await store.apply_batch(_items(events)) == len(events)
    resolved = [e.resolution_s for e in events if isinstance(e, CaseResolved)]
    first_ms = epoch_ms(START)
    to_ms = epoch_ms(START + timedelta(hours=6))
    by_slot = await store.read(BRAND, "case_resolution_time", "all", first_ms, to_ms)
    assert len(by_slot) == 5
    histogram = Histogram.merge_counts(by_slot.values())
    assert histogram.count == len(resolved)
    assert histogram.sum_ms == sum(round(s * 1000) for s in resolved)
    for q in (0.5, 0.9, 0.95, 0.99):
        exact = _exact(resolved, q)
        estimate = histogram.percentile(q)
        assert estimate is not None
        low, high = bin_bounds(bin_of(exact))
        assert low <= estimate <= high, (q, exact, estimate)

    billing = [e.elapsed_s for e in events if isinstance(e, SlaMet) and e.department == "billing"]
    team = await store.read(BRAND, "first_response_time", "team=billing", first_ms, to_ms)
    merged = Histogram.merge_counts(team.values())
    assert merged.count == len(billing)
    median = merged.percentile(0.5)
    assert median is not None
    low, high = bin_bounds(bin_of(_exact(billing, 0.5)))
    assert low <= median <= high


async def test_read_returns_the_slot_range_of_one_series_only(store: RollupStore) -> None:
    def post(brand: str, hour: int, network: Network = Network.VK) -> PostPublished:
        return PostPublished(
            brand_id=brand,
            occurred_at=START + timedelta(hours=hour, minutes=5),
            content_id="c",
            actor="system:publisher",
            delivery_id=f"d{brand}{hour}",
            account_id="a",
            network=network,
            attempts=1,
            native_id="p",
        )

    events: list[Event] = [post(BRAND, h) for h in range(6)]
    events += [post(BRAND, 2), post(BRAND, 2, Network.X), post(BRAND + "2", 2), post("acm", 2)]
    assert await store.apply_batch(_items(events)) == len(events)

    from_ms = epoch_ms(START + timedelta(hours=1))
    to_ms = epoch_ms(START + timedelta(hours=4))
    got = await store.read(BRAND, "posts", "all", from_ms, to_ms)
    assert got == {
        "2026-11-27T22": {"published": 1},
        "2026-11-27T23": {"published": 3},
        "2026-11-28T00": {"published": 1},
    }
    assert list(got) == sorted(got)
    vk = await store.read(BRAND, "posts", "network=vk", from_ms, to_ms)
    assert vk["2026-11-27T23"] == {"published": 2}
    assert await store.read(BRAND, "posts", "all", to_ms, to_ms) == {}
    assert await store.read("nobody", "posts", "all", from_ms, to_ms) == {}
    # A start inside an hour leaves that hour out (its slot starts before the range).
    inside = await store.read(BRAND, "posts", "all", from_ms + 1, to_ms)
    assert list(inside) == ["2026-11-27T23", "2026-11-28T00"]

    # The read walks an index: no collection scan (nx-27017 reports SQLite's plan).
    query = store.read_filter(BRAND, "posts", "all", from_ms, to_ms)
    plan = str((await store.buckets.find(query).explain())["queryPlanner"]["winningPlan"])
    assert "COLLSCAN" not in plan
    assert "'SCAN " not in plan
    with pytest.raises(RangeTooLargeError):
        await store.read(BRAND, "posts", "all", from_ms, from_ms + 94 * DAY_MS)


class _Now:
    """A settable clock for the store (its 'today' decides which days can be rolled)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _by_day(expected: Totals, metric: str, dimension: str) -> dict[str, dict[str, int]]:
    """Independent day sums of one series from the per-hour-bucket expectation."""
    prefix = f"{BRAND}|{metric}|{dimension}|"
    days: dict[str, dict[str, int]] = defaultdict(dict)
    for key, counters in expected.items():
        if key.startswith(prefix):
            day = days[key[len(prefix) :][:10]]
            for name, amount in counters.items():
                day[name] = day.get(name, 0) + amount
    return dict(days)


SERIES = (("mentions", "all"), ("mentions", "network=vk"), ("backlog", "all"), ("terms", "all"))
RANGE = (START - timedelta(days=2), START + timedelta(days=3))


async def _day_reads(store: RollupStore) -> dict[tuple[str, str], dict[str, dict[str, int]]]:
    return {
        (m, d): await store.read_series(BRAND, m, d, *RANGE, granularity="day") for m, d in SERIES
    }


def _day_expectation(events: list[Event]) -> dict[tuple[str, str], dict[str, dict[str, int]]]:
    expected = _expected(events)
    return {(m, d): _by_day(expected, m, d) for m, d in SERIES}


@pytest.fixture
async def timed_store(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> tuple[RollupStore, _Now]:
    now = _Now(START + timedelta(days=3))
    db = mongo_client[mongo_settings.database]
    made = RollupStore(db.rollup_buckets, db.rollup_ledger, db.rollup_days, now=now)
    await made.ensure_indexes()
    return made, now


async def test_day_series_are_exact_before_and_after_the_roll_and_after_a_late_write(
    timed_store: tuple[RollupStore, _Now],
) -> None:
    store, _ = timed_store
    events = _history(seed=21)
    await store.apply_batch(_items(events))
    expected = _day_expectation(events)
    assert len(expected[("mentions", "all")]) == 2  # the history spans two UTC days

    assert await _day_reads(store) == expected  # every day dirty: summed from hours
    assert await store.days.count_documents({"dirty": 1}) > 0
    assert await store.roll_days() == await store.days.count_documents({})
    assert await store.days.count_documents({"dirty": 1}) == 0
    assert await _day_reads(store) == expected  # every day clean: from the rolled counters

    late = _history(seed=22, mentions=5, cases=2)
    await store.apply_batch(_items(late))
    assert await store.days.count_documents({"dirty": 1}) > 0
    assert await _day_reads(store) == _day_expectation(events + late)
    await store.roll_days()
    assert await _day_reads(store) == _day_expectation(events + late)
    # Rolling again finds nothing to do and changes nothing.
    assert await store.roll_days() == 0
    assert await _day_reads(store) == _day_expectation(events + late)


async def test_rolls_racing_writes_never_leave_a_stale_clean_day(
    timed_store: tuple[RollupStore, _Now],
) -> None:
    store, _ = timed_store
    events = _history(seed=31, mentions=120, cases=30)
    items = _items(events)

    async def write() -> None:
        for start in range(0, len(items), 10):
            await store.apply_batch(items[start : start + 10])

    async def roll() -> None:
        for _ in range(40):
            await store.roll_days()
            await asyncio.sleep(0)

    await asyncio.gather(write(), roll(), roll())
    assert await _day_reads(store) == _day_expectation(events)
    await store.roll_days()
    assert await store.days.count_documents({"dirty": 1}) == 0
    assert await _day_reads(store) == _day_expectation(events)


async def test_backfill_older_than_hour_retention_counts_in_its_day_and_sweep_keeps_days(
    timed_store: tuple[RollupStore, _Now],
) -> None:
    store, now = timed_store
    events = _history(seed=41)
    await store.apply_batch(_items(events))
    await store.roll_days()
    expected = _day_expectation(events)

    # 100 days later the hours are swept, the days stay, and the numbers with them.
    now.at = START + timedelta(days=100)
    hours_gone, days_gone = await store.sweep()
    assert hours_gone > 0
    assert days_gone == 0
    assert await store.buckets.count_documents({}) == 0
    assert await _day_reads(store) == expected

    # A backfilled event from that old day: no hour bucket, counted once in the day.
    old = _history(seed=42, mentions=3, cases=1)
    assert await store.apply_batch(_items(old)) == len(old)
    assert await store.apply_batch(_items(old)) == 0
    assert await store.buckets.count_documents({}) == 0
    assert await _day_reads(store) == _day_expectation(events + old)

    # Three years on, the days go too.
    now.at = START + timedelta(days=3 * 365 + 5)
    _, days_gone = await store.sweep()
    assert days_gone > 0
    assert await store.days.count_documents({}) == 0


async def test_applied_batches_drop_their_increments_and_entries_carry_a_time(
    store: RollupStore,
) -> None:
    events = _history(seed=51, mentions=10, cases=2)
    await store.apply_batch(_items(events))
    entry = await store.ledger.find_one({"_id": events[0].event_id})
    assert entry is not None
    assert isinstance(entry["at"], datetime)
    batch = await store.batches.find_one({"_id": entry["batch"]})
    assert batch is not None
    assert batch["state"] == APPLIED
    assert "buckets" not in batch
    assert isinstance(batch["at"], datetime)


async def test_day_ranges_longer_than_day_retention_are_refused(store: RollupStore) -> None:
    with pytest.raises(RangeTooLargeError):
        await store.read_series(
            BRAND, "mentions", "all", START - timedelta(days=2000), START, granularity="day"
        )


async def test_a_rolled_day_of_authors_keeps_its_top_labels_and_an_exact_total(
    timed_store: tuple[RollupStore, _Now],
) -> None:
    store, _ = timed_store
    rng = random.Random(61)
    events: list[Event] = []
    for i in range(400):
        events.append(
            MentionReceived(
                brand_id=BRAND,
                mention=Mention(
                    mention_id=f"a{i}",
                    network=Network.X,
                    kind=MentionKind.POST,
                    native_id=f"a{i}",
                    conversation_key=f"x:a{i}",
                    author=Author(id=f"author{i % 260}", followers=1 + i % 260),
                    text="hello",
                    created_at=START + timedelta(minutes=rng.randrange(120)),
                    sentiment=Sentiment(label="neutral"),
                ),
            )
        )
    await store.apply_batch(_items(events))
    assert await store.apply_batch(_items(events)) == 0
    before = await store.read_series(BRAND, "authors", "all", *RANGE, granularity="day")
    await store.roll_days()
    after = await store.read_series(BRAND, "authors", "all", *RANGE, granularity="day")
    (day,) = before
    assert len(before[day]) == 260  # from the hours: every author
    assert len(after[day]) == 202  # rolled: the 200 largest, the rest, the floor
    assert sum(v for k, v in after[day].items() if k != "%_floor") == 400
    kept = {k: v for k, v in after[day].items() if not k.startswith("%_")}
    assert all(before[day][k] == v for k, v in kept.items())
    assert min(kept.values()) >= after[day]["%_floor"]


def _mention_at(i: int, at: datetime) -> MentionReceived:
    return MentionReceived(
        brand_id=BRAND,
        mention=Mention(
            mention_id=f"t{i}",
            network=Network.VK,
            kind=MentionKind.POST,
            native_id=f"t{i}",
            conversation_key=f"vk:t{i}",
            author=Author(id=f"a{i % 7}"),
            text="card blocked",
            created_at=at,
            sentiment=Sentiment(label="negative"),
        ),
    )


async def test_today_is_rolled_hour_by_hour_and_read_exactly_through_late_writes(
    timed_store: tuple[RollupStore, _Now],
) -> None:
    store, now = timed_store
    day = START.replace(hour=0)
    now.at = day + timedelta(hours=10, minutes=30)  # 10:30: hours 0-9 closed, 10 open
    events = [_mention_at(i, day + timedelta(hours=i % 11, minutes=5)) for i in range(110)]
    await store.apply_batch(_items(events))

    async def today() -> dict[str, int]:
        found = await store.read_series(
            BRAND, "mentions", "all", day, day + timedelta(days=1), granularity="day"
        )
        return found.get(day.strftime("%Y-%m-%d"), {})

    assert (await today())["count"] == 110
    assert await store.roll_days() > 0
    doc = await store.days.find_one({"_id": f"{BRAND}|mentions|all|{day:%Y-%m-%d}"})
    assert doc is not None
    assert sorted(json.loads(doc["rj"])) == [f"h{h:02d}" for h in range(10)]  # closed hours
    assert doc["dirty"] == 1  # hour 10 is still open
    assert json.loads(doc["cj"])["count"] == 100
    assert (await today())["count"] == 110  # the roll plus the open hour

    # A late write to a rolled hour, and one to the open hour: still exact.
    await store.apply_batch(_items([_mention_at(500, day + timedelta(hours=3, minutes=1))]))
    await store.apply_batch(_items([_mention_at(501, day + timedelta(hours=10, minutes=9))]))
    assert (await today())["count"] == 112
    await store.roll_days()
    assert (await today())["count"] == 112

    # Once the day is over, its last roll takes every hour and leaves it clean.
    now.at = day + timedelta(days=1, minutes=5)
    await store.roll_days()
    doc = await store.days.find_one({"_id": f"{BRAND}|mentions|all|{day:%Y-%m-%d}"})
    assert doc is not None
    assert doc["dirty"] == 0
    assert json.loads(doc["cj"])["count"] == 112
    assert (await today())["count"] == 112
