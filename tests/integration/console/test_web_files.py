"""The console serves the built single-page app: files, the index for app routes, headers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from smm_console.api.web import router

pytestmark = pytest.mark.integration


def client(web_dir: Path) -> TestClient:
    app = FastAPI()
    app.state.settings = SimpleNamespace(web_dir=web_dir)
    app.include_router(router)
    return TestClient(app)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path.parent / "secret.txt").write_text("outside the build")
    return tmp_path


def test_app_routes_get_the_index_uncached_with_a_strict_policy(dist: Path) -> None:
    web = client(dist)

    for path in ("/", "/inbox", "/cases/01JCASE", "/settings/users"):
        response = web.get(path)
        assert response.status_code == 200, path
        assert "id=root" in response.text
        assert response.headers["cache-control"] == "no-cache"
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"


def test_hashed_assets_are_cached_for_a_year(dist: Path) -> None:
    response = client(dist).get("/assets/index-abc123.js")

    assert response.status_code == 200
    assert response.text == "console.log(1)"
    assert "immutable" in response.headers["cache-control"]


def test_missing_files_and_escapes_are_404_not_the_index(dist: Path) -> None:
    web = client(dist)

    assert web.get("/assets/gone.js").status_code == 404
    assert web.get("/favicon.ico").status_code == 404
    assert web.get("/api/nothing-here").status_code == 404
    escaped = web.get("/..%2Fsecret.txt")
    assert escaped.status_code == 404
    assert "outside the build" not in escaped.text


def test_an_unbuilt_app_says_how_to_build_it(tmp_path: Path) -> None:
    response = client(tmp_path / "missing").get("/inbox")

    assert response.status_code == 503
    assert "make web" in response.text
