"""Webhook-to-Kafka benchmark of ingest: signed VK Callback API deliveries in, events out.

Run: ``.venv/bin/python bench/bench_webhooks.py [--deliveries N] [--concurrency C]``.
Starts its own broker, database and the ingest service on free ports, creates a VK
connector through the API, fires signed ``wall_reply_new`` deliveries, and measures:
acknowledgement throughput and latency (stored durably before the ``ok``), and the time
from sending a delivery to its ``smm.mention.received`` event being produced to Kafka
(record timestamps, so the observing consumer's own latency is not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer

from smm_shared.auth import Role, issue_token, load_signing_key
from smm_shared.localstack import free_port
from smm_shared.stack import DEFAULT_PORTS, Stack, StackConfig

GROUP_ID = 424242
SECRET = "bench-secret"


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1), nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def delivery(i: int) -> bytes:
    """One VK comment under one of 50 posts."""
    return json.dumps(
        {
            "type": "wall_reply_new",
            "event_id": f"bench{i:08d}",
            "v": "5.199",
            "group_id": GROUP_ID,
            "secret": SECRET,
            "object": {
                "id": 100_000 + i,
                "from_id": 1000 + i % 300,
                "date": int(time.time()),
                "text": f"Benchmark comment {i}: the app crashes when I open my statement",
                "post_id": 1 + i % 50,
                "owner_id": -GROUP_ID,
                "parents_stack": [],
            },
        }
    ).encode()


async def run(stack: Stack, deliveries: int, concurrency: int) -> None:
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
    async with httpx.AsyncClient(base_url=stack.config.url("ingest"), timeout=60) as client:
        created = await client.post(
            "/v1/connectors",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "brand_id": "bench",
                "kind": "vk",
                "name": "bench",
                "config": {"group_id": GROUP_ID, "confirmation": "ok123"},
                "secrets": {"secret": {"value": SECRET}},
            },
        )
        created.raise_for_status()
        path = created.json()["webhook_path"]

        consumer = AIOKafkaConsumer(
            "smm.mentions.v1",
            bootstrap_servers=stack.bootstrap_servers,
            auto_offset_reset="latest",
            fetch_max_wait_ms=20,
        )
        await consumer.start()
        await consumer.getmany(timeout_ms=500)

        sent_at: dict[str, float] = {}
        acks: list[float] = []
        sem = asyncio.Semaphore(concurrency)

        async def send(i: int) -> None:
            body = delivery(i)
            async with sem:
                sent_at[f"_r{100_000 + i}"] = time.time()
                t0 = time.perf_counter()
                response = await client.post(
                    path, content=body, headers={"Content-Type": "application/json"}
                )
                acks.append(time.perf_counter() - t0)
                if response.text != "ok":
                    raise RuntimeError(f"delivery {i}: {response.status_code} {response.text}")

        produced: dict[str, float] = {}

        async def observe() -> None:
            while len(produced) < deliveries:
                for records in (await consumer.getmany(timeout_ms=100)).values():
                    for r in records:
                        native = json.loads(r.value)["mention"]["native_id"]
                        suffix = native[native.rfind("_r") :]
                        produced.setdefault(suffix, r.timestamp / 1000)

        watcher = asyncio.create_task(observe())
        started = time.perf_counter()
        await asyncio.gather(*(send(i) for i in range(deliveries)))
        acked_s = time.perf_counter() - started
        await asyncio.wait_for(watcher, 300)
        drained_s = time.perf_counter() - started
        await consumer.stop()

    latencies = [produced[k] - sent_at[k] for k in sent_at if k in produced]
    print(f"ingest webhooks: {deliveries} signed VK deliveries, concurrency {concurrency}")
    print(
        f"  acknowledged          {deliveries / acked_s:8.0f} deliveries/s (stored durably before 'ok')"
    )
    print(f"  ack latency p50 / p99 {pct(acks, 0.5) * 1000:8.1f} / {pct(acks, 0.99) * 1000:.1f} ms")
    print(
        f"  on Kafka              {deliveries / drained_s:8.0f} mentions/s end to end ({drained_s:.1f} s for all)"
    )
    print(
        f"  webhook -> Kafka      p50 {pct(latencies, 0.5) * 1000:.1f} ms / p99 {pct(latencies, 0.99) * 1000:.1f} ms"
        f" / max {max(latencies) * 1000:.1f} ms"
    )


def main() -> None:
    """Start ingest with its broker and database, measure, stop."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = StackConfig(
            data_dir=Path(tmp),
            ports={name: free_port() for name in DEFAULT_PORTS},
            services=("ingest",),
            persistent_mongo=False,
            env={
                "SMM_KAFKA__SESSION_TIMEOUT_MS": "4000",
                "SMM_KAFKA__HEARTBEAT_INTERVAL_MS": "1000",
            },
        )
        stack = Stack(config)
        stack.start()
        try:
            asyncio.run(run(stack, args.deliveries, args.concurrency))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
