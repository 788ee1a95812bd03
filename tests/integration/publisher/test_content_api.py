"""The content, calendar, accounts and workflows API over HTTP, on the real stores.

The app holds the three routers with the shared error handlers and a real token verifier;
behind them run the ``replica`` fixture's ContentService, AccountStore and workflow store on
the real MongoDB-protocol server. Requests go through ``httpx.ASGITransport``. The last test
publishes through the API to the fake networks on a port, driven by a real timer loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from smm_publisher.api.content import router as content_router
from smm_publisher.api.settings import accounts_router, workflows_router
from smm_shared.auth import Role, SigningKey, StaticKeySource, TokenVerifier, issue_token
from smm_shared.http import install_error_handlers
from smm_shared.simulator.networks.serve import FakeNetworkServer
from smm_shared.testing import eventually

from .conftest import BRAND, Replica, add_account

pytestmark = pytest.mark.integration

ISSUER, AUDIENCE = "smm-local", "smm-platform"
KEY = SigningKey.generate()
OTHER = "globex"
X_USER = "1580000000000000001"
TG_CHANNEL = "@acme_news"
#: Where accounts that never post in a test point (nothing listens there).
NOWHERE = "http://127.0.0.1:9"
#: The one user the "promo" workflow's single step lists.
APPROVER = "mgr-anna"


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
ANNA = bearer(Role.SMM_MANAGER, subject=APPROVER)
ANALYST = bearer(Role.ANALYST, subject="an-petr")
VIEWER = bearer(Role.VIEWER, subject="v-lena")
GLOBEX = bearer(Role.SMM_MANAGER, subject="mgr-globex", brands=(OTHER,))
BOTH = bearer(Role.SMM_MANAGER, subject="mgr-both", brands=(BRAND, OTHER))


def build_app(replica: Replica) -> FastAPI:
    """The three routers over the replica's real services, with auth and error handlers."""
    app = FastAPI()
    install_error_handlers(app)
    app.state.token_verifier = TokenVerifier(
        StaticKeySource({KEY.kid: KEY.verification_key()}), issuer=ISSUER, audience=AUDIENCE
    )
    app.state.content = replica.content
    app.state.accounts = replica.accounts
    app.state.workflows = replica.workflows
    app.include_router(content_router)
    app.include_router(accounts_router)
    app.include_router(workflows_router)
    return app


@pytest.fixture
async def client(replica: Replica) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app, in process; an unhandled error is a 500 response, as served."""
    transport = httpx.ASGITransport(app=build_app(replica), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def code(response: httpx.Response) -> str:
    """The machine-readable error code of a response (and it has a message)."""
    error = response.json()["error"]
    assert error["message"]
    return str(error["code"])


def instant(value: str) -> datetime:
    """A datetime from the API's ISO 8601 text."""
    return datetime.fromisoformat(value)


def future(**delta: float) -> datetime:
    """A time ahead of now, to the second."""
    return (datetime.now(UTC) + timedelta(**delta)).replace(microsecond=0)


# --- bodies and helpers -----------------------------------------------------------------------


def account_body(**changes: Any) -> dict[str, Any]:
    """A publishing account as POST /v1/accounts takes it."""
    body: dict[str, Any] = {
        "id": "acme-x",
        "brand_id": BRAND,
        "network": "x",
        "native_id": X_USER,
        "name": "Acme on X",
        "token": {"value": f"secret-x-token@{X_USER}"},
        "api_base_url": f"{NOWHERE}/x",
    }
    body.update(changes)
    return body


def workflow_body(**changes: Any) -> dict[str, Any]:
    """The "promo" workflow: one step whose only approver is user ``APPROVER``."""
    body: dict[str, Any] = {
        "id": "promo-review",
        "brand_id": BRAND,
        "name": "Promo review",
        "steps": [{"name": "Brand lead", "mode": "any", "users": [APPROVER]}],
        "labels": ["promo"],
    }
    body.update(changes)
    return body


def item_body(
    *,
    at: datetime | None = None,
    text: str = "Spring sale: 20% off every card",
    networks: Sequence[str] = ("x",),
    targets: Sequence[str] = ("acme-x",),
    labels: Sequence[str] = (),
    campaign: str | None = "spring",
    brand: str = BRAND,
    title: str = "Spring sale",
    time_zone: str = "Europe/Moscow",
    **changes: Any,
) -> dict[str, Any]:
    """A content item as POST /v1/content takes it."""
    body: dict[str, Any] = {
        "brand_id": brand,
        "title": title,
        "variants": [{"network": n, "text": f"{text} ({n})"} for n in networks],
        "targets": list(targets),
        "campaign_id": campaign,
        "labels": list(labels),
        "schedule": {"at": at.isoformat(), "time_zone": time_zone} if at else None,
    }
    body.update(changes)
    return body


async def connect_accounts(replica: Replica, base_url: str = NOWHERE) -> None:
    """Accounts acme-x (X) and acme-tg (Telegram) of the brand."""
    await add_account(replica, "acme-x", "x", X_USER, f"{base_url}/x")
    await add_account(
        replica, "acme-tg", "telegram", TG_CHANNEL, f"{base_url}/telegram", token="123:tg"
    )


