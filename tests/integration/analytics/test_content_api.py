"""Content and campaign metrics over HTTP, on the real store: exact numbers, replays, spend, roles.

The router runs with the shared error handlers and a real token verifier; behind it the
ContentMetrics service over a ContentStore on the real MongoDB-protocol server. A generated
history (see ``test_content_store``) is recorded out of order; every figure the API returns
is compared with one worked out here from the history alone.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from smm_analytics.adapters.content_store import ContentStore
from smm_analytics.api.content import router
from smm_analytics.services.content import ContentMetrics
from smm_shared.auth import Role, SigningKey, StaticKeySource, TokenVerifier, issue_token
from smm_shared.config import MongoSettings
from smm_shared.http import install_error_handlers
from smm_shared.mongo import Document

from .test_content_store import BRAND, OTHER, START, History, batches, history, make_store

pytestmark = pytest.mark.integration

ISSUER, AUDIENCE = "smm-local", "smm-platform"
KEY = SigningKey.generate()
NOW = START + timedelta(days=20)
RANGE: dict[str, str] = {
    "from": START.isoformat(),
    "to": (START + timedelta(days=15)).isoformat(),
}
MOSCOW = ZoneInfo("Europe/Moscow")


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


WRITER = bearer(Role.CONTENT_MANAGER, subject="cm-olga")
MANAGER = bearer(Role.SMM_MANAGER, subject="mgr-igor")
ANALYST = bearer(Role.ANALYST, subject="an-petr")
VIEWER = bearer(Role.VIEWER, subject="v-lena")
GLOBEX = bearer(Role.SMM_MANAGER, subject="mgr-globex", brands=(OTHER,))


def build_app(store: ContentStore) -> FastAPI:
    """The content metrics router over the real store, with auth and error handlers."""
    app = FastAPI()
    install_error_handlers(app)
    app.state.token_verifier = TokenVerifier(
        StaticKeySource({KEY.kid: KEY.verification_key()}), issuer=ISSUER, audience=AUDIENCE
    )
    app.state.content_metrics = ContentMetrics(store=store, clock=lambda: NOW)
    app.include_router(router)
    return app


@pytest.fixture
async def store(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> ContentStore:
    made = make_store(mongo_client, mongo_settings)
    await made.ensure_indexes()
    return made


@pytest.fixture
async def client(store: ContentStore) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(store), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def recorded(store: ContentStore) -> History:
    """A history of 40 items recorded out of order in batches of 11."""
    made = history(seed=5, items=40)
    for batch in batches(made.events, seed=9, size=11):
        await store.record(batch)
    return made


def code(response: httpx.Response) -> str:
    error = response.json()["error"]
    assert error["message"]
    return str(error["code"])


# --- expectations, worked out from the history alone ---------------------------------------

NAMES = ("likes", "comments", "shares", "views", "clicks")


def engaged(counters: dict[str, int]) -> int | None:
    parts = [counters[n] for n in ("likes", "comments", "shares") if n in counters]
    return sum(parts) if parts else None


def expected_post(post: dict[str, Any]) -> dict[str, Any]:
    c = post["counters"]
    e = engaged(c)
    return {
        "network": post["network"],
        "native_id": post["native"],
        "content_id": post["content"],
        "campaign_id": post["campaign"],
        "title": post["title"],
        "published_at": post["published"],
        "observed_at": post["observed"],
        **{n: c.get(n) for n in NAMES},
        "engagements": e,
        "engagement_rate": round(e / c["views"], 6) if e is not None and c.get("views") else None,
    }


def got_post(p: dict[str, Any]) -> dict[str, Any]:
    def at(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)

    found = {k: p[k] for k in ("network", "native_id", "content_id", "campaign_id", "title")}
    found |= {"published_at": at(p["published_at"]), "observed_at": at(p["observed_at"])}
    return found | {k: p[k] for k in (*NAMES, "engagements", "engagement_rate")}


def ours(made: History) -> list[dict[str, Any]]:
    return [p for p in made.expected.posts.values() if p["brand"] == BRAND]


def expected_totals(posts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    posts = list(posts)
    sums: dict[str, int] = {}
    for p in posts:
        for n in NAMES:
            if n in p["counters"]:
                sums[n] = sums.get(n, 0) + p["counters"][n]
    known = [(engaged(p["counters"]), p["counters"].get("views")) for p in posts]
    total = (
        sum(e for e, _ in known if e is not None) if any(e is not None for e, _ in known) else None
    )
    rated = [(e, v) for e, v in known if e is not None and v]
    views = sum(v for _, v in rated)
    return {
        "posts": len(posts),
        "observed": sum(p["observed"] is not None for p in posts),
        **{n: sums.get(n) for n in NAMES},
        "engagements": total,
        "engagement_rate": round(sum(e for e, _ in rated) / views, 6) if views else None,
    }


def cost(spend: int, count: int | None) -> float | None:
    return round(spend / count, 2) if spend and count else None


# --- tests ---------------------------------------------------------------------------------


async def test_posts_list_gives_each_posts_newest_counters(
    client: httpx.AsyncClient, recorded: History
) -> None:
    response = await client.get(
        "/v1/content/posts", params={"brand_id": BRAND, **RANGE, "limit": 500}, headers=VIEWER
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["sort"]) == (START.isoformat().replace("+00:00", "Z"), "engagements")
    posts = body["posts"]
    expected = sorted(
        (expected_post(p) for p in ours(recorded)), key=lambda p: (p["network"], p["native_id"])
    )
    assert (
        sorted((got_post(p) for p in posts), key=lambda p: (p["network"], p["native_id"]))
        == expected
    )
    tracked = next(p for p in posts if p["native_id"] == "vk.tracked")
    assert (tracked["published_at"], tracked["campaign_id"]) == (None, None)
    # Most engagements first, unknown ones last.
    ranks = [p["engagements"] for p in posts]
    known = [r for r in ranks if r is not None]
    assert known == sorted(known, reverse=True)
    assert ranks == known + [None] * (len(ranks) - len(known))

    # Filters and sorting by time, with a limit; the default range is the last 30 days.
    response = await client.get(
        "/v1/content/posts",
        params={"brand_id": BRAND, "network": "x", "sort": "published_at", "limit": 3},
        headers=VIEWER,
    )
    newest_x = sorted(
        (p for p in ours(recorded) if p["network"] == "x" and p["published"]),
        key=lambda p: p["published"],
        reverse=True,
    )[:3]
    assert [p["native_id"] for p in response.json()["posts"]] == [p["native"] for p in newest_x]
    response = await client.get(
        "/v1/content/posts",
        params={"brand_id": BRAND, **RANGE, "campaign_id": "spring", "limit": 500},
        headers=VIEWER,
    )
    spring = {p["native"] for p in ours(recorded) if p["campaign"] == "spring"}
    assert {p["native_id"] for p in response.json()["posts"]} == spring


async def test_campaign_figures_with_spend_and_costs(
    client: httpx.AsyncClient, recorded: History
) -> None:
    spends = [(40_000, "x"), (25_000, "vk"), (10_000, None)]
    for amount, network in spends:
        body: dict[str, Any] = {"amount_minor": amount, "currency": "RUB", "spent_on": "2026-03-01"}
        if network:
            body["network"] = network
        response = await client.post(
            "/v1/campaigns/spring/spend", params={"brand_id": BRAND}, json=body, headers=WRITER
        )
        assert response.status_code == 201, response.text

    response = await client.get("/v1/campaigns/spring", params={"brand_id": BRAND}, headers=VIEWER)
    assert response.status_code == 200, response.text
    got = response.json()
    posts = [p for p in ours(recorded) if p["campaign"] == "spring"]
    whole = expected_totals(posts)
    assert got["totals"] == whole
    assert (got["spend_minor"], got["currency"], got["spend_unassigned_minor"]) == (
        75_000,
        "RUB",
        10_000,
    )
    assert got["cost_per_engagement_minor"] == cost(75_000, whole["engagements"])
    assert got["cost_per_click_minor"] == cost(75_000, whole["clicks"])
    by_network: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in posts:
        by_network[p["network"]].append(p)
    network_spend = {"x": 40_000, "vk": 25_000}
    expected_networks = []
    for network in sorted(set(by_network) | set(network_spend)):
        part = expected_totals(by_network[network])
        spent = network_spend.get(network, 0)
        expected_networks.append(
            {
                "network": network,
                "totals": part,
                "spend_minor": spent,
                "cost_per_engagement_minor": cost(spent, part["engagements"]),
                "cost_per_click_minor": cost(spent, part["clicks"]),
            }
        )
    assert got["networks"] == expected_networks
    assert next(n for n in got["networks"] if n["network"] == "vk")["cost_per_click_minor"] is None
    assert next(n for n in got["networks"] if n["network"] == "x")["cost_per_click_minor"] > 0

    # The list: every campaign of the brand's items and spend, none of another brand's only.
    await client.post(
        "/v1/campaigns/launch/spend",
        params={"brand_id": BRAND},
        json={"amount_minor": 500, "currency": "USD", "spent_on": "2026-03-03"},
        headers=MANAGER,
    )
    response = await client.get("/v1/campaigns", params={"brand_id": BRAND}, headers=ANALYST)
    campaigns = {c["campaign_id"]: c for c in response.json()["campaigns"]}
    assert list(campaigns) == ["launch", "spring", "summer"]
    assert campaigns["spring"] == got
    summer = [p for p in ours(recorded) if p["campaign"] == "summer"]
    assert campaigns["summer"]["totals"] == expected_totals(summer)
    assert campaigns["summer"]["cost_per_engagement_minor"] is None  # no spend entered
    assert (campaigns["launch"]["totals"]["posts"], campaigns["launch"]["currency"]) == (0, "USD")

    # CSV of the list: a header row and one row per campaign.
    response = await client.get(
        "/v1/campaigns", params={"brand_id": BRAND, "format": "csv"}, headers=VIEWER
    )
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["campaign_id"] for r in rows] == ["launch", "spring", "summer"]
    assert rows[1]["spend_minor"] == "75000"
    assert rows[1]["engagements"] == str(whole["engagements"])
    assert rows[2]["cost_per_engagement_minor"] == ""

    response = await client.get("/v1/campaigns/nope", params={"brand_id": BRAND}, headers=VIEWER)
    assert (response.status_code, code(response)) == (404, "campaign.not_found")


async def test_best_times_by_local_weekday_and_hour(
    client: httpx.AsyncClient, recorded: History
) -> None:
    params = {"brand_id": BRAND, **RANGE, "tz": "Europe/Moscow"}
    response = await client.get("/v1/content/best-times", params=params, headers=VIEWER)
    assert response.status_code == 200, response.text
    got = response.json()
    cells: dict[tuple[int, int], list[int]] = defaultdict(list)
    for p in ours(recorded):
        e = engaged(p["counters"])
        if p["published"] is not None and e is not None:
            local = p["published"].astimezone(MOSCOW)
            cells[(local.weekday(), local.hour)].append(e)
    expected = [
        {"weekday": d, "hour": h, "posts": len(v), "engagements": sum(v)}
        for (d, h), v in sorted(cells.items())
    ]
    assert [
        {k: s[k] for k in ("weekday", "hour", "posts", "engagements")} for s in got["slots"]
    ] == expected
    assert all(
        s["average_engagements"] == round(s["engagements"] / s["posts"], 2) for s in got["slots"]
    )
    assert {(s["weekday"], s["hour"]) for s in got["slots"]} <= {
        (d, h)
        for d in range(7)
        for h in (10, 12, 21)  # UTC 07, 09, 18 in Moscow
    }
    backed = sorted(
        (s for s in expected if s["posts"] >= 3),
        key=lambda s: (-s["engagements"] / s["posts"], -s["posts"], s["weekday"], s["hour"]),
    )[:3]
    assert backed, "the history should back some slots"
    assert [(s["weekday"], s["hour"]) for s in got["best"]] == [
        (s["weekday"], s["hour"]) for s in backed
    ]
    assert (got["min_posts"], got["posts"]) == (3, sum(len(v) for v in cells.values()))

    response = await client.get(
        "/v1/content/best-times", params={**params, "network": "telegram"}, headers=VIEWER
    )
    telegram = [p for p in ours(recorded) if p["network"] == "telegram" and p["published"]]
    counted = [p for p in telegram if engaged(p["counters"]) is not None]
    assert response.json()["posts"] == len(counted) > 0

    response = await client.get(
        "/v1/content/best-times", params={**params, "tz": "Mars/Olympus"}, headers=VIEWER
    )
    assert (response.status_code, code(response)) == (422, "tz.unknown")


async def test_replaying_every_event_changes_no_number(
    client: httpx.AsyncClient, store: ContentStore, recorded: History
) -> None:
    await client.post(
        "/v1/campaigns/summer/spend",
        params={"brand_id": BRAND},
        json={"amount_minor": 12_345, "currency": "EUR", "spent_on": "2026-03-02", "network": "x"},
        headers=WRITER,
    )
    reads: list[tuple[str, dict[str, Any]]] = [
        ("/v1/content/posts", {"brand_id": BRAND, **RANGE, "limit": 500}),
        ("/v1/content/posts", {"brand_id": BRAND, **RANGE, "format": "csv", "limit": 500}),
        ("/v1/campaigns", {"brand_id": BRAND}),
        ("/v1/campaigns", {"brand_id": BRAND, "format": "csv"}),
        ("/v1/campaigns/summer", {"brand_id": BRAND}),
        ("/v1/content/best-times", {"brand_id": BRAND, **RANGE, "tz": "Europe/Moscow"}),
        ("/v1/content/best-times", {"brand_id": OTHER, **RANGE}),
    ]

    async def read_all() -> list[str]:
        found = []
        for path, params in reads:
            headers = GLOBEX if params["brand_id"] == OTHER else VIEWER
            response = await client.get(path, params=params, headers=headers)
            assert response.status_code == 200, response.text
            found.append(response.text)
        return found

    before = await read_all()
    for batch in batches(recorded.events, seed=77, size=23):
        await store.record(batch)
    await store.record(list(reversed(recorded.events)))
    assert await read_all() == before


async def test_spend_entries_flow_and_currency(client: httpx.AsyncClient) -> None:
    url, params = "/v1/campaigns/spring/spend", {"brand_id": BRAND}
    body = {"amount_minor": 150_000, "currency": "RUB", "spent_on": "2026-03-01", "note": "VK ads"}
    first = await client.post(url, params=params, json=body, headers=WRITER)
    assert first.status_code == 201, first.text
    entry = first.json()
    assert entry["id"]
    assert entry["created_by"] == "cm-olga"
    assert (entry["amount_minor"], entry["spent_on"], entry["note"], entry["network"]) == (
        150_000,
        "2026-03-01",
        "VK ads",
        None,
    )
    second = await client.post(
        url, params=params, json={**body, "amount_minor": 50_000, "network": "vk"}, headers=MANAGER
    )
    assert second.status_code == 201

    mismatch = await client.post(
        url, params=params, json={**body, "currency": "USD"}, headers=WRITER
    )
    assert (mismatch.status_code, code(mismatch)) == (422, "spend.currency_mismatch")
    for bad in (
        {"amount_minor": 0},
        {"currency": "rub"},
        {"currency": "RUBL"},
        {"spent_on": "x"},
        {"extra": 1},
    ):
        response = await client.post(url, params=params, json={**body, **bad}, headers=WRITER)
        assert (response.status_code, code(response)) == (422, "request.invalid"), bad

    listed = (await client.get(url, params=params, headers=VIEWER)).json()
    assert (listed["currency"], listed["total_minor"]) == ("RUB", 200_000)
    assert [e["id"] for e in listed["entries"]] == [entry["id"], second.json()["id"]]
    assert listed["entries"][1]["network"] == "vk"

    gone = await client.delete(f"{url}/{entry['id']}", params=params, headers=WRITER)
    assert gone.status_code == 204
    again = await client.delete(f"{url}/{entry['id']}", params=params, headers=WRITER)
    assert (again.status_code, code(again)) == (404, "spend.not_found")
    await client.delete(f"{url}/{second.json()['id']}", params=params, headers=WRITER)
    # No entry left: the campaign takes another currency.
    usd = await client.post(url, params=params, json={**body, "currency": "USD"}, headers=WRITER)
    assert usd.status_code == 201
    listed = (await client.get(url, params=params, headers=VIEWER)).json()
    assert (listed["currency"], listed["total_minor"], len(listed["entries"])) == (
        "USD",
        150_000,
        1,
    )


async def test_roles_and_brand_isolation(client: httpx.AsyncClient, recorded: History) -> None:
    url, params = "/v1/campaigns/spring/spend", {"brand_id": BRAND}
    body = {"amount_minor": 100, "currency": "RUB", "spent_on": "2026-03-01"}
    for reader in (VIEWER, ANALYST):
        denied = await client.post(url, params=params, json=body, headers=reader)
        assert (denied.status_code, code(denied)) == (403, "auth.forbidden_role")
    made = await client.post(url, params=params, json=body, headers=WRITER)
    entry_id = made.json()["id"]
    denied = await client.delete(f"{url}/{entry_id}", params=params, headers=VIEWER)
    assert denied.status_code == 403
    assert (await client.get(url, params=params)).status_code == 401

    # Another brand's user: 403 on our brand; on their own brand our entry does not exist.
    for path in ("/v1/campaigns/spring", url, "/v1/content/posts", "/v1/campaigns"):
        response = await client.get(path, params=params, headers=GLOBEX)
        assert (response.status_code, code(response)) == (403, "auth.forbidden_brand"), path
    theirs = {"brand_id": OTHER}
    response = await client.delete(f"{url}/{entry_id}", params=theirs, headers=GLOBEX)
    assert (response.status_code, code(response)) == (404, "spend.not_found")
    response = await client.get(url, params=theirs, headers=GLOBEX)
    assert (response.json()["total_minor"], response.json()["entries"]) == (0, [])
    # Their campaign "spring" counts only their posts; ours keep our spend.
    response = await client.get("/v1/campaigns/spring", params=theirs, headers=GLOBEX)
    theirs_spring = [
        p
        for p in recorded.expected.posts.values()
        if p["brand"] == OTHER and p["campaign"] == "spring"
    ]
    assert response.json()["totals"] == expected_totals(theirs_spring)
    assert response.json()["spend_minor"] == 0
    response = await client.get(
        "/v1/content/posts", params={**theirs, **RANGE, "limit": 500}, headers=GLOBEX
    )
    assert {p["native_id"] for p in response.json()["posts"]} == {
        p["native"] for p in recorded.expected.posts.values() if p["brand"] == OTHER
    }
    ours_listed = (await client.get(url, params=params, headers=VIEWER)).json()
    assert [e["id"] for e in ours_listed["entries"]] == [entry_id]


async def test_bounds_and_csv_of_posts(client: httpx.AsyncClient, recorded: History) -> None:
    posts = "/v1/content/posts"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"from": "2025-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "range.too_large"),
        ({"from": "2026-03-05T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "range.invalid"),
        ({"limit": 501}, "request.invalid"),
        ({"limit": 0}, "request.invalid"),
        ({"sort": "likes"}, "request.invalid"),
        ({"format": "xml"}, "request.invalid"),
    ]
    for extra, expected in cases:
        response = await client.get(posts, params={"brand_id": BRAND, **extra}, headers=VIEWER)
        assert (response.status_code, code(response)) == (422, expected), extra
    missing = await client.get(posts, headers=VIEWER)
    assert missing.status_code == 422
    response = await client.get(
        "/v1/content/best-times",
        params={"brand_id": BRAND, "from": "2024-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
        headers=VIEWER,
    )
    assert (response.status_code, code(response)) == (422, "range.too_large")

    response = await client.get(
        posts, params={"brand_id": BRAND, **RANGE, "format": "csv", "limit": 500}, headers=VIEWER
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="posts-acme.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(ours(recorded))
    assert list(rows[0]) == [
        "network", "native_id", "url", "content_id", "campaign_id", "title", "account_id",
        "published_at", "observed_at", "likes", "comments", "shares", "views", "clicks",
        "engagements", "engagement_rate",
    ]  # fmt: skip
    by_native = {p["native"]: expected_post(p) for p in ours(recorded)}
    for r in rows:
        want = by_native[r["native_id"]]
        assert r["engagements"] == ("" if want["engagements"] is None else str(want["engagements"]))
        assert r["campaign_id"] == (want["campaign_id"] or "")
