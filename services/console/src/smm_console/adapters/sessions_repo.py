"""Console sessions in MongoDB, keyed by the SHA-256 of the session token.

``{_id: sha256(token) hex, user_id, brand?, csrf, created_ms, last_seen_ms, expires_at}``

The token itself is never stored: whoever reads the collection (a backup, a log of
queries) cannot sign in with what they find. ``expires_at`` is the absolute end of the
session, written once at insert (a datetime written by an update is stored as a string on
nx-27017 and never expires, docs/mongo-subset.md); the TTL index removes dead sessions,
and the idle limit is checked on every read from ``last_seen_ms``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from smm_shared.mongo import Collection, Document, IndexSpec, ensure_indexes

INDEXES = (IndexSpec(["user_id"]), IndexSpec(["expires_at"], expire_after_s=0))


def session_key(token: str) -> str:
    """The stored key of a session token: its SHA-256, hex."""
    # A plain hash is enough: the token is 256 random bits, so there is nothing to brute-force.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session as stored."""

    key: str
    user_id: str
    brand: str | None
    csrf_token: str
    created_ms: int
    last_seen_ms: int


def _session(doc: Document) -> StoredSession:
    brand = doc.get("brand")
    return StoredSession(
        key=str(doc["_id"]),
        user_id=str(doc["user_id"]),
        brand=None if brand is None else str(brand),
        csrf_token=str(doc["csrf"]),
        created_ms=int(doc["created_ms"]),
        last_seen_ms=int(doc["last_seen_ms"]),
    )


class SessionRepository:
    """Sessions of signed-in users."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        """Create the user and TTL indexes."""
        await ensure_indexes(self.collection, INDEXES)

    async def create(
        self,
        *,
        key: str,
        user_id: str,
        brand: str | None,
        csrf_token: str,
        now_ms: int,
        expires_at: datetime,
    ) -> StoredSession:
        """Store a new session under ``key`` (see session_key)."""
        doc: Document = {
            "_id": key,
            "user_id": user_id,
            "csrf": csrf_token,
            "created_ms": now_ms,
            "last_seen_ms": now_ms,
            "expires_at": expires_at,
        }
        if brand is not None:  # omitted, never None (docs/mongo-subset.md)
            doc["brand"] = brand
        await self.collection.insert_one(doc)
        return _session(doc)

    async def get(self, key: str) -> StoredSession | None:
        """One session by key."""
        doc = await self.collection.find_one({"_id": key})
        return None if doc is None else _session(doc)

    async def touch(self, key: str, now_ms: int) -> None:
        """Record activity at ``now_ms`` (never moving it back)."""
        await self.collection.update_one({"_id": key}, {"$max": {"last_seen_ms": now_ms}})

    async def set_brand(self, key: str, brand: str | None) -> bool:
        """Make ``brand`` the session's current brand; False when the session is gone."""
        update: Document = {"$set": {"brand": brand}} if brand else {"$unset": {"brand": ""}}
        result = await self.collection.update_one({"_id": key}, update)
        return result.matched_count == 1

    async def delete(self, key: str) -> None:
        """End one session."""
        await self.collection.delete_one({"_id": key})

    async def delete_for_user(self, user_id: str, *, keep: str | None = None) -> int:
        """End every session of ``user_id`` except ``keep``; the number ended."""
        keys = [
            d["_id"]
            async for d in self.collection.find({"user_id": user_id}, {"_id": 1})
            if d["_id"] != keep
        ]
        if not keys:
            return 0
        # Exact ids: a `$ne` on _id would scan the whole collection on nx-27017.
        result = await self.collection.delete_many({"_id": {"$in": keys}})
        return result.deleted_count
