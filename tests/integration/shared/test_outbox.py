"""The embedded outbox on a real MongoDB-protocol server: order, crash recovery, concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient

from smm_shared.config import MongoSettings
from smm_shared.events import CaseMentionAdded, CaseOpened, Event
from smm_shared.messaging import OutgoingMessage
from smm_shared.mongo import (
    OUTBOX_INDEXES,
    Collection,
    Document,
    OutboxRelay,
    ensure_indexes,
    epoch_ms,
    outbox_fields,
    with_outbox,
)
from smm_shared.testing import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def cases(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> Collection:
    coll = mongo_client[mongo_settings.database]["cases"]
    await ensure_indexes(coll, OUTBOX_INDEXES)
    return coll


def opened(case_id: str) -> CaseOpened:
    return CaseOpened(
        brand_id="b", case_id=case_id, conversation_key="vk:1", network="vk", mention_id="m0"
    )


def added(case_id: str, n: int) -> CaseMentionAdded:
    return CaseMentionAdded(
        brand_id="b",
        case_id=case_id,
        conversation_key="vk:1",
        mention_id=f"m{n}",
        mention_count=n + 1,
    )


class Recorder:
    """Stands in for the Kafka publisher; can fail on chosen events."""

    def __init__(self, fail_on: set[str] | None = None) -> None:
        self.sent: list[OutgoingMessage] = []
        self.fail_on = fail_on or set()

    async def __call__(self, message: OutgoingMessage) -> None:
        ce_id = message.headers["ce_id"]
        if ce_id in self.fail_on:
            self.fail_on.discard(ce_id)
            raise ConnectionError("broker went away")
        self.sent.append(message)

    def ids(self) -> list[str]:
        return [m.headers["ce_id"] for m in self.sent]


async def store(coll: Collection, case_id: str, events: list[Event]) -> None:
    await coll.insert_one(
        {"_id": case_id, "status": "new", **outbox_fields(events[:1], source="/t")}
    )
    for event in events[1:]:
        await coll.update_one(
            {"_id": case_id}, with_outbox({"$inc": {"n": 1}}, [event], source="/t")
        )


async def test_relay_publishes_each_documents_events_in_order_and_clears_them(
    cases: Collection,
) -> None:
    a = [opened("A"), added("A", 1), added("A", 2)]
    b = [opened("B"), added("B", 1)]
    await store(cases, "A", a)
    await store(cases, "B", b)
    send = Recorder()
    relay = OutboxRelay([cases], send)
    assert await relay.drain() == 5
    ids = send.ids()
    assert [i for i in ids if i in {e.event_id for e in a}] == [e.event_id for e in a]
    assert [i for i in ids if i in {e.event_id for e in b}] == [e.event_id for e in b]
    first = send.sent[0]
    assert first.topic == "smm.cases.v1"
    assert first.key in {"A", "B"}
    assert first.headers["ce_type"].startswith("smm.case.")
    doc = await cases.find_one({"_id": "A"})
    assert doc is not None
    assert doc["outbox"] == []
    assert "outbox_pending" not in doc
    assert doc["n"] == 2  # the state change stored with the events is intact
    assert await relay.drain() == 0


async def test_a_failed_publish_keeps_the_rest_for_the_next_attempt(cases: Collection) -> None:
    events = [opened("C"), added("C", 1), added("C", 2)]
    await store(cases, "C", events)
    send = Recorder(fail_on={events[1].event_id})
    relay = OutboxRelay([cases], send)
    with pytest.raises(ConnectionError):
        await relay.drain()
    assert send.ids() == [events[0].event_id]
    doc = await cases.find_one({"_id": "C"})
    assert doc is not None
    assert [e["id"] for e in doc["outbox"]] == [e.event_id for e in events[1:]]
    # Released after the failure: the next pass publishes the rest, in order.
    assert await relay.drain() == 2
    assert send.ids() == [e.event_id for e in events]


async def test_documents_sharing_a_key_go_one_at_a_time_and_in_order(cases: Collection) -> None:
    # Mentions of one conversation are documents of their own with one partition key: one
    # request at a time per key keeps their order (and spares Tansu's racing first writes).
    events = [added("same", n) for n in range(4)]
    for n, event in enumerate(events):
        await cases.insert_one({"_id": f"k{n}", **outbox_fields([event], source="/t")})
    await store(cases, "other", [opened("other")])
    in_flight: dict[str, int] = {}
    overlapped: list[str] = []
    order: list[str] = []

    async def send(message: OutgoingMessage) -> None:
        in_flight[message.key] = in_flight.get(message.key, 0) + 1
        if in_flight[message.key] > 1:
            overlapped.append(message.key)
        await asyncio.sleep(0.01)
        order.append(message.headers["ce_id"])
        in_flight[message.key] -= 1

    relay = OutboxRelay([cases], send)
    assert await relay.drain() == 5
    assert overlapped == []
    same = {e.event_id for e in events}
    assert [i for i in order if i in same] == [e.event_id for e in events]  # as claimed
    docs = [d async for d in cases.find({"_id": {"$in": [f"k{n}" for n in range(4)]}})]
    assert all(d["outbox"] == [] for d in docs)


async def test_a_failure_holds_back_the_later_documents_of_its_key(cases: Collection) -> None:
    events = [added("same", n) for n in range(3)]
    for n, event in enumerate(events):
        await cases.insert_one({"_id": f"h{n}", **outbox_fields([event], source="/t")})
    free = opened("free")
    await store(cases, "free", [free])
    same = {e.event_id for e in events}
    send = Recorder(fail_on={events[0].event_id})
    relay = OutboxRelay([cases], send)

    with pytest.raises(ConnectionError):
        await relay.drain()

    # The failed key sent nothing after its failure; the other key went on.
    assert send.ids() == [free.event_id]
    assert await relay.drain() == 3
    assert sorted(i for i in send.ids() if i in same) == sorted(same)


async def test_a_lease_keeps_other_relays_off_until_it_expires(cases: Collection) -> None:
    events = [opened("L"), added("L", 1)]
    await store(cases, "L", events)
    now = datetime.now(UTC)
    clock_at = [now]
    # A relay that claimed the document and died before publishing.
    await cases.update_one(
        {"_id": "L"},
        {
            "$set": {
                "outbox_lease_until_ms": epoch_ms(now + timedelta(seconds=30)),
                "outbox_lease_owner": "dead",
            }
        },
    )
    send = Recorder()
    relay = OutboxRelay([cases], send, lease_s=30, clock=lambda: clock_at[0])
    assert await relay.drain() == 0
    clock_at[0] = now + timedelta(seconds=31)
    assert await relay.drain() == 2
    assert send.ids() == [e.event_id for e in events]


async def test_events_added_while_publishing_are_not_lost(cases: Collection) -> None:
    first = opened("D")
    await store(cases, "D", [first])
    send = Recorder()
    relay = OutboxRelay([cases], send, poll_interval_s=0.05)
    late = [added("D", i) for i in range(1, 21)]

    async def writer() -> None:
        for event in late:
            await cases.update_one(
                {"_id": "D"}, with_outbox({"$inc": {"n": 1}}, [event], source="/t")
            )
            relay.notify()
            await asyncio.sleep(0)

    await relay.start()
    try:
        await writer()

        async def all_sent() -> bool:
            return len(set(send.ids())) == 21

        await eventually(all_sent, timeout_s=15, what="all 21 events relayed")
    finally:
        await relay.stop()
    assert send.ids() == [first.event_id] + [e.event_id for e in late]
    doc = await cases.find_one({"_id": "D"})
    assert doc is not None
    assert doc["outbox"] == []


async def test_two_relays_share_the_work_without_losing_an_event(cases: Collection) -> None:
    expected: set[str] = set()
    for i in range(30):
        events = [opened(f"E{i}"), added(f"E{i}", 1)]
        expected |= {e.event_id for e in events}
        await store(cases, f"E{i}", events)
    one, two = Recorder(), Recorder()
    r1, r2 = OutboxRelay([cases], one), OutboxRelay([cases], two)
    await asyncio.gather(r1.drain(), r2.drain())
    published = one.ids() + two.ids()
    assert set(published) == expected
    # Leases keep a document with one relay: no event was published twice.
    assert len(published) == len(expected)


async def test_a_publish_the_broker_never_answers_times_out_and_is_sent_again(
    cases: Collection,
) -> None:
    events = [opened("H")]
    await store(cases, "H", events)
    hang = asyncio.Event()
    sent: list[str] = []

    async def send(message: OutgoingMessage) -> None:
        if not sent and not hang.is_set():
            hang.set()
            await asyncio.Event().wait()  # the first publish is never acknowledged
        sent.append(dict(message.headers)["ce_id"])

    relay = OutboxRelay([cases], send, send_timeout_s=0.2)
    with pytest.raises(TimeoutError):
        await relay.drain()
    doc = await cases.find_one({"_id": "H"})
    assert doc is not None
    assert [e["id"] for e in doc["outbox"]] == [events[0].event_id]  # still stored
    assert await relay.drain() == 1
    assert sent == [events[0].event_id]
