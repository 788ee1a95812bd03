"""Announcing a contest's winners is a post like any other: a draft in the content calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smm_publisher.adapters.contests_repo import ContestRepository
from smm_publisher.domain.contests import EntryMethod
from smm_publisher.services.announcements import contest_announcer
from smm_publisher.services.contests import ContestService, ContestSpec
from smm_shared.events import Network
from smm_shared.secrets import SecretBox
from smm_shared.timers import ManualClock, MongoTimerStore

from .conftest import BRAND, Replica, add_account
from .contests_support import mention

pytestmark = pytest.mark.integration

OPENS = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CLOSES = OPENS + timedelta(days=7)
POST = "1900000000000000001"


def anyone(_: str) -> bool:
    return True


async def test_the_announcement_is_a_draft_naming_the_winners(
    db: Any, replica: Replica, secrets_key: str
) -> None:
    await add_account(replica, "acme-x", "x", "1580000000000000001", "http://127.0.0.1:9/x")
    clock = ManualClock(OPENS - timedelta(hours=1))
    contests_repo = ContestRepository(db["contests"], source="urn:smm:publisher:test")
    await contests_repo.ensure_indexes()
    contests = ContestService(
        contests_repo,
        MongoTimerStore(db["timers"]),
        SecretBox(secrets_key),
        clock.now,
        announce=contest_announcer(replica.content, contests_repo, replica.accounts),
    )
    spec = ContestSpec(
        network=Network.X,
        post_native_id=POST,
        opens_at=OPENS,
        closes_at=CLOSES,
        methods=frozenset({EntryMethod.REPLY}),
        title="Spring giveaway",
        winner_count=2,
    )
    contest_id = (await contests.create(spec, brand_id=BRAND, actor="user:mgr"))["_id"]
    await contests.open(contest_id, brand_ok=anyone, actor="user:mgr")
    for author, handle in (("101", "Fan_One"), ("102", "fan_two")):
        await contests.on_mention(
            mention(
                author=author,
                handle=handle,
                text="me please!",
                created_at=OPENS + timedelta(days=1),
                parent=POST,
                brand=BRAND,
            )
        )
    clock.advance_to(CLOSES + timedelta(minutes=1))
    certificate, _ = await contests.draw(contest_id, brand_ok=anyone, actor="user:mgr")
    assert sorted(certificate.winners) == ["x|101", "x|102"]

    announced = await contests.announce(contest_id, brand_ok=anyone, actor="user:mgr")
    assert announced["status"] == "announced"
    draft = await replica.content.get(BRAND, announced["announcement_id"])
    assert draft["status"] == "draft"
    assert draft["targets"] == ["acme-x"]
    assert draft["labels"] == ["contest"]
    [variant] = draft["variants"]
    assert variant["network"] == "x"
    assert "@Fan_One" in variant["text"]
    assert "@fan_two" in variant["text"]
    assert certificate.seed[:16] in variant["text"]
    # Announcing again makes no second draft.
    again = await contests.announce(contest_id, brand_ok=anyone, actor="user:mgr")
    assert again["announcement_id"] == announced["announcement_id"]
    await replica.relay.drain()
    created = replica.sent.events("smm.content.created")
    assert [e.content_id for e in created] == [announced["announcement_id"]]
