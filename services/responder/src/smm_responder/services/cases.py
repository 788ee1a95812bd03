"""Use cases of cases: a mention opens a case or joins the conversation's active one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from smm_responder.adapters.cases_repo import CaseCursor, CaseRepository
from smm_responder.domain.cases import CaseStatus, open_key
from smm_shared.events import CaseMentionAdded, CaseOpened, MentionReceived, new_ulid, utcnow
from smm_shared.mongo import Document, OutboxRelay, epoch_ms

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8

#: Whether the caller may see a brand.
BrandFilter = Callable[[str], bool]


class ConcurrentUpdateError(RuntimeError):
    """The case kept changing under us; the message will be retried."""


class CaseNotFoundError(LookupError):
    """No case with that id in a brand the caller may see."""


class CaseService:
    """Turns mentions into cases; idempotent per mention."""

    def __init__(self, *, repository: CaseRepository, relay: OutboxRelay) -> None:
        self._repo = repository
        self._relay = relay

    async def record_mention(self, event: MentionReceived) -> str | None:
        """Open a case for the mention's conversation or add it to the active one.

        Returns the case id, or None when the mention was already recorded (a replay).
        """
        brand, mention = event.brand_id, event.mention
        key = open_key(brand, mention.conversation_key)
        for _ in range(MAX_ATTEMPTS):
            # Both reads at once: the replay check and the conversation's active case.
            holder, case = await asyncio.gather(
                self._repo.holding_mention(brand, mention.mention_id), self._repo.active(key)
            )
            if holder is not None:
                return None
            now = utcnow()
            if case is None:
                case_id = new_ulid()
                opened = CaseOpened(
                    brand_id=brand,
                    case_id=case_id,
                    conversation_key=mention.conversation_key,
                    network=mention.network,
                    mention_id=mention.mention_id,
                )
                if await self._repo.insert(self._new_case(case_id, key, event, now), [opened]):
                    self._relay.notify()
                    return case_id
                continue
            added = CaseMentionAdded(
                brand_id=brand,
                case_id=case["_id"],
                conversation_key=mention.conversation_key,
                mention_id=mention.mention_id,
                mention_count=case["mention_count"] + 1,
            )
            update = {
                "$push": {"mention_ids": mention.mention_id},
                "$inc": {"mention_count": 1},
                "$set": {
                    "last_activity_ms": epoch_ms(now),
                    "last_mention_ms": epoch_ms(mention.created_at),
                },
            }
            if await self._repo.update_if_version(case["_id"], case["version"], update, [added]):
                self._relay.notify()
                return str(case["_id"])
        raise ConcurrentUpdateError(f"case for {key} changed {MAX_ATTEMPTS} times in a row")

    @staticmethod
    def _new_case(case_id: str, key: str, event: MentionReceived, now: datetime) -> Document:
        mention = event.mention
        return {
            "_id": case_id,
            "brand_id": event.brand_id,
            "conversation_key": mention.conversation_key,
            "open_key": key,
            "network": mention.network.value,
            "status": CaseStatus.NEW.value,
            "priority": mention.priority_hint,
            "mention_ids": [mention.mention_id],
            "mention_count": 1,
            "first_mention_at": mention.created_at,
            "last_mention_ms": epoch_ms(mention.created_at),
            "opened_at": now,
            "last_activity_ms": epoch_ms(now),
            "author": mention.author.model_dump(mode="json", exclude_none=True),
            "preview": mention.text[:280],
            "version": 1,
        }

    async def get(self, *, case_id: str, brand_ok: BrandFilter) -> Document:
        """One case, if the caller may see its brand."""
        doc = await self._repo.get(case_id)
        if doc is None or not brand_ok(doc["brand_id"]):
            raise CaseNotFoundError(case_id)
        return doc

    async def list(self, *, brand_id: str, after: CaseCursor | None, limit: int) -> list[Document]:
        """A brand's cases, most recently active first, after a page's cursor."""
        return await self._repo.list_for_brand(brand_id, after=after, limit=limit)
