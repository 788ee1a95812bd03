"""The FastAPI dependencies, seen from HTTP: status, error code, challenge header."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from smm_shared.auth import (
    ALL_BRANDS,
    BrandScoped,
    CurrentPrincipal,
    FileKeySource,
    Permission,
    Principal,
    Role,
    SigningKey,
    StaticKeySource,
    TokenVerifier,
    ensure_brand,
    issue_token,
    require_permission,
    require_roles,
)
from smm_shared.http import install_error_handlers

pytestmark = pytest.mark.unit

ISSUER, AUDIENCE = "smm-local", "smm-platform"
KEY = SigningKey.generate()

AdminOnly = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
MentionWriter = Annotated[Principal, Depends(require_permission(Permission.MENTIONS_WRITE))]


def build_app(verifier: TokenVerifier | None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    if verifier is not None:
        app.state.token_verifier = verifier

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, Any]:
        return {"sub": principal.subject, "roles": sorted(principal.roles)}

    @app.get("/admin")
    async def admin(principal: AdminOnly) -> dict[str, str]:
        return {"sub": principal.subject}

    @app.post("/mentions/{mention_id}/reply")
    async def reply(mention_id: str, principal: MentionWriter) -> dict[str, str]:
        return {"mention": mention_id, "by": principal.subject}

    @app.get("/brands/{brand_id}/cases")
    async def brand_cases(brand_id: str, principal: BrandScoped) -> dict[str, str]:
        return {"brand": brand_id}

    @app.get("/cases")
    async def cases(brand_id: str, principal: BrandScoped) -> dict[str, str]:
        return {"brand": brand_id}

    @app.get("/cases/{case_id}")
    async def case(case_id: str, principal: CurrentPrincipal) -> dict[str, str]:
        # The brand is only known once the case is loaded: the service-layer check.
        brand_of_case = "globex"
        ensure_brand(principal, brand_of_case)
        return {"case": case_id}

    return app


def http_client(app: FastAPI, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    verifier = TokenVerifier(
        StaticKeySource({KEY.kid: KEY.verification_key()}), issuer=ISSUER, audience=AUDIENCE
    )
    async with http_client(build_app(verifier)) as test_client:
        yield test_client


def bearer(
    *,
    roles: list[Role] | None = None,
    brands: list[str] | None = None,
    key: SigningKey = KEY,
    now: datetime | None = None,
) -> dict[str, str]:
    token = issue_token(
        key=key,
        subject="alice",
        roles=roles or [Role.AGENT],
        brands=brands or ["acme"],
        ttl=timedelta(minutes=5),
        issuer=ISSUER,
        audience=AUDIENCE,
        now=now,
    )
    return {"Authorization": f"Bearer {token}"}


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    return str(body["error"]["code"])


async def test_valid_token_reaches_the_route(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers=bearer(roles=[Role.AGENT, Role.ANALYST]))

    assert response.status_code == 200
    assert response.json() == {"sub": "alice", "roles": ["agent", "analyst"]}


async def test_missing_header_is_401_missing_token_with_challenge(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/me")

    assert response.status_code == 401
    assert error_code(response) == "auth.missing_token"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer a b", "Token abc", "Bearer not-a-jwt"]
)
async def test_malformed_header_is_401_invalid_token(
    client: httpx.AsyncClient, header: str
) -> None:
    response = await client.get("/me", headers={"Authorization": header})

    assert response.status_code == 401
    assert error_code(response) == "auth.invalid_token"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_lowercase_scheme_is_accepted(client: httpx.AsyncClient) -> None:
    token = bearer()["Authorization"].split()[1]

    assert (
        await client.get("/me", headers={"Authorization": f"bearer {token}"})
    ).status_code == 200


async def test_expired_token_is_401_token_expired(client: httpx.AsyncClient) -> None:
    headers = bearer(now=datetime.now(UTC) - timedelta(hours=1))

    response = await client.get("/me", headers=headers)

    assert response.status_code == 401
    assert error_code(response) == "auth.token_expired"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_unknown_key_is_401_unknown_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers=bearer(key=SigningKey.generate()))

    assert response.status_code == 401
    assert error_code(response) == "auth.unknown_key"


async def test_missing_role_is_403_forbidden_role(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin", headers=bearer(roles=[Role.SMM_MANAGER]))

    assert response.status_code == 403
    assert error_code(response) == "auth.forbidden_role"
    assert (await client.get("/admin", headers=bearer(roles=[Role.ADMIN]))).status_code == 200


async def test_permission_follows_the_role_table(client: httpx.AsyncClient) -> None:
    allowed = await client.post("/mentions/m1/reply", headers=bearer(roles=[Role.AGENT]))
    denied = await client.post("/mentions/m1/reply", headers=bearer(roles=[Role.VIEWER]))

    assert allowed.status_code == 200
    assert allowed.json() == {"mention": "m1", "by": "alice"}
    assert denied.status_code == 403
    assert error_code(denied) == "auth.forbidden_role"


async def test_auth_comes_before_the_role_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin")

    assert response.status_code == 401
    assert error_code(response) == "auth.missing_token"


@pytest.mark.parametrize("path", ["/brands/globex/cases", "/cases?brand_id=globex"])
async def test_another_brand_is_403_forbidden_brand(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers=bearer(brands=["acme"]))

    assert response.status_code == 403
    assert error_code(response) == "auth.forbidden_brand"


@pytest.mark.parametrize("path", ["/brands/acme/cases", "/cases?brand_id=acme"])
async def test_own_brand_is_allowed(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers=bearer(brands=["acme"]))

    assert response.status_code == 200
    assert response.json() == {"brand": "acme"}


async def test_admin_wildcard_sees_every_brand(client: httpx.AsyncClient) -> None:
    headers = bearer(roles=[Role.ADMIN], brands=[ALL_BRANDS])

    assert (await client.get("/brands/globex/cases", headers=headers)).status_code == 200
    assert (await client.get("/cases/c1", headers=headers)).status_code == 200


async def test_ensure_brand_in_a_route_is_403(client: httpx.AsyncClient) -> None:
    response = await client.get("/cases/c1", headers=bearer(brands=["acme"]))

    assert response.status_code == 403
    assert error_code(response) == "auth.forbidden_brand"


async def test_openapi_declares_the_bearer_scheme(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    assert schema["components"]["securitySchemes"]["BearerJWT"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert schema["paths"]["/me"]["get"]["security"] == [{"BearerJWT": []}]


async def test_app_without_a_verifier_fails_closed() -> None:
    async with http_client(build_app(None), raise_app_exceptions=False) as test_client:
        response = await test_client.get("/me", headers=bearer())

    assert response.status_code == 500
    assert error_code(response) == "internal"


async def test_missing_jwks_is_503_not_a_blamed_token(tmp_path: Path) -> None:
    verifier = TokenVerifier(
        FileKeySource(tmp_path / "none.json"), issuer=ISSUER, audience=AUDIENCE
    )
    async with http_client(build_app(verifier)) as test_client:
        response = await test_client.get("/me", headers=bearer())

    assert response.status_code == 503
    assert error_code(response) == "auth.keys_unavailable"


def test_require_roles_needs_a_role() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        require_roles()
