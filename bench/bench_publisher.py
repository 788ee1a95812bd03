"""Publisher benchmark on a private nx-27017: how late scheduled posts reach the network.

Run: ``.venv/bin/python bench/bench_publisher.py [--posts 5000] [--spread 200] [--replicas 2]
[--accounts 50] [--networks process|thread] [--no-limiter] [--relay] [--csv FILE]``.

``--posts`` content items, each posting once from one account, are created and submitted
through the real ``ContentService`` (no approval workflow: submitting approves and schedules
them, arming their publish timers) *before* the first is due; their times are spread evenly
over ``--spread`` seconds. Then ``--replicas`` timer loops start, each in a replica wired as
``smm_publisher.main`` wires one (its own Mongo client and HTTP client, ``ContentService``,
``DeliveryService`` with the real ``MongoRateLimiter``, the same timer dispatch and the
settings' defaults for leases, idle time, timeouts and attempts), all in this process as in
``bench_responder``, and the benchmark waits until every item is ``published``. Posts go over
HTTP to the fake networks (``smm_shared.simulator.networks``), by default in a process of
their own as a real network is outside ours (``--networks thread`` serves them from a thread
of this process, as the integration tests do, sharing its GIL). Accounts alternate between
Mastodon and Facebook, whose per-account limits (``domain.rate_limits``: 150 statuses per
5 min, 480 Page calls per 6 h) stay above what each of the 50 accounts posts, so the limiter
takes its slots on every post but never holds one back (``--no-limiter`` leaves it out).

Each post costs a publish timer (read the item, move it to ``publishing``, create the
delivery, arm its timer) and a delivery timer (read it, take rate-limit slots, claim it, one
HTTP post, record it, settle the item): ~14.5 round trips to nx-27017 when the timer loops
claim in full batches, ~28 at 25 posts/s, when most claims carry one timer. Measured on this
machine (2 cores, idle otherwise; nx-27017 and the fake are Python processes too): ~45
posts/s sustained at saturation, ~20 ms of CPU per post in this process and ~18-29 ms in
nx-27017. The default spread offers 25 posts/s; ``--spread 60`` (83/s) shows what happens
beyond the sustained rate: a backlog, and lateness growing through the window.

The outbox relays are drained after the window, as in ``bench_responder``: on nx-27017 a
relay pass scans both collections (its claim filter's ``$or`` defeats the index), which at
5,000 items costs more than the posting itself. ``--relay`` runs them while posting.

Printed: publish-timer lateness (``fired_at - due_at`` as the handler saw it), delivery-timer
lateness, post lateness (when the fake network accepted the post, its
``FakePost.created_at``, minus the scheduled time; the figure the target is about),
throughput, round trips and CPU per post and process, how much of the machine other
processes took meanwhile, and the correctness checks: exactly one post per item on the
network, every item ``published``, a ``post.published`` event for every delivery. Exit 1
when a check fails; the latency target is reported, not enforced (a busy machine must not
turn a figure into a failure).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from pymongo import monitoring

from smm_publisher.adapters.accounts import AccountStore
from smm_publisher.adapters.content_repo import ContentRepository
from smm_publisher.adapters.delivery.registry import DelivererRegistry
from smm_publisher.adapters.rate_limiter import MongoRateLimiter
from smm_publisher.domain.rate_limits import windows_for
from smm_publisher.services.content import PUBLISH_TIMER, Actor, ContentService
from smm_publisher.services.delivery import DELIVERY_TIMER, DeliveryPolicy, DeliveryService
from smm_publisher.settings import PublisherSettings
from smm_shared.brand_store import BrandStore
from smm_shared.config import MongoSettings
from smm_shared.events import Network, decode_event
from smm_shared.localstack import (
    ManagedProcess,
    free_port,
    http_ok,
    mongo_url,
    start_mongo,
)
from smm_shared.messaging import OutgoingMessage
from smm_shared.mongo import Document, OutboxRelay, create_mongo_client
from smm_shared.secrets import SecretBox
from smm_shared.simulator.networks.serve import FakeNetworkServer
from smm_shared.timers import FiredTimer, MongoTimerStore, TimerLoop

BRAND = "bench"
SOURCE = "urn:smm:publisher:bench"
WRITER = Actor("bench-writer", frozenset({"content_manager"}))
TARGET_S = 1.0
#: The networks the accounts alternate between, with the fake's API prefix.
NETWORKS: tuple[tuple[Network, str], ...] = (
    (Network.MASTODON, "mastodon"),
    (Network.FACEBOOK, "graph"),
)
MARKER = re.compile(r"^Bench post (\d+):")
#: Items created and submitted at once (the API would see as many concurrent requests).
CREATE_CONCURRENCY = 16
#: Seconds per item to allow for creating, submitting and relaying its events (~10 ms).
CREATE_S_PER_ITEM = 1 / 80


def _default(name: str) -> Any:
    """A publisher setting's default: the benchmark runs what production runs by default."""
    return PublisherSettings.model_fields[name].default


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5_000, help="scheduled items (5000)")
    parser.add_argument(
        "--spread",
        type=float,
        default=200.0,
        help="seconds their times spread over (200: 25 posts/s; ~45/s is sustained here, "
        "60 shows the backlog beyond it)",
    )
    parser.add_argument("--replicas", type=int, default=2, help="publisher replicas (2)")
    parser.add_argument(
        "--accounts", type=int, default=50, help="publishing accounts, Mastodon and Facebook (50)"
    )
    parser.add_argument(
        "--networks",
        choices=("process", "thread"),
        default="process",
        help="serve the fake networks from their own process (default) or a thread of this one",
    )
    parser.add_argument(
        "--no-limiter",
        action="store_true",
        help="build the DeliveryService without the per-account rate limiter",
    )
    parser.add_argument(
        "--relay",
        action="store_true",
        help="run the replicas' outbox relays while posting (default: drained after, as in "
        "bench_responder; on nx-27017 each relay pass scans the collections)",
    )
    parser.add_argument(
        "--csv", type=Path, default=None, help="write each item's due time and lateness here"
    )
    parser.add_argument(
        "--lead", type=float, default=None, help="seconds before the first is due (sized to N)"
    )
    return parser.parse_args(argv)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def figures(values: list[float]) -> str:
    """p50/p95/p99/max of milliseconds."""
    return (
        f"p50={percentile(values, 50):.0f} p95={percentile(values, 95):.0f} "
        f"p99={percentile(values, 99):.0f} max={max(values, default=math.nan):.0f}"
    )


