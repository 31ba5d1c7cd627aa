"""What every benchmark is given: the running server, a client session, sizes and a scratch dir.

One server serves the API benchmarks, in the order of ``__main__``: the memory benchmark reads
the objects the list benchmark stored, and the idle RSS is taken before anything is written.
The controller benchmarks start servers of their own (kubelet and scheduler off) under
``scratch``, so the 10,000 stored pods do not weigh on them, nor they on the shared server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from .server import ServerProcess

__all__ = ["Context", "Sizes"]


@dataclass(frozen=True)
class Sizes:
    """How much work each benchmark does; ``quick()`` is for a smoke run."""

    creates: int = 5_000
    pods: int = 10_000
    list_runs: int = 10
    watchers: int = 100
    watch_writes: int = 200
    write_interval: float = 0.020
    rollout_replicas: int = 100
    rollouts: int = 3
    deployments: int = 1_000
    idle_seconds: float = 20.0
    pod_starts: int = 200
    idle_pods: int = 200
    log_lines: int = 200
    cached_pods: int = 50_000
    cached_queries: int = 300
    console_pods: int = 20_000
    console_runs: int = 5
    status_changes: int = 10

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            creates=1_000,
            pods=2_000,
            list_runs=5,
            watchers=100,
            watch_writes=50,
            rollout_replicas=20,
            deployments=100,
            idle_seconds=10.0,
            pod_starts=30,
            idle_pods=50,
            log_lines=50,
            cached_pods=2_000,
            cached_queries=100,
            console_pods=2_000,
            console_runs=3,
            status_changes=5,
        )


@dataclass
class Context:
    server: ServerProcess
    session: aiohttp.ClientSession
    sizes: Sizes
    scratch: Path
    idle_rss_bytes: int
    rss_marks: dict[str, int] = field(default_factory=dict)
    """Server RSS at named moments (``"after pod fill"``), for the memory benchmark to show."""
