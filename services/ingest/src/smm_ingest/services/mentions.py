"""Use cases of mentions: accept (store durably, then publish via the outbox) and read."""

from __future__ import annotations

from dataclasses import dataclass

from smm_ingest.adapters.mentions_repo import MentionRepository
from smm_ingest.domain.mentions import MentionDraft, natural_key, normalise
from smm_shared.events import Mention, MentionReceived
from smm_shared.mongo import OutboxRelay


class MentionNotFoundError(LookupError):
    """No mention with that id (or not in a brand the caller may see)."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """The outcome of accepting a mention: the stored mention, and whether it was new."""

    mention: Mention
    created: bool


class MentionService:
    """Accepts mentions: dedupes by natural key, stores mention and event in one write."""

    def __init__(self, *, repository: MentionRepository, relay: OutboxRelay) -> None:
        self._repo = repository
        self._relay = relay

    async def accept(self, *, brand_id: str, draft: MentionDraft) -> Accepted:
        """Store a new mention and queue ``smm.mention.received``; a duplicate is a no-op."""
        key = natural_key(brand_id, draft.network, draft.native_id)
        mention = normalise(draft)
        event = MentionReceived(brand_id=brand_id, mention=mention)
        # Insert first: a new mention (the common case) costs one round trip; the unique
        # natural key turns a redelivery into a duplicate-key error, then we read the original.
        if not await self._repo.insert_new(
            brand_id=brand_id, natural_key=key, mention=mention, events=[event]
        ):
            existing = await self._repo.by_natural_key(key)
            if existing is None:  # removed between the two calls: report it, never guess
                raise RuntimeError(f"mention {key} vanished during deduplication")
            return Accepted(existing[1], created=False)
        self._relay.notify()
        return Accepted(mention, created=True)

    async def get(self, *, mention_id: str, brands: frozenset[str] | None) -> tuple[str, Mention]:
        """One mention, if its brand is among ``brands`` (None: any brand)."""
        found = await self._repo.get(mention_id)
        if found is None or (brands is not None and found[0] not in brands):
            raise MentionNotFoundError(mention_id)
        return found