# --- the fake networks -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NetworkPost:
    """What the benchmark reads of a post the fake network accepted."""

    network: str
    text: str
    created_at: datetime


class Networks:
    """The fake networks in a process of their own or a thread of this one."""

    def __init__(self, mode: str, log_dir: Path) -> None:
        self.mode = mode
        self._thread: FakeNetworkServer | None = None
        self._process: ManagedProcess | None = None
        if mode == "thread":
            self._thread = FakeNetworkServer().start()
            self.url = self._thread.url
            return
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        serve = (
            "import sys, uvicorn\n"
            "from smm_shared.simulator.networks import create_app\n"
            "uvicorn.run(create_app(), host='127.0.0.1', port=int(sys.argv[1]),"
            " log_level='warning', access_log=False, lifespan='off')\n"
        )
        self._process = ManagedProcess(
            "fake networks", [sys.executable, "-c", serve, str(port)], log_dir / "networks.log"
        ).start()
        self._process.wait_ready(lambda: http_ok(f"{self.url}/_fake/posts"), timeout_s=30)

    async def posts(self) -> list[NetworkPost]:
        """Every post accepted so far (``FakePost``'s fields, over HTTP from the process)."""
        if self._thread is not None:
            return [
                NetworkPost(p.network, p.text, p.created_at) for p in self._thread.networks.posts()
            ]
        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.get(f"{self.url}/_fake/posts")
            response.raise_for_status()
            return [
                NetworkPost(p["network"], p["text"], datetime.fromisoformat(p["created_at"]))
                for p in response.json()
            ]

    @property
    def pid(self) -> int | None:
        """The process serving them (None: a thread of this one)."""
        return self._process.pid if self._process is not None else None

    def stop(self) -> None:
        """Stop serving."""
        if self._thread is not None:
            self._thread.stop()
        if self._process is not None:
            self._process.stop()


