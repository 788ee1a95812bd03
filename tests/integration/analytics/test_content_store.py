"""Content store on the real MongoDB-protocol server: latest snapshots, campaigns, replays, spend.

A generated history (content items with campaigns, posts on several networks, engagement
snapshots out of order, a tracked post never published, another brand) is recorded in
shuffled batches; what the store holds is compared with the newest snapshot per post and
the campaign of its item, worked out here without the store. Replays in other batchings,
concurrent recorders and late content items change nothing.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from smm_analytics.adapters.content_store import ContentStore, PostRow, SpendEntry, post_key
from smm_analytics.domain.rollups import latest_engagement
from smm_shared.config import MongoSettings
from smm_shared.events import (
    ContentCreated,
    ContentScheduled,
    EngagementObserved,
    Event,
    Network,
    PostPublished,
)
from smm_shared.mongo import Document

pytestmark = pytest.mark.integration

BRAND = "acme"
OTHER = "globex"
#: A Monday; every post of the history is published in the two weeks after it.
START = datetime(2026, 3, 2, tzinfo=UTC)
CAMPAIGNS = ("spring", "summer", None)
#: What each network reports (the others stay absent, never zero).
REPORTS: dict[Network, tuple[str, ...]] = {
    Network.X: ("likes", "comments", "shares", "views", "clicks"),
    Network.VK: ("likes", "comments", "shares", "views"),
    Network.TELEGRAM: ("views", "shares"),
    Network.YOUTUBE: ("likes", "comments", "views"),
}
#: Local (UTC) publication hours: few, so the weekday-hour cells hold several posts.
HOURS = (7, 9, 18)


@dataclass
class Expected:
    """What the history means, worked out without the store."""

    #: post key -> brand, network, native id, content id, campaign, title, published, counters
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class History:
    """Events of a generated history, and their meaning."""

    events: list[Event]
    expected: Expected


def _snapshot(
    brand: str, network: Network, native: str, at: datetime, rng: random.Random
) -> EngagementObserved:
    counters = {name: rng.randrange(0, 400) for name in REPORTS[network]}
    if "views" in counters:
        counters["views"] += 1_000
    return EngagementObserved(
        brand_id=brand, network=network, native_post_id=native, observed_at=at, **counters
    )


def history(seed: int = 7, items: int = 14) -> History:
    """Items with campaigns, 1-3 posts each, 1-4 snapshots per post, a tracked post, another brand."""
    rng = random.Random(seed)
    events: list[Event] = []
    expected = Expected()
    networks = list(REPORTS)
    for brand in (BRAND, OTHER):
        count = items if brand == BRAND else 3
        for i in range(count):
            content_id = f"{brand}-c{i}"
            campaign = CAMPAIGNS[i % len(CAMPAIGNS)]
            title = f"Item {i} of {brand}"
            created = START - timedelta(days=1, minutes=i)
            targets = rng.sample(networks, rng.randint(1, 3))
            events.append(
                ContentCreated(
                    brand_id=brand,
                    occurred_at=created,
                    content_id=content_id,
                    actor="user:olga",
                    title=title,
                    networks=targets,
                    campaign_id=campaign,
                    labels=["promo"],
                )
            )
            events.append(
                ContentScheduled(
                    brand_id=brand,
                    content_id=content_id,
                    actor="user:olga",
                    publish_at=START,
                    time_zone="UTC",
                )
            )
            for network in targets:
                native = f"{network.value}.{brand}.{i}"
                published = START + timedelta(
                    days=rng.randrange(0, 14), hours=rng.choice(HOURS), minutes=rng.randrange(60)
                )
                events.append(
                    PostPublished(
                        brand_id=brand,
                        occurred_at=published,
                        content_id=content_id,
                        actor="system:publisher",
                        delivery_id=f"{content_id}:{network.value}",
                        account_id=f"{brand}-{network.value}",
                        network=network,
                        attempts=1,
                        native_id=native,
                        url=f"https://{network.value}.example/{native}",
                    )
                )
                snapshots = [
                    _snapshot(brand, network, native, published + timedelta(hours=h + 1), rng)
                    for h in sorted(rng.sample(range(1, 200), rng.randint(0, 4)))
                ]
                events.extend(snapshots)
                newest = max(snapshots, key=lambda s: s.observed_at, default=None)
                post: dict[str, Any] = {
                    "brand": brand,
                    "network": network.value,
                    "native": native,
                    "content": content_id,
                    "campaign": campaign,
                    "title": title,
                    "published": published,
                    "observed": newest.observed_at if newest else None,
                    "counters": _reported(newest) if newest else {},
                }
                expected.posts[post_key(brand, network.value, native)] = post
    # A post of ours that ingest tracks but we never saw published.
    tracked = [
        _snapshot(BRAND, Network.VK, "vk.tracked", START + timedelta(days=3, hours=h), rng)
        for h in (5, 1, 9)
    ]
    events.extend(tracked)
    newest = max(tracked, key=lambda s: s.observed_at)
    expected.posts[post_key(BRAND, "vk", "vk.tracked")] = {
        "brand": BRAND,
        "network": "vk",
        "native": "vk.tracked",
        "content": None,
        "campaign": None,
        "title": None,
        "published": None,
        "observed": newest.observed_at,
        "counters": _reported(newest),
    }
    return History(events, expected)


def _reported(snapshot: EngagementObserved) -> dict[str, int]:
    names = ("likes", "comments", "shares", "views", "clicks")
    return {n: getattr(snapshot, n) for n in names if getattr(snapshot, n) is not None}


def batches(events: list[Event], seed: int, size: int) -> list[list[Event]]:
    """The events shuffled (out of order on purpose) and cut into batches of ``size``."""
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    return [shuffled[i : i + size] for i in range(0, len(shuffled), size)]


def as_expected(row: PostRow) -> dict[str, Any]:
    """A stored post in the shape of ``Expected.posts``."""
    return {
        "brand": row.brand_id,
        "network": row.network,
        "native": row.native_id,
        "content": row.content_id,
        "campaign": row.campaign_id,
        "title": row.title,
        "published": row.published_at,
        "observed": row.observed_at,
        "counters": dict(row.counters),
    }


async def stored(store: ContentStore) -> dict[str, dict[str, Any]]:
    """Every stored post, through the store's read of the widest range and the raw documents."""
    found: dict[str, dict[str, Any]] = {}
    start, end = START - timedelta(days=30), START + timedelta(days=300)
    for brand in (BRAND, OTHER):
        rows = await store.published_posts(brand_id=brand, start=start, end=end)
        rows += await store.tracked_posts(brand_id=brand, start=start, end=end)
        for row in rows:
            found[post_key(row.brand_id, row.network, row.native_id)] = as_expected(row)
    return found


