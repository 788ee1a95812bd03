"""From parsed items to stored mentions and their events; and the loop that processes raw deliveries."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter, Histogram

from smm_ingest.adapters.connectors_repo import ConnectorRepository, to_connector
from smm_ingest.adapters.graph_fetches_repo import GraphFetchRepository
from smm_ingest.adapters.mentions_repo import MentionRepository, mention_doc
from smm_ingest.adapters.raw_store import Outcome, RawEvent, RawEventStore
from smm_ingest.domain.connectors import Connector
from smm_ingest.domain.items import (
    DeletedItem,
    EditedItem,
    EngagementItem,
    FetchRequest,
    NewItem,
    ParsedItem,
    ParsedPayload,
    PayloadError,
)
from smm_ingest.domain.mentions import MentionDraft, natural_key, normalise
from smm_ingest.services.enrichment import Enricher
from smm_shared.events import (
    EngagementObserved,
    MentionDeleted,
    MentionReceived,
    MentionUpdated,
)
from smm_shared.messaging import INFRA_ERRORS
from smm_shared.mongo import OutboxRelay, epoch_ms

logger = logging.getLogger(__name__)

ITEMS = Counter(
    "smm_ingest_items_total",
    "Items from network deliveries, by network and outcome",
    ["network", "outcome"],
)
DELIVERY_SECONDS = Histogram(
    "smm_ingest_delivery_processing_seconds",
    "From a delivery's receipt to its mentions being stored",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

Parser = Callable[[Mapping[str, Any], Connector], ParsedPayload]


class MentionIngestor:
    """Applies parsed items for one brand: dedupe, enrichment, storage with events, in batches."""

    def __init__(
        self,
        *,
        repository: MentionRepository,
        enricher: Enricher,
        relay: OutboxRelay,
        fetches: GraphFetchRepository,
    ) -> None:
        self._repo = repository
        self._enricher = enricher
        self._relay = relay
        self._fetches = fetches

    async def apply(
        self, brand_id: str, items: Sequence[ParsedItem], *, received_at: datetime
    ) -> int:
        """Store what ``items`` say; returns how many changed our state (replays change nothing)."""
        new = [i.draft for i in items if isinstance(i, NewItem)]
        stored = len(
            await self.store_new(brand_id, new, received_at=received_at)
        )  # notifies itself
        requested = await self._request_fetches(
            brand_id, [i for i in items if isinstance(i, FetchRequest)], received_at=received_at
        )
        changed = 0
        for item in items:
            if isinstance(item, EditedItem):
                changed += await self._edit(brand_id, item, received_at=received_at)
            elif isinstance(item, DeletedItem):
                changed += await self._delete(brand_id, item)
            elif isinstance(item, EngagementItem):
                changed += await self._engagement(brand_id, item)
        if changed:
            self._relay.notify()
        return stored + changed + requested

    async def _request_fetches(
        self, brand_id: str, requests: Sequence[FetchRequest], *, received_at: datetime
    ) -> int:
        """Keep what must be fetched before it is a mention; a redelivered request is a no-op."""
        by_network: dict[str, list[FetchRequest]] = {}
        for request in requests:
            by_network.setdefault(request.network.value, []).append(request)
        requested = 0
        for network, group in by_network.items():
            new = await self._fetches.request(brand_id, group, requested_at=received_at)
            ITEMS.labels(network, "fetch_requested").inc(new)
            ITEMS.labels(network, "duplicate_fetch").inc(len(group) - new)
            requested += new
        return requested

    async def store_new(
        self, brand_id: str, drafts: Sequence[MentionDraft], *, received_at: datetime
    ) -> dict[str, MentionReceived]:
        """Store drafts not seen before (by natural key); returns the stored ones by natural key."""
        if not drafts:
            return {}
        unique: dict[str, MentionDraft] = {}
        for draft in drafts:
            unique.setdefault(natural_key(brand_id, draft.network, draft.native_id), draft)
        mentions = await self._enricher.enrich_all(
            brand_id, [normalise(d) for d in unique.values()]
        )
        events = {
            key: MentionReceived(brand_id=brand_id, mention=m)
            for key, m in zip(unique, mentions, strict=True)
        }
        docs = [
            (
                mention_doc(
                    brand_id=brand_id,
                    natural_key=key,
                    mention=e.mention,
                    received_ms=epoch_ms(received_at),
                ),
                [e],
            )
            for key, e in events.items()
        ]
        stored = await self._repo.insert_new(docs)
        for event in events.values():
            ITEMS.labels(
                event.mention.network.value,
                "new" if event.mention.mention_id in stored else "duplicate",
            ).inc()
        if stored:
            self._relay.notify()
        return {k: e for k, e in events.items() if e.mention.mention_id in stored}

    async def _edit(self, brand_id: str, item: EditedItem, *, received_at: datetime) -> int:
        key = natural_key(brand_id, item.draft.network, item.draft.native_id)
        edited_ms = epoch_ms(item.edited_at)
        for _ in range(5):
            stored = await self._repo.by_natural_key(key)
            if stored is None:
                # The original predates us (or is still in flight): keep the edited state as new.
                # Stored with its edit time, so the same edit seen again is recognised as stale.
                draft = replace(item.draft, edited_at=item.edited_at)
                first = await self.store_new(brand_id, [draft], received_at=received_at)
                return len(first)
            if stored.deleted or (stored.edited_ms is not None and stored.edited_ms >= edited_ms):
                ITEMS.labels(item.draft.network.value, "stale_edit").inc()
                return 0
            old = stored.mention
            fresh = normalise(item.draft, mention_id=old.mention_id)
            fresh = fresh.model_copy(
                update={"edited_at": item.edited_at, "conversation_key": old.conversation_key}
            )
            fresh = (await self._enricher.enrich_all(brand_id, [fresh]))[0]
            changed = tuple(
                f
                for f in ("text", "sentiment", "language", "keywords", "topics", "attachments")
                if getattr(old, f) != getattr(fresh, f)
            )
            event = MentionUpdated(
                brand_id=brand_id, mention=fresh, changed=changed, previous_text=old.text
            )
            changes = {
                "mention": fresh.model_dump(mode="json", exclude_none=True),
                "edited_ms": edited_ms,
                "sentiment": fresh.sentiment.label,
            }
            if await self._repo.replace_if_version(
                old.mention_id, stored.version, changes, [event]
            ):
                ITEMS.labels(item.draft.network.value, "edited").inc()
                return 1
        raise RuntimeError(f"mention {key} kept changing during an edit")

    async def _delete(self, brand_id: str, item: DeletedItem) -> int:
        key = natural_key(brand_id, item.network, item.native_id)
        for _ in range(5):
            stored = await self._repo.by_natural_key(key)
            if stored is None or stored.deleted:
                ITEMS.labels(
                    item.network.value, "unknown_delete" if stored is None else "stale_delete"
                ).inc()
                return 0
            event = MentionDeleted(
                brand_id=brand_id,
                mention_id=stored.mention.mention_id,
                network=item.network,
                native_id=item.native_id,
                conversation_key=stored.mention.conversation_key,
                deleted_at=item.deleted_at,
                deleted_by=item.deleted_by,
            )
            changes = {"deleted_ms": epoch_ms(item.deleted_at), "deleted_by": item.deleted_by}
            if await self._repo.replace_if_version(
                stored.mention.mention_id, stored.version, changes, [event]
            ):
                ITEMS.labels(item.network.value, "deleted").inc()
                return 1
        raise RuntimeError(f"mention {key} kept changing during a delete")

    async def _engagement(self, brand_id: str, item: EngagementItem) -> int:
        counters = {
            k: v
            for k, v in (
                ("likes", item.likes),
                ("comments", item.comments),
                ("shares", item.shares),
                ("views", item.views),
                ("clicks", item.clicks),
            )
            if v is not None
        }
        event = EngagementObserved(
            brand_id=brand_id,
            network=item.network,
            native_post_id=item.native_post_id,
            url=item.url,
            observed_at=item.observed_at,
            **counters,
        )
        stored = await self._repo.record_engagement(
            key=f"{brand_id}|{event.partition_key()}",
            brand_id=brand_id,
            observed_ms=epoch_ms(item.observed_at),
            counters=counters,
            event=event,
        )
        ITEMS.labels(item.network.value, "engagement" if stored else "stale_engagement").inc()
        return int(stored)


class RawProcessor:
    """Processes stored deliveries in batches: parse, apply, record the outcome. Never drops one."""

    def __init__(
        self,
        *,
        raw: RawEventStore,
        connectors: ConnectorRepository,
        parsers: Mapping[str, Parser],
        ingestor: MentionIngestor,
        batch_size: int = 200,
        lease_s: float = 60.0,
        poll_interval_s: float = 0.5,
    ) -> None:
        self._raw = raw
        self._connectors = connectors
        self._parsers = parsers
        self._ingestor = ingestor
        self._batch_size = batch_size
        self._lease_s = lease_s
        self._poll_s = poll_interval_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """A delivery was stored in this process: process it now."""
        self._wake.set()

    async def start(self) -> None:
        """Run in the background."""
        self._task = asyncio.create_task(self._run(), name="raw-processor")

    async def stop(self) -> None:
        """Stop; unprocessed deliveries stay stored (their lease expires)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                processed = await self.process_once()
            except INFRA_ERRORS:
                logger.warning("raw processor: database unavailable, retrying", exc_info=True)
                processed = 0
            except Exception:
                logger.exception("raw processor iteration failed")
                processed = 0
            if processed >= self._batch_size:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)

    async def process_once(self) -> int:
        """Claim one batch and process it; returns how many deliveries were handled.

        The batch is parsed first, then applied per brand in one pass, so a burst of
        deliveries costs one enrichment hop and one ``insert_many`` rather than one each.
        """
        token, batch = await self._raw.claim(
            now=datetime.now(UTC), lease_s=self._lease_s, limit=self._batch_size
        )
        if not batch:
            return 0
        outcomes: list[Outcome] = []
        by_brand: dict[str, list[tuple[RawEvent, ParsedPayload]]] = {}
        for raw in batch:
            parsed, failure = await self._parse(raw)
            if failure is not None:
                outcomes.append(failure)
            else:
                assert parsed is not None
                by_brand.setdefault(raw.brand_id, []).append((raw, parsed))
        try:
            for brand_id, parsed_batch in by_brand.items():
                items = [item for _, p in parsed_batch for item in p.items]
                oldest = min(raw.received_at for raw, _ in parsed_batch)
                try:
                    await self._ingestor.apply(brand_id, items, received_at=oldest)
                except INFRA_ERRORS:
                    raise
                except Exception as exc:
                    # A bug or a contract refusal: keep the deliveries with the cause for a person.
                    logger.exception("deliveries of brand %s failed", brand_id)
                    outcomes += [
                        Outcome(raw.id, error=f"processing.failed: {type(exc).__name__}: {exc}")
                        for raw, _ in parsed_batch
                    ]
                    continue
                now = datetime.now(UTC)
                for raw, p in parsed_batch:
                    outcomes.append(Outcome(raw.id, items=len(p.items)))
                    DELIVERY_SECONDS.observe((now - raw.received_at).total_seconds())
        except INFRA_ERRORS:
            # Not the deliveries' fault: hand back what is left and retry soon.
            done = {o.raw_id for o in outcomes}
            await self._raw.complete(token, outcomes)
            await self._raw.release(
                token,
                [r.id for r in batch if r.id not in done],
                retry_at=datetime.now(UTC) + timedelta(seconds=1),
            )
            raise
        await self._raw.complete(token, outcomes)
        return len(batch)

    async def _parse(self, raw: RawEvent) -> tuple[ParsedPayload | None, Outcome | None]:
        doc = await self._connectors.cached(raw.connector_id)
        if doc is None:
            return None, Outcome(
                raw.id, error="connector.deleted: the connector was removed before processing"
            )
        parser = self._parsers.get(raw.kind)
        if parser is None:
            return None, Outcome(raw.id, error=f"connector.unsupported: no parser for {raw.kind}")
        try:
            return parser(json.loads(raw.body), to_connector(doc)), None
        except (PayloadError, ValueError) as exc:
            code = exc.code if isinstance(exc, PayloadError) else "payload.invalid_json"
            logger.warning("delivery %s not processable: %s", raw.id, code)
            return None, Outcome(raw.id, error=f"{code}: {exc}")
