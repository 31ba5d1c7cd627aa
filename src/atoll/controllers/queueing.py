"""A rate-limited work queue for asyncio, with client-go's workqueue semantics.

Handlers put keys in, workers take them out. The rules (client-go ``workqueue.Type``,
``DelayingInterface`` and ``RateLimitingInterface`` folded into one class):

- a key waits in the queue at most once (``add`` of a queued key is a no-op);
- a key is handed to one worker at a time: re-added while being processed, it is marked dirty
  and queued again when the worker calls ``done``, so the latest state is always reconciled;
- ``add_after`` holds a key back for a delay (the earliest pending delay wins);
- ``add_rate_limited`` holds it back for the key's back-off (5 ms, doubling, up to 1000 s by
  default) until ``forget`` resets it.

Delays run on one clock timer for the earliest delayed key, not on a background task, so a
queue needs no owner and leaves nothing running. One deliberate difference from client-go:
after ``shutdown()``, ``get()`` raises ``QueueShutDown`` at once instead of draining the keys
still queued. Controllers are level-based, so whoever starts them next lists everything again.

Counters (``stats()``) are read on scrape by whoever exports them, so the queue knows nothing
about Prometheus.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from atoll.controllers.clocks import Clock, SystemClock, Timer

__all__ = [
    "ExponentialBackoff",
    "QueueShutDown",
    "QueueStats",
    "RateLimiter",
    "WorkQueue",
]

K = TypeVar("K", bound=Hashable)

# client-go's DefaultControllerRateLimiter uses the same per-item bounds.
DEFAULT_BACKOFF_BASE = 0.005
DEFAULT_BACKOFF_MAX = 1000.0


class QueueShutDown(Exception):
    """Raised by ``WorkQueue.get`` once the queue is shut down: the worker should return."""


class RateLimiter(Protocol):
    def when(self, key: Hashable) -> float:
        """Seconds to hold ``key`` back now; counts one more failure for it."""
        ...

    def forget(self, key: Hashable) -> None:
        """Stop tracking ``key``: its next failure starts a new streak."""
        ...

    def failures(self, key: Hashable) -> int:
        """Failures of ``key`` since it was last forgotten."""
        ...


class ExponentialBackoff:
    """Per-key exponential back-off: ``base * 2**failures``, capped at ``cap``.

    client-go's ``ItemExponentialFailureRateLimiter``. client-go's default also caps the
    overall rate with a token bucket (10 qps, burst 100); add one here if a retry storm across
    many keys ever shows up.
    """

    def __init__(self, base: float = DEFAULT_BACKOFF_BASE, cap: float = DEFAULT_BACKOFF_MAX):
        if base <= 0 or cap < base:
            raise ValueError(f"need 0 < base <= cap, got base={base!r} cap={cap!r}")
        self.base = base
        self.cap = cap
        self._failures: dict[Hashable, int] = {}

    def when(self, key: Hashable) -> float:
        exponent = self._failures.get(key, 0)
        self._failures[key] = exponent + 1
        if exponent >= 64:  # 2**64 * any sane base is past any sane cap; avoid float overflow
            return self.cap
        return float(min(self.base * 2**exponent, self.cap))

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def failures(self, key: Hashable) -> int:
        return self._failures.get(key, 0)


@dataclass(frozen=True, slots=True)
class QueueStats:
    """A snapshot of one queue, for metrics (client-go's workqueue metric names in brackets)."""

    name: str
    depth: int  # keys ready to be handed out [workqueue_depth]
    processing: int  # keys a worker holds right now
    delayed: int  # keys waiting for their delay or back-off to pass
    adds: int  # keys put in the queue, not counting duplicates [workqueue_adds_total]
    retries: int  # delayed and rate-limited adds [workqueue_retries_total]


class WorkQueue(Generic[K]):
    """A deduplicating, delaying, rate-limited queue of keys; see the module docstring."""

    def __init__(
        self,
        name: str = "",
        *,
        clock: Clock | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.name = name
        self.clock: Clock = clock or SystemClock()
        self.rate_limiter: RateLimiter = rate_limiter or ExponentialBackoff()
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()  # queued or to be queued again once done
        self._processing: set[K] = set()
        self._changed = asyncio.Event()
        self._shutting_down = False
        # Delayed keys: the wanted time per key, plus a heap with stale entries skipped lazily.
        self._ready_at: dict[K, float] = {}
        self._heap: list[tuple[float, int, K]] = []
        self._seq = itertools.count()
        self._timer: Timer | None = None
        self._timer_at: float | None = None
        self._adds = 0
        self._retries = 0

    def __len__(self) -> int:
        """Keys ready to be handed out (not the ones being processed or delayed)."""
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def add(self, key: K) -> None:
        """Queue ``key`` unless it is queued already; ignored after shutdown."""
        if self._shutting_down or key in self._dirty:
            return
        self._adds += 1
        self._dirty.add(key)
        if key in self._processing:
            return  # queued again by done()
        self._queue.append(key)
        self._changed.set()

    def add_after(self, key: K, delay: float) -> None:
        """Queue ``key`` after ``delay`` seconds; an earlier pending delay for it wins."""
        if self._shutting_down:
            return
        self._retries += 1
        if delay <= 0:
            self.add(key)
            return
        ready_at = self.clock.monotonic() + delay
        current = self._ready_at.get(key)
        if current is not None and current <= ready_at:
            return
        self._ready_at[key] = ready_at
        heapq.heappush(self._heap, (ready_at, next(self._seq), key))
        self._arm()

    def add_rate_limited(self, key: K) -> float:
        """Queue ``key`` after its back-off; return the delay chosen."""
        delay = self.rate_limiter.when(key)
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        """Reset ``key``'s back-off (call after it was processed successfully)."""
        self.rate_limiter.forget(key)

    def num_requeues(self, key: K) -> int:
        """Rate-limited adds of ``key`` since it was last forgotten."""
        return self.rate_limiter.failures(key)

    async def get(self) -> K:
        """Wait for the next key and mark it as being processed; ``done(key)`` must follow."""
        while True:
            if self._shutting_down:
                raise QueueShutDown(self.name)
            if self._queue:
                break
            self._changed.clear()
            await self._changed.wait()
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: K) -> None:
        """Finish processing ``key``; queue it again if it was added meanwhile."""
        self._processing.discard(key)
        if key in self._dirty and not self._shutting_down:
            self._queue.append(key)
            self._changed.set()

    def shutdown(self) -> None:
        """Refuse new keys, drop delayed ones and make every ``get()`` raise ``QueueShutDown``."""
        self._shutting_down = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._timer_at = None
        self._ready_at.clear()
        self._heap.clear()
        self._changed.set()

    def stats(self) -> QueueStats:
        return QueueStats(
            name=self.name,
            depth=len(self._queue),
            processing=len(self._processing),
            delayed=len(self._ready_at),
            adds=self._adds,
            retries=self._retries,
        )

    def _arm(self) -> None:
        """Keep exactly one timer, set for the earliest delayed key."""
        while self._heap and self._ready_at.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)  # superseded by an earlier delay, or already released
        earliest = self._heap[0][0] if self._heap else None
        if earliest == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = earliest
        if earliest is not None:
            self._timer = self.clock.call_later(earliest - self.clock.monotonic(), self._release)

    def _release(self) -> None:
        """Timer callback: queue every delayed key whose time has come, then re-arm."""
        self._timer = self._timer_at = None
        now = self.clock.monotonic()
        while self._heap and self._heap[0][0] <= now:
            ready_at, _, key = heapq.heappop(self._heap)
            if self._ready_at.get(key) == ready_at:
                del self._ready_at[key]
                self.add(key)
        self._arm()
