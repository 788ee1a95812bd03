"""The metrics API over HTTP, on the real rollup store and the MongoDB-protocol server.

Events go through ``RollupStore.apply_batch`` (as the consumers write them); the app holds
the metrics router with the shared error handlers and a real token verifier, served in
process by ``httpx.ASGITransport``. Expected numbers are counted from the events.
"""

from __future__ import annotations

import csv
import io
import math
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from smm_analytics.adapters.rollup_store import RollupStore
from smm_analytics.api.metrics import router
from smm_analytics.domain.histograms import MAX_RELATIVE_ERROR
from smm_analytics.domain.rollups import increments_for
from smm_analytics.services.queries import REPUTATION_FORMULA, QueryService
from smm_shared.auth import Role, SigningKey, StaticKeySource, TokenVerifier, issue_token
from smm_shared.config import MongoSettings
from smm_shared.events import (
    Author,
    CaseOpened,
    CaseReopened,
    CaseResolved,
    Event,
    Mention,
    MentionKind,
    MentionReceived,
    Network,
    ReplyFailed,
    ReplyPublished,
    ReviewOutcome,
    Sentiment,
    SlaBreached,
    SlaMet,
)
from smm_shared.http import install_error_handlers
from smm_shared.mongo import Document

pytestmark = pytest.mark.integration

BRAND, OTHER = "acme", "globex"
ISSUER, AUDIENCE = "smm-local", "smm-platform"
KEY = SigningKey.generate()
NOW = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
DAY0 = datetime(2026, 11, 27, tzinfo=UTC)
H, D = timedelta(hours=1), timedelta(days=1)
CARE_START = DAY0 + 6 * H
NETWORKS = (Network.X, Network.VK, Network.TELEGRAM)
LABELS = ("positive", "negative", "neutral", "mixed", "unknown")
TEXTS = ("Loving the #NewPhone camera", "battery died again #fail", "support never answers")
VOICES = ((), ("acme",), ("acme", "rival.co"), ("=HYPERLINK(1)",))


