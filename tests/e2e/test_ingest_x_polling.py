"""X mentions connector, black box against a fake X API v2 on a real port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from smm_shared.auth import Role
from smm_shared.testing import eventually

from .fake_api import FakeApi

pytestmark = pytest.mark.e2e

BRAND = "brand-x"
OUR_ID = "1500000000000000001"


def tweet(tweet_id: str, text: str, author: str, *, reply_to: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": tweet_id,
        "text": text,
        "author_id": author,
        "conversation_id": reply_to or tweet_id,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "lang": "en",
    }
    if reply_to:
        data["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
        data["in_reply_to_user_id"] = OUR_ID
    return data


@pytest.fixture
def x_api() -> Iterator[FakeApi]:
    users = [
        {
            "id": "2000",
            "username": "jmiller",
            "name": "J Miller",
            "public_metrics": {"followers_count": 1200},
        }
    ]
    first = [
        tweet(
            "1860000000000000002",
            "@DemoBank my card was declined again",
            "2000",
            reply_to="1860000000000000001",
        )
    ]

    def route(
        method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if headers.get("authorization") != "Bearer x-app-token":
            return 401, {"title": "Unauthorized", "status": 401}, {}
        if path != f"/2/users/{OUR_ID}/mentions":
            return 404, {"title": "Not Found"}, {}
        if "since_id" in query:
            return 200, {"meta": {"result_count": 0}}, {"x-rate-limit-remaining": "10"}
        body = {
            "data": first,
            "includes": {"users": users},
            "meta": {"result_count": 1, "newest_id": first[0]["id"]},
        }
        return 200, body, {"x-rate-limit-remaining": "10"}

    api = FakeApi(route)
    yield api
    api.close()


async def test_mentions_are_polled_and_the_cursor_continues(
    api: Callable[..., httpx.AsyncClient], token: Callable[..., str], x_api: FakeApi
) -> None:
    manager = api("ingest", token(roles=(Role.SMM_MANAGER,), brands=(BRAND,)))
    created = await manager.post(
        "/v1/connectors",
        json={
            "brand_id": BRAND,
            "kind": "x_mentions",
            "name": "@DemoBank mentions",
            "config": {"user_id": OUR_ID, "api_base_url": x_api.url, "interval_s": 5},
            "secrets": {"bearer_token": {"value": "x-app-token"}},
        },
    )
    assert created.status_code == 201, created.text

    async def stored() -> list[dict[str, Any]]:
        response = await manager.get("/v1/mentions", params={"brand_id": BRAND, "network": "x"})
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    found = await eventually(stored, timeout_s=40, interval_s=0.5, what="the X mention stored")
    mention = found[0]["mention"]
    assert mention["native_id"] == "1860000000000000002"
    assert mention["kind"] == "reply"
    assert mention["on_own_post"] is True
    assert mention["author"]["handle"] == "jmiller"
    assert mention["url"] == "https://x.com/jmiller/status/1860000000000000002"

    async def continued() -> bool:
        return any(q.get("since_id") == ["1860000000000000002"] for _, _, q, _ in x_api.requests)

    await eventually(
        continued,
        timeout_s=30,
        interval_s=0.5,
        what="the next poll continuing after the stored tweet",
    )
