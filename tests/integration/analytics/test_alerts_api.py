"""The alerts API over HTTP, on the real stores: roles, brand isolation, acknowledge, resolve.

The app holds the alerts router with the shared error handlers and a real token verifier;
``app.state.alerts`` is an ``AlertService`` on the real MongoDB-protocol server, after a
burst hour was evaluated (three open episodes: the negative spike and two rising terms).
Requests go through ``httpx.ASGITransport``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from smm_analytics.api.alerts import router
from smm_shared.auth import Role, SigningKey, StaticKeySource, TokenVerifier, issue_token
from smm_shared.config import MongoSettings
from smm_shared.events import AlertAcknowledged, AlertClosed
from smm_shared.http import install_error_handlers
from smm_shared.mongo import Document
from smm_shared.timers import ManualClock

from .test_alerts_support import BRAND, BURST, BURST_TEXT, HOUR, OTHER, Alerts, build, history

pytestmark = pytest.mark.integration

ISSUER, AUDIENCE = "smm-local", "smm-platform"
KEY = SigningKey.generate()


def bearer(role: Role, *, subject: str, brands: Sequence[str] = (BRAND,)) -> dict[str, str]:
    """An Authorization header for a user with one role in ``brands``."""
    token = issue_token(
        key=KEY,
        subject=subject,
        roles=[role],
        brands=list(brands),
        ttl=timedelta(minutes=10),
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    return {"Authorization": f"Bearer {token}"}


VIEWER = bearer(Role.VIEWER, subject="v-lena")
WRITER = bearer(Role.CONTENT_MANAGER, subject="cm-olga")
AGENT = bearer(Role.AGENT, subject="ag-ivan")
ANALYST = bearer(Role.ANALYST, subject="an-petr")
GLOBEX = bearer(Role.SMM_MANAGER, subject="mgr-globex", brands=(OTHER,))


@pytest.fixture
async def alerts(mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings) -> Alerts:
    db = mongo_client[mongo_settings.database]
    start = BURST - timedelta(days=2, hours=BURST.hour)
    alerts = await build(db, ManualClock(BURST + HOUR + timedelta(minutes=5)))
    await alerts.load(history(BURST + HOUR, {BURST: BURST_TEXT}, start=start))
    await alerts.seen(BRAND, start, BURST + HOUR - timedelta(minutes=1))
    opened = await alerts.service.evaluate(brand_id=BRAND, hour_end=BURST + HOUR)
    assert len(opened) == 3
    return alerts


@pytest.fixture
async def client(alerts: Alerts) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.state.token_verifier = TokenVerifier(
        StaticKeySource({KEY.kid: KEY.verification_key()}), issuer=ISSUER, audience=AUDIENCE
    )
    app.state.alerts = alerts.service
    app.include_router(router)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def code(response: httpx.Response) -> str:
    """The machine-readable error code of a response (and it has a message)."""
    error = response.json()["error"]
    assert error["message"]
    return str(error["code"])


async def _listed(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/v1/alerts", params={"brand_id": BRAND, **params}, headers=VIEWER)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _spike_id(client: httpx.AsyncClient) -> str:
    (spike,) = await _listed(client, kind="negative_spike")
    return str(spike["id"])


async def test_readers_list_the_brands_alerts_newest_first_with_filters(
    client: httpx.AsyncClient,
) -> None:
    items = await _listed(client)
    assert {(i["kind"], i["subject"], i["status"]) for i in items} == {
        ("negative_spike", "negative", "open"),
        ("rising_term", "#outage", "open"),
        ("rising_term", "refund", "open"),
    }
    # Opened together: newest first, ties by id, also newest first.
    assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)
    (spike,) = await _listed(client, kind="negative_spike")
    assert (spike["severity"], spike["peak_severity"], spike["observed"]) == ("critical",) * 2 + (
        42.0,
    )
    assert spike["ratio"] == 21.0
    assert spike["top_terms"][:2] == [
        {"term": "#outage", "count": 40},
        {"term": "refund", "count": 40},
    ]
    assert spike["networks"] == ["telegram", "vk", "x"]
    assert spike["sample_mention_ids"]
    assert spike["opened_at"] == spike["last_detected_at"] == "2026-11-28T11:00:00Z"
    assert await _listed(client, kind="rising_term", status="open") != []
    assert len(await _listed(client, kind="rising_term")) == 2
    assert await _listed(client, status="closed") == []
    assert len(await _listed(client, since="2026-11-28T11:00:00Z")) == 3
    assert await _listed(client, since="2026-11-28T11:00:00.001Z") == []

    first = await client.get("/v1/alerts", params={"brand_id": BRAND, "limit": 2}, headers=VIEWER)
    page = first.json()
    assert [i["id"] for i in page["items"]] == [i["id"] for i in items[:2]]
    assert page["next_cursor"]
    second = await client.get(
        "/v1/alerts",
        params={"brand_id": BRAND, "limit": 2, "cursor": page["next_cursor"]},
        headers=VIEWER,
    )
    assert [i["id"] for i in second.json()["items"]] == [items[2]["id"]]
    assert second.json()["next_cursor"] is None


async def test_list_refusals_have_codes(client: httpx.AsyncClient) -> None:
    bad_cursor = await client.get(
        "/v1/alerts", params={"brand_id": BRAND, "cursor": "nope"}, headers=VIEWER
    )
    assert (bad_cursor.status_code, code(bad_cursor)) == (422, "alert.invalid_cursor")
    no_brand = await client.get("/v1/alerts", headers=VIEWER)
    assert (no_brand.status_code, code(no_brand)) == (422, "request.invalid")
    naive = await client.get(
        "/v1/alerts", params={"brand_id": BRAND, "since": "2026-11-28T11:00:00"}, headers=VIEWER
    )
    assert naive.status_code == 422
    anonymous = await client.get("/v1/alerts", params={"brand_id": BRAND})
    assert anonymous.status_code == 401
    elsewhere = await client.get("/v1/alerts", params={"brand_id": BRAND}, headers=GLOBEX)
    assert (elsewhere.status_code, code(elsewhere)) == (403, "auth.forbidden_brand")


async def test_one_alert_is_visible_only_in_its_brand(client: httpx.AsyncClient) -> None:
    spike_id = await _spike_id(client)
    mine = await client.get(f"/v1/alerts/{spike_id}", params={"brand_id": BRAND}, headers=VIEWER)
    assert mine.status_code == 200
    assert (mine.json()["id"], mine.json()["brand_id"]) == (spike_id, BRAND)

    # Another brand's user, asking in their own brand: as if it did not exist.
    theirs = await client.get(f"/v1/alerts/{spike_id}", params={"brand_id": OTHER}, headers=GLOBEX)
    assert (theirs.status_code, code(theirs)) == (404, "alert.not_found")
    ack = await client.post(
        f"/v1/alerts/{spike_id}/acknowledge", params={"brand_id": OTHER}, headers=GLOBEX
    )
    assert (ack.status_code, code(ack)) == (404, "alert.not_found")
    # ... and asking in ours: refused.
    forbidden = await client.get(
        f"/v1/alerts/{spike_id}", params={"brand_id": BRAND}, headers=GLOBEX
    )
    assert (forbidden.status_code, code(forbidden)) == (403, "auth.forbidden_brand")
    unknown = await client.get("/v1/alerts/ffff", params={"brand_id": BRAND}, headers=VIEWER)
    assert (unknown.status_code, code(unknown)) == (404, "alert.not_found")


async def test_acknowledging_needs_the_alerts_role_and_the_first_one_counts(
    client: httpx.AsyncClient, alerts: Alerts
) -> None:
    spike_id = await _spike_id(client)
    path = f"/v1/alerts/{spike_id}/acknowledge"
    for reader in (VIEWER, WRITER):
        refused = await client.post(path, params={"brand_id": BRAND}, headers=reader)
        assert (refused.status_code, code(refused)) == (403, "auth.forbidden_role")

    first = await client.post(path, params={"brand_id": BRAND}, headers=AGENT)
    assert first.status_code == 200, first.text
    assert (first.json()["acknowledged_by"], first.json()["status"]) == ("ag-ivan", "open")
    assert first.json()["acknowledged_at"] == "2026-11-28T11:05:00Z"
    again = await client.post(path, params={"brand_id": BRAND}, headers=ANALYST)
    assert again.status_code == 200
    assert again.json()["acknowledged_by"] == "ag-ivan"

    acks = [e for e in await alerts.published() if isinstance(e, AlertAcknowledged)]
    assert [(e.episode_id, e.acknowledged_by) for e in acks] == [(spike_id, "ag-ivan")]
    unknown = await client.post(
        "/v1/alerts/ffff/acknowledge", params={"brand_id": BRAND}, headers=AGENT
    )
    assert (unknown.status_code, code(unknown)) == (404, "alert.not_found")


async def test_resolving_closes_the_alert_once(client: httpx.AsyncClient, alerts: Alerts) -> None:
    spike_id = await _spike_id(client)
    path = f"/v1/alerts/{spike_id}/resolve"
    refused = await client.post(path, params={"brand_id": BRAND}, headers=VIEWER)
    assert (refused.status_code, code(refused)) == (403, "auth.forbidden_role")

    resolved = await client.post(path, params={"brand_id": BRAND}, headers=ANALYST)
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert (body["status"], body["close_reason"], body["resolved_by"]) == (
        "closed",
        "resolved",
        "an-petr",
    )
    assert body["closed_at"] == "2026-11-28T11:05:00Z"
    again = await client.post(path, params={"brand_id": BRAND}, headers=AGENT)
    assert again.status_code == 200
    assert again.json() == body

    closed = [e for e in await alerts.published() if isinstance(e, AlertClosed)]
    assert [(e.episode_id, e.reason, e.resolved_by) for e in closed] == [
        (spike_id, "resolved", "an-petr")
    ]
    assert [i["id"] for i in await _listed(client, status="closed")] == [spike_id]
    assert len(await _listed(client, status="open")) == 2
