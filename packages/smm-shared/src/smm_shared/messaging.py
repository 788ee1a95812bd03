"""Kafka plumbing: broker factory, topic creation, CloudEvents publishing, safe consumers.

Every consumer built with :func:`subscribe_events` (one message at a time) or
:func:`subscribe_event_batches` (up to ``max_records`` at a time, for write-time folding)
commits only after its handler returned (the effect is stored), dead-letters what cannot
be processed with the cause and origin in headers, and keeps retrying (without
committing) while the infrastructure is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer, TracerProvider
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError

from smm_shared.config import KafkaSettings
from smm_shared.events import Event, TopicSpec, cloudevent_headers, dead_letter_topic, decode_event
from smm_shared.events.base import UnknownEventTypeError

logger = logging.getLogger(__name__)

#: Errors that mean "the infrastructure is down", not "this message is bad": never
#: dead-letter on these, retry until it comes back.
INFRA_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionFailure,
    ServerSelectionTimeoutError,
    KafkaError,
    OSError,
)

HANDLED = Counter(
    "smm_consumer_messages_total",
    "Messages processed by consumers, by outcome",
    ["group", "topic", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "smm_consumer_handler_seconds",
    "Handler latency per consumer group and event type",
    ["group", "event_type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class MessageTooLargeError(ValueError):
    """A message exceeds ``kafka.max_message_bytes``."""


class PermanentError(Exception):
    """A handler's verdict that retrying this message can never succeed: dead-letter it."""


def create_broker(
    settings: KafkaSettings,
    *,
    client_id: str,
    tracer_provider: TracerProvider | None = None,
    metrics_registry: CollectorRegistry = REGISTRY,
) -> KafkaBroker:
    """A FastStream KafkaBroker traced and measured on every publish and consume."""
    return KafkaBroker(
        settings.bootstrap_servers,
        client_id=client_id,
        acks="all",
        # Tansu rejects InitProducerId (LOCAL-INFRA.md): no idempotent producer; consumers dedupe.
        enable_idempotence=False,
        max_request_size=settings.max_message_bytes + 64 * 1024,
        allow_auto_create_topics=False,
        middlewares=(
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
            KafkaPrometheusMiddleware(registry=metrics_registry, app_name=client_id),
        ),
        logger=logging.getLogger(f"smm.kafka.{client_id}"),
        graceful_timeout=10.0,
    )


