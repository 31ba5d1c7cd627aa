"""Endpoints and EndpointSlices for Services with a selector: which pods serve, at which ports.

Two controllers over the same three caches (Services, Pods, and their output), as in
kube-controller-manager: ``endpoint`` writes the core/v1 Endpoints named after the Service
(ready pods in ``addresses``, unready ones in ``notReadyAddresses``, grouped into subsets by
port set as kube's ``RepackSubsets`` does); ``endpointslice`` writes discovery.k8s.io/v1
EndpointSlices (one per address type and port set, at most 100 endpoints each, with the
ready/serving/terminating conditions, labelled with the service name and managed-by).

A named ``targetPort`` is looked up among each pod's container ports, so pods of one Service
may serve it on different numbers. Services without a selector are left alone: whoever made
them writes their Endpoints. Both controllers compare before writing, so a pod status update
that changes nothing a client would route by writes nothing.

Slice names are derived from the Service uid and the slice's address type, ports and chunk
(kube uses ``generateName``): a reconcile whose cache has not yet seen a slice it created a
moment ago gets AlreadyExists instead of making a duplicate.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from atoll.controllers.results import Result
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.errors import AlreadyExists, ApiError, Conflict, Forbidden, NotFound
from atoll.kube.client import Object, ResourceType
from atoll.kube.informers import Informer, key_of, split_key

from . import ControllerOptions

__all__ = [
    "CONTROLLERS",
    "ENDPOINTS",
    "ENDPOINT_SLICES",
    "EndpointController",
    "EndpointSliceController",
    "endpoint_slices",
    "endpoint_subsets",
]

logger = logging.getLogger(__name__)

SERVICES = ResourceType("", "v1", "services", "Service", True)
PODS = ResourceType("", "v1", "pods", "Pod", True)
ENDPOINTS = ResourceType("", "v1", "endpoints", "Endpoints", True)
ENDPOINT_SLICES = ResourceType("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True)
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
TOLERATE_UNREADY = "service.alpha.kubernetes.io/tolerate-unready-endpoints"
MAX_ENDPOINTS_PER_SLICE = 100  # kube's --max-endpoints-per-slice default
_SLICE_INDEX = "endpointslice-service"

Port = tuple[str, int, str, str]  # name, number, protocol, appProtocol


# -- which pods serve a Service, and where ----------------------------------------------------


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    return meta


def selector_of(service: Mapping[str, Any]) -> dict[str, str] | None:
    """The Service's pod selector; None (not "everything") when it has none."""
    selector = (service.get("spec") or {}).get("selector")
    return dict(selector) if selector else None


