"""A publisher built on the real MongoDB-protocol server, posting to the fake networks on a port.

Content, deliveries, accounts, workflows, rate limits and timers live in the test's own
database; timer loops are real; deliverers talk HTTP to ``FakeNetworkServer``. Events leave
through the real outbox relay into a recorder (the Kafka path is covered where a test needs
the broker itself).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from pymongo import AsyncMongoClient

from smm_publisher.adapters.accounts import AccountStore
from smm_publisher.adapters.content_repo import ContentRepository
from smm_publisher.adapters.delivery.registry import DelivererRegistry
from smm_publisher.adapters.rate_limiter import MongoRateLimiter
from smm_publisher.services.content import PUBLISH_TIMER, ContentService
from smm_publisher.services.delivery import DELIVERY_TIMER, DeliveryService
from smm_shared.brand_store import BrandStore
from smm_shared.config import MongoSettings
from smm_shared.mongo import Document, OutboxRelay
from smm_shared.secrets import SecretBox
from smm_shared.simulator.networks.serve import FakeNetworkServer
from smm_shared.testing.recorder import Sent
from smm_shared.timers import FiredTimer, MongoTimerStore, TimerLoop

BRAND = "acme"


@dataclass
class Replica:
    """One publisher replica's parts over a shared database."""

    content: ContentService
    deliveries: DeliveryService
    repo: ContentRepository
    accounts: AccountStore
    workflows: BrandStore
    timers: MongoTimerStore
    relay: OutboxRelay
    sent: Sent
    http: httpx.AsyncClient

    async def on_timer(self, fired: FiredTimer) -> None:
        if fired.kind == PUBLISH_TIMER:
            await self.content.on_timer(fired)
        elif fired.kind == DELIVERY_TIMER:
            await self.deliveries.on_timer(fired)

    def loop(self, owner: str, **kwargs: Any) -> TimerLoop:
        options: dict[str, Any] = {"max_idle_s": 0.1, "lease_s": 10.0}
        options.update(kwargs)
        return TimerLoop(self.timers, handler=self.on_timer, owner_id=owner, **options)


def build_replica(
    db: Any,
    http: httpx.AsyncClient,
    secrets_key: str,
    *,
    sent: Sent | None = None,
    clock: Callable[[], datetime] | None = None,
    timeout_s: float = 2.0,
) -> Replica:
    now = clock or (lambda: datetime.now(UTC))
    secrets = SecretBox(secrets_key)
    accounts = AccountStore(db["accounts"], secrets)
    accounts.store.cache_ttl_s = 0
    workflows = BrandStore(db["workflows"], cache_ttl_s=0, sort=(("position", 1), ("_id", 1)))
    repo = ContentRepository(db["content"], db["deliveries"], source="urn:smm:publisher:test")
    timers = MongoTimerStore(db["timers"])
    deliveries = DeliveryService(
        repository=repo,
        accounts=accounts,
        timers=timers,
        deliverers=DelivererRegistry(http, timeout_s=timeout_s),
        limiter=MongoRateLimiter(db["rate_limits"]),
        clock=now,
        jitter=lambda: 0.0,
    )
    content = ContentService(
        repository=repo,
        workflows=workflows,
        accounts=accounts,
        timers=timers,
        deliveries=deliveries,
        clock=now,
    )
    recorder = sent or Sent()
    relay = OutboxRelay(list(repo.collections), recorder)
    return Replica(content, deliveries, repo, accounts, workflows, timers, relay, recorder, http)


@pytest.fixture(scope="session")
def fake_networks() -> Iterator[FakeNetworkServer]:
    """The fake networks on a real port for the session (tests clear what they read)."""
    with FakeNetworkServer() as server:
        yield server


@pytest.fixture
def secrets_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
async def db(mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings) -> Any:
    return mongo_client[mongo_settings.database]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
async def replica(db: Any, http: httpx.AsyncClient, secrets_key: str) -> Replica:
    r = build_replica(db, http, secrets_key)
    await r.repo.ensure_indexes()
    await r.timers.ensure_indexes()
    await r.accounts.ensure_indexes()
    await r.workflows.ensure_indexes()
    return r


async def add_account(
    replica: Replica,
    account_id: str,
    network: str,
    native_id: str,
    base_url: str,
    *,
    token: str | None = None,
    replies: bool = False,
) -> None:
    """Connect an account posting to the fake network at ``base_url``.

    The fake networks know whose a token is by what follows its last ``@``; the default
    token belongs to ``native_id``.
    """
    token = token or f"valid-token@{native_id}"
    await replica.accounts.store.insert(
        {
            "_id": account_id,
            "brand_id": BRAND,
            "network": network,
            "native_id": native_id,
            "name": account_id,
            "api_base_url": base_url,
            "token": replica.accounts.seal({"value": token}),
            "replies": replies,
            "enabled": True,
        }
    )
