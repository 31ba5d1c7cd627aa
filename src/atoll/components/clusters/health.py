"""The clusters' health: every 10 s each cluster is asked for its version and nodes.

The answer goes to the Cluster's status: a ``Ready`` condition (its transition time kept
until it flips), ``kubernetesVersion``, ``nodeCount`` and ``lastProbeTime``. A cluster that
stops answering is ``Ready=False`` within one probe and its timeout (well within 30 s), with
a Warning Event ``ClusterUnreachable``; when it answers again it is ``Ready`` with a Normal
Event ``ClusterReady``. Nothing else depends on a cluster being Ready: a lost cluster's
pages fail on their own, the others' go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from atoll.controllers.leadership import format_time, parse_time
from atoll.controllers.results import Result
from atoll.controllers.runtime import ControllerContext
from atoll.errors import ApiError, Conflict, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.informers import Informer
from atoll.server.clusters import HOST, ClusterClients

from .members import CLUSTERS

__all__ = ["PROBE_PERIOD", "ClusterHealthController"]

NODES = ResourceType("", "v1", "nodes", "Node", False)
PROBE_PERIOD = 10.0
PROBE_TIMEOUT = 8.0


_NEW = timedelta(seconds=30)


def _created(cluster: Object) -> datetime:
    stamp = parse_time((cluster.get("metadata") or {}).get("creationTimestamp"))
    return stamp or datetime.fromtimestamp(0, UTC)


async def _probe(client: KubeClient) -> tuple[str, int]:
    version = await client.request("GET", "/version", timeout=PROBE_TIMEOUT)
    nodes = await asyncio.wait_for(client.list(NODES), PROBE_TIMEOUT)
    git = str((version or {}).get("gitVersion", "")) if isinstance(version, dict) else ""
    return git, len(nodes.get("items") or [])


class ClusterHealthController:
    name = "cluster-health"

    def __init__(self, clients: Callable[[], ClusterClients]) -> None:
        self._clients = clients

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._clusters: Informer = ctx.informers.informer(CLUSTERS)
        self._clusters.add_handler(on_add=ctx.enqueue)

    async def reconcile(self, key: str) -> Result:
        cluster = self._clusters.get(key)
        if cluster is None:
            return Result()
        client = self._ctx.client if key == HOST else self._clients().get(key)
        now = self._ctx.clock.now()
        if client is None and now - _created(cluster) < _NEW:
            return Result(requeue_after=1.0)  # just added: its client is on its way
        status: dict[str, Any] = dict(cluster.get("status") or {})
        if client is None:
            ready, reason, message = False, "NoKubeconfig", "no kubeconfig to reach it with"
        else:
            try:
                version, nodes = await _probe(client)
            except (TimeoutError, ApiError, OSError) as error:
                ready, reason, message = False, "Unreachable", str(error)[:300]
            else:
                ready, reason, message = True, "Connected", "the cluster answers"
                status.update(
                    kubernetesVersion=version, nodeCount=nodes, lastProbeTime=format_time(now)
                )
        flipped = self._set_ready(status, ready, reason, message, now)
        if status != (cluster.get("status") or {}):
            try:
                await self._ctx.client.replace_status(CLUSTERS, {**cluster, "status": status})
            except (Conflict, NotFound):
                return Result(requeue=True)
        if flipped and ready:
            await self._ctx.events.record(cluster, "ClusterReady", message=message, type="Normal")
        elif flipped:
            await self._ctx.events.record(
                cluster, "ClusterUnreachable", message=message, type="Warning"
            )
        return Result(requeue_after=PROBE_PERIOD)

    @staticmethod
    def _set_ready(
        status: dict[str, Any], ready: bool, reason: str, message: str, now: datetime
    ) -> bool:
        """Put the Ready condition in ``status``; whether it flipped (a first one counts
        when it is not Ready)."""
        conditions = [c for c in status.get("conditions") or () if c.get("type") != "Ready"]
        before = next((c for c in status.get("conditions") or () if c.get("type") == "Ready"), None)
        value = "True" if ready else "False"
        flipped = not ready if before is None else before["status"] != value
        since = (
            before["lastTransitionTime"] if before is not None and not flipped else format_time(now)
        )
        conditions.append(
            {
                "type": "Ready",
                "status": value,
                "reason": reason,
                "message": message,
                "lastTransitionTime": since,
                "lastUpdateTime": format_time(now),
            }
        )
        status["conditions"] = conditions
        return flipped
