"""Poll and stream runners on a real MongoDB-protocol server: leases, cursors, reconnection."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from smm_ingest.adapters.poll_state_repo import PollStateRepository
from smm_ingest.adapters.raw_store import RawEventStore
from smm_ingest.domain.connectors import Connector, ConnectorKind
from smm_ingest.domain.items import NewItem, ParsedItem, ParsedPayload, PayloadError
from smm_ingest.domain.mentions import MentionDraft
from smm_ingest.domain.polling import PollResult, RateLimitedError, StalledStreamError, StreamBatch
from smm_ingest.services.polling import PollRunner, StreamRunner
from smm_shared.config import MongoSettings
from smm_shared.events import Author, MentionKind, Network
from smm_shared.mongo import Document

pytestmark = pytest.mark.integration

CONNECTOR = Connector(id="c1", brand_id="b1", kind=ConnectorKind.TELEGRAM_POLL, name="t", config={})


class RecordingIngestor:
    """Stands in for the mention pipeline (tested elsewhere): records what would be stored."""

    def __init__(self, order: list[str]) -> None:
        self.items: list[str] = []
        self._order = order

    async def apply(
        self, brand_id: str, items: Sequence[ParsedItem], *, received_at: datetime
    ) -> int:
        self.items += [i.draft.native_id for i in items if isinstance(i, NewItem)]
        self._order.append("stored")
        return len(items)


class OrderedState(PollStateRepository):
    """The real repository, noting when cursors are saved relative to storing."""

    def __init__(self, collection: Any, order: list[str]) -> None:
        super().__init__(collection)
        self._order = order

    async def advance(self, connector_id: str, **kwargs: Any) -> bool:
        self._order.append(f"cursor={kwargs['cursor']}")
        return await super().advance(connector_id, **kwargs)


def parse(payload: Mapping[str, Any], connector: Connector) -> ParsedPayload:
    if "bad" in payload:
        raise PayloadError("payload.bad_type", "unreadable")
    draft = MentionDraft(
        network=Network.TELEGRAM,
        kind=MentionKind.DIRECT_MESSAGE,
        native_id=str(payload["id"]),
        author=Author(id="a"),
        text="hi",
        created_at=datetime.fromisoformat("2026-11-27T10:00:00+00:00"),
    )
    return ParsedPayload(items=[NewItem(draft)])


async def no_sleep(_: float) -> None:
    return None


@pytest.fixture
def state_coll(mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings) -> Any:
    return mongo_client[mongo_settings.database]["poll_state"]


class ScriptedPoller:
    def __init__(self, script: list[PollResult | Exception]) -> None:
        self.script = script
        self.cursors: list[str | None] = []

    async def poll(self, cursor: str | None) -> PollResult:
        self.cursors.append(cursor)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


async def test_poll_runner_stores_before_saving_the_cursor_and_resumes_from_it(
    state_coll: Any,
) -> None:
    order: list[str] = []
    ingestor = RecordingIngestor(order)
    state = OrderedState(state_coll, order)
    poller = ScriptedPoller(
        [
            PollResult(payloads=[{"id": 1}, {"bad": 1}, {"id": 2}], next_cursor="3"),
            RateLimitedError("slow down", retry_after_s=7),
            PollResult(payloads=[{"id": 3}], next_cursor="4"),
        ]
    )
    runner = PollRunner(
        connector=CONNECTOR,
        poller=poller,
        parser=parse,
        ingestor=ingestor,  # type: ignore[arg-type]
        state=state,
        owner="replica-a",
        sleep=no_sleep,
        rng=random.Random(1),
    )
    assert await runner.step() == 0.0
    assert order == ["stored", "cursor=3"]  # the cursor moves only after the items are stored
    assert ingestor.items == ["1", "2"]  # the unreadable item is skipped, not blocking
    delay = await runner.step()
    assert delay >= 7  # the network's Retry-After is honoured
    saved = await state.get("c1")
    assert saved is not None
    assert saved["state"] == "rate_limited"
    assert saved["cursor"] == "3"

    # Another replica (a restart) resumes from the stored cursor once the lease is free.
    await state.release("c1", owner="replica-a")
    successor = PollRunner(
        connector=CONNECTOR,
        poller=poller,
        parser=parse,
        ingestor=ingestor,  # type: ignore[arg-type]
        state=state,
        owner="replica-b",
        sleep=no_sleep,
    )
    await successor.step()
    assert poller.cursors == [None, "3", "3"]
    assert ingestor.items == ["1", "2", "3"]
    final = await state.get("c1")
    assert final is not None
    assert final["cursor"] == "4"
    assert final["items"] == 3
    assert final["state"] == "running"
    assert "last_error" not in final


async def test_polled_batches_are_kept_for_audit_as_received(
    state_coll: Any, mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> None:
    raw = RawEventStore(mongo_client[mongo_settings.database]["raw_deliveries"], retention_days=3)
    await raw.ensure_indexes()
    poller = ScriptedPoller(
        [PollResult(payloads=[{"id": 1}, {"bad": 1}], next_cursor="2"), PollResult(next_cursor="2")]
    )
    runner = PollRunner(
        connector=CONNECTOR,
        poller=poller,
        parser=parse,
        ingestor=RecordingIngestor([]),  # type: ignore[arg-type]
        state=PollStateRepository(state_coll),
        owner="replica-a",
        audit=raw,
        sleep=no_sleep,
    )
    await runner.step()
    await runner.step()  # an empty poll leaves no audit record
    docs = [d async for d in raw.collection.find({})]
    assert len(docs) == 1
    (doc,) = docs
    assert (doc["connector_id"], doc["brand_id"], doc["kind"]) == ("c1", "b1", "telegram_poll")
    assert json.loads(doc["body"]) == [{"id": 1}, {"bad": 1}]  # the unreadable item too
    assert doc["items"] == 1
    assert "pending_ms" not in doc  # already processed: never claimed again
    _, claimed = await raw.claim(now=datetime.now(UTC), lease_s=30, limit=10)
    assert claimed == []


async def test_only_the_lease_holder_polls(state_coll: Any) -> None:
    order: list[str] = []
    state = PollStateRepository(state_coll)
    first = ScriptedPoller([PollResult(next_cursor="1"), PollResult(next_cursor="2")])
    second = ScriptedPoller([PollResult(next_cursor="x")])
    a = PollRunner(
        connector=CONNECTOR,
        poller=first,
        parser=parse,
        ingestor=RecordingIngestor(order),  # type: ignore[arg-type]
        state=state,
        owner="a",
        lease_s=60,
    )
    b = PollRunner(
        connector=CONNECTOR,
        poller=second,
        parser=parse,
        ingestor=RecordingIngestor(order),  # type: ignore[arg-type]
        state=state,
        owner="b",
        lease_s=60,
    )
    await a.step()
    wait = await b.step()
    assert second.cursors == []  # b never polled while a holds the lease
    assert wait > 0
    await a.step()
    assert first.cursors == [None, "1"]


class ScriptedStream:
    def __init__(self) -> None:
        self.connections: list[str | None] = []

    async def stream(self, cursor: str | None) -> AsyncIterator[StreamBatch]:
        self.connections.append(cursor)
        if len(self.connections) == 1:
            yield StreamBatch(payloads=[{"id": 10}], cursor="c10")
            yield StreamBatch(payloads=[{"id": 11}], cursor="c11")
            raise StalledStreamError("no keep-alive for 20 s")
        yield StreamBatch(payloads=[{"id": 12}], cursor="c12")


async def test_stream_runner_reconnects_from_the_last_stored_cursor(state_coll: Any) -> None:
    order: list[str] = []
    ingestor = RecordingIngestor(order)
    state = OrderedState(state_coll, order)
    source = ScriptedStream()
    runner = StreamRunner(
        source=source,
        connector=CONNECTOR,
        parser=parse,
        ingestor=ingestor,  # type: ignore[arg-type]
        state=state,
        owner="a",
        sleep=no_sleep,
        rng=random.Random(3),
    )
    delay = await runner.step()
    assert 0 <= delay <= 1  # first failure: a short jittered backoff before reconnecting
    assert order == ["stored", "cursor=c10", "stored", "cursor=c11"]
    failed = await state.get("c1")
    assert failed is not None
    assert failed["state"] == "retrying"
    assert "keep-alive" in failed["last_error"]
    await runner.step()
    assert source.connections == [None, "c11"]
    assert ingestor.items == ["10", "11", "12"]
