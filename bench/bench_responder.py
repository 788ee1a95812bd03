"""Responder benchmark on a private nx-27017: SLA timer lateness and inbox query latency.

Run: ``.venv/bin/python bench/bench_responder.py [--cases 5000] [--spread 20] [--inbox 100000]``.

1. **SLA timers.** ``--cases`` cases are opened through the real ``CaseService`` with a
   first-response target that warns at 50 %: two SLA timers each (10,000 with the default),
   all armed before the first fires, their deadlines spread over ``--spread`` seconds (the
   default offers ~100 fires/s; each fire reads and updates its case, so the on-disk-free
   nx-27017 tops out near 150/s: ``--spread 50`` shows the backlog beyond it). Two
   timer loops (two replicas) fire them through the service's real handler. Printed: timer
   lateness (deadline to handler), event lateness (the ``lateness_ms`` of the published
   ``sla.warning``/``sla.breached``), duplicates and misses (each must be 0).
2. **Inbox.** ``--inbox`` cases of one brand are stored (realistic documents), then the
   inbox's queries run through the real repository and API conversion: the default view,
   filters (status, priority, assignee, SLA state, network), sort by next deadline, a deep
   page, and the counts. Printed: p50/p95/max per query and overall.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from smm_responder.adapters.agents_repo import AgentRepository
from smm_responder.adapters.cases_repo import (
    NO_DEADLINE_MS,
    CaseQuery,
    CaseRepository,
    activity_key,
    assignee_key,
    due_key,
)
from smm_responder.api.cases import case_out
from smm_responder.services.cases import CaseService
from smm_responder.services.settings import SettingsService
from smm_shared.config import MongoSettings
from smm_shared.events import (
    Author,
    Mention,
    MentionKind,
    MentionReceived,
    Network,
    Sentiment,
    decode_event,
    new_ulid,
)
from smm_shared.localstack import free_port, mongo_url, start_mongo
from smm_shared.messaging import OutgoingMessage
from smm_shared.mongo import Document, OutboxRelay, create_mongo_client, epoch_ms
from smm_shared.timers import FiredTimer, MongoTimerStore, TimerLoop

BRAND = "bench"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5_000, help="SLA cases (2 timers each)")
    parser.add_argument(
        "--spread", type=float, default=100.0, help="deadline window, seconds (100: ~100 fires/s)"
    )
    parser.add_argument("--inbox", type=int, default=100_000, help="cases for the inbox queries")
    parser.add_argument("--queries", type=int, default=40, help="runs of each inbox query")
    parser.add_argument("--skip-timers", action="store_true")
    parser.add_argument("--skip-inbox", action="store_true")
    return parser.parse_args(argv)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def settings_service(db: Any) -> SettingsService:
    """Settings read once for the whole run (nothing changes them meanwhile)."""
    return SettingsService.for_database(db, cache_ttl_s=3600)


def mention(i: int) -> MentionReceived:
    return MentionReceived(
        brand_id=BRAND,
        mention=Mention(
            mention_id=new_ulid(),
            network=Network.X,
            kind=MentionKind.REPLY,
            native_id=f"n{i}",
            conversation_key=f"x:bench-{i}",
            author=Author(id=f"u{i}", handle=f"user{i}"),
            text="my card was declined",
            language="en",
            created_at=datetime.now(UTC),
            sentiment=Sentiment(label="negative", score=-0.5),
        ),
    )


async def bench_timers(url: str, args: argparse.Namespace) -> bool:
    n, target_s = args.cases, 10.0
    settings = MongoSettings(url=url, database="bench_responder_sla")
    clients = [create_mongo_client(settings) for _ in range(3)]
    db = clients[0][settings.database]
    sent: Counter[str] = Counter()
    event_lateness: list[float] = []
    timer_lateness: list[float] = []
    handled: Counter[str] = Counter()
    all_handled = asyncio.Event()

    async def send(message: OutgoingMessage) -> None:
        ce_type = dict(message.headers)["ce_type"]
        if ce_type in ("smm.sla.warning", "smm.sla.breached"):
            event = decode_event(ce_type, message.body)
            sent[f"{ce_type}|{event.case_id}"] += 1  # type: ignore[attr-defined]
            event_lateness.append(event.lateness_ms)  # type: ignore[attr-defined]

    try:
        config = settings_service(db)
        await config.sla_policies.insert(
            {
                "_id": "p",
                "brand_id": BRAND,
                "name": "Bench",
                "targets": [{"metric": "first_response", "target_s": target_s, "warn_percent": 50}],
            }
        )
        await config.save_config(BRAND, {"default_sla_policy_id": "p"})
        repo = CaseRepository(db["cases"], source="urn:bench")
        await repo.ensure_indexes()
        timers = MongoTimerStore(db["timers"])
        await timers.ensure_indexes()
        relay = OutboxRelay([repo.collection], send)
        lead = 5.0 + n / 60  # time to open the cases, measured ~100/s; generous
        window_start = datetime.now(UTC) + timedelta(seconds=lead)
        # Case i "opened" so that its breach falls at window_start + i * spread / n.
        opened_at = [
            window_start + timedelta(seconds=args.spread * i / n - target_s) for i in range(n)
        ]
        services = []
        for c in clients[:2]:
            cdb = c[settings.database]
            services.append(
                CaseService(
                    repository=CaseRepository(cdb["cases"], source="urn:bench"),
                    relay=relay,
                    settings=settings_service(cdb),
                    agents=AgentRepository(cdb["agents"], cdb["pointers"]),
                    timers=MongoTimerStore(cdb["timers"]),
                    clock=lambda: datetime.now(UTC),
                )
            )
        opener_db = clients[2][settings.database]
        opener_parts: dict[str, Any] = {
            "repository": CaseRepository(opener_db["cases"], source="urn:bench"),
            "relay": relay,
            "settings": settings_service(opener_db),
            "agents": AgentRepository(opener_db["agents"], opener_db["pointers"]),
            "timers": MongoTimerStore(opener_db["timers"]),
        }
        order = list(range(n))
        random.shuffle(order)
        gate = asyncio.Semaphore(16)

        async def open_one(i: int) -> None:
            async with gate:
                # A service whose clock says this case opened at its crafted time.
                service = CaseService(**opener_parts, clock=lambda: opened_at[i])
                await service.record_mention(mention(i))

        t0 = time.perf_counter()
        await asyncio.gather(*(open_one(i) for i in order))
        open_s = time.perf_counter() - t0
        armed = await timers.collection.count_documents({"state": "pending"})
        print(
            f"SLA: opened {n} cases in {open_s:.1f}s ({n / open_s:.0f}/s), "
            f"{armed} SLA timers armed; deadlines over {args.spread:.0f}s from "
            f"{window_start:%H:%M:%S} ({2 * n / args.spread:.0f} fires/s offered)"
        )
        first_warn = window_start - timedelta(seconds=target_s / 2)
        if datetime.now(UTC) > first_warn:
            print("WARNING: opening overran the lead; early timers were already due")

        async def handler_for(service: CaseService) -> Any:
            async def handle(fired: FiredTimer) -> None:
                timer_lateness.append(fired.lateness_s * 1000)
                await service.on_timer(fired)
                handled[fired.key] += 1
                if len(handled) >= 2 * n:
                    all_handled.set()

            return handle

        loops = [
            TimerLoop(
                MongoTimerStore(c[settings.database]["timers"]),
                handler=await handler_for(s),
                owner_id=f"replica-{k}",
                max_idle_s=0.25,
                lease_s=10,
            )
            for k, (c, s) in enumerate(zip(clients[:2], services, strict=True))
        ]
        for loop in loops:
            await loop.start()
        deadline = time.monotonic() + (window_start - datetime.now(UTC)).total_seconds()
        deadline += args.spread + 30
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_handled.wait(), timeout=deadline - time.monotonic())
        for loop in loops:
            await loop.stop()
        await relay.drain()
    finally:
        for client in clients:
            await client.close()
    duplicates = sum(v - 1 for v in sent.values() if v > 1)
    warnings = sum(1 for k in sent if k.startswith("smm.sla.warning"))
    breaches = sum(1 for k in sent if k.startswith("smm.sla.breached"))
    print(
        f"SLA: timers handled {len(handled)}/{2 * n}; events warning {warnings}/{n}, "
        f"breached {breaches}/{n}, duplicates {duplicates}"
    )
    for name, values in (("timer lateness", timer_lateness), ("event lateness", event_lateness)):
        print(
            f"SLA: {name} ms p50={percentile(values, 50):.1f} p95={percentile(values, 95):.1f} "
            f"p99={percentile(values, 99):.1f} max={max(values, default=math.nan):.1f}"
        )
    within = sum(1 for x in event_lateness if x < 1000)
    print(f"SLA: events within 1 s of their deadline: {within}/{len(event_lateness)}")
    return duplicates == 0 and warnings == n and breaches == n


def inbox_doc(i: int, now_ms: int, rng: random.Random) -> Document:
    status = rng.choices(
        ["new", "open", "pending_customer", "pending_department", "resolved", "closed"],
        weights=[5, 10, 10, 3, 30, 42],
    )[0]
    active = status not in ("resolved", "closed")
    due = now_ms + rng.randint(-3_600_000, 86_400_000) if active else NO_DEADLINE_MS
    activity = now_ms - rng.randint(0, 90 * 86_400_000)
    doc: Document = {
        "_id": f"{activity:013d}{i:08d}",
        "brand_id": BRAND,
        "conversation_key": f"x:thread-{i}",
        "network": rng.choice(["x", "vk", "facebook", "instagram", "telegram"]),
        "kind": "comment",
        "status": status,
        "priority": rng.choices(["low", "normal", "high", "urgent"], weights=[10, 70, 15, 5])[0],
        "tags": rng.sample(["cards", "refund", "delivery", "app", "fees"], k=rng.randint(0, 2)),
        "mention_ids": [new_ulid() for _ in range(rng.randint(1, 4))],
        "mention_count": 1,
        "first_mention_at": datetime.now(UTC),
        "last_mention_ms": activity,
        "opened_at": datetime.now(UTC),
        "opened_ms": activity,
        "last_activity_ms": activity,
        "author": {"id": f"u{i}", "handle": f"user{i}", "followers": rng.randint(0, 50_000)},
        "preview": "My card was declined twice at the store and the app shows nothing." * 2,
        "language": "en",
        "sentiment": {"label": "negative", "score": -0.4},
        "sla_state": rng.choice(["ok", "ok", "ok", "at_risk", "breached"]) if active else "none",
        "next_due_ms": due,
        "department": rng.choice(["support", "billing", "delivery"]),
        "timeline": [
            {
                "id": f"e{i}-{k}",
                "at_ms": activity,
                "type": "case.routed",
                "actor": "system",
                "reason": "",
                "data": {},
            }
            for k in range(3)
        ],
        "version": 3,
    }
    if active and rng.random() < 0.8:
        doc["assignee_id"] = f"agent-{rng.randint(1, 40)}"
    doc["activity_key"] = activity_key(BRAND, activity, doc["_id"])
    doc["due_key"] = due_key(BRAND, due, doc["_id"])
    if "assignee_id" in doc:
        doc["assignee_key"] = assignee_key(BRAND, doc["assignee_id"], activity, doc["_id"])
    return doc


async def bench_inbox(url: str, args: argparse.Namespace) -> bool:
    settings = MongoSettings(url=url, database="bench_responder_inbox")
    client = create_mongo_client(settings)
    try:
        repo = CaseRepository(client[settings.database]["cases"], source="urn:bench")
        await repo.ensure_indexes()
        rng = random.Random(7)
        now_ms = epoch_ms(datetime.now(UTC))
        t0 = time.perf_counter()
        batch: list[Document] = []
        for i in range(args.inbox):
            batch.append(inbox_doc(i, now_ms, rng))
            if len(batch) == 1000:
                await repo.collection.insert_many(batch, ordered=False)
                batch = []
        if batch:
            await repo.collection.insert_many(batch, ordered=False)
        print(f"inbox: stored {args.inbox} cases in {time.perf_counter() - t0:.1f}s")
        _, after = await repo.page(CaseQuery(brand_id=BRAND, limit=200))
        for _ in range(4):
            _, after = await repo.page(CaseQuery(brand_id=BRAND, limit=200, after=after))
        assert after is not None
        deep_cursor = after
        queries: dict[str, CaseQuery] = {
            "all, newest activity": CaseQuery(brand_id=BRAND),
            "open + new": CaseQuery(brand_id=BRAND, statuses=("new", "open")),
            "my cases": CaseQuery(brand_id=BRAND, assignees=("agent-7",)),
            "unassigned": CaseQuery(brand_id=BRAND, unassigned=True, statuses=("new", "open")),
            "breached": CaseQuery(brand_id=BRAND, sla_states=("breached",)),
            "urgent+high on x": CaseQuery(
                brand_id=BRAND, priorities=("urgent", "high"), networks=("x",)
            ),
            "next deadline first": CaseQuery(
                brand_id=BRAND, sort="deadline", statuses=("new", "open", "pending_customer")
            ),
            "page 6 (cursor)": CaseQuery(brand_id=BRAND, after=deep_cursor),
        }
        overall: list[float] = []
        for name, query in queries.items():
            times = []
            for _ in range(args.queries):
                t = time.perf_counter()
                docs, _ = await repo.page(query)
                [case_out(d) for d in docs]
                times.append((time.perf_counter() - t) * 1000)
            overall += times
            print(
                f"inbox: {name:<22} {len(docs):>3} rows  p50={percentile(times, 50):6.1f} ms  "
                f"p95={percentile(times, 95):6.1f} ms  max={max(times):6.1f} ms"
            )
        await repo.recount(BRAND)  # what the service does on its first read of a brand
        count_times = []
        for _ in range(max(3, args.queries // 8)):
            t = time.perf_counter()
            counts = await repo.counts(BRAND)
            count_times.append((time.perf_counter() - t) * 1000)
        print(
            f"inbox: counts ({sum(counts['status'].values())} cases) "
            f"p50={percentile(count_times, 50):.1f} ms p95={percentile(count_times, 95):.1f} ms"
        )
        p95 = percentile(overall, 95)
        print(f"inbox: all list queries p50={percentile(overall, 50):.1f} ms p95={p95:.1f} ms")
        return True
    finally:
        await client.close()


async def run(args: argparse.Namespace) -> int:
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-responder-") as tmp:
        port = free_port()
        server = start_mongo(port=port, data_dir=None, log_dir=Path(tmp))
        try:
            if not args.skip_timers:
                ok = await bench_timers(mongo_url(port), args) and ok
            if not args.skip_inbox:
                ok = await bench_inbox(mongo_url(port), args) and ok
        finally:
            server.stop()
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 on a duplicate or missing SLA event."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
