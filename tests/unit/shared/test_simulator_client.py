"""The simulator against a fake ingest (FastAPI over httpx's ASGI transport, no sockets).

The fake speaks the connectors API's shapes and checks each network's authentication with
its own code (an independent HMAC for Meta), so "accepted" here means "correctly signed".
X posts go to a stream server that is never started here (no client reads it); reading it
over a socket is tested in tests/integration/shared/test_simulator_x_stream.py.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from smm_shared.auth import Role, TokenVerifier, ensure_dev_keys
from smm_shared.cli import build_parser
from smm_shared.config import AuthSettings
from smm_shared.simulator.cli import SEED_FILE, local_seed, run_simulate
from smm_shared.simulator.client import (
    CONNECTOR_NAMES,
    X_RULE_TAG,
    SetupError,
    Stats,
    confirm_endpoints,
    derive_secrets,
    ensure_connectors,
    play,
    x_rule,
)
from smm_shared.simulator.payloads import Accounts, ConnectorKind, WebhookSecrets, tweet
from smm_shared.simulator.scenario import Network, Scenario, ScenarioConfig, SimEvent, take
from smm_shared.simulator.x_stream import StreamCounts, XStreamServer

pytestmark = pytest.mark.unit

BRAND = "demo"
TOKEN = "test-token"
ACCOUNTS = Accounts()
SECRETS = derive_secrets(b"\x01" * 32, BRAND)


def error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": code}}, status)


@dataclass
class FakeIngest:
    """Ingest's HTTP surface, in memory: connectors CRUD and the three webhook endpoints."""

    connectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    deliveries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def calls(self, method: str, prefix: str) -> int:
        return sum(1 for m, p in self.requests if m == method and p.startswith(prefix))

    def out(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {
            **doc,
            "secrets": {name: {"source": "encrypted"} for name in self.secrets[doc["id"]]},
            "missing_secrets": [],
            # As ingest answers: kinds that read the network have no webhook.
            "webhook_path": None
            if doc["kind"] == "x_stream"
            else f"/v1/webhooks/{doc['kind']}/{doc['id']}",
        }

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def record(request: Request, call_next: Any) -> Response:
            self.requests.append((request.method, request.url.path))
            response: Response = await call_next(request)
            return response

        def authorised(request: Request) -> bool:
            header = request.headers.get("Authorization", "")
            self.tokens.append(header.removeprefix("Bearer "))
            return header.startswith("Bearer ")

        @app.get("/v1/connectors")
        async def list_connectors(request: Request, brand_id: str) -> Response:
            if not authorised(request):
                return error(401, "auth.missing_token")
            docs = [self.out(d) for d in self.connectors.values() if d["brand_id"] == brand_id]
            return JSONResponse(docs)

        @app.post("/v1/connectors")
        async def create(request: Request) -> Response:
            if not authorised(request):
                return error(401, "auth.missing_token")
            body = await request.json()
            connector_id = f"c{len(self.connectors) + 1}"
            self.secrets[connector_id] = {k: v["value"] for k, v in body["secrets"].items()}
            self.connectors[connector_id] = {
                "id": connector_id,
                "brand_id": body["brand_id"],
                "kind": body["kind"],
                "name": body["name"],
                "config": body["config"],
                "enabled": body.get("enabled", True),
            }
            return JSONResponse(self.out(self.connectors[connector_id]), 201)

        @app.patch("/v1/connectors/{connector_id}")
        async def update(connector_id: str, request: Request) -> Response:
            if not authorised(request):
                return error(401, "auth.missing_token")
            body = await request.json()
            doc = self.connectors[connector_id]
            doc.update({k: body[k] for k in ("config", "enabled", "name") if k in body})
            self.secrets[connector_id].update({k: v["value"] for k, v in body["secrets"].items()})
            return JSONResponse(self.out(doc))

        @app.post("/v1/webhooks/vk/{connector_id}")
        async def vk(connector_id: str, request: Request) -> Response:
            payload = json.loads(await request.body())
            config = self.connectors[connector_id]["config"]
            if payload["type"] == "confirmation":
                assert payload["group_id"] == config["group_id"]
                return PlainTextResponse(config["confirmation"])
            if payload.get("secret") != self.secrets[connector_id]["secret"]:
                return error(403, "webhook.bad_secret")
            self.deliveries.append(("vk", payload))
            return PlainTextResponse("ok")

        @app.get("/v1/webhooks/meta/{connector_id}")
        async def meta_check(connector_id: str, request: Request) -> Response:
            query = request.query_params
            if query.get("hub.verify_token") != self.secrets[connector_id]["verify_token"]:
                return error(403, "webhook.bad_verify_token")
            return PlainTextResponse(query["hub.challenge"])

        @app.post("/v1/webhooks/meta/{connector_id}")
        async def meta(connector_id: str, request: Request) -> Response:
            body = await request.body()
            key = self.secrets[connector_id]["app_secret"].encode()
            expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
            if request.headers.get("X-Hub-Signature-256") != expected:
                return error(401, "webhook.bad_signature")
            self.deliveries.append(("meta", json.loads(body)))
            return PlainTextResponse("EVENT_RECEIVED")

        @app.post("/v1/webhooks/telegram/{connector_id}")
        async def tg(connector_id: str, request: Request) -> Response:
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
            if given != self.secrets[connector_id]["secret_token"]:
                return error(401, "webhook.bad_secret")
            self.deliveries.append(("telegram", json.loads(await request.body())))
            return JSONResponse({"ok": True})

        return app


class VirtualClock:
    """Time that passes only when the sender sleeps: the schedule without the wait."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


def client(fake: FakeIngest) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url="http://ingest.test", transport=httpx.ASGITransport(app=fake.app())
    )


def events(count: int, seed: int = 1, *, play_x: bool = False) -> list[SimEvent]:
    config = ScenarioConfig(seed=seed, rate=5, burst_at=2, burst_for=5, play_x=play_x)
    return list(take(Scenario(config).events(), count=count))


async def one_run(
    fake: FakeIngest, batch: list[SimEvent], secrets: WebhookSecrets = SECRETS
) -> tuple[dict[ConnectorKind, Any], Stats]:
    async with client(fake) as http:
        endpoints = await ensure_connectors(
            http, brand=BRAND, token=TOKEN, accounts=ACCOUNTS, secrets=secrets
        )
        await confirm_endpoints(http, endpoints, accounts=ACCOUNTS, secrets=secrets)
        stats = await play(
            http,
            batch,
            endpoints=endpoints,
            accounts=ACCOUNTS,
            secrets=secrets,
            epoch=1_764_000_000.0,
            clock=VirtualClock(),
        )
    return endpoints, stats


async def test_connectors_are_created_once_and_reused() -> None:
    fake = FakeIngest()

    first, stats_one = await one_run(fake, events(60))
    second, stats_two = await one_run(fake, events(60, seed=2))

    assert fake.calls("POST", "/v1/connectors") == 3
    assert fake.calls("PATCH", "/v1/connectors/") == 3
    assert fake.calls("GET", "/v1/connectors") == 2
    assert {k: e.connector_id for k, e in first.items()} == {
        k: e.connector_id for k, e in second.items()
    }
    assert all(e.created for e in first.values())
    assert not any(e.created for e in second.values())
    webhooks = [n for k, n in CONNECTOR_NAMES.items() if k is not ConnectorKind.X_STREAM]
    assert sorted(d["name"] for d in fake.connectors.values()) == sorted(webhooks)
    assert {d["kind"] for d in fake.connectors.values()} == {"vk", "meta", "telegram"}
    assert stats_one.ok
    assert stats_two.ok
    assert set(fake.tokens) == {TOKEN}


async def test_connectors_are_configured_with_our_accounts() -> None:
    fake = FakeIngest()

    await one_run(fake, [])

    configs = {d["kind"]: d["config"] for d in fake.connectors.values()}
    assert configs == {
        "vk": {"group_id": ACCOUNTS.vk_group_id, "confirmation": ACCOUNTS.vk_confirmation},
        "meta": {
            "page_ids": [ACCOUNTS.facebook_page_id],
            "instagram_account_ids": [ACCOUNTS.instagram_account_id],
        },
        "telegram": {
            "bot_id": str(ACCOUNTS.telegram_bot_id),
            "bot_username": ACCOUNTS.telegram_bot_username,
        },
    }
    assert sorted(sorted(s) for s in fake.secrets.values()) == [
        ["app_secret", "verify_token"],
        ["secret"],
        ["secret_token"],
    ]


async def test_handshakes_come_first_and_every_delivery_is_signed() -> None:
    fake = FakeIngest()
    batch = events(120)

    _, stats = await one_run(fake, batch)

    vk_path = next(p for m, p in fake.requests if p.startswith("/v1/webhooks/vk/"))
    assert fake.requests.index(("POST", vk_path)) < fake.requests.index(
        next(r for r in fake.requests if r[0] == "GET" and r[1].startswith("/v1/webhooks/meta/"))
    )
    assert fake.calls("GET", "/v1/webhooks/meta/") == 1
    # Every event was delivered once and passed the fake's own secret and signature checks.
    assert len(fake.deliveries) == len(batch)
    assert sum(stats.sent.values()) == sum(stats.accepted.values()) == len(batch)
    assert stats.refused == {}
    assert stats.failed == {}
    assert {kind for kind, _ in fake.deliveries} == {"vk", "meta", "telegram"}
    assert len(stats.latencies_ms) == len(batch)
    assert stats.percentile(50) is not None


async def test_rotated_secrets_let_a_reused_connector_verify_again() -> None:
    fake = FakeIngest()
    await one_run(fake, events(10))

    other = derive_secrets(b"\x02" * 32, BRAND)  # e.g. the local seed file was deleted
    _, stats = await one_run(fake, events(60), secrets=other)

    assert fake.calls("POST", "/v1/connectors") == 3
    assert stats.ok


async def test_the_x_connector_points_at_this_runs_stream_and_is_reused() -> None:
    fake = FakeIngest()
    async with client(fake) as http:
        first = await ensure_connectors(
            http,
            brand=BRAND,
            token=TOKEN,
            accounts=ACCOUNTS,
            secrets=SECRETS,
            x_stream_url="http://127.0.0.1:41001",
        )
        second = await ensure_connectors(
            http,
            brand=BRAND,
            token=TOKEN,
            accounts=ACCOUNTS,
            secrets=SECRETS,
            x_stream_url="http://127.0.0.1:41002",  # the next run's port
        )

    x_first, x_second = first[ConnectorKind.X_STREAM], second[ConnectorKind.X_STREAM]
    assert (x_first.created, x_second.created) == (True, False)
    assert x_first.connector_id == x_second.connector_id
    assert x_first.path is None  # ingest reads the stream; nothing is posted to it
    doc = fake.connectors[x_first.connector_id]
    assert (doc["kind"], doc["name"]) == ("x_stream", "Simulated X stream")
    assert doc["config"] == {
        "user_id": ACCOUNTS.x_user_id,
        "api_base_url": "http://127.0.0.1:41002",
        "rules": [{"value": "@DemoBank OR DemoBank", "tag": X_RULE_TAG}],
    }
    assert x_rule(ACCOUNTS) == "@DemoBank OR DemoBank"
    assert fake.secrets[x_first.connector_id] == {"bearer_token": SECRETS.x_bearer_token}
    assert fake.calls("POST", "/v1/connectors") == 4


async def test_x_posts_go_to_the_stream_and_wait_there_without_a_reader() -> None:
    fake = FakeIngest()
    batch = events(150, play_x=True)
    on_x = [e for e in batch if e.network is Network.X]
    assert on_x
    stream = XStreamServer(bearer_token=SECRETS.x_bearer_token)  # not started: nobody reads

    endpoints, _ = await one_run(fake, [])
    async with client(fake) as http:
        stats = await play(
            http,
            batch,
            endpoints=endpoints,
            accounts=ACCOUNTS,
            secrets=SECRETS,
            epoch=0.0,
            clock=VirtualClock(),
            stream=stream,
            stream_grace_s=0.0,
        )

    # Webhooks for the other networks, all accepted; X posts only on the stream.
    assert len(fake.deliveries) == len(batch) - len(on_x)
    assert stats.sent[Network.X] == len(on_x) == stream.counts.published
    assert sum(stats.accepted.values()) == len(batch) - len(on_x)
    assert stream.counts.waiting == len(on_x)
    assert stream.counts.delivered == 0
    assert stats.finished
    assert not stats.ok  # X posts nobody read are not delivered
    line = stats.summary(stats.elapsed_s)
    assert f"x {len(on_x)})" in line
    assert f"x stream 0 read, {len(on_x)} not delivered; ingest has not connected to it" in line


async def test_an_x_event_without_a_stream_is_a_mistake() -> None:
    fake = FakeIngest()
    endpoints, _ = await one_run(fake, [])
    async with client(fake) as http:
        with pytest.raises(ValueError, match="needs the stream"):
            await play(
                http,
                events(150, play_x=True),
                endpoints=endpoints,
                accounts=ACCOUNTS,
                secrets=SECRETS,
                epoch=0.0,
                clock=VirtualClock(),
            )


def test_a_full_stream_queue_drops_its_oldest_posts() -> None:
    stream = XStreamServer(bearer_token="t", queue_limit=3)
    posts = [
        tweet(e, accounts=ACCOUNTS, epoch=0.0)
        for e in events(200, play_x=True)
        if e.network is Network.X
    ]
    assert len(posts) > 5

    for post in posts:
        stream.publish(post)

    assert stream.counts.published == len(posts)
    assert stream.counts.waiting == 3
    assert stream.counts.dropped == len(posts) - 3
    assert stream.counts.undelivered == len(posts)


def test_the_summary_line_tells_what_the_x_stream_did() -> None:
    counts = StreamCounts(published=9, delivered=5, waiting=4, connected=True, connections=1)
    stats = Stats(stream=counts)
    stats.sent.update({Network.X: 9, Network.VK: 1})
    stats.accepted.update({Network.VK: 1})

    assert " · accepted 6 · refused 0 · x stream 5 read, 4 waiting · " in stats.summary(1.0)
    counts.connected = False
    assert "x stream 5 read, 4 waiting; ingest is not connected now · " in stats.summary(1.0)
    counts.waiting, counts.dropped, counts.unmatched = 0, 3, 1
    stats.finished = True
    assert (
        "x stream 5 read, 4 not delivered (3 dropped from the full queue, 1 matched no rule) · "
        in stats.summary(1.0)
    )
    assert not stats.ok
    counts.delivered, counts.dropped, counts.unmatched = 9, 0, 0
    assert "x stream 9 read · " in stats.summary(1.0)
    assert stats.ok


async def test_refusals_are_counted_with_their_codes() -> None:
    fake = FakeIngest()
    batch = events(80)
    async with client(fake) as http:
        endpoints = await ensure_connectors(
            http, brand=BRAND, token=TOKEN, accounts=ACCOUNTS, secrets=SECRETS
        )
        telegram_id = endpoints[ConnectorKind.TELEGRAM].connector_id
        fake.secrets[telegram_id]["secret_token"] = "changed-on-the-server"
        stats = await play(
            http,
            batch,
            endpoints=endpoints,
            accounts=ACCOUNTS,
            secrets=SECRETS,
            epoch=0.0,
            clock=VirtualClock(),
        )

    telegram = sum(1 for e in batch if e.network is Network.TELEGRAM)
    assert telegram > 0
    assert stats.refused == {"401 webhook.bad_secret": telegram}
    assert stats.accepted[Network.TELEGRAM] == 0
    assert not stats.ok
    assert f"refused {telegram} (401 webhook.bad_secret ×{telegram})" in stats.summary(1.0)


async def test_a_wrong_vk_confirmation_stops_the_setup() -> None:
    fake = FakeIngest()
    async with client(fake) as http:
        endpoints = await ensure_connectors(
            http, brand=BRAND, token=TOKEN, accounts=ACCOUNTS, secrets=SECRETS
        )
        fake.connectors[endpoints[ConnectorKind.VK].connector_id]["config"]["confirmation"] = "x"

        with pytest.raises(SetupError, match="VK confirmation"):
            await confirm_endpoints(http, endpoints, accounts=ACCOUNTS, secrets=SECRETS)


async def test_an_unreachable_ingest_is_a_setup_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(
        base_url="http://ingest.test", transport=httpx.MockTransport(refuse)
    ) as http:
        with pytest.raises(SetupError, match="cannot reach ingest"):
            await ensure_connectors(
                http, brand=BRAND, token=TOKEN, accounts=ACCOUNTS, secrets=SECRETS
            )


async def test_a_forbidden_token_is_a_setup_error_with_the_code() -> None:
    def forbid(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": {"code": "auth.forbidden_brand"}})

    async with httpx.AsyncClient(
        base_url="http://ingest.test", transport=httpx.MockTransport(forbid)
    ) as http:
        with pytest.raises(SetupError, match=r"HTTP 403 auth\.forbidden_brand"):
            await ensure_connectors(
                http, brand=BRAND, token=TOKEN, accounts=ACCOUNTS, secrets=SECRETS
            )


async def test_play_follows_the_schedule_and_reports_every_ten_seconds() -> None:
    fake = FakeIngest()
    clock = VirtualClock()
    batch = list(take(Scenario(ScenarioConfig(seed=3, rate=2, play_x=False)).events(), duration=45))
    sent_at: list[float] = []
    reports: list[float] = []
    app = fake.app()

    async def timed(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and "/webhooks/" in scope["path"]:
            sent_at.append(clock.now())
        await app(scope, receive, send)

    async with httpx.AsyncClient(
        base_url="http://ingest.test", transport=httpx.ASGITransport(app=timed)
    ) as http:
        endpoints = await ensure_connectors(
            http, brand=BRAND, token=TOKEN, accounts=ACCOUNTS, secrets=SECRETS
        )
        stats = await play(
            http,
            batch,
            endpoints=endpoints,
            accounts=ACCOUNTS,
            secrets=SECRETS,
            epoch=0.0,
            clock=clock,
            report=lambda _, t: reports.append(t),
        )

    # Each request leaves at its time: not before it is due, and before the next one is due
    # (the virtual clock only moves while the sender waits for the next event).
    due = [e.at for e in batch]
    assert len(sent_at) == len(due)
    for i, arrived in enumerate(sent_at):
        assert due[i] - 1e-9 <= arrived <= (due[i + 1] if i + 1 < len(due) else due[i]) + 1e-9
    assert reports == pytest.approx([10.0, 20.0, 30.0, 40.0])
    assert stats.elapsed_s == pytest.approx(batch[-1].at)
    assert stats.max_lag_s < 1e-6


async def test_stop_ends_the_run_after_in_flight_deliveries() -> None:
    fake = FakeIngest()
    stop = asyncio.Event()
    app = fake.app()

    async def stopping(scope: Any, receive: Any, send: Any) -> None:
        await app(scope, receive, send)
        if len(fake.deliveries) >= 5:
            stop.set()

    batch = events(200)
    async with httpx.AsyncClient(
        base_url="http://ingest.test", transport=httpx.ASGITransport(app=stopping)
    ) as http:
        endpoints = await ensure_connectors(
            http, brand=BRAND, token=TOKEN, accounts=ACCOUNTS, secrets=SECRETS
        )
        stats = await play(
            http,
            batch,
            endpoints=endpoints,
            accounts=ACCOUNTS,
            secrets=SECRETS,
            epoch=0.0,
            clock=VirtualClock(),
            stop=stop,
        )

    assert 5 <= sum(stats.sent.values()) < len(batch)
    assert sum(stats.accepted.values()) == sum(stats.sent.values()) == len(fake.deliveries)


def test_the_summary_line() -> None:
    stats = Stats()
    stats.sent.update({Network.VK: 3, Network.TELEGRAM: 1})
    stats.accepted.update({Network.VK: 3})
    stats.refused["401 webhook.bad_secret"] += 1
    stats.latencies_ms.extend([5.0, 7.0, 9.0, 40.0])

    line = stats.summary(2.0)

    assert line == (
        "[   2.0s] sent 4 (2.0/s: vk 3, facebook 0, instagram 0, telegram 1, x 0)"
        " · accepted 3 · refused 1 (401 webhook.bad_secret ×1) · ack p50 7.0 ms, p99 40.0 ms"
    )
    assert "\n" not in line


def test_secrets_derive_from_the_local_seed(tmp_path: Path) -> None:
    seed = local_seed(tmp_path / "keys")

    assert local_seed(tmp_path / "keys") == seed
    assert len(seed) == 32
    mode = (tmp_path / "keys" / SEED_FILE).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert derive_secrets(seed, "demo") == derive_secrets(seed, "demo")
    assert derive_secrets(seed, "demo") != derive_secrets(seed, "other")
    values = derive_secrets(seed, "demo")
    all_five = [
        values.vk_secret,
        values.meta_app_secret,
        values.meta_verify_token,
        values.telegram_secret_token,
        values.x_bearer_token,
    ]
    assert len(set(all_five)) == 5
    assert all(len(v) == 48 and v.isalnum() for v in all_five)
    assert values.vk_secret not in repr(values)
    assert values.x_bearer_token not in repr(values)


# --- the command ---------------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["simulate", *argv])


def test_simulate_is_registered_on_the_smm_command() -> None:
    args = parse("--rate", "5", "--count", "10", "--brand", "acme")

    assert args.func is run_simulate
    assert (args.rate, args.count, args.duration, args.brand) == (5.0, 10, None, "acme")
    assert (args.no_stream, args.stream_grace) == (False, 10.0)
    assert (parse("--no-stream").no_stream, parse("--stream-grace", "0").stream_grace) == (True, 0)
    with pytest.raises(SystemExit):
        parse("--stream-grace", "-1")
    with pytest.raises(SystemExit):
        parse("--count", "10", "--duration", "5")
    with pytest.raises(SystemExit):
        parse("--rate", "0")


def test_the_command_plays_into_ingest_and_reuses_connectors(tmp_path: Path) -> None:
    ensure_dev_keys(tmp_path / "keys")
    fake = FakeIngest()
    transport = httpx.ASGITransport(app=fake.app())
    lines: list[str] = []
    # --no-stream: X is read off a socket (tests/integration/shared/test_simulator_x_stream.py).
    argv = (
        "--data-dir",
        str(tmp_path),
        "--count",
        "40",
        "--rate",
        "2000",
        "--seed",
        "5",
        "--no-stream",
    )

    first = run_simulate(parse(*argv), transport=transport, out=lines.append)
    second = run_simulate(parse(*argv), transport=transport, out=lines.append)

    assert (first, second) == (0, 0)
    assert fake.calls("POST", "/v1/connectors") == 3
    assert len(fake.deliveries) == 80
    assert "vk created, meta created, telegram created" in lines[1]
    assert "vk reused, meta reused, telegram reused" in "\n".join(lines[3:])
    done = [line for line in lines if line.startswith("Done: ")]
    assert len(done) == 2
    assert all("sent 40 " in line and "accepted 40" in line for line in done)
    # The token was signed with the stack's dev key for the brand, as an SMM manager.
    verifier = TokenVerifier.from_settings(AuthSettings(jwks_file=tmp_path / "keys" / "jwks.json"))
    principal = asyncio.run(verifier.verify(fake.tokens[0]))
    assert principal.roles == frozenset({Role.SMM_MANAGER})
    assert principal.brands == frozenset({"demo"})


def test_quiet_prints_only_the_final_summary(tmp_path: Path) -> None:
    ensure_dev_keys(tmp_path / "keys")
    lines: list[str] = []

    code = run_simulate(
        parse(
            "--data-dir", str(tmp_path), "--count", "5", "--rate", "1000", "--quiet", "--no-stream"
        ),
        transport=httpx.ASGITransport(app=FakeIngest().app()),
        out=lines.append,
    )

    assert code == 0
    assert len(lines) == 1
    assert lines[0].startswith("Done: ")


def test_without_a_signing_key_the_command_explains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_simulate(
        parse("--data-dir", str(tmp_path), "--count", "5"),
        transport=httpx.ASGITransport(app=FakeIngest().app()),
        out=lambda _: None,
    )

    assert code == 2
    assert "no signing key" in capsys.readouterr().err
