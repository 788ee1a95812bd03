"""The portable MongoDB subset the platform relies on, proved on the server the suite runs against.

If a server or driver upgrade breaks one of these assumptions, this fails loudly here
instead of silently corrupting data in a service (see ARCHITECTURE.md section 3).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError

from smm_shared.config import MongoSettings
from smm_shared.mongo import MAX_DOTTED_PATHS, Document, IndexSpec, chunked, ensure_indexes

pytestmark = pytest.mark.integration


@pytest.fixture
def db(mongo_client: AsyncMongoClient[Document], mongo_settings: MongoSettings):  # type: ignore[no-untyped-def]
    return mongo_client[mongo_settings.database]


async def test_string_ids_and_missing_fields(db) -> None:  # type: ignore[no-untyped-def]
    coll = db.items
    await coll.insert_one({"_id": "01A", "name": "x"})
    await coll.insert_one({"_id": "01B", "name": "y", "flag": True})
    assert await coll.find_one({"_id": "01A"}) == {"_id": "01A", "name": "x"}
    missing = [d["_id"] async for d in coll.find({"flag": {"$exists": False}})]
    assert missing == ["01A"]


async def test_unique_and_partial_unique_indexes(db) -> None:  # type: ignore[no-untyped-def]
    coll = db.cases
    await ensure_indexes(
        coll, [IndexSpec(["open_key"], unique=True, partial_filter={"open_key": {"$exists": True}})]
    )
    await ensure_indexes(  # idempotent
        coll, [IndexSpec(["open_key"], unique=True, partial_filter={"open_key": {"$exists": True}})]
    )
    await coll.insert_one({"_id": "c1", "open_key": "b|vk:1"})
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one({"_id": "c2", "open_key": "b|vk:1"})
    # Documents without the field do not collide (closed cases).
    await coll.insert_one({"_id": "c3"})
    await coll.insert_one({"_id": "c4"})
    await coll.update_one({"_id": "c1"}, {"$unset": {"open_key": ""}})
    await coll.insert_one({"_id": "c5", "open_key": "b|vk:1"})
    assert (await coll.find_one({"open_key": "b|vk:1"}))["_id"] == "c5"


async def test_guarded_upsert_counts_once(db) -> None:  # type: ignore[no-untyped-def]
    """``$nin`` guard + upsert: a replayed event hits DuplicateKeyError instead of counting twice.

    ``{"events": {"$ne": id}}`` does not have array semantics on nx-27017; ``$nin`` does.
    """
    coll = db.buckets

    async def count(event_id: str) -> bool:
        try:
            await coll.update_one(
                {"_id": "b|mentions|2026-11-27T10", "events": {"$nin": [event_id]}},
                {"$inc": {"count": 1}, "$push": {"events": event_id}},
                upsert=True,
            )
            return True
        except DuplicateKeyError:
            return False

    assert await count("e1") is True
    assert await count("e2") is True
    assert await count("e1") is False
    doc = await coll.find_one({"_id": "b|mentions|2026-11-27T10"})
    assert doc is not None
    assert doc["count"] == 2
    assert doc["events"] == ["e1", "e2"]


async def test_outbox_operations(db) -> None:  # type: ignore[no-untyped-def]
    """$addToSet $each of subdocuments, $pull by a sub-field with $in, $size, $or on dates.

    Subdocuments are appended with $addToSet: $push stringifies them on nx-27017.
    """
    coll = db.outbox
    now = datetime.now(UTC)
    await coll.insert_one(
        {"_id": "a", "outbox": [{"id": "1", "h": {"k": "v"}}], "outbox_pending": True}
    )
    await coll.update_one(
        {"_id": "a"}, {"$addToSet": {"outbox": {"$each": [{"id": "2"}, {"id": "3"}]}}}
    )
    claimed = await coll.find_one_and_update(
        {
            "outbox_pending": True,
            "$or": [{"lease": {"$exists": False}}, {"lease": {"$lt": now}}],
        },
        {"$set": {"lease": now + timedelta(seconds=30)}},
        projection={"outbox": 1},
        return_document=ReturnDocument.AFTER,
    )
    assert claimed is not None
    assert claimed["outbox"] == [{"id": "1", "h": {"k": "v"}}, {"id": "2"}, {"id": "3"}]
    assert await coll.find_one({"outbox.id": "3"}) is not None
    # Leased: not claimable again.
    again = await coll.find_one_and_update(
        {"outbox_pending": True, "$or": [{"lease": {"$exists": False}}, {"lease": {"$lt": now}}]},
        {"$set": {"lease": now}},
    )
    assert again is None
    await coll.update_one({"_id": "a"}, {"$pull": {"outbox": {"id": {"$in": ["1", "2"]}}}})
    doc = await coll.find_one({"_id": "a"})
    assert doc is not None
    assert [e["id"] for e in doc["outbox"]] == ["3"]
    not_empty = await coll.update_one(
        {"_id": "a", "outbox": {"$size": 0}}, {"$unset": {"outbox_pending": ""}}
    )
    assert not_empty.matched_count == 0
    await coll.update_one({"_id": "a"}, {"$pull": {"outbox": {"id": {"$in": ["3"]}}}})
    empty = await coll.update_one(
        {"_id": "a", "outbox": {"$size": 0}}, {"$unset": {"outbox_pending": ""}}
    )
    assert empty.matched_count == 1
    assert "outbox_pending" not in (await coll.find_one({"_id": "a"}) or {})


async def test_datetimes_round_trip_in_utc(db) -> None:  # type: ignore[no-untyped-def]
    coll = db.times
    due = datetime(2026, 11, 27, 10, 0, 0, 123000, tzinfo=UTC)
    await coll.insert_one({"_id": "t", "due_at": due})
    doc = await coll.find_one({"due_at": {"$lte": due}})
    assert doc is not None
    assert doc["due_at"] == due
    assert doc["due_at"].tzinfo is not None


async def test_concurrent_claims_are_exclusive(db) -> None:  # type: ignore[no-untyped-def]
    """find_one_and_update hands each job to exactly one of many concurrent claimers."""
    coll = db.jobs
    await coll.insert_many([{"_id": f"j{i:03d}", "state": "due"} for i in range(60)])

    async def worker(name: str) -> list[str]:
        got: list[str] = []
        while True:
            doc = await coll.find_one_and_update(
                {"state": "due"},
                {"$set": {"state": "claimed", "by": name}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:
                return got
            got.append(doc["_id"])

    results = await asyncio.gather(*(worker(f"w{i}") for i in range(6)))
    claimed = [j for r in results for j in r]
    assert sorted(claimed) == [f"j{i:03d}" for i in range(60)]


async def test_group_by_string_key_and_date_to_string(db) -> None:  # type: ignore[no-untyped-def]
    coll = db.events
    base = datetime(2026, 11, 27, 10, 5, tzinfo=UTC)
    await coll.insert_many(
        [
            {"_id": "1", "k": "b|vk", "at": base},
            {"_id": "2", "k": "b|vk", "at": base + timedelta(hours=1)},
            {"_id": "3", "k": "b|x", "at": base},
        ]
    )
    rows = [
        r
        async for r in await coll.aggregate(
            [
                {
                    "$group": {
                        "_id": {
                            "$concat": [
                                "$k",
                                "|",
                                {"$dateToString": {"format": "%Y-%m-%dT%H", "date": "$at"}},
                            ]
                        },
                        "n": {"$sum": 1},
                    }
                },
                {"$sort": {"_id": 1}},
            ]
        )
    ]
    assert rows == [
        {"_id": "b|vk|2026-11-27T10", "n": 1},
        {"_id": "b|vk|2026-11-27T11", "n": 1},
        {"_id": "b|x|2026-11-27T10", "n": 1},
    ]


async def test_time_buckets_are_found_by_datetime_range(db) -> None:  # type: ignore[no-untyped-def]
    """Buckets are read by their datetime start: nx-27017 fails equality on "2026-11-27T10"-like strings."""
    coll = db.slots
    await ensure_indexes(coll, [IndexSpec(["brand_id", "metric", "slot_start"])])
    start = datetime(2026, 11, 27, 8, tzinfo=UTC)
    await coll.insert_many(
        [
            {
                "_id": f"b|m|{h}",
                "brand_id": "b",
                "metric": "m",
                "slot_start": start + timedelta(hours=h),
                "count": h,
            }
            for h in range(5)
        ]
    )
    found = [
        d["count"]
        async for d in coll.find(
            {
                "brand_id": "b",
                "metric": "m",
                "slot_start": {
                    "$gte": start + timedelta(hours=1),
                    "$lte": start + timedelta(hours=3),
                },
            }
        ).sort("slot_start", 1)
    ]
    assert found == [1, 2, 3]


async def test_times_that_updates_change_are_epoch_milliseconds(db) -> None:  # type: ignore[no-untyped-def]
    """Times set by update operators are ints: a $set datetime is stored as a string on nx-27017.

    Integer epoch milliseconds compare, sort and index the same on both servers.
    """
    coll = db.leases
    base = 1_790_000_000_000
    await coll.insert_many([{"_id": f"l{i}", "until_ms": base + i * 100} for i in range(5)])
    await coll.update_one({"_id": "l0"}, {"$set": {"until_ms": base + 1_000}})
    expired = sorted([d["_id"] async for d in coll.find({"until_ms": {"$lt": base + 250}})])
    assert expired == ["l1", "l2"]
    doc = await coll.find_one({"_id": "l0"})
    assert doc is not None
    assert doc["until_ms"] == base + 1_000
    assert isinstance(doc["until_ms"], int)


async def test_keyset_pagination_on_int_then_id(db) -> None:  # type: ignore[no-untyped-def]
    """Sort by (int desc, _id desc) and continue after a (value, id) pair, ties included."""
    coll = db.pages
    await coll.insert_many(
        [{"_id": f"c{i:02d}", "b": "x", "ms": 1000 + (i // 3)} for i in range(10)]
    )
    seen: list[str] = []
    after: tuple[int, str] | None = None
    while True:
        query: dict[str, object] = {"b": "x"}
        if after is not None:
            query["$or"] = [{"ms": {"$lt": after[0]}}, {"ms": after[0], "_id": {"$lt": after[1]}}]
        page = [d async for d in coll.find(query).sort([("ms", -1), ("_id", -1)]).limit(4)]
        seen += [d["_id"] for d in page]
        if len(page) < 4:
            break
        after = (page[-1]["ms"], page[-1]["_id"])
    assert seen == [f"c{i:02d}" for i in (9, 8, 7, 6, 5, 4, 3, 2, 1, 0)]


async def test_ttl_index_is_accepted(db) -> None:  # type: ignore[no-untyped-def]
    coll = db.raw
    await ensure_indexes(coll, [IndexSpec(["stored_at"], expire_after_s=3600)])
    info = await coll.index_information()
    assert any(v.get("expireAfterSeconds") == 3600 for v in info.values())


async def test_array_membership_without_an_index(db) -> None:  # type: ignore[no-untyped-def]
    """Membership queries on an unindexed array field. An index on an array field makes them
    match nothing on nx-27017 (0.8.1), so we index no array: a lookup collection keyed by the
    member (``case_mentions``) serves lookups instead."""
    coll = db["arrays_plain"]
    await coll.insert_one({"_id": "a", "ids": ["m1", "m2"]})
    await coll.insert_one({"_id": "b", "ids": ["m3"]})
    assert [d["_id"] async for d in coll.find({"ids": "m2"})] == ["a"]
    assert [d["_id"] async for d in coll.find({"ids": {"$nin": ["m3"]}})] == ["a"]


async def test_counters_by_dotted_inc_exist_before_they_are_incremented(db) -> None:  # type: ignore[no-untyped-def]
    """``$inc`` on dotted paths nests into an existing document; in an upsert's insert
    nx-27017 keeps the dotted names as flat keys, so counters are created first."""
    counters = db["counters"]
    await counters.insert_one({"_id": "b", "status": {}})
    await counters.update_one({"_id": "b"}, {"$inc": {"status.open": 2, "status.new": 1}})
    await counters.update_one({"_id": "b"}, {"$inc": {"status.open": -1}})
    doc = await counters.find_one({"_id": "b"})
    assert doc == {"_id": "b", "status": {"open": 1, "new": 1}}


async def test_add_to_set_needs_the_array_to_exist(db) -> None:  # type: ignore[no-untyped-def]
    """nx-27017 ignores ``$addToSet`` on a missing field: outbox_fields always stores the array."""
    from smm_shared.events import CaseOpened
    from smm_shared.mongo import outbox_fields, with_outbox

    coll = db.outboxes
    await coll.insert_one({"_id": "bare"})
    await coll.insert_one({"_id": "with-array", **outbox_fields([], source="/t")})
    event = CaseOpened(
        brand_id="b", case_id="c1", conversation_key="vk:1", network="vk", mention_id="m"
    )
    for doc_id in ("bare", "with-array"):
        await coll.update_one(
            {"_id": doc_id}, with_outbox({"$set": {"x": 1}}, [event], source="/t")
        )
    stored = await coll.find_one({"_id": "with-array"})
    assert [e["id"] for e in stored["outbox"]] == [event.event_id]
    bare = await coll.find_one({"_id": "bare"})
    # The quirk itself (MongoDB would create the array): if this starts failing, the server
    # changed; update docs/mongo-subset.md.
    assert "outbox" not in bare


async def test_booleans_set_by_an_update_come_back_as_integers(db) -> None:  # type: ignore[no-untyped-def]
    """nx-27017 stores a top-level boolean written by ``$set`` as 1/0: read flags with bool()."""
    coll = db.flags
    await coll.insert_one({"_id": "f", "inserted": True})
    await coll.update_one({"_id": "f"}, {"$set": {"on": True, "off": False, "sub": {"on": True}}})
    doc = await coll.find_one({"_id": "f"})
    assert doc["inserted"] is True
    assert doc["on"] == 1
    assert doc["off"] == 0
    assert doc["sub"] == {"on": True}
    # Equality on the boolean still matches.
    assert await coll.count_documents({"on": True}) == 1


async def test_many_dotted_increments_in_one_update_are_stored_flat(db) -> None:  # type: ignore[no-untyped-def]
    """nx-27017 stores ``$inc``/``$min``/``$max`` of dotted paths as flat keys once one update
    names 64 paths: ``chunked`` keeps updates at MAX_DOTTED_PATHS, which nests correctly."""
    coll = db.wide
    for doc_id in ("wide", "chunked"):
        await coll.insert_one({"_id": doc_id, "c": {}})
    fields = {f"c.f{i}": 1 for i in range(64)}
    await coll.update_one({"_id": "wide"}, {"$inc": fields})
    for part in chunked(fields):
        assert len(part) <= MAX_DOTTED_PATHS
        await coll.update_one({"_id": "chunked"}, {"$inc": part})
    chunked_doc = await coll.find_one({"_id": "chunked"})
    assert chunked_doc["c"] == {f"f{i}": 1 for i in range(64)}
    wide = await coll.find_one({"_id": "wide"})
    # The quirk itself (MongoDB nests them): if this starts failing, the server changed;
    # update docs/mongo-subset.md.
    assert wide["c"] == {}
    assert wide["c.f0"] == 1
