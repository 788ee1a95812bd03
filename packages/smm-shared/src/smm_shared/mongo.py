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
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from prometheus_client import Counter
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

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


def epoch_ms(at: datetime) -> int:
    """A time as integer epoch milliseconds: how we store times that updates change."""
    return int(at.timestamp() * 1000)


def from_epoch_ms(ms: int) -> datetime:
    """Integer epoch milliseconds back to a UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, UTC)


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


#: The most dotted paths one update may carry. nx-27017 stores a ``$inc``, ``$min`` or
#: ``$max`` of a dotted path as a flat top-level key ("c.x") once the update names 64 or
#: more paths in all (compat test, docs/mongo-subset.md); MongoDB has no such limit.
MAX_DOTTED_PATHS = 60


def chunked(fields: Mapping[str, Any], size: int = MAX_DOTTED_PATHS) -> list[dict[str, Any]]:
    """``fields`` in name order, cut into mappings of at most ``size`` entries.

    The same fields always give the same chunks, so a recovery that re-runs chunked
    updates under per-chunk guards repeats exactly the same steps.
    """
    if size < 1:
        raise ValueError("chunks need room for at least one field")
    ordered = sorted(fields.items())
    return [dict(ordered[i : i + size]) for i in range(0, len(ordered), size)]


# ---------------------------------------------------------------------------- outbox

OUTBOX_FIELD = "outbox"
PENDING_FIELD = "outbox_pending"
# Integer epoch milliseconds: a datetime written by an update operator is stored as a
# string on nx-27017 and then compares with nothing (docs/mongo-subset.md).
LEASE_FIELD = "outbox_lease_until_ms"
OWNER_FIELD = "outbox_lease_owner"
OUTBOX_INDEXES = (IndexSpec([PENDING_FIELD]), IndexSpec([OWNER_FIELD]))


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
    """Outbox fields for a document being inserted with ``events`` pending.

    The array is stored even without events: nx-27017 silently ignores ``$addToSet`` on a
    missing array field, so a later ``with_outbox`` update would lose its events.
    """
    if not events:
        return {OUTBOX_FIELD: []}
    return {OUTBOX_FIELD: [outbox_entry(e, source=source) for e in events], PENDING_FIELD: True}


Sender = Callable[[OutgoingMessage], Awaitable[None]]


class _PartiallySentError(Exception):
    """Publishing a document's events stopped after ``sent``; the cause is chained."""

    def __init__(self, sent: list[str]) -> None:
        super().__init__(f"{len(sent)} event(s) sent before the failure")
        self.sent = sent


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
    batch_size: int = 200
    #: Longest wait for the broker to acknowledge one event before retrying it.
    send_timeout_s: float = 20.0
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
                batch = await self._claim_batch(collection)
                if batch:
                    total += await self._publish_batch(collection, batch)
                # A short batch means nothing else was pending; newer writes notify us.
                if len(batch) < self.batch_size:
                    break
        return total

    async def _claim_batch(self, collection: Collection) -> list[Document]:
        """Lease up to ``batch_size`` pending documents to this relay (4 round trips a batch)."""
        now = epoch_ms(self.clock())
        # Only the pending-flag index is walked and the lease is checked here: an ``$or`` on
        # the lease would make nx-27017 scan the whole collection on every poll (measured:
        # at 10,000 documents a relay pass cost more than the writes it published).
        ids: list[Any] = []
        async for d in collection.find({PENDING_FIELD: True}, {"_id": 1, LEASE_FIELD: 1}):
            lease = d.get(LEASE_FIELD)
            if lease is None or lease < now:
                ids.append(d["_id"])
                if len(ids) >= self.batch_size:
                    break
        if not ids:
            return []
        token = new_id()
        lease_doc = {"$set": {LEASE_FIELD: now + int(self.lease_s * 1000), OWNER_FIELD: token}}
        # Re-check the lease in the updates: another replica may have claimed some meanwhile.
        await collection.update_many(
            {"_id": {"$in": ids}, PENDING_FIELD: True, LEASE_FIELD: {"$exists": False}}, lease_doc
        )
        await collection.update_many(
            {"_id": {"$in": ids}, PENDING_FIELD: True, LEASE_FIELD: {"$lt": now}}, lease_doc
        )
        return [d async for d in collection.find({OWNER_FIELD: token}, {OUTBOX_FIELD: 1})]

    async def _publish_batch(self, collection: Collection, batch: list[Document]) -> int:
        """Publish each document's events in order, then clear them.

        Documents whose events share a Kafka key go one after the other, so one partition
        never has two of our requests in flight: the key's order holds across documents
        (a retried request cannot overtake a later one), and Tansu's memory engine, which
        loses writes when two requests race on a new partition (seen after a restart), is
        never asked to. Documents of different keys go concurrently.
        """
        results = await self._publish_by_key(batch)
        done: list[UpdateOne] = []
        failures: list[BaseException] = []
        published = 0
        for doc, result in zip(batch, results, strict=True):
            sent = result if isinstance(result, list) else getattr(result, "sent", [])
            published += len(sent)
            release: Document = {
                "$pull": {OUTBOX_FIELD: {"id": {"$in": sent}}},
                "$unset": {LEASE_FIELD: "", OWNER_FIELD: ""},
            }
            done.append(UpdateOne({"_id": doc["_id"]}, release))
            if isinstance(result, BaseException):
                # Released at once: the rest is retried on the next pass (the broker is back
                # within a poll interval), not only after the lease would have expired.
                if result.__cause__ is not None or not isinstance(result, _PartiallySentError):
                    failures.append(result.__cause__ or result)  # else: held back, not failed
                continue
            # Clear the flag only if nothing was added meanwhile.
            done.append(
                UpdateOne(
                    {"_id": doc["_id"], OUTBOX_FIELD: {"$size": 0}}, {"$unset": {PENDING_FIELD: ""}}
                )
            )
        if done:
            await collection.bulk_write(done, ordered=True)
        OUTBOX_PUBLISHED.labels(collection.name).inc(published)
        if failures:
            OUTBOX_ERRORS.labels(collection.name).inc(len(failures))
            raise failures[0]
        return published

    async def _publish_by_key(self, batch: list[Document]) -> list[list[str] | BaseException]:
        """Each document's result, in ``batch`` order; one key's documents run in sequence."""
        results: list[list[str] | BaseException] = [[] for _ in batch]
        by_key: dict[str, list[int]] = {}
        for index, doc in enumerate(batch):
            entries = doc.get(OUTBOX_FIELD) or []
            key = str(entries[0]["key"]) if entries else f"\x00{doc['_id']!r}"
            by_key.setdefault(key, []).append(index)

        async def in_sequence(indexes: list[int]) -> None:
            for position, index in enumerate(indexes):
                try:
                    results[index] = await self._publish_entries(batch[index])
                except Exception as exc:
                    results[index] = exc
                    # The key's later documents wait for the next pass: they must not
                    # overtake the events this one still has to send.
                    for later in indexes[position + 1 :]:
                        results[later] = _PartiallySentError([])
                    return

        await asyncio.gather(*(in_sequence(indexes) for indexes in by_key.values()))
        return results

    async def _publish_entries(self, doc: Document) -> list[str]:
        sent: list[str] = []
        try:
            for entry in doc.get(OUTBOX_FIELD) or []:
                await self._send_entry(entry)
                sent.append(entry["id"])
        except Exception as exc:
            raise _PartiallySentError(sent) from exc
        return sent

    async def _send_entry(self, entry: Document) -> None:
        message = OutgoingMessage(
            topic=entry["topic"],
            key=entry["key"],
            headers=entry["headers"],
            body=entry["body"].encode(),
        )
        trace_carrier = entry.get("trace")
        if not trace_carrier:
            await self._send_bounded(message)
            return
        # Continue the trace of the request that stored the event.
        token = otel_context.attach(propagate.extract(trace_carrier))
        try:
            with trace.get_tracer("smm.outbox").start_as_current_span(
                f"outbox relay {message.topic}", kind=trace.SpanKind.INTERNAL
            ):
                await self._send_bounded(message)
        finally:
            otel_context.detach(token)

    async def _send_bounded(self, message: OutgoingMessage) -> None:
        """Send, but never wait forever: a publish the broker never answers (seen once after
        a Tansu restart) would stop the relay for good. A timeout is an infrastructure error
        (``TimeoutError`` is an ``OSError``): the entry stays stored and is sent again."""
        await asyncio.wait_for(self.send(message), self.send_timeout_s)