async def raw(store: ContentStore) -> list[Document]:
    """Every document of every collection, to compare before and after a replay."""
    docs: list[Document] = []
    for collection in (store.items, store.posts, store.spend):
        docs += [doc async for doc in collection.find({}).sort("_id", 1)]
    return docs


def make_store(client: AsyncMongoClient[Document], settings: MongoSettings) -> ContentStore:
    db = client[settings.database]
    return ContentStore(db.content_items, db.content_posts, db.campaign_spend)


@pytest.fixture
async def store(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> ContentStore:
    made = make_store(mongo_client, mongo_settings)
    await made.ensure_indexes()
    return made


async def test_history_in_shuffled_batches_gives_newest_snapshot_and_campaign_per_post(
    store: ContentStore,
) -> None:
    made = history()
    # Out of order: snapshots before their post, posts before their item, in batches of 9.
    for batch in batches(made.events, seed=1, size=9):
        await store.record(batch)
    assert await stored(store) == made.expected.posts
    assert len(made.expected.posts) > 20
    assert any(p["campaign"] and p["observed"] for p in made.expected.posts.values())

    before = await raw(store)
    # Replays: every event again one by one, in other batchings, and twice within a batch.
    for event in reversed(made.events):
        await store.record([event])
    for batch in batches(made.events, seed=2, size=40):
        await store.record([*batch, *batch])
    await store.record(made.events)
    assert await raw(store) == before
    assert await stored(store) == made.expected.posts


async def test_concurrent_recorders_agree_with_one(
    store: ContentStore, mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> None:
    made = history(seed=21, items=10)
    other = make_store(mongo_client, mongo_settings)
    first, second = batches(made.events, seed=3, size=7), batches(made.events, seed=4, size=5)

    async def run(target: ContentStore, parts: list[list[Event]]) -> None:
        for part in parts:
            await target.record(part)

    await asyncio.gather(run(store, first), run(other, second))
    assert await stored(store) == made.expected.posts


async def test_out_of_order_snapshot_keeps_the_newest_and_counters_follow_it(
    store: ContentStore,
) -> None:
    def seen(at_h: int, **counters: int) -> EngagementObserved:
        return EngagementObserved(
            brand_id=BRAND,
            network=Network.X,
            native_post_id="x.1",
            observed_at=START + timedelta(hours=at_h),
            **counters,
        )

    newest = seen(5, likes=9, comments=1)  # views no longer reported, likes fell
    await store.record([seen(3, likes=12, views=500)])
    await store.record([newest])
    await store.record([seen(4, likes=99, views=900), seen(1, likes=1, views=5)])
    await store.record([seen(3, likes=12, views=500)])
    [row] = await store.tracked_posts(brand_id=BRAND, start=START, end=START + timedelta(days=1))
    assert row.counters == {"likes": 9, "comments": 1}
    assert row.observed_at == START + timedelta(hours=5)
    assert latest_engagement(newest).key == post_key(BRAND, "x", "x.1")

    # Published afterwards: the snapshot stays and the post gets its publication facts.
    await store.record([_published("c1", "x.1", START)])
    [row] = await store.published_posts(brand_id=BRAND, start=START, end=START + timedelta(1))
    assert (row.counters, row.published_at, row.content_id) == (
        {"likes": 9, "comments": 1},
        START,
        "c1",
    )
    assert row.campaign_id is None  # the item is not known yet
    assert await store.tracked_posts(brand_id=BRAND, start=START, end=START + timedelta(1)) == []


def _published(content_id: str, native: str, at: datetime) -> PostPublished:
    return PostPublished(
        brand_id=BRAND,
        occurred_at=at,
        content_id=content_id,
        actor="system:publisher",
        delivery_id=f"{content_id}:{native}",
        account_id="acme-x",
        network=Network.X,
        attempts=1,
        native_id=native,
    )


def _created(content_id: str, campaign: str | None) -> ContentCreated:
    return ContentCreated(
        brand_id=BRAND,
        content_id=content_id,
        actor="user:olga",
        title=f"Title of {content_id}",
        networks=[Network.X],
        campaign_id=campaign,
    )


async def test_item_arriving_after_its_posts_fills_their_campaign(store: ContentStore) -> None:
    day = START + timedelta(days=1)
    await store.record([_published("late", "x.a", START), _published("late", "x.b", START)])
    rows = await store.published_posts(brand_id=BRAND, start=START, end=day)
    assert {r.campaign_id for r in rows} == {None}
    await store.record([_created("late", "autumn")])
    rows = await store.published_posts(brand_id=BRAND, start=START, end=day, campaign_id="autumn")
    assert sorted(r.native_id for r in rows) == ["x.a", "x.b"]
    assert {r.title for r in rows} == {"Title of late"}
    # A publication replayed afterwards keeps the campaign; an earlier one moves published_at.
    await store.record([_published("late", "x.a", START + timedelta(hours=2))])
    await store.record([_published("late", "x.b", START - timedelta(hours=2))])
    rows = await store.published_posts(
        brand_id=BRAND, start=START - timedelta(days=1), end=day, campaign_id="autumn"
    )
    assert {r.native_id: r.published_at for r in rows} == {
        "x.a": START,
        "x.b": START - timedelta(hours=2),
    }
    assert await store.item_campaigns(brand_id=BRAND) == {"autumn"}
    assert await store.has_campaign_items(brand_id=BRAND, campaign_id="autumn")
    assert not await store.has_campaign_items(brand_id=OTHER, campaign_id="autumn")


async def test_item_stored_between_read_and_write_still_reaches_the_post(
    store: ContentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: a ContentCreated lands after our item read but before our post upsert."""
    await store.record([_created("raced", "winter")])
    real = store._item_fields
    calls: list[int] = []

    async def first_read_misses(keys: Any) -> dict[str, Document]:
        calls.append(1)
        return {} if len(calls) == 1 else await real(keys)

    monkeypatch.setattr(store, "_item_fields", first_read_misses)
    await store.record([_published("raced", "x.r", START)])
    assert len(calls) == 2
    rows = await store.campaign_posts(brand_id=BRAND, campaign_id="winter")
    assert [r.native_id for r in rows] == ["x.r"]


def _entry(entry_id: str, amount: int, currency: str) -> SpendEntry:
    return SpendEntry(
        id=entry_id,
        amount_minor=amount,
        currency=currency,
        spent_on=date(2026, 3, 1),
        created_at=START,
        created_by="user:olga",
    )


async def test_concurrent_spend_changes_all_land_and_one_currency_wins(
    store: ContentStore,
) -> None:
    def add(entry: SpendEntry) -> Any:
        def change(entries: list[SpendEntry]) -> list[SpendEntry]:
            if entries and entries[0].currency != entry.currency:
                raise ValueError("currency")
            return [*entries, entry]

        return change

    same = [_entry(f"e{i}", 100 + i, "RUB") for i in range(8)]
    await asyncio.gather(
        *(store.change_spend(brand_id=BRAND, campaign_id="s", change=add(e)) for e in same)
    )
    entries = await store.spend_entries(brand_id=BRAND, campaign_id="s")
    assert sorted(e.id for e in entries) == sorted(e.id for e in same)
    assert entries[0] == next(e for e in same if e.id == entries[0].id)

    mixed = [_entry(f"m{i}", 10, ("RUB", "USD")[i % 2]) for i in range(6)]
    results = await asyncio.gather(
        *(store.change_spend(brand_id=BRAND, campaign_id="m", change=add(e)) for e in mixed),
        return_exceptions=True,
    )
    entries = await store.spend_entries(brand_id=BRAND, campaign_id="m")
    assert len({e.currency for e in entries}) == 1
    assert len(entries) == sum(not isinstance(r, BaseException) for r in results) == 3
    assert await store.spend_entries(brand_id=OTHER, campaign_id="m") == []
    assert set(await store.spend_by_campaign(brand_id=BRAND)) == {"s", "m"}
