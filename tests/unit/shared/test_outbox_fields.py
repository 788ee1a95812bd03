"""The embedded outbox as update and insert fields: what gets stored next to a state change."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider

from smm_shared.events import (
    Author,
    CaseOpened,
    Mention,
    MentionReceived,
    cloudevent_headers,
    new_ulid,
)
from smm_shared.mongo import (
    OUTBOX_FIELD,
    PENDING_FIELD,
    outbox_entry,
    outbox_fields,
    with_outbox,
)

pytestmark = pytest.mark.unit

SOURCE = "/smm/test"


def mention_event(text: str = "hello") -> MentionReceived:
    native = new_ulid()
    return MentionReceived(
        brand_id="brand-a",
        mention=Mention(
            mention_id=new_ulid(),
            network="vk",
            kind="comment",
            native_id=native,
            conversation_key=f"vk:wall-1_{native}",
            author=Author(id="42", handle="ivan"),
            text=text,
            created_at=datetime.now(UTC),
        ),
    )


def case_event() -> CaseOpened:
    return CaseOpened(
        brand_id="brand-a",
        case_id=new_ulid(),
        conversation_key="vk:wall-1_1",
        network="vk",
        mention_id=new_ulid(),
    )


def test_entry_carries_topic_key_headers_and_the_event_json() -> None:
    event = mention_event("Привет")

    entry = outbox_entry(event, source=SOURCE)

    assert entry["id"] == event.event_id
    assert entry["topic"] == "smm.mentions.v1"
    assert entry["key"] == event.mention.conversation_key
    assert entry["headers"] == cloudevent_headers(event, source=SOURCE)
    assert entry["headers"]["ce_type"] == "smm.mention.received"
    assert entry["headers"]["ce_source"] == SOURCE
    assert isinstance(entry["body"], str)
    assert MentionReceived.model_validate_json(entry["body"]) == event


def test_entry_key_is_the_events_partition_key() -> None:
    event = case_event()

    entry = outbox_entry(event, source=SOURCE)

    assert entry["topic"] == "smm.cases.v1"
    assert entry["key"] == event.case_id


def test_entry_has_no_trace_outside_a_span() -> None:
    assert "trace" not in outbox_entry(mention_event(), source=SOURCE)


def test_entry_carries_the_active_trace_context() -> None:
    tracer = TracerProvider().get_tracer("smm.test")

    with tracer.start_as_current_span("request") as span:
        entry = outbox_entry(mention_event(), source=SOURCE)
        context = span.get_span_context()

    traceparent = entry["trace"]["traceparent"]
    _version, trace_id, span_id, _flags = traceparent.split("-")
    assert trace_id == f"{context.trace_id:032x}"
    assert span_id == f"{context.span_id:016x}"


def test_with_outbox_without_events_returns_the_update_unchanged() -> None:
    update = {"$set": {"status": "open"}, "$inc": {"version": 1}}

    assert with_outbox(update, [], source=SOURCE) == update


def test_with_outbox_appends_with_add_to_set_each_and_marks_pending() -> None:
    events = [mention_event("first"), mention_event("second")]

    update = with_outbox({"$set": {"status": "open"}}, events, source=SOURCE)

    # $addToSet, never $push: the Mongo subset mangles pushed subdocuments (docs/mongo-subset.md).
    assert "$push" not in update
    entries = update["$addToSet"][OUTBOX_FIELD]["$each"]
    assert [e["id"] for e in entries] == [e.event_id for e in events]
    assert [json.loads(e["body"])["mention"]["text"] for e in entries] == ["first", "second"]
    assert update["$set"] == {"status": "open", PENDING_FIELD: True}


def test_with_outbox_merges_into_existing_operators_without_mutating_the_input() -> None:
    original = {
        "$set": {"status": "open"},
        "$addToSet": {"mention_ids": "m-1"},
        "$inc": {"version": 1},
    }
    before = copy.deepcopy(original)

    update = with_outbox(original, [case_event()], source=SOURCE)

    assert original == before
    assert update["$set"] == {"status": "open", PENDING_FIELD: True}
    assert update["$addToSet"]["mention_ids"] == "m-1"
    assert len(update["$addToSet"][OUTBOX_FIELD]["$each"]) == 1
    assert update["$inc"] == {"version": 1}


def test_with_outbox_adds_set_when_the_update_had_none() -> None:
    update = with_outbox({"$inc": {"count": 1}}, [case_event()], source=SOURCE)

    assert update["$set"] == {PENDING_FIELD: True}
    assert update["$inc"] == {"count": 1}


def test_outbox_fields_for_an_insert() -> None:
    events = [mention_event(), case_event()]

    fields = outbox_fields(events, source=SOURCE)

    assert fields[PENDING_FIELD] is True
    assert [e["id"] for e in fields[OUTBOX_FIELD]] == [e.event_id for e in events]
    assert [e["topic"] for e in fields[OUTBOX_FIELD]] == ["smm.mentions.v1", "smm.cases.v1"]


def test_outbox_fields_without_events_is_an_empty_outbox_not_pending() -> None:
    # The array must exist for a later $addToSet to append to it (docs/mongo-subset.md).
    assert outbox_fields([], source=SOURCE) == {OUTBOX_FIELD: []}
