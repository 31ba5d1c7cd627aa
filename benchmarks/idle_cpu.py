"""Server CPU at rest: wait until a server has settled, then read its CPU time over a window.

CPU time comes from ``/proc/<pid>/stat`` (``ServerProcess.cpu_seconds``), so it covers
every thread of the process, the in-process controllers included, in clock ticks (10 ms).
"Settled" means two consecutive 2 s windows each under 5 % of a core, waited for with a
cap: right after a burst the controllers still drain their queues and write Events, and
that is not rest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .server import ServerProcess

__all__ = ["Settling", "cpu_shares", "settle"]

SETTLE_WINDOW = 2.0
SETTLED_SHARE = 0.05
SETTLE_CAP = 120.0


async def cpu_shares(servers: Sequence[ServerProcess], seconds: float) -> list[float]:
    """Each server's CPU over the same ``seconds`` of wall time, as a share of one core."""
    before = [server.cpu_seconds() for server in servers]
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    wall = time.perf_counter() - start
    return [(server.cpu_seconds() - b) / wall for server, b in zip(servers, before, strict=True)]


@dataclass(frozen=True)
class Settling:
    """How long a server took to come to rest, and its CPU share in each window meanwhile."""

    seconds: float
    shares: list[float]
    settled: bool

    def describe(self) -> str:
        shown = " ".join(f"{share:.0%}" for share in self.shares)
        state = "settled" if self.settled else f"NOT settled (cap {SETTLE_CAP:.0f} s)"
        return f"{state} after {self.seconds:.0f} s; CPU per {SETTLE_WINDOW:.0f} s window: {shown}"


async def settle(server: ServerProcess, *, cap: float = SETTLE_CAP) -> Settling:
    """Wait until two windows in a row each used under ``SETTLED_SHARE`` of a core."""
    start = time.perf_counter()
    shares: list[float] = []
    quiet = 0
    while quiet < 2 and time.perf_counter() - start < cap:
        [share] = await cpu_shares([server], SETTLE_WINDOW)
        shares.append(share)
        quiet = quiet + 1 if share < SETTLED_SHARE else 0
    return Settling(time.perf_counter() - start, shares, settled=quiet >= 2)
