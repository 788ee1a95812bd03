"""The simulated X API on a real local port: bearer auth, rules, the stream, keep-alives, and
ingest's own X filtered-stream client reading it (tests may import services)."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from smm_ingest.adapters.networks.x import parse_tweet_envelope
from smm_ingest.adapters.pollers.x import EXPANSIONS, TWEET_FIELDS, USER_FIELDS, XFilteredStream
from smm_ingest.domain.items import AccountContext, NewItem
from smm_ingest.domain.mentions import MentionDraft
from smm_shared.auth import ensure_dev_keys
from smm_shared.cli import build_parser
from smm_shared.events import Network as ContractNetwork
from smm_shared.simulator.cli import run_simulate
from smm_shared.simulator.payloads import Accounts, Tweet, tweet
from smm_shared.simulator.scenario import Network, Scenario, ScenarioConfig, take
from smm_shared.simulator.x_stream import RULES_PATH, STREAM_PATH, XStreamServer

pytestmark = pytest.mark.integration  # a local TCP server

TOKEN = "x-bearer-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ACCOUNTS = Accounts()
INGEST_QUERY = {"expansions": EXPANSIONS, "tweet.fields": TWEET_FIELDS, "user.fields": USER_FIELDS}


def posts(count: int, seed: int = 4) -> list[Tweet]:
    config = ScenarioConfig(seed=seed, rate=10)
    found = [
        tweet(e, accounts=ACCOUNTS, epoch=1_764_000_000.0)
        for e in take(Scenario(config).events(), count=count * 30)
        if e.network is Network.X
    ]
    assert len(found) >= count
    return found[:count]


@pytest.fixture
async def server() -> AsyncIterator[XStreamServer]:
    async with XStreamServer(bearer_token=TOKEN, keep_alive_s=0.2) as running:
        yield running


@pytest.fixture
async def http(server: XStreamServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=5.0) as client:
        yield client


async def add(http: httpx.AsyncClient, *rules: tuple[str, str]) -> httpx.Response:
    body = {"add": [{"value": value, "tag": tag} for value, tag in rules]}
    return await http.post(RULES_PATH, json=body, headers=AUTH)


async def lines(response: httpx.Response, count: int) -> list[dict[str, Any]]:
    """The next ``count`` posts off an open stream (keep-alives skipped), within 5 s."""
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(5):
        async for line in response.aiter_lines():
            if line.strip():
                found.append(json.loads(line))
                if len(found) == count:
                    break
    return found


# --- auth and rules ------------------------------------------------------------------------------


async def test_every_endpoint_wants_the_bearer_token(
    server: XStreamServer, http: httpx.AsyncClient
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        listed = await http.get(RULES_PATH, headers=headers)
        added = await http.post(RULES_PATH, json={"add": [{"value": "a"}]}, headers=headers)
        streamed = await http.get(STREAM_PATH, headers=headers)
        for response in (listed, added, streamed):
            assert response.status_code == 401
            assert response.json()["title"] == "Unauthorized"
    assert server.rules == []
    assert server.counts.connections == 0
    assert (await http.get(RULES_PATH, headers=AUTH)).status_code == 200
    assert (await http.get("/2/tweets/search/recent", headers=AUTH)).status_code == 404


async def test_rules_are_added_listed_and_deleted_as_x_does(
    server: XStreamServer, http: httpx.AsyncClient
) -> None:
    empty = await http.get(RULES_PATH, headers=AUTH)
    assert empty.json()["meta"]["result_count"] == 0
    assert "data" not in empty.json()

    created = await add(http, ("@DemoBank OR DemoBank", "smm:brand"), ("#DemoPay", "smm:trend"))
    assert created.status_code == 201
    body = created.json()
    assert body["meta"]["summary"] == {"created": 2, "not_created": 0, "valid": 2, "invalid": 0}
    brand_id, trend_id = (rule["id"] for rule in body["data"])
    assert brand_id.isdigit()
    assert len(brand_id) == 19
    assert body["data"][0] == {"id": brand_id, "value": "@DemoBank OR DemoBank", "tag": "smm:brand"}

    again = await add(http, ("#DemoPay", "other"), ("card lang:en", "smm:card"))
    assert again.status_code == 201
    assert again.json()["meta"]["summary"]["created"] == 1
    (duplicate,) = again.json()["errors"]
    assert (duplicate["title"], duplicate["id"]) == ("DuplicateRule", trend_id)

    # One invalid rule: a 400, and nothing of the request is created.
    refused = await add(http, ("fine", "smm:a"), ("colour:red", "smm:b"))
    assert refused.status_code == 400
    assert refused.json()["meta"]["summary"]["created"] == 0
    assert "invalid operator" in refused.json()["errors"][0]["details"][0]
    dry = await http.post(
        RULES_PATH, params={"dry_run": "true"}, json={"add": [{"value": "x"}]}, headers=AUTH
    )
    assert dry.json()["meta"]["summary"]["created"] == 1
    assert [r.value for r in server.rules] == ["@DemoBank OR DemoBank", "#DemoPay", "card lang:en"]

    first = await http.get(RULES_PATH, params={"max_results": 2}, headers=AUTH)
    token = first.json()["meta"]["next_token"]
    rest = await http.get(
        RULES_PATH, params={"max_results": 2, "pagination_token": token}, headers=AUTH
    )
    assert [r["value"] for r in first.json()["data"] + rest.json()["data"]] == [
        r.value for r in server.rules
    ]
    assert "next_token" not in rest.json()["meta"]
    by_id = await http.get(RULES_PATH, params={"ids": trend_id}, headers=AUTH)
    assert [r["value"] for r in by_id.json()["data"]] == ["#DemoPay"]

    deleted = await http.post(RULES_PATH, json={"delete": {"ids": [brand_id, "1"]}}, headers=AUTH)
    assert deleted.status_code == 200
    assert deleted.json()["meta"]["summary"] == {"deleted": 1, "not_deleted": 1}
    by_value = await http.post(RULES_PATH, json={"delete": {"values": ["#DemoPay"]}}, headers=AUTH)
    assert by_value.json()["meta"]["summary"] == {"deleted": 1, "not_deleted": 0}
    assert [r.value for r in server.rules] == ["card lang:en"]

    bad_bodies: list[object] = [
        {"add": [], "delete": {"ids": ["1"]}},
        {"add": []},
        {"delete": {}},
        [1],
    ]
    for bad in bad_bodies:
        assert (await http.post(RULES_PATH, json=bad, headers=AUTH)).status_code == 400
    not_json = await http.post(RULES_PATH, content=b"{", headers=AUTH)
    assert not_json.status_code == 400


# --- the stream ----------------------------------------------------------------------------------


async def test_the_stream_carries_matching_posts_with_the_fields_asked_for(
    server: XStreamServer, http: httpx.AsyncClient
) -> None:
    rule_id = (await add(http, ("@DemoBank OR DemoBank", "smm:brand"))).json()["data"][0]["id"]
    batch = posts(5)
    stray = Tweet(
        data={"id": "7", "text": "nothing to see", "author_id": "9", "lang": "en"},
        users={},
        referenced=(),
        text="nothing to see",
    )
    for post in [*batch[:2], stray, *batch[2:]]:
        server.publish(post)  # before anyone connects: they wait

    async with http.stream("GET", STREAM_PATH, params=INGEST_QUERY, headers=AUTH) as response:
        assert response.status_code == 200
        assert response.headers["transfer-encoding"] == "chunked"
        got = await lines(response, len(batch))
        assert server.counts.connected

    assert [line["data"]["id"] for line in got] == [post.id for post in batch]
    for line, post in zip(got, batch, strict=True):
        assert line["matching_rules"] == [{"id": rule_id, "tag": "smm:brand"}]
        assert line["data"]["created_at"] == post.data["created_at"]
        assert line["includes"]["users"][0]["id"] == post.data["author_id"]
        assert "public_metrics" in line["includes"]["users"][0]
    assert await server.drain(5.0)
    assert (server.counts.delivered, server.counts.unmatched) == (5, 1)
    assert server.counts.undelivered == 1


async def test_keep_alives_come_while_the_stream_is_quiet(
    server: XStreamServer, http: httpx.AsyncClient
) -> None:
    async with http.stream("GET", STREAM_PATH, headers=AUTH) as response:
        beats = 0
        async with asyncio.timeout(5):
            async for chunk in response.aiter_raw():
                assert chunk.strip() == b""  # nothing was published: only "\r\n"
                beats += chunk.count(b"\r\n")
                if beats >= 3:
                    break
    assert beats >= 3
    with pytest.raises(ValueError, match="20 s"):
        XStreamServer(bearer_token=TOKEN, keep_alive_s=21)


async def test_one_connection_at_a_time_and_nothing_lost_in_between(
    server: XStreamServer, http: httpx.AsyncClient
) -> None:
    await add(http, ("DemoBank", "smm:brand"))
    first, second = posts(2)
    async with http.stream("GET", STREAM_PATH, headers=AUTH) as response:
        server.publish(first)
        assert [line["data"]["id"] for line in await lines(response, 1)] == [first.id]
        async with httpx.AsyncClient(base_url=server.url) as other:
            refused = await other.get(STREAM_PATH, headers=AUTH)
        assert refused.status_code == 429
        assert refused.json()["connection_issue"] == "TooManyConnections"

    for _ in range(100):  # the hang-up is seen within a few event-loop turns
        if not server.counts.connected:
            break
        await asyncio.sleep(0.01)
    assert not server.counts.connected
    server.publish(second)  # nobody listens: it waits for the next connection
    assert not await server.drain(0.05)
    async with http.stream("GET", STREAM_PATH, headers=AUTH) as response:
        assert [line["data"]["id"] for line in await lines(response, 1)] == [second.id]
    assert server.counts.connections == 2
    assert server.counts.delivered == 2


async def test_unknown_stream_parameters_are_a_400(http: httpx.AsyncClient) -> None:
    wrong_field = await http.get(STREAM_PATH, params={"tweet.fields": "lang,colour"}, headers=AUTH)
    assert wrong_field.status_code == 400
    assert wrong_field.json()["errors"][0]["parameters"] == {"tweet.fields": ["colour"]}
    wrong_parameter = await http.get(STREAM_PATH, params={"since_id": "1"}, headers=AUTH)
    assert wrong_parameter.status_code == 400


async def test_closing_the_server_ends_the_stream_cleanly() -> None:
    server = XStreamServer(bearer_token=TOKEN, keep_alive_s=0.2)
    await server.start()
    async with (
        httpx.AsyncClient(base_url=server.url) as http,
        http.stream("GET", STREAM_PATH, headers=AUTH) as response,
    ):
        closing = asyncio.create_task(server.close())
        async with asyncio.timeout(5):
            body = b"".join([chunk async for chunk in response.aiter_raw()])  # ends, no error
            await closing
    assert body.strip() == b""


# --- ingest's own client -------------------------------------------------------------------------


async def test_ingests_x_stream_client_syncs_its_rules_and_reads_every_post(
    server: XStreamServer, http: httpx.AsyncClient
) -> None:
    await add(http, ("someone else's rule", "theirs"), ("stale", "smm:old"))
    batch = posts(6)
    for post in batch:
        server.publish(post)
    drafts: list[MentionDraft] = []
    async with httpx.AsyncClient() as client, asyncio.timeout(10):
        source = XFilteredStream(
            client,
            api_base_url=server.url,
            bearer_token=TOKEN,
            rules=[("@DemoBank OR DemoBank", "smm:brand")],
        )
        async for stream_batch in source.stream(None):
            for payload in stream_batch.payloads:
                parsed = parse_tweet_envelope(
                    payload, AccountContext(ContractNetwork.X, frozenset({ACCOUNTS.x_user_id}))
                )
                (item,) = parsed.items
                assert isinstance(item, NewItem)
                drafts.append(item.draft)
            if len(drafts) == len(batch):
                break

    assert [d.native_id for d in drafts] == [post.id for post in batch]
    assert [d.text for d in drafts] == [post.text for post in batch]
    # Ingest left the other rule alone and replaced its own stale one.
    assert sorted((r.value, r.tag) for r in server.rules) == [
        ("@DemoBank OR DemoBank", "smm:brand"),
        ("someone else's rule", "theirs"),
    ]


# --- the command ---------------------------------------------------------------------------------


class Ingest:
    """Ingest's HTTP surface, just enough: connectors, webhooks answered as accepted, and, like
    ingest's poller, its real X stream client started for an x_stream connector."""

    def __init__(self, *, read_stream: bool) -> None:
        self.read_stream = read_stream
        self.drafts: list[MentionDraft] = []
        self.stream_configs: list[dict[str, Any]] = []
        self.tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/connectors" and request.method == "GET":
            return httpx.Response(200, json=[])
        if path == "/v1/connectors":
            body = json.loads(request.content)
            kind = body["kind"]
            if kind == "x_stream":
                self.stream_configs.append(body["config"])
                if self.read_stream:
                    task = asyncio.create_task(
                        self.consume(body["config"], body["secrets"]["bearer_token"]["value"])
                    )
                    self.tasks.add(task)
            webhook = None if kind == "x_stream" else f"/v1/webhooks/{kind}/{kind}-1"
            out = {"id": f"{kind}-1", "kind": kind, "name": body["name"], "webhook_path": webhook}
            return httpx.Response(201, json=out)
        if path.startswith("/v1/webhooks/vk/"):
            if json.loads(request.content)["type"] == "confirmation":
                return httpx.Response(200, text=ACCOUNTS.vk_confirmation)
            return httpx.Response(200, text="ok")
        if path.startswith("/v1/webhooks/meta/") and request.method == "GET":
            return httpx.Response(200, text=request.url.params["hub.challenge"])
        return httpx.Response(200, json={"ok": True})

    async def consume(self, config: dict[str, Any], bearer_token: str) -> None:
        """What ingest's registry and stream runner do with the connector (one connection)."""
        async with httpx.AsyncClient() as client:
            source = XFilteredStream(
                client,
                api_base_url=config["api_base_url"],
                bearer_token=bearer_token,
                rules=[(r["value"], f"smm:{r['tag']}") for r in config["rules"]],
            )
            account = AccountContext(ContractNetwork.X, frozenset({config["user_id"]}))
            async for batch in source.stream(None):
                for payload in batch.payloads:
                    for item in parse_tweet_envelope(payload, account).items:
                        assert isinstance(item, NewItem)
                        self.drafts.append(item.draft)


