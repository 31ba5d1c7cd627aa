"""Workspace quotas: what a workspace's projects may request together, per cluster.

``spec.quotas`` of a Workspace holds, per cluster, a ResourceQuota-style ``hard``: ``pods``,
``requests.cpu``/``cpu``, ``requests.memory``/``memory``, ``limits.cpu``, ``limits.memory``
and ``count/<resource>[.<group>]``. Atoll enforces it on every create, update and patch it
passes to the cluster (Kubernetes' own ResourceQuota keeps each project's): the write's
outcome (the cluster's dry run) replaces the object's present version in the workspace's
usage, and a write that takes any quantity past its limit, and raises it, is refused with
403 as Kubernetes refuses what exceeds a ResourceQuota.

Usage counts what workloads declare: a Deployment, StatefulSet, ReplicaSet or
ReplicationController without an owner counts ``replicas`` pods, a Job ``parallelism``
pods, a DaemonSet one per node is not known ahead and counts one; a pod counts itself
unless a controller owns it (its owner counted it). A pod's requests and limits are
Kubernetes' effective ones: the larger of its containers' sum and its largest init
container.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from atoll.errors import Forbidden, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.informers import Informer
from atoll.kube.quantities import QuantityError, parse_quantity
from atoll.server.access import RequestInfo
from atoll.server.clusters import ClusterClients

from .controllers import NAMESPACES
from .projects import workspace_clusters
from .templates import WORKSPACE_LABEL

__all__ = ["WorkspaceQuota", "object_usage", "pod_usage"]

Usage = dict[str, Decimal]
_COMPUTE = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")
_ALIASES = {"cpu": "requests.cpu", "memory": "requests.memory"}
_WORKLOADS: dict[str, ResourceType] = {
    "pods": ResourceType("", "v1", "pods", "Pod", True),
    "replicationcontrollers": ResourceType(
        "", "v1", "replicationcontrollers", "ReplicationController", True
    ),
    "deployments": ResourceType("apps", "v1", "deployments", "Deployment", True),
    "statefulsets": ResourceType("apps", "v1", "statefulsets", "StatefulSet", True),
    "replicasets": ResourceType("apps", "v1", "replicasets", "ReplicaSet", True),
    "daemonsets": ResourceType("apps", "v1", "daemonsets", "DaemonSet", True),
    "jobs": ResourceType("batch", "v1", "jobs", "Job", True),
}


def _quantity(value: object) -> Decimal:
    try:
        return parse_quantity(value) if isinstance(value, str | int | float) else Decimal(0)
    except QuantityError:
        return Decimal(0)


def pod_usage(spec: Mapping[str, Any]) -> Usage:
    """A pod's effective requests and limits, and one pod."""
    usage: Usage = defaultdict(Decimal)
    for key in _COMPUTE:
        kind, resource = key.split(".")
        total = sum(
            (
                _quantity(((c.get("resources") or {}).get(kind) or {}).get(resource))
                for c in spec.get("containers") or ()
            ),
            Decimal(0),
        )
        largest_init = max(
            (
                _quantity(((c.get("resources") or {}).get(kind) or {}).get(resource))
                for c in spec.get("initContainers") or ()
            ),
            default=Decimal(0),
        )
        usage[key] = max(total, largest_init)
    usage["pods"] = Decimal(1)
    return usage


def _controlled(obj: Object) -> bool:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return any(ref.get("controller") for ref in refs)


def object_usage(resource: str, obj: Object) -> Usage:
    """What one object counts towards its workspace's quota (``count/…`` aside)."""
    spec = obj.get("spec") or {}
    if resource == "pods":
        phase = (obj.get("status") or {}).get("phase")
        if _controlled(obj) or phase in ("Succeeded", "Failed"):
            return {}
        return pod_usage(spec)
    if resource not in _WORKLOADS or _controlled(obj):
        return {}
    template = ((spec.get("template") or {}).get("spec")) or {}
    if resource == "jobs":
        copies = spec.get("parallelism", 1)
    elif resource == "daemonsets":
        copies = 1
    else:
        copies = spec.get("replicas", 1)
    copies = copies if isinstance(copies, int) and copies >= 0 else 1
    return {key: value * copies for key, value in pod_usage(template).items()}


def _count_key(resource: str, group: str) -> str:
    return f"count/{resource}.{group}" if group else f"count/{resource}"


def _add(total: Usage, more: Mapping[str, Decimal]) -> None:
    for key, value in more.items():
        total[key] = total.get(key, Decimal(0)) + value


