"""YouTube, Reddit and Mastodon connectors, black box against fake APIs on real ports.

The fakes answer with the documented sample payloads the parsers' unit tests use; these
tests prove the wiring: connector kind, config, secrets, client, parser, storage.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from smm_shared.auth import Role
from smm_shared.testing import eventually

from .fake_api import FakeApi

pytestmark = pytest.mark.e2e

PAYLOADS = Path(__file__).parents[1] / "unit" / "ingest" / "payloads"
BRAND = "brand-polls"


def sample(network: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / network / f"{name}.json").read_text())
    return data


async def connect(
    manager: httpx.AsyncClient, kind: str, config: dict[str, Any], secrets: dict[str, str]
) -> None:
    created = await manager.post(
        "/v1/connectors",
        json={
            "brand_id": BRAND,
            "kind": kind,
            "name": kind,
            "config": config,
            "secrets": {k: {"value": v} for k, v in secrets.items()},
        },
    )
    assert created.status_code == 201, created.text


async def stored(manager: httpx.AsyncClient, network: str) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]]:
        response = await manager.get("/v1/mentions", params={"brand_id": BRAND, "network": network})
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    try:
        return await eventually(
            probe, timeout_s=40, interval_s=0.5, what=f"{network} mentions stored"
        )
    except AssertionError as exc:
        listing = await manager.get("/v1/connectors", params={"brand_id": BRAND})
        states = {
            c["kind"]: (await manager.get(f"/v1/connectors/{c['id']}")).json()["poll_status"]
            for c in listing.json()
        }
        raise AssertionError(f"{exc}; connector states: {states}") from None


@pytest.fixture
def manager(api: Callable[..., httpx.AsyncClient], token: Callable[..., str]) -> httpx.AsyncClient:
    return api("ingest", token(roles=(Role.SMM_MANAGER,), brands=(BRAND,)))


async def test_youtube_comment_threads(manager: httpx.AsyncClient) -> None:
    thread = sample("youtube", "thread_with_replies")

    def route(
        method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if query.get("key") != ["yt-key"]:
            return 403, {"error": {"code": 403, "errors": [{"reason": "keyInvalid"}]}}, {}
        return 200, {"kind": "youtube#commentThreadListResponse", "items": [thread]}, {}

    fake = FakeApi(route)
    try:
        await connect(
            manager,
            "youtube",
            {"channel_id": "UCx7AcmeBrandChannel0001", "api_base_url": fake.url, "interval_s": 30},
            {"api_key": "yt-key"},
        )
        mentions = await stored(manager, "youtube")
    finally:
        fake.close()
    ids = {m["mention"]["native_id"] for m in mentions}
    assert thread["id"] in ids
    assert any(path.endswith("/commentThreads") for _, path, _, _ in fake.requests)


async def test_reddit_oauth_and_subreddit_comments(manager: httpx.AsyncClient) -> None:
    comment = sample("reddit", "comment")

    def route(
        method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if path == "/api/v1/access_token":
            return 200, {"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600}, {}
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if (
            scheme.lower() != "bearer" or value != "tok-1"
        ):  # schemes are case-insensitive (RFC 7235)
            return 401, {"message": "Unauthorized"}, {}
        listing = {"kind": "Listing", "data": {"children": [comment], "after": None}}
        return (
            200,
            listing,
            {"x-ratelimit-remaining": "59", "x-ratelimit-reset": "60", "x-ratelimit-used": "1"},
        )

    fake = FakeApi(route)
    try:
        await connect(
            manager,
            "reddit",
            {
                "subreddits": ["acme"],
                "auth_url": f"{fake.url}/api/v1/access_token",
                "api_base_url": fake.url,
                "interval_s": 10,
            },
            {"client_id": "cid", "client_secret": "csecret"},
        )
        mentions = await stored(manager, "reddit")
    finally:
        fake.close()
    assert mentions[0]["mention"]["native_id"] == comment["data"]["name"]
    token_calls = [h for m, p, _, h in fake.requests if p == "/api/v1/access_token"]
    assert token_calls
    assert token_calls[0]["authorization"].startswith("Basic ")


async def test_mastodon_mention_notifications(manager: httpx.AsyncClient) -> None:
    notification = sample("mastodon", "notification_mention")

    def route(
        method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if headers.get("authorization") != "Bearer masto-token":
            return 401, {"error": "The access token is invalid"}, {}
        if path != "/api/v1/notifications":
            return 404, {"error": "Record not found"}, {}
        newer = query.get("min_id") or query.get("since_id")
        return 200, [] if newer else [notification], {"x-ratelimit-remaining": "299"}

    fake = FakeApi(route)
    try:
        instance = fake.url
        await connect(
            manager,
            "mastodon",
            {"instance_url": instance, "account_id": "1", "acct": "demobank", "interval_s": 5},
            {"access_token": "masto-token"},
        )
        mentions = await stored(manager, "mastodon")
    finally:
        fake.close()
    mention = mentions[0]["mention"]
    assert mention["native_id"].endswith("/" + notification["status"]["id"])
    assert "<" not in mention["text"]  # HTML turned into text
