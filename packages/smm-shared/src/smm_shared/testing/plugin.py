"""Pytest fixtures: a real Kafka-protocol broker and MongoDB-protocol server per test session.

Register with ``pytest_plugins = ["smm_shared.testing.plugin"]``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pymongo import AsyncMongoClient

from smm_shared.config import KafkaSettings, MongoSettings
from smm_shared.events import new_ulid
from smm_shared.localstack import free_port, mongo_url, start_kafka, start_mongo
from smm_shared.mongo import Document, create_mongo_client
from smm_shared.stack import DEFAULT_PORTS, SERVICES, Stack, StackConfig
from smm_shared.testing.otlp import OtlpReceiver

#: Environment for services started by tests: fast group joins on Tansu (LOCAL-INFRA.md),
#: quick retries, spans exported without waiting.
TEST_STACK_ENV: Mapping[str, str] = {
    "OTEL_BSP_SCHEDULE_DELAY": "100",
    "SMM_KAFKA__SESSION_TIMEOUT_MS": "2000",
    "SMM_KAFKA__HEARTBEAT_INTERVAL_MS": "500",
    "SMM_KAFKA__RETRY_BACKOFF_S": "0.05",
}


@pytest.fixture(scope="session")
def infra_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Logs and state of the processes this session starts."""
    return tmp_path_factory.mktemp("infra")


@pytest.fixture(scope="session")
def kafka_bootstrap(infra_dir: Path) -> Iterator[str]:
    """A Tansu broker on a free port for the whole session."""
    port = free_port()
    proc = start_kafka(port=port, log_path=infra_dir / "tansu.log")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    """Kafka settings for tests: fast group joins (LOCAL-INFRA.md), quick retries."""
    return KafkaSettings(
        bootstrap_servers=kafka_bootstrap,
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        retry_backoff_s=0.05,
    )


@pytest.fixture(scope="session")
def mongo_server_url(infra_dir: Path) -> Iterator[str]:
    """An nx-27017 server (in-memory) on a free port for the whole session."""
    port = free_port()
    proc = start_mongo(port=port, data_dir=None, log_dir=infra_dir / "mongo")
    try:
        yield mongo_url(port)
    finally:
        proc.stop()


@pytest.fixture
def mongo_settings(mongo_server_url: str) -> MongoSettings:
    """Settings pointing at a database no other test uses."""
    return MongoSettings(url=mongo_server_url, database=f"t_{new_ulid().lower()}")


@pytest.fixture
async def mongo_client(mongo_settings: MongoSettings) -> AsyncIterator[AsyncMongoClient[Document]]:
    """An async client to the session's server, closed after the test."""
    client = create_mongo_client(mongo_settings)
    try:
        yield client
    finally:
        await client.close()


_SPANS = InMemorySpanExporter()


@pytest.fixture(scope="session")
def _tracer_provider() -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_SPANS))
    trace.set_tracer_provider(provider)
    return provider


@pytest.fixture
def span_exporter(_tracer_provider: TracerProvider) -> Iterator[InMemorySpanExporter]:
    """Spans finished in this process during the test."""
    _SPANS.clear()
    yield _SPANS
    _SPANS.clear()


@pytest.fixture(scope="session")
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """An OTLP/HTTP receiver the service processes export their spans to."""
    receiver = OtlpReceiver(free_port()).start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (where the Makefile is)."""
    here = Path(os.environ.get("SMM_REPO_ROOT", Path.cwd()))
    for candidate in (here, *here.parents):
        if (candidate / "Makefile").exists() and (candidate / "packages").exists():
            return candidate
    return here


StackFactory = Callable[..., Stack]


@pytest.fixture
def stack_factory(tmp_path: Path, otlp_receiver: OtlpReceiver) -> Iterator[StackFactory]:
    """Start any set of services (with their own broker and database) as real processes.

    ``stack_factory(services=("ingest", "responder"), env={...})`` returns a started
    :class:`~smm_shared.stack.Stack` on free ports exporting spans to ``otlp_receiver``;
    every stack started is stopped after the test.
    """
    started: list[Stack] = []

    def start(*, services: Sequence[str] = SERVICES, env: Mapping[str, str] | None = None) -> Stack:
        config = StackConfig(
            data_dir=tmp_path / f"stack{len(started)}",
            ports={name: free_port() for name in DEFAULT_PORTS},
            services=tuple(services),
            persistent_mongo=False,
            env={
                **TEST_STACK_ENV,
                "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
                **(env or {}),
            },
        )
        stack = Stack(config)
        stack.start()
        started.append(stack)
        return stack

    yield start
    for stack in reversed(started):
        stack.stop()
