"""Keyword rules per brand in Mongo, compiled and cached for the enrichment hot path."""

from __future__ import annotations

import time

from smm_ingest.domain.keywords import KeywordRule
from smm_shared.mongo import Collection, Document, IndexSpec, ensure_indexes

INDEXES = (IndexSpec(["brand_id"]),)
CACHE_TTL_S = 5.0


def to_rule(doc: Document) -> KeywordRule:
    """A stored rule, compiled."""
    return KeywordRule(
        id=doc["_id"], name=doc["name"], query=doc["query"], kind=doc["kind"], label=doc["label"]
    )


class KeywordRuleRepository:
    """CRUD of rules; ``rules_for`` serves enrichment from a short cache (edits apply within seconds)."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self._cache: dict[str, tuple[float, list[KeywordRule]]] = {}

    async def ensure_indexes(self) -> None:
        """Create the indexes this repository relies on."""
        await ensure_indexes(self.collection, INDEXES)

    async def rules_for(self, brand_id: str) -> list[KeywordRule]:
        """A brand's compiled rules, cached for a few seconds."""
        hit = self._cache.get(brand_id)
        now = time.monotonic()
        if hit is not None and now - hit[0] < CACHE_TTL_S:
            return hit[1]
        rules = [to_rule(d) for d in await self.list_docs(brand_id)]
        self._cache[brand_id] = (now, rules)
        return rules

    async def list_docs(self, brand_id: str) -> list[Document]:
        """A brand's rules, oldest first."""
        return [d async for d in self.collection.find({"brand_id": brand_id}).sort("_id", 1)]

    async def get(self, rule_id: str) -> Document | None:
        """One rule."""
        return await self.collection.find_one({"_id": rule_id})

    async def insert(self, doc: Document) -> None:
        """Store a rule."""
        await self.collection.insert_one(doc)
        self._cache.pop(doc["brand_id"], None)

    async def replace(self, doc: Document) -> None:
        """Overwrite a rule."""
        await self.collection.replace_one({"_id": doc["_id"]}, doc)
        self._cache.pop(doc["brand_id"], None)

    async def delete(self, doc: Document) -> None:
        """Remove a rule."""
        await self.collection.delete_one({"_id": doc["_id"]})
        self._cache.pop(doc["brand_id"], None)
