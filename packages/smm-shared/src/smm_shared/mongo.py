"""MongoDB helpers: client factory, idempotent indexes, and the embedded-outbox relay.

State change and outgoing events go into the same document in one atomic update
(``with_outbox``); :class:`OutboxRelay` publishes each document's pending events in order
and removes them. A crash between publish and removal re-publishes: consumers dedupe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from prometheus_client import Counter
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from smm_shared.config import MongoSettings
from smm_shared.events import Event, new_ulid
from smm_shared.messaging import INFRA_ERRORS, OutgoingMessage

logger = logging.getLogger(__name__)

Document = dict[str, Any]
Collection = AsyncCollection[Document]

OUTBOX_PUBLISHED = Counter(
    "smm_outbox_published_total", "Events published by the outbox relay", ["collection"]
)
OUTBOX_ERRORS = Counter("smm_outbox_errors_total", "Outbox relay publish failures", ["collection"])


def new_id() -> str:
    """A new string id (ULID): we never use ObjectId (LOCAL-INFRA.md)."""
    return new_ulid()


def create_mongo_client(settings: MongoSettings) -> AsyncMongoClient[Document]:
    """An async client with UTC-aware datetimes and standard UUIDs."""
    return AsyncMongoClient(
        settings.url,
        tz_aware=True,
        tzinfo=UTC,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=settings.server_selection_timeout_ms,
        appname="smm",
    )


async def mongo_reachable(client: AsyncMongoClient[Document], timeout_s: float = 2.0) -> bool:
    """True when the server answers ``ping``."""
    try:
        await asyncio.wait_for(client.admin.command("ping"), timeout_s)
        return True
    except (PyMongoError, TimeoutError, OSError):
        return False


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """An index we need; created idempotently at start-up (names and directions not relied on)."""

    keys: Sequence[str]
    unique: bool = False
    partial_filter: Mapping[str, Any] | None = None
    expire_after_s: int | None = None


async def ensure_indexes(collection: Collection, specs: Iterable[IndexSpec]) -> None:
    """Create each index if missing; creating an existing one is a no-op."""
    for spec in specs:
        options: dict[str, Any] = {}
        if spec.unique:
            options["unique"] = True
        if spec.partial_filter is not None:
            options["partialFilterExpression"] = dict(spec.partial_filter)
        if spec.expire_after_s is not None:
            options["expireAfterSeconds"] = spec.expire_after_s
        await collection.create_index([(k, 1) for k in spec.keys], **options)


# ---------------------------------------------------------------------------- outbox

OUTBOX_FIELD = "outbox"
PENDING_FIELD = "outbox_pending"
LEASE_FIELD = "outbox_lease_until"
OUTBOX_INDEXES = (IndexSpec([PENDING_FIELD]),)


def outbox_entry(event: Event, *, source: str) -> Document:
    """An event as stored in a document's outbox, with the current trace context."""
    message = OutgoingMessage.from_event(event, source=source)
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    entry: Document = {
        "id": event.event_id,
        "topic": message.topic,
        "key": message.key,
        "headers": dict(message.headers),
        "body": message.body.decode(),
    }
    if carrier:
        entry["trace"] = carrier
    return entry


def with_outbox(update: Mapping[str, Any], events: Sequence[Event], *, source: str) -> Document:
    """Add ``events`` to an update document so they are stored atomically with the change."""
    merged: Document = {op: dict(value) for op, value in update.items()}
    if not events:
        return merged
    # $addToSet, not $push: nx-27017 turns every subdocument of an array into a JSON string
    # on $push (probed in tests/integration/shared/test_mongo_compat.py). Entries carry a
    # unique event id, so set semantics never drop one, and order of appends is kept.
    add = merged.setdefault("$addToSet", {})
    add[OUTBOX_FIELD] = {"$each": [outbox_entry(e, source=source) for e in events]}
    merged.setdefault("$set", {})[PENDING_FIELD] = True
    return merged