def bearer(role: Role, *, brands: Sequence[str] = (BRAND,)) -> dict[str, str]:
    token = issue_token(
        key=KEY,
        subject=f"user-{role.value}",
        roles=[role],
        brands=list(brands),
        ttl=timedelta(minutes=10),
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    return {"Authorization": f"Bearer {token}"}


VIEWER = bearer(Role.VIEWER)
GLOBEX = bearer(Role.SMM_MANAGER, brands=(OTHER,))
ADMIN = bearer(Role.ADMIN, brands=("*",))


def mention(rng: random.Random, i: int, at: datetime, brand: str = BRAND) -> MentionReceived:
    network, label = rng.choice(NETWORKS), rng.choice(LABELS)
    return MentionReceived(
        brand_id=brand,
        mention=Mention(
            mention_id=f"{brand}-m{i}",
            network=network,
            kind=MentionKind.POST,
            native_id=f"n{i}",
            conversation_key=f"{network.value}:c{i}",
            author=Author(id=rng.choice(("u.1", "u2")), followers=rng.choice((None, 10, 300))),
            text=rng.choice(TEXTS),
            language=rng.choice(("en", None)),
            created_at=at,
            keywords=rng.choice(VOICES),
            sentiment=Sentiment(label=label, score=None if label == "unknown" else 0.25),
        ),
    )


def case_events(rng: random.Random, i: int, at: datetime) -> list[Event]:
    case, key = f"case{i}", f"vk:c{i}"
    team = rng.choice(("billing", None))
    network = rng.choice(NETWORKS)
    found: list[Event] = [
        CaseOpened(
            brand_id=BRAND,
            occurred_at=at,
            case_id=case,
            conversation_key=key,
            network=network,
            mention_id=f"m{i}",
        )
    ]
    within = rng.random() < 0.6
    sla: dict[str, Any] = {
        "brand_id": BRAND,
        "occurred_at": at + timedelta(minutes=10),
        "case_id": case,
        "metric": "first_response",
        "policy_id": "p",
        "department": team,
        "network": network,
    }
    if not within:
        found.append(SlaBreached(**sla, due_at=at, lateness_ms=1))
    found.append(SlaMet(**sla, elapsed_s=rng.uniform(0.2, 30_000), within_target=within))
    if rng.random() < 0.7:
        found.append(
            CaseResolved(
                brand_id=BRAND,
                occurred_at=at + timedelta(minutes=20),
                case_id=case,
                conversation_key=key,
                actor="user:ann",
                resolution_s=rng.uniform(60, 50_000),
                department=team,
                network=network,
            )
        )
        if rng.random() < 0.3:
            found.append(
                CaseReopened(
                    brand_id=BRAND,
                    occurred_at=at + timedelta(minutes=30),
                    case_id=case,
                    conversation_key=key,
                    actor="customer",
                )
            )
            found.append(
                ReviewOutcome(
                    brand_id=BRAND,
                    occurred_at=at,
                    case_id=case,
                    conversation_key=key,
                    mention_id=f"m{i}",
                    outcome=rng.choice(("improved", "deleted", "unchanged", "worsened")),
                )
            )
    reply: dict[str, Any] = {
        "brand_id": BRAND,
        "occurred_at": at,
        "reply_id": f"r{i}",
        "case_id": case,
        "network": Network.VK,
    }
    if rng.random() < 0.8:
        found.append(ReplyPublished(**reply, native_id=f"rn{i}"))
    else:
        found.append(ReplyFailed(**reply, code="E", message="no"))
    return found


def history(seed: int = 3) -> list[Event]:
    """Mentions over the last 2.5 days (and another brand's), cases this morning and before."""
    rng = random.Random(seed)
    span = int((NOW - (DAY0 - 2 * D)).total_seconds())
    events: list[Event] = [
        mention(rng, i, DAY0 - 2 * D + timedelta(seconds=rng.randrange(span))) for i in range(300)
    ]
    events += [
        mention(rng, i, DAY0 + timedelta(seconds=rng.randrange(40_000)), OTHER) for i in range(60)
    ]
    for i in range(60):
        events += case_events(rng, i, CARE_START + timedelta(seconds=rng.randrange(5 * 3600)))
    for i, at in enumerate([DAY0 - 20 * D] * 5 + [DAY0 - 2 * D + 3 * H] * 3):
        events.append(
            CaseOpened(
                brand_id=BRAND,
                occurred_at=at,
                case_id=f"old{i}",
                conversation_key=f"x:o{i}",
                network=Network.X,
                mention_id=f"o{i}",
            )
        )
    events.append(
        CaseResolved(
            brand_id=BRAND,
            occurred_at=DAY0 - 10 * D,
            case_id="old0",
            conversation_key="x:o0",
            actor="user:ann",
            resolution_s=5.0,
        )
    )
    return events


@dataclass
class Api:
    client: httpx.AsyncClient
    store: RollupStore

    async def load(self, events: Sequence[Event]) -> None:
        for start in range(0, len(events), 200):
            chunk = events[start : start + 200]
            assert await self.store.apply_batch([(e.event_id, increments_for(e)) for e in chunk])

    async def get(
        self, path: str, params: Mapping[str, Any], headers: Mapping[str, str] | None = VIEWER
    ) -> httpx.Response:
        return await self.client.get(f"/v1/metrics/{path}", params=params, headers=headers)


@pytest.fixture
async def api(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> AsyncIterator[Api]:
    db = mongo_client[mongo_settings.database]
    store = RollupStore(db.rollup_buckets, db.rollup_ledger, db.rollup_days, now=lambda: NOW)
    await store.ensure_indexes()
    app = FastAPI()
    install_error_handlers(app)
    app.state.token_verifier = TokenVerifier(
        StaticKeySource({KEY.kid: KEY.verification_key()}), issuer=ISSUER, audience=AUDIENCE
    )
    app.state.queries = QueryService(store, now=lambda: NOW)
    app.include_router(router)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Api(client, store)


def code(response: httpx.Response) -> str:
    error = response.json()["error"]
    assert error["message"]
    return str(error["code"])


def slot_of(at: datetime) -> str:
    return f"{at.year:04d}-{at.month:02d}-{at.day:02d}T{at.hour:02d}"


def mentions_of(events: Sequence[Event], brand: str = BRAND) -> list[Mention]:
    return [e.mention for e in events if isinstance(e, MentionReceived) and e.brand_id == brand]


def nearest_rank_value(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(round(q * len(ordered), 9))) - 1]


def within_bound(estimate: float, exact: float) -> bool:
    if exact < 1:
        return abs(estimate - exact) < 1
    return abs(estimate - exact) <= MAX_RELATIVE_ERROR * exact + 1e-9


def csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(response.text)))


