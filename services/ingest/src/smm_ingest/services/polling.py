"""Poll connectors: one runner per connector, one replica at a time, never losing an item."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from prometheus_client import Counter

from smm_ingest.adapters.connectors_repo import ConnectorRepository, to_connector
from smm_ingest.adapters.poll_state_repo import PollStateRepository
from smm_ingest.adapters.raw_store import RawEventStore
from smm_ingest.domain.connectors import POLL_KINDS, Connector
from smm_ingest.domain.items import ParsedItem, PayloadError
from smm_ingest.domain.polling import (
    Backoff,
    PermanentPollError,
    PollError,
    PollResult,
    RateLimitedError,
    StreamBatch,
    rate_limit_delay,
)
from smm_ingest.services.pipeline import MentionIngestor, Parser
from smm_shared.mongo import Document, epoch_ms, new_id

logger = logging.getLogger(__name__)

POLLS = Counter(
    "smm_ingest_polls_total", "Polls by connector kind and outcome", ["kind", "outcome"]
)
PERMANENT_RETRY_S = 300.0


@runtime_checkable
class Poller(Protocol):
    """One network client: a poll from a cursor."""

    async def poll(self, cursor: str | None) -> PollResult:
        """Fetch what is new since ``cursor``."""
        ...


@runtime_checkable
class StreamSource(Protocol):
    """One network's stream: batches from a cursor until it ends or fails."""

    def stream(self, cursor: str | None) -> AsyncIterator[StreamBatch]:
        """Connect and yield batches; raise a PollError to be reconnected (with backoff)."""
        ...


PollerFactory = Callable[[Connector, Document], Awaitable["Poller | StreamSource"]]
Sleep = Callable[[float], Awaitable[None]]


