"""``GET /api/live`` end to end: real Kafka (Tansu), real MongoDB protocol, a real HTTP server.

Events are published to the broker with the platform's EventPublisher; the console's live
feed (a consumer without a group) puts them in a LiveHub; browsers sign in against a real
AuthService and read the stream from uvicorn on a free port (streaming through
``httpx.ASGITransport`` does not deliver chunks as they are written).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from tests.unit.console.live_events import alert, case, post, sla

from smm_console.adapters.live_feed import register_live_feed
from smm_console.adapters.sessions_repo import SessionRepository
from smm_console.adapters.users_repo import UserRepository
from smm_console.api.auth import install_auth
from smm_console.api.deps import CSRF_HEADER, CookiePolicy
from smm_console.api.live import live_router
from smm_console.services.auth import AuthService
from smm_console.services.live import LiveHub
from smm_shared.auth import Role
from smm_shared.config import KafkaSettings, MongoSettings
from smm_shared.events import (
    ALL_TOPICS,
    Event,
    new_ulid,
)
from smm_shared.http import install_error_handlers
from smm_shared.localstack import free_port
from smm_shared.messaging import EventPublisher, create_broker, ensure_topics
from smm_shared.mongo import Document
from smm_shared.testing import eventually

pytestmark = pytest.mark.integration

HEARTBEAT_S = 0.2
PASSWORD = "Correct horse 42"
WAIT_S = 5.0


# --- events ---------------------------------------------------------------------------------


def brand_id(name: str) -> str:
    """A brand no other test publishes to (the broker lives for the whole session)."""
    return f"{name}-{new_ulid().lower()[-10:]}"


# --- SSE client -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One SSE message as a browser's EventSource would dispatch it."""

    event: str
    id: str | None
    data: str

    @property
    def json(self) -> Mapping[str, object]:
        parsed = json.loads(self.data)
        assert isinstance(parsed, dict)
        return parsed

    @property
    def event_id(self) -> object:
        """The platform event's id inside a live event."""
        inner = self.json["data"]
        assert isinstance(inner, dict)
        return inner["event_id"]


@dataclass
class Stream:
    """An open ``GET /api/live``: what arrived so far, and whether the server closed it."""

    response: httpx.Response
    messages: list[Message] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    ended = False

    async def read(self) -> None:
        fields: dict[str, str] = {}
        async for line in self.response.aiter_lines():
            if not line:
                if "data" in fields:
                    self.messages.append(
                        Message(fields.get("event", "message"), fields.get("id"), fields["data"])
                    )
                fields = {}
            elif line.startswith(":"):
                self.comments.append(line[1:].strip())
            else:
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "retry":
                    self.retry.append(value)
                elif name == "data" and "data" in fields:
                    fields["data"] += "\n" + value
                else:
                    fields[name] = value
        self.ended = True

    def of_kind(self, *kinds: str) -> list[Message]:
        return [m for m in self.messages if m.event in kinds]

    def event_ids(self) -> list[object]:
        return [m.event_id for m in self.of_kind("case", "sla", "alert", "post")]


def received(stream: Stream, event: Event) -> Callable[[], bool]:
    """Whether ``stream`` has got ``event`` (for :func:`until`)."""
    return lambda: event.event_id in stream.event_ids()


async def until(check: Callable[[], object], what: str) -> None:
    """Wait (no fixed sleep) until ``check()`` is truthy."""

    async def probe() -> object:
        return check()

    await eventually(probe, timeout_s=WAIT_S, interval_s=0.02, what=what)