# --- what it costs ----------------------------------------------------------------------


class CommandCounter(monitoring.CommandListener):
    """Counts the commands every client of this process sends to nx-27017 (round trips)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """One round trip, by command and collection."""
        target = event.command.get(event.command_name)
        # getMore names its collection apart (its own value is the cursor id).
        where = target if isinstance(target, str) else event.command.get("collection", "?")
        self.counts[f"{event.command_name} {where}"] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Nothing to count."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Nothing to count."""

    def snapshot(self) -> Counter[str]:
        """The counts so far."""
        return Counter(self.counts)


def cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) a process has used: ``None`` is this one, all threads."""
    if pid is None:
        return time.process_time()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- replicas ----------------------------------------------------------------------------


@dataclass
class Observed:
    """What the timer handlers saw, across replicas."""

    n: int
    publish_lateness_ms: dict[str, float] = field(default_factory=dict)
    publish_firings: Counter[str] = field(default_factory=Counter)
    delivery_lateness_ms: list[float] = field(default_factory=list)
    deliveries_handled: set[str] = field(default_factory=set)
    handler_failures: Counter[str] = field(default_factory=Counter)
    post_published: Counter[str] = field(default_factory=Counter)
    all_delivered: asyncio.Event = field(default_factory=asyncio.Event)

    async def sent(self, message: OutgoingMessage) -> None:
        """The outbox relay's sender: count events instead of producing them to Kafka."""
        ce_type = dict(message.headers)["ce_type"]
        if ce_type == "smm.post.published":
            event = decode_event(ce_type, message.body)
            self.post_published[event.delivery_id] += 1  # type: ignore[attr-defined]


@dataclass
class Replica:
    """One publisher replica over the shared database, wired as ``smm_publisher.main``."""

    content: ContentService
    deliveries: DeliveryService
    relay: OutboxRelay
    loop: TimerLoop


def build_replica(
    db: Any,
    http: httpx.AsyncClient,
    secrets_key: str,
    observed: Observed,
    *,
    owner: str,
    limiter: bool,
) -> Replica:
    """The composition of ``smm_publisher.main.create_app`` without the HTTP and Kafka parts."""
    timeout_s = float(_default("delivery_timeout_s"))
    accounts = AccountStore(db["accounts"], SecretBox(secrets_key))
    workflows = BrandStore(db["workflows"], sort=(("position", 1), ("_id", 1)))
    repo = ContentRepository(db["content"], db["deliveries"], source=SOURCE)
    timers = MongoTimerStore(db["timers"])
    deliveries = DeliveryService(
        repository=repo,
        accounts=accounts,
        timers=timers,
        deliverers=DelivererRegistry(http, timeout_s=timeout_s),
        limiter=MongoRateLimiter(db["rate_limits"]) if limiter else None,
        clock=lambda: datetime.now(UTC),
        policy=DeliveryPolicy(
            max_attempts=int(_default("delivery_max_attempts")),
            max_rate_wait_s=float(_default("delivery_max_rate_wait_s")),
        ),
    )
    content = ContentService(
        repository=repo,
        workflows=workflows,
        accounts=accounts,
        timers=timers,
        deliveries=deliveries,
        clock=lambda: datetime.now(UTC),
    )
    relay = OutboxRelay(list(repo.collections), observed.sent)
    repo.notify = relay.notify

    async def measured(kind: str, run: Callable[[], Awaitable[None]]) -> None:
        try:
            await run()
        except BaseException:
            observed.handler_failures[kind] += 1
            raise

    async def on_timer(fired: FiredTimer) -> None:
        # The dispatch of smm_publisher.main, with the lateness each firing was handed over at.
        if fired.kind == PUBLISH_TIMER:
            content_id = str(fired.payload["content_id"])
            observed.publish_firings[content_id] += 1
            observed.publish_lateness_ms.setdefault(content_id, fired.lateness_s * 1000)
            await measured("publish", lambda: content.on_timer(fired))
        elif fired.kind == DELIVERY_TIMER:
            observed.delivery_lateness_ms.append(fired.lateness_s * 1000)
            await measured("delivery", lambda: deliveries.on_timer(fired))
            observed.deliveries_handled.add(str(fired.payload["delivery_id"]))
            if len(observed.deliveries_handled) >= observed.n:
                observed.all_delivered.set()
        else:
            raise RuntimeError(f"timer {fired.key} of unexpected kind {fired.kind}")

    loop = TimerLoop(
        timers,
        handler=on_timer,
        owner_id=owner,
        lease_s=float(_default("timer_lease_s")),
        max_idle_s=float(_default("timer_max_idle_s")),
    )
    return Replica(content, deliveries, relay, loop)