class WorkspaceQuota:
    """The admission the tenant component gives the cluster proxy. Workspaces come from an
    informer, so a write costs nothing more while no workspace has a quota for its
    cluster; only then is the write's namespace looked up."""

    def __init__(self, clusters: Callable[[], ClusterClients], workspaces: Informer) -> None:
        self._clusters = clusters
        self._workspaces = workspaces

    async def __call__(
        self, info: RequestInfo, outcome: Callable[[], Awaitable[dict[str, Any] | None]]
    ) -> None:
        if not info.namespace or info.subresource not in ("", "scale"):
            return
        limited = {
            str(w["metadata"]["name"]): w
            for w in self._workspaces.list()
            if self._hard(w, info.cluster)
        }
        if not limited:
            return
        try:
            client = self._clusters().client(info.cluster)  # where the write goes
            namespace = await client.get(NAMESPACES, info.namespace)
        except NotFound:
            return
        workspace_name = str((namespace["metadata"].get("labels") or {}).get(WORKSPACE_LABEL, ""))
        workspace = limited.get(workspace_name)
        if workspace is None:
            return
        hard = self._hard(workspace, info.cluster)
        counted = _count_key(info.resource, info.api_group)
        if not hard or (info.resource not in _WORKLOADS and counted not in hard):
            return
        result = await outcome()
        if result is None:
            return
        if info.subresource == "scale":
            result = await self._scaled(client, info, result)
            if result is None:
                return
        namespaces = await self._projects(client, workspace_name)
        before, after = await self._usage(client, namespaces, info, result)
        self._check(workspace_name, info.cluster, hard, before, after)

    @staticmethod
    def _hard(workspace: Object, cluster: str) -> dict[str, Decimal]:
        if cluster not in workspace_clusters(workspace):
            return {}
        for quota in (workspace.get("spec") or {}).get("quotas") or ():
            if quota.get("cluster") == cluster:
                return {
                    _ALIASES.get(k, k): _quantity(v) for k, v in (quota.get("hard") or {}).items()
                }
        return {}

    @staticmethod
    async def _scaled(client: KubeClient, info: RequestInfo, scale: Object) -> Object | None:
        rt = _WORKLOADS.get(info.resource)
        if rt is None:
            return None
        try:
            parent = await client.get(rt, info.name, namespace=info.namespace)
        except NotFound:
            return None
        replicas = (scale.get("spec") or {}).get("replicas")
        return {**parent, "spec": {**(parent.get("spec") or {}), "replicas": replicas}}

    @staticmethod
    async def _projects(client: KubeClient, workspace: str) -> list[str]:
        found = await client.list(NAMESPACES, label_selector=f"{WORKSPACE_LABEL}={workspace}")
        return [str(n["metadata"]["name"]) for n in found.get("items") or ()]

    async def _usage(
        self,
        client: KubeClient,
        namespaces: Iterable[str],
        info: RequestInfo,
        result: Object,
    ) -> tuple[Usage, Usage]:
        """The workspace's usage before the write, and after it."""
        kinds = dict(_WORKLOADS)
        if info.resource not in kinds:
            kinds[info.resource] = ResourceType(
                info.api_group, info.api_version, info.resource, "", True
            )
        lists = await asyncio.gather(
            *(client.list(rt, namespace=ns) for ns in namespaces for rt in kinds.values())
        )
        plurals = [rt.plural for ns in namespaces for rt in kinds.values()]
        before: Usage = {}
        after: Usage = {}
        for plural, listed in zip(plurals, lists, strict=True):
            group = kinds[plural].group
            for obj in listed.get("items") or ():
                usage = {**object_usage(plural, obj), _count_key(plural, group): Decimal(1)}
                _add(before, usage)
                same = (
                    plural == info.resource
                    and obj["metadata"].get("name") == (result.get("metadata") or {}).get("name")
                    and obj["metadata"].get("namespace") == info.namespace
                )
                if not same:  # the write's outcome stands in for it
                    _add(after, usage)
        counted = _count_key(info.resource, info.api_group)
        _add(after, {**object_usage(info.resource, result), counted: Decimal(1)})
        return before, after

    @staticmethod
    def _check(
        workspace: str, cluster: str, hard: Mapping[str, Decimal], before: Usage, after: Usage
    ) -> None:
        over = [
            key
            for key, limit in sorted(hard.items())
            if after.get(key, Decimal(0)) > limit
            and after.get(key, Decimal(0)) > before.get(key, Decimal(0))
        ]
        if not over:
            return

        def show(usage: Mapping[str, Decimal]) -> str:
            return ",".join(f"{k}={_text(usage.get(k, Decimal(0)))}" for k in over)

        requested = {k: after.get(k, Decimal(0)) - before.get(k, Decimal(0)) for k in over}
        raise Forbidden(  # worded as Kubernetes' ResourceQuota refusals are
            f"exceeded quota: workspace {workspace} on cluster {cluster}, requested: "
            f"{show(requested)}, used: {show(before)}, limited: {show(hard)}"
        )


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")