async def create_item(
    client: httpx.AsyncClient, headers: dict[str, str] = WRITER, **fields: Any
) -> dict[str, Any]:
    """A new draft, created through the API."""
    response = await client.post("/v1/content", json=item_body(**fields), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def add_promo_workflow(client: httpx.AsyncClient) -> None:
    """The "promo" workflow, created through the API."""
    response = await client.post("/v1/workflows", json=workflow_body(), headers=MANAGER)
    assert response.status_code == 201, response.text


async def command(
    client: httpx.AsyncClient,
    content_id: str,
    action: str,
    headers: dict[str, str],
    json: dict[str, Any] | None = None,
    brand: str = BRAND,
) -> httpx.Response:
    """POST /v1/content/{id}/{action}?brand_id=..."""
    return await client.post(
        f"/v1/content/{content_id}/{action}", params={"brand_id": brand}, json=json, headers=headers
    )


async def read_item(
    client: httpx.AsyncClient, content_id: str, headers: dict[str, str] = VIEWER
) -> dict[str, Any]:
    """GET one item of the brand (200 expected)."""
    response = await client.get(
        f"/v1/content/{content_id}", params={"brand_id": BRAND}, headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def actions(item: dict[str, Any]) -> list[str]:
    """The approval audit's actions, oldest first."""
    return [entry["action"] for entry in item["approval"]["audit"]]


# --- accounts -----------------------------------------------------------------------------------


async def test_an_account_token_by_value_is_sealed_and_never_shown(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    secret = f"secret-x-token@{X_USER}"
    created = await client.post("/v1/accounts", json=account_body(), headers=MANAGER)
    assert created.status_code == 201, created.text
    assert secret not in created.text
    body = created.json()
    assert "token" not in body
    assert body["id"] == "acme-x"
    assert body["network"] == "x"
    assert body["has_token"] is True
    assert body["token_source"] == "value"
    assert body["version"] == 1

    one = await client.get("/v1/accounts/acme-x", params={"brand_id": BRAND}, headers=MANAGER)
    listed = await client.get("/v1/accounts", params={"brand_id": BRAND}, headers=MANAGER)
    for response in (one, listed):
        assert response.status_code == 200, response.text
        assert secret not in response.text
        assert "ciphertext" not in response.text
    assert [a["id"] for a in listed.json()] == ["acme-x"]

    stored = await replica.accounts.collection.find_one({"_id": "acme-x"})
    assert stored is not None
    assert secret not in str(stored["token"])
    assert "ciphertext" in stored["token"]
    # The sealed token opens to what was given: the account can post.
    account = await replica.accounts.resolve(BRAND, "acme-x")
    assert account.token == secret

    again = await client.post("/v1/accounts", json=account_body(), headers=MANAGER)
    assert again.status_code == 409
    assert code(again) == "account.exists"


async def test_an_account_token_by_environment_variable(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    created = await client.post(
        "/v1/accounts",
        json=account_body(id="acme-tg", network="telegram", token={"env": "ACME_TG_TOKEN"}),
        headers=MANAGER,
    )
    assert created.status_code == 201, created.text
    assert created.json()["token_source"] == "env"
    assert created.json()["has_token"] is True
    stored = await replica.accounts.collection.find_one({"_id": "acme-tg"})
    assert stored is not None
    assert stored["token"] == {"env": "ACME_TG_TOKEN"}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param({"value": "abc", "env": "ACME_TOKEN"}, id="both"),
        pytest.param({}, id="neither"),
        pytest.param({"env": "lower-case"}, id="bad-env-name"),
    ],
)
async def test_an_account_token_must_be_exactly_one_of_value_or_env(
    client: httpx.AsyncClient, replica: Replica, token: dict[str, str]
) -> None:
    response = await client.post("/v1/accounts", json=account_body(token=token), headers=MANAGER)
    assert response.status_code == 422, response.text
    assert code(response) == "request.invalid"
    assert await replica.accounts.collection.find_one({"_id": "acme-x"}) is None


async def test_an_account_is_replaced_with_the_version_read_and_deleted(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    created = await client.post("/v1/accounts", json=account_body(), headers=MANAGER)
    assert created.status_code == 201, created.text
    sealed = (await replica.accounts.collection.find_one({"_id": "acme-x"}) or {})["token"]

    update = account_body(name="Acme (X, main)", replies=True, version=1)
    del update["token"]  # left out: the stored token is kept
    replaced = await client.put("/v1/accounts/acme-x", json=update, headers=MANAGER)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["name"] == "Acme (X, main)"
    assert replaced.json()["replies"] is True
    assert replaced.json()["version"] == 2
    stored = await replica.accounts.collection.find_one({"_id": "acme-x"})
    assert stored is not None
    assert stored["token"] == sealed
    assert stored["version"] == 2

    stale = await client.put(
        "/v1/accounts/acme-x", json={**update, "name": "Lost update"}, headers=MANAGER
    )
    assert stale.status_code == 409
    assert code(stale) == "account.conflict"
    read = await client.get("/v1/accounts/acme-x", params={"brand_id": BRAND}, headers=MANAGER)
    assert read.json()["name"] == "Acme (X, main)"

    deleted = await client.delete(
        "/v1/accounts/acme-x", params={"brand_id": BRAND}, headers=MANAGER
    )
    assert deleted.status_code == 204
    gone = await client.get("/v1/accounts/acme-x", params={"brand_id": BRAND}, headers=MANAGER)
    assert gone.status_code == 404
    assert code(gone) == "account.not_found"
    twice = await client.delete("/v1/accounts/acme-x", params={"brand_id": BRAND}, headers=MANAGER)
    assert twice.status_code == 404
    assert code(twice) == "account.not_found"
    listed = await client.get("/v1/accounts", params={"brand_id": BRAND}, headers=MANAGER)
    assert listed.json() == []


async def test_account_roles_and_brands(client: httpx.AsyncClient, replica: Replica) -> None:
    refused = await client.post("/v1/accounts", json=account_body(), headers=WRITER)
    assert refused.status_code == 403
    assert code(refused) == "auth.forbidden_role"
    assert await replica.accounts.collection.find_one({"_id": "acme-x"}) is None

    created = await client.post("/v1/accounts", json=account_body(), headers=MANAGER)
    assert created.status_code == 201, created.text
    listed = await client.get("/v1/accounts", params={"brand_id": BRAND}, headers=ANALYST)
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == ["acme-x"]

    foreign_list = await client.get("/v1/accounts", params={"brand_id": BRAND}, headers=GLOBEX)
    assert foreign_list.status_code == 403
    assert code(foreign_list) == "auth.forbidden_brand"
    foreign_create = await client.post(
        "/v1/accounts", json=account_body(id="sneaky"), headers=GLOBEX
    )
    assert foreign_create.status_code == 403
    assert code(foreign_create) == "auth.forbidden_brand"
    assert await replica.accounts.collection.find_one({"_id": "sneaky"}) is None
    # An id of another brand's account, asked for as one's own brand: not there.
    foreign_get = await client.get(
        "/v1/accounts/acme-x", params={"brand_id": OTHER}, headers=GLOBEX
    )
    assert foreign_get.status_code == 404
    assert code(foreign_get) == "account.not_found"
    own = await client.get("/v1/accounts", params={"brand_id": OTHER}, headers=GLOBEX)
    assert own.status_code == 200
    assert own.json() == []

    no_token = await client.get("/v1/accounts", params={"brand_id": BRAND})
    assert no_token.status_code == 401
    assert code(no_token) == "auth.missing_token"


async def test_an_account_id_another_brand_uses_is_not_a_server_error(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    created = await client.post("/v1/accounts", json=account_body(), headers=MANAGER)
    assert created.status_code == 201, created.text
    theirs = await client.post(
        "/v1/accounts",
        json=account_body(brand_id=OTHER, native_id="42", token={"env": "GLOBEX_X"}),
        headers=GLOBEX,
    )
    assert theirs.status_code in (201, 409), theirs.text
    if theirs.status_code == 409:
        assert code(theirs) == "account.exists"
    ours = await client.get("/v1/accounts/acme-x", params={"brand_id": BRAND}, headers=MANAGER)
    assert ours.status_code == 200
    assert ours.json()["native_id"] == X_USER


# --- workflows ----------------------------------------------------------------------------------


async def test_a_workflow_is_created_listed_replaced_and_deleted(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    created = await client.post("/v1/workflows", json=workflow_body(), headers=MANAGER)
    assert created.status_code == 201, created.text
    assert created.json()["id"] == "promo-review"
    assert created.json()["version"] == 1
    assert created.json()["steps"] == [
        {"name": "Brand lead", "mode": "any", "users": [APPROVER], "roles": []}
    ]
    again = await client.post("/v1/workflows", json=workflow_body(), headers=MANAGER)
    assert again.status_code == 409
    assert code(again) == "workflow.exists"

    listed = await client.get("/v1/workflows", params={"brand_id": BRAND}, headers=VIEWER)
    assert listed.status_code == 200
    assert [(w["id"], w["labels"]) for w in listed.json()] == [("promo-review", ["promo"])]

    two_steps = workflow_body(
        steps=[
            {"name": "Brand lead", "users": [APPROVER]},
            {"name": "Legal", "mode": "all", "roles": ["admin"]},
        ],
        version=1,
    )
    replaced = await client.put("/v1/workflows/promo-review", json=two_steps, headers=MANAGER)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 2
    assert [s["name"] for s in replaced.json()["steps"]] == ["Brand lead", "Legal"]
    stale = await client.put("/v1/workflows/promo-review", json=two_steps, headers=MANAGER)
    assert stale.status_code == 409
    assert code(stale) == "workflow.conflict"
    stored = await replica.workflows.get(BRAND, "promo-review")
    assert stored is not None
    assert len(stored["steps"]) == 2

    refused = await client.delete(
        "/v1/workflows/promo-review", params={"brand_id": BRAND}, headers=WRITER
    )
    assert refused.status_code == 403
    assert code(refused) == "auth.forbidden_role"
    deleted = await client.delete(
        "/v1/workflows/promo-review", params={"brand_id": BRAND}, headers=MANAGER
    )
    assert deleted.status_code == 204
    listed = await client.get("/v1/workflows", params={"brand_id": BRAND}, headers=VIEWER)
    assert listed.json() == []
    gone = await client.get(
        "/v1/workflows/promo-review", params={"brand_id": BRAND}, headers=VIEWER
    )
    assert gone.status_code == 404
    assert code(gone) == "workflow.not_found"


async def test_a_workflow_step_without_approvers_is_refused(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    response = await client.post(
        "/v1/workflows",
        json=workflow_body(steps=[{"name": "Nobody", "users": [], "roles": []}]),
        headers=MANAGER,
    )
    assert response.status_code == 422, response.text
    assert code(response) == "workflow.invalid"
    assert await replica.workflows.get(BRAND, "promo-review") is None

    no_steps = await client.post("/v1/workflows", json=workflow_body(steps=[]), headers=MANAGER)
    assert no_steps.status_code == 422
    assert code(no_steps) == "request.invalid"


async def test_a_workflow_id_another_brand_uses_is_not_a_server_error(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await add_promo_workflow(client)
    theirs = await client.post("/v1/workflows", json=workflow_body(brand_id=OTHER), headers=GLOBEX)
    assert theirs.status_code in (201, 409), theirs.text
    ours = await replica.workflows.get(BRAND, "promo-review")
    assert ours is not None
    assert ours["brand_id"] == BRAND


# --- content: drafting and reading ----------------------------------------------------------------


async def test_a_content_manager_drafts_and_a_viewer_cannot(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    at = future(days=2)
    item = await create_item(client, at=at, labels=["promo"])
    assert item["status"] == "draft"
    assert item["version"] == 1
    assert item["created_by"] == "cm-olga"
    assert item["targets"] == ["acme-x"]
    assert instant(item["publish_at"]) == at
    assert item["approval"]["status"] == "draft"
    stored = await replica.repo.get(item["id"])
    assert stored is not None
    assert stored["status"] == "draft"

    refused = await client.post("/v1/content", json=item_body(), headers=VIEWER)
    assert refused.status_code == 403
    assert code(refused) == "auth.forbidden_role"

    read = await read_item(client, item["id"])
    assert read["title"] == "Spring sale"
    assert read["variants"][0]["text"] == "Spring sale: 20% off every card (x)"
    drafts = await client.get("/v1/content", params={"brand_id": BRAND}, headers=VIEWER)
    assert drafts.status_code == 200
    assert [d["id"] for d in drafts.json()] == [item["id"]]


async def test_reading_another_brands_item(client: httpx.AsyncClient, replica: Replica) -> None:
    await connect_accounts(replica)
    item = await create_item(client)

    no_access = await client.get(
        f"/v1/content/{item['id']}", params={"brand_id": OTHER}, headers=WRITER
    )
    assert no_access.status_code == 403
    assert code(no_access) == "auth.forbidden_brand"

    # A caller with both brands asks for brand A's item as brand B: it is not there.
    as_other = await client.get(
        f"/v1/content/{item['id']}", params={"brand_id": OTHER}, headers=BOTH
    )
    assert as_other.status_code == 404
    assert code(as_other) == "content.not_found"
    as_own = await client.get(f"/v1/content/{item['id']}", params={"brand_id": BRAND}, headers=BOTH)
    assert as_own.status_code == 200

    # Commands on it as brand B do not reach it either.
    submit = await command(client, item["id"], "submit", BOTH, brand=OTHER)
    assert submit.status_code == 404
    assert code(submit) == "content.not_found"
    stored = await replica.repo.get(item["id"])
    assert stored is not None
    assert stored["status"] == "draft"


async def test_invalid_content_is_refused_with_its_code(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    too_long = await client.post(
        "/v1/content",
        json=item_body(variants=[{"network": "x", "text": "a" * 300}]),
        headers=WRITER,
    )
    assert too_long.status_code == 422
    assert code(too_long) == "content.too_long"
    assert "280" in too_long.json()["error"]["message"]

    no_variant = await client.post(
        "/v1/content", json=item_body(targets=["acme-x", "acme-tg"]), headers=WRITER
    )
    assert no_variant.status_code == 422
    assert code(no_variant) == "content.no_variant"
    assert "acme-tg" in no_variant.json()["error"]["message"]

    unknown = await client.post("/v1/content", json=item_body(targets=["acme-fb"]), headers=WRITER)
    assert unknown.status_code == 422
    assert code(unknown) == "content.unknown_account"

    # Another brand's account is unknown to this brand.
    await replica.accounts.store.insert(
        {
            "_id": "globex-x",
            "brand_id": OTHER,
            "network": "x",
            "native_id": "1",
            "name": "Globex",
            "token": {"env": "GLOBEX_X"},
        }
    )
    foreign = await client.post("/v1/content", json=item_body(targets=["globex-x"]), headers=WRITER)
    assert foreign.status_code == 422
    assert code(foreign) == "content.unknown_account"

    listed = await client.get("/v1/content", params={"brand_id": BRAND}, headers=VIEWER)
    assert listed.json() == []


# --- content: approval ----------------------------------------------------------------------------


async def test_submit_and_approve_in_the_promo_workflow(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    await add_promo_workflow(client)
    at = future(days=1)
    item = await create_item(client, at=at, labels=["promo"])
    cid = item["id"]

    submitted = await command(client, cid, "submit", WRITER)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["approval"]["workflow_id"] == "promo-review"
    assert submitted.json()["approval"]["step"] == 0

    by_writer = await command(client, cid, "approve", WRITER)
    assert by_writer.status_code == 403
    assert code(by_writer) == "auth.forbidden_role"
    by_manager = await command(client, cid, "approve", MANAGER)
    assert by_manager.status_code == 403
    assert code(by_manager) == "approval.not_an_approver"
    assert (await read_item(client, cid))["status"] == "submitted"

    approved = await command(client, cid, "approve", ANNA)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "scheduled"
    assert body["approval"]["status"] == "approved"
    assert actions(body) == ["submitted", "approved"]
    assert body["approval"]["audit"][1]["user"] == APPROVER
    assert instant(body["publish_at"]) == at
    timer = await replica.timers.get(key=f"publish|{cid}")
    assert timer is not None
    assert timer.due_at == at

    twice = await command(client, cid, "approve", ANNA)
    assert twice.status_code == 409
    assert code(twice) == "approval.invalid_state"


async def test_reject_needs_a_reason_and_comments_join_the_audit(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    await add_promo_workflow(client)
    item = await create_item(client, at=future(days=1), labels=["promo"])
    cid = item["id"]
    assert (await command(client, cid, "submit", WRITER)).status_code == 200

    empty = await command(client, cid, "reject", ANNA, json={"reason": ""})
    assert empty.status_code == 422
    assert code(empty) == "request.invalid"
    blank = await command(client, cid, "reject", ANNA, json={"reason": "   "})
    assert blank.status_code == 422
    assert code(blank) == "approval.reason_required"
    by_writer = await command(client, cid, "reject", WRITER, json={"reason": "no"})
    assert by_writer.status_code == 403
    assert code(by_writer) == "auth.forbidden_role"
    assert (await read_item(client, cid))["status"] == "submitted"

    commented = await command(
        client, cid, "comments", WRITER, json={"text": "Price checked with sales"}
    )
    assert commented.status_code == 200, commented.text
    assert commented.json()["status"] == "submitted"

    rejected = await command(client, cid, "reject", ANNA, json={"reason": "Wrong discount"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"

    read = await read_item(client, cid)
    assert actions(read) == ["submitted", "commented", "rejected"]
    audit = read["approval"]["audit"]
    assert audit[1]["user"] == "cm-olga"
    assert audit[1]["reason"] == "Price checked with sales"
    assert audit[2]["user"] == APPROVER
    assert audit[2]["reason"] == "Wrong discount"
    assert audit[2]["step"] == 0


async def test_a_stale_version_is_a_conflict(client: httpx.AsyncClient, replica: Replica) -> None:
    await connect_accounts(replica)
    item = await create_item(client)
    cid = item["id"]
    first = await client.put(
        f"/v1/content/{cid}", json=item_body(text="First edit", version=1), headers=WRITER
    )
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 2
    stale = await client.put(
        f"/v1/content/{cid}", json=item_body(text="Lost edit", version=1), headers=WRITER
    )
    assert stale.status_code == 409
    assert code(stale) == "content.conflict"
    read = await read_item(client, cid)
    assert read["variants"][0]["text"] == "First edit (x)"
    assert read["version"] == 2


async def test_editing_the_text_of_a_scheduled_item_sends_it_back_to_draft(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    await add_promo_workflow(client)
    at = future(days=1)
    item = await create_item(client, at=at, labels=["promo"])
    cid = item["id"]
    await command(client, cid, "submit", WRITER)
    scheduled = (await command(client, cid, "approve", ANNA)).json()
    assert scheduled["status"] == "scheduled"
    assert await replica.timers.get(key=f"publish|{cid}") is not None

    edited = await client.put(
        f"/v1/content/{cid}",
        json=item_body(
            at=at, labels=["promo"], text="Spring sale: 30% off", version=scheduled["version"]
        ),
        headers=WRITER,
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["status"] == "draft"
    assert body["approval"]["status"] == "draft"
    assert actions(body)[-1] == "reset"
    assert await replica.timers.get(key=f"publish|{cid}") is None
    assert (await read_item(client, cid))["status"] == "draft"


async def test_editing_the_text_of_an_approved_item_sends_it_back_to_draft(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    item = await create_item(client)  # no time and no workflow: submit approves it
    cid = item["id"]
    approved = (await command(client, cid, "submit", WRITER)).json()
    assert approved["status"] == "approved"

    # A new title is not a content change: the approval stands.
    retitled = await client.put(
        f"/v1/content/{cid}",
        json=item_body(title="Spring sale (v2)", version=approved["version"]),
        headers=WRITER,
    )
    assert retitled.status_code == 200, retitled.text
    assert retitled.json()["status"] == "approved"

    edited = await client.put(
        f"/v1/content/{cid}",
        json=item_body(text="Other text", version=retitled.json()["version"]),
        headers=WRITER,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["status"] == "draft"
    assert actions(edited.json())[-1] == "reset"


# --- content: scheduling ----------------------------------------------------------------------


async def test_scheduling_a_draft_that_needs_approval_is_refused(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    await add_promo_workflow(client)
    item = await create_item(client, labels=["promo"])
    response = await command(
        client, item["id"], "schedule", WRITER, json={"at": future(days=1).isoformat()}
    )
    assert response.status_code == 409
    assert code(response) == "approval.required"
    assert (await read_item(client, item["id"]))["status"] == "draft"
    assert await replica.timers.get(key=f"publish|{item['id']}") is None


async def test_scheduling_in_the_past_is_refused(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    item = await create_item(client)
    cid = item["id"]
    assert (await command(client, cid, "submit", WRITER)).json()["status"] == "approved"
    past = datetime.now(UTC) - timedelta(hours=1)
    response = await command(client, cid, "schedule", WRITER, json={"at": past.isoformat()})
    assert response.status_code == 422
    assert code(response) == "content.time_in_past"
    read = await read_item(client, cid)
    assert read["status"] == "approved"
    assert read["publish_at"] is None


async def test_a_wall_clock_time_is_read_in_the_given_zone(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    item = await create_item(client)
    cid = item["id"]
    assert (await command(client, cid, "submit", WRITER)).json()["status"] == "approved"
    year = datetime.now(UTC).year + 2
    scheduled = await command(
        client,
        cid,
        "schedule",
        WRITER,
        json={"at": f"{year}-06-01T12:00:00", "time_zone": "Europe/Moscow"},
    )
    assert scheduled.status_code == 200, scheduled.text
    body = scheduled.json()
    expected = datetime(year, 6, 1, 9, 0, tzinfo=UTC)  # Moscow is UTC+3 all year
    assert body["status"] == "scheduled"
    assert instant(body["publish_at"]) == expected
    assert body["schedule"]["time_zone"] == "Europe/Moscow"
    assert instant(body["schedule"]["at"]) == expected
    stored = await replica.repo.get(cid)
    assert stored is not None
    assert stored["publish_at_ms"] == int(expected.timestamp() * 1000)
    timer = await replica.timers.get(key=f"publish|{cid}")
    assert timer is not None
    assert timer.due_at == expected


async def test_moving_with_a_wall_clock_time_and_no_zone_keeps_the_time_typed(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    year = datetime.now(UTC).year + 2
    item = await create_item(client, at=datetime(year, 5, 1, 7, 0, tzinfo=UTC))  # Moscow
    assert (await command(client, item["id"], "submit", WRITER)).json()["status"] == "scheduled"
    wall = datetime(year, 6, 1, 12, 0)
    moved = await command(client, item["id"], "schedule", WRITER, json={"at": wall.isoformat()})
    assert moved.status_code == 200, moved.text
    schedule = moved.json()["schedule"]
    local = instant(schedule["at"]).astimezone(ZoneInfo(schedule["time_zone"]))
    assert local.replace(tzinfo=None) == wall, schedule


async def test_unschedule_cancel_duplicate_and_retry(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    at = future(days=3)
    item = await create_item(client, at=at)
    cid = item["id"]
    scheduled = await command(client, cid, "submit", WRITER)  # no workflow, timed: scheduled
    assert scheduled.json()["status"] == "scheduled"

    not_failed = await command(client, cid, "retry", WRITER)
    assert not_failed.status_code == 409
    assert code(not_failed) == "content.not_failed"

    unscheduled = await command(client, cid, "unschedule", WRITER)
    assert unscheduled.status_code == 200, unscheduled.text
    assert unscheduled.json()["status"] == "approved"
    assert unscheduled.json()["approval"]["status"] == "approved"
    assert await replica.timers.get(key=f"publish|{cid}") is None
    again = await command(client, cid, "unschedule", WRITER)
    assert again.status_code == 409
    assert code(again) == "content.not_scheduled"

    cancelled = await command(client, cid, "cancel", WRITER)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    revived = await command(client, cid, "schedule", WRITER, json={"at": at.isoformat()})
    assert revived.status_code == 409
    assert code(revived) == "content.not_approved"
    assert (await read_item(client, cid))["status"] == "cancelled"
    assert await replica.timers.get(key=f"publish|{cid}") is None

    copy = await command(client, cid, "duplicate", WRITER)
    assert copy.status_code == 201, copy.text
    body = copy.json()
    assert body["id"] != cid
    assert body["status"] == "draft"
    assert body["duplicated_from"] == cid
    assert body["schedule"] is None
    assert body["targets"] == ["acme-x"]
    assert body["variants"] == item["variants"]
    assert (await read_item(client, body["id"]))["duplicated_from"] == cid

    by_viewer = await command(client, cid, "duplicate", VIEWER)
    assert by_viewer.status_code == 403
    assert code(by_viewer) == "auth.forbidden_role"


# --- calendar -------------------------------------------------------------------------------------


async def test_the_calendar_sorts_and_filters(client: httpx.AsyncClient, replica: Replica) -> None:
    await connect_accounts(replica)
    start = future(hours=1)
    x_spring = await create_item(client, at=start + timedelta(hours=3), title="X spring")
    tg_summer = await create_item(
        client,
        at=start + timedelta(hours=1),
        networks=("telegram",),
        targets=("acme-tg",),
        campaign="summer",
        title="TG summer",
    )
    both = await create_item(
        client,
        at=start + timedelta(hours=2),
        networks=("x", "telegram"),
        targets=("acme-x", "acme-tg"),
        title="Both spring",
    )
    assert (await command(client, both["id"], "submit", WRITER)).json()["status"] == "scheduled"
    await create_item(client, at=start + timedelta(days=40), title="Later")
    await create_item(client, title="No time")
    await create_item(
        client, headers=BOTH, brand=OTHER, targets=(), at=start + timedelta(hours=1), title="Gx"
    )

    async def titles(headers: dict[str, str] = VIEWER, **filters: Any) -> list[str]:
        params = {
            "brand_id": BRAND,
            "from": start.isoformat(),
            "to": (start + timedelta(days=10)).isoformat(),
            **filters,
        }
        response = await client.get("/v1/calendar", params=params, headers=headers)
        assert response.status_code == 200, response.text
        times = [instant(i["publish_at"]) for i in response.json()]
        assert times == sorted(times)
        return [i["title"] for i in response.json()]

    assert await titles() == ["TG summer", "Both spring", "X spring"]
    assert await titles(network="x") == ["Both spring", "X spring"]
    assert await titles(network="telegram") == ["TG summer", "Both spring"]
    assert await titles(account_id="acme-tg") == ["TG summer", "Both spring"]
    assert await titles(account_id="acme-x") == ["Both spring", "X spring"]
    assert await titles(campaign_id="spring") == ["Both spring", "X spring"]
    assert await titles(campaign_id="summer") == ["TG summer"]
    assert await titles(status="scheduled") == ["Both spring"]
    assert await titles(status=["draft", "scheduled"]) == ["TG summer", "Both spring", "X spring"]
    assert await titles(status="draft", network="x") == ["X spring"]
    assert await titles(network="vk") == []
    # A wider window finds the later item; the other brand's never shows.
    wide = await client.get(
        "/v1/calendar",
        params={
            "brand_id": BRAND,
            "from": start.isoformat(),
            "to": (start + timedelta(days=92)).isoformat(),
        },
        headers=VIEWER,
    )
    assert [i["title"] for i in wide.json()] == ["TG summer", "Both spring", "X spring", "Later"]
    assert x_spring["id"] in {i["id"] for i in wide.json()}
    assert tg_summer["id"] in {i["id"] for i in wide.json()}


@pytest.mark.parametrize(
    ("days_from", "days_to"),
    [
        pytest.param(0, 93, id="over-92-days"),
        pytest.param(5, 1, id="reversed"),
        pytest.param(1, 1, id="empty"),
    ],
)
async def test_the_calendar_range_is_checked(
    client: httpx.AsyncClient, days_from: int, days_to: int
) -> None:
    base = datetime(2030, 1, 1, tzinfo=UTC)
    response = await client.get(
        "/v1/calendar",
        params={
            "brand_id": BRAND,
            "from": (base + timedelta(days=days_from)).isoformat(),
            "to": (base + timedelta(days=days_to)).isoformat(),
        },
        headers=VIEWER,
    )
    assert response.status_code == 422
    assert code(response) == "calendar.invalid_range"


async def test_the_calendar_is_per_brand(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/v1/calendar",
        params={"brand_id": OTHER, "from": "2030-01-01T00:00:00Z", "to": "2030-01-02T00:00:00Z"},
        headers=VIEWER,
    )
    assert response.status_code == 403
    assert code(response) == "auth.forbidden_brand"


# --- CSV import -----------------------------------------------------------------------------------

GOOD_CSV = (
    "title,network,text,scheduled_at,time_zone,campaign_id,labels,accounts\n"
    "Launch,x,New cards are here,2031-03-01T09:30,Europe/Moscow,spring,promo,acme-x\n"
    "Launch,telegram,New cards are here (tg),2031-03-01T09:30,Europe/Moscow,spring,promo,acme-tg\n"
    "Tips,x,Three ways to say thanks,,,,,acme-x\n"
)
BAD_ROW_CSV = (
    "title,network,text,accounts\n"
    "Tips,x,Three ways to say thanks,acme-x\n"
    "Oops,myspace,Nobody will read this,acme-x\n"
)


async def import_csv(
    client: httpx.AsyncClient, text: str, *, partial: bool | None = None
) -> httpx.Response:
    """POST the CSV text to the import route as the content manager."""
    params: dict[str, Any] = {"brand_id": BRAND}
    if partial is not None:
        params["partial"] = str(partial).lower()
    return await client.post(
        "/v1/content/import",
        params=params,
        content=text.encode(),
        headers={**WRITER, "content-type": "text/csv"},
    )


async def test_a_good_csv_file_becomes_drafts(client: httpx.AsyncClient, replica: Replica) -> None:
    await connect_accounts(replica)
    response = await import_csv(client, GOOD_CSV)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["errors"] == []
    assert body["stored"] is True
    assert len(body["created"]) == 2

    items = {i["title"]: i for i in [await read_item(client, cid) for cid in body["created"]]}
    assert set(items) == {"Launch", "Tips"}
    launch = items["Launch"]
    assert launch["status"] == "draft"
    assert launch["created_by"] == "cm-olga"
    assert [v["network"] for v in launch["variants"]] == ["telegram", "x"]
    assert launch["targets"] == ["acme-tg", "acme-x"]
    assert launch["labels"] == ["promo"]
    assert launch["campaign_id"] == "spring"
    assert instant(launch["publish_at"]) == datetime(2031, 3, 1, 6, 30, tzinfo=UTC)
    assert items["Tips"]["publish_at"] is None
    assert items["Tips"]["targets"] == ["acme-x"]


async def test_a_csv_file_with_one_bad_row_stores_nothing(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    response = await import_csv(client, BAD_ROW_CSV)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["created"] == []
    assert body["stored"] is False
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "network")]
    assert "myspace" in body["errors"][0]["message"]
    listed = await client.get("/v1/content", params={"brand_id": BRAND}, headers=VIEWER)
    assert listed.json() == []
    assert await replica.repo.content.count_documents({}) == 0


async def test_a_partial_csv_import_stores_the_good_items(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    response = await import_csv(client, BAD_ROW_CSV, partial=True)
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["created"]) == 1
    assert body["stored"] is True
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "network")]
    tips = await read_item(client, body["created"][0])
    assert tips["title"] == "Tips"
    assert tips["status"] == "draft"


async def test_an_unknown_account_in_a_csv_row_is_a_row_problem(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    await connect_accounts(replica)
    text = (
        "title,network,text,accounts\n"
        "Tips,x,Three ways to say thanks,acme-x\n"
        "Ghost,x,Posted from nowhere,acme-fb\n"
    )
    whole = await import_csv(client, text)
    assert whole.status_code == 200, whole.text
    assert whole.json()["stored"] is False
    assert [(e["row"], e["column"]) for e in whole.json()["errors"]] == [(3, "accounts")]

    partial = await import_csv(client, text, partial=True)
    assert partial.status_code == 200, partial.text
    assert len(partial.json()["created"]) == 1
    assert [(e["row"], e["column"]) for e in partial.json()["errors"]] == [(3, "accounts")]
    assert (await read_item(client, partial.json()["created"][0]))["title"] == "Tips"


async def test_a_csv_file_without_required_columns_is_refused(
    client: httpx.AsyncClient, replica: Replica
) -> None:
    response = await import_csv(client, "title,text\nTips,hello\n")
    assert response.status_code == 422
    assert code(response) == "csv.missing_column"
    assert await replica.repo.content.count_documents({}) == 0


# --- publishing through the API -------------------------------------------------------------------


async def test_publish_now_through_the_api(
    client: httpx.AsyncClient, replica: Replica, fake_networks: FakeNetworkServer
) -> None:
    fake_networks.networks.clear()
    created = await client.post(
        "/v1/accounts",
        json=account_body(
            token={"value": f"x-token@{X_USER}"}, api_base_url=f"{fake_networks.url}/x"
        ),
        headers=MANAGER,
    )
    assert created.status_code == 201, created.text
    item = await create_item(client, text="Flash sale today", campaign="flash")
    cid = item["id"]
    approved = await command(client, cid, "submit", WRITER)
    assert approved.json()["status"] == "approved"

    now = await command(client, cid, "schedule", WRITER, json={"now": True})
    assert now.status_code == 200, now.text
    assert now.json()["status"] == "scheduled"

    async def settled() -> dict[str, Any] | None:
        body = await read_item(client, cid)
        return body if body["status"] in ("published", "failed") else None

    loop = replica.loop("api-test")
    await loop.start()
    try:
        done = await eventually(settled, timeout_s=20, what="the item to be published")
    finally:
        await loop.stop()
    assert done["status"] == "published", done["deliveries"]
    summary = done["deliveries"]["acme-x"]
    assert summary["state"] == "published"
    assert summary["network"] == "x"
    assert summary["url"].startswith("https://")
    assert summary["attempts"] == 1

    posts = fake_networks.networks.posts("x")
    assert len(posts) == 1
    assert posts[0].text == "Flash sale today (x)"
    assert posts[0].native_id in summary["url"]

    deliveries = await client.get(
        f"/v1/content/{cid}/deliveries", params={"brand_id": BRAND}, headers=VIEWER
    )
    assert deliveries.status_code == 200, deliveries.text
    [delivery] = deliveries.json()
    assert delivery["id"] == f"{cid}:acme-x"
    assert delivery["account_id"] == "acme-x"
    assert delivery["state"] == "published"
    assert delivery["attempts"] == 1
    assert delivery["url"] == summary["url"]
    assert delivery["native_id"] == posts[0].native_id
    assert [h["what"] for h in delivery["history"]] == ["published"]

    foreign = await client.get(
        f"/v1/content/{cid}/deliveries", params={"brand_id": OTHER}, headers=BOTH
    )
    assert foreign.status_code == 404
    assert code(foreign) == "content.not_found"
    done_retry = await command(client, cid, "retry", WRITER)
    assert done_retry.status_code == 409
    assert code(done_retry) == "content.not_failed"
