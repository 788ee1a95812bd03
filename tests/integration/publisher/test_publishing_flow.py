"""Publishing end to end inside the publisher: real Mongo, real timer loops, fake networks on a port.

Draft, approval, schedule, publish on two networks with URLs; a timeout after the network
accepted a post does not duplicate it; an expired token ends in a clear failed state that a
retry can fix; two replicas fire every scheduled post once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from smm_publisher.domain.approvals import ApprovalError
from smm_publisher.services.content import Actor
from smm_shared.mongo import from_epoch_ms
from smm_shared.simulator.networks import Fault
from smm_shared.simulator.networks.serve import FakeNetworkServer
from smm_shared.testing import eventually

from .conftest import BRAND, Replica, add_account, build_replica

pytestmark = pytest.mark.integration

WRITER = Actor("cm-olga", frozenset({"content_manager"}))
MANAGER = Actor("mgr-igor", frozenset({"smm_manager"}))
X_USER = "1580000000000000001"
TG_CHANNEL = "@acme_news"


def item_fields(
    *,
    targets: list[str],
    at: datetime | None,
    text: str = "Spring sale: 20% off every card",
    campaign: str | None = "spring",
    networks: tuple[str, ...] = ("x", "telegram"),
) -> dict[str, Any]:
    return {
        "brand_id": BRAND,
        "title": "Spring sale",
        "variants": [
            {"network": n, "text": f"{text} ({n})", "link": "https://acme.example/sale"}
            for n in networks
        ],
        "targets": targets,
        "campaign_id": campaign,
        "labels": ["promo"],
        "schedule": {"at": at.isoformat(), "time_zone": "Europe/Moscow"} if at else None,
    }


async def connect(replica: Replica, fake: FakeNetworkServer, **tokens: str) -> None:
    await add_account(
        replica, "acme-x", "x", X_USER, f"{fake.url}/x", token=tokens.get("x", f"x-token@{X_USER}")
    )
    await add_account(
        replica,
        "acme-tg",
        "telegram",
        TG_CHANNEL,
        f"{fake.url}/telegram",
        token=tokens.get("telegram", "123456:tg-token"),
    )


async def status_is(replica: Replica, content_id: str, *statuses: str) -> dict[str, Any] | None:
    doc = await replica.repo.get(content_id)
    return doc if doc is not None and doc["status"] in statuses else None


async def test_draft_approval_schedule_and_publish_on_two_networks(
    replica: Replica, fake_networks: FakeNetworkServer
) -> None:
    fake_networks.networks.clear()
    await connect(replica, fake_networks)
    await replica.workflows.insert(
        {
            "_id": "promo-review",
            "brand_id": BRAND,
            "name": "Promo review",
            "steps": [{"name": "SMM manager", "roles": ["smm_manager"], "mode": "any"}],
            "labels": ["promo"],
            "position": 0,
        }
    )
    at = datetime.now(UTC) + timedelta(seconds=2)
    draft = await replica.content.create(item_fields(targets=["acme-x", "acme-tg"], at=at), WRITER)
    content_id = draft["_id"]
    assert draft["status"] == "draft"

    submitted = await replica.content.submit(BRAND, content_id, WRITER)
    assert submitted["status"] == "submitted"
    with pytest.raises(ApprovalError) as refused:
        await replica.content.approve(BRAND, content_id, WRITER)
    assert refused.value.code == "approval.forbidden"
    approved = await replica.content.approve(BRAND, content_id, MANAGER)
    assert approved["status"] == "scheduled"  # approved with a future time: on the calendar
    audit = [entry["action"] for entry in approved["approval"]["audit"]]
    assert audit == ["submitted", "approved"]

    loop = replica.loop("replica-1")
    await loop.start()
    try:
        done = await eventually(
            lambda: status_is(replica, content_id, "published", "failed"),
            timeout_s=15,
            what="the item to be published",
        )
    finally:
        await loop.stop()
    assert done["status"] == "published", done["deliveries"]

    posts = fake_networks.networks.posts()
    assert sorted(p.network for p in posts) == ["telegram", "x"]
    x_post = next(p for p in posts if p.network == "x")
    assert "utm_source=x" in x_post.text
    assert "utm_campaign=spring" in x_post.text
    for account in ("acme-x", "acme-tg"):
        summary = done["deliveries"][account]
        assert summary["state"] == "published"
        assert summary["url"]
        assert summary["url"].startswith("https://")
        assert summary["native_id"] in {p.native_id for p in posts} or any(
            summary["native_id"].endswith(p.native_id) for p in posts
        )

    # Fired within a second of its time (the loop's deliveries start at the timer).
    deliveries = await replica.repo.deliveries_of(content_id)
    for delivery in deliveries:
        lateness = from_epoch_ms(delivery["first_attempt_ms"]) - at
        assert lateness < timedelta(seconds=1), lateness

    await replica.relay.drain()
    kinds = [dict(m.headers)["ce_type"] for m in replica.sent.messages]
    for kind in (
        "smm.content.created",
        "smm.content.submitted",
        "smm.content.approved",
        "smm.content.scheduled",
    ):
        assert kinds.count(kind) == 1, kinds
    published = replica.sent.events("smm.post.published", content_id=content_id)
    assert sorted(e.network.value for e in published) == ["telegram", "x"]
    assert all(e.url for e in published)


async def test_an_edit_after_approval_sends_it_back_and_a_move_keeps_it(
    replica: Replica, fake_networks: FakeNetworkServer
) -> None:
    await connect(replica, fake_networks)
    at = datetime.now(UTC) + timedelta(hours=2)
    doc = await replica.content.create(
        item_fields(targets=["acme-x"], at=at, networks=("x",)), WRITER
    )
    scheduled = await replica.content.submit(BRAND, doc["_id"], WRITER)  # no workflow: approved
    assert scheduled["status"] == "scheduled"
    timer = await replica.timers.get(key=f"publish|{doc['_id']}")
    assert timer is not None
    assert timer.due_at == at.replace(microsecond=at.microsecond // 1000 * 1000)

    later = at + timedelta(hours=1)
    moved = await replica.content.schedule(BRAND, doc["_id"], MANAGER, at=later)
    assert moved["status"] == "scheduled"
    assert moved["approval"]["status"] == "approved"
    timer = await replica.timers.get(key=f"publish|{doc['_id']}")
    assert timer is not None
    assert abs((timer.due_at - later).total_seconds()) < 0.01

    edited = await replica.content.update(
        BRAND,
        doc["_id"],
        item_fields(targets=["acme-x"], at=later, networks=("x",), text="New text"),
        WRITER,
        version=moved["version"],
    )
    assert edited["status"] == "draft"
    assert edited["approval"]["status"] == "draft"
    assert await replica.timers.get(key=f"publish|{doc['_id']}") is None


async def test_a_timeout_after_the_network_accepted_the_post_does_not_duplicate_it(
    replica: Replica, fake_networks: FakeNetworkServer
) -> None:
    fake_networks.networks.clear()
    await connect(replica, fake_networks)
    fake_networks.networks.inject("x", Fault.DROP_AFTER_ACCEPT)
    doc = await replica.content.create(
        item_fields(targets=["acme-x"], at=None, networks=("x",)), WRITER
    )
    await replica.content.submit(BRAND, doc["_id"], WRITER)
    await replica.content.schedule(BRAND, doc["_id"], WRITER, now=True)
    loop = replica.loop("replica-1")
    await loop.start()
    try:
        done = await eventually(
            lambda: status_is(replica, doc["_id"], "published", "failed"),
            timeout_s=20,
            what="the ambiguous delivery to be resolved",
        )
    finally:
        await loop.stop()
    assert done["status"] == "published"
    assert len(fake_networks.networks.posts("x")) == 1
    [delivery] = await replica.repo.deliveries_of(doc["_id"])
    assert delivery["found_after_ambiguity"]  # stored as 1 (docs/mongo-subset.md)
    assert delivery["attempts"] == 1
    assert [h["what"] for h in delivery["history"]] == ["ambiguous", "published"]


async def test_an_expired_token_fails_clearly_and_a_retry_after_the_fix_publishes(
    replica: Replica, fake_networks: FakeNetworkServer
) -> None:
    fake_networks.networks.clear()
    await connect(replica, fake_networks, x=f"expired-x-token@{X_USER}")
    doc = await replica.content.create(item_fields(targets=["acme-x", "acme-tg"], at=None), WRITER)
    await replica.content.submit(BRAND, doc["_id"], WRITER)
    await replica.content.schedule(BRAND, doc["_id"], WRITER, now=True)
    loop = replica.loop("replica-1")
    await loop.start()
    try:
        failed = await eventually(
            lambda: status_is(replica, doc["_id"], "published", "failed"),
            timeout_s=15,
            what="the item to end",
        )
        assert failed["status"] == "failed"
        x = failed["deliveries"]["acme-x"]
        assert x["state"] == "failed"
        assert x["error"]["code"] == "x.token_invalid"
        assert "token" in x["error"]["message"].lower()
        assert failed["deliveries"]["acme-tg"]["state"] == "published"
        assert len(fake_networks.networks.posts("x")) == 0

        # A person renews the token and retries: only X is posted again.
        account = await replica.accounts.store.get(BRAND, "acme-x")
        assert account is not None
        account["token"] = replica.accounts.seal({"value": f"renewed-x-token@{X_USER}"})
        version = account.pop("version")
        assert await replica.accounts.store.replace(account, version=version)
        await replica.content.retry(BRAND, doc["_id"], MANAGER)
        done = await eventually(
            lambda: status_is(replica, doc["_id"], "published"),
            timeout_s=15,
            what="the retried item to be published",
        )
    finally:
        await loop.stop()
    assert done["deliveries"]["acme-x"]["state"] == "published"
    assert len(fake_networks.networks.posts("x")) == 1
    assert len(fake_networks.networks.posts("telegram")) == 1
    await replica.relay.drain()
    [failure] = replica.sent.events("smm.post.failed", content_id=doc["_id"])
    assert failure.code == "x.token_invalid"
    assert failure.network.value == "x"


async def test_two_replicas_fire_each_scheduled_post_once(
    db: Any, http: httpx.AsyncClient, secrets_key: str, fake_networks: FakeNetworkServer
) -> None:
    fake_networks.networks.clear()
    one = build_replica(db, http, secrets_key)
    two = build_replica(db, http, secrets_key, sent=one.sent)
    await one.repo.ensure_indexes()
    await one.timers.ensure_indexes()
    await one.accounts.ensure_indexes()
    await add_account(
        one, "acme-masto", "mastodon", "109000000000000001", f"{fake_networks.url}/mastodon"
    )
    # Facebook: X's own per-account limit (10 posts in 6 h) would hold some of these back.
    await add_account(one, "acme-fb", "facebook", "100200300400500", f"{fake_networks.url}/graph")
    at = datetime.now(UTC) + timedelta(seconds=3)
    ids = []
    for n in range(12):
        fields = item_fields(
            targets=["acme-masto", "acme-fb"],
            at=at + timedelta(milliseconds=50 * n),
            text=f"Post number {n}",
            networks=("mastodon", "facebook"),
        )
        doc = await one.content.create(fields, WRITER)
        await one.content.submit(BRAND, doc["_id"], WRITER)
        ids.append(doc["_id"])
    loops = [one.loop("replica-1"), two.loop("replica-2")]
    for loop in loops:
        await loop.start()
    try:
        for content_id in ids:
            await eventually(
                lambda cid=content_id: status_is(one, cid, "published", "failed"),  # type: ignore[misc]
                timeout_s=30,
                what=f"{content_id} to be published",
            )
    finally:
        for loop in loops:
            await loop.stop()
    for content_id in ids:
        doc = await one.repo.get(content_id)
        assert doc is not None
        assert doc["status"] == "published", doc["deliveries"]
    texts = [p.text for p in fake_networks.networks.posts()]
    assert len(texts) == 24
    for n in range(12):
        assert sum(1 for t in texts if t.startswith(f"Post number {n} (")) == 2
    await one.relay.drain()
    assert len(one.sent.events("smm.post.published")) == 24


async def test_the_calendar_lists_a_range_with_filters(
    replica: Replica, fake_networks: FakeNetworkServer
) -> None:
    from smm_publisher.adapters.content_repo import CalendarQuery

    await connect(replica, fake_networks)
    base = datetime.now(UTC) + timedelta(days=1)
    first = await replica.content.create(
        item_fields(targets=["acme-x"], at=base, networks=("x",)), WRITER
    )
    second = await replica.content.create(
        item_fields(
            targets=["acme-tg"],
            at=base + timedelta(hours=3),
            networks=("telegram",),
            campaign="autumn",
        ),
        WRITER,
    )
    await replica.content.create(
        item_fields(targets=["acme-x"], at=base + timedelta(days=10), networks=("x",)), WRITER
    )

    def query(**kw: Any) -> CalendarQuery:
        return CalendarQuery(
            brand_id=BRAND,
            from_ms=int(base.timestamp() * 1000),
            to_ms=int((base + timedelta(days=1)).timestamp() * 1000),
            **kw,
        )

    assert [d["_id"] for d in await replica.content.calendar(query())] == [
        first["_id"],
        second["_id"],
    ]
    assert [d["_id"] for d in await replica.content.calendar(query(network="telegram"))] == [
        second["_id"]
    ]
    assert [d["_id"] for d in await replica.content.calendar(query(account_id="acme-x"))] == [
        first["_id"]
    ]
    assert [d["_id"] for d in await replica.content.calendar(query(campaign_id="autumn"))] == [
        second["_id"]
    ]
    assert await replica.content.calendar(query(statuses=frozenset({"scheduled"}))) == []
