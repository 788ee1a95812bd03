"""The live view's fan-out without I/O: numbering, the ring buffer, resuming, overflow, visibility."""

from __future__ import annotations

import asyncio
import json

import pytest
from tests.unit.console.live_events import NOW, alert, case, post, sla

from smm_console.services.live import (
    PERMISSION_OF_KIND,
    LiveEvent,
    LiveHub,
    LiveItem,
    LiveReset,
    LiveSubscription,
    LiveView,
    live_kind,
)
from smm_shared.auth.tokens import ROLE_PERMISSIONS, Permission, Role
from smm_shared.events import (
    ContentCreated,
    ContestClosed,
    Event,
    MentionDeleted,
    Network,
    ReplyPublished,
)

pytestmark = pytest.mark.unit

ALL_ROLES = list(Role)


def one_of_each(brand: str) -> list[Event]:
    return [case(brand, "case-1"), sla(brand, "case-1"), alert(brand), post(brand)]


def everyone(brand: str) -> LiveView:
    return LiveView.of(brand, [Role.ADMIN])


def drain(subscription: LiveSubscription) -> list[LiveItem]:
    items: list[LiveItem] = []
    while (item := subscription.next_nowait()) is not None:
        items.append(item)
    return items


def seqs(items: list[LiveItem]) -> list[int]:
    return [item.seq for item in items if isinstance(item, LiveEvent)]


# --- classification and numbering -----------------------------------------------------------


def test_events_are_numbered_and_classified_by_topic() -> None:
    hub = LiveHub()

    published = [hub.publish(event) for event in one_of_each("acme")]

    assert [(e.seq, e.kind, e.event_type) for e in published if e is not None] == [
        (1, "case", "smm.case.opened"),
        (2, "sla", "smm.sla.warning"),
        (3, "alert", "smm.alert.opened"),
        (4, "post", "smm.post.published"),
    ]
    assert hub.last_seq == 4
    first = published[0]
    assert first is not None
    assert first.brand_id == "acme"
    assert first.data["case_id"] == "case-1"
    assert isinstance(first.data["occurred_at"], str)  # JSON, ready for the wire
    assert json.loads(first.payload) == {
        "type": "smm.case.opened",
        "kind": "case",
        "brand_id": "acme",
        "data": first.data,
    }
    # exclude_none: optional fields that are unset are absent, not null.
    sla_event = published[1]
    assert sla_event is not None
    assert "breach_due_at" not in sla_event.data


def test_events_of_other_topics_and_reply_outcomes_are_not_live() -> None:
    hub = LiveHub()
    mention = MentionDeleted(
        brand_id="acme",
        mention_id="m-1",
        network=Network.X,
        native_id="n-1",
        conversation_key="x:thread-1",
        deleted_at=NOW,
    )
    # On the posts topic, but about a case: the responder restates it as case.replied.
    reply = ReplyPublished(
        brand_id="acme", reply_id="r-1", case_id="case-1", network=Network.X, native_id="n-2"
    )
    draft = ContentCreated(
        brand_id="acme", content_id="c-1", actor="user:u1", title="Spring", networks=[Network.VK]
    )

    assert live_kind(mention) is None
    assert live_kind(reply) is None
    assert live_kind(draft) == "post"
    with hub.subscribe(everyone("acme")) as subscription:
        assert hub.publish(mention) is None
        assert hub.publish(reply) is None
        assert hub.last_seq == 0
        assert hub.buffered() == []
        assert drain(subscription) == []


def test_the_buffer_keeps_the_latest_events() -> None:
    hub = LiveHub(buffer_size=3)
    for i in range(5):
        hub.publish(case("acme", f"case-{i}"))

    assert [e.seq for e in hub.buffered()] == [3, 4, 5]
    assert [e.data["case_id"] for e in hub.buffered()] == ["case-2", "case-3", "case-4"]


def test_sizes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        LiveHub(buffer_size=0)
    with pytest.raises(ValueError, match="positive"):
        LiveHub(queue_size=0)


# --- subscribing and resuming -----------------------------------------------------------------


def test_a_new_subscriber_gets_only_what_comes_after_it() -> None:
    hub = LiveHub()
    hub.publish(case("acme", "before"))

    with hub.subscribe(everyone("acme")) as subscription:
        assert drain(subscription) == []
        hub.publish(case("acme", "after-1"))
        hub.publish(case("acme", "after-2"))
        items = drain(subscription)

    assert [i.data["case_id"] for i in items if isinstance(i, LiveEvent)] == ["after-1", "after-2"]