@contextlib.asynccontextmanager
async def open_stream(
    browser: httpx.AsyncClient,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> AsyncIterator[Stream]:
    """GET /api/live and read it in the background; leaving the block disconnects."""
    async with browser.stream("GET", "/api/live", headers=headers, params=params) as response:
        assert response.status_code == 200
        stream = Stream(response)
        reader = asyncio.create_task(stream.read())
        try:
            yield stream
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await reader


# --- the app on a real server ---------------------------------------------------------------


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The test process keeps its own signal handlers.
        yield


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1 in this event loop; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # raises what stopped it
        return server.started

    await eventually(started, timeout_s=10, what="uvicorn started")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@dataclass
class Env:
    """The hub, auth and publisher behind a served app, and browsers signed in to it."""

    hub: LiveHub
    auth: AuthService
    publisher: EventPublisher
    base_url: str
    clients: contextlib.AsyncExitStack

    async def user(self, roles: Sequence[Role], brands: Sequence[str]) -> str:
        email = f"u{new_ulid().lower()}@example.com"
        await self.auth.create_user(
            actor=None, email=email, password=PASSWORD, name="User", roles=roles, brands=brands
        )
        return email

    async def browser(self, email: str | None = None) -> tuple[httpx.AsyncClient, dict[str, str]]:
        """A client (own cookie jar), signed in as ``email`` if given; and its CSRF header."""
        client = await self.clients.enter_async_context(
            httpx.AsyncClient(base_url=self.base_url, timeout=WAIT_S)
        )
        if email is None:
            return client, {}
        login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        return client, {CSRF_HEADER: login.json()["csrf_token"]}

    async def publish(self, *events: Event) -> None:
        """Publish to Kafka and wait until the live feed handed every one to the hub."""
        for event in events:
            await self.publisher.publish(event)
        wanted = {e.event_id for e in events}
        await until(
            lambda: wanted <= {e.data["event_id"] for e in self.hub.buffered()},
            "events in the hub",
        )


@pytest.fixture
async def env(
    kafka_settings: KafkaSettings,
    mongo_client: AsyncMongoClient[Document],
    mongo_settings: MongoSettings,
) -> AsyncIterator[Env]:
    db = mongo_client[mongo_settings.database]
    auth = AuthService(
        users=UserRepository(db["users"]),
        sessions=SessionRepository(db["sessions"]),
        issuer="smm-local",
        audience="smm-platform",
        hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
    )
    await auth.ensure_indexes()
    hub = LiveHub()
    await ensure_topics(kafka_settings, ALL_TOPICS)
    broker = create_broker(kafka_settings, client_id="console-live-test")
    register_live_feed(broker, hub, settings=kafka_settings)
    publisher = EventPublisher(
        broker, source="/smm/test", max_message_bytes=kafka_settings.max_message_bytes
    )
    app = FastAPI()
    install_error_handlers(app)
    install_auth(app, auth, CookiePolicy(secure=False, max_age_s=3600))
    app.state.live_hub = hub
    app.include_router(live_router(heartbeat_s=HEARTBEAT_S))
    await broker.start()
    try:
        # Without a group the feed starts at the end of each partition once it has found
        # it: publish until one arrives, so that nothing a test publishes is missed.
        warmup = brand_id("warmup")

        async def feed_ready() -> bool:
            await publisher.publish(case(warmup))
            return hub.last_seq > 0

        await eventually(feed_ready, timeout_s=10, interval_s=0.1, what="live feed reading")
        async with serve(app) as base_url, contextlib.AsyncExitStack() as clients:
            yield Env(hub, auth, publisher, base_url, clients)
            await clients.aclose()
            await until(lambda: hub.subscriber_count == 0, "every stream unsubscribed")
    finally:
        await broker.stop()


# --- tests ----------------------------------------------------------------------------------


async def test_without_a_session_or_a_brand_there_is_no_stream(env: Env) -> None:
    anonymous, _ = await env.browser()
    refused = await anonymous.get("/api/live")

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "auth.required"

    # An admin of every brand has no current brand until they choose one.
    brandless, _ = await env.browser(await env.user([Role.ADMIN], ["*"]))
    no_brand = await brandless.get("/api/live")

    assert no_brand.status_code == 409
    assert no_brand.json()["error"]["code"] == "auth.no_brand"
    assert env.hub.subscriber_count == 0


async def test_each_brand_sees_its_own_events_and_no_others(env: Env) -> None:
    acme, globex = brand_id("acme"), brand_id("globex")
    agent, _ = await env.browser(await env.user([Role.AGENT], [acme]))
    # The least-privileged role: ROLE_PERMISSIONS lets every role read mentions, content
    # and analytics, so a viewer gets every kind too.
    viewer, _ = await env.browser(await env.user([Role.VIEWER], [acme]))
    other, _ = await env.browser(await env.user([Role.AGENT], [globex]))
    acme_events = [case(acme), sla(acme), alert(acme), post(acme)]
    globex_events = [case(globex), sla(globex), alert(globex), post(globex)]

    async with (
        open_stream(agent) as agent_stream,
        open_stream(viewer) as viewer_stream,
        open_stream(other) as other_stream,
    ):
        await until(lambda: env.hub.subscriber_count == 3, "three subscribers")
        await env.publish(*globex_events, *acme_events)
        # Markers published after the hub has everything: a stream that has its marker
        # has been sent everything it was going to be sent before it.
        markers = {acme: case(acme), globex: case(globex)}
        await env.publish(*markers.values())
        for stream, brand in ((agent_stream, acme), (viewer_stream, acme), (other_stream, globex)):
            await until(received(stream, markers[brand]), f"the {brand} marker")

        await until(lambda: agent_stream.comments, "a keep-alive")

    response = agent_stream.response
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-accel-buffering"] == "no"
    assert agent_stream.retry == ["3000"]
    assert "ping" in agent_stream.comments

    # Kafka orders events per key (partition), not across keys: compare without order.
    wanted_acme = sorted(e.event_id for e in [*acme_events, markers[acme]])
    assert sorted(map(str, agent_stream.event_ids())) == wanted_acme
    assert sorted(map(str, viewer_stream.event_ids())) == wanted_acme
    assert sorted(map(str, other_stream.event_ids())) == sorted(
        e.event_id for e in [*globex_events, markers[globex]]
    )

    by_id = {m.event_id: m for m in agent_stream.messages}
    assert [(by_id[e.event_id].event, by_id[e.event_id].json["type"]) for e in acme_events] == [
        ("case", "smm.case.opened"),
        ("sla", "smm.sla.warning"),
        ("alert", "smm.alert.opened"),
        ("post", "smm.post.published"),
    ]
    first = by_id[acme_events[0].event_id]
    assert first.json["kind"] == "case"
    assert first.json["brand_id"] == acme
    assert first.json["data"] == acme_events[0].model_dump(mode="json", exclude_none=True)
    seq_ids = [m.id for m in agent_stream.messages]
    assert all(i is not None and i.startswith(f"{env.hub.instance}.") for i in seq_ids)
    numbers = [int(str(i).rsplit(".", 1)[1]) for i in seq_ids]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == len(numbers)


async def test_a_reconnect_resumes_after_the_last_event_id(env: Env) -> None:
    acme = brand_id("acme")
    agent, _ = await env.browser(await env.user([Role.AGENT], [acme]))
    # One case's events: one key, one partition, so Kafka keeps them in order.
    first, second, third, fourth = (case(acme, "case-1") for _ in range(4))

    async with open_stream(agent) as before:
        await until(lambda: env.hub.subscriber_count == 1, "subscribed")
        await env.publish(first, second)
        await until(lambda: len(before.event_ids()) == 2, "two events")
    await until(lambda: env.hub.subscriber_count == 0, "unsubscribed after the disconnect")
    last_seen = before.messages[-1].id
    assert last_seen is not None

    await env.publish(third, fourth)  # while no stream was open

    async with open_stream(agent, headers={"Last-Event-ID": last_seen}) as resumed:
        await until(lambda: len(resumed.event_ids()) == 2, "the missed events")
        assert resumed.event_ids() == [third.event_id, fourth.event_id]
        after_third = resumed.messages[0].id
        assert after_third is not None

    # A new EventSource cannot send headers: the app passes the id in the query.
    async with open_stream(agent, params={"last_event_id": after_third}) as by_query:
        await until(lambda: by_query.event_ids(), "the event after the third")
        assert by_query.event_ids() == [fourth.event_id]

    # An id from another replica (or before a restart) cannot be resumed: refetch.
    async with open_stream(agent, headers={"Last-Event-ID": "elsewhere.3"}) as foreign:
        await until(lambda: foreign.messages, "a reset")
        assert foreign.messages[0].event == "reset"
        assert json.loads(foreign.messages[0].data) == {"reason": "resume_unavailable"}
        assert foreign.messages[0].id == env.hub.event_id(env.hub.last_seq)
        await env.publish(marker := case(acme))
        await until(lambda: foreign.event_ids(), "live events after the reset")
        assert foreign.event_ids() == [marker.event_id]


async def test_signing_out_ends_the_stream(env: Env) -> None:
    acme = brand_id("acme")
    agent, csrf = await env.browser(await env.user([Role.AGENT], [acme]))

    async with open_stream(agent) as stream:
        await until(lambda: env.hub.subscriber_count == 1, "subscribed")
        assert (await agent.post("/api/auth/logout", headers=csrf)).status_code == 204
        await until(lambda: stream.ended, "the stream closed by the server")

    assert [m.event for m in stream.messages] == ["session-ended"]
    assert env.hub.subscriber_count == 0


async def test_switching_brand_closes_the_stream_for_a_reconnect(env: Env) -> None:
    acme, globex = brand_id("acme"), brand_id("globex")
    agent, csrf = await env.browser(await env.user([Role.AGENT], [acme, globex]))

    async with open_stream(agent) as stream:
        await until(lambda: env.hub.subscriber_count == 1, "subscribed")
        switched = await agent.post("/api/auth/brand", json={"brand_id": globex}, headers=csrf)
        assert switched.status_code == 200
        await until(lambda: stream.ended, "the stream closed by the server")

    assert stream.messages == []  # closed, not ended: the browser reconnects
    assert env.hub.subscriber_count == 0
    async with open_stream(agent) as reconnected:
        await until(lambda: env.hub.subscriber_count == 1, "subscribed again")
        await env.publish(acme_event := case(acme), globex_event := case(globex))
        await until(lambda: reconnected.event_ids(), "an event")
        assert reconnected.event_ids() == [globex_event.event_id]
        assert acme_event.event_id not in reconnected.event_ids()


async def test_a_client_that_goes_away_is_unsubscribed(env: Env) -> None:
    acme = brand_id("acme")
    agent, _ = await env.browser(await env.user([Role.AGENT], [acme]))

    async with open_stream(agent):
        await until(lambda: env.hub.subscriber_count == 1, "subscribed")
    await until(lambda: env.hub.subscriber_count == 0, "unsubscribed")

    # The hub goes on for the others.
    async with open_stream(agent) as again:
        await until(lambda: env.hub.subscriber_count == 1, "subscribed again")
        await env.publish(event := case(acme))
        await until(lambda: again.event_ids() == [event.event_id], "the event")