# --- series ----------------------------------------------------------------------------------


async def test_hourly_and_daily_series_match_independent_counts_before_and_after_the_day_roll(
    api: Api,
) -> None:
    events = history()
    await api.load(events)
    mentions = mentions_of(events)

    hourly = await api.get(
        "series",
        {
            "brand_id": BRAND,
            "metric": "mentions",
            "from": "2026-11-26T12:00:00Z",
            "to": NOW.isoformat(),
        },
    )
    assert hourly.status_code == 200, hourly.text
    body = hourly.json()
    assert body["granularity"] == "hour"
    assert len(body["points"]) == 25  # 12:00 yesterday to the end of the current hour
    for point in body["points"]:
        chosen = [m for m in mentions if slot_of(m.created_at) == point["slot"]]
        labels = [m.sentiment.label for m in chosen]
        assert point["values"]["count"] == len(chosen)
        assert point["values"]["negative"] == labels.count("negative")
        assert point["values"]["reach"] == sum(m.author.followers or 0 for m in chosen)
        net = (
            (labels.count("positive") - labels.count("negative")) / len(chosen) if chosen else None
        )
        assert point["values"]["net_sentiment"] == pytest.approx(net)
    assert body["totals"]["count"] == sum(
        1 for m in mentions if DAY0 - 12 * H <= m.created_at < DAY0 + 13 * H
    )

    def daily_counts() -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in mentions:
            day = m.created_at.strftime("%Y-%m-%d")
            counts[day] = counts.get(day, 0) + 1
        return counts

    params = {"brand_id": BRAND, "metric": "mentions", "granularity": "day", "fields": "count"}
    dirty = (await api.get("series", params)).json()
    assert len(dirty["points"]) == 30
    got = {p["slot"]: p["values"]["count"] for p in dirty["points"] if p["values"]["count"]}
    assert got == daily_counts()
    assert dirty["totals"] == {"count": 300}

    assert await api.store.roll_days() > 0  # the complete days are now read from day buckets
    clean = (await api.get("series", params)).json()
    assert clean["points"] == dirty["points"]

    by_network = await api.get(
        "series",
        {
            "brand_id": BRAND,
            "metric": "mentions",
            "network": "vk",
            "granularity": "day",
            "fields": "count",
        },
    )
    assert by_network.json()["totals"]["count"] == sum(m.network is Network.VK for m in mentions)


async def test_csv_export_of_series_top_and_care(api: Api) -> None:
    events = history()
    await api.load(events)

    window = {"from": "2026-11-27T00:00:00Z", "to": "2026-11-27T12:00:00Z"}
    as_json = (await api.get("series", {"brand_id": BRAND, "metric": "mentions", **window})).json()
    rows = csv_rows(
        await api.get(
            "series",
            {
                "brand_id": BRAND,
                "metric": "mentions",
                "format": "csv",
                "fields": "count,net_sentiment",
                **window,
            },
        )
    )
    assert rows[0] == ["slot", "count", "net_sentiment"]
    assert len(rows) == 1 + 12
    for row, point in zip(rows[1:], as_json["points"], strict=True):
        assert row[0] == point["slot"]
        assert int(row[1]) == point["values"]["count"]
        net = point["values"]["net_sentiment"]
        assert (row[2] == "") if net is None else float(row[2]) == pytest.approx(net)

    top = await api.get(
        "top", {"brand_id": BRAND, "kind": "share_of_voice", "format": "csv", **window}
    )
    assert (
        'filename="acme-top-share_of_voice-20261127T00.csv"' in top.headers["content-disposition"]
    )
    rows = csv_rows(top)
    assert rows[0] == ["rank", "name", "value", "share"]
    names = {row[1]: int(row[2]) for row in rows[1:]}
    today = [m for m in mentions_of(events) if DAY0 <= m.created_at < DAY0 + 12 * H]
    # A label that a spreadsheet would run as a formula is exported as text.
    assert names == {
        "acme": sum("acme" in m.keywords for m in today),
        "rival.co": sum("rival.co" in m.keywords for m in today),
        "'=HYPERLINK(1)": sum("=HYPERLINK(1)" in m.keywords for m in today),
    }

    care = csv_rows(await api.get("care", {"brand_id": BRAND, "format": "csv", **window}))
    assert care[0] == [
        "slot",
        "opened",
        "reopened",
        "resolved",
        "backlog",
        "replies_published",
        "replies_failed",
    ]
    assert len(care) == 1 + 12
    assert sum(int(row[1]) for row in care[1:]) == 60


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("series", {"metric": "mentions"}),
        ("top", {"kind": "terms"}),
        ("care", {}),
        ("reputation", {}),
    ],
)
async def test_every_route_needs_a_token_and_the_brand(
    api: Api, path: str, params: dict[str, str]
) -> None:
    await api.load(history())
    assert (await api.get(path, {"brand_id": BRAND, **params})).status_code == 200
    assert (await api.get(path, {"brand_id": BRAND, **params}, headers=ADMIN)).status_code == 200

    missing = await api.get(path, {"brand_id": BRAND, **params}, headers=None)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    forged = await api.get(
        path, {"brand_id": BRAND, **params}, headers={"Authorization": "Bearer x.y.z"}
    )
    assert forged.status_code == 401
    other = await api.get(path, {"brand_id": BRAND, **params}, headers=GLOBEX)
    assert other.status_code == 403
    assert code(other) == "auth.forbidden_brand"


