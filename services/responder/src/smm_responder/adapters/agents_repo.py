"""Agents of a brand's team: skills, availability, capacity and the slots they hold.

Capacity is enforced by the database, not by a read-then-write: an agent document keeps
``free_slots`` (capacity minus active cases), and taking a case is a conditional
``$inc`` that only matches while ``free_slots > 0``. Two replicas assigning at the same
moment can therefore never push an agent over capacity; the loser picks someone else.
Slots come back when a case is resolved, closed or reassigned.
"""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from smm_shared.mongo import Collection, Document, IndexSpec, ensure_indexes

INDEXES = (IndexSpec(["brand_id"]),)


def agent_key(brand_id: str, user_id: str) -> str:
    """The document id of a user's agent profile in a brand."""
    return f"{brand_id}|{user_id}"


class AgentRepository:
    """Agent profiles and their slot counters."""

    def __init__(self, collection: Collection, pointers: Collection) -> None:
        self.collection = collection
        self.pointers = pointers

    async def ensure_indexes(self) -> None:
        """Create the indexes this repository relies on."""
        await ensure_indexes(self.collection, INDEXES)

    async def for_brand(self, brand_id: str) -> list[Document]:
        """A brand's agents, by user id."""
        return [d async for d in self.collection.find({"brand_id": brand_id}).sort("user_id", 1)]

    async def get(self, brand_id: str, user_id: str) -> Document | None:
        """One agent profile."""
        return await self.collection.find_one({"_id": agent_key(brand_id, user_id)})

    async def create(self, doc: Document) -> bool:
        """Store a new profile (no active cases yet); False when the user already has one."""
        body = {
            **doc,
            "_id": agent_key(doc["brand_id"], doc["user_id"]),
            "active_cases": 0,
            "free_slots": doc["capacity"],
            "last_assigned_ms": 0,
            "version": 1,
        }
        try:
            await self.collection.insert_one(body)
        except DuplicateKeyError:
            return False
        return True

    async def update(self, brand_id: str, user_id: str, fields: Document, *, version: int) -> bool:
        """Change a profile if still at ``version``; a new capacity moves the free slots with it."""
        current = await self.get(brand_id, user_id)
        if current is None or current["version"] != version:
            return False
        update: Document = {"$set": dict(fields), "$inc": {"version": 1}}
        if "capacity" in fields:
            update["$inc"]["free_slots"] = int(fields["capacity"]) - int(current["capacity"])
        result = await self.collection.update_one(
            {"_id": agent_key(brand_id, user_id), "version": version}, update
        )
        return result.matched_count == 1

    async def delete(self, brand_id: str, user_id: str) -> bool:
        """Remove a profile (their cases keep the assignee until reassigned)."""
        result = await self.collection.delete_one({"_id": agent_key(brand_id, user_id)})
        return result.deleted_count == 1

    async def take_slot(self, brand_id: str, user_id: str, *, now_ms: int, force: bool) -> bool:
        """Count one more active case for the agent; False when they are full (unless ``force``)."""
        query: Document = {"_id": agent_key(brand_id, user_id)}
        if not force:
            query["free_slots"] = {"$gt": 0}
        result = await self.collection.update_one(
            query,
            {"$inc": {"free_slots": -1, "active_cases": 1}, "$set": {"last_assigned_ms": now_ms}},
        )
        return result.matched_count == 1

    async def give_back_slot(self, brand_id: str, user_id: str) -> None:
        """One active case fewer (resolved, closed, reassigned, or an assignment that lost a race)."""
        await self.collection.update_one(
            {"_id": agent_key(brand_id, user_id), "active_cases": {"$gt": 0}},
            {"$inc": {"free_slots": 1, "active_cases": -1}},
        )

    async def pointer(self, brand_id: str, queue: str) -> str | None:
        """The last agent round-robin picked in a queue (brand and department)."""
        doc = await self.pointers.find_one({"_id": f"{brand_id}|{queue}"})
        return None if doc is None else str(doc["last_agent_id"])

    async def move_pointer(self, brand_id: str, queue: str, agent_id: str) -> None:
        """Remember the last agent round-robin picked."""
        await self.pointers.update_one(
            {"_id": f"{brand_id}|{queue}"}, {"$set": {"last_agent_id": agent_id}}, upsert=True
        )
