"""Benchmark of the running platform: start-up time, ingest latency and throughput, and the
time from ``POST /v1/mentions`` until the mention is in a case and counted by analytics.

Run: ``.venv/bin/python bench/bench_stack.py [--mentions N] [--concurrency C]`` (or ``make bench``).
Starts its own stack (in-memory broker and database) on free ports; prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer

from smm_shared.auth import Role, issue_token, load_signing_key
from smm_shared.events import new_ulid
from smm_shared.localstack import free_port
from smm_shared.stack import DEFAULT_PORTS, Stack, StackConfig


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def run(stack: Stack, mentions: int, concurrency: int) -> None:
    key = load_signing_key(stack.config.keys_dir)
    token = issue_token(
        key=key,
        subject="bench",
        roles=[Role.SMM_MANAGER],
        brands=["bench"],
        ttl=timedelta(hours=1),
        issuer="smm-local",
        audience="smm-platform",
    )
    headers = {"Authorization": f"Bearer {token}"}
    # Short fetch wait: this consumer only observes; latency is read from record timestamps.
    cases_topic = AIOKafkaConsumer(
        "smm.cases.v1",
        bootstrap_servers=stack.bootstrap_servers,
        auto_offset_reset="latest",
        fetch_max_wait_ms=20,
    )
    await cases_topic.start()
    await cases_topic.getmany(timeout_ms=500)  # assignment done before we produce
    threads = [f"t{i}" for i in range(max(1, mentions // 4))]
    latencies: list[float] = []
    sem = asyncio.Semaphore(concurrency)
    async with (
        httpx.AsyncClient(
            base_url=stack.config.url("ingest"), headers=headers, timeout=30
        ) as ingest,
        httpx.AsyncClient(
            base_url=stack.config.url("analytics"), headers=headers, timeout=30
        ) as analytics,
    ):

        async def post(i: int) -> None:
            body = {
                "brand_id": "bench",
                "network": "vk",
                "kind": "comment",
                "native_id": new_ulid(),
                "thread_id": threads[i % len(threads)],
                "author": {"id": f"a{i % 50}"},
                "text": f"benchmark mention {i}",
                "created_at": datetime.now(UTC).isoformat(),
            }
            async with sem:
                started = time.perf_counter()
                response = await ingest.post("/v1/mentions", json=body)
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()

        # Warm up connections and code paths.
        await asyncio.gather(*(post(i) for i in range(min(20, mentions))))
        latencies.clear()
        warm = min(20, mentions)
        started = time.perf_counter()
        await asyncio.gather(*(post(i) for i in range(warm, warm + mentions)))
        posted_s = time.perf_counter() - started
        total = warm + mentions

        async def counted() -> int:
            response = await analytics.get(
                "/v1/metrics/series", params={"brand_id": "bench", "metric": "mentions"}
            )
            return int(response.json()["totals"].get("count", 0))

        # The responder's output is read from smm.cases.v1, not by polling its API, so the
        # measurement does not compete with the consumer for the responder's event loop.
        case_events = 0
        in_cases_s = counted_s = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and (in_cases_s is None or counted_s is None):
            for records in (await cases_topic.getmany(timeout_ms=100)).values():
                case_events += sum(1 for r in records if r.key and not r.key.startswith(b"solo"))
            if in_cases_s is None and case_events >= total:
                in_cases_s = time.perf_counter() - started
            if counted_s is None and await counted() >= total:
                counted_s = time.perf_counter() - started
            await asyncio.sleep(0.05)

        # Single-mention latency, unloaded: POST accepted -> case event on smm.cases.v1.
        e2e: list[float] = []
        for i in range(30):
            thread = f"solo-{new_ulid()}"
            body = {
                "brand_id": "bench",
                "network": "x",
                "kind": "reply",
                "native_id": new_ulid(),
                "thread_id": thread,
                "author": {"id": "solo"},
                "text": f"solo {i}",
                "created_at": datetime.now(UTC).isoformat(),
            }
            t0 = time.time()
            (await ingest.post("/v1/mentions", json=body)).raise_for_status()
            wanted = f"x:{thread}".encode()
            produced_at: float | None = None
            while produced_at is None:
                for records in (await cases_topic.getmany(timeout_ms=50)).values():
                    for r in records:
                        if wanted in (r.value or b""):
                            # When the responder produced the case event (record timestamp),
                            # so the observer's own fetch latency is not counted.
                            produced_at = r.timestamp / 1000
            e2e.append(produced_at - t0)
            await asyncio.sleep(0.05)
    await cases_topic.stop()

    print(f"ingest POST /v1/mentions: {mentions} mentions, concurrency {concurrency}")
    print(
        f"  throughput            {mentions / posted_s:8.0f} mentions/s (stored + outbox, acknowledged)"
    )
    print(
        f"  latency p50 / p99     {pct(latencies, 0.5) * 1000:8.1f} / {pct(latencies, 0.99) * 1000:.1f} ms"
    )
    if in_cases_s is not None:
        print(
            f"  all in cases after    {in_cases_s:8.2f} s  ({total / in_cases_s:.0f} mentions/s through responder)"
        )
    else:
        print("  all in cases after    not within 300 s")
    if counted_s is not None:
        print(
            f"  all counted after     {counted_s:8.2f} s  ({total / counted_s:.0f} mentions/s through analytics)"
        )
    else:
        print("  all counted after     not within 300 s")
    print("POST /v1/mentions sent -> case event produced to smm.cases.v1 (unloaded, 30 samples)")
    print(
        f"  p50 / p95 / max       {pct(e2e, 0.5) * 1000:8.1f} / {pct(e2e, 0.95) * 1000:.1f} / {max(e2e) * 1000:.1f} ms"
    )
    print(f"  mean                  {statistics.mean(e2e) * 1000:8.1f} ms")


def main() -> None:
    """Start a stack, measure, stop."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentions", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = StackConfig(
            data_dir=Path(tmp),
            ports={name: free_port() for name in DEFAULT_PORTS},
            persistent_mongo=False,
            env={
                "SMM_KAFKA__SESSION_TIMEOUT_MS": "4000",
                "SMM_KAFKA__HEARTBEAT_INTERVAL_MS": "1000",
            },
        )
        stack = Stack(config)
        started = time.perf_counter()
        stack.start()
        print(
            f"stack start-up (broker, database, 5 services ready): {time.perf_counter() - started:.1f} s"
        )
        try:
            asyncio.run(run(stack, args.mentions, args.concurrency))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
