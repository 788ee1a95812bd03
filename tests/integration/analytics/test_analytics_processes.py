"""Analytics as real processes on the real broker and database.

A generated history of mentions, cases, SLA outcomes and posts is published to the
topics; two analytics processes in one consumer group per topic fold it (one of them is
killed half-way); the rollups then hold exactly the numbers this test computes from the
events itself, without the service's code. Publishing the whole history again changes
nothing.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from smm_analytics.adapters.rollup_store import RollupStore
from smm_analytics.domain.histograms import MAX_RELATIVE_ERROR, Histogram
from smm_shared.config import KafkaSettings, MongoSettings
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
    ReviewOutcome,
    Sentiment,
    SlaBreached,
    SlaMet,
)
from smm_shared.localstack import free_port, start_service
from smm_shared.messaging import EventPublisher, consumer_lag, create_broker
from smm_shared.mongo import create_mongo_client
from smm_shared.stack import Stack
from smm_shared.testing import eventually
from smm_shared.testing.plugin import StackFactory

pytestmark = pytest.mark.integration

BRAND = "acme"
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
START = NOW - timedelta(hours=30)
NETWORKS = (Network.X, Network.VK, Network.TELEGRAM)
LABELS = ("positive", "negative", "neutral")
GROUPS = ("analytics.mentions", "analytics.cases", "analytics.sla", "analytics.posts")


def _at(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.randrange(0, 28 * 3600))


def history(seed: int = 7, mentions: int = 600, cases: int = 120) -> list[Event]:
    """Mentions, cases with SLA outcomes and reviews, and published posts, at random times."""
    rng = random.Random(seed)
    found: list[Event] = []
    for i in range(mentions):
        network = rng.choice(NETWORKS)
        found.append(
            MentionReceived(
                brand_id=BRAND,
                mention=Mention(
                    mention_id=f"m{i}",
                    network=network,
                    kind=MentionKind.POST,
                    native_id=f"n{i}",
                    conversation_key=f"{network.value}:t{i}",
                    author=Author(id=f"u{rng.randrange(40)}", followers=rng.choice((None, 100))),
                    text=rng.choice(("card blocked again", "great app #love", "where is support")),
                    language="en",
                    created_at=_at(rng),
                    sentiment=Sentiment(label=rng.choice(LABELS)),
                ),
            )
        )
    for i in range(cases):
        opened, team = _at(rng), rng.choice(("billing", "cards"))
        found.append(
            CaseOpened(
                brand_id=BRAND,
                occurred_at=opened,
                case_id=f"c{i}",
                conversation_key=f"x:t{i}",
                network=Network.X,
                mention_id=f"m{i}",
            )
        )
        if rng.random() < 0.8:
            found.append(
                SlaMet(
                    brand_id=BRAND,
                    occurred_at=opened + timedelta(minutes=5),
                    case_id=f"c{i}",
                    metric="first_response",
                    policy_id="p",
                    department=team,
                    elapsed_s=rng.uniform(20, 3600),
                    within_target=rng.random() < 0.75,
                )
            )
        else:
            found.append(
                SlaBreached(
                    brand_id=BRAND,
                    occurred_at=opened + timedelta(minutes=10),
                    case_id=f"c{i}",
                    metric="first_response",
                    policy_id="p",
                    department=team,
                    due_at=opened + timedelta(minutes=10),
                    lateness_ms=0,
                )
            )
        if rng.random() < 0.6:
            found.append(
                CaseResolved(
                    brand_id=BRAND,
                    occurred_at=opened + timedelta(minutes=30),
                    case_id=f"c{i}",
                    conversation_key=f"x:t{i}",
                    actor="user:ann",
                    resolution_s=1800.0,
                    department=team,
                )
            )
            found.append(
                ReviewOutcome(
                    brand_id=BRAND,
                    occurred_at=opened + timedelta(minutes=40),
                    case_id=f"c{i}",
                    conversation_key=f"x:t{i}",
                    mention_id=f"m{i}",
                    outcome=rng.choice(("improved", "deleted", "unchanged", "worsened")),
                )
            )
    for i in range(30):
        found.append(
            PostPublished(
                brand_id=BRAND,
                occurred_at=_at(rng),
                content_id=f"ci{i}",
                actor="system:publisher",
                delivery_id=f"d{i}",
                account_id="acc",
                network=rng.choice(NETWORKS),
                attempts=1,
                native_id=f"p{i}",
            )
        )
    return found


def hour(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H")


class Expected:
    """The numbers the rollups must hold, computed from the events alone."""

    def __init__(self, events: list[Event]) -> None:
        self.mentions: Counter[str] = Counter()
        self.negative: Counter[str] = Counter()
        self.by_network: Counter[tuple[str, str]] = Counter()
        self.daily: Counter[str] = Counter()
        self.opened = self.resolved = 0
        self.met: Counter[str] = Counter()
        self.response_times: dict[str, list[float]] = defaultdict(list)
        self.reviews: Counter[str] = Counter()
        self.posts: Counter[str] = Counter()
        for e in events:
            match e:
                case MentionReceived():
                    slot = hour(e.mention.created_at)
                    self.mentions[slot] += 1
                    self.daily[slot[:10]] += 1
                    self.by_network[(e.mention.network.value, slot)] += 1
                    self.negative[slot] += e.mention.sentiment.label == "negative"
                case CaseOpened():
                    self.opened += 1
                case CaseResolved():
                    self.resolved += 1
                case SlaMet():
                    self.met["met" if e.within_target else "late"] += 1
                    self.response_times[e.department or ""].append(e.elapsed_s)
                case SlaBreached():
                    self.met["breached"] += 1
                case ReviewOutcome():
                    self.reviews[e.outcome] += 1
                case PostPublished():
                    self.posts[e.network.value] += 1


async def stored(store: RollupStore) -> dict[str, object]:
    """The same numbers read back from the rollups, as a dashboard would."""
    begin, end = START - timedelta(hours=1), NOW + timedelta(hours=1)

    async def series(metric: str, dimension: str, field: str) -> Counter[str]:
        found = await store.read_series(BRAND, metric, dimension, begin, end, "hour")
        return Counter({slot: c[field] for slot, c in found.items() if c.get(field)})

    by_network: Counter[tuple[str, str]] = Counter()
    for network in NETWORKS:
        counts = await series("mentions", f"network={network.value}", "count")
        by_network.update({(network.value, slot): n for slot, n in counts.items()})
    days = await store.read_series(BRAND, "mentions", "all", begin, end, "day")
    backlog = await store.read_series(BRAND, "backlog", "all", begin, end, "day")
    sla = await store.read_series(BRAND, "sla", "all", begin, end, "day")
    reviews = await store.read_series(BRAND, "reviews", "all", begin, end, "day")
    times = {}
    for team in ("billing", "cards"):
        found = await store.read_series(
            BRAND, "first_response_time", f"team={team}", begin, end, "day"
        )
        times[team] = Histogram.merge_counts(found.values())
    posts: Counter[str] = Counter()
    for network in NETWORKS:
        found = await store.read_series(
            BRAND, "posts", f"network={network.value}", begin, end, "day"
        )
        posts[network.value] = sum(c.get("published", 0) for c in found.values())

    def total(found: dict[str, dict[str, int]], field: str) -> int:
        return sum(c.get(field, 0) for c in found.values())

    return {
        "mentions": await series("mentions", "all", "count"),
        "negative": await series("mentions", "all", "negative"),
        "by_network": by_network,
        "daily": Counter({d: c["count"] for d, c in days.items()}),
        "opened": total(backlog, "opened"),
        "resolved": total(backlog, "resolved"),
        "met": Counter({k: total(sla, f"first_response_{k}") for k in ("met", "late", "breached")}),
        "reviews": +Counter(
            {k: total(reviews, k) for k in ("improved", "deleted", "unchanged", "worsened")}
        ),
        "posts": +posts,
        "times": times,
    }


def assert_exact(found: dict[str, object], want: Expected) -> None:
    assert found["mentions"] == want.mentions
    assert found["negative"] == +want.negative
    assert found["by_network"] == want.by_network
    assert found["daily"] == want.daily
    assert (found["opened"], found["resolved"]) == (want.opened, want.resolved)
    assert found["met"] == want.met
    assert found["reviews"] == +want.reviews
    assert found["posts"] == want.posts
    times = found["times"]
    assert isinstance(times, dict)
    for team, durations in want.response_times.items():
        histogram = times[team]
        assert histogram.count == len(durations)
        ordered = sorted(durations)
        for q in (0.5, 0.9, 0.95):
            exact = ordered[math.ceil(q * len(ordered)) - 1]  # nearest rank
            estimate = histogram.percentile(q)
            assert estimate is not None
            assert abs(estimate - exact) <= MAX_RELATIVE_ERROR * exact


async def publish(kafka: KafkaSettings, events: list[Event]) -> None:
    broker = create_broker(kafka, client_id="history")
    await broker.connect()
    try:
        publisher = EventPublisher(
            broker, source="/test", max_message_bytes=kafka.max_message_bytes
        )
        await asyncio.gather(*(publisher.publish(e) for e in events))
    finally:
        await broker.stop()


async def drained(kafka: KafkaSettings) -> bool:
    """Every analytics group has committed everything on its topic."""
    for group in GROUPS:
        topic = f"smm.{group.split('.')[1]}.v1"
        if sum((await consumer_lag(kafka, group_id=group, topic=topic)).values()):
            return False
    return True


async def consumed_ok(port: int) -> float:
    """Messages this process folded successfully (from its Prometheus metrics)."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("smm_consumer_messages_total{") and 'outcome="ok"' in line
    )