# ---------------------------------------------------------------------------- group commit


@dataclass
class InsertBatcher:
    """Group commit: concurrent ``insert()`` calls share one ``insert_many`` round trip.

    Each caller waits until its own document is stored (or learns it was a duplicate), so
    a webhook can be acknowledged only once its payload is durable, without paying one
    round trip per request (one ``insert_one`` per request caps nx-27017 at ~340/s on disk).
    """

    collection: Collection
    max_batch: int = 500
    _queue: list[tuple[Document, asyncio.Future[bool]]] = field(default_factory=list, init=False)
    _flusher: asyncio.Task[None] | None = field(default=None, init=False)

    async def insert(self, doc: Document) -> bool:
        """Store ``doc``; True when inserted, False when its ``_id`` or a unique key exists."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((doc, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(
                self._flush(), name=f"group-commit:{self.collection.name}"
            )
        return await future

    async def _flush(self) -> None:
        # While one batch is being written, the next accumulates: batch size follows load.
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            try:
                await self.collection.insert_many([d for d, _ in batch], ordered=False)
                duplicates: set[int] = set()
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                duplicates = {e["index"] for e in errors if e.get("code") == 11000}
                others = [e for e in errors if e.get("code") != 11000]
                if others:
                    failure = OperationFailure(f"insert failed: {others[0].get('errmsg')}")
                    failed = {e["index"] for e in others}
                    for i, (_, future) in enumerate(batch):
                        if i in failed and not future.done():
                            future.set_exception(failure)
            except Exception as exc:  # handed to every waiting caller
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for i, (_, future) in enumerate(batch):
                if not future.done():
                    future.set_result(i not in duplicates)