def simulate(tmp_path: Path, ingest: Ingest, *argv: str) -> tuple[int, list[str]]:
    ensure_dev_keys(tmp_path / "keys")
    args: argparse.Namespace = build_parser().parse_args(
        ["simulate", "--data-dir", str(tmp_path), "--rate", "200", "--seed", "8", *argv]
    )
    lines: list[str] = []
    code = run_simulate(args, transport=httpx.MockTransport(ingest), out=lines.append)
    return code, lines


def test_the_command_plays_x_into_ingests_stream_client(tmp_path: Path) -> None:
    ingest = Ingest(read_stream=True)

    code, lines = simulate(tmp_path, ingest, "--count", "120")

    assert code == 0, lines
    done = lines[-1]
    x_posts = int(done.split(", x ")[1].split(")")[0])
    assert x_posts > 5
    assert f"x stream {x_posts} read · " in done
    assert "accepted 120 " in done
    assert len(ingest.drafts) == x_posts
    assert {d.network for d in ingest.drafts} == {ContractNetwork.X}
    (config,) = ingest.stream_configs
    assert config["api_base_url"].startswith("http://127.0.0.1:")
    assert any("X filtered stream (API v2) at http://127.0.0.1:" in line for line in lines)


def test_without_a_reader_the_command_ends_and_says_what_was_not_delivered(
    tmp_path: Path,
) -> None:
    code, lines = simulate(
        tmp_path, Ingest(read_stream=False), "--count", "60", "--stream-grace", "0.2"
    )

    assert code == 1
    done = lines[-1]
    x_posts = int(done.split(", x ")[1].split(")")[0])
    assert x_posts > 0
    assert f"x stream 0 read, {x_posts} not delivered; ingest has not connected to it" in done


def test_no_stream_plays_no_x(tmp_path: Path) -> None:
    ingest = Ingest(read_stream=True)

    code, lines = simulate(tmp_path, ingest, "--count", "60", "--no-stream")

    assert code == 0
    assert ingest.stream_configs == []
    assert ", x 0)" in lines[-1]
    assert "x stream" not in lines[-1]
