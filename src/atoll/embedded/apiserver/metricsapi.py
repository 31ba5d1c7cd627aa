"""``metrics.k8s.io/v1beta1``: the resource metrics API, answered as metrics-server answers it.

On a real cluster metrics-server is an aggregated API server that reads every kubelet's
``/stats/summary``; ``kubectl top`` and the HPA controller read it through the API server.
Here the API server answers the group itself, and only when the cluster runs a kubelet:
without one the group is missing from ``/apis`` and its paths are 404, exactly as on a
cluster without metrics-server (the HPA then reports ``FailedGetResourceMetric``).

- **Data.** Each Node's kubelet ``/stats/summary`` (found through the Node's
  ``daemonEndpoints``, via ``KubeletProxy``), fetched on demand with a short timeout and
  kept ``CACHE_SECONDS`` so a burst — the HPA controller and ``kubectl top`` — costs one
  fetch. A kubelet that does not answer contributes no metrics (and a warning in the log),
  as a failed scrape does in metrics-server.
- **Values.** CPU is the kubelet's ``usageNanoCores`` as a nanocore quantity, memory its
  ``workingSetBytes`` as a binary quantity, both canonical (``"1234567n"``, ``"53248Ki"``).
  ``timestamp`` is the (earliest) container's CPU reading time. The summary carries rates
  but not the span they were measured over, so ``window`` is the kubelet's rate window
  (``WINDOW``, 10 s); computing rates here from two summaries would need a steady scrape
  loop, and the first request after a quiet spell would find no pods.
- **Which objects.** Pods come from the stored Pods (so ``labelSelector`` matches their
  labels and ``fieldSelector`` their ``metadata.name``/``metadata.namespace``), Running
  ones only, matched to the summary by namespace, name and uid. A pod any of whose
  containers has no CPU rate yet is left out, as metrics-server leaves it out; nodes
  likewise. Objects carry their Pod's or Node's labels.
- **Errors.** A missing Pod or Node is the registry's ``pods "x" not found``; one without
  metrics is ``podmetrics.metrics.k8s.io "ns/name" not found`` (``nodemetrics…`` for a
  node), metrics-server's words. Writes and watches are 405, bad selectors 400.
- **Representations.** Plain JSON, ``as=Table`` (metrics-server's columns: Name, cpu,
  memory, Window) and ``as=PartialObjectMetadata[List]``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from atoll.errors import ApiError, BadRequest, MethodNotAllowed, NotFound
from atoll.kube.quantities import QuantityError, canonical_quantity, parse_quantity

from .handlers import json_response
from .options import ListOptions, parse_bool
from .registry import Registry
from .rendering import Representation, negotiate
from .requests import RequestInfo, parse_request
from .resources import Resource

__all__ = [
    "CACHE_SECONDS",
    "GROUP",
    "KUBELET_TIMEOUT",
    "MetricsApi",
    "SummaryCache",
    "SummarySource",
    "node_metrics",
    "pod_metrics",
]

logger = logging.getLogger(__name__)

Object = dict[str, Any]

GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
GROUP_VERSION = f"{GROUP}/{VERSION}"
CACHE_SECONDS = 1.5
KUBELET_TIMEOUT = 3.0
WINDOW = "10s"  # the kubelet's CPU rate window (kubelet/usage.py), as Go prints it

_NOT_FOUND = "the server could not find the requested resource"
_NOT_ALLOWED = "the server does not allow this method on the requested resource"
_SELECTABLE_FIELDS = ("metadata.name", "metadata.namespace")


class SummarySource(Protocol):
    """Fetches a Node's kubelet ``/stats/summary`` (``KubeletProxy``); raises ApiError."""

    async def summary(self, node: Mapping[str, Any], *, timeout: float) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class _Kind:
    plural: str  # in metrics.k8s.io, and of the core resource the objects describe
    kind: str
    namespaced: bool
    metrics_resource: str  # what metrics-server's NotFound names: podmetrics, nodemetrics


_PODS = _Kind("pods", "PodMetrics", True, "podmetrics")
_NODES = _Kind("nodes", "NodeMetrics", False, "nodemetrics")
_KINDS = {kind.plural: kind for kind in (_PODS, _NODES)}


# -- discovery ------------------------------------------------------------------------------


def group_entry() -> Object:
    """The group as ``/apis`` lists it."""
    version = {"groupVersion": GROUP_VERSION, "version": VERSION}
    return {"name": GROUP, "versions": [version], "preferredVersion": version}