def test_resuming_replays_the_buffered_events_after_the_id_then_live_ones() -> None:
    hub = LiveHub(buffer_size=10)
    for i in range(1, 6):
        hub.publish(case("acme", f"case-{i}"))

    with hub.subscribe(everyone("acme"), after_seq=3) as subscription:
        hub.publish(case("acme", "case-6"))
        items = drain(subscription)

    # No gap and no duplicate between the replay and the live events.
    assert seqs(items) == [4, 5, 6]
    assert all(isinstance(i, LiveEvent) for i in items)


def test_resuming_at_the_edges_of_the_buffer() -> None:
    hub = LiveHub(buffer_size=3)
    for i in range(1, 6):  # keeps 3, 4, 5
        hub.publish(case("acme", f"case-{i}"))

    with hub.subscribe(everyone("acme"), after_seq=2) as oldest_resumable:
        assert seqs(drain(oldest_resumable)) == [3, 4, 5]
    with hub.subscribe(everyone("acme"), after_seq=5) as up_to_date:
        assert drain(up_to_date) == []


def test_resuming_from_before_the_buffer_starts_with_a_reset() -> None:
    hub = LiveHub(buffer_size=3)
    for i in range(1, 6):
        hub.publish(case("acme", f"case-{i}"))

    with hub.subscribe(everyone("acme"), after_seq=1) as subscription:
        hub.publish(case("acme", "case-6"))
        items = drain(subscription)

    # Event 2 is gone: refetch (covering up to 5), then live from 6 on; no partial replay.
    assert items[0] == LiveReset(5, "resume_unavailable")
    assert seqs(items[1:]) == [6]


def test_an_id_from_another_process_or_the_future_starts_with_a_reset() -> None:
    hub = LiveHub(instance="abc")
    hub.publish(case("acme"))

    for after in (-1, 2):
        with hub.subscribe(everyone("acme"), after_seq=after) as subscription:
            assert drain(subscription) == [LiveReset(1, "resume_unavailable")]


def test_a_fresh_hub_resumes_from_zero_but_not_from_an_unknown_id() -> None:
    hub = LiveHub()
    with hub.subscribe(everyone("acme"), after_seq=0) as subscription:
        hub.publish(case("acme"))
        assert seqs(drain(subscription)) == [1]
    with hub.subscribe(everyone("acme"), after_seq=7) as subscription:
        assert drain(subscription) == [LiveReset(1, "resume_unavailable")]


def test_event_ids_name_the_process_and_resume_only_from_its_own() -> None:
    hub = LiveHub(instance="k3x9")

    assert hub.event_id(42) == "k3x9.42"
    assert hub.resume_point(None) is None
    assert hub.resume_point("") is None
    assert hub.resume_point("k3x9.42") == 42
    assert hub.resume_point(" k3x9.0 ") == 0
    for foreign in ("zz99.42", "42", "k3x9.", "k3x9.-1", "k3x9.4x", "k3x9.²", "k3x9." + "9" * 19):
        assert hub.resume_point(foreign) == -1, foreign
    assert LiveHub().instance != LiveHub().instance


def test_the_instance_must_be_alphanumeric() -> None:
    with pytest.raises(ValueError, match="letters and digits"):
        LiveHub(instance="a.b")


# --- slow subscribers -------------------------------------------------------------------------


def test_a_subscriber_that_falls_behind_gets_a_reset_and_continues() -> None:
    hub = LiveHub(queue_size=3)
    with (
        hub.subscribe(everyone("acme")) as slow,
        hub.subscribe(everyone("acme")) as other,
    ):
        for i in range(1, 6):
            hub.publish(case("acme", f"case-{i}"))
            assert seqs(drain(other)) == [i]  # the other one keeps up and misses nothing

        items = drain(slow)

    # 1..3 filled the queue; 4 did not fit: what was queued is superseded by a reset that
    # covers up to 4; 5 follows it.
    assert items == [LiveReset(4, "overflow"), hub.buffered()[-1]]
    assert seqs(items) == [5]
    assert slow.overflows == 1
    assert other.overflows == 0


def test_a_subscriber_that_stays_behind_gets_one_reset_per_overflow() -> None:
    hub = LiveHub(queue_size=2)
    with hub.subscribe(everyone("acme")) as slow:
        for i in range(1, 8):
            hub.publish(case("acme", f"case-{i}"))
        items = drain(slow)

    # 3 overflowed (reset), 4 queued behind it, 5 overflowed, 6 queued, 7 overflowed.
    assert items == [LiveReset(7, "overflow")]
    assert slow.overflows == 3


async def test_next_waits_for_the_next_event() -> None:
    hub = LiveHub()
    with hub.subscribe(everyone("acme")) as subscription:
        waiting = asyncio.create_task(subscription.next())
        await asyncio.sleep(0)  # let it start waiting on the empty queue
        assert not waiting.done()
        hub.publish(case("acme"))
        item = await asyncio.wait_for(waiting, timeout=1)

    assert isinstance(item, LiveEvent)
    assert item.seq == 1


