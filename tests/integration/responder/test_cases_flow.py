"""The responder on a real MongoDB-protocol server: routing, assignment, SLAs, replies, handoffs."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from tests.integration.responder.conftest import World, build_world, mention

from smm_responder.domain.cases import CaseStatus
from smm_responder.domain.routing import Priority
from smm_responder.services.cases import Actor, CommandError
from smm_shared.events import MentionDeleted, MentionUpdated, Network, ReplyFailed, ReplyPublished
from smm_shared.testing.polling import eventually

pytestmark = pytest.mark.integration

AGENT = Actor.user("alice", is_manager=False, name="Alice")
MANAGER = Actor.user("boss", is_manager=True, name="Boss")


def anyone(_: str) -> bool:
    return True


async def setup_brand(w: World, *, first_response_s: float = 600, warn_percent: int = 50) -> None:
    await w.config.sla_policies.insert(
        {
            "_id": "care",
            "brand_id": "acme",
            "name": "Care",
            "targets": [
                {
                    "metric": "first_response",
                    "target_s": first_response_s,
                    "warn_percent": warn_percent,
                },
                {"metric": "resolution", "target_s": 86_400},
            ],
        }
    )
    await w.config.sla_policies.insert(
        {
            "_id": "billing-policy",
            "brand_id": "acme",
            "name": "Billing",
            "targets": [{"metric": "first_response", "target_s": 3_600, "warn_percent": 80}],
        }
    )
    await w.config.departments.insert(
        {
            "_id": "billing",
            "brand_id": "acme",
            "name": "Billing",
            "sla_policy_id": "billing-policy",
            "response_target_s": 7_200,
            "warn_percent": 75,
        }
    )
    await w.config.departments.insert({"_id": "support", "brand_id": "acme", "name": "Support"})
    await w.config.routing_rules.insert(
        {
            "_id": "r-card",
            "brand_id": "acme",
            "name": "Card problems",
            "position": 1,
            "conditions": {"text_keywords": ["card"], "sentiment_labels": ["negative"]},
            "actions": {
                "department": "support",
                "priority": "high",
                "tags": ["cards"],
                "sla_policy_id": "care",
                "assignment": "least_loaded",
            },
        }
    )
    for user, capacity in (("alice", 1), ("bob", 2)):
        await w.agents.create(
            {
                "brand_id": "acme",
                "user_id": user,
                "name": user,
                "departments": ["support"],
                "languages": ["en"],
                "networks": [],
                "capacity": capacity,
                "availability": "online",
            }
        )


async def test_a_mention_is_routed_assigned_and_gets_its_sla(world: World) -> None:
    await setup_brand(world)
    event = mention("t1")
    case_id = await world.cases.record_mention(event)
    assert case_id is not None
    assert await world.cases.record_mention(event) is None  # a replay is a no-op
    case = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert (case["department"], case["priority"], case["tags"]) == ("support", "high", ["cards"])
    assert case["routing"]["rule_id"] == "r-card"
    assert case["assignee_id"] == "alice"  # least loaded: both empty, alice sorts first
    assert case["status"] == "open"  # assignment opens a new case
    assert case["sla_policy_id"] == "care"
    clock = case["sla"]["first_response"]
    assert clock["status"] == "running"
    assert clock["breach_due_at"] - clock["started_at"] == 600_000
    assert clock["warn_due_at"] - clock["started_at"] == 300_000
    assert case["sla_state"] == "ok"
    assert case["next_due_ms"] == clock["warn_due_at"]
    types = [e["type"] for e in case["timeline"]]
    assert types[:3] == ["case.opened", "case.routed", "sla.applied"]
    assert "case.assigned" in types
    await world.drain()
    assert len(world.sent.events("smm.case.opened", case_id)) == 1
    applied = world.sent.events("smm.sla.applied", case_id)
    assert {e.metric for e in applied} == {"first_response", "resolution"}
    # alice is now full (capacity 1): the next card case goes to bob.
    second = await world.cases.record_mention(mention("t2", author="u2"))
    assert second is not None
    assert (await world.cases.get(case_id=second, brand_ok=anyone))["assignee_id"] == "bob"
    alice = await world.agents.get("acme", "alice")
    assert alice is not None
    assert (alice["active_cases"], alice["free_slots"]) == (1, 0)


async def test_nobody_goes_over_capacity_under_concurrency(world: World) -> None:
    await setup_brand(world)
    results = await asyncio.gather(
        *(world.cases.record_mention(mention(f"c{i}", author=f"a{i}")) for i in range(8))
    )
    assignees = Counter()
    for case_id in results:
        assert case_id is not None
        doc = await world.cases.get(case_id=case_id, brand_ok=anyone)
        assignees[doc.get("assignee_id")] += 1
    assert assignees["alice"] == 1
    assert assignees["bob"] == 2
    assert assignees[None] == 5


async def test_reply_is_requested_once_meets_the_sla_and_waits_for_the_customer(
    world: World,
) -> None:
    await setup_brand(world)
    case_id = await world.cases.record_mention(mention("t1"))
    assert case_id is not None
    kwargs = dict(
        text="Sorry! We are on it.",
        canned_response_id=None,
        idempotency_key="click-1",
        then=CaseStatus.PENDING_CUSTOMER,
        automatic=False,
        actor=AGENT,
        agent_requires_approval=False,
        brand_ok=anyone,
    )
    _, rid, created = await world.cases.reply(case_id, **kwargs)  # type: ignore[arg-type]
    assert created
    _, again, created_again = await world.cases.reply(case_id, **kwargs)  # type: ignore[arg-type]
    assert (again, created_again) == (rid, False)  # a double click
    await world.drain()
    commands = world.sent.events("smm.reply.requested", case_id)
    assert len(commands) == 1
    assert commands[0].reply_id == rid
    assert commands[0].text == "Sorry! We are on it."
    assert commands[0].network is Network.X
    case = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert case["status"] == "pending_customer"
    assert case["sla"]["first_response"]["status"] == "met"
    assert case["sla"]["resolution"]["status"] == "paused"
    met = world.sent.events("smm.sla.met", case_id)
    assert [e.metric for e in met] == ["first_response"]
    assert met[0].within_target
    assert met[0].network is Network.X  # analytics breaks care down by network
    # The publisher reports; a replay of the report changes nothing.
    published = ReplyPublished(
        brand_id="acme",
        reply_id=rid,
        case_id=case_id,
        network=Network.X,
        native_id="999",
        url="https://x.com/a/status/999",
    )
    await world.cases.reply_outcome(published)
    await world.cases.reply_outcome(published)
    await world.drain()
    assert len(world.sent.events("smm.case.replied", case_id)) == 1
    case = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert case["replies"][rid]["state"] == "published"
    # The customer answers: back to open, the resolution clock resumes, next response starts.
    await world.cases.record_mention(mention("t1", text="still not working"))
    case = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert case["status"] == "open"
    assert case["sla"]["resolution"]["status"] == "running"
    assert case["sla"].get("next_response") is None  # the care policy has no next-response target


async def test_a_failed_reply_shows_the_networks_reason(world: World) -> None:
    case_id = await world.cases.record_mention(mention("t9"))
    assert case_id is not None
    _, rid, _ = await world.cases.reply(
        case_id,
        text="hello",
        canned_response_id=None,
        idempotency_key="k-1234567",
        then=CaseStatus.OPEN,
        automatic=False,
        actor=AGENT,
        agent_requires_approval=False,
        brand_ok=anyone,
    )
    await world.cases.reply_outcome(
        ReplyFailed(
            brand_id="acme",
            reply_id=rid,
            case_id=case_id,
            network=Network.X,
            code="x.403",
            message="X refused: the author blocked the brand account",
        )
    )
    case = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert case["replies"][rid]["state"] == "failed"
    assert case["replies"][rid]["error"]["message"].startswith("X refused")


async def test_replies_over_the_limit_or_needing_approval(world: World) -> None:
    await world.config.save_config("acme", {"approval": {"priorities": ["urgent"]}})
    case_id = await world.cases.record_mention(mention("t3"))
    assert case_id is not None
    with pytest.raises(CommandError) as info:
        await world.cases.reply(
            case_id,
            text="x" * 281,
            canned_response_id=None,
            idempotency_key="k-long-1",
            then=CaseStatus.OPEN,
            automatic=False,
            actor=AGENT,
            agent_requires_approval=False,
            brand_ok=anyone,
        )
    assert info.value.code == "reply.too_long"
    _, rid, _ = await world.cases.reply(
        case_id,
        text="Let me check",
        canned_response_id=None,
        idempotency_key="k-appr-1",
        then=CaseStatus.OPEN,
        automatic=False,
        actor=AGENT,
        agent_requires_approval=True,
        brand_ok=anyone,
    )
    case = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert case["replies"][rid]["state"] == "pending_approval"
    await world.drain()
    assert world.sent.events("smm.reply.requested", case_id) == []
    await world.cases.decide_reply(
        case_id, rid, approve=True, reason="ok", actor=MANAGER, brand_ok=anyone
    )
    await world.drain()
    assert len(world.sent.events("smm.reply.requested", case_id)) == 1


async def test_handoff_routing_rebinds_the_sla_and_the_answer_comes_back(world: World) -> None:
    await setup_brand(world)
    case_id = await world.cases.record_mention(mention("t4"))
    assert case_id is not None
    before = (await world.cases.get(case_id=case_id, brand_ok=anyone))["sla"]["first_response"]
    await world.cases.route_to(case_id, "billing", actor=AGENT, reason="a charge", brand_ok=anyone)
    case = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert case["department"] == "billing"
    assert case["sla_policy_id"] == "billing-policy"
    after = case["sla"]["first_response"]
    assert after["target_ms"] == 3_600_000
    assert after["breach_due_at"] > before["breach_due_at"]
    assert case["sla"]["resolution"]["status"] == "cancelled"  # billing has no resolution target
    rebound = [e for e in case["timeline"] if e["type"] == "sla.rebound"]
    assert rebound
    assert rebound[0]["data"]["previous_policy_id"] == "care"
    _, handoff = await world.cases.hand_off(
        case_id, "billing", note="refund 20 EUR?", actor=AGENT, brand_ok=anyone
    )
    case = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert case["status"] == "pending_department"
    dept = case["sla"]["department_response"]
    assert dept["target_ms"] == 7_200_000
    await world.cases.department_answer(
        case_id,
        handoff,
        answer="Refund issued today",
        actor=Actor.user("carol", is_manager=False),
        brand_ok=anyone,
    )
    case = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert case["status"] == "open"
    assert case["sla"]["department_response"]["status"] == "met"
    await world.config.canned_responses.insert(
        {
            "_id": "refund",
            "brand_id": "acme",
            "name": "Refund",
            "text": "Hi {{author_name}}, {{department_answer}}. {{agent_name}}",
        }
    )
    _, rid, _ = await world.cases.reply(
        case_id,
        text=None,
        canned_response_id="refund",
        idempotency_key="k-canned-1",
        then=CaseStatus.RESOLVED,
        automatic=False,
        actor=AGENT,
        agent_requires_approval=False,
        brand_ok=anyone,
    )
    case = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert case["replies"][rid]["text"] == "Hi Name u1, Refund issued today. Alice"
    assert case["status"] == "resolved"
    await world.drain()
    (resolved,) = world.sent.events("smm.case.resolved", case_id)
    assert resolved.network is Network.X


async def test_sla_warning_and_breach_fire_once_with_two_replicas_and_escalate(
    world: World,
) -> None:
    await setup_brand(world, first_response_s=1.0, warn_percent=50)
    await world.config.escalation_rules.insert(
        {
            "_id": "e1",
            "brand_id": "acme",
            "name": "Breach",
            "trigger": "breach",
            "metrics": ["first_response"],
            "raise_priority": True,
            "notify": ["lead"],
        }
    )
    other = build_world(world.db)
    loops = [world.loop("replica-a"), other.loop("replica-b")]
    for loop in loops:
        await loop.start()
    try:
        case_id = await world.cases.record_mention(mention("t5"))
        assert case_id is not None
        opened = await world.cases.get(case_id=case_id, brand_ok=anyone)
        breach_due = opened["sla"]["first_response"]["breach_due_at"]

        async def breached() -> bool:
            doc = await world.cases.get(case_id=case_id, brand_ok=anyone)
            return bool(doc["sla"]["first_response"]["breached"])

        await eventually(breached, timeout_s=10, what="the first response breach")
        await asyncio.sleep(0.5)  # let any duplicate fire show itself
    finally:
        for loop in loops:
            await loop.stop()
    await world.drain()
    warnings = world.sent.events("smm.sla.warning", case_id)
    breaches = world.sent.events("smm.sla.breached", case_id)
    assert len(warnings) == 1
    assert len(breaches) == 1
    assert breaches[0].metric == "first_response"
    assert int(breaches[0].due_at.timestamp() * 1000) == breach_due
    assert breaches[0].lateness_ms < 1000  # within a second of the deadline
    case = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert case["priority"] == "urgent"  # high, raised by the escalation rule
    assert case["sla_state"] == "breached"
    escalated = world.sent.events("smm.case.escalated", case_id)
    assert len(escalated) == 1
    assert escalated[0].notify == ("lead",)


async def test_a_deadline_missed_while_down_fires_at_start_with_its_lateness(world: World) -> None:
    await setup_brand(world, first_response_s=0.5, warn_percent=50)
    case_id = await world.cases.record_mention(mention("t6"))
    assert case_id is not None
    await asyncio.sleep(1.5)  # nobody runs the timers: the responder is "down"
    loop = world.loop("restarted")
    await loop.start()
    try:

        async def breached() -> bool:
            doc = await world.cases.get(case_id=case_id, brand_ok=anyone)
            return bool(doc["sla"]["first_response"]["breached"])

        await eventually(breached, timeout_s=10, what="the missed breach")
    finally:
        await loop.stop()
    await world.drain()
    (breach,) = world.sent.events("smm.sla.breached", case_id)
    assert breach.lateness_ms >= 900


async def test_resolving_follows_the_negative_review_until_it_improves(world: World) -> None:
    first = mention("t7", score=-0.8)
    case_id = await world.cases.record_mention(first)
    assert case_id is not None
    await world.cases.set_status(
        case_id, CaseStatus.RESOLVED, actor=AGENT, reason="fixed", brand_ok=anyone
    )
    case = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert case["review"]["mention_id"] == first.mention.mention_id
    assert case["review"]["score_before"] == -0.8
    edited = first.mention.model_copy(
        update={
            "text": "fixed now, thanks!",
            "sentiment": first.mention.sentiment.model_copy(
                update={"label": "positive", "score": 0.7}
            ),
        }
    )
    await world.cases.mention_changed(MentionUpdated(brand_id="acme", mention=edited))
    await world.cases.mention_changed(MentionUpdated(brand_id="acme", mention=edited))
    await world.drain()
    outcomes = world.sent.events("smm.review.outcome", case_id)
    assert len(outcomes) == 1
    assert (outcomes[0].outcome, outcomes[0].sentiment_after) == ("improved", 0.7)


async def test_a_deleted_review_and_a_reopen_and_a_new_case_after_the_window(world: World) -> None:
    await world.config.save_config("acme", {"reopen_window_h": 1})
    first = mention("t8", score=-0.9)
    case_id = await world.cases.record_mention(first)
    assert case_id is not None
    await world.cases.set_status(
        case_id, CaseStatus.RESOLVED, actor=AGENT, reason="", brand_ok=anyone
    )
    await world.cases.mention_changed(
        MentionDeleted(
            brand_id="acme",
            mention_id=first.mention.mention_id,
            network=Network.X,
            native_id=first.mention.native_id,
            conversation_key=first.mention.conversation_key,
            deleted_at=datetime.now(UTC),
        )
    )
    assert (await world.cases.get(case_id=case_id, brand_ok=anyone))["review"][
        "outcome"
    ] == "deleted"
    # Within the window: the same case reopens.
    assert await world.cases.record_mention(mention("t8", text="again!")) == case_id
    case = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert case["status"] == "open"
    assert "case.reopened" in [e["type"] for e in case["timeline"]]
    # After the window: the old case closes and a new one opens.
    await world.cases.set_status(
        case_id, CaseStatus.RESOLVED, actor=AGENT, reason="", brand_ok=anyone
    )
    await world.repo.collection.update_one(
        {"_id": case_id},
        {"$set": {"resolved_ms": int((datetime.now(UTC) - timedelta(hours=2)).timestamp() * 1000)}},
    )
    new_id = await world.cases.record_mention(mention("t8", text="third time"))
    assert new_id is not None
    assert new_id != case_id
    old = await world.cases.get(case_id=case_id, brand_ok=anyone)
    assert old["status"] == "closed"


async def test_inbox_counters_follow_every_change_and_match_a_recount(world: World) -> None:
    await setup_brand(world)
    ids = [await world.cases.record_mention(mention(f"k{i}", author=f"k{i}")) for i in range(5)]
    assert all(ids)
    await world.cases.set_status(
        ids[0], CaseStatus.RESOLVED, actor=AGENT, reason="", brand_ok=anyone
    )  # type: ignore[arg-type]
    await world.cases.set_status(ids[1], CaseStatus.CLOSED, actor=AGENT, reason="", brand_ok=anyone)  # type: ignore[arg-type]
    await world.cases.set_priority(ids[2], Priority.URGENT, actor=AGENT, reason="", brand_ok=anyone)  # type: ignore[arg-type]
    kept = await world.cases.counts("acme")
    recounted = await world.repo._aggregate_counts("acme")
    assert kept == recounted, (kept, recounted)
    # The freed slots went to the two waiting cases (backfill), so all three active are open.
    assert kept["status"] == {"open": 3, "resolved": 1, "closed": 1}
    assert kept["priority"] == {"high": 2, "urgent": 1}
    assert sum(kept["sla_state"].values()) == 3
    assert await world.repo.recount("acme") == kept


async def test_inbox_pages_filters_and_orders_without_gaps_or_repeats(world: World) -> None:
    from smm_responder.adapters.cases_repo import CaseCursor, CaseQuery

    await setup_brand(world)
    ids = [await world.cases.record_mention(mention(f"p{i}", author=f"p{i}")) for i in range(7)]
    other = await world.cases.record_mention(mention("p-other", brand="globex"))
    assert all(ids)
    assert other
    seen: list[str] = []
    after = None
    while True:
        page, after = await world.repo.page(CaseQuery(brand_id="acme", limit=3, after=after))
        seen += [d["_id"] for d in page]
        if after is None:
            break
    assert sorted(seen) == sorted(ids)  # every case once, none of globex
    assert len(seen) == len(set(seen))
    activity = [
        (await world.cases.get(case_id=i, brand_ok=anyone))["last_activity_ms"] for i in seen
    ]
    assert activity == sorted(activity, reverse=True)
    mine, _ = await world.repo.page(CaseQuery(brand_id="acme", assignees=("bob",)))
    assert {d["assignee_id"] for d in mine} == {"bob"}
    assert len(mine) == 2
    by_deadline, _ = await world.repo.page(CaseQuery(brand_id="acme", sort="deadline"))
    dues = [d["next_due_ms"] for d in by_deadline]
    assert dues == sorted(dues)
    with pytest.raises(ValueError, match="another list"):
        await world.repo.page(CaseQuery(brand_id="globex", after=CaseCursor(f"acme|{0:016d}|x")))


async def test_a_freed_slot_goes_to_the_waiting_case_with_the_next_deadline(world: World) -> None:
    await setup_brand(world)
    ids = [await world.cases.record_mention(mention(f"b{i}", author=f"b{i}")) for i in range(4)]
    docs = [await world.cases.get(case_id=i, brand_ok=anyone) for i in ids]  # type: ignore[arg-type]
    waiting = [d["_id"] for d in docs if d.get("assignee_id") is None]
    assert len(waiting) == 1  # alice 1 + bob 2 slots, the fourth case waits
    alice_case = next(d["_id"] for d in docs if d.get("assignee_id") == "alice")
    await world.cases.set_status(
        alice_case, CaseStatus.RESOLVED, actor=AGENT, reason="", brand_ok=anyone
    )
    after = await world.cases.get(case_id=waiting[0], brand_ok=anyone)
    assert after["assignee_id"] == "alice"
    assigned = [e for e in after["timeline"] if e["type"] == "case.assigned"]
    assert assigned[-1]["reason"] == "waiting case given to an agent with a free slot"
    alice = await world.agents.get("acme", "alice")
    assert alice is not None
    assert (alice["active_cases"], alice["free_slots"]) == (1, 0)
