"""What this node's network components route by: Services and their ready endpoints.

The service proxy, DNS and the ingress proxy all ask the same questions — which Service has
this ClusterIP, where do the ready pods of ``ns/name`` listen for its port ``http`` — so they
share one view over two informers (Services and discovery.k8s.io/v1 EndpointSlices), as
kube-proxy and CoreDNS both read EndpointSlices. Listeners hear the key (``ns/name``) of
every Service whose object or endpoints changed, and decide themselves what to redo.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from atoll.kube.client import Object, ResourceType
from atoll.kube.informers import Informer, InformerFactory, key_of

__all__ = [
    "ENDPOINT_SLICES",
    "SERVICES",
    "Endpoint",
    "ServiceCatalog",
    "service_port",
]

logger = logging.getLogger(__name__)

SERVICES = ResourceType("", "v1", "services", "Service", True)
ENDPOINT_SLICES = ResourceType("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True)
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
_BY_SERVICE = "service"

Listener = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One address serving one port of a Service."""

    ip: str
    port: int
    ready: bool
    hostname: str = ""  # the pod's spec.hostname (headless Services' DNS names)
    pod: str = ""  # the pod's name, when the endpoint is a pod


def _slice_service(obj: Object) -> list[str]:
    meta = obj.get("metadata") or {}
    name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
    return [f"{meta.get('namespace', '')}/{name}"] if name else []


def service_port(service: Mapping[str, Any], port: int | str) -> Mapping[str, Any] | None:
    """The entry of ``spec.ports`` with this number or name, or None."""
    for entry in (service.get("spec") or {}).get("ports") or ():
        if isinstance(port, int) and entry.get("port") == port:
            return entry  # type: ignore[no-any-return]
        if isinstance(port, str) and entry.get("name", "") == port:
            return entry  # type: ignore[no-any-return]
    return None


class ServiceCatalog:
    """Services and their endpoints, from informers of the caller's ``InformerFactory``.

    Ask for it before the factory starts; ``wait_synced`` once it runs.
    """

    def __init__(self, informers: InformerFactory) -> None:
        self.services: Informer = informers.informer(SERVICES)
        self.slices: Informer = informers.informer(ENDPOINT_SLICES)
        self.slices.add_indexer(_BY_SERVICE, _slice_service)
        self._listeners: list[Listener] = []
        self._by_ip: dict[str, str] = {}  # ClusterIP -> ns/name
        self.services.add_handler(
            self._on_service, lambda old, new: self._on_service(new, old), self._on_service_gone
        )
        self.slices.add_handler(self._on_slice, self._on_slice_update, self._on_slice)

    async def wait_synced(self) -> None:
        await asyncio.gather(self.services.wait_synced(), self.slices.wait_synced())

    def add_listener(self, listener: Listener) -> None:
        """Hear ``ns/name`` of each Service whose object or endpoints changed (every cached
        Service once, when the listener is added after the first list)."""
        self._listeners.append(listener)
        if self.services.has_synced:
            keys = self.services.keys()
            for key in keys:
                self._call(listener, key)

    # -- reads -----------------------------------------------------------------------------

    def service(self, key: str) -> Object | None:
        """The Service ``ns/name``, or None."""
        return self.services.get(key)

    def all_services(self) -> Iterator[tuple[str, Object]]:
        keys = self.services.keys()
        for key in keys:
            found = self.services.get(key)
            if found is not None:
                yield key, found

    def by_cluster_ip(self, ip: str) -> str | None:
        """The key of the Service with this ClusterIP, or None."""
        return self._by_ip.get(ip)

    def endpoints(self, key: str, port: int | str | None = None) -> list[Endpoint]:
        """The endpoints of Service ``key`` for one of its ports (by the Service port's number
        or name; None: the first port, or the bare addresses of a port-less headless
        Service), ready or not, each address once, in a stable order."""
        service = self.services.get(key)
        if service is None:
            return []
        port_name: str | None = None
        if port is not None:
            entry = service_port(service, port)
            if entry is None:
                return []
            port_name = str(entry.get("name") or "")
        else:
            ports = (service.get("spec") or {}).get("ports") or []
            port_name = str(ports[0].get("name") or "") if ports else None
        found: dict[tuple[str, int], Endpoint] = {}
        for piece in self.slices.by_index(_BY_SERVICE, key):
            number = 0
            if port_name is not None:
                numbers = [
                    int(p["port"])
                    for p in piece.get("ports") or ()
                    if (p.get("name") or "") == port_name and p.get("port")
                ]
                if not numbers:
                    continue
                number = numbers[0]
            for endpoint in piece.get("endpoints") or ():
                conditions = endpoint.get("conditions") or {}
                ready = conditions.get("ready") is not False  # nil means ready
                target = endpoint.get("targetRef") or {}
                for address in endpoint.get("addresses") or ():
                    item = Endpoint(
                        ip=str(address),
                        port=number,
                        ready=ready,
                        hostname=str(endpoint.get("hostname") or ""),
                        pod=str(target.get("name") or "") if target.get("kind") == "Pod" else "",
                    )
                    previous = found.get((item.ip, item.port))
                    if previous is None or (item.ready and not previous.ready):
                        found[(item.ip, item.port)] = item
        return sorted(found.values(), key=lambda e: (e.ip, e.port))

    def ready_endpoints(self, key: str, port: int | str | None = None) -> list[Endpoint]:
        return [e for e in self.endpoints(key, port) if e.ready]

    # -- changes ---------------------------------------------------------------------------

    def _on_service(self, service: Object, old: Object | None = None) -> None:
        key = key_of(service)
        if old is not None:
            for ip in _cluster_ips(old):
                if self._by_ip.get(ip) == key:
                    del self._by_ip[ip]
        for ip in _cluster_ips(service):
            self._by_ip[ip] = key
        self._notify(key)

    def _on_service_gone(self, service: Object) -> None:
        key = key_of(service)
        for ip in _cluster_ips(service):
            if self._by_ip.get(ip) == key:
                del self._by_ip[ip]
        self._notify(key)

    def _on_slice_update(self, old: Object, new: Object) -> None:
        for key in {*_slice_service(old), *_slice_service(new)}:
            self._notify(key)

    def _on_slice(self, piece: Object) -> None:
        for key in _slice_service(piece):
            self._notify(key)

    def _notify(self, key: str) -> None:
        for listener in list(self._listeners):
            self._call(listener, key)

    @staticmethod
    def _call(listener: Listener, key: str) -> None:
        try:
            listener(key)
        except Exception:  # one listener's bug must not stop the others hearing
            logger.exception("network: a listener failed on %s", key)


def _cluster_ips(service: Object) -> list[str]:
    spec = service.get("spec") or {}
    ips = [str(ip) for ip in spec.get("clusterIPs") or () if ip and ip != "None"]
    single = spec.get("clusterIP")
    if single and single != "None" and single not in ips:
        ips.append(str(single))
    return ips