async def test_a_brand_sees_only_its_own_numbers(api: Api) -> None:
    events = history()
    await api.load(events)
    window = {"from": "2026-11-27T00:00:00Z", "to": "2026-11-27T12:00:00Z", "fields": "count"}
    ours = (await api.get("series", {"brand_id": BRAND, "metric": "mentions", **window})).json()
    theirs = (
        await api.get("series", {"brand_id": OTHER, "metric": "mentions", **window}, headers=GLOBEX)
    ).json()
    assert ours["totals"]["count"] == sum(
        DAY0 <= m.created_at < DAY0 + 12 * H for m in mentions_of(events)
    )
    assert theirs["totals"]["count"] == sum(
        DAY0 <= m.created_at < DAY0 + 12 * H for m in mentions_of(events, OTHER)
    )
    span = {"from": window["from"], "to": window["to"]}
    nobody = await api.get("care", {"brand_id": OTHER, **span}, headers=GLOBEX)
    assert nobody.json()["opened"] == 0
    assert nobody.json()["times"][0]["count"] == 0


# --- care and reputation ---------------------------------------------------------------------


async def test_care_percentiles_rates_and_backlog_over_http(api: Api) -> None:
    events = history()
    await api.load(events)
    response = await api.get(
        "care",
        {
            "brand_id": BRAND,
            "from": CARE_START.isoformat(),
            "to": (CARE_START + 6 * H).isoformat(),
        },
    )
    assert response.status_code == 200, response.text
    care = response.json()

    first = [e.elapsed_s for e in events if isinstance(e, SlaMet)]
    times = {t["metric"]: t for t in care["times"]}
    assert times["first_response_time"]["count"] == len(first) == 60
    assert times["first_response_time"]["mean_s"] == pytest.approx(
        sum(round(s * 1000) for s in first) / len(first) / 1000
    )
    for q, name in ((0.5, "p50_s"), (0.9, "p90_s"), (0.95, "p95_s")):
        assert within_bound(times["first_response_time"][name], nearest_rank_value(first, q))
    resolutions = [
        e.resolution_s
        for e in events
        if isinstance(e, CaseResolved) and e.occurred_at >= CARE_START
    ]
    assert within_bound(
        times["case_resolution_time"]["p50_s"], nearest_rank_value(resolutions, 0.5)
    )

    met = sum(isinstance(e, SlaMet) and e.within_target for e in events)
    breached = sum(isinstance(e, SlaBreached) for e in events)
    rate = next(r for r in care["sla"] if r["metric"] == "first_response")
    assert (rate["met"], rate["late"], rate["breached"]) == (met, 60 - met, breached)
    assert rate["met_rate"] == pytest.approx(met / (met + breached))

    inside = [e for e in events if e.occurred_at >= CARE_START]
    opened = sum(isinstance(e, CaseOpened) for e in inside)
    reopened = sum(isinstance(e, CaseReopened) for e in inside)
    resolved = sum(isinstance(e, CaseResolved) for e in inside)
    assert care["resolution_rate"] == pytest.approx(resolved / (opened + reopened))
    assert care["backlog_start"] == 5 + 3 - 1
    assert care["backlog_end"] == 7 + opened + reopened - resolved
    assert care["points"][-1]["backlog"] == care["backlog_end"]
    outcomes = [e.outcome for e in events if isinstance(e, ReviewOutcome)]
    recovered = outcomes.count("improved") + outcomes.count("deleted")
    assert care["reviews"]["recovery_rate"] == pytest.approx(recovered / len(outcomes))
    assert care["replies_published"] + care["replies_failed"] == 60

    team = (
        await api.get(
            "care", {"brand_id": BRAND, "team": "billing", "from": CARE_START.isoformat()}
        )
    ).json()
    billing = [e.elapsed_s for e in events if isinstance(e, SlaMet) and e.department == "billing"]
    assert team["times"][0]["count"] == len(billing)
    assert team["opened"] is None
    assert team["filter"] == {"name": "team", "value": "billing"}

    by_network = await api.get(
        "care", {"brand_id": BRAND, "network": "x", "from": CARE_START.isoformat()}
    )
    assert by_network.status_code == 200, by_network.text
    on_x = [e for e in events if isinstance(e, SlaMet) and e.network == Network.X]
    assert (
        0
        < by_network.json()["times"][0]["count"]
        == len(on_x)
        < len([e for e in events if isinstance(e, SlaMet)])
    )
    assert by_network.json()["resolved"] == sum(
        isinstance(e, CaseResolved) and e.network == Network.X for e in events
    )
    assert by_network.json()["opened"] is None


