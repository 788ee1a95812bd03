"""Nothing lost: webhooks acknowledged while Kafka is down reach Kafka once it is back."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from smm_shared.auth import Role, issue_token, load_signing_key
from smm_shared.config import KafkaSettings
from smm_shared.events import ALL_TOPICS
from smm_shared.localstack import start_kafka
from smm_shared.messaging import ensure_topics
from smm_shared.testing import eventually
from smm_shared.testing.plugin import StackFactory

pytestmark = pytest.mark.e2e

GROUP = 515151


def comment(i: int) -> dict[str, Any]:
    return {
        "type": "wall_reply_new",
        "event_id": f"outage{i}",
        "v": "5.199",
        "group_id": GROUP,
        "secret": "s3cret",
        "object": {
            "id": 7000 + i,
            "from_id": 900 + i,
            "date": int(time.time()),
            "text": f"comment {i} while the broker may be down",
            "post_id": 1,
            "owner_id": -GROUP,
        },
    }


async def test_deliveries_during_a_broker_outage_are_published_after_it(
    stack_factory: StackFactory,
) -> None:
    stack = stack_factory(services=("ingest",))
    token = issue_token(
        key=load_signing_key(stack.config.keys_dir),
        subject="t",
        roles=[Role.SMM_MANAGER],
        brands=["outage"],
        ttl=timedelta(minutes=10),
        issuer="smm-local",
        audience="smm-platform",
    )
    async with httpx.AsyncClient(base_url=stack.config.url("ingest"), timeout=30) as client:
        created = await client.post(
            "/v1/connectors",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "brand_id": "outage",
                "kind": "vk",
                "name": "vk",
                "config": {"group_id": GROUP, "confirmation": "c"},
                "secrets": {"secret": {"value": "s3cret"}},
            },
        )
        path = created.json()["webhook_path"]

        assert stack.kafka is not None
        stack.kafka.stop()  # the broker goes away (and, in memory, forgets everything)
        for i in range(10):
            response = await client.post(path, json=comment(i))
            # Acknowledged all the same: the delivery is stored before we say ok.
            assert response.status_code == 200, response.text
            assert response.text == "ok"

        await asyncio.sleep(0)
        stack.kafka = start_kafka(
            port=stack.config.ports["kafka"], log_path=stack.config.log_dir / "kafka2.log"
        )
        await ensure_topics(KafkaSettings(bootstrap_servers=stack.bootstrap_servers), ALL_TOPICS)
        for i in range(10, 15):
            assert (await client.post(path, json=comment(i))).status_code == 200

    consumer = AIOKafkaConsumer(
        "smm.mentions.v1",
        bootstrap_servers=stack.bootstrap_servers,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    seen: list[str] = []
    try:

        async def all_published() -> bool:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                seen.extend(json.loads(r.value)["mention"]["native_id"] for r in records)
            return len(set(seen)) >= 15

        await eventually(
            all_published, timeout_s=90, what="every delivery published after the outage"
        )
    finally:
        await consumer.stop()
    expected = {f"wall-{GROUP}_1_r{7000 + i}" for i in range(15)}
    assert set(seen) == expected
