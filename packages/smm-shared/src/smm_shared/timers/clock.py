"""Clocks for the timer loop: the system clock, and a manual one so tests never sleep."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the timer loop needs from time: the current UTC instant and a way to wait."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """Wall-clock time and real sleeping."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """Sleep for real."""
        await asyncio.sleep(max(seconds, 0.0))


SYSTEM_CLOCK = SystemClock()

_DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class ManualClock:
    """A clock that moves only when told to: ``advance()`` wakes the sleepers whose time came."""

    def __init__(self, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = (start or _DEFAULT_START).astimezone(UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._changed = asyncio.Event()

    def now(self) -> datetime:
        """The current (manual) time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has been advanced by ``seconds``; never waits in real time."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(
            self._sleepers, (self._now + timedelta(seconds=seconds), next(self._seq), future)
        )
        self._changed.set()
        try:
            await future
        finally:
            # A cancelled sleep leaves a done future behind; the heap drops it lazily.
            if not future.done():
                future.cancel()

    def advance(self, delta: timedelta | float) -> datetime:
        """Move time forward and wake every sleeper whose wake-up time has come."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("time does not run backwards")
        self._now += step
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
        return self._now

    def advance_to(self, when: datetime) -> datetime:
        """Move time forward to ``when`` (no-op when it is not later than now)."""
        return self.advance(max(when - self._now, timedelta(0)))

    @property
    def next_wakeup(self) -> datetime | None:
        """When the earliest live sleeper wakes, or None when nobody sleeps."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    async def wait_for_sleeper(self, *, until: datetime | None = None) -> datetime:
        """Wait until a task sleeps on this clock (until exactly ``until`` if given); return when it wakes."""
        while True:
            self._changed.clear()
            live = sorted(when for when, _, future in self._sleepers if not future.done())
            if until is None and live:
                return live[0]
            if until is not None and until in live:
                return until
            await self._changed.wait()
