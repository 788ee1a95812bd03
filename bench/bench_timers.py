"""Timer loop benchmark: N timers spread over a window, fired by two loops on a private nx-27017.

Run: ``.venv/bin/python bench/bench_timers.py [--timers 10000] [--spread 20] [--loops 2]``.
Prints how many fired, duplicates, misses and the lateness percentiles (fired_at - due_at
as the handler saw it). The loops are two owners in one process, each with its own client,
as two replicas would be.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smm_shared.config import MongoSettings
from smm_shared.localstack import free_port, mongo_url, start_mongo
from smm_shared.mongo import create_mongo_client
from smm_shared.timers import FiredTimer, MongoTimerStore, TimerLoop


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000, help="how many timers (10000)")
    parser.add_argument("--spread", type=float, default=20.0, help="deadline window, seconds (20)")
    parser.add_argument("--loops", type=int, default=2, help="loops (owners) in this process (2)")
    parser.add_argument(
        "--lead",
        type=float,
        default=None,
        help="seconds from the start of scheduling to the first deadline (default: sized to N)",
    )
    parser.add_argument("--max-in-flight", type=int, default=64)
    parser.add_argument("--claim-batch", type=int, default=32)
    parser.add_argument("--schedulers", type=int, default=16, help="concurrent schedule() calls")
    return parser.parse_args(argv)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


async def run(args: argparse.Namespace) -> int:
    n = args.timers
    # Scheduling runs through the public API at ~1k/s on nx-27017; the first deadline is
    # set after it so the window measures firing, not a backlog of overdue timers.
    lead = args.lead if args.lead is not None else 3.0 + n / 700
    calls: Counter[str] = Counter()
    lateness: list[float] = []
    owners: Counter[str] = Counter()
    done = asyncio.Event()

    async def handler(timer: FiredTimer) -> None:
        calls[timer.key] += 1
        lateness.append(timer.lateness_s)
        owners[timer.owner] += 1
        if len(calls) >= n:
            done.set()

    with tempfile.TemporaryDirectory(prefix="bench-timers-") as tmp:
        port = free_port()
        server = start_mongo(port=port, data_dir=None, log_dir=Path(tmp))
        settings = MongoSettings(url=mongo_url(port), database="bench_timers")
        clients = [create_mongo_client(settings) for _ in range(args.loops + 1)]
        try:
            stores = [MongoTimerStore(c[settings.database]["timers"]) for c in clients]
            scheduler = stores[-1]  # a replica of its own: its schedules wake no loop here
            await scheduler.ensure_indexes()
            loops = [
                TimerLoop(
                    store,
                    handler=handler,
                    owner_id=f"replica-{i}",
                    max_in_flight=args.max_in_flight,
                    claim_batch=args.claim_batch,
                )
                for i, store in enumerate(stores[:-1])
            ]
            for loop in loops:
                await loop.start()

            start = datetime.now(UTC)
            first_due = start + timedelta(seconds=lead)
            dues = [first_due + timedelta(seconds=args.spread * i / n) for i in range(n)]
            order = list(range(n))
            random.shuffle(order)  # arrive in any order, as real schedules do
            gate = asyncio.Semaphore(args.schedulers)

            async def schedule(i: int) -> None:
                async with gate:
                    await scheduler.schedule(
                        key=f"bench:{i:06d}", due_at=dues[i], kind="bench", payload={"i": i}
                    )

            t0 = time.perf_counter()
            await asyncio.gather(*(schedule(i) for i in order))
            schedule_s = time.perf_counter() - t0
            scheduled_by = datetime.now(UTC)
            print(
                f"scheduled {n} timers in {schedule_s:.1f}s ({n / schedule_s:.0f}/s); "
                f"window {first_due:%H:%M:%S.%f}+{args.spread:.0f}s, "
                f"offered {n / args.spread:.0f}/s to {args.loops} loops"
            )
            if scheduled_by > first_due:
                print(
                    f"WARNING: scheduling overran the lead by {(scheduled_by - first_due).total_seconds():.1f}s"
                )

            wait_s = (first_due - datetime.now(UTC)).total_seconds() + args.spread + 60
            try:
                await asyncio.wait_for(done.wait(), timeout=max(wait_s, 1))
            except TimeoutError:
                print("timed out waiting for every timer to fire")
            finished = datetime.now(UTC)
            for loop in loops:
                await loop.stop()
            stored_fired = await scheduler.collection.count_documents({"state": "fired"})
        finally:
            for client in clients:
                await client.close()
            server.stop()

    lateness.sort()
    handler_calls = sum(calls.values())
    fired = len(calls)
    duplicates = handler_calls - fired
    last_due = dues[-1]
    print(
        f"fired: {fired}/{n} distinct ({handler_calls} handler calls), stored as fired: {stored_fired}"
    )
    print(f"duplicates: {duplicates}   missing: {n - fired}")
    print("per loop: " + ", ".join(f"{o}={c}" for o, c in sorted(owners.items())))
    print(
        "lateness ms: "
        f"p50={percentile(lateness, 50) * 1000:.1f} p95={percentile(lateness, 95) * 1000:.1f} "
        f"p99={percentile(lateness, 99) * 1000:.1f} max={lateness[-1] * 1000:.1f} "
        f"mean={sum(lateness) / len(lateness) * 1000:.1f}"
        if lateness
        else "lateness: none fired"
    )
    within = sum(1 for x in lateness if x < 1.0)
    print(
        f"within 1 s of deadline: {within}/{len(lateness)} ({within / max(len(lateness), 1):.2%})"
    )
    print(
        f"last timer fired {(finished - last_due).total_seconds():.2f}s after the last deadline (upper bound)"
    )
    ok = duplicates == 0 and fired == n
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 on a duplicate or a missing firing."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
