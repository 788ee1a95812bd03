"""Use cases of mentions: accept one from the API, read and list them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from smm_ingest.adapters.mentions_repo import MentionCursor, MentionRepository, StoredMention
from smm_ingest.domain.mentions import MentionDraft, natural_key
from smm_ingest.services.pipeline import MentionIngestor
from smm_shared.events import Mention


class MentionNotFoundError(LookupError):
    """No mention with that id (or not in a brand the caller may see)."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """The outcome of accepting a mention: the stored mention, and whether it was new."""

    mention: Mention
    created: bool


class MentionService:
    """Accepts mentions through the same pipeline as the networks' deliveries; reads them."""

    def __init__(self, *, repository: MentionRepository, ingestor: MentionIngestor) -> None:
        self._repo = repository
        self._ingestor = ingestor

    async def accept(self, *, brand_id: str, draft: MentionDraft) -> Accepted:
        """Store a new mention and queue ``smm.mention.received``; a duplicate is a no-op."""
        stored = await self._ingestor.store_new(brand_id, [draft], received_at=datetime.now(UTC))
        if stored:
            return Accepted(next(iter(stored.values())).mention, created=True)
        existing = await self._repo.by_natural_key(
            natural_key(brand_id, draft.network, draft.native_id)
        )
        if existing is None:  # removed between the two calls: report it, never guess
            raise RuntimeError("mention vanished during deduplication")
        return Accepted(existing.mention, created=False)

    async def get(self, *, mention_id: str) -> StoredMention:
        """One mention (the caller checks the brand)."""
        found = await self._repo.get(mention_id)
        if found is None:
            raise MentionNotFoundError(mention_id)
        return found

    async def list(
        self, *, brand_id: str, filters: dict[str, Any], after: MentionCursor | None, limit: int
    ) -> list[StoredMention]:
        """A brand's mentions, newest first."""
        return await self._repo.list(brand_id=brand_id, filters=filters, after=after, limit=limit)
