"""The services' APIs through the console: the user's identity, one brand, nothing else.

Behind the proxy runs a stand-in service that verifies the bearer token as the real ones
do and echoes what it received; the console runs a real AuthService on nx-27017.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from pymongo import AsyncMongoClient

from smm_console.api.deps import CSRF_HEADER
from smm_console.api.proxy import router as proxy_router
from smm_console.settings import ServiceUrls
from smm_shared.auth import Role, SigningKey, StaticKeySource, TokenVerifier
from smm_shared.config import MongoSettings
from smm_shared.mongo import Document

from .test_auth_api import AUDIENCE, ISSUER, PASSWORD, Env, add_user, code, make_env, sign_in

pytestmark = pytest.mark.integration

KEY = SigningKey.generate()
VERIFIER = TokenVerifier(
    StaticKeySource({KEY.kid: KEY.verification_key()}), issuer=ISSUER, audience=AUDIENCE
)


def upstream() -> FastAPI:
    """A service that checks the token like ours do and says what reached it."""
    app = FastAPI()

    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PATCH", "DELETE"])
    async def echo(rest: str, request: Request) -> Response:
        if rest == "export.csv":
            return Response(
                "slot,count\r\n2026-11-27,3\r\n",
                media_type="text/csv",
                headers={"Content-Disposition": 'attachment; filename="x.csv"'},
            )
        if rest == "forbidden":
            return Response('{"error":{"code":"auth.brand"}}', 403, media_type="application/json")
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        principal = await VERIFIER.verify(bearer)
        body: dict[str, Any] = {
            "method": request.method,
            "path": request.url.path,
            "query": list(request.query_params.multi_items()),
            "body": (await request.body()).decode(),
            "subject": principal.subject,
            "roles": sorted(r.value for r in principal.roles),
            "brands": sorted(principal.brands),
            "cookies": dict(request.cookies),
            "idempotency_key": request.headers.get("idempotency-key"),
            "x_custom": request.headers.get("x-custom"),
        }
        return Response(json.dumps(body), media_type="application/json")

    return app


@pytest.fixture
async def env(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> AsyncIterator[Env]:
    async with AsyncExitStack() as stack:
        made = await make_env(mongo_client, mongo_settings, stack, secure=False)
        app = made.app
        app.include_router(proxy_router)
        app.state.signing_key = KEY
        app.state.service_urls = ServiceUrls(analytics="http://analytics.test/")
        app.state.http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=upstream()))
        )
        yield made


async def agent(env: Env) -> tuple[httpx.AsyncClient, dict[str, str]]:
    await add_user(env, "ann@example.com", [Role.AGENT], ["acme", "globex"])
    browser = await env.browser()
    csrf = await sign_in(browser, "ann@example.com", PASSWORD)
    return browser, {CSRF_HEADER: csrf}


async def test_a_proxied_call_carries_the_user_and_only_the_current_brand(env: Env) -> None:
    browser, csrf = await agent(env)
    got = await browser.get(
        "/api/analytics/v1/metrics/series", params=[("metric", "mentions"), ("f", "a"), ("f", "b")]
    )
    assert got.status_code == 200, got.text
    seen = got.json()
    assert seen["path"] == "/v1/metrics/series"
    assert seen["query"] == [["metric", "mentions"], ["f", "a"], ["f", "b"]]
    assert seen["roles"] == ["agent"]
    assert seen["brands"] == ["acme"]  # the current brand, not every brand of the user
    assert seen["cookies"] == {}  # the session never leaves the console

    switched = await browser.post("/api/auth/brand", json={"brand_id": "globex"}, headers=csrf)
    assert switched.status_code == 200, switched.text
    assert (await browser.get("/api/analytics/v1/x")).json()["brands"] == ["globex"]

    posted = await browser.post(
        "/api/analytics/v1/alerts/a1/acknowledge",
        content=b'{"n":1}',
        headers={
            **csrf,
            "content-type": "application/json",
            "idempotency-key": "reply-0001",
            "x-custom": "stays here",
        },
    )
    assert posted.json()["method"] == "POST"
    assert posted.json()["body"] == '{"n":1}'
    # A double-clicked reply stays one reply: its key goes through; other headers do not.
    assert posted.json()["idempotency_key"] == "reply-0001"
    assert posted.json()["x_custom"] is None


async def test_writes_need_the_csrf_token_and_calls_need_a_session(env: Env) -> None:
    browser, _ = await agent(env)
    forged = await browser.post("/api/analytics/v1/alerts/a1/acknowledge")
    assert forged.status_code == 403
    assert code(forged) == "auth.csrf"
    anonymous = await env.browser()
    denied = await anonymous.get("/api/analytics/v1/metrics/series")
    assert denied.status_code == 401
    assert code(denied) == "auth.required"


async def test_answers_come_back_as_they_are_and_odd_paths_are_refused(env: Env) -> None:
    browser, _ = await agent(env)
    csv = await browser.get("/api/analytics/v1/export.csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["content-disposition"] == 'attachment; filename="x.csv"'
    assert csv.text == "slot,count\r\n2026-11-27,3\r\n"
    refused = await browser.get("/api/analytics/v1/forbidden")
    assert refused.status_code == 403
    assert refused.json() == {"error": {"code": "auth.brand"}}

    unknown = await browser.get("/api/billing/v1/x")
    assert (unknown.status_code, code(unknown)) == (404, "proxy.unknown_service")
    for path in ("/api/analytics/health/live", "/api/analytics/v1/a/%2E%2E/b"):
        odd = await browser.get(path)
        assert odd.status_code == 404, path
