"""The timer loop: claims due timers with a lease, hands each to a handler, records the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from opentelemetry import trace
from prometheus_client import Counter, Histogram

from smm_shared.timers.clock import SYSTEM_CLOCK, Clock
from smm_shared.timers.model import (
    Backoff,
    Claim,
    ClaimBatch,
    Completion,
    Failed,
    Fired,
    FiredTimer,
    Released,
)
from smm_shared.timers.store import TimerStore

logger = logging.getLogger(__name__)
_tracer = trace.get_tracer("smm.timers")

TimerHandler = Callable[[FiredTimer], Awaitable[None]]

LATENESS_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    3600.0,
)
TIMER_LATENESS = Histogram(
    "smm_timer_lateness_seconds",
    "How long after its deadline a timer was handed to its handler",
    ["kind"],
    buckets=LATENESS_BUCKETS,
)
TIMERS_FIRED = Counter("smm_timers_fired_total", "Timers whose handler completed", ["kind"])
TIMER_FAILURES = Counter(
    "smm_timer_failures_total",
    "Timer handler failures (each one is retried with backoff)",
    ["kind"],
)
TIMER_STALE_COMPLETIONS = Counter(
    "smm_timer_stale_completions_total",
    "Handler outcomes not recorded because the timer was rescheduled, cancelled or taken over meanwhile",
)

_MAX_ERROR_CHARS = 500


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:_MAX_ERROR_CHARS]


class _CompletionWriter:
    """Group commit: outcomes that finish while a write is in flight go out together in the next one."""

    def __init__(self, store: TimerStore) -> None:
        self._store = store
        self._queue: list[tuple[Completion, asyncio.Future[None]]] = []
        self.task: asyncio.Task[None] | None = None

    async def submit(self, completion: Completion) -> None:
        """Queue ``completion`` and return once the write that carries it is done."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((completion, future))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._drain(), name="timer-completions")
        await future

    async def flush(self) -> None:
        """Wait for queued outcomes to be written."""
        if self.task is not None:
            await self.task

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                applied = await self._store.complete(completions=[c for c, _ in batch])
            except Exception:
                # Not retried here: the claims stay leased, and when the leases expire the
                # timers fire again (handlers are idempotent), so nothing is lost.
                logger.warning(
                    "could not record %d timer outcomes; they fire again when their lease expires",
                    len(batch),
                    exc_info=True,
                )
            else:
                if stale := len(batch) - applied:
                    TIMER_STALE_COMPLETIONS.inc(stale)
                    logger.info(
                        "%d timer outcomes not recorded: rescheduled, cancelled or taken over while firing",
                        stale,
                    )
            for _, future in batch:
                if not future.done():
                    future.set_result(None)


