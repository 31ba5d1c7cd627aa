"""The kubelet's resource collection: one reading of every container and the node, every few
seconds, turned into the ``NodeSnapshot`` that ``/stats/summary``, ``/metrics/cadvisor``
and ``metrics.k8s.io`` present (``stats``).

Readings come from ``cadvisor``: a host-process container is its process group, read from
``/proc`` in one scan for all of them; the node is the whole machine. CPU rates are the
difference of two readings at least one window apart (10 s, as metrics-server's), so a pod
has metrics about ten seconds after it starts, as on a real cluster. The reading itself
runs in a thread; the event loop only gathers what is running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from atoll.kube.quantities import quantity_value

from ..hostinfo import HostInfo
from .cadvisor import RateTracker, boot_time, filesystem, node_usage, read_process_groups
from .stats import ContainerSnapshot, NodeSnapshot, PodSnapshot
from .worker import PodWorker

__all__ = ["UsageCollector"]

logger = logging.getLogger(__name__)

INTERVAL = 10.0  # seconds between readings: one per CPU-rate window
WINDOW = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class _Running:
    pod: tuple[str, str, str, datetime, dict[str, str]]  # namespace, name, uid, start, labels
    container: str
    pid: int
    started_at: datetime
    container_id: str
    image: str
    memory_limit: int | None
    cpu_limit_millis: int | None
    cpu_request_millis: int | None


def _running(workers: Iterable[PodWorker]) -> list[_Running]:
    found = []
    for worker in workers:
        meta = worker.pod["metadata"]
        pod = (
            meta["namespace"],
            meta["name"],
            str(meta["uid"]),
            worker.started_at,
            dict(meta.get("labels") or {}),
        )
        specs = {c["name"]: c for c in (worker.pod.get("spec") or {}).get("containers") or []}
        for state in worker.apps:
            container = worker.running.get(state.name)
            if container is None:
                continue
            resources = (specs.get(state.name) or {}).get("resources") or {}
            limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
            found.append(
                _Running(
                    pod=pod,
                    container=state.name,
                    pid=container.pid,
                    started_at=container.started_at,
                    container_id=container.container_id,
                    image=state.image,
                    memory_limit=quantity_value(limits.get("memory")),
                    cpu_limit_millis=quantity_value(limits.get("cpu"), milli=True),
                    cpu_request_millis=quantity_value(requests.get("cpu"), milli=True),
                )
            )
    return found


class UsageCollector:
    """Reads usage every ``INTERVAL`` seconds; ``latest`` is the newest ``NodeSnapshot``."""

    def __init__(
        self,
        workers: Callable[[], Iterable[PodWorker]],
        *,
        node_name: str,
        host: HostInfo,
        root: Path,
        interval: float = INTERVAL,
    ) -> None:
        self._workers = workers
        self._node_name = node_name
        self._host = host
        self._root = root
        self._interval = interval
        self._rates = RateTracker(WINDOW, minimum=WINDOW)  # the window metrics.k8s.io reports
        self._boot = boot_time()
        self.latest: NodeSnapshot | None = None

    async def run(self) -> None:
        while True:
            running = _running(self._workers())
            try:
                self.latest = await asyncio.to_thread(self._collect, running)
            except OSError:
                logger.exception("reading resource usage failed")
            await asyncio.sleep(self._interval)  # the sampling period

    async def snapshot(self) -> NodeSnapshot:
        """The newest reading, or one taken now (in a thread) if there is none yet."""
        if self.latest is None:
            self.latest = await asyncio.to_thread(self._collect, _running(self._workers()))
        return self.latest

    def _collect(self, running: list[_Running]) -> NodeSnapshot:
        keys = {f"{r.pod[2]}/{r.container}": r for r in running}
        readings = read_process_groups({key: r.pid for key, r in keys.items()})
        pods: dict[str, list[ContainerSnapshot]] = {}
        facts: dict[str, tuple[str, str, str, datetime, dict[str, str]]] = {}
        for key, usage in readings.items():
            if usage is None:
                continue
            item = keys[key]
            facts[item.pod[2]] = item.pod
            pods.setdefault(item.pod[2], []).append(
                ContainerSnapshot(
                    name=item.container,
                    usage=usage,
                    start_time=item.started_at,
                    container_id=item.container_id,
                    image=item.image,
                    cpu_rate=self._rates.observe(f"{item.container_id}", usage),
                    memory_limit=item.memory_limit,
                    cpu_limit_millis=item.cpu_limit_millis,
                    cpu_request_millis=item.cpu_request_millis,
                )
            )
        self._rates.retain([*(r.container_id for r in running), "node"])
        node = node_usage()
        return NodeSnapshot(
            node_name=self._node_name,
            host=self._host,
            usage=node,
            start_time=self._boot,
            cpu_rate=self._rates.observe("node", node),
            fs=filesystem(self._root),
            pods=tuple(
                PodSnapshot(
                    namespace=facts[uid][0],
                    name=facts[uid][1],
                    uid=uid,
                    start_time=facts[uid][3],
                    labels=facts[uid][4],
                    containers=tuple(containers),
                )
                for uid, containers in pods.items()
            ),
        )
