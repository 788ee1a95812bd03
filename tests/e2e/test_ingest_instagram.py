"""Instagram @mentions, black box: a signed Meta webhook names a mention, the instagram connector
fetches it from a fake Graph API on a real port, and tagged media are polled alongside."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from smm_shared.auth import Role
from smm_shared.stack import Stack
from smm_shared.testing import eventually

from .fake_api import FakeApi

pytestmark = pytest.mark.e2e

BRAND = "brand-instagram"
APP_SECRET = "ig-app-secret"
TOKEN = "ig-graph-token"


@pytest.fixture
def manager(api: Callable[..., httpx.AsyncClient], token: Callable[..., str]) -> httpx.AsyncClient:
    return api("ingest", token(roles=(Role.SMM_MANAGER,), brands=(BRAND,)))


async def connect(
    manager: httpx.AsyncClient, kind: str, config: dict[str, Any], secrets: dict[str, str]
) -> httpx.Response:
    return await manager.post(
        "/v1/connectors",
        json={
            "brand_id": BRAND,
            "kind": kind,
            "name": kind,
            "config": config,
            "secrets": {k: {"value": v} for k, v in secrets.items()},
        },
    )


async def test_webhook_mention_fetched_once_and_tagged_media_polled(
    manager: httpx.AsyncClient, stack: Stack
) -> None:
    run = int(time.time())
    ig_user = f"1784{run}"
    media_id, comment_id, tagged_id = f"1791{run}", f"1789{run}", f"1803{run}"
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    mentioned_comment = {
        "id": comment_id,
        "text": "acme.store my parcel is two weeks late, nobody answers",
        "timestamp": now,
        "username": "masha.travels",
        "like_count": 0,
        "media": {"id": media_id, "permalink": "https://www.instagram.com/p/DBx3kLmN0aQ/"},
    }
    tagged = {
        "id": tagged_id,
        "caption": "Unboxing my new headphones from acme.store",
        "media_type": "IMAGE",
        "timestamp": now,
        "username": "tech.reviews.ua",
        "permalink": "https://www.instagram.com/p/DBv9QwErTyU/",
    }

    def graph(
        method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        usage = {"X-App-Usage": json.dumps({"call_count": 3, "total_cputime": 1, "total_time": 2})}
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 400, {"error": {"message": "Invalid OAuth access token", "code": 190}}, {}
        if path == f"/v21.0/{ig_user}/tags":
            return 200, {"data": [tagged], "paging": {"cursors": {"after": tagged_id}}}, usage
        wanted = f"mentioned_comment.comment_id({comment_id})"
        if path == f"/v21.0/{ig_user}" and query.get("fields", [""])[0].startswith(wanted):
            return 200, {"mentioned_comment": mentioned_comment, "id": ig_user}, usage
        return 400, {"error": {"message": "Unsupported get request.", "code": 100}}, usage

    fake = FakeApi(graph)
    try:
        invalid = await connect(
            manager, "instagram", {"ig_user_id": "acme"}, {"access_token": TOKEN}
        )
        assert invalid.status_code == 422
        assert invalid.json()["error"]["code"] == "connector.invalid_config"

        hooks = await connect(
            manager,
            "meta",
            {"instagram_account_ids": [ig_user]},
            {"app_secret": APP_SECRET, "verify_token": "verify-ig"},
        )
        assert hooks.status_code == 201, hooks.text
        mention_hook = {
            "object": "instagram",
            "entry": [
                {
                    "id": ig_user,
                    "time": run,
                    "changes": [
                        {
                            "field": "mentions",
                            "value": {"media_id": media_id, "comment_id": comment_id},
                        }
                    ],
                }
            ],
        }
        body = json.dumps(mention_hook).encode()
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        async with httpx.AsyncClient(base_url=stack.config.url("ingest")) as hook:
            for _ in range(2):  # Meta redelivers when unsure: one fetch all the same
                delivered = await hook.post(
                    hooks.json()["webhook_path"],
                    content=body,
                    headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
                )
                assert delivered.status_code == 200, delivered.text

        created = await connect(
            manager,
            "instagram",
            {"ig_user_id": ig_user, "api_base_url": f"{fake.url}/v21.0", "interval_s": 5},
            {"access_token": TOKEN},
        )
        assert created.status_code == 201, created.text
        assert created.json()["webhook_path"] is None

        async def both_stored() -> list[dict[str, Any]]:
            response = await manager.get(
                "/v1/mentions", params={"brand_id": BRAND, "network": "instagram", "limit": 200}
            )
            items: list[dict[str, Any]] = response.json()["items"]
            ids = {m["mention"]["native_id"] for m in items}
            return items if {comment_id, tagged_id} <= ids else []

        async def polled_again() -> bool:
            """Whether the poll after the one that fetched the mention (and completes it) ran."""
            fetched, tag_polls = False, 0
            for _, path, _, _ in list(fake.requests):
                fetched = fetched or path == f"/v21.0/{ig_user}"
                tag_polls += fetched and path.endswith("/tags")
            return tag_polls >= 2  # each poll fetches first, then lists the tags

        try:
            mentions = await eventually(
                both_stored, timeout_s=40, interval_s=0.5, what="instagram mentions stored"
            )
            await eventually(polled_again, timeout_s=30, interval_s=0.5, what="a second poll")
        except AssertionError as exc:
            state = await manager.get(f"/v1/connectors/{created.json()['id']}")
            raise AssertionError(f"{exc}; poll status: {state.json()['poll_status']}") from None
        final = await manager.get(
            "/v1/mentions", params={"brand_id": BRAND, "network": "instagram", "limit": 200}
        )
    finally:
        fake.close()

    by_id = {m["mention"]["native_id"]: m["mention"] for m in mentions}
    comment = by_id[comment_id]
    assert comment["kind"] == "comment"
    assert comment["conversation_key"] == f"instagram:{media_id}"
    assert comment["author"]["handle"] == "masha.travels"
    assert comment["url"] == "https://www.instagram.com/p/DBx3kLmN0aQ/"
    post = by_id[tagged_id]
    assert post["kind"] == "post"
    assert post["author"]["handle"] == "tech.reviews.ua"
    natives = [m["mention"]["native_id"] for m in final.json()["items"]]
    assert natives.count(comment_id) == 1
    assert natives.count(tagged_id) == 1
    fetches = [q for _, p, q, _ in fake.requests if p == f"/v21.0/{ig_user}"]
    assert len(fetches) == 1  # one request for two deliveries, not fetched again once done
    assert all(TOKEN not in json.dumps(q) for _, _, q, _ in fake.requests)
