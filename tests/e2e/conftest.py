"""The whole platform as processes on free ports, exporting traces to a receiver in the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from smm_shared.auth import Role, issue_token, load_signing_key
from smm_shared.localstack import free_port
from smm_shared.stack import DEFAULT_PORTS, Stack, StackConfig
from smm_shared.testing import OtlpReceiver
from smm_shared.testing.plugin import TEST_STACK_ENV

TokenFactory = Callable[..., str]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, otlp_receiver: OtlpReceiver) -> Iterator[Stack]:
    """Broker, database and all five services, started as ``make run`` starts them."""
    data_dir: Path = tmp_path_factory.mktemp("stack")
    config = StackConfig(
        data_dir=data_dir,
        ports={name: free_port() for name in DEFAULT_PORTS},
        persistent_mongo=False,
        env={**TEST_STACK_ENV, "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint},
    )
    running = Stack(config)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def token(stack: Stack) -> TokenFactory:
    """Issue a token signed with the stack's dev key."""
    key = load_signing_key(stack.config.keys_dir)

    def make(
        *,
        roles: tuple[Role, ...] = (Role.SMM_MANAGER,),
        brands: tuple[str, ...] = ("brand-e2e",),
        subject: str = "e2e",
    ) -> str:
        return issue_token(
            key=key,
            subject=subject,
            roles=roles,
            brands=brands,
            ttl=timedelta(minutes=30),
            issuer="smm-local",
            audience="smm-platform",
        )

    return make


@pytest.fixture
async def api(stack: Stack, token: TokenFactory) -> Callable[[str], httpx.AsyncClient]:
    """An authenticated client per service."""
    clients: list[httpx.AsyncClient] = []

    def client(service: str, bearer: str | None = None) -> httpx.AsyncClient:
        c = httpx.AsyncClient(
            base_url=stack.config.url(service),
            headers={"Authorization": f"Bearer {bearer or token()}"},
            timeout=10,
        )
        clients.append(c)
        return c

    yield client  # type: ignore[misc]
    for c in clients:
        await c.aclose()
