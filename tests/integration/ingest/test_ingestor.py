"""The mention pipeline on a real MongoDB-protocol server: dedupe, edits and deletions, once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from smm_ingest.adapters.graph_fetches_repo import GraphFetchRepository
from smm_ingest.adapters.mentions_repo import MentionRepository
from smm_ingest.domain.items import DeletedItem, EditedItem, NewItem
from smm_ingest.domain.mentions import MentionDraft
from smm_ingest.services.enrichment import Enricher
from smm_ingest.services.pipeline import MentionIngestor
from smm_shared.config import MongoSettings
from smm_shared.events import Author, MentionKind, Network
from smm_shared.mongo import Document, OutboxRelay

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def draft(text: str, native_id: str = "c1") -> MentionDraft:
    return MentionDraft(
        network=Network.VK,
        kind=MentionKind.COMMENT,
        native_id=native_id,
        author=Author(id="5"),
        text=text,
        created_at=T0,
        thread_id="wall-1_1",
    )


@pytest.fixture
async def pipeline(
    mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings
) -> tuple[MentionIngestor, Any]:
    db = mongo_client[mongo_settings.database]
    repo = MentionRepository(db["mentions"], db["engagement"], source="/test")
    await repo.ensure_indexes()

    async def nowhere(_: Any) -> None:
        raise AssertionError("the relay is not started in this test")

    ingestor = MentionIngestor(
        repository=repo,
        enricher=Enricher(detector=None, sentiment=None, rules_for=None),
        relay=OutboxRelay([db["mentions"]], nowhere),
        fetches=GraphFetchRepository(db["graph_fetches"], retention_days=1),
    )
    return ingestor, db["mentions"]


def event_types(doc: Document) -> list[str]:
    return [entry["headers"]["ce_type"] for entry in doc.get("outbox", [])]


async def test_replays_change_nothing(pipeline: tuple[MentionIngestor, Any]) -> None:
    ingestor, mentions = pipeline
    assert await ingestor.apply("b", [NewItem(draft("first"))], received_at=T0) == 1
    assert await ingestor.apply("b", [NewItem(draft("first"))], received_at=T0) == 0
    edit = EditedItem(draft("second"), edited_at=T0 + timedelta(minutes=1))
    assert await ingestor.apply("b", [edit], received_at=T0) == 1
    assert await ingestor.apply("b", [edit], received_at=T0) == 0  # the same edit again
    older = EditedItem(draft("stale"), edited_at=T0 + timedelta(seconds=30))
    assert await ingestor.apply("b", [older], received_at=T0) == 0  # an older edit arriving late
    gone = DeletedItem(Network.VK, "c1", deleted_at=T0 + timedelta(minutes=2), deleted_by="author")
    assert await ingestor.apply("b", [gone], received_at=T0) == 1
    assert await ingestor.apply("b", [gone], received_at=T0) == 0
    doc = await mentions.find_one({})
    assert doc["mention"]["text"] == "second"
    assert event_types(doc) == [
        "smm.mention.received",
        "smm.mention.updated",
        "smm.mention.deleted",
    ]


async def test_an_edit_seen_first_is_stored_with_its_edit_time(
    pipeline: tuple[MentionIngestor, Any],
) -> None:
    ingestor, mentions = pipeline
    edit = EditedItem(
        draft("edited before we saw it", native_id="c2"), edited_at=T0 + timedelta(minutes=5)
    )
    assert await ingestor.apply("b", [edit], received_at=T0) == 1
    assert await ingestor.apply("b", [edit], received_at=T0) == 0  # no empty update event
    doc = await mentions.find_one({"_id": {"$exists": True}, "natural_key": "b|vk|c2"})
    assert doc["mention"]["edited_at"].startswith("2026-11-27T10:05")
    assert event_types(doc) == ["smm.mention.received"]
