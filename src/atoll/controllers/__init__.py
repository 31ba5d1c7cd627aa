"""The controller runtime: work queues, reconcile results, the manager, leader election.

Used alike by the embedded cluster's controllers and by Atoll's components. Modules:

- ``clocks``: injectable time (``SystemClock``, ``ManualClock`` for tests, ``deadline``).
- ``queueing``: ``WorkQueue`` (dedup, delays, per-key back-off), client-go's semantics.
- ``results``: ``Result``, ``TemporaryError``, ``PermanentError``.
- ``runtime``: the ``Controller`` protocol, ``ControllerContext``, ``ControllerManager``,
  ``process_next``.
- ``leadership``: ``LeaderElector`` on a coordination.k8s.io/v1 Lease.
"""

from atoll.controllers.clocks import Clock, ManualClock, SystemClock, deadline
from atoll.controllers.leadership import (
    KubeLeases,
    LeaderElectionSettings,
    LeaderElector,
    LeadershipLost,
    SupportsLeases,
)
from atoll.controllers.queueing import (
    ExponentialBackoff,
    QueueShutDown,
    QueueStats,
    RateLimiter,
    WorkQueue,
)
from atoll.controllers.results import PermanentError, ReconcileError, Result, TemporaryError
from atoll.controllers.runtime import (
    Controller,
    ControllerContext,
    ControllerManager,
    ControllerSettings,
    process_next,
)

__all__ = [
    "Clock",
    "Controller",
    "ControllerContext",
    "ControllerManager",
    "ControllerSettings",
    "ExponentialBackoff",
    "KubeLeases",
    "LeaderElectionSettings",
    "LeaderElector",
    "LeadershipLost",
    "ManualClock",
    "PermanentError",
    "QueueShutDown",
    "QueueStats",
    "RateLimiter",
    "ReconcileError",
    "Result",
    "SupportsLeases",
    "SystemClock",
    "TemporaryError",
    "WorkQueue",
    "deadline",
    "process_next",
]
