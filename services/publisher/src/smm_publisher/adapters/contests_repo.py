"""Mongo storage of contests and their entries.

``contests``: one document per contest, the domain's ``Contest.to_doc()`` plus

* ``version``: every change is one update conditional on it (optimistic concurrency) that
  also appends the change's events to the embedded outbox (``with_outbox``), relayed by
  ``OutboxRelay`` over :attr:`ContestRepository.collections`;
* ``sealed_seed``: the draw's seed, sealed with ``SecretBox`` from the moment the contest
  opens until the draw reveals it in the certificate. It is left out of every read but
  :meth:`ContestRepository.sealed_seed`, so no API response can carry it;
* ``post_key`` (``"<brand>|<network>|<post native id>"``) and, when the post's comments live
  in a thread of their own, ``thread_key`` (same shape, with the thread id): single string
  fields with an index each, by which an incoming mention finds its contests (arrays are
  never indexed on our MongoDB subset, docs/mongo-subset.md);
* ``list_key`` (``"<brand>|<created ms>|<id>"``): the brand's contests newest first, by keyset
  pagination on one indexed string (the responder's inbox does the same);
* ``outbox``: created empty with the document, as nx-27017 silently ignores ``$addToSet``
  on a missing array field (the later events would be lost);
* ``certificate`` (once drawn), ``announcement_id`` (once announced), and the ``*_ms``
  times of each step (epoch milliseconds: times written by updates, docs/mongo-subset.md).

``contest_entries``: one document per (contest, mention), ``_id = "<contest id>|<mention id>"``,
inserted only if missing, so a redelivered mention is one entry. It holds the entry as the
rules see it (``ContestEntry.to_doc()``), the current ``decision``, and:

* ``entry_key`` (``"<contest id>|<created ms>|<mention id>"``): the contest's entries in the
  order they were made, paginated by key;
* ``author_slot`` (``"<contest id>|<network>|<author id>"``): the author's other entries, so
  one-entry-per-author is judged without reading the whole contest;
* ``mention_id``: a deleted mention finds its entries (its event carries no parent post);
* ``withdrawn`` (present only when true): the mention was deleted before the draw.

``None`` values are never stored (explicit null and a missing field differ on nx-27017).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.errors import DuplicateKeyError

from smm_shared.events import Event
from smm_shared.mongo import (
    LEASE_FIELD,
    OUTBOX_FIELD,
    OUTBOX_INDEXES,
    OWNER_FIELD,
    PENDING_FIELD,
    Collection,
    Document,
    IndexSpec,
    ensure_indexes,
    outbox_fields,
    with_outbox,
)

SEED_FIELD = "sealed_seed"

CONTEST_INDEXES = (
    IndexSpec(["post_key"]),
    IndexSpec(["thread_key"]),
    IndexSpec(["list_key"], unique=True),
    *OUTBOX_INDEXES,
)
ENTRY_INDEXES = (
    IndexSpec(["entry_key"], unique=True),
    IndexSpec(["author_slot"]),
    IndexSpec(["mention_id"]),
)

#: What a contest read returns: never the sealed seed, never the outbox.
CONTEST_FIELDS: Mapping[str, int] = {
    SEED_FIELD: 0,
    OUTBOX_FIELD: 0,
    PENDING_FIELD: 0,
    LEASE_FIELD: 0,
    OWNER_FIELD: 0,
}


def target_key(brand_id: str, network: str, native_id: str) -> str:
    """The key by which a mention on ``native_id`` finds the brand's contests on it."""
    return f"{brand_id}|{network}|{native_id}"


def list_key(brand_id: str, created_ms: int, contest_id: str) -> str:
    """The contest's place in its brand's newest-first list."""
    return f"{brand_id}|{created_ms:016d}|{contest_id}"


def entry_id(contest_id: str, mention_id: str) -> str:
    """The ``_id`` of a mention's entry in a contest."""
    return f"{contest_id}|{mention_id}"


def entry_key(contest_id: str, created_ms: int, mention_id: str) -> str:
    """The entry's place in its contest's list, in the order entries were made."""
    return f"{contest_id}|{created_ms:016d}|{mention_id}"


