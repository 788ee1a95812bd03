"""Connectors in Mongo, with an in-process cache for the webhook hot path."""

from __future__ import annotations

import time
from typing import Any

from smm_ingest.domain.connectors import Connector, ConnectorKind
from smm_shared.mongo import Collection, Document, IndexSpec, ensure_indexes

INDEXES = (IndexSpec(["brand_id"]),)
CACHE_TTL_S = 5.0


def to_connector(doc: Document) -> Connector:
    """A stored document as the domain value."""
    return Connector(
        id=doc["_id"],
        brand_id=doc["brand_id"],
        kind=ConnectorKind(doc["kind"]),
        name=doc["name"],
        config=doc.get("config", {}),
        secret_names=frozenset(doc.get("secrets", {})),
        enabled=bool(doc.get("enabled", True)),
    )


class ConnectorRepository:
    """CRUD of connectors; ``cached()`` serves webhooks without a round trip per delivery."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self._cache: dict[str, tuple[float, Document | None]] = {}

    async def ensure_indexes(self) -> None:
        """Create the indexes this repository relies on."""
        await ensure_indexes(self.collection, INDEXES)

    async def insert(self, doc: Document) -> None:
        """Store a new connector."""
        await self.collection.insert_one(doc)

    async def get_doc(self, connector_id: str) -> Document | None:
        """A connector document with its sealed secrets (for internal use only)."""
        return await self.collection.find_one({"_id": connector_id})

    async def cached(self, connector_id: str) -> Document | None:
        """Like ``get_doc``, cached for a few seconds (changes apply within CACHE_TTL_S)."""
        hit = self._cache.get(connector_id)
        now = time.monotonic()
        if hit is not None and now - hit[0] < CACHE_TTL_S:
            return hit[1]
        doc = await self.get_doc(connector_id)
        self._cache[connector_id] = (now, doc)
        return doc

    async def list_for_brand(self, brand_id: str) -> list[Document]:
        """A brand's connectors."""
        return [d async for d in self.collection.find({"brand_id": brand_id}).sort("_id", 1)]

    async def update(self, connector_id: str, changes: dict[str, Any]) -> Document | None:
        """Apply changes; returns the new document or None when it does not exist."""
        result = await self.collection.update_one({"_id": connector_id}, {"$set": changes})
        self._cache.pop(connector_id, None)
        return await self.get_doc(connector_id) if result.matched_count else None

    async def delete(self, connector_id: str) -> bool:
        """Remove a connector; True when it existed."""
        self._cache.pop(connector_id, None)
        return (await self.collection.delete_one({"_id": connector_id})).deleted_count == 1
