"""Keyword rules, black box: a rule saved through the API tags the mentions stored after it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from smm_shared.auth import Role
from smm_shared.events import new_ulid
from smm_shared.testing import eventually

pytestmark = pytest.mark.e2e

BRAND = "brand-rules"


async def test_brand_and_competitor_rules_tag_mentions(
    api: Callable[..., httpx.AsyncClient], token: Callable[..., str]
) -> None:
    manager = api("ingest", token(roles=(Role.SMM_MANAGER,), brands=(BRAND,)))
    bad = await manager.post(
        "/v1/keyword-rules",
        json={
            "brand_id": BRAND,
            "name": "broken",
            "query": '"demo bank',
            "kind": "brand",
            "label": "DemoBank",
        },
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "rule.invalid_query"
    assert bad.json()["error"]["details"]["position"] >= 0

    rules: list[dict[str, Any]] = [
        {
            "name": "Our brand",
            "query": '"demo bank" OR demobank OR #demobank',
            "kind": "brand",
            "label": "DemoBank",
        },
        {"name": "Rival", "query": "rivalbank -job", "kind": "competitor", "label": "RivalBank"},
        {"name": "Cards", "query": "card* OR карт*", "kind": "topic", "label": "cards"},
    ]
    for rule in rules:
        created = await manager.post("/v1/keyword-rules", json={"brand_id": BRAND, **rule})
        assert created.status_code == 201, created.text
    listed = await manager.get("/v1/keyword-rules", params={"brand_id": BRAND})
    assert [r["label"] for r in listed.json()] == ["DemoBank", "RivalBank", "cards"]

    probe = await manager.post(
        "/v1/keyword-rules/test",
        json={"query": "rivalbank -job", "texts": ["RivalBank rocks", "rivalbank job offer"]},
    )
    assert probe.json() == {"matches": [True, False]}

    viewer = api("ingest", token(roles=(Role.VIEWER,), brands=(BRAND,)))
    refused = await viewer.post("/v1/keyword-rules", json={"brand_id": BRAND, **rules[0]})
    assert refused.status_code == 403

    async def post_and_get(text: str) -> dict[str, Any]:
        body = {
            "brand_id": BRAND,
            "network": "x",
            "kind": "post",
            "native_id": new_ulid(),
            "author": {"id": "u9"},
            "text": text,
            "created_at": datetime.now(UTC).isoformat(),
        }
        response = await manager.post("/v1/mentions", json=body)
        assert response.status_code == 201
        mention: dict[str, Any] = response.json()["mention"]
        return mention

    async def tagged() -> dict[str, Any] | None:
        # Rules are cached for a few seconds: poll until the new ones apply.
        mention = await post_and_get(
            "Switched from RivalBank to Demo Bank, their card app is so much better"
        )
        return mention if mention["keywords"] else None

    mention = await eventually(
        tagged, timeout_s=20, interval_s=1, what="rules applied to new mentions"
    )
    assert mention["keywords"] == ["DemoBank", "RivalBank"]
    assert mention["topics"] == ["cards"]
    russian = await post_and_get("Карта DemoBank снова не работает")
    assert russian["keywords"] == ["DemoBank"]
    assert russian["topics"] == ["cards"]
    assert russian["language"] == "ru"
    untouched = await post_and_get("Nothing to see here")
    assert untouched["keywords"] == []
