"""The responder, black box on the real stack: settings by API, a mention in, a routed and
assigned case with its SLA out; a reply reaches the publish-commands topic once; SLA events
fire on time on ``smm.sla.v1``; every route checks role and brand."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from smm_shared.auth import Role
from smm_shared.events import new_ulid
from smm_shared.simulator.networks.serve import FakeNetworkServer
from smm_shared.stack import Stack
from smm_shared.testing import eventually

pytestmark = pytest.mark.e2e

BRAND = "brand-resp"
Api = Callable[..., httpx.AsyncClient]


def manager(token: Callable[..., str]) -> str:
    return token(roles=(Role.SMM_MANAGER,), brands=(BRAND,), subject="maria")


async def configure(api: Api, bearer: str, suffix: str) -> dict[str, str]:
    responder = api("responder", bearer)
    policy = await responder.post(
        "/v1/sla-policies",
        json={
            "brand_id": BRAND,
            "name": f"Fast {suffix}",
            "targets": [
                {"metric": "first_response", "target_s": 2, "warn_percent": 50},
                {"metric": "resolution", "target_s": 3600},
            ],
        },
    )
    assert policy.status_code == 201, policy.text
    dept = await responder.post(
        "/v1/departments", json={"brand_id": BRAND, "id": f"care-{suffix}", "name": "Care"}
    )
    assert dept.status_code == 201, dept.text
    rule = await responder.post(
        "/v1/routing-rules",
        json={
            "brand_id": BRAND,
            "name": f"Refunds {suffix}",
            "position": 10,
            "conditions": {"text_keywords": [f"refund{suffix}"]},
            "actions": {
                "department": f"care-{suffix}",
                "priority": "high",
                "tags": ["refund"],
                "sla_policy_id": policy.json()["id"],
                "assignment": "least_loaded",
            },
        },
    )
    assert rule.status_code == 201, rule.text
    agent = await responder.post(
        "/v1/agents",
        json={
            "brand_id": BRAND,
            "user_id": f"agent-{suffix}",
            "departments": [f"care-{suffix}"],
            "capacity": 5,
            "availability": "online",
        },
    )
    assert agent.status_code == 201, agent.text
    return {"policy": policy.json()["id"], "department": f"care-{suffix}"}


async def send_mention(api: Api, bearer: str, thread: str, text: str) -> None:
    response = await api("ingest", bearer).post(
        "/v1/mentions",
        json={
            "brand_id": BRAND,
            "network": "x",
            "kind": "reply",
            "native_id": new_ulid(),
            "thread_id": thread,
            "author": {"id": "cust-1", "handle": "cust", "display_name": "Kim"},
            "text": text,
            "language": "en",
            "created_at": datetime.now(UTC).isoformat(),
        },
    )
    assert response.status_code == 201, response.text


async def case_of(api: Api, bearer: str, thread: str) -> dict[str, Any] | None:
    page = await api("responder", bearer).get("/v1/cases", params={"brand_id": BRAND, "limit": 200})
    page.raise_for_status()
    found = [c for c in page.json()["items"] if c["conversation_key"] == f"x:{thread}"]
    return found[0] if found else None


async def test_a_mention_becomes_a_routed_assigned_case_and_the_sla_fires_on_time(
    api: Api, token: Callable[..., str], stack: Stack
) -> None:
    bearer = manager(token)
    suffix = new_ulid()[-6:].lower()
    ids = await configure(api, bearer, suffix)
    consumer = AIOKafkaConsumer(
        "smm.sla.v1", bootstrap_servers=stack.bootstrap_servers, auto_offset_reset="latest"
    )
    await consumer.start()
    try:
        await consumer.seek_to_end()
        thread = f"t-{new_ulid()}"
        await send_mention(api, bearer, thread, f"where is my refund{suffix}?")

        async def assigned() -> dict[str, Any] | None:
            case = await case_of(api, bearer, thread)
            return case if case and case.get("assignee_id") else None

        case = await eventually(assigned, timeout_s=20, what="a routed and assigned case")
        assert case["department"] == ids["department"]
        assert (case["priority"], case["tags"]) == ("high", ["refund"])
        assert case["assignee_id"] == f"agent-{suffix}"
        assert case["sla_policy_id"] == ids["policy"]
        seen: dict[str, dict[str, Any]] = {}

        async def warned_and_breached() -> bool:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                for record in records:
                    body = json.loads(record.value)
                    if body.get("case_id") == case["id"]:
                        kind = dict(record.headers)["ce_type"].decode()
                        seen.setdefault(f"{kind}|{body['metric']}", body)
                        seen[f"count|{kind}|{body['metric']}"] = {
                            "n": seen.get(f"count|{kind}|{body['metric']}", {"n": 0})["n"] + 1
                        }
            return "smm.sla.breached|first_response" in seen

        await eventually(warned_and_breached, timeout_s=15, what="SLA warning and breach events")
        await warned_and_breached()  # one more read: a duplicate would show here
    finally:
        await consumer.stop()
    assert seen["count|smm.sla.warning|first_response"]["n"] == 1
    assert seen["count|smm.sla.breached|first_response"]["n"] == 1
    assert seen["smm.sla.breached|first_response"]["lateness_ms"] < 1000
    detail = await api("responder", bearer).get(f"/v1/cases/{case['id']}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["sla_state"] == "breached"
    types = [e["type"] for e in body["timeline"]]
    for expected in (
        "case.opened",
        "case.routed",
        "sla.applied",
        "case.assigned",
        "sla.warning",
        "sla.breached",
    ):
        assert expected in types, types


@pytest.fixture
def fake_networks() -> Iterator[FakeNetworkServer]:
    with FakeNetworkServer() as server:
        yield server


async def test_a_reply_reaches_the_publisher_once_and_its_outcome_shows(
    api: Api, token: Callable[..., str], stack: Stack, fake_networks: FakeNetworkServer
) -> None:
    bearer = manager(token)
    connected = await api("publisher", bearer).post(
        "/v1/accounts",
        json={
            "id": f"x-{new_ulid().lower()}",
            "brand_id": BRAND,
            "network": "x",
            "native_id": "1580000000000000001",
            "name": "Brand on X",
            "token": {"value": "tok@1580000000000000001"},
            "api_base_url": f"{fake_networks.url}/x",
            "replies": True,
        },
    )
    assert connected.status_code == 201, connected.text
    thread = f"t-{new_ulid()}"
    await send_mention(api, bearer, thread, "my parcel never came")
    case = await eventually(lambda: case_of(api, bearer, thread), timeout_s=20, what="the case")
    consumer = AIOKafkaConsumer(
        "smm.publish-commands.v1",
        bootstrap_servers=stack.bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    responder = api("responder", bearer)
    try:
        headers = {"Idempotency-Key": f"click-{new_ulid()}"}
        body = {"text": "Sorry Kim, we are checking with the courier.", "then": "pending_customer"}
        first = await responder.post(f"/v1/cases/{case['id']}/replies", json=body, headers=headers)
        assert first.status_code == 201, first.text
        again = await responder.post(f"/v1/cases/{case['id']}/replies", json=body, headers=headers)
        assert again.status_code == 200
        reply_id = first.json()["reply_id"]
        assert again.json()["reply_id"] == reply_id
        commands: list[dict[str, Any]] = []

        async def requested() -> bool:
            batch = await consumer.getmany(timeout_ms=300)
            for records in batch.values():
                for record in records:
                    payload = json.loads(record.value)
                    if payload.get("reply_id") == reply_id:
                        commands.append(payload)
            return bool(commands)

        await eventually(requested, timeout_s=15, what="reply.requested on the topic")
        await requested()
        await requested()
    finally:
        await consumer.stop()
    assert len(commands) == 1
    assert commands[0]["text"] == "Sorry Kim, we are checking with the courier."
    assert commands[0]["case_id"] == case["id"]
    assert commands[0]["conversation_key"] == f"x:{thread}"

    async def published() -> dict[str, Any] | None:
        detail = (await responder.get(f"/v1/cases/{case['id']}")).json()
        replies = [r for r in detail["replies"] if r["id"] == reply_id]
        return detail if replies and replies[0]["state"] == "published" else None

    detail = await eventually(published, timeout_s=20, what="the reply shown as published")
    assert detail["status"] == "pending_customer"
    # The real publisher posted it once, in the thread, on the (fake) network.
    [post] = [p for p in fake_networks.networks.posts("x") if p.text == body["text"]]
    assert post.in_reply_to is not None
    assert [r["url"] for r in detail["replies"]] == [post.url]


async def test_every_route_checks_role_and_brand(api: Api, token: Callable[..., str]) -> None:
    other_brand = token(roles=(Role.SMM_MANAGER,), brands=("brand-other",), subject="eve")
    agent = token(roles=(Role.AGENT,), brands=(BRAND,), subject="ann")
    anonymous = await httpx.AsyncClient(base_url=str(api("responder").base_url)).get(
        "/v1/cases", params={"brand_id": BRAND}
    )
    assert anonymous.status_code == 401
    listed = await api("responder", other_brand).get("/v1/cases", params={"brand_id": BRAND})
    assert listed.status_code == 403
    assert listed.json()["error"]["code"] == "auth.forbidden_brand"
    policy = await api("responder", agent).post(
        "/v1/sla-policies",
        json={"brand_id": BRAND, "name": "x", "targets": [{"metric": "resolution", "target_s": 5}]},
    )
    assert policy.status_code == 403
    bad = await api("responder", manager(token)).post(
        "/v1/sla-policies",
        json={
            "brand_id": BRAND,
            "name": "x",
            "targets": [
                {"metric": "resolution", "target_s": 5, "warn_percent": 50, "warn_before_s": 1}
            ],
        },
    )
    assert bad.status_code == 422
    assert "warn_percent or warn_before" in bad.json()["error"]["message"]
    thread = f"t-{new_ulid()}"
    await send_mention(api, manager(token), thread, "hello")
    case = await eventually(
        lambda: case_of(api, manager(token), thread), timeout_s=20, what="the case"
    )
    peek = await api("responder", other_brand).get(f"/v1/cases/{case['id']}")
    assert peek.status_code == 404  # another brand's case does not exist for you
    no_key = await api("responder", manager(token)).post(
        f"/v1/cases/{case['id']}/replies", json={"text": "hi"}
    )
    assert no_key.status_code == 422