def api_resource_list() -> Object:
    """metrics-server's resources: both get/list only, ``singularName`` empty."""
    resources = [
        {
            "name": kind.plural,
            "singularName": "",
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": ["get", "list"],
        }
        for kind in (_NODES, _PODS)
    ]
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": GROUP_VERSION,
        "resources": resources,
    }


# -- summaries ------------------------------------------------------------------------------


class SummaryCache:
    """Each node's latest ``/stats/summary`` (None: its kubelet failed), kept ``ttl`` s.

    One fetch per node at a time: concurrent requests wait for it instead of adding their own.
    """

    def __init__(
        self,
        source: SummarySource,
        *,
        ttl: float,
        timeout: float,
        clock: Callable[[], float],
    ) -> None:
        self._source = source
        self._ttl = ttl
        self._timeout = timeout
        self._clock = clock
        self._kept: dict[str, tuple[float, Object | None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def of(self, node: Mapping[str, Any]) -> Object | None:
        name = str((node.get("metadata") or {}).get("name") or "")
        async with self._locks.setdefault(name, asyncio.Lock()):
            kept = self._kept.get(name)
            if kept is not None and self._clock() - kept[0] < self._ttl:
                return kept[1]
            try:
                summary: Object | None = await self._source.summary(node, timeout=self._timeout)
            except ApiError as error:
                logger.warning("metrics: no usage from the kubelet of node %s: %s", name, error)
                summary = None
            self._kept[name] = (self._clock(), summary)
            return summary


# -- objects --------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _memory(amount: int) -> str:
    """Bytes as a canonical BinarySI quantity (``53248Ki``, ``2Mi``); as kube does, an amount
    that is no multiple of 1024 prints in plain bytes."""
    return canonical_quantity(f"{amount // 1024}Ki" if amount % 1024 == 0 else str(amount))


def _field(stats: object, name: str) -> Mapping[str, Any]:
    """``stats[name]`` when both are JSON objects, else empty: a malformed summary from a
    kubelet means no metrics, never a 500."""
    value = stats.get(name) if isinstance(stats, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _usage(stats: object) -> tuple[dict[str, str], str] | None:
    """(usage, CPU reading time) of a container's or node's stats; None without a rate."""
    cpu, memory = _field(stats, "cpu"), _field(stats, "memory")
    nano, working = cpu.get("usageNanoCores"), memory.get("workingSetBytes")
    if not isinstance(nano, int | float) or not isinstance(working, int | float):
        return None
    usage = {
        "cpu": canonical_quantity(f"{max(int(nano), 0)}n"),
        "memory": _memory(max(int(working), 0)),
    }
    return usage, str(cpu.get("time") or _now())


def _metadata(meta: Mapping[str, Any], created: str) -> Object:
    out: Object = {"name": meta.get("name", "")}
    if meta.get("namespace"):
        out["namespace"] = meta["namespace"]
    out["creationTimestamp"] = created
    if meta.get("labels"):
        out["labels"] = dict(meta["labels"])
    return out


def pod_metrics(pod: Mapping[str, Any], stats: Mapping[str, Any], created: str) -> Object | None:
    """A PodMetrics from a stored Pod and its summary entry; None unless every container
    has a CPU rate and a working set."""
    containers, times = [], []
    listed = stats.get("containers")
    for container in listed if isinstance(listed, list) else ():
        found = _usage(container)
        if found is None:
            return None
        containers.append({"name": str(container.get("name") or ""), "usage": found[0]})
        times.append(found[1])
    if not containers:
        return None
    return {
        "kind": "PodMetrics",
        "apiVersion": GROUP_VERSION,
        "metadata": _metadata(pod.get("metadata") or {}, created),
        "timestamp": min(times),
        "window": WINDOW,
        "containers": containers,
    }


def node_metrics(
    node: Mapping[str, Any], summary: Mapping[str, Any], created: str
) -> Object | None:
    """A NodeMetrics from a stored Node and its kubelet's summary; None without a CPU rate."""
    found = _usage(summary.get("node"))
    if found is None:
        return None
    return {
        "kind": "NodeMetrics",
        "apiVersion": GROUP_VERSION,
        "metadata": _metadata(node.get("metadata") or {}, created),
        "timestamp": found[1],
        "window": WINDOW,
        "usage": found[0],
    }


def _pods_in(summary: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    pods: dict[tuple[str, str], Mapping[str, Any]] = {}
    listed = summary.get("pods")
    for stats in listed if isinstance(listed, list) else ():
        ref = _field(stats, "podRef")
        pods[(str(ref.get("namespace") or ""), str(ref.get("name") or ""))] = stats
    return pods


# -- rendering ------------------------------------------------------------------------------


def _list(kind: _Kind, items: Sequence[Object]) -> Object:
    stripped = [{k: v for k, v in i.items() if k not in ("kind", "apiVersion")} for i in items]
    return {
        "kind": f"{kind.kind}List",
        "apiVersion": GROUP_VERSION,
        "metadata": {},
        "items": stripped,
    }


def _total(usages: Iterable[Mapping[str, str]], resource: str) -> Decimal:
    total = Decimal(0)
    for usage in usages:
        try:
            total += parse_quantity(usage.get(resource, "0"))
        except QuantityError:
            continue
    return total


def _cells(item: Mapping[str, Any]) -> list[str]:
    """metrics-server's row: name, the summed cpu and memory, the window."""
    if "containers" in item:
        usages = [container.get("usage") or {} for container in item["containers"]]
    else:
        usages = [item.get("usage") or {}]
    cpu = _total(usages, "cpu")
    return [
        item["metadata"]["name"],
        canonical_quantity(f"{int(cpu * 10**9)}n"),
        _memory(int(_total(usages, "memory"))),
        str(item.get("window") or ""),
    ]


_COLUMNS = [
    {"name": "Name", "type": "string", "format": "name", "description": "Name of the resource"},
    {"name": "cpu", "type": "string", "format": "quantity", "description": ""},
    {"name": "memory", "type": "string", "format": "quantity", "description": ""},
    {"name": "Window", "type": "string", "format": "duration", "description": ""},
]


def _partial(item: Mapping[str, Any], version: str) -> Object:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": item["metadata"],
    }


def _table(items: Sequence[Object], rep: Representation) -> Object:
    rows = []
    for item in items:
        row: Object = {"cells": _cells(item)}
        if rep.include_object == "Object":
            row["object"] = item
        elif rep.include_object != "None":
            row["object"] = _partial(item, rep.meta_version)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{rep.meta_version}",
        "metadata": {},
        "columnDefinitions": [{**column, "priority": 0} for column in _COLUMNS],
        "rows": rows,
    }


def _render(kind: _Kind, items: Sequence[Object], rep: Representation, *, one: bool) -> Object:
    if rep.form == "table":
        return _table(items, rep)
    if rep.form == "partial":
        if one:
            return _partial(items[0], rep.meta_version)
        return {
            "kind": "PartialObjectMetadataList",
            "apiVersion": f"meta.k8s.io/{rep.meta_version}",
            "metadata": {},
            "items": [_partial(item, rep.meta_version) for item in items],
        }
    return items[0] if one else _list(kind, items)


def _list_options(params: Mapping[str, str]) -> ListOptions:
    """The selectors only (metrics-server ignores limit and continue); fields as ObjectMeta's."""
    parsed = ListOptions.from_query(params)
    for requirement in parsed.field_selector.requirements if parsed.field_selector else ():
        if requirement.field not in _SELECTABLE_FIELDS:
            raise BadRequest(f"field label not supported: {requirement.field}")
    return ListOptions(label_selector=parsed.label_selector, field_selector=parsed.field_selector)


def _no_metrics(kind: _Kind, name: str) -> NotFound:
    return NotFound(
        f'{kind.metrics_resource}.{GROUP} "{name}" not found',
        name=name,
        group=GROUP,
        kind=kind.metrics_resource,
    )


# -- the API --------------------------------------------------------------------------------


class MetricsApi:
    """Serves ``/apis/metrics.k8s.io/...`` from the stored Pods and Nodes and the kubelets."""

    def __init__(
        self,
        registry: Registry,
        kubelets: SummarySource,
        *,
        cache_seconds: float = CACHE_SECONDS,
        timeout: float = KUBELET_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._summaries = SummaryCache(kubelets, ttl=cache_seconds, timeout=timeout, clock=clock)

    group_entry = staticmethod(group_entry)

    async def handle(self, request: Request, rest: Sequence[str]) -> Response:
        """Answer a request; ``rest`` is the path's segments after ``/apis/metrics.k8s.io``."""
        if len(rest) <= 1:
            if request.method not in ("GET", "HEAD"):
                raise MethodNotAllowed(_NOT_ALLOWED)
            if not rest:
                return json_response({"kind": "APIGroup", "apiVersion": "v1", **group_entry()})
            if rest[0] == VERSION:
                return json_response(api_resource_list())
            raise NotFound(_NOT_FOUND)
        if rest[0] != VERSION:
            raise NotFound(_NOT_FOUND)
        info = parse_request(GROUP, VERSION, list(rest[1:]), request.method)
        kind = _KINDS.get(info.resource)
        if kind is None or info.subresource or not _scoped(kind, info):
            raise NotFound(_NOT_FOUND)
        watching = info.verb == "list" and parse_bool(request.query_params, "watch")
        if info.verb not in ("get", "list") or watching:
            raise MethodNotAllowed(_NOT_ALLOWED)
        rep = negotiate(
            request.headers.get("accept", ""),
            include_object=request.query_params.get("includeObject", ""),
        )
        if info.verb == "get":
            found = await self._find(kind, info.namespace or "", info.name)
            return json_response(_render(kind, [found], rep, one=True))
        items = await self._select(kind, info.namespace, _list_options(request.query_params))
        return json_response(_render(kind, items, rep, one=False))

    async def _find(self, kind: _Kind, namespace: str, name: str) -> Object:
        """One PodMetrics or NodeMetrics; NotFound as metrics-server words it."""
        entry = self._registry.get(self._resource(kind), namespace, name)
        found = await self._metrics_of(kind, [entry.decode()])
        if not found:
            raise _no_metrics(kind, f"{namespace}/{name}" if kind.namespaced else name)
        return found[0]

    async def _select(self, kind: _Kind, namespace: str | None, opts: ListOptions) -> list[Object]:
        """The metrics of the Pods (in ``namespace``) or Nodes that ``opts`` selects."""
        entries = self._registry.list(self._resource(kind), namespace, opts).entries
        if kind is _PODS:  # only running pods have metrics: decode no others
            entries = [e for e in entries if e.fields.get("status.phase") == "Running"]
        return await self._metrics_of(kind, [entry.decode() for entry in entries])

    async def _metrics_of(self, kind: _Kind, objects: Sequence[Object]) -> list[Object]:
        if kind is _NODES:
            return await self._node_metrics(objects)
        return await self._pod_metrics(objects)

    async def _pod_metrics(self, pods: Sequence[Object]) -> list[Object]:
        running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
        names = {str((p.get("spec") or {}).get("nodeName") or "") for p in running}
        nodes = [node for name in sorted(names - {""}) if (node := self._node(name)) is not None]
        summaries = await asyncio.gather(*(self._summaries.of(node) for node in nodes))
        by_node = {
            node["metadata"]["name"]: _pods_in(summary)
            for node, summary in zip(nodes, summaries, strict=True)
            if summary is not None
        }
        created, items = _now(), []
        for pod in running:
            meta = pod["metadata"]
            on_node = by_node.get(str((pod.get("spec") or {}).get("nodeName") or ""), {})
            stats = on_node.get((meta.get("namespace", ""), meta.get("name", "")))
            if stats is None or (stats.get("podRef") or {}).get("uid") != meta.get("uid"):
                continue
            if (found := pod_metrics(pod, stats, created)) is not None:
                items.append(found)
        return items

    async def _node_metrics(self, nodes: Sequence[Object]) -> list[Object]:
        summaries = await asyncio.gather(*(self._summaries.of(node) for node in nodes))
        created, items = _now(), []
        for node, summary in zip(nodes, summaries, strict=True):
            if summary is not None and (found := node_metrics(node, summary, created)):
                items.append(found)
        return items

    def _node(self, name: str) -> Object | None:
        entry = self._registry.storage.get(self._resource(_NODES).storage, "", name)
        return entry.decode() if entry is not None else None

    def _resource(self, kind: _Kind) -> Resource:
        resource = self._registry.catalog.get("", "v1", kind.plural)
        assert resource is not None, f"core/v1 {kind.plural} is always served"
        return resource


def _scoped(kind: _Kind, info: RequestInfo) -> bool:
    """Nodes are cluster-scoped; one pod is named within a namespace."""
    if not kind.namespaced:
        return info.namespace is None
    return info.namespace is not None or not info.name
