"""Reply commands over the real broker: posted once in the right thread even when delivered twice."""

from __future__ import annotations

from dataclasses import replace

import pytest

from smm_publisher.services.delivery import DeliveryService
from smm_shared.config import KafkaSettings
from smm_shared.events import Network, ReplyRequested, TopicSpec, new_ulid
from smm_shared.messaging import (
    Delivery,
    EventPublisher,
    OutgoingMessage,
    create_broker,
    ensure_topics,
    subscribe_events,
)
from smm_shared.simulator.networks.serve import FakeNetworkServer
from smm_shared.testing import eventually

from .conftest import BRAND, Replica, add_account

pytestmark = pytest.mark.integration


def command(network: Network, in_reply_to: str, text: str, **extra: str) -> ReplyRequested:
    return ReplyRequested(
        brand_id=BRAND,
        reply_id=new_ulid(),
        case_id=new_ulid(),
        network=network,
        conversation_key=f"{network.value}:{in_reply_to}",
        in_reply_to_mention_id=new_ulid(),
        in_reply_to_native_id=in_reply_to,
        text=text,
        requested_by="agent-anna",
        **extra,
    )


async def test_a_reply_command_delivered_twice_is_posted_once_in_its_thread(
    replica: Replica, fake_networks: FakeNetworkServer, kafka_settings: KafkaSettings
) -> None:
    fake_networks.networks.clear()
    await add_account(
        replica, "acme-x", "x", "1580000000000000001", f"{fake_networks.url}/x", replies=True
    )
    await add_account(
        replica, "acme-bot", "telegram", "@acme_news", f"{fake_networks.url}/telegram", replies=True
    )
    topic = TopicSpec(
        f"test.commands.{new_ulid().lower()}", "case id", "reply commands", partitions=2
    )
    group = f"publisher-replies-{new_ulid().lower()}"
    await ensure_topics(
        kafka_settings, [topic, TopicSpec(f"smm.dlq.{group}", "k", "dlq", partitions=1)]
    )
    deliveries: DeliveryService = replica.deliveries
    handled: list[str] = []

    async def on_reply(event: ReplyRequested, _: Delivery) -> None:
        await deliveries.request_reply(event)
        handled.append(event.reply_id)

    broker = create_broker(kafka_settings, client_id="publisher-test")
    subscribe_events(
        broker,
        topic=topic,
        group_id=group,
        handlers={ReplyRequested: on_reply},
        settings=kafka_settings,
    )
    x_reply = command(Network.X, "1790000000000000042", "Sorry about that! We have sent you a DM.")
    tg_reply = command(Network.TELEGRAM, "-100777_55", "Thanks, fixed now.")
    nobody = command(Network.REDDIT, "t1_abc", "Hello from nowhere")
    loop = replica.loop("replica-1")
    await broker.start()
    await loop.start()
    try:
        publisher = EventPublisher(
            broker, source="/test", max_message_bytes=kafka_settings.max_message_bytes
        )
        for event in (x_reply, x_reply, tg_reply, nobody, tg_reply):
            await publisher.send(
                replace(OutgoingMessage.from_event(event, source="/test"), topic=topic.name)
            )

        async def all_ended() -> bool:
            states = [
                (await replica.repo.delivery(f"reply:{c.reply_id}") or {}).get("state")
                for c in (x_reply, tg_reply, nobody)
            ]
            return len(handled) == 5 and all(s in ("published", "failed") for s in states)

        await eventually(all_ended, timeout_s=30, what="every reply command handled and ended")
    finally:
        await loop.stop()
        await broker.stop()

    x_posts = fake_networks.networks.posts("x")
    assert len(x_posts) == 1
    assert x_posts[0].in_reply_to == "1790000000000000042"
    tg_posts = fake_networks.networks.posts("telegram")
    assert len(tg_posts) == 1
    assert tg_posts[0].account == "-100777"  # answered in the chat the message came from

    await replica.relay.drain()
    published = replica.sent.events("smm.reply.published")
    assert sorted(e.reply_id for e in published) == sorted([x_reply.reply_id, tg_reply.reply_id])
    assert all(e.native_id for e in published)
    [failed] = replica.sent.events("smm.reply.failed")
    assert failed.reply_id == nobody.reply_id
    assert failed.code == "account.no_reply_account"
    assert "reddit" in failed.message
