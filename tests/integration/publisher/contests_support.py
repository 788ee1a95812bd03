"""Contests on the real MongoDB-protocol server: the service's parts, a recorder, mentions.

Events leave through the real outbox relay into a recorder (the e2e tests cover Kafka);
the close timer runs on the real timer store and loop, driven by a manual clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet

from smm_publisher.adapters.contests_repo import ContestRepository
from smm_publisher.domain.contests import Certificate, Contest
from smm_publisher.services.contests import ContestService
from smm_shared.events import (
    Author,
    Mention,
    MentionKind,
    MentionReceived,
    Network,
    new_ulid,
)
from smm_shared.mongo import OutboxRelay
from smm_shared.secrets import SecretBox
from smm_shared.testing.recorder import Sent
from smm_shared.timers import ManualClock, MongoTimerStore, TimerLoop

SOURCE = "urn:smm:publisher:test"


@dataclass
class Announcements:
    """A stand-in for the content service: records each announcement draft it is asked for."""

    calls: list[tuple[Contest, Certificate, str]] = field(default_factory=list)

    async def __call__(self, contest: Contest, certificate: Certificate, actor: str) -> str:
        self.calls.append((contest, certificate, actor))
        return f"content-{len(self.calls)}"


@dataclass
class ContestWorld:
    """One publisher replica's contest parts on a real database."""

    service: ContestService
    repo: ContestRepository
    timers: MongoTimerStore
    relay: OutboxRelay
    sent: Sent
    clock: ManualClock
    announcements: Announcements
    db: Any

    def loop(self, owner: str = "publisher-test") -> TimerLoop:
        """A timer loop on the same store and clock, handing contest timers to the service."""
        return TimerLoop(
            self.timers, handler=self.service.on_timer, owner_id=owner, clock=self.clock
        )


async def build_contest_world(
    db: Any, *, start: datetime, secrets_key: str | None = "generate"
) -> ContestWorld:
    """The service on ``db`` with a manual clock at ``start`` and (by default) a secrets key."""
    key = Fernet.generate_key().decode() if secrets_key == "generate" else secrets_key
    clock = ManualClock(start)
    repo = ContestRepository(db["contests"], source=SOURCE)
    timers = MongoTimerStore(db["timers"])
    sent = Sent()
    relay = OutboxRelay(repo.collections, sent)
    announcements = Announcements()
    service = ContestService(
        repo, timers, SecretBox(key), clock.now, announcements, notify=relay.notify
    )
    await repo.ensure_indexes()
    await timers.ensure_indexes()
    return ContestWorld(service, repo, timers, relay, sent, clock, announcements, db)


def mention(
    *,
    author: str,
    text: str,
    created_at: datetime,
    parent: str | None,
    thread: str | None = None,
    brand: str = "acme",
    handle: str | None = None,
    network: Network = Network.X,
    kind: MentionKind = MentionKind.REPLY,
    followers: int | None = 250,
    mention_id: str | None = None,
) -> MentionReceived:
    """A mention as ingest publishes it, on ``parent`` (and ``thread``)."""
    return MentionReceived(
        brand_id=brand,
        mention=Mention(
            mention_id=mention_id or new_ulid(),
            network=network,
            kind=kind,
            native_id=new_ulid(),
            conversation_key=f"{network.value}:{thread or parent or 'none'}",
            author=Author(id=author, handle=handle or author, followers=followers),
            text=text,
            created_at=created_at.astimezone(UTC),
            parent_native_id=parent,
            thread_native_id=thread,
        ),
    )