async def ensure_topics(settings: KafkaSettings, topics: Iterable[TopicSpec]) -> list[str]:
    """Create missing topics with explicit partitions (auto-created ones get the wrong count)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="smm-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [t for t in topics if t.name not in existing]
        if not wanted:
            return []
        new = [
            NewTopic(
                t.name,
                num_partitions=t.partitions or settings.default_partitions,
                replication_factor=settings.replication_factor,
                topic_configs={"retention.ms": str(t.retention_ms)},
            )
            for t in wanted
        ]
        # Another replica may create one between our list and create: fine.
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(new)
        return [t.name for t in wanted]
    finally:
        await admin.close()


async def kafka_reachable(settings: KafkaSettings, timeout_s: float = 2.0) -> bool:
    """True when the bootstrap servers answer a metadata request."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        await asyncio.wait_for(admin.list_topics(), timeout_s)
        return True
    except (KafkaError, KafkaConnectionError, OSError, TimeoutError):
        return False
    finally:
        try:
            await admin.close()
        except Exception:
            logger.debug("admin close failed", exc_info=True)


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message ready for the wire: topic, key, CloudEvents headers and the JSON body."""

    topic: str
    key: str
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    def from_event(cls, event: Event, *, source: str) -> OutgoingMessage:
        """Envelope an event with its CloudEvents headers."""
        return cls(
            event.topic,
            event.partition_key(),
            cloudevent_headers(event, source=source),
            event.to_json(),
        )


class EventPublisher:
    """Publishes events and stored messages with their CloudEvents envelope."""

    def __init__(self, broker: KafkaBroker, *, source: str, max_message_bytes: int) -> None:
        self._broker = broker
        self._source = source
        self._max = max_message_bytes

    @property
    def source(self) -> str:
        """The CloudEvents ``ce_source`` of this process."""
        return self._source

    async def publish(self, event: Event) -> None:
        """Publish one event to its topic, keyed by its aggregate."""
        await self.send(OutgoingMessage.from_event(event, source=self._source))

    async def send(self, message: OutgoingMessage) -> None:
        """Publish a prepared message and wait for the broker's acknowledgement."""
        if len(message.body) > self._max:
            raise MessageTooLargeError(
                f"message for {message.topic} is {len(message.body)} bytes, limit {self._max}"
            )
        await self._broker.publish(
            message.body, message.topic, key=message.key.encode(), headers=dict(message.headers)
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a consumed message came from: for logs, dead letters and offset-based dedupe."""

    topic: str
    partition: int
    offset: int
    key: str | None
    headers: Mapping[str, str]


EventHandler = Callable[[Any, Delivery], Awaitable[None]]


async def _raw_body(message: StreamMessage[Any]) -> bytes:
    """Decoder that hands the handler the raw bytes: we validate against our contracts."""
    return bytes(message.body)


def _delivery(msg: KafkaMessage) -> Delivery:
    # Single-message subscribers only: the raw message is one ConsumerRecord, not a batch.
    return _record_delivery(cast("ConsumerRecord[Any, Any]", msg.raw_message))


def _record_delivery(record: ConsumerRecord[Any, Any]) -> Delivery:
    key = record.key.decode(errors="replace") if isinstance(record.key, bytes) else record.key
    headers = {
        k: (v.decode(errors="replace") if isinstance(v, bytes) else str(v))
        for k, v in record.headers
    }
    return Delivery(record.topic, record.partition, record.offset, key, headers)


class DeadLetters:
    """Sends what a consumer group cannot process to its dead-letter topic, with the cause."""

    def __init__(self, broker: KafkaBroker, group_id: str) -> None:
        self._broker = broker
        self.group_id = group_id
        self.topic = dead_letter_topic(group_id)

    async def send(self, body: bytes, delivery: Delivery, *, code: str, error: str) -> None:
        """Publish the original body and headers plus the error and origin."""
        headers = dict(delivery.headers)
        headers.update(
            {
                "dlq_error_code": code,
                "dlq_error": error[:2000],
                "dlq_origin_topic": delivery.topic,
                "dlq_origin_partition": str(delivery.partition),
                "dlq_origin_offset": str(delivery.offset),
                "dlq_consumer_group": self.group_id,
                "dlq_failed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )
        await self._broker.publish(
            body,
            self.topic.name,
            key=delivery.key.encode() if delivery.key is not None else None,
            headers=headers,
        )
        HANDLED.labels(self.group_id, delivery.topic, "dead_lettered").inc()
        logger.warning(
            "dead-lettered message",
            extra={
                "dlq_code": code,
                "origin": f"{delivery.topic}/{delivery.partition}@{delivery.offset}",
                "group": self.group_id,
            },
        )


def subscribe_events(
    broker: KafkaBroker,
    *,
    topic: TopicSpec,
    group_id: str,
    handlers: Mapping[type[Event], EventHandler],
    settings: KafkaSettings,
    auto_offset_reset: Literal["earliest", "latest"] = "earliest",
) -> DeadLetters:
    """Register a consumer of ``topic`` in ``group_id`` dispatching each event type to its handler.

    Unknown or invalid messages go to the group's dead-letter topic; a known event type
    without a handler here is acknowledged and skipped (other groups care about it).
    """
    dead = DeadLetters(broker, group_id)

    @broker.subscriber(
        topic.name,
        group_id=group_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset=auto_offset_reset,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        max_partition_fetch_bytes=settings.max_message_bytes + 64 * 1024,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        decoder=_raw_body,
        title=f"{group_id}:{topic.name}",
        description=f"Consumer group {group_id} on {topic.name}",
    )
    async def _consume(body: bytes, msg: KafkaMessage) -> None:
        delivery = _delivery(msg)
        await _dispatch(body, delivery, handlers=handlers, dead=dead, settings=settings)

    return dead


BatchHandler = Callable[[Sequence[tuple[Event, Delivery]]], Awaitable[None]]


async def _raw_bodies(message: StreamMessage[Any]) -> list[bytes]:
    """Batch decoder: the raw bytes of each record (validated against our contracts later)."""
    return [bytes(body) for body in message.body]


def subscribe_event_batches(
    broker: KafkaBroker,
    *,
    topic: TopicSpec,
    group_id: str,
    event_types: Collection[type[Event]],
    handler: BatchHandler,
    settings: KafkaSettings,
    max_records: int = 500,
    batch_timeout_ms: int = 200,
    auto_offset_reset: Literal["earliest", "latest"] = "earliest",
    tracer_provider: TracerProvider | None = None,
) -> DeadLetters:
    """Consume ``topic`` in ``group_id`` in batches: ``handler`` gets the valid events of ``event_types``.

    The batch is committed after ``handler`` returned. Messages that cannot be decoded go
    to the dead-letter topic (after the handler stored the rest); events of other known
    types are skipped. A handler that keeps failing on a batch is retried one event at a
    time, so only the event that fails is dead-lettered; infrastructure errors are never
    dead-lettered: the batch is rewound and redelivered.

    Each event gets a ``<topic> process`` consumer span in its producer's trace (from its
    ``traceparent``), spanning the batch's handling: a batch consumer's own span starts a
    trace of its own, and a mention's trace must still reach every service that used it.
    """
    dead = DeadLetters(broker, group_id)
    wanted = frozenset(event_types)
    tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    @broker.subscriber(
        topic.name,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset=auto_offset_reset,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        max_partition_fetch_bytes=settings.max_message_bytes + 64 * 1024,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        decoder=_raw_bodies,
        title=f"{group_id}:{topic.name}",
        description=f"Consumer group {group_id} on {topic.name} (batches)",
    )
    async def _consume(_: list[bytes], msg: KafkaMessage) -> None:
        records = cast("tuple[ConsumerRecord[Any, Any], ...]", msg.raw_message)
        events: list[tuple[Event, Delivery]] = []
        rejected: list[tuple[bytes, Delivery, str, str]] = []
        for record in records:
            body, delivery = bytes(record.value or b""), _record_delivery(record)
            decoded = _decode(body, delivery, settings)
            if isinstance(decoded, tuple):
                rejected.append((body, delivery, *decoded))
            elif type(decoded) in wanted:
                events.append((decoded, delivery))
            else:
                HANDLED.labels(group_id, delivery.topic, "skipped").inc()
        spans = [_process_span(tracer, group_id, delivery, len(events)) for _, delivery in events]
        try:
            failed = await _dispatch_batch(
                events, handler=handler, group=group_id, settings=settings
            )
        except BaseException as exc:
            for span in spans:
                span.record_exception(exc)
                span.set_status(StatusCode.ERROR, type(exc).__name__)
            raise
        finally:
            for span in spans:
                span.end()
        rejected += [(_body(records, d), d, code, error) for d, code, error in failed]
        for body, delivery, code, error in rejected:
            await dead.send(body, delivery, code=code, error=error)

    return dead


def _process_span(tracer: Tracer, group: str, delivery: Delivery, size: int) -> Span:
    """A consumer span for one event of a batch, in the trace its producer started."""
    return tracer.start_span(
        f"{delivery.topic} process",
        context=propagate.extract(dict(delivery.headers)),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": delivery.topic,
            "messaging.consumer.group.name": group,
            "messaging.destination.partition.id": str(delivery.partition),
            "messaging.kafka.offset": delivery.offset,
            "messaging.batch.message_count": size,
        },
    )


def _body(records: Sequence[ConsumerRecord[Any, Any]], delivery: Delivery) -> bytes:
    for record in records:
        if (record.partition, record.offset) == (delivery.partition, delivery.offset):
            return bytes(record.value or b"")
    raise LookupError(f"no record at {delivery.partition}@{delivery.offset}")


def _decode(body: bytes, delivery: Delivery, settings: KafkaSettings) -> Event | tuple[str, str]:
    """The event in a message, or the dead-letter code and error why there is none."""
    if len(body) > settings.max_message_bytes:
        return "message.too_large", f"{len(body)} bytes"
    ce_type = delivery.headers.get("ce_type")
    if not ce_type:
        return "envelope.missing_ce_type", "no ce_type header"
    try:
        return decode_event(ce_type, body)
    except UnknownEventTypeError as exc:
        return "envelope.unknown_type", str(exc)
    except (ValidationError, ValueError) as exc:
        return "contract.invalid", str(exc)


async def _dispatch_batch(
    events: Sequence[tuple[Event, Delivery]],
    *,
    handler: BatchHandler,
    group: str,
    settings: KafkaSettings,
) -> list[tuple[Delivery, str, str]]:
    """Run ``handler`` on the batch; the events that had to be given up, with code and error."""
    if not events:
        return []
    attempt = 0
    while True:
        attempt += 1
        started = time.perf_counter()
        try:
            await handler(events)
        except INFRA_ERRORS:
            for _, delivery in events:
                HANDLED.labels(group, delivery.topic, "retry_infra").inc()
            logger.warning("infrastructure error, will retry the batch", exc_info=True)
            await asyncio.sleep(settings.retry_backoff_s * min(attempt, 10))
            raise
        except Exception as exc:
            if len(events) == 1:
                if attempt < settings.max_handler_attempts and not isinstance(exc, PermanentError):
                    await asyncio.sleep(settings.retry_backoff_s * attempt)
                    continue
                logger.exception("handler gave up on an event after %s attempts", attempt)
                code = "handler.rejected" if isinstance(exc, PermanentError) else "handler.failed"
                return [(events[0][1], code, f"{type(exc).__name__}: {exc}")]
            if attempt < settings.max_handler_attempts and not isinstance(exc, PermanentError):
                await asyncio.sleep(settings.retry_backoff_s * attempt)
                continue
            logger.warning("batch of %s kept failing, one event at a time", len(events))
            failed: list[tuple[Delivery, str, str]] = []
            for one in events:
                failed += await _dispatch_batch(
                    [one], handler=handler, group=group, settings=settings
                )
            return failed
        elapsed = time.perf_counter() - started
        for event, delivery in events:
            HANDLER_SECONDS.labels(group, event.event_type).observe(elapsed / len(events))
            HANDLED.labels(group, delivery.topic, "ok").inc()
        return []


async def _dispatch(
    body: bytes,
    delivery: Delivery,
    *,
    handlers: Mapping[type[Event], EventHandler],
    dead: DeadLetters,
    settings: KafkaSettings,
) -> None:
    group = dead.group_id
    if len(body) > settings.max_message_bytes:
        await dead.send(body, delivery, code="message.too_large", error=f"{len(body)} bytes")
        return
    ce_type = delivery.headers.get("ce_type")
    if not ce_type:
        await dead.send(body, delivery, code="envelope.missing_ce_type", error="no ce_type header")
        return
    try:
        event = decode_event(ce_type, body)
    except UnknownEventTypeError as exc:
        await dead.send(body, delivery, code="envelope.unknown_type", error=str(exc))
        return
    except (ValidationError, ValueError) as exc:
        await dead.send(body, delivery, code="contract.invalid", error=str(exc))
        return
    handler = handlers.get(type(event))
    if handler is None:
        HANDLED.labels(group, delivery.topic, "skipped").inc()
        return
    attempt = 0
    while True:
        attempt += 1
        started = time.perf_counter()
        try:
            await handler(event, delivery)
        except PermanentError as exc:
            await dead.send(
                body, delivery, code="handler.rejected", error=f"{type(exc).__name__}: {exc}"
            )
            return
        except INFRA_ERRORS:
            # Not this message's fault: leave it uncommitted and let the consumer seek back.
            HANDLED.labels(group, delivery.topic, "retry_infra").inc()
            logger.warning("infrastructure error, will retry", exc_info=True)
            await asyncio.sleep(settings.retry_backoff_s * min(attempt, 10))
            raise
        except Exception as exc:
            if attempt >= settings.max_handler_attempts:
                logger.exception("handler failed %s times, dead-lettering", attempt)
                await dead.send(
                    body, delivery, code="handler.failed", error=f"{type(exc).__name__}: {exc}"
                )
                return
            await asyncio.sleep(settings.retry_backoff_s * attempt)
            continue
        HANDLER_SECONDS.labels(group, event.event_type).observe(time.perf_counter() - started)
        HANDLED.labels(group, delivery.topic, "ok").inc()
        return


async def consumer_lag(settings: KafkaSettings, *, group_id: str, topic: str) -> dict[int, int]:
    """Messages not yet committed by ``group_id`` per partition of ``topic`` (end offset - committed)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await consumer.start()
    await admin.start()
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            await (
                consumer._client.force_metadata_update()
            )  # no public API forces a first metadata fetch
            partitions = [
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
        ends = await consumer.end_offsets(partitions)
        # Tansu needs the partitions listed explicitly (LOCAL-INFRA.md).
        committed = await admin.list_consumer_group_offsets(group_id, partitions=partitions)
        lag: dict[int, int] = {}
        for tp in partitions:
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            lag[tp.partition] = max(0, ends[tp] - done)
        return lag
    finally:
        await consumer.stop()
        await admin.close()