class _LeasedRunner:
    """What poll and stream runners share: the lease, parsing, storing before advancing, failures."""

    def __init__(
        self,
        *,
        connector: Connector,
        parser: Parser,
        ingestor: MentionIngestor,
        state: PollStateRepository,
        owner: str,
        lease_s: float = 60.0,
        audit: RawEventStore | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.connector = connector
        self._audit = audit
        self._parser = parser
        self._ingestor = ingestor
        self._state = state
        self._owner = owner
        self._lease_ms = int(lease_s * 1000)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._backoff = Backoff(rng=self._rng)

    async def run(self) -> None:
        """Work the connector until cancelled, then hand the lease back."""
        try:
            while True:
                await self._sleep(await self.step())
        finally:
            with contextlib.suppress(Exception):
                await self._state.release(self.connector.id, owner=self._owner)

    async def step(self) -> float:
        """One poll or connection; returns how long to wait before the next."""
        raise NotImplementedError

    def _count(self, outcome: str) -> None:
        POLLS.labels(self.connector.kind.value, outcome).inc()

    async def _acquire(self) -> Document | None:
        """Take or renew the lease: our state (with the cursor), or None when another replica works it."""
        held = await self._state.acquire(
            self.connector.id,
            owner=self._owner,
            now_ms=epoch_ms(datetime.now(UTC)),
            lease_ms=self._lease_ms,
        )
        if held is None:
            self._count("held_elsewhere")
        return held

    def _elsewhere_delay(self) -> float:
        """Check again a third of a lease later (jittered), to take over if that replica died."""
        return self._lease_ms / 3000 * self._rng.uniform(0.8, 1.2)

    async def _store_and_advance(
        self, payloads: Sequence[dict[str, Any]], cursor: str | None
    ) -> bool:
        """Store what ``payloads`` carry, then save ``cursor``; False when the lease was lost meanwhile."""
        items = self._parse_all(payloads)
        received_at = datetime.now(UTC)
        if payloads and self._audit is not None:
            # Kept as received, like webhook deliveries, for the same retention.
            await self._audit.record(
                connector_id=self.connector.id,
                brand_id=self.connector.brand_id,
                kind=self.connector.kind.value,
                body=json.dumps(list(payloads), ensure_ascii=False, separators=(",", ":")),
                received_at=received_at,
                items=len(items),
            )
        if items:
            await self._ingestor.apply(self.connector.brand_id, items, received_at=received_at)
        # Only now is it safe to move on: a crash before this line re-fetches, and dedupe absorbs it.
        advanced = await self._state.advance(
            self.connector.id,
            owner=self._owner,
            cursor=cursor,
            items=len(items),
            now_ms=epoch_ms(datetime.now(UTC)),
            lease_ms=self._lease_ms,
        )
        self._count("ok" if advanced else "lease_lost")
        if advanced:
            self._backoff.reset()
        return advanced

    def _parse_all(self, payloads: Sequence[dict[str, Any]]) -> list[ParsedItem]:
        items: list[ParsedItem] = []
        for payload in payloads:
            try:
                items.extend(self._parser(payload, self.connector).items)
            except PayloadError as exc:
                # One unreadable item must not block the ones after it: log it, go on.
                logger.warning(
                    "connector %s: skipped an unreadable item: %s", self.connector.id, exc.code
                )
                self._count("unreadable_item")
        return items

    async def _failed(self, exc: PollError) -> float:
        """Record a failed poll or connection; returns how long to wait before the next try."""
        if isinstance(exc, RateLimitedError):
            state, delay = "rate_limited", rate_limit_delay(exc.retry_after_s, self._rng)
        elif isinstance(exc, PermanentPollError):
            logger.error("connector %s cannot poll: %s", self.connector.id, exc)
            state, delay = "failed", PERMANENT_RETRY_S
        else:
            state, delay = "retrying", self._backoff.next_delay()
        self._count(state)
        await self._state.failed(
            self.connector.id,
            owner=self._owner,
            state=state,
            error=str(exc),
            now_ms=epoch_ms(datetime.now(UTC)),
        )
        return delay


class PollRunner(_LeasedRunner):
    """Polls one connector while this replica holds its lease; stores items before advancing."""

    def __init__(self, *, poller: Poller, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._poller = poller

    async def step(self) -> float:
        """One poll (if we hold the lease); returns how long to wait before the next."""
        held = await self._acquire()
        if held is None:
            return self._elsewhere_delay()
        try:
            result = await self._poller.poll(held.get("cursor"))
        except PollError as exc:
            return await self._failed(exc)
        await self._store_and_advance(result.payloads, result.next_cursor)
        return result.wait_s


class StreamRunner(_LeasedRunner):
    """Consumes one connector's stream while this replica holds its lease; reconnects on failure."""

    def __init__(self, *, source: StreamSource, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._source = source

    async def step(self) -> float:
        """One connection: consume until it ends or fails; returns how long to wait before reconnecting."""
        held = await self._acquire()
        if held is None:
            return self._elsewhere_delay()
        try:
            async for batch in self._source.stream(held.get("cursor")):
                # Each batch (an empty one too) renews the lease with its cursor.
                if not await self._store_and_advance(batch.payloads, batch.cursor):
                    return 0.0
        except PollError as exc:
            return await self._failed(exc)
        self._count("stream_ended")
        return self._backoff.next_delay()


class PollerManager:
    """Keeps one runner per enabled poll connector in this replica, following the connectors' changes."""

    def __init__(
        self,
        *,
        connectors: ConnectorRepository,
        state: PollStateRepository,
        ingestor: MentionIngestor,
        factories: Mapping[str, PollerFactory],
        parsers: Mapping[str, Parser],
        audit: RawEventStore | None = None,
        reconcile_interval_s: float = 5.0,
    ) -> None:
        self._audit = audit
        self._connectors = connectors
        self._state = state
        self._ingestor = ingestor
        self._factories = factories
        self._parsers = parsers
        self._interval = reconcile_interval_s
        self._owner = f"ingest-{new_id()}"
        self._runners: dict[str, tuple[str, asyncio.Task[None]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start following the connectors."""
        self._task = asyncio.create_task(self._loop(), name="poller-manager")

    async def stop(self) -> None:
        """Stop every runner (their leases are released for other replicas)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for connector_id in list(self._runners):
            await self._stop_runner(connector_id)

    async def _loop(self) -> None:
        while True:
            try:
                await self.reconcile()
            except Exception:
                logger.warning("poll connectors not reconciled; retrying", exc_info=True)
            await asyncio.sleep(self._interval)

    async def reconcile(self) -> None:
        """Start runners for new or changed poll connectors, stop those removed or disabled."""
        wanted: dict[str, Document] = {}
        async for doc in self._connectors.collection.find({"kind": {"$in": sorted(POLL_KINDS)}}):
            if doc.get("enabled", True):
                wanted[doc["_id"]] = doc
        for connector_id in list(self._runners):
            current = wanted.get(connector_id)
            if current is None or _fingerprint(current) != self._runners[connector_id][0]:
                await self._stop_runner(connector_id)
        for connector_id, wanted_doc in wanted.items():
            if connector_id not in self._runners:
                await self._start_runner(wanted_doc)

    async def _start_runner(self, doc: Document) -> None:
        connector = to_connector(doc)
        try:
            client = await self._factories[connector.kind.value](connector, doc)
        except Exception as exc:
            logger.error("connector %s cannot start polling: %s", connector.id, exc)
            return
        common: dict[str, Any] = {
            "connector": connector,
            "parser": self._parsers[connector.kind.value],
            "ingestor": self._ingestor,
            "state": self._state,
            "owner": self._owner,
            "audit": self._audit,
        }
        runner: _LeasedRunner
        if isinstance(client, StreamSource):
            runner = StreamRunner(source=client, **common)
        else:
            runner = PollRunner(poller=client, **common)
        task = asyncio.create_task(runner.run(), name=f"poll:{connector.id}")
        self._runners[connector.id] = (_fingerprint(doc), task)

    async def _stop_runner(self, connector_id: str) -> None:
        _, task = self._runners.pop(connector_id)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _fingerprint(doc: Document) -> str:
    """What, when changed, restarts a runner: its config and secrets."""
    parts: list[Any] = [doc.get("config"), doc.get("secrets")]
    return repr(parts)