# --- the run -----------------------------------------------------------------------------


def item_fields(i: int, at: datetime, account_id: str, network: Network) -> Document:
    """A realistic single-network item: text with a link, a campaign, a label."""
    return {
        "brand_id": BRAND,
        "title": f"Bench post {i}",
        "variants": [
            {
                "network": network.value,
                "text": f"Bench post {i}: spring sale, 20% off every card this week only.",
                "link": "https://acme.example/sale",
            }
        ],
        "targets": [account_id],
        "campaign_id": "bench",
        "labels": ["promo"],
        "schedule": {"at": at.isoformat(), "time_zone": "Europe/Moscow"},
    }


async def add_accounts(
    db: Any, secrets_key: str, count: int, networks_url: str
) -> list[tuple[str, Network]]:
    """``count`` accounts alternating between the networks; their (id, network) pairs."""
    store = AccountStore(db["accounts"], SecretBox(secrets_key))
    await store.ensure_indexes()
    made: list[tuple[str, Network]] = []
    for k in range(count):
        network, prefix = NETWORKS[k % len(NETWORKS)]
        native = f"{109_000_000_000_000_000 + k}"
        account_id = f"{network.value}-{k}"
        await store.store.insert(
            {
                "_id": account_id,
                "brand_id": BRAND,
                "network": network.value,
                "native_id": native,
                "name": account_id,
                "api_base_url": f"{networks_url}/{prefix}",
                # The fake networks take the account a token belongs to from after its last @.
                "token": store.seal({"value": f"bench-token@{native}"}),
                "replies": False,
                "enabled": True,
            }
        )
        made.append((account_id, network))
    return made


def limiter_note(args: argparse.Namespace, per_account: int) -> str:
    """Says whether the per-account limits could hold a post back at this load."""
    if args.no_limiter:
        return "rate limiter: OFF (DeliveryService built with limiter=None)"
    tightest = min(w.limit for network, _ in NETWORKS for w in windows_for(network, "post"))
    verdict = "never holds a post back" if per_account <= tightest else "WILL hold posts back"
    return (
        f"rate limiter: real MongoRateLimiter; <= {per_account} posts per account, the "
        f"tightest window allows {tightest}: it {verdict}"
    )


