"""Messaging on a real Kafka-protocol broker: envelope, typed dispatch, dead letters, topics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from smm_shared.config import KafkaSettings
from smm_shared.events import Author, CaseOpened, Mention, MentionReceived, TopicSpec, new_ulid
from smm_shared.messaging import (
    Delivery,
    EventPublisher,
    MessageTooLargeError,
    OutgoingMessage,
    consumer_lag,
    create_broker,
    ensure_topics,
    subscribe_event_batches,
    subscribe_events,
)
from smm_shared.testing import eventually

pytestmark = pytest.mark.integration


def _mention_event(brand: str = "brand-a", text: str = "hello") -> MentionReceived:
    native = new_ulid()
    return MentionReceived(
        brand_id=brand,
        mention=Mention(
            mention_id=new_ulid(),
            network="vk",
            kind="comment",
            native_id=native,
            conversation_key=f"vk:wall-1_{native}",
            author=Author(id="42", handle="ivan"),
            text=text,
            created_at=datetime.now(UTC),
        ),
    )


async def _read_all(bootstrap: str, topic: str, expected: int, timeout_s: float = 15.0) -> list:  # type: ignore[type-arg]
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records = []
    try:

        async def probe() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(recs)
            return len(records) >= expected

        await eventually(probe, timeout_s=timeout_s, what=f"{expected} records on {topic}")
    finally:
        await consumer.stop()
    return records


@pytest.fixture
def topic() -> TopicSpec:
    return TopicSpec(f"test.{new_ulid().lower()}", "test", "test topic", partitions=3)


async def test_ensure_topics_creates_explicit_partitions_once(
    kafka_settings: KafkaSettings, topic: TopicSpec
) -> None:
    assert await ensure_topics(kafka_settings, [topic]) == [topic.name]
    assert await ensure_topics(kafka_settings, [topic]) == []
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_settings.bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics([topic.name])
    finally:
        await admin.close()
    assert len(described[0]["partitions"]) == 3


async def test_typed_dispatch_dead_letters_bad_messages_and_goes_on(
    kafka_settings: KafkaSettings, topic: TopicSpec, span_exporter: InMemorySpanExporter
) -> None:
    group = f"g-{new_ulid().lower()}"
    await ensure_topics(
        kafka_settings, [topic, TopicSpec(f"smm.dlq.{group}", "k", "dlq", partitions=1)]
    )
    received: list[tuple[MentionReceived, Delivery]] = []
    attempts: dict[str, int] = {}

    async def on_mention(event: MentionReceived, delivery: Delivery) -> None:
        attempts[event.event_id] = attempts.get(event.event_id, 0) + 1
        if event.mention.text == "explode":
            raise RuntimeError("handler bug")
        received.append((event, delivery))

    broker = create_broker(kafka_settings, client_id="test")
    subscribe_events(
        broker,
        topic=topic,
        group_id=group,
        handlers={MentionReceived: on_mention},
        settings=kafka_settings,
    )
    await broker.start()
    try:
        publisher = EventPublisher(
            broker, source="/test", max_message_bytes=kafka_settings.max_message_bytes
        )
        good = _mention_event()
        # Each bad message is keyed like the good ones so the same partition carries all of them.
        key = good.partition_key().encode()
        await broker.publish(
            b"{not json", topic.name, key=key, headers={"ce_type": "smm.mention.received"}
        )
        await broker.publish(b"{}", topic.name, key=key, headers={"ce_type": "smm.nope"})
        await broker.publish(b"{}", topic.name, key=key)
        exploding = _mention_event(text="explode")
        await broker.publish(
            exploding.to_json(), topic.name, key=key, headers={"ce_type": exploding.event_type}
        )
        # A known type this group does not handle is skipped, not dead-lettered.
        other = CaseOpened(
            brand_id="b", case_id="c1", conversation_key="vk:1", network="vk", mention_id="m"
        )
        await broker.publish(
            other.to_json(), topic.name, key=key, headers={"ce_type": other.event_type}
        )
        await publisher.send(
            replace(OutgoingMessage.from_event(good, source="/test"), topic=topic.name)
        )

        async def got_good() -> bool:
            return any(e.event_id == good.event_id for e, _ in received)

        await eventually(got_good, timeout_s=20, what="valid event after bad ones")
    finally:
        await broker.stop()

    event, delivery = received[0]
    assert event == good
    assert delivery.headers["ce_type"] == "smm.mention.received"
    assert delivery.headers["ce_source"] == "/test"
    assert delivery.headers["ce_specversion"] == "1.0"
    assert delivery.headers["ce_id"] == good.event_id
    assert delivery.headers["content-type"] == "application/json"
    # The consumer's span continues the producer's trace (W3C traceparent header).
    trace_id = delivery.headers["traceparent"].split("-")[1]
    spans = [
        s for s in span_exporter.get_finished_spans() if f"{s.context.trace_id:032x}" == trace_id
    ]
    kinds = {s.kind.name for s in spans}
    assert {"PRODUCER", "CONSUMER"} <= kinds, [(s.name, s.kind) for s in spans]
    assert delivery.key == good.mention.conversation_key
    assert attempts[exploding.event_id] == kafka_settings.max_handler_attempts

    dead = await _read_all(kafka_settings.bootstrap_servers, f"smm.dlq.{group}", 4)
    codes = [dict(r.headers)["dlq_error_code"].decode() for r in dead]
    assert codes == [
        "contract.invalid",
        "envelope.unknown_type",
        "envelope.missing_ce_type",
        "handler.failed",
    ]
    first = dict(dead[0].headers)
    assert first["dlq_origin_topic"].decode() == topic.name
    assert int(first["dlq_origin_offset"].decode()) >= 0
    assert first["dlq_consumer_group"].decode() == group
    assert dead[0].value == b"{not json"
    assert "handler bug" in dict(dead[3].headers)["dlq_error"].decode()


async def test_publisher_enforces_the_size_limit(kafka_settings: KafkaSettings) -> None:
    broker = create_broker(kafka_settings, client_id="test-size")
    await broker.connect()
    try:
        publisher = EventPublisher(broker, source="/test", max_message_bytes=2048)
        with pytest.raises(MessageTooLargeError):
            await publisher.publish(_mention_event(text="x" * 4096))
    finally:
        await broker.stop()


async def test_consumer_resumes_from_commit_after_restart(
    kafka_settings: KafkaSettings, topic: TopicSpec
) -> None:
    """Committed after the handler: a restarted consumer neither loses nor repeats messages."""
    group = f"g-{new_ulid().lower()}"
    await ensure_topics(kafka_settings, [topic])
    seen: list[str] = []

    async def on_mention(event: MentionReceived, _: Delivery) -> None:
        seen.append(event.event_id)

    async def run_consumer(until: int) -> None:
        broker = create_broker(kafka_settings, client_id="test-resume")
        subscribe_events(
            broker,
            topic=topic,
            group_id=group,
            handlers={MentionReceived: on_mention},
            settings=kafka_settings,
        )
        await broker.start()
        try:

            async def enough() -> bool:
                return len(seen) >= until

            await eventually(enough, timeout_s=20, what=f"{until} events")
        finally:
            await broker.stop()

    producer = create_broker(kafka_settings, client_id="test-producer")
    await producer.connect()
    publisher = EventPublisher(
        producer, source="/test", max_message_bytes=kafka_settings.max_message_bytes
    )

    async def send(e: MentionReceived) -> None:
        await publisher.send(
            replace(OutgoingMessage.from_event(e, source="/test"), topic=topic.name)
        )

    first = [_mention_event() for _ in range(5)]
    for e in first:
        await send(e)
    await run_consumer(5)
    second = [_mention_event() for _ in range(5)]
    for e in second:
        await send(e)
    await producer.stop()
    await run_consumer(10)
    assert sorted(seen) == sorted(e.event_id for e in first + second)


async def test_consumer_lag_counts_what_the_group_has_not_committed(
    kafka_settings: KafkaSettings, topic: TopicSpec
) -> None:
    group = f"g-{new_ulid().lower()}"
    await ensure_topics(kafka_settings, [topic])
    producer = create_broker(kafka_settings, client_id="test-lag")
    await producer.connect()
    try:
        for i in range(4):
            await producer.publish(b"x", topic.name, partition=i % 3)
    finally:
        await producer.stop()
    lag = await consumer_lag(kafka_settings, group_id=group, topic=topic.name)
    assert lag == {0: 2, 1: 1, 2: 1}

    consumer = AIOKafkaConsumer(
        topic.name,
        bootstrap_servers=kafka_settings.bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    try:
        got: list[object] = []

        async def all_read() -> bool:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                got.extend(records)
            return len(got) >= 4

        await eventually(all_read, timeout_s=20, what="4 records")
        await consumer.commit()
    finally:
        await consumer.stop()
    assert await consumer_lag(kafka_settings, group_id=group, topic=topic.name) == {
        0: 0,
        1: 0,
        2: 0,
    }


async def test_batches_store_good_events_dead_letter_bad_ones_and_isolate_a_failing_event(
    kafka_settings: KafkaSettings, topic: TopicSpec, span_exporter: InMemorySpanExporter
) -> None:
    group = f"g-{new_ulid().lower()}"
    await ensure_topics(
        kafka_settings, [topic, TopicSpec(f"smm.dlq.{group}", "k", "dlq", partitions=1)]
    )
    batches: list[list[str]] = []
    stored: list[str] = []
    traces: dict[str, str] = {}

    async def fold(events: Sequence[tuple[MentionReceived, Delivery]]) -> None:
        batches.append([e.event_id for e, _ in events])
        if any(e.mention.text == "explode" for e, _ in events):
            raise RuntimeError("fold bug")
        stored.extend(e.event_id for e, _ in events)
        for e, delivery in events:
            traces[e.event_id] = delivery.headers["traceparent"].split("-")[1]

    good = [_mention_event(text=f"good {i}") for i in range(30)]
    exploding = _mention_event(text="explode")
    key = good[0].partition_key().encode()
    producer = create_broker(kafka_settings, client_id="test-batch-producer")
    await producer.connect()
    try:
        for i, event in enumerate(good):
            if i == 10:
                await producer.publish(
                    b"{not json", topic.name, key=key, headers={"ce_type": "smm.mention.received"}
                )
                await producer.publish(
                    exploding.to_json(),
                    topic.name,
                    key=key,
                    headers={"ce_type": exploding.event_type},
                )
            await producer.publish(
                event.to_json(), topic.name, key=key, headers={"ce_type": event.event_type}
            )
    finally:
        await producer.stop()

    broker = create_broker(kafka_settings, client_id="test-batch")
    subscribe_event_batches(
        broker,
        topic=topic,
        group_id=group,
        event_types={MentionReceived},
        handler=fold,  # type: ignore[arg-type]
        settings=kafka_settings,
        max_records=100,
    )
    await broker.start()
    try:

        async def all_stored() -> bool:
            return len(stored) >= len(good)

        await eventually(all_stored, timeout_s=20, what="every good event stored")
        dead = await _read_all(kafka_settings.bootstrap_servers, f"smm.dlq.{group}", 2)
    finally:
        await broker.stop()

    assert sorted(stored) == sorted(e.event_id for e in good)  # each good one once
    assert max(len(b) for b in batches) > 1  # consumed in batches, not one by one
    codes = sorted(dict(r.headers)["dlq_error_code"].decode() for r in dead)
    assert codes == ["contract.invalid", "handler.failed"]
    failed = next(r for r in dead if dict(r.headers)["dlq_error_code"] == b"handler.failed")
    assert failed.value == exploding.to_json()
    assert "fold bug" in dict(failed.headers)["dlq_error"].decode()
    # Every folded event has a consumer span in the trace its producer started.
    processed = {
        f"{s.context.trace_id:032x}"
        for s in span_exporter.get_finished_spans()
        if s.name == f"{topic.name} process" and s.kind.name == "CONSUMER"
    }
    assert {traces[e.event_id] for e in good} <= processed
