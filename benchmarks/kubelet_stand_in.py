"""A benchmark's stand-in for the kubelet: pods turn Running and Ready as soon as they appear.

The controller benchmarks run the server with its kubelet off (nothing runs pods, so no
flood of container events distorts them) and the scheduler off (so no binding writes do
either). This stand-in writes what a kubelet would once a pod's containers are up: phase
Running, a pod IP, the four pod conditions True and a ready status per container, with one
merge patch of ``pods/<name>/status``. A pod being deleted gracefully is removed at once
(``gracePeriodSeconds: 0`` with a uid precondition), as a kubelet does once its containers
have stopped; unscheduled pods never need it, as the API server deletes them at once.

It is driven by a watch (``watching.watch_events``), never by polling, and writes with at
most ``CONCURRENCY`` requests in flight on its own connections, so it reacts within a few
milliseconds and is not what a benchmark measures. Being readied regardless of node is
enough for the controllers: the ReplicaSet controller counts a pod ready by its Ready
condition alone (``replicasets_pods.is_pod_ready``) and the Deployment controller sums its
ReplicaSets' counts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson

from .client import RequestFailed, open_session
from .server import ServerProcess
from .watching import Object, watch_events

__all__ = ["CONCURRENCY", "CONTROLLERS", "KubeletStandIn", "kubelet_stand_in", "ready_status"]

CONCURRENCY = 16
CONTROLLERS = "*,-scheduler"
"""The ``--controllers`` of a server the stand-in serves (run with ``--kubelet off`` too)."""
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
_CONDITIONS = ("Initialized", "Ready", "ContainersReady", "PodScheduled")


def ready_status(pod: Object, *, index: int) -> dict[str, Any]:
    """The status a kubelet writes once every container of ``pod`` runs and is ready."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ip = f"10.244.{index // 250 % 250}.{index % 250 + 2}"
    containers = (pod.get("spec") or {}).get("containers") or []
    return {
        "phase": "Running",
        "hostIP": "127.0.0.1",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": now,
        "conditions": [
            {"type": kind, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
            for kind in _CONDITIONS
        ],
        "containerStatuses": [
            {
                "name": container["name"],
                "image": container.get("image", ""),
                "imageID": "",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
            }
            for container in containers
        ],
    }


class KubeletStandIn:
    """Readies new pods and removes terminating ones at a path, with counters to report."""

    def __init__(self, session: aiohttp.ClientSession, pods_path: str) -> None:
        self._session = session
        self._path = pods_path
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._readied: set[str] = set()  # uids: a stale event must not ready a pod twice
        self._removing: set[str] = set()
        self.readied = 0
        self.removed = 0

    async def run(self) -> None:
        """Follow the pods until cancelled; each write is a task of this loop's group."""
        async with asyncio.TaskGroup() as tg:
            async for kind, pod in watch_events(self._session, self._path):
                if kind in ("ADDED", "MODIFIED") and (write := self.step(pod)) is not None:
                    tg.create_task(write)

    def step(self, pod: Object) -> Coroutine[Any, Any, None] | None:
        """The single step: the write this state of ``pod`` calls for (a coroutine), if any."""
        meta = pod["metadata"]
        uid = meta["uid"]
        if meta.get("deletionTimestamp"):
            if uid in self._removing:
                return None
            self._removing.add(uid)
            return self._remove(pod)
        if uid in self._readied or (pod.get("status") or {}).get("phase") == "Running":
            return None
        self._readied.add(uid)
        return self._ready(pod, index=len(self._readied))

    async def _ready(self, pod: Object, *, index: int) -> None:
        meta = pod["metadata"]
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/status"
        body = orjson.dumps({"status": ready_status(pod, index=index)})
        async with self._slots, self._session.patch(path, data=body, headers=MERGE_PATCH) as resp:
            if resp.status == 404:
                return  # deleted meanwhile (a rollout scaling an old set down)
            if resp.status != 200:
                raise RequestFailed(f"ready {path}: {resp.status} {await resp.text()}")
        self.readied += 1

    async def _remove(self, pod: Object) -> None:
        meta = pod["metadata"]
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
        body = orjson.dumps({"gracePeriodSeconds": 0, "preconditions": {"uid": meta["uid"]}})
        headers = {"Content-Type": "application/json"}
        async with self._slots, self._session.delete(path, data=body, headers=headers) as resp:
            if resp.status in (404, 409):
                return  # gone already, or a new pod of the same name
            if resp.status not in (200, 202):
                raise RequestFailed(f"remove {path}: {resp.status} {await resp.text()}")
        self.removed += 1


@asynccontextmanager
async def kubelet_stand_in(
    server: ServerProcess, *, namespace: str | None = None
) -> AsyncIterator[KubeletStandIn]:
    """A ``KubeletStandIn`` for the pods of ``namespace`` (all if None) while the block runs.

    A failed write ends the block with that error (the task group cancels it), so a broken
    stand-in shows as a crash, not as a slow figure.
    """
    path = f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"
    async with open_session(server, connections=0) as session:
        stand_in = KubeletStandIn(session, path)
        async with asyncio.TaskGroup() as tg:
            task = tg.create_task(stand_in.run())
            try:
                yield stand_in
            finally:
                task.cancel()
