"""Analytics benchmark on a private nx-27017: events folded per second, dashboard query p95.

Run: ``.venv/bin/python bench/bench_analytics.py [--fold-events 30000] [--batch 500]
[--small 10000] [--large 1000000] [--repeat 30] [--fold-history]``.

**Fold.** ``--fold-events`` events of a live stream (mentions with sentiment, authors,
hashtags and keyword labels, plus cases, SLA outcomes and reviews; one event in five is
not a mention), in time order over the last hours as a consumer sees them, are folded by
the real ``FoldService`` (rollup ledger, batch commit, guarded ``$inc``s, day markers,
brand registry) in batches of ``--batch`` (the consumer's ``max_records``). Printed:
events/s and ms per batch, then the same history again (a replay: every event skipped).

**Dashboards.** Two brands' histories of ``--small`` and ``--large`` mentions spread
over the last 90 days (plus one case with SLA outcomes per ten mentions) are written to
their own databases. The small one is folded by ``FoldService``; the large one is
written as the same bucket documents (``increments_for`` summed per hour with
``sum_by_key``, one batch marker each, as a stream folded in batches of 500 leaves
them), then every day is rolled, because folding a million events here takes about
fifteen minutes (``--fold-history`` folds it anyway). Then the dashboard's queries run
``--repeat`` times each through the real HTTP routes (FastAPI in-process, JWT checked):
mention volume by hour over 7 days, sentiment by day over 30 days for one network, top
terms and hashtags over 7 days, top authors by reach and share of voice over 30 days,
care (response-time percentiles, SLA met, backlog) over 30 days, the reputation index,
mention volume by day over 90 days. Printed: p50/p95/max per query and over all, for
both sizes, and the ratio of the p95s (target: p95 < 100 ms, within 1.5x).

The targets are reported, not enforced (a busy machine must not turn a figure into a
failure); the run exits 1 only when a number read back is wrong: the small history's
mention total by day must equal the number of mentions generated.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from pymongo import InsertOne

from smm_analytics.adapters.rollup_store import RollupStore, _hour_doc
from smm_analytics.api.metrics import router as metrics_router
from smm_analytics.domain.rollups import BucketIncrement, increments_for, sum_by_key
from smm_analytics.services.folding import FoldService
from smm_analytics.services.queries import QueryService
from smm_shared.auth import Role, SigningKey, StaticKeySource, TokenVerifier, issue_token
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
    ReviewOutcome,
    Sentiment,
    SlaMet,
)
from smm_shared.http import install_error_handlers
from smm_shared.localstack import free_port, mongo_url, start_mongo
from smm_shared.mongo import create_mongo_client, new_id

NETWORKS = (Network.X, Network.VK, Network.TELEGRAM, Network.INSTAGRAM, Network.FACEBOOK)
LABELS = ("positive", "negative", "neutral", "neutral", "mixed")
WORDS = [
    "card",
    "blocked",
    "app",
    "crash",
    "support",
    "slow",
    "great",
    "love",
    "fee",
    "refund",
    "transfer",
    "login",
    "password",
    "branch",
    "queue",
    "mortgage",
    "loan",
    "rate",
    "cashback",
    "limit",
    "deposit",
    "atm",
    "cash",
    "chat",
    "wait",
    "phone",
    "call",
    "thanks",
    "awful",
    "quick",
    "helpful",
    "broken",
    "update",
    "review",
    "premium",
    "travel",
    "insurance",
]
TAGS = ("#fail", "#love", "#bank", "#cashback", "#outage", "#travel")
VOICES = ((), ("acme",), ("acme",), ("acme", "rival"), ("rival",), ("other",))
ISSUER, AUDIENCE = "bench", "smm-platform"


def mention(rng: random.Random, brand: str, at: datetime) -> MentionReceived:
    network = rng.choice(NETWORKS)
    text = " ".join(rng.sample(WORDS, 7)) + " " + rng.choice(TAGS)
    label = rng.choice(LABELS)
    return MentionReceived(
        brand_id=brand,
        mention=Mention(
            mention_id=new_id(),
            network=network,
            kind=MentionKind.COMMENT,
            native_id=new_id(),
            conversation_key=f"{network.value}:{rng.randrange(10**9)}",
            author=Author(id=f"u{rng.randrange(20_000)}", followers=rng.randrange(50_000)),
            text=text,
            language="en",
            created_at=at,
            keywords=rng.choice(VOICES),
            sentiment=Sentiment(label=label, score=rng.uniform(-1, 1)),
        ),
    )


def care(rng: random.Random, brand: str, at: datetime) -> list[Event]:
    case_id, team = new_id(), rng.choice(("billing", "cards", "app"))
    return [
        CaseOpened(
            brand_id=brand,
            occurred_at=at,
            case_id=case_id,
            conversation_key=f"x:{case_id}",
            network=Network.X,
            mention_id=new_id(),
        ),
        SlaMet(
            brand_id=brand,
            occurred_at=at + timedelta(minutes=4),
            case_id=case_id,
            metric="first_response",
            policy_id="p",
            department=team,
            assignee_id=f"agent{rng.randrange(12)}",
            elapsed_s=rng.lognormvariate(5.5, 1.0),
            within_target=rng.random() < 0.85,
        ),
        CaseResolved(
            brand_id=brand,
            occurred_at=at + timedelta(minutes=40),
            case_id=case_id,
            conversation_key=f"x:{case_id}",
            actor="user:a",
            resolution_s=rng.lognormvariate(8, 1.0),
            department=team,
        ),
        ReviewOutcome(
            brand_id=brand,
            occurred_at=at + timedelta(hours=2),
            case_id=case_id,
            conversation_key=f"x:{case_id}",
            mention_id=new_id(),
            outcome=rng.choice(("improved", "deleted", "unchanged", "worsened")),
        ),
    ]


def history(
    brand: str, mentions: int, *, span: timedelta, end: datetime, seed: int
) -> Iterator[list[Event]]:
    """Events in time order, one hour at a time (about ``mentions`` mentions over ``span``)."""
    rng = random.Random(seed)
    hours = max(1, int(span.total_seconds() // 3600))
    per_hour = mentions / hours
    made = 0
    start = end - timedelta(hours=hours)
    for h in range(hours):
        hour_start = start + timedelta(hours=h)
        want = round(per_hour * (h + 1)) - made
        events: list[Event] = []
        for _ in range(want):
            at = hour_start + timedelta(seconds=rng.uniform(0, 3599))
            events.append(mention(rng, brand, at))
            if rng.random() < 0.1:
                events.extend(care(rng, brand, at))
        made += want
        events.sort(key=lambda e: e.occurred_at)
        yield events


@dataclass
class Database:
    store: RollupStore
    fold: FoldService


def database(client: object, name: str) -> Database:
    db = client[name]  # type: ignore[index]
    store = RollupStore(db["buckets"], db["ledger"], db["buckets_day"])
    return Database(store, FoldService(store=store, brands=db["brands"]))


async def fold_all(
    db: Database, batches: Iterator[list[Event]], size: int
) -> tuple[int, float, list[float]]:
    """Fold every event in batches of ``size``; events, seconds and per-batch seconds."""
    pending: list[Event] = []
    count, took = 0, []
    started = time.perf_counter()

    async def flush(chunk: list[Event]) -> None:
        t = time.perf_counter()
        await db.fold.fold(chunk)
        took.append(time.perf_counter() - t)

    for events in batches:
        pending.extend(events)
        while len(pending) >= size:
            chunk, pending = pending[:size], pending[size:]
            await flush(chunk)
            count += len(chunk)
    if pending:
        await flush(pending)
        count += len(pending)
    return count, time.perf_counter() - started, took


async def write_buckets(db: Database, batches: Iterator[list[Event]]) -> int:
    """The bucket documents a fold of these events leaves, written directly; mentions written."""
    mentions = 0
    summed: dict[str, BucketIncrement] = {}
    for events in batches:
        mentions += sum(isinstance(e, MentionReceived) for e in events)
        for key, b in sum_by_key(i for e in events for i in increments_for(e)).items():
            total = summed.setdefault(
                key, BucketIncrement(b.brand_id, b.metric, b.dimension, b.slot)
            )
            for name, n in b.inc.items():
                total.inc[name] = total.inc.get(name, 0) + n
    buckets = list(summed.values())
    for start in range(0, len(buckets), 2000):
        chunk = buckets[start : start + 2000]
        # The documents the store creates, filled as a fold of these events leaves them.
        docs = [
            {**_hour_doc(b), "c": {k: v for k, v in b.inc.items() if v}, "ev": [new_id()]}
            for b in chunk
        ]
        await db.store.buckets.bulk_write([InsertOne(d) for d in docs], ordered=False)
        await db.store._mark_dirty(chunk)
    return mentions


QUERIES: tuple[tuple[str, str, dict[str, object]], ...] = (
    (
        "volume by hour, 7 d",
        "/v1/metrics/series",
        {"metric": "mentions", "granularity": "hour", "days": 7},
    ),
    (
        "sentiment by day, 30 d, X",
        "/v1/metrics/series",
        {"metric": "mentions", "granularity": "day", "network": "x", "days": 30},
    ),
    ("top terms, 7 d", "/v1/metrics/top", {"kind": "terms", "days": 7}),
    ("top hashtags, 7 d", "/v1/metrics/top", {"kind": "hashtags", "days": 7}),
    ("top authors by reach, 30 d", "/v1/metrics/top", {"kind": "authors_by_reach", "days": 30}),
    ("share of voice, 30 d", "/v1/metrics/top", {"kind": "share_of_voice", "days": 30}),
    ("care, 30 d", "/v1/metrics/care", {"days": 30}),
    ("reputation, 30 d", "/v1/metrics/reputation", {"days": 30}),
    (
        "volume by day, 90 d",
        "/v1/metrics/series",
        {"metric": "mentions", "granularity": "day", "days": 90},
    ),
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


async def dashboards(db: Database, brand: str, repeat: int) -> dict[str, list[float]]:
    """Each dashboard query ``repeat`` times through the HTTP routes; ms per call by query."""
    key = SigningKey.generate()
    app = FastAPI()
    install_error_handlers(app)
    app.state.token_verifier = TokenVerifier(
        StaticKeySource({key.kid: key.verification_key()}), issuer=ISSUER, audience=AUDIENCE
    )
    app.state.queries = QueryService(db.store)
    app.include_router(metrics_router)
    token = issue_token(
        key=key,
        subject="bench",
        roles=[Role.ANALYST],
        brands=[brand],
        ttl=timedelta(hours=2),
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    now = datetime.now(UTC)
    timings: dict[str, list[float]] = {name: [] for name, _, _ in QUERIES}
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers=headers
    ) as client:
        for round_ in range(repeat + 1):
            for name, path, spec in QUERIES:
                params = {k: str(v) for k, v in spec.items() if k != "days"}
                params["brand_id"] = brand
                params["from"] = (now - timedelta(days=int(str(spec["days"])))).isoformat()
                params["to"] = now.isoformat()
                started = time.perf_counter()
                response = await client.get(path, params=params)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:300]}")
                if round_:  # the first round warms caches and is not counted
                    timings[name].append(elapsed)
    return timings


async def total_mentions(db: Database, brand: str) -> int:
    now = datetime.now(UTC)
    days = await db.store.read_series(
        brand, "mentions", "all", now - timedelta(days=92), now + timedelta(hours=1), "day"
    )
    return sum(c.get("count", 0) for c in days.values())


def report(label: str, timings: dict[str, list[float]]) -> float:
    every = [t for values in timings.values() for t in values]
    print(f"  {label}")
    for name, values in timings.items():
        print(
            f"    {name:30s} p50 {statistics.median(values):7.1f} ms  "
            f"p95 {percentile(values, 0.95):7.1f} ms  max {max(values):7.1f} ms"
        )
    p95 = percentile(every, 0.95)
    print(f"    {'all queries':30s} p50 {statistics.median(every):7.1f} ms  p95 {p95:7.1f} ms")
    return p95


async def bench(url: str, args: argparse.Namespace) -> bool:
    client = create_mongo_client(MongoSettings(url=url, database="bench"))
    ok = True
    try:
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        # --- fold throughput ---------------------------------------------------------
        live = database(client, "bench_fold")
        await live.store.ensure_indexes()
        span = timedelta(hours=max(1, args.fold_events // 4000))
        events = [
            e
            for hour in history("live", int(args.fold_events * 0.8), span=span, end=now, seed=1)
            for e in hour
        ]
        count, seconds, took = await fold_all(live, iter([events]), args.batch)
        print(
            f"fold: {count} events ({span.total_seconds() / 3600:.0f} h of a live stream) in "
            f"batches of {args.batch}: {count / seconds:,.0f} events/s, "
            f"{statistics.median(took) * 1000:.0f} ms per batch (p95 {percentile(took, 0.95) * 1000:.0f} ms)"
        )
        _, replay_s, _ = await fold_all(live, iter([events]), args.batch)
        print(
            f"fold: the same events again (a replay, all skipped): {count / replay_s:,.0f} events/s"
        )

        # --- dashboards at two history sizes ------------------------------------------
        p95s = []
        for label, size, brand in (("small", args.small, "small"), ("large", args.large, "large")):
            db = database(client, f"bench_{label}")
            await db.store.ensure_indexes()
            started = time.perf_counter()
            stream = history(brand, size, span=timedelta(days=90), end=now, seed=2)
            if label == "small" or args.fold_history:
                _, _, _ = await fold_all(db, stream, 500)
                how = "folded"
            else:
                await write_buckets(db, stream)
                how = "written as buckets"
            await db.store.roll_days()
            buckets = await db.store.buckets.count_documents({})
            print(
                f"history {label}: {size:,} mentions over 90 days {how} in "
                f"{time.perf_counter() - started:.0f} s; {buckets:,} hour buckets"
            )
            counted = await total_mentions(db, brand)
            if counted != size:
                print(f"history {label}: WRONG: {counted} mentions counted, {size} written")
                ok = False
            timings = await dashboards(db, brand, args.repeat)
            p95s.append(
                report(f"dashboard queries, {size:,} mentions ({args.repeat} runs each)", timings)
            )
        ratio = p95s[1] / p95s[0]
        target = "met" if max(p95s) < 100 and ratio <= 1.5 else "NOT met"
        print(
            f"dashboard p95: {p95s[0]:.1f} ms at {args.small:,}, {p95s[1]:.1f} ms at "
            f"{args.large:,} mentions; ratio {ratio:.2f} (target p95 < 100 ms, ratio <= 1.5: {target})"
        )
    finally:
        await client.close()
    return ok


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fold-events", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--fold-history", action="store_true", help="fold the large history too")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    print(f"analytics: machine {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as tmp:
        port = free_port()
        server = start_mongo(port=port, data_dir=None, log_dir=Path(tmp))
        try:
            ok = await bench(mongo_url(port), args)
        finally:
            server.stop()
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when a number read back is wrong."""
    return asyncio.run(run(parse_args(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    raise SystemExit(main())
