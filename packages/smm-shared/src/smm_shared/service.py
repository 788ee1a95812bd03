"""The runtime every service shares: broker, database, publisher, outbox relay, health, metrics.

Each service's ``main.create_app(settings)`` is its composition root; it opens a
:class:`Runtime` in its lifespan, wires its own repositories, consumers and routes onto it,
and starts it. Nothing here runs at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, Histogram, generate_latest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smm_shared.auth import TokenVerifier
from smm_shared.config import BaseServiceSettings
from smm_shared.events import ALL_TOPICS, Event, TopicSpec, dead_letter_topic
from smm_shared.http import install_error_handlers
from smm_shared.messaging import (
    BatchHandler,
    EventHandler,
    EventPublisher,
    consumer_lag,
    create_broker,
    ensure_topics,
    kafka_reachable,
    subscribe_event_batches,
    subscribe_events,
)
from smm_shared.mongo import Collection, Document, OutboxRelay, create_mongo_client, mongo_reachable
from smm_shared.telemetry import Telemetry, setup_telemetry

logger = logging.getLogger(__name__)

CONSUMER_LAG = Gauge(
    "smm_consumer_lag", "Messages not yet processed by a consumer group", ["group", "topic"]
)
HTTP_SECONDS = Histogram(
    "smm_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
LAG_INTERVAL_S = 15.0


@dataclass
class Runtime:
    """The I/O a service process holds: built in the lifespan, closed at shutdown."""

    settings: BaseServiceSettings
    telemetry: Telemetry
    broker: KafkaBroker
    mongo: AsyncMongoClient[Document]
    publisher: EventPublisher
    verifier: TokenVerifier
    subscriptions: list[tuple[str, str]] = field(default_factory=list)
    relay: OutboxRelay | None = None
    _lag_task: asyncio.Task[None] | None = None

    @property
    def db(self) -> AsyncDatabase[Document]:
        """The service's own database."""
        return self.mongo[self.settings.mongo.database]

    def outbox_relay(self, collections: Sequence[Collection]) -> OutboxRelay:
        """Create the relay that publishes these collections' embedded outboxes."""
        self.relay = OutboxRelay(list(collections), self.publisher.send)
        return self.relay

    def subscribe(
        self, *, topic: TopicSpec, group_id: str, handlers: Mapping[type[Event], EventHandler]
    ) -> None:
        """Consume ``topic`` in ``group_id``; its dead-letter topic is created and its lag measured."""
        subscribe_events(
            self.broker,
            topic=topic,
            group_id=group_id,
            handlers=handlers,
            settings=self.settings.kafka,
        )
        self.subscriptions.append((group_id, topic.name))

    def subscribe_batches(
        self,
        *,
        topic: TopicSpec,
        group_id: str,
        event_types: Iterable[type[Event]],
        handler: BatchHandler,
        max_records: int = 500,
    ) -> None:
        """Consume ``topic`` in ``group_id`` in batches of up to ``max_records`` events."""
        subscribe_event_batches(
            self.broker,
            topic=topic,
            group_id=group_id,
            event_types=frozenset(event_types),
            handler=handler,
            settings=self.settings.kafka,
            max_records=max_records,
            tracer_provider=self.telemetry.tracer_provider,
        )
        self.subscriptions.append((group_id, topic.name))

    async def start(self, extra_topics: Iterable[TopicSpec] = ()) -> None:
        """Create topics, then start consuming and relaying."""
        groups = sorted({group for group, _ in self.subscriptions})
        topics = [*ALL_TOPICS, *extra_topics, *(dead_letter_topic(g) for g in groups)]
        created = await ensure_topics(self.settings.kafka, topics)
        if created:
            logger.info("created topics", extra={"topics": ",".join(created)})
        await self.broker.start()
        if self.relay is not None:
            await self.relay.start()
        if self.subscriptions:
            self._lag_task = asyncio.create_task(self._measure_lag(), name="consumer-lag")

    @contextlib.asynccontextmanager
    async def serving(self, app: FastAPI) -> AsyncIterator[None]:
        """Start consuming and relaying, expose the runtime to routes and probes, undo on exit."""
        app.state.token_verifier = self.verifier
        await self.start()
        app.state.runtime = self
        try:
            yield
        finally:
            app.state.runtime = None

    async def stop(self) -> None:
        """Stop background work; the broker and client are closed by ``open_runtime``."""
        if self._lag_task is not None:
            self._lag_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lag_task
        if self.relay is not None:
            await self.relay.stop()

    async def _measure_lag(self) -> None:
        while True:
            for group, topic in self.subscriptions:
                try:
                    lag = await consumer_lag(self.settings.kafka, group_id=group, topic=topic)
                    CONSUMER_LAG.labels(group, topic).set(sum(lag.values()))
                except Exception:  # a metric must never take the service down
                    logger.warning("consumer lag not measured", exc_info=True)
            await asyncio.sleep(LAG_INTERVAL_S)

    async def ready(self) -> dict[str, bool]:
        """Whether the broker and the database answer."""
        kafka, mongo = await asyncio.gather(
            kafka_reachable(self.settings.kafka), mongo_reachable(self.mongo)
        )
        return {"kafka": kafka, "mongodb": mongo}