class TimerLoop:
    """Fires the timers of one store in this replica: claim with a lease, call the handler, record.

    Run one per replica and store, each with its own ``owner_id``. Claims are atomic, so
    several replicas never fire a timer at the same time; a timer whose holder died fires
    again when its lease expires. The handler must therefore be idempotent and should
    store its effect and its outgoing events in one document update (embedded outbox).

    Knobs: ``lease_s`` bounds how long a dead replica's timers wait (default 30 s);
    ``handler_timeout_s`` (default ``lease_s / 2``) must stay below it; ``max_idle_s`` is
    the longest sleep, i.e. how late a timer armed by another replica can be noticed;
    ``max_in_flight`` bounds concurrent handlers and ``claim_batch`` the timers claimed
    per round trip; ``backoff`` paces retries; ``drain_timeout_s`` is how long ``stop()``
    waits for running handlers before handing their timers back.
    """

    def __init__(
        self,
        store: TimerStore,
        *,
        handler: TimerHandler,
        owner_id: str,
        clock: Clock = SYSTEM_CLOCK,
        lease_s: float = 30.0,
        max_idle_s: float = 0.5,
        handler_timeout_s: float | None = None,
        max_in_flight: int = 64,
        claim_batch: int = 32,
        backoff: Backoff | None = None,
        drain_timeout_s: float = 5.0,
        retain_fired_s: float | None = 7 * 86_400,
        purge_interval_s: float = 3_600,
    ) -> None:
        if not owner_id:
            raise ValueError("owner_id must identify this replica")
        if lease_s <= 0 or max_idle_s <= 0 or drain_timeout_s < 0:
            raise ValueError(
                "lease_s and max_idle_s must be positive, drain_timeout_s not negative"
            )
        if max_in_flight < 1 or claim_batch < 1:
            raise ValueError("max_in_flight and claim_batch must be at least 1")
        timeout = handler_timeout_s if handler_timeout_s is not None else lease_s / 2
        # A handler still running when its lease expires would be fired a second time by
        # another replica; the timeout cancels it (and retries later) before that happens.
        if not 0 < timeout < lease_s:
            raise ValueError("handler_timeout_s must be positive and shorter than lease_s")
        self.store = store
        self.owner_id = owner_id
        self.lease_s = lease_s
        self.max_idle_s = max_idle_s
        self.handler_timeout_s = timeout
        self.max_in_flight = max_in_flight
        self.claim_batch = claim_batch
        self.backoff = backoff or Backoff()
        self.drain_timeout_s = drain_timeout_s
        #: Fired records older than this are deleted (None keeps them forever).
        self.retain_fired_s = retain_fired_s
        self.purge_interval_s = purge_interval_s
        self._purger: asyncio.Task[None] | None = None
        self._handler = handler
        self._clock = clock
        self._wake = asyncio.Event()
        self._main: asyncio.Task[None] | None = None
        self._stopping = False
        self._sleep_until: datetime | None = None
        self._saturated = False
        self._tasks: dict[asyncio.Task[None], Claim] = {}
        self._handling: set[tuple[str, str]] = set()  # (key, token) whose handler runs now
        self._writer = _CompletionWriter(store)
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._main is not None

    @property
    def in_flight(self) -> int:
        """Timers claimed by this loop whose outcome is not recorded yet."""
        return len(self._tasks)

    def wake(self) -> None:
        """Look for due timers now instead of at the next planned wake-up."""
        self._wake.set()

    async def start(self) -> None:
        """Run the loop in the background; timers that fell due while no loop ran fire at once."""
        if self._main is not None:
            raise RuntimeError("the timer loop is already running")
        self._stopping = False
        self._unsubscribe = self.store.subscribe(self._on_schedule)
        self._main = asyncio.create_task(self._run(), name=f"timer-loop:{self.owner_id}")
        if self.retain_fired_s is not None:
            self._purger = asyncio.create_task(self._purge_forever(), name="timer-purge")

    async def stop(self) -> None:
        """Stop claiming, let running handlers finish (up to ``drain_timeout_s``), release the rest."""
        if self._main is None:
            return
        self._stopping = True
        self._wake.set()
        await self._stop_purger()
        with contextlib.suppress(asyncio.CancelledError):
            await self._main
        self._main = None
        try:
            await self._drain_in_flight()
        finally:
            self._forget_listener()

    async def abandon(self) -> None:
        """Stop at once and record nothing, as a crash would: claims wait for their lease to expire."""
        await self._stop_purger()
        tasks = [t for t in (self._main, *self._tasks, self._writer.task) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._main = None
        self._tasks.clear()
        self._handling.clear()
        self._writer = _CompletionWriter(self.store)
        self._forget_listener()

    async def run_due(self) -> int:
        """Fire everything due now, wait until the outcomes are recorded; returns how many were handed over."""
        if self._main is not None:
            raise RuntimeError("run_due() is for a loop that is not started")
        handed = 0
        while True:
            batch = await self._claim(limit=self.claim_batch)
            handed += len(batch.claims)
            if self._tasks:
                await asyncio.gather(*self._tasks)
            if not batch.candidates:
                return handed

    # ------------------------------------------------------------------ internals

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                free = self.max_in_flight - len(self._tasks)
                if free <= 0:
                    # Full: a finishing handler wakes us (see _on_task_done).
                    self._saturated = True
                    delay = self.max_idle_s
                else:
                    batch = await self._claim(limit=min(self.claim_batch, free))
                    if batch.candidates:
                        continue  # more may be due: claim again before sleeping
                    delay = await self._delay_to_next()
            except Exception:
                logger.warning(
                    "timer loop %s: store unavailable, retrying", self.owner_id, exc_info=True
                )
                delay = self.max_idle_s
            await self._idle(delay)

    async def _claim(self, *, limit: int) -> ClaimBatch:
        batch = await self.store.claim_due(
            now=self._clock.now(), owner=self.owner_id, lease_s=self.lease_s, limit=limit
        )
        for claim in batch.claims:
            task = asyncio.create_task(self._fire(claim), name=f"timer:{claim.key}")
            self._tasks[task] = claim
            task.add_done_callback(self._on_task_done)
        return batch

    async def _delay_to_next(self) -> float:
        next_at = await self.store.next_run_at()
        if next_at is None:
            return self.max_idle_s
        # Capped by max_idle_s so timers armed by other replicas (which cannot wake us)
        # are noticed within that time.
        return min(max((next_at - self._clock.now()).total_seconds(), 0.0), self.max_idle_s)

    async def _idle(self, delay: float) -> None:
        if delay <= 0 or self._stopping:
            return
        self._sleep_until = self._clock.now() + timedelta(seconds=delay)
        sleeper = asyncio.ensure_future(self._clock.sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait((sleeper, waker), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()
            self._sleep_until = None

    def _on_schedule(self, due_at: datetime) -> None:
        # Only a deadline earlier than our planned wake-up changes anything.
        if self._sleep_until is None or due_at < self._sleep_until:
            self._wake.set()

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("timer task failed unexpectedly", exc_info=exc)
        if self._saturated:
            self._saturated = False
            self._wake.set()

    async def _fire(self, claim: Claim) -> None:
        fired = FiredTimer(
            key=claim.key,
            kind=claim.kind,
            payload=claim.payload,
            due_at=claim.due_at,
            fired_at=self._clock.now(),
            attempt=claim.attempts,
            owner=self.owner_id,
        )
        running = (claim.key, claim.token)
        self._handling.add(running)
        try:
            outcome = await self._invoke(claim, fired)
        finally:
            self._handling.discard(running)
        await self._writer.submit(outcome)

    async def _invoke(self, claim: Claim, fired: FiredTimer) -> Completion:
        attributes: dict[str, str | int | float] = {
            "smm.timer.key": claim.key,
            "smm.timer.kind": claim.kind,
            "smm.timer.attempt": claim.attempts,
            "smm.timer.lateness_s": fired.lateness_s,
        }
        try:
            with _tracer.start_as_current_span(f"timer {claim.kind}", attributes=attributes):
                async with asyncio.timeout(self.handler_timeout_s):
                    await self._handler(fired)
        except Exception as exc:
            return self._failure(claim, exc)
        TIMERS_FIRED.labels(claim.kind).inc()
        # Clock skew between replicas can make it a few ms negative; the histogram has no
        # bucket below zero.
        TIMER_LATENESS.labels(claim.kind).observe(max(fired.lateness_s, 0.0))
        return Fired(claim=claim, fired_at=fired.fired_at)

    def _failure(self, claim: Claim, exc: Exception) -> Failed:
        delay = self.backoff.delay_s(claim.attempts)
        TIMER_FAILURES.labels(claim.kind).inc()
        # Never dropped: after alert_after attempts it keeps retrying at the capped delay,
        # loudly, until the handler succeeds or someone cancels the timer.
        level = logging.ERROR if claim.attempts >= self.backoff.alert_after else logging.WARNING
        logger.log(
            level,
            "timer %s (%s) failed on attempt %d; retrying in %.1fs",
            claim.key,
            claim.kind,
            claim.attempts,
            delay,
            exc_info=exc,
        )
        retry_at = self._clock.now() + timedelta(seconds=delay)
        return Failed(claim=claim, retry_at=retry_at, error=_describe(exc))

    async def _drain_in_flight(self) -> None:
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=self.drain_timeout_s)
            unfinished = [
                claim
                for task, claim in self._tasks.items()
                if task in pending and (claim.key, claim.token) in self._handling
            ]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            if unfinished:
                # Hand them back now rather than making another replica wait for the lease.
                now = self._clock.now()
                try:
                    await self.store.complete(
                        completions=[Released(claim=c, at=now) for c in unfinished]
                    )
                except Exception:
                    logger.warning(
                        "could not release %d timers; their leases will expire", len(unfinished)
                    )
        await self._writer.flush()

    async def purge_fired(self) -> int:
        """Delete fired records older than ``retain_fired_s``; returns how many."""
        if self.retain_fired_s is None:
            return 0
        cutoff = self._clock.now() - timedelta(seconds=self.retain_fired_s)
        purged = await self.store.purge_fired(due_before=cutoff)
        if purged:
            logger.info("purged %d fired timers due before %s", purged, cutoff.isoformat())
        return purged

    async def _purge_forever(self) -> None:
        # Fired records keep replays of schedule() idempotent for a while, then go: without
        # this the collection would grow with every deadline ever set.
        while True:
            try:
                await self.purge_fired()
            except Exception:
                logger.warning("purging fired timers failed; retrying later", exc_info=True)
            await self._clock.sleep(self.purge_interval_s)

    async def _stop_purger(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
            await asyncio.gather(self._purger, return_exceptions=True)
            self._purger = None

    def _forget_listener(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
