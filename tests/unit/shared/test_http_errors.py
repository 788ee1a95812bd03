"""The one error shape of every API: ApiError, validation, routing and unexpected errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Query

from smm_shared.http import ApiError, error_body, install_error_handlers

pytestmark = pytest.mark.unit


def build_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/conflict")
    async def conflict() -> None:
        raise ApiError(409, "case.version_conflict", "The case changed", details={"version": 7})

    @app.get("/limited")
    async def limited() -> None:
        raise ApiError(429, "rate.limited", "Slow down", headers={"Retry-After": "3"})

    @app.get("/items")
    async def items(limit: int = Query(ge=1, le=100)) -> dict[str, int]:
        return {"limit": limit}

    @app.post("/only-post")
    async def only_post() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418, "short and stout")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("db password is hunter2")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: Starlette re-raises after the 500 handler ran; we want the
    # response the caller sees.
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_api_error_keeps_status_code_message_and_details(client: httpx.AsyncClient) -> None:
    response = await client.get("/conflict")

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "case.version_conflict",
            "message": "The case changed",
            "details": {"version": 7},
        }
    }


async def test_api_error_without_details_omits_the_key_and_sends_its_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/limited")

    assert response.status_code == 429
    assert response.json() == {"error": {"code": "rate.limited", "message": "Slow down"}}
    assert response.headers["retry-after"] == "3"


async def test_invalid_query_is_422_with_details_per_field(client: httpx.AsyncClient) -> None:
    response = await client.get("/items", params={"limit": "0"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "request.invalid"
    assert error["message"]
    [detail] = error["details"]
    assert detail["loc"] == ["query", "limit"]
    assert detail["type"] == "greater_than_equal"
    assert detail["msg"]


async def test_missing_query_parameter_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/items")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "request.invalid"
    assert [d["type"] for d in error["details"]] == ["missing"]


async def test_valid_query_passes_through(client: httpx.AsyncClient) -> None:
    response = await client.get("/items", params={"limit": "10"})

    assert response.status_code == 200
    assert response.json() == {"limit": 10}


async def test_unknown_route_is_404_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found"}}


async def test_wrong_method_is_405_method_not_allowed(client: httpx.AsyncClient) -> None:
    response = await client.get("/only-post")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == "POST"


async def test_other_http_exceptions_get_a_status_based_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/teapot")

    assert response.status_code == 418
    assert response.json() == {"error": {"code": "http.418", "message": "short and stout"}}


async def test_unexpected_error_is_500_internal_without_the_cause(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("ERROR", logger="smm_shared.http"):
        response = await client.get("/boom")

    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal", "message": "Internal error; it has been logged"}
    }
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    # The cause goes to the log instead.
    [record] = [r for r in caplog.records if r.name == "smm_shared.http"]
    assert record.exc_info is not None
    assert "hunter2" in str(record.exc_info[1])


def test_error_body_shape() -> None:
    assert error_body("x.y", "m") == {"error": {"code": "x.y", "message": "m"}}
    assert error_body("x.y", "m", []) == {"error": {"code": "x.y", "message": "m", "details": []}}