def outbox_fields(events: Sequence[Event], *, source: str) -> Document:
    """Outbox fields for a document being inserted with ``events`` pending."""
    if not events:
        return {}
    return {OUTBOX_FIELD: [outbox_entry(e, source=source) for e in events], PENDING_FIELD: True}


Sender = Callable[[OutgoingMessage], Awaitable[None]]
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class OutboxRelay:
    """Publishes the pending events of documents in some collections, in order, then removes them.

    Several replicas may run: a document is leased while one relay publishes it. Call
    :meth:`notify` after a local write to publish without waiting for the next poll.
    """

    collections: Sequence[Collection]
    send: Sender
    poll_interval_s: float = 0.5
    lease_s: float = 30.0
    clock: Clock = _utcnow
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def notify(self) -> None:
        """Wake the relay now (a local write has pending events)."""
        self._wake.set()

    async def start(self) -> None:
        """Run the relay loop in the background."""
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Stop the loop; pending events stay stored for the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                published = await self.drain()
            except INFRA_ERRORS:
                logger.warning("outbox relay: infrastructure unavailable, retrying", exc_info=True)
                published = 0
            except Exception:
                logger.exception("outbox relay iteration failed")
                published = 0
            if published:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)

    async def drain(self) -> int:
        """Publish every pending document once; returns the number of events published."""
        total = 0
        for collection in self.collections:
            while True:
                doc = await self._claim(collection)
                if doc is None:
                    break
                total += await self._publish_document(collection, doc)
        return total

    async def _claim(self, collection: Collection) -> Document | None:
        now = self.clock()
        return await collection.find_one_and_update(
            {
                PENDING_FIELD: True,
                "$or": [{LEASE_FIELD: {"$exists": False}}, {LEASE_FIELD: {"$lt": now}}],
            },
            {"$set": {LEASE_FIELD: now + timedelta(seconds=self.lease_s)}},
            projection={OUTBOX_FIELD: 1},
            return_document=ReturnDocument.AFTER,
        )

    async def _publish_document(self, collection: Collection, doc: Document) -> int:
        entries: list[Document] = list(doc.get(OUTBOX_FIELD) or [])
        sent: list[str] = []
        try:
            for entry in entries:
                await self._send_entry(entry)
                sent.append(entry["id"])
        except Exception:
            OUTBOX_ERRORS.labels(collection.name).inc()
            # Keep what was sent off the outbox; the rest waits for the lease to expire.
            if sent:
                await collection.update_one(
                    {"_id": doc["_id"]}, {"$pull": {OUTBOX_FIELD: {"id": {"$in": sent}}}}
                )
            raise
        await collection.update_one(
            {"_id": doc["_id"]},
            {"$pull": {OUTBOX_FIELD: {"id": {"$in": sent}}}, "$unset": {LEASE_FIELD: ""}},
        )
        # Only clear the flag if nothing was pushed meanwhile.
        await collection.update_one(
            {"_id": doc["_id"], OUTBOX_FIELD: {"$size": 0}}, {"$unset": {PENDING_FIELD: ""}}
        )
        OUTBOX_PUBLISHED.labels(collection.name).inc(len(sent))
        return len(sent)

    async def _send_entry(self, entry: Document) -> None:
        message = OutgoingMessage(
            topic=entry["topic"],
            key=entry["key"],
            headers=entry["headers"],
            body=entry["body"].encode(),
        )
        trace_carrier = entry.get("trace")
        if not trace_carrier:
            await self.send(message)
            return
        # Continue the trace of the request that stored the event.
        token = otel_context.attach(propagate.extract(trace_carrier))
        try:
            with trace.get_tracer("smm.outbox").start_as_current_span(
                f"outbox relay {message.topic}", kind=trace.SpanKind.INTERNAL
            ):
                await self.send(message)
        finally:
            otel_context.detach(token)
