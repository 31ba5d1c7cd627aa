"""Exponential back-off with jitter, for loops that retry forever (watches, reconnects).

One ``Backoff`` belongs to one loop: ``next_delay()`` after each failure, ``reset()`` after a
success. Jitter spreads the retries of many clients that lost the same server at the same
moment, so they do not come back in lock-step. ``wait(stop)`` sleeps for the next delay but
returns at once when the loop is told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field

__all__ = ["Backoff"]


@dataclass(slots=True)
class Backoff:
    """Delays of ``initial * factor**n`` seconds, capped at ``maximum``, each ± ``jitter``."""

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2  # a fraction of the delay, drawn uniformly from [-jitter, +jitter]
    rng: random.Random = field(default_factory=random.Random, repr=False)
    failures: int = 0  # consecutive failures since the last reset

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        base = min(self.maximum, self.initial * self.factor**self.failures)
        self.failures += 1
        spread = base * self.jitter
        return max(0.0, base + self.rng.uniform(-spread, spread))

    def reset(self) -> None:
        self.failures = 0

    async def wait(self, stop: asyncio.Event | None = None) -> bool:
        """Sleep for ``next_delay()``; return True early if ``stop`` is set (now or meanwhile)."""
        delay = self.next_delay()
        if stop is None:
            await asyncio.sleep(delay)
            return False
        if stop.is_set():
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        return stop.is_set()