@contextlib.asynccontextmanager
async def open_runtime(settings: BaseServiceSettings, *, service: str) -> AsyncIterator[Runtime]:
    """Open the broker connection, database client and token verifier; close them on exit."""
    telemetry = setup_telemetry(f"smm-{service}", settings.telemetry, configure_logging=False)
    broker = create_broker(
        settings.kafka, client_id=f"smm-{service}", tracer_provider=telemetry.tracer_provider
    )
    mongo = create_mongo_client(settings.mongo)
    runtime = Runtime(
        settings=settings,
        telemetry=telemetry,
        broker=broker,
        mongo=mongo,
        publisher=EventPublisher(
            broker, source=f"/smm/{service}", max_message_bytes=settings.kafka.max_message_bytes
        ),
        verifier=TokenVerifier.from_settings(settings.auth),
    )
    try:
        yield runtime
    finally:
        await runtime.stop()
        await broker.stop()
        await mongo.close()
        telemetry.shutdown()


def platform_router(get_runtime: Callable[[], Runtime | None], *, service: str) -> APIRouter:
    """Health, metrics and AsyncAPI routes every service serves (no authentication: probes)."""
    router = APIRouter(tags=["platform"])
    cache: dict[str, Any] = {"at": 0.0, "checks": {}}

    @router.get("/health/live")
    async def live() -> dict[str, str]:
        """The process is up and serving."""
        return {"status": "ok", "service": service}

    @router.get("/health/ready")
    async def ready() -> JSONResponse:
        """Broker and database are reachable (checked at most once a second)."""
        runtime = get_runtime()
        if runtime is None:
            return JSONResponse({"status": "starting", "service": service}, status_code=503)
        if time.monotonic() - cache["at"] > 1.0:
            cache["checks"] = await runtime.ready()
            cache["at"] = time.monotonic()
        checks: dict[str, bool] = cache["checks"]
        ok = all(checks.values())
        body = {"status": "ok" if ok else "degraded", "service": service, "checks": checks}
        return JSONResponse(body, status_code=200 if ok else 503)

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi() -> Response:
        """The AsyncAPI document of this service's topics, generated by FastStream."""
        runtime = get_runtime()
        if runtime is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        spec = AsyncAPI(runtime.broker, title=f"smm-{service}", version="1")
        return Response(spec.to_specification().to_json(), media_type="application/json")

    return router


def new_service_app(
    *,
    service: str,
    title: str,
    description: str,
    lifespan: Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]],
) -> FastAPI:
    """A FastAPI app with the shared error shape and the platform routes."""
    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.runtime = None
    install_error_handlers(app)
    app.add_middleware(HttpMetricsMiddleware)

    def current(request_app: FastAPI = app) -> Runtime | None:
        return getattr(request_app.state, "runtime", None)

    app.include_router(platform_router(current, service=service))
    return app


class HttpMetricsMiddleware:
    """Request latency by route template, as plain ASGI (no task per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request; label it with its route template and status."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            # The route template, not the raw path: ids would explode the label set.
            template = getattr(scope.get("route"), "path", "unmatched")
            if template not in {"/metrics", "/health/live", "/health/ready"}:
                HTTP_SECONDS.labels(scope["method"], template, str(status)).observe(
                    time.perf_counter() - started
                )
