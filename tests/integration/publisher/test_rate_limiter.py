"""MongoRateLimiter on the real MongoDB-protocol server: replicas racing for the same slots."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient

from smm_publisher.adapters.rate_limiter import MongoRateLimiter, counter_id
from smm_publisher.domain.rate_limits import Kind, Window, window_start_ms, windows_for
from smm_shared.config import MongoSettings
from smm_shared.events import Network
from smm_shared.mongo import Collection, Document, create_mongo_client

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SEVEN = Window("x.seven", 7, 60)
HOURLY = Window("x.hourly", 2, 3600)


def seven(network: Network, kind: Kind) -> tuple[Window, ...]:
    return (SEVEN,)


def seven_then_hourly(network: Network, kind: Kind) -> tuple[Window, ...]:
    return (SEVEN, HOURLY)


@pytest.fixture
async def counters(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> Collection:
    """The counters collection of a database no other test uses."""
    return mongo_client[mongo_settings.database]["rate_limits"]


@pytest.fixture
async def second_counters(mongo_settings: MongoSettings) -> AsyncIterator[Collection]:
    """The same collection through a second client, as another replica would see it."""
    client = create_mongo_client(mongo_settings)
    try:
        yield client[mongo_settings.database]["rate_limits"]
    finally:
        await client.close()


async def test_twenty_acquirers_on_two_replicas_get_exactly_the_limit(
    counters: Collection, second_counters: Collection
) -> None:
    one = MongoRateLimiter(counters, windows=seven)
    two = MongoRateLimiter(second_counters, windows=seven)
    await one.ensure_indexes()
    await two.ensure_indexes()

    answers = await asyncio.gather(
        *(
            (one if i % 2 else two).acquire(
                account_key="acme:x:1", network=Network.X, kind="post", now=T0
            )
            for i in range(20)
        )
    )

    assert answers.count(None) == 7
    assert [a for a in answers if a is not None] == [T0 + timedelta(minutes=1)] * 13
    assert await one.used(account_key="acme:x:1", window=SEVEN, now=T0) == 7
    assert await counters.count_documents({}) == 1


async def test_the_next_window_opens_again(counters: Collection) -> None:
    limiter = MongoRateLimiter(counters, windows=seven)
    for _ in range(7):
        assert (
            await limiter.acquire(account_key="a", network=Network.X, kind="post", now=T0) is None
        )
    assert await limiter.acquire(account_key="a", network=Network.X, kind="post", now=T0) == (
        T0 + timedelta(minutes=1)
    )

    later = T0 + timedelta(minutes=1)
    assert await limiter.acquire(account_key="a", network=Network.X, kind="post", now=later) is None
    assert await limiter.used(account_key="a", window=SEVEN, now=later) == 1
    # Another account was never limited by the first one's window.
    assert await limiter.acquire(account_key="b", network=Network.X, kind="post", now=T0) is None


async def test_slots_taken_before_a_full_window_are_given_back(counters: Collection) -> None:
    limiter = MongoRateLimiter(counters, windows=seven_then_hourly)
    for _ in range(2):
        assert (
            await limiter.acquire(account_key="a", network=Network.X, kind="post", now=T0) is None
        )

    # SEVEN has room, HOURLY is full: the slot SEVEN gave is handed back.
    answer = await limiter.acquire(account_key="a", network=Network.X, kind="post", now=T0)

    assert answer == T0 + timedelta(hours=1)
    assert await limiter.used(account_key="a", window=SEVEN, now=T0) == 2
    assert await limiter.used(account_key="a", window=HOURLY, now=T0) == 2
    # A minute later SEVEN is fresh but HOURLY still full: refused, and SEVEN stays at zero.
    later = T0 + timedelta(minutes=1)
    assert await limiter.acquire(account_key="a", network=Network.X, kind="post", now=later) == (
        T0 + timedelta(hours=1)
    )
    assert await limiter.used(account_key="a", window=SEVEN, now=later) == 0


async def test_concurrent_refusals_leave_no_slot_behind(
    counters: Collection, second_counters: Collection
) -> None:
    """Two replicas race 12 posts against 7-per-minute and 2-per-hour: 2 go, and the refunds
    leave the minute window at exactly the 2 slots that went."""
    one = MongoRateLimiter(counters, windows=seven_then_hourly)
    two = MongoRateLimiter(second_counters, windows=seven_then_hourly)

    answers = await asyncio.gather(
        *(
            (one if i % 2 else two).acquire(account_key="a", network=Network.X, kind="post", now=T0)
            for i in range(12)
        )
    )

    assert answers.count(None) == 2
    assert await one.used(account_key="a", window=SEVEN, now=T0) == 2
    assert await one.used(account_key="a", window=HOURLY, now=T0) == 2


async def test_a_replica_joining_an_existing_window_takes_the_slot_by_the_guarded_update(
    counters: Collection,
) -> None:
    limiter = MongoRateLimiter(counters, windows=seven)
    start = window_start_ms(T0, SEVEN)
    # Another replica created the period's counter a moment ago.
    await counters.insert_one(
        {"_id": counter_id("a", SEVEN, start), "count": 6, "expires_at_ms": start + 60_000}
    )

    assert await limiter.acquire(account_key="a", network=Network.X, kind="post", now=T0) is None
    assert await limiter.acquire(account_key="a", network=Network.X, kind="post", now=T0)
    assert await limiter.used(account_key="a", window=SEVEN, now=T0) == 7


async def test_a_refusal_names_the_latest_end_among_all_full_windows(counters: Collection) -> None:
    limiter = MongoRateLimiter(counters, windows=seven_then_hourly)
    for window, count in ((SEVEN, 7), (HOURLY, 2)):
        start = window_start_ms(T0, window)
        await counters.insert_one(
            {"_id": counter_id("a", window, start), "count": count, "expires_at_ms": start + 1}
        )

    # SEVEN refuses first; HOURLY is full too, and it opens last.
    answer = await limiter.acquire(account_key="a", network=Network.X, kind="post", now=T0)

    assert answer == T0 + timedelta(hours=1)
    assert await limiter.used(account_key="a", window=SEVEN, now=T0) == 7


async def test_the_real_table_limits_mastodon_statuses_across_posts_and_replies(
    counters: Collection,
) -> None:
    limiter = MongoRateLimiter(counters)
    api = next(w for w in windows_for(Network.MASTODON, "post") if w.name == "mastodon.api.5m")
    for i in range(api.limit):
        kind = "post" if i % 2 else "reply"
        assert (
            await limiter.acquire(account_key="m1", network=Network.MASTODON, kind=kind, now=T0)
            is None
        )

    answer = await limiter.acquire(account_key="m1", network=Network.MASTODON, kind="post", now=T0)

    assert answer == T0 + timedelta(minutes=5)
    statuses = next(w for w in windows_for(Network.MASTODON, "reply") if w.name != api.name)
    assert await limiter.used(account_key="m1", window=statuses, now=T0) == api.limit


async def test_purge_deletes_ended_windows_after_their_grace(counters: Collection) -> None:
    limiter = MongoRateLimiter(counters, windows=seven_then_hourly, grace_s=60, purge_every_s=None)
    await limiter.ensure_indexes()
    await limiter.acquire(account_key="a", network=Network.X, kind="post", now=T0)

    assert await limiter.purge(before=T0 + timedelta(minutes=2)) == 0  # SEVEN ended + 60 s grace
    assert await limiter.purge(before=T0 + timedelta(minutes=2, milliseconds=1)) == 1
    assert await limiter.used(account_key="a", window=SEVEN, now=T0) == 0
    assert await limiter.used(account_key="a", window=HOURLY, now=T0) == 1


async def test_acquire_purges_old_windows_now_and_then(counters: Collection) -> None:
    limiter = MongoRateLimiter(counters, windows=seven, grace_s=0, purge_every_s=600)
    await limiter.acquire(account_key="a", network=Network.X, kind="post", now=T0)

    # Within purge_every_s: the ended window stays.
    await limiter.acquire(
        account_key="a", network=Network.X, kind="post", now=T0 + timedelta(minutes=5)
    )
    assert await counters.count_documents({}) == 2
    # Past it: the acquire first deletes what ended.
    await limiter.acquire(
        account_key="a", network=Network.X, kind="post", now=T0 + timedelta(minutes=11)
    )
    assert [d["_id"] async for d in counters.find({})] == [
        counter_id("a", SEVEN, window_start_ms(T0 + timedelta(minutes=11), SEVEN))
    ]