def test_closing_unsubscribes() -> None:
    hub = LiveHub()
    first = hub.subscribe(everyone("acme"))
    with hub.subscribe(everyone("globex")):
        assert hub.subscriber_count == 2
    assert hub.subscriber_count == 1

    first.close()
    first.close()  # idempotent

    assert hub.subscriber_count == 0
    hub.publish(case("acme"))
    assert first.next_nowait() is None


# --- visibility -------------------------------------------------------------------------------


def test_kinds_need_the_permission_of_their_read_api() -> None:
    assert PERMISSION_OF_KIND == {
        "case": Permission.MENTIONS_READ,
        "sla": Permission.MENTIONS_READ,
        "alert": Permission.ANALYTICS_READ,
        "post": Permission.CONTENT_READ,
        "contest": Permission.CONTENT_READ,
    }


def test_contest_events_are_live_for_content_readers_of_their_brand() -> None:
    # The contests page watches entries close and winners drawn without polling for them.
    hub = LiveHub()
    closed = [
        hub.publish(ContestClosed(brand_id=brand, contest_id="k-1", entries=12))
        for brand in ("acme", "globex")
    ]
    readers = LiveView("acme", frozenset({Permission.CONTENT_READ}))
    agents = LiveView("acme", frozenset({Permission.MENTIONS_READ}))

    assert [(e.kind, e.event_type) for e in closed if e] == [
        ("contest", "smm.contest.closed"),
        ("contest", "smm.contest.closed"),
    ]
    assert [e.brand_id for e in closed if e and readers.sees(e)] == ["acme"]
    assert [e for e in closed if e and agents.sees(e)] == []


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_reads_every_kind_of_its_current_brand_only(role: Role) -> None:
    # ROLE_PERMISSIONS grants mentions, content and analytics reads to every role (an
    # analyst reads cases too), so in a brand every member sees every live kind.
    hub = LiveHub()
    view = LiveView.of("acme", [role])
    events = [e for e in map(hub.publish, one_of_each("acme") + one_of_each("globex")) if e]

    visible = [(e.brand_id, e.kind) for e in events if view.sees(e)]

    assert view.permissions == ROLE_PERMISSIONS[role]
    assert visible == [("acme", "case"), ("acme", "sla"), ("acme", "alert"), ("acme", "post")]


def test_roles_without_a_read_permission_do_not_see_its_kinds() -> None:
    hub = LiveHub()
    events = [e for e in map(hub.publish, one_of_each("acme")) if e]
    table = {
        Role.AGENT: frozenset({Permission.MENTIONS_READ}),
        Role.ANALYST: frozenset({Permission.ANALYTICS_READ}),
        Role.CONTENT_MANAGER: frozenset({Permission.CONTENT_READ}),
        Role.VIEWER: frozenset({Permission.MENTIONS_WRITE}),
    }

    def kinds(*roles: Role) -> list[str]:
        view = LiveView.of("acme", roles, table=table)
        return [e.kind for e in events if view.sees(e)]

    assert kinds(Role.AGENT) == ["case", "sla"]
    assert kinds(Role.ANALYST) == ["alert"]
    assert kinds(Role.CONTENT_MANAGER) == ["post"]
    assert kinds(Role.VIEWER) == []
    assert kinds(Role.AGENT, Role.CONTENT_MANAGER) == ["case", "sla", "post"]
    assert kinds() == []


def test_the_hub_delivers_only_what_the_view_sees() -> None:
    hub = LiveHub()
    agents_only = LiveView("acme", frozenset({Permission.MENTIONS_READ}))
    with (
        hub.subscribe(agents_only) as agent,
        hub.subscribe(everyone("globex")) as other_brand,
    ):
        for event in one_of_each("acme"):
            hub.publish(event)
        agent_items, other_items = drain(agent), drain(other_brand)

    assert [(i.brand_id, i.kind) for i in agent_items if isinstance(i, LiveEvent)] == [
        ("acme", "case"),
        ("acme", "sla"),
    ]
    assert other_items == []


def test_a_replay_is_filtered_like_live_events() -> None:
    hub = LiveHub()
    for event in one_of_each("acme") + one_of_each("globex"):
        hub.publish(event)
    analyst_view = LiveView("acme", frozenset({Permission.ANALYTICS_READ}))

    with hub.subscribe(analyst_view, after_seq=0) as subscription:
        items = drain(subscription)

    assert [(i.brand_id, i.kind, i.seq) for i in items if isinstance(i, LiveEvent)] == [
        ("acme", "alert", 3)
    ]