async def test_reputation_over_http_returns_the_score_and_its_components(api: Api) -> None:
    events = history()
    await api.load(events)
    response = await api.get(
        "reputation",
        {"brand_id": BRAND, "from": "2026-11-27T00:00:00Z", "to": "2026-11-27T12:00:00Z"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["formula"] == REPUTATION_FORMULA
    assert body["previous_start"] == "2026-11-26T12:00:00Z"
    today = [m for m in mentions_of(events) if DAY0 <= m.created_at < DAY0 + 12 * H]
    labels = [m.sentiment.label for m in today]
    with_sentiment = len(labels) - labels.count("unknown")
    assert body["inputs"]["with_sentiment"] == with_sentiment
    parts = {c["component"]: c for c in body["components"]}
    assert set(parts) == {"net_sentiment", "sentiment_trend", "response_speed", "recovery_rate"}
    assert parts["net_sentiment"]["value"] == pytest.approx(
        (labels.count("positive") - labels.count("negative")) / with_sentiment
    )
    assert not any(c["missing"] for c in body["components"])
    assert body["score"] == pytest.approx(sum(c["contribution"] for c in body["components"]))
    assert 0 <= body["score"] <= 100


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        (
            "series",
            {"metric": "mentions", "from": "2026-11-27T10:00:00Z", "to": "2026-11-27T09:00:00Z"},
            "range.invalid",
        ),
        (
            "series",
            {"metric": "mentions", "granularity": "hour", "from": "2026-06-01T00:00:00Z"},
            "range.too_large",
        ),
        (
            "series",
            {"metric": "mentions", "granularity": "day", "from": "2020-01-01T00:00:00Z"},
            "range.too_large",
        ),
        (
            "series",
            {"metric": "mentions", "network": "x", "language": "en"},
            "filter.combination_not_stored",
        ),
        ("series", {"metric": "reviews", "network": "x"}, "filter.not_stored"),
        ("series", {"metric": "posts", "fields": "published,likes"}, "series.unknown_field"),
        ("series", {"metric": "likes"}, "request.invalid"),
        ("series", {"metric": "terms", "sentiment": "positive"}, "request.invalid"),
        ("top", {"kind": "topics", "network": "x"}, "filter.not_stored"),
        ("top", {"kind": "terms", "limit": "0"}, "request.invalid"),
        ("care", {"team": "billing", "agent": "ann"}, "filter.combination_not_stored"),
        ("reputation", {"granularity": "week"}, "request.invalid"),
    ],
)
async def test_bad_input_is_422_with_a_code(
    api: Api, path: str, params: dict[str, str], expected: str
) -> None:
    response = await api.get(path, {"brand_id": BRAND, **params})
    assert response.status_code == 422, response.text
    assert code(response) == expected
