"""The VK Streaming API client: getServerUrl and rules on a mock transport, the stream on a local websocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.utils import accept_key

from smm_ingest.adapters.networks.vk_streaming import parse_stream_message
from smm_ingest.adapters.pollers.vk_streaming import VkStreamingSource
from smm_ingest.domain.items import AccountContext, NewItem
from smm_ingest.domain.polling import (
    PermanentPollError,
    RateLimitedError,
    StalledStreamError,
    StreamBatch,
    TransientPollError,
)
from smm_ingest.services.polling import StreamSource
from smm_shared.events import Network

pytestmark = pytest.mark.integration  # local websocket and TCP servers

PAYLOADS = Path(__file__).parents[2] / "unit" / "ingest" / "payloads" / "vk_streaming"
API = "https://api.vk.test/method"
TOKEN = "service-token"
KEY = "k/ey+1"
RULES = [("бренд", "smm:brand"), ("чайник", "smm:kettle")]
WsHandler = Callable[[ServerConnection], Awaitable[None]]


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return data


class FakeVk:
    """getServerUrl and the rules endpoint, recording every call."""

    def __init__(self, endpoint: str, rules: list[dict[str, str]] | None = None) -> None:
        self.endpoint = endpoint
        self.rules = rules if rules is not None else []
        self.calls: list[tuple[str, str, Any]] = []
        self.server_answer: dict[str, Any] | None = None
        self.rule_answer: tuple[int, dict[str, Any]] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content.startswith(b"{") else None
        self.calls.append((request.method, request.url.path, body))
        if request.url.path.endswith("/streaming.getServerUrl"):
            form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
            assert form == {"access_token": TOKEN, "v": "5.199"}
            answer = self.server_answer or {"response": {"endpoint": self.endpoint, "key": KEY}}
            return httpx.Response(200, json=answer)
        assert request.url.params["key"] == KEY
        if request.method == "GET":
            return httpx.Response(200, json={"code": 200, "rules": self.rules or None})
        if self.rule_answer is not None:
            return httpx.Response(self.rule_answer[0], json=self.rule_answer[1])
        return httpx.Response(200, json={"code": 200})


@asynccontextmanager
async def vk_server(handler: WsHandler) -> AsyncIterator[tuple[str, list[str]]]:
    """A local websocket server; yields its endpoint and the request paths it saw."""
    paths: list[str] = []

    async def record(ws: ServerConnection) -> None:
        assert ws.request is not None
        paths.append(ws.request.path)
        await handler(ws)

    async with serve(record, "127.0.0.1", 0, close_timeout=0.2) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"http://127.0.0.1:{port}", paths


def source(fake: FakeVk, **kwargs: Any) -> VkStreamingSource:
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    return VkStreamingSource(
        http=http, service_token=TOKEN, rules=RULES, api_base_url=API, **kwargs
    )


async def take(src: VkStreamingSource, n: int) -> list[StreamBatch]:
    batches: list[StreamBatch] = []
    stream = src.stream(None)
    async with asyncio.timeout(5):
        async for batch in stream:
            batches.append(batch)
            if len(batches) == n:
                break
    await stream.aclose()  # type: ignore[attr-defined]
    return batches


async def collect(src: VkStreamingSource, got: list[StreamBatch]) -> None:
    async with asyncio.timeout(5):
        async for batch in src.stream(None):
            got.append(batch)


async def forever(ws: ServerConnection) -> None:
    await ws.wait_closed()


def test_it_is_a_stream_source() -> None:
    assert isinstance(source(FakeVk("h")), StreamSource)


async def test_rules_are_synced_and_our_events_yielded_one_per_batch() -> None:
    others_only = load("post_new")
    others_only["event"]["tags"] = ["other-app-rule"]

    async def send(ws: ServerConnection) -> None:
        await ws.send(json.dumps(load("comment_new")))
        await ws.send(json.dumps(load("service_message")))
        await ws.send("not json")
        await ws.send(json.dumps(others_only))
        await ws.send(json.dumps(load("post_new")))
        await ws.wait_closed()

    async with vk_server(send) as (endpoint, paths):
        fake = FakeVk(
            endpoint,
            rules=[
                {"value": "старое", "tag": "smm:old"},
                {"value": "бренд", "tag": "smm:brand"},
                {"value": "чайник старый", "tag": "smm:kettle"},
                {"value": "чужое", "tag": "someone-else"},
            ],
        )
        batches = await take(source(fake), 2)
    assert [b.payloads for b in batches] == [(load("comment_new"),), (load("post_new"),)]
    assert all(b.cursor is None for b in batches)
    assert paths == ["/stream?key=k%2Fey%2B1"]
    assert [(m, p, b) for m, p, b in fake.calls if m != "GET"] == [
        ("POST", "/method/streaming.getServerUrl", None),
        ("DELETE", "/rules", {"tag": "smm:old"}),
        ("DELETE", "/rules", {"tag": "smm:kettle"}),
        ("POST", "/rules", {"rule": {"value": "чайник", "tag": "smm:kettle"}}),
    ]
    parsed = parse_stream_message(batches[0].payloads[0], AccountContext(Network.VK))
    assert isinstance(parsed.items[0], NewItem)


async def test_rules_already_in_place_are_left_alone() -> None:
    async with vk_server(forever) as (endpoint, _):
        fake = FakeVk(endpoint, rules=[{"value": v, "tag": t} for v, t in RULES])
        src = source(fake, stall_timeout_s=2.0, renew_every_s=0.05)
        await take(src, 1)
    assert [m for m, p, _ in fake.calls if p == "/rules"] == ["GET"]


@pytest.mark.parametrize(
    ("code", "error", "wait"),
    [
        (5, PermanentPollError, None),
        (15, PermanentPollError, None),
        (28, PermanentPollError, None),
        (6, RateLimitedError, 1.0),
        (9, RateLimitedError, 60.0),
        (29, RateLimitedError, 60.0),
        (10, TransientPollError, None),
    ],
)
async def test_vk_api_errors_are_mapped(
    code: int, error: type[Exception], wait: float | None
) -> None:
    fake = FakeVk("unused")
    fake.server_answer = {"error": {"error_code": code, "error_msg": "nope"}}
    with pytest.raises(error) as caught:
        await take(source(fake), 1)
    assert type(caught.value) is error
    if wait is not None:
        assert isinstance(caught.value, RateLimitedError)
        assert caught.value.retry_after_s == wait


async def test_a_refused_rule_is_permanent() -> None:
    fake = FakeVk("unused")
    fake.rule_answer = (400, {"code": 400, "error": {"message": "bad rule", "error_code": 2000}})
    with pytest.raises(PermanentPollError, match="bad rule"):
        await take(source(fake), 1)


async def test_an_endpoint_that_is_not_a_host_is_refused() -> None:
    with pytest.raises(TransientPollError, match="not a host"):
        await take(source(FakeVk("evil.test/path?x=")), 1)


async def test_a_quiet_live_stream_yields_empty_batches_to_renew_the_lease() -> None:
    async with vk_server(forever) as (endpoint, _):
        src = source(FakeVk(endpoint), stall_timeout_s=1.0, renew_every_s=0.05)
        batches = await take(src, 2)
    assert [b.payloads for b in batches] == [(), ()]


async def test_silence_without_pongs_is_a_stall() -> None:
    async def deaf(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Completes the handshake, then never reads again, so our ping is never answered.
        request = await reader.readuntil(b"\r\n\r\n")
        key = next(
            line.split(b":", 1)[1].strip()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = accept_key(key.decode()).encode()
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        await writer.drain()
        held.append(writer)

    held: list[asyncio.StreamWriter] = []
    server = await asyncio.start_server(deaf, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    src = source(FakeVk(f"http://127.0.0.1:{port}"), stall_timeout_s=0.3, renew_every_s=10.0)
    try:
        with pytest.raises(StalledStreamError):
            await take(src, 1)
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_the_server_closing_is_transient_after_what_it_sent() -> None:
    got: list[StreamBatch] = []

    async def one_then_close(ws: ServerConnection) -> None:
        await ws.send(json.dumps(load("comment_new")))
        await ws.close()

    async with vk_server(one_then_close) as (endpoint, _):
        src = source(FakeVk(endpoint), stall_timeout_s=5.0)
        with pytest.raises(TransientPollError) as caught:
            await collect(src, got)
    assert not isinstance(caught.value, StalledStreamError)
    assert [b.payloads for b in got] == [(load("comment_new"),)]


async def test_an_error_message_in_the_stream_is_transient() -> None:
    async def error(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"code": 400, "error": {"message": "key expired"}}))
        await ws.wait_closed()

    async with vk_server(error) as (endpoint, _):
        with pytest.raises(TransientPollError, match="key expired"):
            await take(source(FakeVk(endpoint)), 1)


async def test_nobody_listening_is_transient() -> None:
    async with vk_server(forever) as (endpoint, _):
        pass  # closed: the port no longer accepts connections
    with pytest.raises(TransientPollError):
        await take(source(FakeVk(endpoint)), 1)
