"""Shared set-up of the alert tests (no tests here): a generated mention history and the stores.

The history is hour after hour of the same six mentions (two negative on Telegram, four
positive on VK), so no hour is unusual, plus *bursts*: hours with 40 more negative mentions
sharing one text, on VK and X. Counts go through the real ``RollupStore.apply_batch`` and
``SampleStore.record``, as the consumers write them; the ``brands`` document is inserted
here (the consumers' job in the service).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from smm_analytics.adapters.alerts_repo import AlertRepository
from smm_analytics.adapters.rollup_store import RollupStore
from smm_analytics.adapters.samples import SampleStore
from smm_analytics.domain.rollups import increments_for
from smm_analytics.services.alerts import AlertService
from smm_shared.events import Author, Mention, MentionKind, MentionReceived, Network, Sentiment
from smm_shared.mongo import OutboxRelay, epoch_ms
from smm_shared.testing.recorder import Sent
from smm_shared.timers import ManualClock, MongoTimerStore

BRAND = "acme"
OTHER = "globex"
HOUR = timedelta(hours=1)
#: The first hour of the generated history (the brand's ``first_seen_ms``).
START = datetime(2026, 11, 20, tzinfo=UTC)
#: The start of the burst hour: eight days of history before it.
BURST = datetime(2026, 11, 28, 10, tzinfo=UTC)
NEGATIVE_TEXT = "delivery was slow again"
POSITIVE_TEXT = "love the new phone camera"
BURST_TEXT = "no refund after the #outage"
SECOND_BURST_TEXT = "battery exploded #fire"
BURST_SIZE = 40
BASELINE_NEGATIVES = 2


def mention(
    mention_id: str,
    at: datetime,
    text: str,
    label: Literal["negative", "positive"],
    network: Network,
    *,
    brand_id: str = BRAND,
) -> MentionReceived:
    """One mention event of ``brand_id`` written at ``at``."""
    return MentionReceived(
        event_id=f"e-{mention_id}",  # the same event when generated again (a replay)
        brand_id=brand_id,
        occurred_at=at,
        mention=Mention(
            mention_id=mention_id,
            network=network,
            kind=MentionKind.COMMENT,
            native_id=mention_id,
            conversation_key=f"{network.value}:{mention_id}",
            author=Author(id=f"u-{mention_id}"),
            text=text,
            language="en",
            created_at=at,
            sentiment=Sentiment(label=label, score=-0.8 if label == "negative" else 0.6),
        ),
    )


def hour_of_mentions(start: datetime, burst: str | None = None) -> list[MentionReceived]:
    """The usual six mentions of an hour, and ``BURST_SIZE`` negative ones if ``burst``."""
    tag = start.strftime("%Y%m%d%H")
    found = [
        mention(
            f"n-{tag}-{i}",
            start + timedelta(minutes=10 + i),
            NEGATIVE_TEXT,
            "negative",
            Network.TELEGRAM,
        )
        for i in range(BASELINE_NEGATIVES)
    ]
    found += [
        mention(
            f"p-{tag}-{i}", start + timedelta(minutes=20 + i), POSITIVE_TEXT, "positive", Network.VK
        )
        for i in range(4)
    ]
    if burst is not None:
        found += [
            mention(
                f"b-{tag}-{i}",
                start + timedelta(minutes=30, seconds=i),
                burst,
                "negative",
                Network.VK if i % 2 else Network.X,
            )
            for i in range(BURST_SIZE)
        ]
    return found


def hours(first: datetime, last: datetime) -> Iterator[datetime]:
    """Every whole hour from ``first`` to ``last``, both included."""
    at = first
    while at <= last:
        yield at
        at += HOUR


def history(
    until: datetime, bursts: Mapping[datetime, str] | None = None, *, start: datetime = START
) -> list[MentionReceived]:
    """The mentions of every hour from ``start`` up to ``until`` (excluded), bursts included."""
    bursts = bursts or {}
    return [m for h in hours(start, until - HOUR) for m in hour_of_mentions(h, bursts.get(h))]


@dataclass
class Alerts:
    """The alert service over the test's database, with a relay into a recorder."""

    service: AlertService
    repo: AlertRepository
    rollups: RollupStore
    samples: SampleStore
    timers: MongoTimerStore
    relay: OutboxRelay
    sent: Sent
    clock: ManualClock
    db: Any

    async def load(self, mentions: Sequence[MentionReceived], *, batch: int = 400) -> int:
        """Count and sample the mentions as the consumers do; returns how many were new."""
        new = 0
        for i in range(0, len(mentions), batch):
            chunk = mentions[i : i + batch]
            new += await self.rollups.apply_batch([(e.event_id, increments_for(e)) for e in chunk])
            await self.samples.record(chunk)
        return new

    async def seen(self, brand_id: str, first: datetime, last: datetime) -> None:
        """The ``brands`` document the consumers keep."""
        await self.db["brands"].update_one(
            {"_id": brand_id},
            {"$set": {"first_seen_ms": epoch_ms(first), "last_event_ms": epoch_ms(last)}},
            upsert=True,
        )

    async def published(self) -> list[Any]:
        """Drain the outbox; every event published so far, in order."""
        await self.relay.drain()
        return self.sent.events()


async def build(db: Any, clock: ManualClock) -> Alerts:
    """The stores and the service on ``db``, indexes created."""
    rollups = RollupStore(db["buckets"], db["ledger"])
    samples = SampleStore(db["alert_samples"])
    repo = AlertRepository(db["alerts"], source="/smm/analytics")
    timers = MongoTimerStore(db["alert_timers"])
    await rollups.ensure_indexes()
    await samples.ensure_indexes()
    await repo.ensure_indexes()
    await timers.ensure_indexes()
    service = AlertService(rollups=rollups, samples=samples, repository=repo, clock=clock)
    sent = Sent()
    relay = OutboxRelay(repo.collections, sent)
    return Alerts(service, repo, rollups, samples, timers, relay, sent, clock, db)