async def wait_published(db: Any, ids: list[str], observed: Observed, deadline: float) -> set[str]:
    """Wait until every item is ``published`` (or the deadline); the ids that are not."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(observed.all_delivered.wait(), timeout=deadline - time.monotonic())
    while True:
        published = {
            d["_id"] async for d in db["content"].find({"status": "published"}, {"_id": 1})
        }
        missing = set(ids) - published
        if not missing or time.monotonic() > deadline:
            return missing
        await asyncio.sleep(0.5)


def machine_busy_s() -> float:
    """CPU seconds every process on the machine has used (``/proc/stat``), all cores."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class Costs:
    """Round trips and CPU seconds per process between two moments, and what others used."""

    counter: CommandCounter
    pids: dict[str, int | None]
    commands: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)
    #: (monotonic s, machine busy s, our processes' s), once a second.
    samples: list[tuple[float, float, float]] = field(default_factory=list)
    _sampler: asyncio.Task[None] | None = None

    def _sample(self) -> None:
        ours = sum(cpu_s(pid) for pid in self.pids.values())
        self.samples.append((time.monotonic(), machine_busy_s(), ours))

    async def _sample_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self._sample()

    def mark(self) -> None:
        """Start counting here."""
        self.commands = self.counter.snapshot()
        self.cpu = {name: cpu_s(pid) for name, pid in self.pids.items()}
        self.samples = []
        self._sample()
        if self._sampler is None:
            self._sampler = asyncio.create_task(self._sample_forever(), name="cpu-sampler")

    async def since(self, per: int) -> str:
        """Round trips and CPU milliseconds per item since :meth:`mark`, and others' CPU."""
        self._sample()
        if self._sampler is not None:
            self._sampler.cancel()
            await asyncio.gather(self._sampler, return_exceptions=True)
            self._sampler = None
        commands = self.counter.snapshot() - self.commands
        trips = " ".join(f"{name} {count / per:.1f}" for name, count in commands.most_common())
        cpu = " ".join(
            f"{name} {(cpu_s(pid) - self.cpu[name]) * 1000 / per:.1f}"
            for name, pid in self.pids.items()
        )
        return (
            f"{sum(commands.values()) / per:.1f} round trips ({trips}); CPU ms {cpu}; "
            f"{self.others()}"
        )

    def others(self) -> str:
        """How much of the machine other processes took meanwhile: on average and at worst."""
        cores = os.cpu_count() or 1

        def share(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
            wall = max(1e-3, b[0] - a[0])
            return max(0.0, (b[1] - a[1]) - (b[2] - a[2])) / (wall * cores)

        first, last = self.samples[0], self.samples[-1]
        worst = max(
            (share(self.samples[k], self.samples[k + 10]) for k in range(len(self.samples) - 10)),
            default=share(first, last),
        )
        return (
            f"other processes took {share(first, last):.0%} of the {cores} cores "
            f"(worst 10 s: {worst:.0%})"
        )


async def bench(url: str, networks: Networks, costs: Costs, args: argparse.Namespace) -> bool:
    n = args.posts
    settings = MongoSettings(url=url, database="bench_publisher")
    clients = [create_mongo_client(settings) for _ in range(args.replicas + 1)]
    api_db = clients[0][settings.database]
    observed = Observed(n=n)
    secrets_key = Fernet.generate_key().decode()
    timeout_s = float(_default("delivery_timeout_s"))
    https = [httpx.AsyncClient(timeout=timeout_s) for _ in range(args.replicas + 1)]
    replicas: list[Replica] = []
    try:
        setup = build_replica(api_db, https[0], secrets_key, observed, owner="api", limiter=False)
        repo = ContentRepository(api_db["content"], api_db["deliveries"], source=SOURCE)
        await repo.ensure_indexes()
        await MongoTimerStore(api_db["timers"]).ensure_indexes()
        await MongoRateLimiter(api_db["rate_limits"]).ensure_indexes()
        await setup.content.workflows.ensure_indexes()
        accounts = await add_accounts(api_db, secrets_key, args.accounts, networks.url)
        per_account = math.ceil(n / len(accounts))
        print(
            f"publisher: {n} posts from {len(accounts)} accounts "
            f"({', '.join(net.value for net, _ in NETWORKS)}), {args.replicas} replicas, "
            f"fake networks in a {networks.mode}"
        )
        print(f"publisher: {limiter_note(args, per_account)}")

        lead = args.lead if args.lead is not None else 10.0 + n * CREATE_S_PER_ITEM
        window_start = datetime.now(UTC) + timedelta(seconds=lead)
        due = [window_start + timedelta(seconds=args.spread * i / n) for i in range(n)]
        ids: list[str] = [""] * n
        gate = asyncio.Semaphore(CREATE_CONCURRENCY)
        not_scheduled: list[str] = []

        async def create_one(i: int) -> None:
            account_id, network = accounts[i % len(accounts)]
            async with gate:
                draft = await setup.content.create(
                    item_fields(i, due[i], account_id, network), WRITER
                )
                done = await setup.content.submit(BRAND, draft["_id"], WRITER)
            ids[i] = str(draft["_id"])
            if done["status"] != "scheduled":
                not_scheduled.append(f"{i}:{done['status']}")

        costs.mark()
        t0 = time.perf_counter()
        await asyncio.gather(*(create_one(i) for i in range(n)))
        create_s = time.perf_counter() - t0
        # The creation events leave before the first post is due (the API's relay would have
        # sent them meanwhile; not concurrently here, as each relay pass scans on nx-27017).
        await setup.relay.drain()
        creating = await costs.since(n)
        ready_s = time.perf_counter() - t0
        armed = len([d async for d in api_db["timers"].find({"kind": PUBLISH_TIMER}, {"_id": 1})])
        print(
            f"publisher: created and submitted {n} items in {create_s:.1f}s ({n / create_s:.0f}/s; "
            f"their events relayed after {ready_s:.1f}s), "
            f"{armed} publish timers armed; times over {args.spread:.0f}s from "
            f"{window_start:%H:%M:%S} ({n / args.spread:.1f} posts/s offered)"
        )
        print(f"publisher: per item created: {creating}")
        if not_scheduled:
            print(f"ERROR: {len(not_scheduled)} items not scheduled, e.g. {not_scheduled[:3]}")
            return False
        if datetime.now(UTC) > window_start:
            print("WARNING: creating overran the lead; the first items were already due")

        for k in range(args.replicas):
            db = clients[k + 1][settings.database]
            replicas.append(
                build_replica(
                    db,
                    https[k + 1],
                    secrets_key,
                    observed,
                    owner=f"publisher-{k + 1}",
                    limiter=not args.no_limiter,
                )
            )
        costs.mark()
        for replica in replicas:
            if args.relay:
                await replica.relay.start()
            await replica.loop.start()
        started = time.monotonic()
        deadline = started + (window_start - datetime.now(UTC)).total_seconds()
        deadline += args.spread + 60 + n / 20  # room for a backlog beyond the sustained rate
        missing = await wait_published(api_db, ids, observed, deadline)
        finished = datetime.now(UTC)
        for replica in replicas:
            await replica.loop.stop()
        publishing = await costs.since(n)
        for replica in replicas:
            await replica.relay.stop()
            await replica.relay.drain()
        posts = await networks.posts()
    finally:
        for replica in replicas:
            await replica.loop.stop()
            await replica.relay.stop()
        for http in https:
            await http.aclose()
        for client in clients:
            await client.close()
    ok = report(args, ids, due, posts, missing, observed, window_start, finished)
    print(f"publisher: per post published: {publishing}")
    return ok


def write_csv(
    path: Path,
    ids: list[str],
    due: list[datetime],
    window_start: datetime,
    observed: Observed,
    posts: list[NetworkPost],
) -> None:
    """One line per item: seconds into the window, publish-timer and post lateness in ms."""
    accepted: dict[int, datetime] = {}
    for post in posts:
        match = MARKER.match(post.text)
        if match is not None:
            accepted.setdefault(int(match.group(1)), post.created_at)
    lines = ["item,due_s,publish_timer_lateness_ms,post_lateness_ms"]
    for i, content_id in enumerate(ids):
        timer = observed.publish_lateness_ms.get(content_id, math.nan)
        at = accepted.get(i)
        late = (at - due[i]).total_seconds() * 1000 if at is not None else math.nan
        lines.append(f"{i},{(due[i] - window_start).total_seconds():.3f},{timer:.1f},{late:.1f}")
    path.write_text("\n".join(lines) + "\n")


def report(
    args: argparse.Namespace,
    ids: list[str],
    due: list[datetime],
    posts: list[NetworkPost],
    missing: set[str],
    observed: Observed,
    window_start: datetime,
    finished: datetime,
) -> bool:
    """Print the figures; True when every item was posted exactly once and is published."""
    n = len(ids)
    per_item: Counter[int] = Counter()
    post_lateness: list[float] = []
    foreign = 0
    for post in posts:
        match = MARKER.match(post.text)
        if match is None or int(match.group(1)) >= n:
            foreign += 1
            continue
        i = int(match.group(1))
        per_item[i] += 1
        if per_item[i] == 1:
            post_lateness.append((post.created_at - due[i]).total_seconds() * 1000)
    if args.csv is not None:
        write_csv(args.csv, ids, due, window_start, observed, posts)
    duplicates = sum(c - 1 for c in per_item.values() if c > 1) + foreign
    never_posted = n - len(per_item)
    misses = max(never_posted, len(missing))
    refired = sum(1 for c in observed.publish_firings.values() if c > 1)
    timer_lateness = list(observed.publish_lateness_ms.values())
    last_post = max((p.created_at for p in posts), default=finished)
    busy_s = max(1e-3, (last_post - window_start).total_seconds())
    print(
        f"publisher: posts on the networks {sum(per_item.values())}/{n}, duplicates {duplicates}, "
        f"misses {misses} (never posted {never_posted}, not published {len(missing)})"
    )
    print(
        f"publisher: publish timers fired {len(observed.publish_lateness_ms)}/{n} "
        f"(fired again: {refired}); handler failures "
        f"{dict(observed.handler_failures) or 0}"
    )
    published_events = sum(observed.post_published.values())
    print(
        f"publisher: post.published events {published_events} for "
        f"{len(observed.post_published)} deliveries"
    )
    print(f"publisher: publish-timer lateness ms {figures(timer_lateness)}")
    print(
        f"publisher: delivery-timer lateness ms {figures(observed.delivery_lateness_ms)} "
        "(armed at the publish firing, due at once)"
    )
    print(f"publisher: post lateness ms {figures(post_lateness)} (network accepted - scheduled)")
    accepted = len(post_lateness)
    print(
        f"publisher: throughput {accepted / busy_s:.1f} posts/s ({accepted} posts from the first "
        f"due time to the last accepted, {busy_s:.1f}s; offered {n / args.spread:.1f}/s)"
    )
    within = sum(1 for x in post_lateness if x < TARGET_S * 1000)
    print(f"publisher: posts within {TARGET_S:.0f} s of their time: {within}/{n}")
    # An item never posted counts as infinitely late: the percentile is over every item.
    p99 = percentile(post_lateness + [math.inf] * (n - accepted), 99)
    verdict = "OK" if p99 < TARGET_S * 1000 else "NOT MET"
    print(
        f"publisher: schedule lateness p99 < {TARGET_S:.0f} s with {n} scheduled posts: {verdict} "
        f"(post lateness p99 {p99 / 1000:.2f} s, network accepted - scheduled)"
    )
    ok = duplicates == 0 and misses == 0 and len(observed.post_published) >= n
    print(f"publisher: every item posted exactly once and published: {'OK' if ok else 'FAILED'}")
    return ok


async def run(args: argparse.Namespace) -> int:
    if args.posts < 1 or args.spread <= 0 or args.replicas < 1 or args.accounts < 1:
        print("--posts, --spread, --replicas and --accounts must be positive", file=sys.stderr)
        return 2
    counter = CommandCounter()
    monitoring.register(counter)  # every client made from here on
    load = os.getloadavg()[0]
    print(f"publisher: machine {os.cpu_count()} cores, load average {load:.1f} at the start")
    with tempfile.TemporaryDirectory(prefix="bench-publisher-") as tmp:
        port = free_port()
        server = start_mongo(port=port, data_dir=None, log_dir=Path(tmp))
        networks: Networks | None = None
        try:
            networks = Networks(args.networks, Path(tmp))
            pids: dict[str, int | None] = {"bench": None, "nx-27017": server.pid}
            if networks.pid is not None:
                pids["networks"] = networks.pid
            ok = await bench(mongo_url(port), networks, Costs(counter, pids), args)
            print(f"publisher: load average {os.getloadavg()[0]:.1f} at the end")
        finally:
            if networks is not None:
                networks.stop()
            server.stop()
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 on a duplicate or missing post."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
