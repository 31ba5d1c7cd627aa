"""Clocks the controller runtime reads time from, so tests can drive time by hand.

Everything time-based in the runtime (delayed adds, back-off, lease renewal, request deadlines)
goes through a ``Clock``: ``monotonic()`` for intervals, ``now()`` for the wall-clock instants
written into Leases, and ``call_later()`` for timers. ``sleep()`` and ``deadline()`` are built on
``call_later()``, so a ``ManualClock`` controls all of them and a test never waits for real time:
it parks the code under test on the clock, then calls ``advance()``.

Timers are callbacks, not tasks: a queue arms one timer for its earliest delayed key instead of
keeping a background task alive (no task to own, nothing to leak).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock", "Timer", "deadline"]


class Timer(Protocol):
    """A scheduled callback; ``cancel()`` is idempotent and harmless after it ran."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for intervals and deadlines)."""
        ...

    def now(self) -> datetime:
        """The wall-clock time, timezone-aware in UTC (for timestamps other processes read)."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` on the event loop after ``delay`` seconds of this clock."""
        ...

    async def sleep(self, delay: float) -> None:
        """Wait ``delay`` seconds of this clock."""
        ...


class SystemClock:
    """Real time: the event loop's monotonic clock for timers, UTC for the wall clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(max(delay, 0.0), callback)

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(max(delay, 0.0))


@dataclass(order=True)
class _ManualTimer:
    when: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that moves only when told to; timers fire inside ``advance()``, in time order.

    Tests park the code under test on the clock (poll ``pending`` with a deadline), then
    ``advance()``. Callbacks run synchronously; coroutines they wake run at the next await.
    """

    def __init__(
        self,
        *,
        start: datetime = datetime(2021, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        monotonic: float = 1000.0,
    ) -> None:
        self._start_wall = start
        self._start_monotonic = monotonic
        self._now = monotonic
        self._timers: list[_ManualTimer] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        return self._now

    def now(self) -> datetime:
        return self._start_wall + timedelta(seconds=self._now - self._start_monotonic)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = _ManualTimer(self._now + max(delay, 0.0), next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        return timer

    async def sleep(self, delay: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not waiter.done():
                waiter.set_result(None)

        timer = self.call_later(delay, wake)
        try:
            await waiter
        finally:
            timer.cancel()

    @property
    def pending(self) -> int:
        """How many timers (sleeps included) are waiting to fire."""
        return sum(1 for timer in self._timers if not timer.cancelled)

    def next_deadline(self) -> float | None:
        """When the earliest live timer fires, if any."""
        live = [timer.when for timer in self._timers if not timer.cancelled]
        return min(live) if live else None

    def advance(self, seconds: float) -> None:
        """Move time forward, firing every timer due on the way at its own instant."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        target = self._now + seconds
        while self._timers and self._timers[0].when <= target:
            timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._now = max(self._now, timer.when)
            timer.cancelled = True
            timer.callback()
        self._now = target


@asynccontextmanager
async def deadline(clock: Clock, seconds: float) -> AsyncIterator[None]:
    """``asyncio.timeout`` on an injectable clock: raise ``TimeoutError`` if the body overruns.

    The body is cancelled at the deadline; a cancellation that came from elsewhere still
    propagates as ``CancelledError``.
    """
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("deadline() needs a running task")
    expired = False
    cancelling = task.cancelling()

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = clock.call_later(seconds, expire)
    try:
        yield
    except asyncio.CancelledError:
        if expired and task.uncancel() <= cancelling:
            raise TimeoutError(f"deadline of {seconds:g}s exceeded") from None
        raise
    finally:
        timer.cancel()
