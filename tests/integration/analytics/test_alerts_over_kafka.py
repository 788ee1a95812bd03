"""A burst of negative mentions, through the real broker and database, opens one alert.

Mentions go to Kafka; a batch consumer folds them with the real ``FoldService`` (counts,
samples, brand registry); the hourly evaluation runs on a manual clock; the alert events
leave through the outbox relay onto ``smm.alerts.v1`` on the broker, where this test reads
them. The burst opens one negative-spike episode, two quiet hours close it, and replaying
every mention changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient

from smm_analytics.services.folding import FoldService
from smm_shared.config import KafkaSettings, MongoSettings
from smm_shared.events import MentionReceived, TopicSpec, new_ulid
from smm_shared.messaging import (
    Delivery,
    EventPublisher,
    OutgoingMessage,
    consumer_lag,
    create_broker,
    ensure_topics,
    subscribe_event_batches,
)
from smm_shared.mongo import Document, OutboxRelay
from smm_shared.testing import eventually
from smm_shared.timers import ManualClock

from .test_alerts_support import BURST, BURST_SIZE, BURST_TEXT, HOUR, build, history

pytestmark = pytest.mark.integration


async def _alerts_of(bootstrap: str, brand: str, expected: int) -> list[tuple[str, dict[str, Any]]]:
    """The alert events of ``brand`` on smm.alerts.v1 (at least ``expected`` of them)."""
    consumer = AIOKafkaConsumer(
        "smm.alerts.v1", bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found: list[tuple[str, dict[str, Any]]] = []
    try:

        async def enough() -> bool:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                for record in records:
                    body = json.loads(record.value)
                    if body.get("brand_id") == brand:
                        found.append((dict(record.headers)["ce_type"].decode(), body))
            return len(found) >= expected

        await eventually(enough, timeout_s=20, what=f"{expected} alert events")
        # Anything more would show up by now: read once more before answering.
        await enough()
    finally:
        await consumer.stop()
    return found


async def test_a_burst_through_kafka_opens_one_alert_and_quiet_hours_close_it(
    kafka_settings: KafkaSettings,
    mongo_client: AsyncMongoClient[Document],
    mongo_settings: MongoSettings,
) -> None:
    brand = f"kafka-{new_ulid().lower()}"
    topic = TopicSpec(f"test.mentions.{new_ulid().lower()}", "k", "mentions of this test")
    group = f"g-{new_ulid().lower()}"
    await ensure_topics(kafka_settings, [topic, TopicSpec(f"smm.dlq.{group}", "k", "dlq")])
    mentions = [
        m.model_copy(update={"brand_id": brand})
        for m in history(BURST + 4 * HOUR, {BURST: BURST_TEXT}, start=BURST - 8 * 24 * HOUR)
    ]
    db = mongo_client[mongo_settings.database]
    clock = ManualClock(BURST + 4 * HOUR)
    alerts = await build(db, clock)
    fold = FoldService(store=alerts.rollups, brands=db["brands"], samples=alerts.samples)

    async def on_batch(events: Sequence[tuple[MentionReceived, Delivery]]) -> None:
        await fold.fold([event for event, _ in events])

    broker = create_broker(kafka_settings, client_id="alerts-test")
    subscribe_event_batches(
        broker,
        topic=topic,
        group_id=group,
        event_types={MentionReceived},
        handler=on_batch,  # type: ignore[arg-type]
        settings=kafka_settings,
    )
    await broker.start()
    publisher = EventPublisher(
        broker, source="/smm/analytics", max_message_bytes=kafka_settings.max_message_bytes
    )
    relay = OutboxRelay(alerts.repo.collections, publisher.send)

    async def send_all() -> None:
        for m in mentions:
            await publisher.send(
                replace(OutgoingMessage.from_event(m, source="/t"), topic=topic.name)
            )

    async def drained() -> bool:
        lag = await consumer_lag(kafka_settings, group_id=group, topic=topic.name)
        return bool(lag) and sum(lag.values()) == 0

    try:
        await send_all()

        async def folded() -> bool:
            return await db["ledger"].count_documents({}) == len(mentions)

        await eventually(folded, timeout_s=60, what="every mention folded")
        for end in (BURST - HOUR, BURST, BURST + HOUR, BURST + 2 * HOUR, BURST + 3 * HOUR):
            await alerts.service.evaluate(brand_id=brand, hour_end=end)
        await relay.drain()
        published = await _alerts_of(kafka_settings.bootstrap_servers, brand, 6)
        assert len(published) == 6  # one spike and two rising terms, each opened and closed

        spikes = [(kind, body) for kind, body in published if body["kind"] == "negative_spike"]
        assert [kind for kind, _ in spikes] == ["smm.alert.opened", "smm.alert.closed"]
        opened, closed = (body for _, body in spikes)
        assert opened["episode_id"] == closed["episode_id"]
        assert opened["severity"] == "critical"
        assert opened["observed"] == BURST_SIZE + 2
        assert {t["term"] for t in opened["explanation"]["top_terms"][:2]} == {"refund", "#outage"}
        assert set(opened["explanation"]["networks"]) == {"telegram", "vk", "x"}
        burst_ids = {m.mention.mention_id for m in mentions if m.mention.text == BURST_TEXT}
        samples = set(opened["explanation"]["sample_mention_ids"])
        assert samples
        assert samples <= burst_ids | {
            m.mention.mention_id for m in mentions if m.mention.sentiment.label == "negative"
        }
        assert closed["reason"] == "quiet"
        assert {body["subject"] for _, body in published if body["kind"] == "rising_term"} == {
            "refund",
            "#outage",
        }

        # Every mention again (a replay of the topic): no count moves, no alert is added.
        await send_all()
        await eventually(drained, timeout_s=60, what="the replay consumed")
        assert await db["ledger"].count_documents({}) == len(mentions)
        for end in (BURST + HOUR, BURST + 3 * HOUR):
            assert await alerts.service.evaluate(brand_id=brand, hour_end=end) == ()
        await relay.drain()
        assert len(await _alerts_of(kafka_settings.bootstrap_servers, brand, 6)) == 6
    finally:
        await broker.stop()
