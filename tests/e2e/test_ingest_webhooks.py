"""Ingest, black box: signed webhooks in, stored and enriched mentions and Kafka events out."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from smm_shared.auth import Role
from smm_shared.events import new_ulid
from smm_shared.stack import Stack
from smm_shared.testing import eventually

pytestmark = pytest.mark.e2e

BRAND = "brand-hooks"
Api = Callable[..., httpx.AsyncClient]


@pytest.fixture
def admin(api: Api, token: Callable[..., str]) -> httpx.AsyncClient:
    return api("ingest", token(roles=(Role.SMM_MANAGER,), brands=(BRAND,)))


async def make_connector(
    admin: httpx.AsyncClient, kind: str, config: dict[str, Any], secrets: dict[str, str]
) -> dict[str, Any]:
    response = await admin.post(
        "/v1/connectors",
        json={
            "brand_id": BRAND,
            "kind": kind,
            "name": f"{kind} test",
            "config": config,
            "secrets": {k: {"value": v} for k, v in secrets.items()},
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["missing_secrets"] == []
    assert all(s == {"source": "encrypted", "env": None} for s in body["secrets"].values())
    assert not any(v in response.text for v in secrets.values())  # secrets never come back
    return body


async def mentions(admin: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await admin.get("/v1/mentions", params={"brand_id": BRAND, "limit": 200, **params})
    response.raise_for_status()
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def vk_comment(
    group_id: int,
    secret: str,
    *,
    post_id: int,
    comment_id: int,
    text: str,
    kind: str = "wall_reply_new",
) -> dict[str, Any]:
    return {
        "type": kind,
        "event_id": new_ulid().lower(),
        "v": "5.199",
        "group_id": group_id,
        "secret": secret,
        "object": {
            "id": comment_id,
            "from_id": 5550001,
            "date": int(time.time()),
            "text": text,
            "post_id": post_id,
            "owner_id": -group_id,
            "parents_stack": [],
            "thread": {"count": 0},
        },
    }


async def test_vk_callback_flow(admin: httpx.AsyncClient, stack: Stack) -> None:
    group_id = 200000 + int(time.time()) % 100000
    connector = await make_connector(
        admin, "vk", {"group_id": group_id, "confirmation": "a1b2c3d4"}, {"secret": "vk-secret-1"}
    )
    hook = httpx.AsyncClient(base_url=stack.config.url("ingest"))
    path = connector["webhook_path"]
    try:
        confirm = await hook.post(path, json={"type": "confirmation", "group_id": group_id})
        assert confirm.status_code == 200
        assert confirm.text == "a1b2c3d4"

        post_id = 4000 + int(time.time()) % 1000
        forged = vk_comment(group_id, "wrong", post_id=post_id, comment_id=1, text="forged")
        refused = await hook.post(path, json=forged)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "webhook.bad_secret"

        first = vk_comment(
            group_id,
            "vk-secret-1",
            post_id=post_id,
            comment_id=11,
            text="My card was declined twice today, this is terrible service",
        )
        for _ in range(2):  # VK redelivers when unsure: one mention all the same
            ok = await hook.post(path, json=first)
            assert ok.status_code == 200
            assert ok.text == "ok"

        async def stored() -> list[dict[str, Any]]:
            return [
                m
                for m in await mentions(admin, network="vk")
                if f"_{post_id}" in m["mention"]["conversation_key"]
            ]

        found = await eventually(stored, timeout_s=20, what="the VK comment stored")
        assert len(found) == 1
        mention = found[0]["mention"]
        assert mention["text"].startswith("My card was declined")
        assert mention["language"] == "en"
        assert mention["sentiment"]["label"] == "negative"
        assert mention["on_own_post"] is True
        assert "forged" not in json.dumps(await mentions(admin))

        edit = vk_comment(
            group_id,
            "vk-secret-1",
            post_id=post_id,
            comment_id=11,
            text="Solved now, thank you, great support!",
            kind="wall_reply_edit",
        )
        assert (await hook.post(path, json=edit)).status_code == 200

        async def edited() -> dict[str, Any] | None:
            got = await stored()
            return got[0] if got and got[0]["mention"]["text"].startswith("Solved") else None

        after_edit = await eventually(edited, timeout_s=20, what="the edit applied")
        assert after_edit["mention"]["mention_id"] == mention["mention_id"]
        assert after_edit["mention"]["sentiment"]["label"] == "positive"

        delete = {
            "type": "wall_reply_delete",
            "event_id": new_ulid().lower(),
            "v": "5.199",
            "group_id": group_id,
            "secret": "vk-secret-1",
            "object": {"owner_id": -group_id, "id": 11, "deleter_id": 5550001, "post_id": post_id},
        }
        assert (await hook.post(path, json=delete)).status_code == 200

        async def deleted() -> bool:
            got = await stored()
            return bool(got) and got[0]["deleted"]

        await eventually(deleted, timeout_s=20, what="the deletion applied")
    finally:
        await hook.aclose()

    # The mention's whole life is on smm.mentions.v1, in order, once each.
    consumer = AIOKafkaConsumer(
        "smm.mentions.v1",
        bootstrap_servers=stack.bootstrap_servers,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    seen: list[str] = []
    try:

        async def all_three() -> bool:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for r in records:
                    if mention["mention_id"].encode() in (r.value or b""):
                        seen.append(dict(r.headers)["ce_type"].decode())
            return len(seen) >= 3

        await eventually(all_three, timeout_s=20, what="received, updated and deleted events")
    finally:
        await consumer.stop()
    assert seen == ["smm.mention.received", "smm.mention.updated", "smm.mention.deleted"]


async def test_meta_handshake_signature_and_delivery(
    admin: httpx.AsyncClient, stack: Stack
) -> None:
    page_id = f"10{int(time.time())}"
    connector = await make_connector(
        admin,
        "meta",
        {"page_ids": [page_id]},
        {"app_secret": "meta-app-secret", "verify_token": "verify-me"},
    )
    path = connector["webhook_path"]
    async with httpx.AsyncClient(base_url=stack.config.url("ingest")) as hook:
        ok = await hook.get(
            path,
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": "verify-me",
                "hub.challenge": "1158201444",
            },
        )
        assert ok.status_code == 200
        assert ok.text == "1158201444"
        bad = await hook.get(
            path, params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}
        )
        assert bad.status_code == 403

        post_id = f"{page_id}_777"
        comment_id = f"{post_id}_{int(time.time())}"
        payload = {
            "object": "page",
            "entry": [
                {
                    "id": page_id,
                    "time": int(time.time()),
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "from": {"id": "3300001", "name": "Paulo Souza"},
                                "post_id": post_id,
                                "comment_id": comment_id,
                                "parent_id": post_id,
                                "created_time": int(time.time()),
                                "item": "comment",
                                "verb": "add",
                                "message": "Atendimento excelente ontem na agência, parabéns à equipe!",
                            },
                        }
                    ],
                }
            ],
        }
        body = json.dumps(payload).encode()
        good_sig = "sha256=" + hmac.new(b"meta-app-secret", body, hashlib.sha256).hexdigest()
        tampered = await hook.post(
            path,
            content=body + b" ",
            headers={"X-Hub-Signature-256": good_sig, "Content-Type": "application/json"},
        )
        assert tampered.status_code == 401
        assert tampered.json()["error"]["code"] == "webhook.bad_signature"
        accepted = await hook.post(
            path,
            content=body,
            headers={"X-Hub-Signature-256": good_sig, "Content-Type": "application/json"},
        )
        assert accepted.status_code == 200

    async def stored() -> list[dict[str, Any]]:
        return [
            m
            for m in await mentions(admin, network="facebook")
            if m["mention"]["native_id"].endswith(comment_id.split("_")[-1])
        ]

    found = await eventually(stored, timeout_s=20, what="the Facebook comment stored")
    assert len(found) == 1
    assert found[0]["mention"]["language"] == "pt"


async def test_telegram_secret_token_and_message(admin: httpx.AsyncClient, stack: Stack) -> None:
    connector = await make_connector(
        admin, "telegram", {"bot_id": "7000001"}, {"secret_token": "tg-secret_1"}
    )
    path = connector["webhook_path"]
    chat_id = 9_000_000 + int(time.time()) % 100000
    update = {
        "update_id": int(time.time()),
        "message": {
            "message_id": 42,
            "from": {
                "id": 12345,
                "is_bot": False,
                "first_name": "Lucía",
                "username": "lucia_p",
                "language_code": "es",
            },
            "chat": {"id": chat_id, "type": "private", "first_name": "Lucía"},
            "date": int(time.time()),
            "text": "Hola, ¿cuándo abren la nueva sucursal en Valencia? Me encanta la app",
        },
    }
    async with httpx.AsyncClient(base_url=stack.config.url("ingest")) as hook:
        missing = await hook.post(path, json=update)
        assert missing.status_code == 401
        wrong = await hook.post(
            path, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
        )
        assert wrong.status_code == 401
        ok = await hook.post(
            path, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "tg-secret_1"}
        )
        assert ok.status_code == 200
        not_json = await hook.post(
            path, content=b"{oops", headers={"X-Telegram-Bot-Api-Secret-Token": "tg-secret_1"}
        )
        assert not_json.status_code == 400
        assert not_json.json()["error"]["code"] == "payload.invalid_json"

    async def stored() -> list[dict[str, Any]]:
        return [
            m
            for m in await mentions(admin, network="telegram")
            if str(chat_id) in m["mention"]["conversation_key"]
        ]

    found = await eventually(stored, timeout_s=20, what="the Telegram message stored")
    assert found[0]["mention"]["kind"] == "direct_message"
    assert found[0]["mention"]["language"] == "es"
    assert found[0]["mention"]["author"]["handle"] == "lucia_p"


async def test_connector_api_checks_role_brand_and_input(
    api: Api, token: Callable[..., str]
) -> None:
    agent = api("ingest", token(roles=(Role.AGENT,), brands=(BRAND,)))
    assert (await agent.get("/v1/connectors", params={"brand_id": BRAND})).status_code == 403
    other = api("ingest", token(roles=(Role.SMM_MANAGER,), brands=("other-brand",)))
    assert (await other.get("/v1/connectors", params={"brand_id": BRAND})).status_code == 403
    admin = api("ingest", token(roles=(Role.SMM_MANAGER,), brands=(BRAND,)))
    bad = await admin.post(
        "/v1/connectors",
        json={"brand_id": BRAND, "kind": "vk", "name": "x", "config": {"group_id": -1}},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "connector.invalid_config"
    both = await admin.post(
        "/v1/connectors",
        json={
            "brand_id": BRAND,
            "kind": "telegram",
            "name": "x",
            "secrets": {"secret_token": {"value": "a", "env": "B"}},
        },
    )
    assert both.status_code == 422