async def test_two_processes_fold_a_history_exactly_once_through_a_kill_and_a_replay(
    stack_factory: StackFactory, tmp_path: Path
) -> None:
    stack: Stack = stack_factory(services=("analytics",))
    kafka = KafkaSettings(bootstrap_servers=stack.bootstrap_servers)
    mongo = MongoSettings(url=stack.mongo_url, database="smm_analytics")
    port = free_port()
    second = start_service(
        "analytics",
        env={**stack.service_env("analytics"), "SMM_HTTP__PORT": str(port)},
        port=port,
        log_path=tmp_path / "analytics-2.log",
    )
    events = history()
    half = len(events) // 2
    client = create_mongo_client(mongo)
    db = client[mongo.database]
    store = RollupStore(db["buckets"], db["ledger"], db["buckets_day"])
    try:
        await publish(kafka, events[:half])
        await eventually(lambda: drained(kafka), timeout_s=60, what="first half folded")
        first_port = stack.config.ports["analytics"]
        assert await consumed_ok(first_port) > 0  # both processes take part
        assert await consumed_ok(port) > 0
        await publish(kafka, events[half:])
        await asyncio.sleep(0.3)
        second.kill()  # SIGKILL mid-stream: no clean shutdown, whatever it had in hand
        await eventually(lambda: drained(kafka), timeout_s=90, what="second half folded")
        want = Expected(events)
        assert_exact(await stored(store), want)

        # The whole history again (a replay of every topic): no number moves.
        await publish(kafka, events)
        await eventually(lambda: drained(kafka), timeout_s=90, what="replay folded")
        assert_exact(await stored(store), want)
        assert await db["ledger"].count_documents({}) == len(events)
    finally:
        second.stop()
        await client.close()