def _selects(selector: Mapping[str, str], pod: Mapping[str, Any]) -> bool:
    labels = _meta(pod).get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def _pod_ready(pod: Mapping[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _still_serving(pod: Mapping[str, Any]) -> bool:
    """kube's shouldPodBeInEndpoints: a pod that will not run again is left out."""
    phase = (pod.get("status") or {}).get("phase")
    policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
    if policy == "Never":
        return phase not in ("Failed", "Succeeded")
    if policy == "OnFailure":
        return phase != "Succeeded"
    return True


def _tolerates_unready(service: Mapping[str, Any]) -> bool:
    annotation = (_meta(service).get("annotations") or {}).get(TOLERATE_UNREADY, "")
    spec = service.get("spec") or {}
    return bool(spec.get("publishNotReadyAddresses")) or annotation.lower() == "true"


def _pod_ips(pod: Mapping[str, Any]) -> list[str]:
    status = pod.get("status") or {}
    ips = [str(p["ip"]) for p in status.get("podIPs") or () if p.get("ip")]
    return ips or ([str(status["podIP"])] if status.get("podIP") else [])


def _ports(pod: Mapping[str, Any], service: Mapping[str, Any]) -> tuple[Port, ...]:
    """The Service's ports as this pod serves them; a named targetPort it lacks is skipped."""
    ports = []
    for sp in (service.get("spec") or {}).get("ports") or ():
        protocol = str(sp.get("protocol") or "TCP")
        number = _target_port(pod, sp.get("targetPort", sp.get("port")), protocol)
        if number is not None:
            ports.append(
                (str(sp.get("name") or ""), number, protocol, str(sp.get("appProtocol") or ""))
            )
    return tuple(ports)


def _target_port(pod: Mapping[str, Any], target: Any, protocol: str) -> int | None:
    if isinstance(target, int) and not isinstance(target, bool):
        return target
    for container in (pod.get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return int(port["containerPort"])
    return None


def _target_ref(pod: Mapping[str, Any]) -> dict[str, str]:
    meta = _meta(pod)
    return {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]}


def _hostname(pod: Mapping[str, Any], service: Mapping[str, Any]) -> str | None:
    spec = pod.get("spec") or {}
    if spec.get("hostname") and spec.get("subdomain") == _meta(service).get("name"):
        return str(spec["hostname"])
    return None


def _endpoint_port(port: Port, *, slice_form: bool) -> dict[str, Any]:
    name, number, protocol, app_protocol = port
    out: dict[str, Any] = {"port": number, "protocol": protocol}
    if name or slice_form:  # a slice port always has a name, "" included
        out = {"name": name, **out}
    if app_protocol:
        out["appProtocol"] = app_protocol
    return out


def service_labels(service: Mapping[str, Any]) -> dict[str, str]:
    """The Service's labels, plus the headless marker for ``clusterIP: None``."""
    labels = {
        k: v
        for k, v in (_meta(service).get("labels") or {}).items()
        if k not in (SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL)
    }
    if (service.get("spec") or {}).get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    return labels


# -- Endpoints --------------------------------------------------------------------------------


def endpoint_subsets(
    service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The ``subsets`` kube's endpoint controller writes for ``service`` and its pods."""
    tolerate = _tolerates_unready(service)
    headless_without_ports = (service.get("spec") or {}).get("clusterIP") == "None" and not (
        (service.get("spec") or {}).get("ports")
    )
    by_port_set: dict[tuple[Port, ...], list[tuple[bool, dict[str, Any]]]] = {}
    for pod in pods:
        ips = _pod_ips(pod)
        if not ips or (_meta(pod).get("deletionTimestamp") and not tolerate):
            continue
        if not _still_serving(pod):  # as kube ≥ 1.22: a finished pod gets no traffic
            continue
        ready = tolerate or _pod_ready(pod)
        ports = _ports(pod, service)
        if not ports and not headless_without_ports:
            continue
        address: dict[str, Any] = {"ip": ips[0]}
        if (hostname := _hostname(pod, service)) is not None:
            address["hostname"] = hostname
        if node := (pod.get("spec") or {}).get("nodeName"):
            address["nodeName"] = node
        address["targetRef"] = _target_ref(pod)
        by_port_set.setdefault(tuple(sorted(set(ports))), []).append((ready, address))
    return [_subset(ports, entries) for ports, entries in sorted(by_port_set.items())]


def _subset(ports: tuple[Port, ...], entries: list[tuple[bool, dict[str, Any]]]) -> dict[str, Any]:
    def order(address: dict[str, Any]) -> tuple[str, str]:
        return address["ip"], address["targetRef"]["uid"]

    subset: dict[str, Any] = {}
    ready = sorted((a for ok, a in entries if ok), key=order)
    unready = sorted((a for ok, a in entries if not ok), key=order)
    if ready:
        subset["addresses"] = ready
    if unready:
        subset["notReadyAddresses"] = unready
    if ports:
        subset["ports"] = [_endpoint_port(p, slice_form=False) for p in ports]
    return subset


# -- EndpointSlices ---------------------------------------------------------------------------


def _address_types(service: Mapping[str, Any]) -> list[str]:
    spec = service.get("spec") or {}
    families = [str(f) for f in spec.get("ipFamilies") or () if f in ("IPv4", "IPv6")]
    if families:
        return families
    cluster_ip = str(spec.get("clusterIP") or "")
    if cluster_ip and cluster_ip != "None":
        return ["IPv6" if ":" in cluster_ip else "IPv4"]
    return ["IPv4", "IPv6"]


def _slice_endpoint(pod: Mapping[str, Any], ip: str, tolerate: bool, service: Object) -> Object:
    terminating = bool(_meta(pod).get("deletionTimestamp"))
    serving = tolerate or _pod_ready(pod)
    endpoint: Object = {
        "addresses": [ip],
        "conditions": {
            "ready": serving and not terminating,
            "serving": serving,
            "terminating": terminating,
        },
    }
    if (hostname := _hostname(pod, service)) is not None:
        endpoint["hostname"] = hostname
    endpoint["targetRef"] = _target_ref(pod)
    if node := (pod.get("spec") or {}).get("nodeName"):
        endpoint["nodeName"] = node
    return endpoint


def endpoint_slices(service: Object, pods: Iterable[Mapping[str, Any]]) -> dict[str, Object]:
    """The EndpointSlices of ``service`` by name: one per address type and port set."""
    tolerate = _tolerates_unready(service)
    types = _address_types(service)
    groups: dict[tuple[str, tuple[Port, ...]], list[Object]] = {}
    for pod in pods:
        if not _still_serving(pod):
            continue
        ports = _ports(pod, service)
        for ip in _pod_ips(pod):
            family = "IPv6" if ":" in ip else "IPv4"
            if family in types:
                endpoint = _slice_endpoint(pod, ip, tolerate, service)
                groups.setdefault((family, tuple(sorted(set(ports)))), []).append(endpoint)
    if not groups:  # kube keeps one empty slice, so clients see the Service has none
        groups[(types[0], ())] = []
    slices: dict[str, Object] = {}
    for (family, ports), endpoints in sorted(groups.items()):
        endpoints.sort(key=lambda e: (e["addresses"][0], e["targetRef"]["uid"]))
        for chunk in range(0, max(len(endpoints), 1), MAX_ENDPOINTS_PER_SLICE):
            part = endpoints[chunk : chunk + MAX_ENDPOINTS_PER_SLICE]
            made = _new_slice(service, family, ports, part, chunk // MAX_ENDPOINTS_PER_SLICE)
            slices[_meta(made)["name"]] = made
    return slices


def _new_slice(
    service: Object, family: str, ports: tuple[Port, ...], endpoints: list[Object], chunk: int
) -> Object:
    meta = _meta(service)
    identity = f"{meta.get('uid')}/{family}/{ports}/{chunk}".encode()
    suffix = hashlib.sha256(identity).hexdigest()[:5]
    labels = {
        **service_labels(service),
        SERVICE_NAME_LABEL: meta["name"],
        MANAGED_BY_LABEL: MANAGED_BY,
    }
    owner = {
        "apiVersion": "v1",
        "kind": "Service",
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    return {
        "apiVersion": ENDPOINT_SLICES.api_version,
        "kind": ENDPOINT_SLICES.kind,
        "metadata": {
            "name": f"{meta['name']}-{suffix}",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [owner],
        },
        "addressType": family,
        "endpoints": endpoints,
        "ports": [_endpoint_port(p, slice_form=True) for p in ports],
    }


def _slice_changed(have: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    fields = ("addressType", "endpoints", "ports")
    if any((have.get(f) or None) != (want.get(f) or None) for f in fields):
        return True
    for field in ("labels", "ownerReferences"):
        if (_meta(have).get(field) or None) != (_meta(want).get(field) or None):
            return True
    return False


def _slice_service_key(endpoint_slice: Object) -> list[str]:
    """Index: ``namespace/service`` of a slice this controller manages."""
    meta = _meta(endpoint_slice)
    labels = meta.get("labels") or {}
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY or not labels.get(SERVICE_NAME_LABEL):
        return []
    return [f"{meta.get('namespace')}/{labels[SERVICE_NAME_LABEL]}"]


# -- the controllers --------------------------------------------------------------------------


def _routing(pod: Object) -> tuple[Any, ...]:
    """What of a pod the output depends on, apart from its labels."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    ports = [c.get("ports") for c in spec.get("containers") or ()]
    return (
        _pod_ips(pod),
        _pod_ready(pod),
        _meta(pod).get("deletionTimestamp"),
        status.get("phase"),
        spec.get("nodeName"),
        spec.get("hostname"),
        spec.get("subdomain"),
        ports,
    )


class _ServiceController:
    """Shared set-up: Services are the keys; pod changes queue the Services selecting them."""

    name = ""

    def __init__(self, options: ControllerOptions) -> None:
        self._options = options

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._services: Informer = ctx.informers.informer(SERVICES)
        self._pods: Informer = ctx.informers.informer(PODS)
        self._services.add_handler(
            on_add=ctx.enqueue, on_update=lambda _old, new: ctx.enqueue(new), on_delete=ctx.enqueue
        )
        self._pods.add_handler(
            on_add=self._pod_changed, on_update=self._pod_updated, on_delete=self._pod_changed
        )

    def _pod_changed(self, pod: Object) -> None:
        for key in self._services_of(pod):
            self._ctx.queue.add(key)

    def _pod_updated(self, old: Object, new: Object) -> None:
        if (_meta(old).get("labels") or {}) != (_meta(new).get("labels") or {}):
            for key in self._services_of(old) | self._services_of(new):
                self._ctx.queue.add(key)
        elif _routing(old) != _routing(new):
            self._pod_changed(new)

    def _services_of(self, pod: Object) -> set[str]:
        namespace = str(_meta(pod).get("namespace") or "")
        return {
            key_of(service)
            for service in self._services.list(namespace)
            if (selector := selector_of(service)) is not None and _selects(selector, pod)
        }

    def _pods_of(self, service: Object, selector: Mapping[str, str]) -> list[Object]:
        namespace = str(_meta(service).get("namespace") or "")
        return [pod for pod in self._pods.list(namespace) if _selects(selector, pod)]

    async def _failed(self, service: Object, reason: str, exc: ApiError) -> None:
        name = _meta(service).get("name")
        message = f"Failed to update endpoint {_meta(service).get('namespace')}/{name}: {exc}"
        await self._ctx.events.warning(service, reason, message=message)


class EndpointController(_ServiceController):
    """Keeps ``Endpoints/<service>`` equal to the ready and unready pods the Service selects."""

    name = "endpoint"

    async def setup(self, ctx: ControllerContext) -> None:
        await super().setup(ctx)
        self._endpoints: Informer = ctx.informers.informer(ENDPOINTS)
        self._endpoints.add_handler(on_delete=ctx.enqueue)  # put back what someone deleted

    async def reconcile(self, key: str) -> Result:
        namespace, name = split_key(key)
        service = self._services.get(key)
        current = self._endpoints.get(key)
        if service is None:
            if current is not None:  # the Service went: its Endpoints go with it
                with contextlib.suppress(NotFound):
                    await self._ctx.client.delete(ENDPOINTS, name, namespace=namespace)
            return Result()
        selector = selector_of(service)
        if selector is None:
            return Result()
        subsets = endpoint_subsets(service, self._pods_of(service, selector))
        labels = service_labels(service)
        if current is not None and _same_endpoints(current, subsets, labels):
            return Result()
        try:
            await self._write(namespace, name, current, subsets, labels)
        except (Conflict, AlreadyExists):
            return Result(requeue=True)  # the cache is behind: look again
        except (NotFound, Forbidden):
            return Result()  # the namespace is gone or terminating
        except ApiError as exc:
            await self._failed(service, "FailedToUpdateEndpoint", exc)
            raise
        return Result()

    async def _write(
        self,
        namespace: str,
        name: str,
        current: Object | None,
        subsets: list[dict[str, Any]],
        labels: dict[str, str],
    ) -> None:
        if current is None:
            endpoints: Object = {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": name, "namespace": namespace, "labels": labels},
                "subsets": subsets,
            }
            await self._ctx.client.create(ENDPOINTS, endpoints)
            return
        endpoints = copy.deepcopy(current)
        endpoints["subsets"] = subsets
        endpoints["metadata"]["labels"] = labels
        await self._ctx.client.replace(ENDPOINTS, endpoints)


def _same_endpoints(current: Object, subsets: list[dict[str, Any]], labels: dict[str, str]) -> bool:
    same_labels = (_meta(current).get("labels") or {}) == labels
    return same_labels and (current.get("subsets") or []) == subsets


class EndpointSliceController(_ServiceController):
    """Keeps the Service's EndpointSlices equal to the pods it selects."""

    name = "endpointslice"

    async def setup(self, ctx: ControllerContext) -> None:
        await super().setup(ctx)
        self._slices: Informer = ctx.informers.informer(ENDPOINT_SLICES)
        self._slices.add_indexer(_SLICE_INDEX, _slice_service_key)
        self._slices.add_handler(
            on_add=self._slice_changed,
            on_update=lambda _old, new: self._slice_changed(new),
            on_delete=self._slice_changed,
        )

    def _slice_changed(self, endpoint_slice: Object) -> None:
        for key in _slice_service_key(endpoint_slice):
            self._ctx.queue.add(key)

    async def reconcile(self, key: str) -> Result:
        service = self._services.get(key)
        selector = selector_of(service) if service is not None else None
        have = {_meta(s)["name"]: s for s in self._slices.by_index(_SLICE_INDEX, key)}
        want: dict[str, Object] = {}
        if service is not None and selector is not None:
            want = endpoint_slices(service, self._pods_of(service, selector))
        try:
            for name, wanted in want.items():
                await self._put(have.get(name), wanted)
            for name in have.keys() - want.keys():
                await self._delete(have[name])
        except (Conflict, AlreadyExists):
            return Result(requeue=True)  # the cache is behind: look again
        except (NotFound, Forbidden):
            return Result()  # the namespace is gone or terminating
        except ApiError as exc:
            if service is not None:
                await self._failed(service, "FailedToUpdateEndpointSlices", exc)
            raise
        return Result()

    async def _put(self, have: Object | None, want: Object) -> None:
        if have is None:
            await self._ctx.client.create(ENDPOINT_SLICES, want)
        elif _slice_changed(have, want):
            updated = copy.deepcopy(have)
            updated.update({k: want[k] for k in ("addressType", "endpoints", "ports")})
            updated["metadata"]["labels"] = want["metadata"]["labels"]
            updated["metadata"]["ownerReferences"] = want["metadata"]["ownerReferences"]
            await self._ctx.client.replace(ENDPOINT_SLICES, updated)

    async def _delete(self, endpoint_slice: Object) -> None:
        meta = _meta(endpoint_slice)
        with contextlib.suppress(NotFound):
            await self._ctx.client.delete(
                ENDPOINT_SLICES,
                meta["name"],
                namespace=meta["namespace"],
                preconditions={"uid": str(meta.get("uid"))},
            )


def _endpoint_controller(options: ControllerOptions) -> Controller:
    return EndpointController(options)


def _endpoint_slice_controller(options: ControllerOptions) -> Controller:
    return EndpointSliceController(options)


CONTROLLERS = [_endpoint_controller, _endpoint_slice_controller]
