"""The live view's Kafka side: every console replica reads the live topics into its LiveHub.

No consumer group: each replica must see every event (its own clients' brands could be
any), and a group would split the partitions between replicas. Without a group nothing
is committed and reading starts at the end of each partition (``latest``): a live view
shows what happens from now on; what a client missed it refetches. Nothing is
dead-lettered either: a message the view cannot read is logged and skipped, the
consumer groups that own the data dead-letter it.
"""

from __future__ import annotations

import logging
from typing import Final

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage

from smm_console.services.live import LiveHub
from smm_shared.config import KafkaSettings
from smm_shared.events.topics import ALERTS, CASES, CONTESTS, POSTS, SLA

# The platform's own decoding (size limit, ce_type header, tolerant contract reader), so
# the live view reads messages exactly as the consumer groups do.
from smm_shared.messaging import HANDLED, _decode, _delivery

logger = logging.getLogger(__name__)

LIVE_TOPICS: Final = (CASES.name, SLA.name, ALERTS.name, POSTS.name, CONTESTS.name)
#: The consumer's name in logs and metrics (it is not a consumer group).
FEED_NAME: Final = "console-live"


async def _raw_body(message: StreamMessage[bytes]) -> bytes:
    """Hand the handler the raw bytes: they are validated against the contracts here."""
    return bytes(message.body)


def register_live_feed(broker: KafkaBroker, hub: LiveHub, *, settings: KafkaSettings) -> None:
    """Consume the live topics into ``hub`` (call before the broker starts)."""

    @broker.subscriber(
        *LIVE_TOPICS,
        group_id=None,
        auto_offset_reset="latest",
        # Never acknowledge: without a group there is nothing to commit (aiokafka refuses).
        ack_policy=AckPolicy.MANUAL,
        max_partition_fetch_bytes=settings.max_message_bytes + 64 * 1024,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        decoder=_raw_body,
        title=f"{FEED_NAME}:live-topics",
        description="Every console replica reads these topics for GET /api/live (no group)",
    )
    async def _live(body: bytes, msg: KafkaMessage) -> None:
        delivery = _delivery(msg)
        decoded = _decode(body, delivery, settings)
        if isinstance(decoded, tuple):
            code, error = decoded
            HANDLED.labels(FEED_NAME, delivery.topic, "invalid").inc()
            logger.warning(
                "live feed skipped a message it cannot read: %s (%s)",
                code,
                error[:500],
                extra={"origin": f"{delivery.topic}/{delivery.partition}@{delivery.offset}"},
            )
            return
        try:
            shown = hub.publish(decoded)
        except Exception:  # the live view must never stop the feed
            logger.exception("live feed could not publish %s", decoded.event_type)
            HANDLED.labels(FEED_NAME, delivery.topic, "failed").inc()
            return
        HANDLED.labels(FEED_NAME, delivery.topic, "ok" if shown else "skipped").inc()