def author_slot(contest_id: str, author_key: str) -> str:
    """The key of one author's entries in a contest (``author_key`` is ``network|id``)."""
    return f"{contest_id}|{author_key}"


def without_none(doc: Mapping[str, Any]) -> Document:
    """``doc`` without its ``None`` values (they are omitted, not stored)."""
    return {k: v for k, v in doc.items() if v is not None}


def _prefix_range(prefix: str) -> Document:
    # Every key of the prefix sorts between "<prefix>" and "<prefix minus its last '|'>}",
    # as "}" sorts right after "|".
    return {"$gt": prefix, "$lt": prefix[:-1] + "}"}


@dataclass(frozen=True, slots=True)
class Page:
    """One page of documents and the cursor of the next (None: the last page)."""

    docs: list[Document]
    next_cursor: str | None


class CursorError(ValueError):
    """A cursor this list did not hand out."""


class ContestRepository:
    """Contests by id and by the post an entry is on; entries per contest, author and mention."""

    def __init__(
        self, collection: Collection, *, source: str, entries: Collection | None = None
    ) -> None:
        self.collection = collection
        self.entries = entries if entries is not None else collection.database["contest_entries"]
        self._source = source

    @property
    def collections(self) -> list[Collection]:
        """The collections with an embedded outbox, for the service's ``OutboxRelay``."""
        return [self.collection]

    async def ensure_indexes(self) -> None:
        """Create the indexes both collections rely on."""
        await ensure_indexes(self.collection, CONTEST_INDEXES)
        await ensure_indexes(self.entries, ENTRY_INDEXES)

    # --- contests ------------------------------------------------------------------------

    async def insert(self, doc: Document, events: Sequence[Event] = ()) -> None:
        """Store a new contest (its ``_id`` is new: a collision is a bug and raises)."""
        # The outbox array exists from the start: nx-27017 ignores ``$addToSet`` (which
        # ``with_outbox`` uses) on a missing array field, and the events would be lost.
        await self.collection.insert_one(
            {**without_none(doc), OUTBOX_FIELD: [], **outbox_fields(events, source=self._source)}
        )

    async def get(self, contest_id: str) -> Document | None:
        """A contest by id, without its sealed seed."""
        return await self.collection.find_one({"_id": contest_id}, dict(CONTEST_FIELDS))

    async def sealed_seed(self, contest_id: str) -> dict[str, str] | None:
        """The sealed seed of an opened contest (for the draw only)."""
        doc = await self.collection.find_one({"_id": contest_id}, {SEED_FIELD: 1})
        if doc is None or not doc.get(SEED_FIELD):
            return None
        return {str(k): str(v) for k, v in doc[SEED_FIELD].items()}

    async def apply(
        self,
        contest_id: str,
        version: int,
        *,
        fields: Mapping[str, Any],
        unset: Sequence[str] = (),
        events: Sequence[Event] = (),
    ) -> bool:
        """Change a contest only if nobody changed it since ``version`` was read."""
        update: Document = {"$inc": {"version": 1}}
        values = without_none(fields)
        removed = sorted({*unset, *(k for k, v in fields.items() if v is None)})
        if values:
            update["$set"] = values
        if removed:
            update["$unset"] = dict.fromkeys(removed, "")
        result = await self.collection.update_one(
            {"_id": contest_id, "version": version},
            with_outbox(update, events, source=self._source),
        )
        return result.matched_count == 1

    async def matching(
        self, brand_id: str, network: str, native_ids: Sequence[str]
    ) -> list[Document]:
        """The brand's contests on any of these posts or threads of ``network``."""
        keys = sorted({target_key(brand_id, network, n) for n in native_ids})
        if not keys:
            return []
        found: dict[str, Document] = {}
        for name in ("post_key", "thread_key"):
            query = {name: keys[0] if len(keys) == 1 else {"$in": keys}}
            async for doc in self.collection.find(query, dict(CONTEST_FIELDS)):
                found[str(doc["_id"])] = doc
        return [found[k] for k in sorted(found)]

    async def page(
        self, brand_id: str, *, status: str | None = None, after: str | None, limit: int
    ) -> Page:
        """One page of the brand's contests, newest first; CursorError for a foreign cursor."""
        prefix = f"{brand_id}|"
        bounds = _prefix_range(prefix)
        if after is not None:
            if not after.startswith(prefix):
                raise CursorError("the cursor belongs to another list")
            bounds["$lt"] = after
        query: Document = {"list_key": bounds}
        if status is not None:
            query["status"] = status
        cursor = (
            self.collection.find(query, dict(CONTEST_FIELDS))
            .sort("list_key", DESCENDING)
            .limit(limit)
        )
        docs = [doc async for doc in cursor]
        following = str(docs[-1]["list_key"]) if len(docs) == limit else None
        return Page(docs, following)

    # --- entries -------------------------------------------------------------------------

    async def add_entry(self, doc: Document) -> bool:
        """Insert an entry unless one with its ``_id`` exists; True when inserted."""
        try:
            await self.entries.insert_one(without_none(doc))
        except DuplicateKeyError:
            return False
        return True

    async def get_entry(self, contest_id: str, mention_id: str) -> Document | None:
        """A mention's entry in a contest."""
        return await self.entries.find_one({"_id": entry_id(contest_id, mention_id)})

    async def update_entry(
        self, entry_doc_id: str, fields: Mapping[str, Any], *, unset: Sequence[str] = ()
    ) -> None:
        """Set fields of an entry (the entry is one person's mention: no version needed)."""
        update: Document = {}
        values = without_none(fields)
        removed = sorted({*unset, *(k for k, v in fields.items() if v is None)})
        if values:
            update["$set"] = values
        if removed:
            update["$unset"] = dict.fromkeys(removed, "")
        if update:
            await self.entries.update_one({"_id": entry_doc_id}, update)

    async def set_decisions(self, decisions: Mapping[str, Mapping[str, Any]]) -> None:
        """Store decisions by entry ``_id`` in one round trip."""
        if decisions:
            await self.entries.bulk_write(
                [
                    UpdateOne({"_id": k}, {"$set": {"decision": without_none(v)}})
                    for k, v in sorted(decisions.items())
                ],
                ordered=False,
            )

    async def author_entries(self, contest_id: str, author_key: str) -> list[Document]:
        """Every entry of one author in a contest (withdrawn ones included)."""
        cursor = self.entries.find({"author_slot": author_slot(contest_id, author_key)})
        return [doc async for doc in cursor]

    async def entries_of_mention(self, brand_id: str, mention_id: str) -> list[Document]:
        """The entries a mention made, in any of the brand's contests."""
        cursor = self.entries.find({"mention_id": mention_id, "brand_id": brand_id})
        return [doc async for doc in cursor]

    async def all_entries(self, contest_id: str) -> AsyncIterator[Document]:
        """Every entry of a contest, in the order they were made."""
        query = {"entry_key": _prefix_range(f"{contest_id}|")}
        async for doc in self.entries.find(query).sort("entry_key", ASCENDING):
            yield doc

    async def count_entries(self, contest_id: str, *, withdrawn: bool = False) -> int:
        """How many entries a contest holds (withdrawn ones only if asked)."""
        query: Document = {"entry_key": _prefix_range(f"{contest_id}|")}
        if not withdrawn:
            query["withdrawn"] = {"$exists": False}
        return await self.entries.count_documents(query)

    async def entries_page(
        self, contest_id: str, *, decision: str | None = None, after: str | None, limit: int
    ) -> Page:
        """One page of a contest's entries in the order made; CursorError for a foreign cursor."""
        prefix = f"{contest_id}|"
        bounds = _prefix_range(prefix)
        if after is not None:
            if not after.startswith(prefix):
                raise CursorError("the cursor belongs to another list")
            bounds["$gt"] = after
        query: Document = {"entry_key": bounds}
        if decision is not None:
            query["decision.code"] = decision
        cursor = self.entries.find(query).sort("entry_key", ASCENDING).limit(limit)
        docs = [doc async for doc in cursor]
        following = str(docs[-1]["entry_key"]) if len(docs) == limit else None
        return Page(docs, following)
