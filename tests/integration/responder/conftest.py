"""A responder built on the real MongoDB-protocol server: its cases, settings, agents, timers.

Events leave through the real outbox relay into a recorder instead of Kafka (the e2e tests
cover Kafka); timers run on the real timer store and loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from smm_responder.adapters.agents_repo import AgentRepository
from smm_responder.adapters.cases_repo import CaseRepository
from smm_responder.services.cases import CaseService
from smm_responder.services.settings import SettingsService
from smm_shared.config import MongoSettings
from smm_shared.events import (
    Author,
    Mention,
    MentionKind,
    MentionReceived,
    Network,
    Sentiment,
    new_ulid,
)
from smm_shared.mongo import Document, OutboxRelay
from smm_shared.testing.recorder import Sent
from smm_shared.timers import MongoTimerStore, TimerLoop


@dataclass
class World:
    """One responder replica's parts."""

    cases: CaseService
    repo: CaseRepository
    config: SettingsService
    agents: AgentRepository
    timers: MongoTimerStore
    relay: OutboxRelay
    sent: Sent
    db: Any

    async def drain(self) -> None:
        await self.relay.drain()

    def loop(self, owner: str) -> TimerLoop:
        return TimerLoop(
            self.timers, handler=self.cases.on_timer, owner_id=owner, max_idle_s=0.1, lease_s=5
        )


def build_world(db: Any, *, clock: Callable[[], datetime] | None = None) -> World:
    repo = CaseRepository(db["cases"], source="urn:smm:responder:test")
    agents = AgentRepository(db["agents"], db["assignment_pointers"])
    config = SettingsService.for_database(db, cache_ttl_s=0)
    timers = MongoTimerStore(db["timers"])
    sent = Sent()
    relay = OutboxRelay([repo.collection], sent)
    cases = CaseService(
        repository=repo,
        relay=relay,
        settings=config,
        agents=agents,
        timers=timers,
        clock=clock or (lambda: datetime.now(UTC)),
    )
    return World(cases, repo, config, agents, timers, relay, sent, db)


@pytest.fixture
async def world(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> AsyncIterator[World]:
    db = mongo_client[mongo_settings.database]
    w = build_world(db)
    await w.repo.ensure_indexes()
    await w.agents.ensure_indexes()
    await w.timers.ensure_indexes()
    return w


def mention(
    thread: str,
    *,
    brand: str = "acme",
    text: str = "my card was declined twice",
    network: Network = Network.X,
    language: str = "en",
    score: float | None = -0.6,
    label: str = "negative",
    author: str = "u1",
    kind: MentionKind = MentionKind.REPLY,
    created_at: datetime | None = None,
) -> MentionReceived:
    native = new_ulid()
    return MentionReceived(
        brand_id=brand,
        mention=Mention(
            mention_id=new_ulid(),
            network=network,
            kind=kind,
            native_id=native,
            conversation_key=f"{network.value}:{thread}",
            author=Author(id=author, handle=f"h{author}", display_name=f"Name {author}"),
            text=text,
            language=language,
            created_at=created_at or datetime.now(UTC),
            sentiment=Sentiment(label=label, score=score),  # type: ignore[arg-type]
        ),
    )
