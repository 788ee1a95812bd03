"""Contests on a real MongoDB-protocol server: entries from mentions, the close timer, the draw.

The draw is checked by ``recompute``, written here from docs/publisher.md with hashlib and
hmac only (it does not import the domain), over the certificate and the published events.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from tests.integration.publisher.contests_support import ContestWorld, build_contest_world, mention

from smm_publisher.domain.contests import ContestError, EntryMethod
from smm_publisher.services.contests import (
    ContestConflictError,
    ContestNotFoundError,
    ContestSpec,
    close_timer_key,
)
from smm_shared.config import MongoSettings
from smm_shared.events import MentionDeleted, MentionKind, MentionUpdated, Network
from smm_shared.mongo import Document, epoch_ms
from smm_shared.timers import FiredTimer

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
OPENS = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CLOSES = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
DURING = OPENS + timedelta(days=1)
POST = "1900000000000000001"
TAG = "#AcmeGiveaway"
ACTOR = "user:manager"


def anyone(_: str) -> bool:
    return True


def acme_only(brand: str) -> bool:
    return brand == "acme"


def recompute(certificate: Mapping[str, Any]) -> tuple[str, str, list[str]]:
    """Commitment, entry list digest and winners of ``smm-contest-draw`` v1, from scratch."""
    seed = bytes.fromhex(certificate["seed"])
    keys = sorted(certificate["entries"])
    commitment = hashlib.sha256(seed).hexdigest()
    digest = hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()
    pool, winners, counter = list(keys), [], 0
    while len(winners) < min(int(certificate["winner_count"]), len(keys)):
        m = len(pool)
        message = bytes.fromhex(digest) + counter.to_bytes(8, "big")
        counter += 1
        x = int.from_bytes(hmac.new(seed, message, hashlib.sha256).digest(), "big")
        if x >= 2**256 - 2**256 % m:
            continue
        winners.append(pool.pop(x % m))
    return commitment, digest, winners


def spec(**changes: Any) -> ContestSpec:
    fields: dict[str, Any] = {
        "network": Network.X,
        "post_native_id": POST,
        "opens_at": OPENS,
        "closes_at": CLOSES,
        "methods": frozenset({EntryMethod.HASHTAG}),
        "hashtag": "AcmeGiveaway",
        "title": "Spring giveaway",
        "winner_count": 3,
        "blocked": frozenset({"@Bob_Blocked"}),
        "employees": frozenset({"emp1"}),
    }
    return ContestSpec(**{**fields, **changes})


@pytest.fixture
async def contests_world(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> ContestWorld:
    return await build_contest_world(mongo_client[mongo_settings.database], start=START)


async def all_entries(w: ContestWorld, contest_id: str) -> list[Document]:
    """Walk the entries list page by page (small pages, so the cursor is exercised)."""
    docs: list[Document] = []
    cursor: str | None = None
    while True:
        page = await w.service.entries(contest_id, brand_ok=anyone, cursor=cursor, limit=4)
        docs.extend(page.docs)
        if page.next_cursor is None:
            return docs
        cursor = page.next_cursor


def decisions(docs: Sequence[Document]) -> dict[str, str]:
    return {d["mention_id"]: d["decision"]["code"] for d in docs}


async def test_a_contest_from_set_up_to_a_draw_anyone_can_recompute(
    contests_world: ContestWorld,
) -> None:
    w = contests_world
    created = await w.service.create(spec(), brand_id="acme", actor=ACTOR)
    contest_id = created["_id"]
    assert created["status"] == "draft"
    assert created["version"] == 1

    # Opening publishes the commitment; the seed stays sealed in the database.
    opened = await w.service.open(contest_id, brand_ok=anyone, actor=ACTOR)
    assert opened["status"] == "open"
    assert "sealed_seed" not in opened
    raw_before_draw = await w.db["contests"].find_one({"_id": contest_id})
    assert set(raw_before_draw["sealed_seed"]) == {"ciphertext"}
    await w.relay.drain()
    [opened_event] = w.sent.events("smm.contest.opened")
    assert opened_event.contest_id == contest_id
    assert opened_event.commitment == opened["commitment"]
    assert (opened_event.opens_at, opened_event.closes_at) == (OPENS, CLOSES)
    assert opened_event.winner_count == 3
    timer = await w.timers.get(key=close_timer_key(contest_id, epoch_ms(CLOSES)))
    assert timer is not None
    assert timer.kind == "contest.close"
    assert timer.due_at == CLOSES

    # Not yet: nothing to draw or announce while it is open.
    w.clock.advance_to(DURING)
    with pytest.raises(ContestConflictError) as not_closed:
        await w.service.draw(contest_id, brand_ok=anyone, actor=ACTOR)
    assert not_closed.value.code == "contest.not_closed"
    with pytest.raises(ContestConflictError) as not_drawn:
        await w.service.announce(contest_id, brand_ok=anyone, actor=ACTOR)
    assert not_drawn.value.code == "contest.not_drawn"

    # Mentions arrive while it is open.
    h = timedelta(hours=1)
    alice = mention(author="alice", text=f"I'm in {TAG}", created_at=DURING, parent=POST)
    alice_again = mention(
        author="alice", text="again #acmegiveaway", created_at=DURING + h, parent=POST
    )
    blocked = mention(author="b9", handle="bob_blocked", text=TAG, created_at=DURING, parent=POST)
    employee = mention(author="emp1", text=f"me too {TAG}", created_at=DURING, parent=POST)
    early = mention(author="early", text=TAG, created_at=OPENS - timedelta(minutes=1), parent=POST)
    wrong_post = mention(author="wanda", text=TAG, created_at=DURING, parent="some-other-post")
    other_brand = mention(author="otto", text=TAG, created_at=DURING, parent=POST, brand="globex")
    direct = mention(
        author="dora", text=TAG, created_at=DURING, parent=POST, kind=MentionKind.DIRECT_MESSAGE
    )
    carol = mention(author="carol", text=f"{TAG}!", created_at=DURING + 2 * h, parent=POST)
    dave = mention(author="dave", text="nice post", created_at=DURING, parent=POST)
    # A reply to another comment, in the post's thread (X conversation id = the post).
    frank = mention(author="frank", text=TAG, created_at=DURING, parent="c-17", thread=POST)
    ivan = mention(author="ivan", text="count me in", created_at=DURING, parent=POST)
    judy = mention(author="judy", text=TAG, created_at=DURING, parent=POST)
    mallory_late = mention(author="mallory", text=TAG, created_at=DURING + 5 * h, parent=POST)
    mallory_early = mention(author="mallory", text=TAG, created_at=DURING + 3 * h, parent=POST)

    for event in (alice, alice_again, blocked, employee, early, wrong_post, other_brand, direct):
        await w.service.on_mention(event)
    assert await w.service.on_mention(carol) == 1
    assert await w.service.on_mention(carol) == 0  # redelivered: the same entry
    for event in (dave, frank, ivan, judy, mallory_late, mallory_early):
        await w.service.on_mention(event)
    # Ivan adds the hashtag by an edit inside the window; Judy deletes her comment.
    ivan_edit = MentionUpdated(
        brand_id="acme",
        mention=ivan.mention.model_copy(
            update={"text": f"count me in {TAG}", "edited_at": DURING + 2 * h}
        ),
        changed=("text",),
    )
    assert await w.service.on_mention(ivan_edit) == 1
    judy_deleted = MentionDeleted(
        brand_id="acme",
        mention_id=judy.mention.mention_id,
        network=Network.X,
        native_id=judy.mention.native_id,
        conversation_key=judy.mention.conversation_key,
        deleted_at=DURING + 2 * h,
        deleted_by="author",
    )
    assert await w.service.on_mention(judy_deleted) == 1

    # The close timer fires on the real loop; a re-fire changes nothing.
    w.clock.advance_to(CLOSES)
    loop = w.loop()
    assert await loop.run_due() == 1
    closed = await w.service.get(contest_id, brand_ok=anyone)
    assert closed["status"] == "closed"
    await w.service.on_timer(
        FiredTimer(
            key=close_timer_key(contest_id, epoch_ms(CLOSES)),
            kind="contest.close",
            payload={"contest_id": contest_id, "due_ms": epoch_ms(CLOSES)},
            due_at=CLOSES,
            fired_at=CLOSES + h,
            attempt=2,
            owner="another-replica",
        )
    )
    assert (await w.service.get(contest_id, brand_ok=anyone))["version"] == closed["version"]
    await w.relay.drain()
    [closed_event] = w.sent.events("smm.contest.closed")
    assert closed_event.entries == 11  # stored and not withdrawn: 12 entries minus Judy's

    # After the close: an entry made inside the window that reaches us late still counts,
    # one made after it does not, and an edit after the close changes nothing.
    grace = mention(author="grace", text=TAG, created_at=CLOSES - timedelta(minutes=1), parent=POST)
    heidi = mention(author="heidi", text=TAG, created_at=CLOSES + timedelta(minutes=1), parent=POST)
    dave_late_edit = MentionUpdated(
        brand_id="acme",
        mention=dave.mention.model_copy(update={"text": f"nice {TAG}", "edited_at": CLOSES + h}),
    )
    for event in (grace, heidi, dave_late_edit):
        await w.service.on_mention(event)

    expected = {
        alice.mention.mention_id: "eligible",
        alice_again.mention.mention_id: "entry.duplicate",
        blocked.mention.mention_id: "entry.blocked",
        employee.mention.mention_id: "entry.employee",
        early.mention.mention_id: "entry.too_early",
        carol.mention.mention_id: "eligible",
        dave.mention.mention_id: "entry.missing_hashtag",
        frank.mention.mention_id: "eligible",
        ivan.mention.mention_id: "eligible",
        judy.mention.mention_id: "entry.withdrawn",
        mallory_early.mention.mention_id: "eligible",
        mallory_late.mention.mention_id: "entry.duplicate",
        grace.mention.mention_id: "eligible",
        heidi.mention.mention_id: "entry.too_late",
    }
    before_draw = await all_entries(w, contest_id)
    assert decisions(before_draw) == expected
    assert len(before_draw) == len(expected)  # one entry for the redelivered mention
    ordered = [d["entry"]["created_at"] for d in before_draw]
    assert ordered == sorted(ordered, key=datetime.fromisoformat)  # in the order made
    dave_entry = await w.repo.get_entry(contest_id, dave.mention.mention_id)
    assert dave_entry is not None
    assert dave_entry["entry"]["text"] == "nice post"
    assert "late_edit_ms" in dave_entry
    eligible_page = await w.service.entries(contest_id, brand_ok=anyone, decision="eligible")
    assert {d["author_key"] for d in eligible_page.docs} == {
        f"x|{a}" for a in ("alice", "carol", "frank", "ivan", "mallory", "grace")
    }

    # The draw.
    w.clock.advance(h)
    certificate, drew = await w.service.draw(contest_id, brand_ok=anyone, actor=ACTOR)
    assert drew
    published = certificate.to_doc()
    assert published["entries"] == sorted(
        f"x|{a}" for a in ("alice", "carol", "frank", "grace", "ivan", "mallory")
    )
    commitment, digest, winners = recompute(published)
    assert commitment == opened_event.commitment == published["commitment"]
    assert digest == published["entry_list_digest"]
    assert winners == published["winners"]
    assert len(winners) == 3
    assert certificate.seed not in str(raw_before_draw)  # revealed only now

    drawn = await w.service.get(contest_id, brand_ok=anyone)
    assert drawn["status"] == "drawn"
    assert drawn["winners"] == winners
    assert decisions(await all_entries(w, contest_id)) == expected

    # Drawing again returns the stored certificate; nothing is drawn or published twice.
    again, drew_again = await w.service.draw(contest_id, brand_ok=anyone, actor=ACTOR)
    assert (again, drew_again) == (certificate, False)
    assert (await w.service.certificate(contest_id, brand_ok=anyone)) == certificate
    assert (await w.service.get(contest_id, brand_ok=anyone))["version"] == drawn["version"]
    await w.relay.drain()
    [drawn_event] = w.sent.events("smm.contest.drawn")
    assert drawn_event.contest_id == contest_id
    assert drawn_event.brand_id == "acme"
    assert drawn_event.entry_count == 6
    from_event = recompute(
        {
            "seed": drawn_event.seed,
            "entries": published["entries"],
            "winner_count": drawn_event.winner_count,
        }
    )
    assert from_event == (
        opened_event.commitment,
        drawn_event.entry_list_digest,
        drawn_event.winners,
    )
    assert [e.event_type for e in w.sent.events()] == [
        "smm.contest.opened",
        "smm.contest.closed",
        "smm.contest.drawn",
    ]

    # A deletion after the draw changes nothing.
    alice_deleted = judy_deleted.model_copy(
        update={"mention_id": alice.mention.mention_id, "native_id": alice.mention.native_id}
    )
    assert await w.service.on_mention(alice_deleted) == 0

    # Announcing creates one draft post with the winners.
    announced = await w.service.announce(contest_id, brand_ok=anyone, actor=ACTOR)
    assert announced["status"] == "announced"
    assert announced["announcement_id"] == "content-1"
    [(contest, announced_certificate, actor)] = w.announcements.calls
    assert contest.winners == tuple(winners)
    assert announced_certificate == certificate
    assert actor == ACTOR
    await w.service.announce(contest_id, brand_ok=anyone, actor=ACTOR)
    assert len(w.announcements.calls) == 1


async def test_brand_scoping_versions_and_a_locked_set_up(contests_world: ContestWorld) -> None:
    """Another brand's caller sees no contest; a stale version and a locked set-up are refused."""
    w = contests_world
    created = await w.service.create(spec(), brand_id="globex", actor=ACTOR)
    contest_id = created["_id"]
    with pytest.raises(ContestNotFoundError):
        await w.service.get(contest_id, brand_ok=acme_only)
    with pytest.raises(ContestNotFoundError):
        await w.service.open(contest_id, brand_ok=acme_only, actor=ACTOR)

    edited = await w.service.replace(
        contest_id, spec(winner_count=5), version=1, brand_ok=anyone, actor=ACTOR
    )
    assert edited["winner_count"] == 5
    assert edited["version"] == 2
    with pytest.raises(ContestConflictError) as stale:
        await w.service.replace(contest_id, spec(), version=1, brand_ok=anyone, actor=ACTOR)
    assert stale.value.code == "contest.version_conflict"
    with pytest.raises(ContestError) as invalid:
        await w.service.replace(
            contest_id, spec(closes_at=OPENS), version=2, brand_ok=anyone, actor=ACTOR
        )
    assert invalid.value.code == "contest.invalid"

    await w.service.open(contest_id, brand_ok=anyone, actor=ACTOR)
    with pytest.raises(ContestConflictError) as locked:
        await w.service.replace(contest_id, spec(), version=3, brand_ok=anyone, actor=ACTOR)
    assert locked.value.code == "contest.not_draft"
    with pytest.raises(ContestError) as reopen:
        await w.service.open(contest_id, brand_ok=anyone, actor=ACTOR)
    assert reopen.value.code == "contest.invalid_transition"

    page = await w.service.list(brand_id="globex")
    assert [d["_id"] for d in page.docs] == [contest_id]
    assert (await w.service.list(brand_id="acme")).docs == []


