"""Mongo storage of cases: each with its timeline and its embedded outbox.

A case is one document. Every change is one conditional update on its ``version``
(optimistic concurrency) that also appends the timeline entries and the outgoing events, so
the state, its history and its events can never disagree. Times that change are integer
epoch milliseconds (``*_ms``, see docs/mongo-subset.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from smm_responder.domain.cases import ACTIVE_STATUSES
from smm_shared.events import Event
from smm_shared.mongo import (
    OUTBOX_INDEXES,
    Collection,
    Document,
    IndexSpec,
    ensure_indexes,
    outbox_fields,
    with_outbox,
)

#: ``next_due_ms`` of a case without a running SLA clock: sorts after every real deadline.
NO_DEADLINE_MS = 2**53

# The inbox sorts by one string field per order, ``activity_key`` (newest activity first)
# and ``due_key`` (next deadline first), each "<brand>|<zero-padded ms>|<case id>": unique,
# so a range condition both keeps to one brand and continues a page (keyset pagination
# without an $or), and a single-field index on each walks the brand's cases in order and
# stops after a page. Measured on nx-27017: it ignores compound indexes for sorting, sorts
# in memory when an equality filter has an index (so ``brand_id`` has none here), and an
# $or cursor scans everything.
INDEXES = (
    IndexSpec(["open_key"], unique=True, partial_filter={"open_key": {"$exists": True}}),
    IndexSpec(["activity_key"]),
    IndexSpec(["due_key"]),
    IndexSpec(["assignee_key"]),
    *OUTBOX_INDEXES,
)


def activity_key(brand_id: str, last_activity_ms: int, case_id: str) -> str:
    """The case's place in its brand's newest-activity order."""
    return f"{brand_id}|{last_activity_ms:016d}|{case_id}"


def assignee_key(brand_id: str, assignee_id: str, last_activity_ms: int, case_id: str) -> str:
    """The case's place in its assignee's newest-activity order ("my cases")."""
    return f"{brand_id}|{assignee_id}|{last_activity_ms:016d}|{case_id}"


def due_key(brand_id: str, next_due_ms: int, case_id: str) -> str:
    """The case's place in its brand's next-deadline order."""
    return f"{brand_id}|{next_due_ms:016d}|{case_id}"


#: What the inbox list returns: no timeline, no internal fields.
LIST_FIELDS = {
    "outbox": 0,
    "outbox_pending": 0,
    "outbox_lease_until_ms": 0,
    "open_key": 0,
    "timeline": 0,
    "replies": 0,
    "handoffs": 0,
}
#: What a single case read returns.
CASE_FIELDS = {"outbox": 0, "outbox_pending": 0, "outbox_lease_until_ms": 0, "open_key": 0}

SortOrder = Literal["activity", "deadline"]
#: Statuses in which the team still has work.
ACTIVE = sorted(status.value for status in ACTIVE_STATUSES)


@dataclass(frozen=True, slots=True)
class CaseCursor:
    """Where a page ended: the sort key of its last case."""

    key: str

    def encode(self) -> str:
        """The opaque cursor string handed to API clients."""
        return self.key

    @classmethod
    def decode(cls, text: str) -> CaseCursor:
        """Parse a cursor string; ValueError when it is not one of ours."""
        parts = text.split("|")
        if len(parts) < 3 or len(parts[-2]) != 16 or not parts[-2].isdigit() or not parts[-1]:
            raise ValueError("not a case list cursor")
        return cls(text)


@dataclass(frozen=True, slots=True)
class CaseQuery:
    """Inbox filters; every set field must match (values within one field are alternatives)."""

    brand_id: str
    statuses: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    unassigned: bool = False
    departments: tuple[str, ...] = ()
    sla_states: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    sort: SortOrder = "activity"
    after: CaseCursor | None = None
    limit: int = 50

    def filter(self) -> Document:
        """The MongoDB filter (without the page cursor)."""
        query: Document = {"brand_id": self.brand_id}
        for name, values in (
            ("status", self.statuses),
            ("priority", self.priorities),
            ("network", self.networks),
            ("sentiment.label", self.sentiments),
            ("department", self.departments),
            ("sla_state", self.sla_states),
            ("tags", self.tags),
        ):
            if values:
                query[name] = values[0] if len(values) == 1 else {"$in": list(values)}
        if self.unassigned:
            query["assignee_id"] = {"$exists": False}
        elif self.assignees:
            query["assignee_id"] = (
                self.assignees[0] if len(self.assignees) == 1 else {"$in": list(self.assignees)}
            )
        return query


@dataclass(slots=True)
class CaseChange:
    """One atomic change of a case: fields, timeline entries, events."""

    fields: dict[str, Any] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    inc: dict[str, int] = field(default_factory=dict)
    push: dict[str, Any] = field(default_factory=dict)  # scalars only (see mongo-subset)
    timeline: list[Document] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.removed or self.inc or self.push or self.events)

    def update(self) -> Document:
        """The update document (without version and outbox)."""
        update: Document = {}
        if self.fields:
            update["$set"] = dict(self.fields)
        if self.removed:
            update["$unset"] = dict.fromkeys(sorted(self.removed), "")
        if self.inc:
            update["$inc"] = dict(self.inc)
        if self.push:
            update["$push"] = dict(self.push)
        if self.timeline:
            update["$addToSet"] = {"timeline": {"$each": list(self.timeline)}}
        return update


class CaseRepository:
    """Cases by id, by owning conversation and by mention; optimistic concurrency by version."""

    def __init__(
        self, collection: Collection, *, source: str, mentions: Collection | None = None
    ) -> None:
        self.collection = collection
        #: ``brand|mention id`` → case id. Arrays are never indexed (nx-27017 then stops
        #: matching array members at all, see docs/mongo-subset.md), so this is the lookup.
        self.mentions = mentions if mentions is not None else collection.database["case_mentions"]
        #: Per-brand counters of cases by status, priority and SLA state (the inbox badges).
        self.counters = collection.database["case_counts"]
        self._source = source

    async def ensure_indexes(self) -> None:
        """Create the indexes this repository relies on."""
        await ensure_indexes(self.collection, INDEXES)

    async def holding_mention(self, brand_id: str, mention_id: str) -> Document | None:
        """The case that already contains this mention, if any (replays are no-ops)."""
        link = await self.mentions.find_one({"_id": f"{brand_id}|{mention_id}"})
        if link is None:
            return None
        return await self.collection.find_one(
            {"_id": link["case_id"]}, {"outbox": 0, "timeline": 0}
        )

    async def link_mention(self, brand_id: str, mention_id: str, case_id: str) -> None:
        """Remember which case holds a mention (after the case was written; idempotent)."""
        await self.mentions.update_one(
            {"_id": f"{brand_id}|{mention_id}"}, {"$set": {"case_id": case_id}}, upsert=True
        )

    async def owning(self, open_key: str) -> Document | None:
        """The case that owns a conversation (any status but closed)."""
        return await self.collection.find_one({"open_key": open_key}, {"outbox": 0})

    async def insert(self, doc: Document, events: Sequence[Event]) -> bool:
        """Insert a new case; False when another case of the conversation won the race."""
        try:
            await self.collection.insert_one({**doc, **outbox_fields(events, source=self._source)})
        except DuplicateKeyError:
            return False
        return True

    async def apply(self, case_id: str, version: int, change: CaseChange) -> bool:
        """Apply ``change`` only if nobody changed the case since ``version`` was read."""
        update = change.update()
        update["$inc"] = {**update.get("$inc", {}), "version": 1}
        result = await self.collection.update_one(
            {"_id": case_id, "version": version},
            with_outbox(update, change.events, source=self._source),
        )
        return result.matched_count == 1

    async def get(
        self, case_id: str, *, projection: Mapping[str, int] | None = None
    ) -> Document | None:
        """A case by id."""
        return await self.collection.find_one({"_id": case_id}, dict(projection or CASE_FIELDS))

    async def page(self, query: CaseQuery) -> tuple[list[Document], CaseCursor | None]:
        """One page of the inbox and the cursor of the next (None: the last page).

        Keyset pagination on a unique sort key, stable under ties; "my cases" (one assignee,
        by activity) walks that assignee's own key. ValueError for another list's cursor.
        """
        mongo = query.filter()
        if query.sort == "deadline":
            key, prefix = "due_key", f"{query.brand_id}|"
        elif len(query.assignees) == 1 and not query.unassigned:
            key, prefix = "assignee_key", f"{query.brand_id}|{query.assignees[0]}|"
        else:
            key, prefix = "activity_key", f"{query.brand_id}|"
        ascending = key == "due_key"
        bounds: Document = {"$gt": prefix, "$lt": prefix[:-1] + "}"}  # "}" sorts after "|"
        if query.after is not None:
            if not query.after.key.startswith(prefix):
                raise ValueError("the cursor belongs to another list")
            bounds["$gt" if ascending else "$lt"] = query.after.key
        mongo[key] = bounds
        order = ASCENDING if ascending else DESCENDING
        cursor = self.collection.find(mongo, LIST_FIELDS).sort(key, order).limit(query.limit)
        docs = [doc async for doc in cursor]
        following = CaseCursor(docs[-1][key]) if len(docs) == query.limit else None
        return docs, following

    async def counts(self, brand_id: str) -> dict[str, dict[str, int]]:
        """Cases per status, and active cases per priority and SLA state (kept counters)."""
        doc = await self.counters.find_one({"_id": brand_id})
        if doc is None:
            return await self.recount(brand_id)
        return {
            name: {k: int(v) for k, v in (doc.get(name) or {}).items() if int(v) > 0}
            for name in ("status", "priority", "sla_state")
        }

    async def count_change(self, brand_id: str, delta: Mapping[str, int]) -> None:
        """Move the brand's counters by ``delta`` (``"status.open": 1``...) after a write."""
        if not delta:
            return
        result = await self.counters.update_one({"_id": brand_id}, {"$inc": dict(delta)})
        if result.matched_count == 0:
            # Not an upsert: nx-27017 stores dotted $inc paths of an upsert as flat keys.
            with contextlib.suppress(DuplicateKeyError):
                await self.counters.insert_one(
                    {"_id": brand_id, "status": {}, "priority": {}, "sla_state": {}}
                )
            await self.counters.update_one({"_id": brand_id}, {"$inc": dict(delta)})

    async def recount(self, brand_id: str) -> dict[str, dict[str, int]]:
        """Count from the cases themselves (slow: ~0.4 s per 100k) and store the counters."""
        counted = await self._aggregate_counts(brand_id)
        await self.counters.replace_one(
            {"_id": brand_id}, {"_id": brand_id, **counted}, upsert=True
        )
        return counted

    async def counted_brands(self) -> list[str]:
        """Brands that have counters."""
        return [str(d["_id"]) async for d in self.counters.find({}, {"_id": 1})]

    async def _aggregate_counts(self, brand_id: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for name, match in (
            ("status", {"brand_id": brand_id}),
            ("priority", {"brand_id": brand_id, "status": {"$in": ACTIVE}}),
            ("sla_state", {"brand_id": brand_id, "status": {"$in": ACTIVE}}),
        ):
            pipeline: list[Document] = [
                {"$match": match},
                {"$group": {"_id": f"${name}", "n": {"$sum": 1}}},
            ]
            rows = await (await self.collection.aggregate(pipeline)).to_list()
            out[name] = {str(r["_id"]): int(r["n"]) for r in rows if r["_id"] is not None}
        return out
