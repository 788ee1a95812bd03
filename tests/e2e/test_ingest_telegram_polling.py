"""Telegram getUpdates polling, black box against a fake Bot API server on a real port."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from smm_shared.auth import Role
from smm_shared.localstack import free_port
from smm_shared.testing import eventually

pytestmark = pytest.mark.e2e

BRAND = "brand-poll"


class FakeBotApi:
    """Serves getUpdates from a queue; remembers every offset it was asked for."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.offsets: list[int | None] = []
        self.rate_limit_next = 0
        self.tokens: set[str] = set()
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                token = url.path.split("/")[1].removeprefix("bot")
                query = parse_qs(url.query)
                offset = int(query["offset"][0]) if "offset" in query else None
                with api.lock:
                    api.tokens.add(token)
                    api.offsets.append(offset)
                    if api.rate_limit_next:
                        api.rate_limit_next -= 1
                        body = {
                            "ok": False,
                            "error_code": 429,
                            "description": "Too Many Requests: retry after 1",
                            "parameters": {"retry_after": 1},
                        }
                        return self._send(429, body)
                    pending = [u for u in api.updates if offset is None or u["update_id"] >= offset]
                if not pending:
                    time.sleep(0.2)  # a short long-poll
                self._send(200, {"ok": True, "result": pending})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, update_id: int, text: str, chat_id: int = 4242) -> None:
        with self.lock:
            self.updates.append(
                {
                    "update_id": update_id,
                    "message": {
                        "message_id": update_id,
                        "from": {
                            "id": 31337,
                            "is_bot": False,
                            "first_name": "Ana",
                            "username": "ana_g",
                        },
                        "chat": {"id": chat_id, "type": "private", "first_name": "Ana"},
                        "date": int(time.time()),
                        "text": text,
                    },
                }
            )


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi()
    yield api
    api.server.shutdown()
    api.server.server_close()


async def test_polled_updates_become_mentions_once_and_the_offset_advances(
    api: Callable[..., httpx.AsyncClient], token: Callable[..., str], bot_api: FakeBotApi
) -> None:
    manager = api("ingest", token(roles=(Role.SMM_MANAGER,), brands=(BRAND,)))
    bot_api.add(500, "Hello, my transfer has been pending for two days, can you check?")
    bot_api.add(501, "Thanks, it arrived!")
    bot_api.rate_limit_next = 1  # the first call is told to slow down
    created = await manager.post(
        "/v1/connectors",
        json={
            "brand_id": BRAND,
            "kind": "telegram_poll",
            "name": "bot (polling)",
            "config": {
                "bot_id": "999",
                "api_base_url": f"http://127.0.0.1:{bot_api.port}",
                "poll_timeout_s": 1,
            },
            "secrets": {"bot_token": {"value": "999:SECRET"}},
        },
    )
    assert created.status_code == 201, created.text
    connector = created.json()
    assert connector["webhook_path"] is None

    async def stored() -> list[dict[str, Any]]:
        response = await manager.get(
            "/v1/mentions", params={"brand_id": BRAND, "network": "telegram"}
        )
        items: list[dict[str, Any]] = response.json()["items"]
        return items if len(items) >= 2 else []

    mentions = await eventually(stored, timeout_s=40, interval_s=0.5, what="polled updates stored")
    assert sorted(m["mention"]["native_id"] for m in mentions) == ["4242_500", "4242_501"]
    assert {m["mention"]["language"] for m in mentions} == {"en"}
    assert bot_api.tokens == {"999:SECRET"}

    async def offset_advanced() -> bool:
        return 502 in bot_api.offsets

    await eventually(offset_advanced, timeout_s=20, what="the offset moved past the stored updates")
    # Offsets only ever move forward once the updates are stored.
    seen = [o for o in bot_api.offsets if o is not None]
    assert seen == sorted(seen)

    bot_api.add(502, "One more question about my card")

    async def third() -> bool:
        response = await manager.get(
            "/v1/mentions", params={"brand_id": BRAND, "network": "telegram"}
        )
        return len(response.json()["items"]) == 3

    await eventually(third, timeout_s=20, what="the next update")
    status = (await manager.get(f"/v1/connectors/{connector['id']}")).json()["poll_status"]
    assert status["state"] == "running"
    assert status["items"] >= 3
    assert "last_success_at" in status