async def test_no_secrets_key_no_opening(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> None:
    w = await build_contest_world(
        mongo_client[mongo_settings.database], start=START, secrets_key=None
    )
    created = await w.service.create(spec(), brand_id="acme", actor=ACTOR)
    with pytest.raises(ContestConflictError) as missing:
        await w.service.open(created["_id"], brand_ok=anyone, actor=ACTOR)
    assert missing.value.code == "contest.secrets_key_missing"
    assert "SMM_SECRETS_KEY" in missing.value.message
    assert (await w.service.get(created["_id"], brand_ok=anyone))["status"] == "draft"
    await w.relay.drain()
    assert w.sent.messages == []


async def test_a_draw_after_the_window_closes_an_open_contest_first(
    contests_world: ContestWorld,
) -> None:
    """If the close timer has not run yet, the draw closes the contest in the same write."""
    w = contests_world
    contest_id = (await w.service.create(spec(winner_count=1), brand_id="acme", actor=ACTOR))["_id"]
    await w.service.open(contest_id, brand_ok=anyone, actor=ACTOR)
    only = mention(author="solo", text=TAG, created_at=DURING, parent=POST)
    await w.service.on_mention(only)
    w.clock.advance_to(CLOSES + timedelta(minutes=5))
    certificate, drew = await w.service.draw(contest_id, brand_ok=anyone, actor=ACTOR)
    assert drew
    assert certificate.winners == ("x|solo",)
    assert recompute(certificate.to_doc())[2] == ["x|solo"]
    await w.relay.drain()
    assert [e.event_type for e in w.sent.events()] == [
        "smm.contest.opened",
        "smm.contest.closed",
        "smm.contest.drawn",
    ]
    # The timer that comes due later finds the contest drawn and does nothing.
    assert await w.loop().run_due() == 1
    assert (await w.service.get(contest_id, brand_ok=anyone))["status"] == "drawn"
