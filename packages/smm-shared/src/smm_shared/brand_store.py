"""Per-brand settings documents (rules, policies, calendars...): CRUD with a short read cache.

Settings are read on hot paths (every mention is routed, every case gets an SLA) and edited
rarely, so reads come from a per-replica cache that lives ``cache_ttl_s`` seconds: an edit
applies everywhere within that time, at once in the replica that made it. Every document
carries ``brand_id``; reads by id check it, so one brand never reads another's settings.
Writes are optimistic: ``replace`` applies only to the ``version`` the caller read.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from smm_shared.mongo import Collection, Document, IndexSpec, ensure_indexes


class BrandStore:
    """One collection of per-brand settings documents."""

    def __init__(
        self,
        collection: Collection,
        *,
        cache_ttl_s: float = 5.0,
        sort: Sequence[tuple[str, int]] = (("_id", 1),),
    ) -> None:
        self.collection = collection
        self.cache_ttl_s = cache_ttl_s
        self._sort = list(sort)
        self._cache: dict[str, tuple[float, list[Document]]] = {}

    async def ensure_indexes(self) -> None:
        """The brand index every read uses."""
        await ensure_indexes(self.collection, [IndexSpec(["brand_id"])])

    async def for_brand(self, brand_id: str) -> list[Document]:
        """A brand's documents in order, from the cache when it is fresh."""
        hit = self._cache.get(brand_id)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self.cache_ttl_s:
            return hit[1]
        docs = await self.for_brand_fresh(brand_id)
        self._cache[brand_id] = (now, docs)
        return docs

    async def for_brand_fresh(self, brand_id: str) -> list[Document]:
        """A brand's documents in order, read now."""
        return [d async for d in self.collection.find({"brand_id": brand_id}).sort(self._sort)]

    async def get(self, brand_id: str, doc_id: str) -> Document | None:
        """One document of the brand (None when missing or another brand's)."""
        return await self.collection.find_one({"_id": doc_id, "brand_id": brand_id})

    async def insert(self, doc: Document) -> None:
        """Store a new document (``version`` 1)."""
        await self.collection.insert_one({**doc, "version": 1})
        self.forget(doc["brand_id"])

    async def replace(self, doc: Document, *, version: int) -> bool:
        """Overwrite a document if it is still at ``version``; False when someone changed it."""
        result = await self.collection.replace_one(
            {"_id": doc["_id"], "brand_id": doc["brand_id"], "version": version},
            {**doc, "version": version + 1},
        )
        self.forget(doc["brand_id"])
        return result.matched_count == 1

    async def delete(self, brand_id: str, doc_id: str) -> bool:
        """Remove a document; False when there was none."""
        result = await self.collection.delete_one({"_id": doc_id, "brand_id": brand_id})
        self.forget(brand_id)
        return result.deleted_count == 1

    def forget(self, brand_id: str) -> None:
        """Drop this replica's cache of a brand (after a write)."""
        self._cache.pop(brand_id, None)
