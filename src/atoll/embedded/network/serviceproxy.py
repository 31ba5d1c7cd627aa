"""The embedded cluster's Service proxy: kube-proxy's userspace mode, on the loopback.

Service ClusterIPs are allocated inside 127.0.0.0/8, and Linux lets any process bind any
127.x.y.z address; pods reach those addresses through their route to the host. So one
listening socket per Service port — ``(clusterIP, port)`` — serves this machine and every
pod alike, needs no privileges, no iptables and no virtual interface, and sees the pod's
own address as the client's (so ``sessionAffinity: ClientIP`` works). The relays that do
the byte work live in ``relaying``; this module decides what to listen on and where each
new connection goes.

What it serves, as kube-proxy does:

- every ClusterIP, NodePort and LoadBalancer Service with a ClusterIP (headless and
  ExternalName Services have nothing to proxy): each ``spec.ports`` entry on each
  ClusterIP, TCP or UDP; SCTP is reported with a Warning Event and skipped; a Service
  labelled ``service.kubernetes.io/service-proxy-name`` belongs to another proxy and is
  left alone, as kube-proxy leaves it;
- NodePort and LoadBalancer Services also on ``(node_address, nodePort)``;
- LoadBalancer Services (without a ``loadBalancerClass``, which names another
  implementation) also on ``(node_address, port)``, and their ``status.loadBalancer``
  says ``ingress: [{ip: node_address}]`` once all those ports are bound — k3s's servicelb
  on one node. An ingress address that did not answer on the Service's ports would be a
  lie, so a port that cannot be bound leaves the Service without ingress ("pending"), as
  servicelb's pods stay Pending when their host port is taken.

Level-based like a controller: every catalog change wakes the loop, which calls
``reconcile()`` — compute the wanted listeners from the catalog, close those no longer
wanted, open those missing, write statuses that differ. It is idempotent; a bind failure
is logged and told once as a ``FailedToBindPort`` Event on the Service, and retried on the
next change (or after ``retry_interval``). Two Services claiming one address: the one that
holds it keeps it (first come, first served), the other gets the Event.

A listener whose Service port went away stops accepting; its relayed connections may
finish. A deleted Service's connections are closed at once, as its endpoints are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from atoll.errors import ApiError
from atoll.kube.client import KubeClient, Object
from atoll.kube.events import EventRecorder
from atoll.kube.informers import split_key

from .catalog import SERVICES, Endpoint, ServiceCatalog
from .relaying import Backend, TcpRelay
from .udp_relaying import UdpRelay

__all__ = [
    "Address",
    "Balancer",
    "Listen",
    "ServiceProxy",
    "wanted_ingress",
    "wanted_listeners",
]

logger = logging.getLogger(__name__)

Address = tuple[str, int, str]
"""(ip, port, protocol) of one listening socket."""

Exposure = Literal["ClusterIP", "NodePort", "LoadBalancer"]

_PROXIED_TYPES = frozenset({"ClusterIP", "NodePort", "LoadBalancer"})
_OTHER_PROXY_LABEL = "service.kubernetes.io/service-proxy-name"
_RELAYED_PROTOCOLS = frozenset({"TCP", "UDP"})
_DEFAULT_AFFINITY_SECONDS = 10800  # kube's DefaultClientIPServiceAffinitySeconds
_CLOSE_GRACE_SECONDS = 2.0
_FAILED_TO_BIND = "FailedToBindPort"
_UNSUPPORTED_PROTOCOL = "UnsupportedProtocol"


class EndpointSource(Protocol):
    """The part of ``ServiceCatalog`` a balancer reads."""

    def service(self, key: str) -> Object | None: ...

    def ready_endpoints(self, key: str, port: int | str | None = None) -> list[Endpoint]: ...


# -- what to listen on ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listen:
    """One socket the proxy should have, and the Service port it serves."""

    ip: str
    port: int
    protocol: str
    service: str  # namespace/name
    target: int | str  # the Service port's name, or its number when it has none
    exposure: Exposure

    @property
    def address(self) -> Address:
        return (self.ip, self.port, self.protocol)


def _cluster_ips(spec: Mapping[str, Any]) -> list[str]:
    ips = [str(ip) for ip in spec.get("clusterIPs") or () if ip and ip != "None"]
    single = spec.get("clusterIP")
    if single and single != "None" and single not in ips:
        ips.append(str(single))
    return ips


def wanted_listeners(key: str, service: Mapping[str, Any], *, node_address: str) -> list[Listen]:
    """The sockets Service ``key`` needs on this node (SCTP ones included: the proxy reports
    them as unsupported)."""
    spec = service.get("spec") or {}
    kind = spec.get("type") or "ClusterIP"
    ips = _cluster_ips(spec)
    if kind not in _PROXIED_TYPES or not ips or _other_proxy(service):
        return []
    balanced = kind == "LoadBalancer" and not spec.get("loadBalancerClass")
    found: list[Listen] = []
    for entry in spec.get("ports") or ():
        port, protocol = entry.get("port"), str(entry.get("protocol") or "TCP")
        if not isinstance(port, int):
            continue
        target: int | str = str(entry.get("name") or "") or port
        for ip in ips:
            found.append(Listen(ip, port, protocol, key, target, "ClusterIP"))
        node_port = entry.get("nodePort")
        if kind in ("NodePort", "LoadBalancer") and isinstance(node_port, int) and node_port:
            found.append(Listen(node_address, node_port, protocol, key, target, "NodePort"))
        if balanced:
            found.append(Listen(node_address, port, protocol, key, target, "LoadBalancer"))
    return found


def wanted_ingress(
    service: Mapping[str, Any], *, node_address: str, serving: bool
) -> list[dict[str, str]] | None:
    """The ``status.loadBalancer.ingress`` this proxy wants on ``service``, or None when the
    field is not the proxy's to write.

    A LoadBalancer Service without ``loadBalancerClass`` gets ``[{ip: node_address}]``
    while ``serving`` (all its load-balancer ports are bound), else none. A Service that is
    no longer a LoadBalancer loses the ingress this proxy wrote, as kube's service
    controller clears it.
    """
    spec = service.get("spec") or {}
    ours = [{"ip": node_address}]
    if spec.get("type") == "LoadBalancer":
        if spec.get("loadBalancerClass") or _other_proxy(service):
            return None
        return ours if serving else []
    return [] if _ingress_addresses(service) == [(node_address, "")] else None


def _other_proxy(service: Mapping[str, Any]) -> bool:
    labels = (service.get("metadata") or {}).get("labels") or {}
    return _OTHER_PROXY_LABEL in labels


def _ingress_addresses(service: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(ip, hostname) of each ingress entry: the fields the proxy decides (the server may
    default others, such as ``ipMode``)."""
    balancer = (service.get("status") or {}).get("loadBalancer") or {}
    return [
        (str(e.get("ip") or ""), str(e.get("hostname") or ""))
        for e in balancer.get("ingress") or ()
    ]


# -- where a new connection goes -----------------------------------------------------------


@dataclass(slots=True)
class _Sticky:
    backend: Backend
    last_used: float


class Balancer:
    """Chooses backends for one Service port: round robin, ``ClientIP`` affinity, failover.

    The ready endpoints and the affinity settings are read from the catalog once per
    change (``invalidate``), not once per connection. ``choose`` returns every ready
    endpoint, the chosen one first and then the others in round-robin order, so a relay
    that cannot connect moves on to the next. With ``sessionAffinity: ClientIP`` a client
    keeps its endpoint while that stays ready and is used at least every
    ``timeoutSeconds``; a failed connection forgets it, as kube-proxy does.
    """

    def __init__(
        self,
        catalog: EndpointSource,
        key: str,
        target: int | str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key = key
        self.target = target
        self._catalog = catalog
        self._clock = clock
        self._ready: list[Backend] | None = None
        self._affinity_seconds: float | None = None  # None: no session affinity
        self._next = 0
        self._sticky: dict[str, _Sticky] = {}

    def invalidate(self) -> None:
        """The Service or its endpoints changed: read them again on the next choice."""
        self._ready = None

    def choose(self, client_ip: str) -> list[Backend]:
        ready = self._read() if self._ready is None else self._ready
        if not ready:
            return []
        first = self._sticky_index(client_ip, ready)
        if first is None:
            first = self._next % len(ready)
            self._next = first + 1
        return ready[first:] + ready[:first]

    def _sticky_index(self, client_ip: str, ready: list[Backend]) -> int | None:
        """Where the client's remembered endpoint is in ``ready``, if it is still there."""
        sticky = self._sticky.get(client_ip) if self._affinity_seconds is not None else None
        if sticky is None or self._clock() - sticky.last_used >= (self._affinity_seconds or 0):
            return None
        try:
            return ready.index(sticky.backend)
        except ValueError:  # no longer ready: choose another (and remember that one)
            return None

    def connected(self, client_ip: str, backend: Backend) -> None:
        if self._ready is None:
            self._read()
        if self._affinity_seconds is not None:
            self._sticky[client_ip] = _Sticky(backend, self._clock())

    def failed(self, client_ip: str, backend: Backend) -> None:
        sticky = self._sticky.get(client_ip)
        if sticky is not None and sticky.backend == backend:
            del self._sticky[client_ip]

    def forget_expired(self) -> None:
        """Drop affinities unused for their timeout (all of them without affinity)."""
        seconds = self._affinity_seconds
        if seconds is None:
            self._sticky.clear()
            return
        limit = self._clock() - seconds
        for client_ip in [ip for ip, s in self._sticky.items() if s.last_used <= limit]:
            del self._sticky[client_ip]

    def _read(self) -> list[Backend]:
        service = self._catalog.service(self.key) or {}
        spec = service.get("spec") or {}
        self._affinity_seconds = None
        if spec.get("sessionAffinity") == "ClientIP":
            config = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
            seconds = config.get("timeoutSeconds") or _DEFAULT_AFFINITY_SECONDS
            self._affinity_seconds = float(seconds)
        endpoints = self._catalog.ready_endpoints(self.key, self.target)
        self._ready = [(e.ip, e.port) for e in endpoints if e.port]
        return self._ready


# -- the proxy -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Failure:
    service: str
    reason: str
    message: str


_Relay = TcpRelay | UdpRelay


class ServiceProxy:
    """Listens on every Service port of the catalog and relays to ready endpoints.

    Run it with ``await proxy.run()`` in the cluster's task group; cancelling it closes
    every listener and every relayed connection. ``client`` (to write LoadBalancer
    statuses) and ``events`` (to tell users about ports it cannot serve) are optional.
    """

    def __init__(
        self,
        catalog: ServiceCatalog,
        *,
        client: KubeClient | None = None,
        events: EventRecorder | None = None,
        node_address: str = "127.0.0.1",
        connect_timeout: float = 3.0,
        connect_attempts: int = 3,
        udp_idle_timeout: float = 60.0,
        retry_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.catalog = catalog
        self.node_address = node_address
        self._client = client
        self._events = events
        self._connect_timeout = connect_timeout
        self._connect_attempts = connect_attempts
        self._udp_idle_timeout = udp_idle_timeout
        self._retry_interval = retry_interval
        self._clock = clock
        self._open: dict[Address, tuple[Listen, _Relay]] = {}
        self._draining: set[_Relay] = set()  # stopped listening, connections still relayed
        self._balancers: dict[str, dict[int | str, Balancer]] = {}
        self._failures: dict[tuple[Address, str], _Failure] = {}
        self._unfinished = False  # a status write or a whole round failed: retry it
        self._changed = asyncio.Event()
        self._lock = asyncio.Lock()
        catalog.add_listener(self._on_change)

    # -- introspection -------------------------------------------------------------------

    @property
    def listeners(self) -> frozenset[Address]:
        """The (ip, port, protocol) of every open listening socket."""
        return frozenset(self._open)

    @property
    def failures(self) -> dict[Address, str]:
        """The wanted sockets this proxy could not open, with why."""
        return {address: f.message for (address, _), f in self._failures.items()}

    @property
    def active_connections(self) -> int:
        """Relayed TCP connections, draining listeners' included."""
        return sum(r.active for r in self._relays() if isinstance(r, TcpRelay))

    @property
    def udp_sessions(self) -> int:
        return sum(r.active for r in self._relays() if isinstance(r, UdpRelay))

    def _relays(self) -> Iterator[_Relay]:
        yield from (relay for _, relay in self._open.values())
        yield from self._draining

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Reconcile after every catalog change until cancelled, then close everything."""
        try:
            await self.catalog.wait_synced()
            self._changed.set()
            while True:
                await self._wait_for_change()
                try:
                    await self.reconcile()
                except Exception:  # a bug must not leave the node without Services
                    logger.exception("service proxy: reconciling failed; retrying")
                    self._unfinished = True
        finally:
            await self.close()

    async def _wait_for_change(self) -> None:
        retry = None
        if self._unfinished or any(f.reason == _FAILED_TO_BIND for f in self._failures.values()):
            loop = asyncio.get_running_loop()
            retry = loop.call_later(self._retry_interval, self._changed.set)
        try:
            await self._changed.wait()
        finally:
            if retry is not None:
                retry.cancel()
        self._changed.clear()

    def _on_change(self, key: str) -> None:
        for balancer in self._balancers.get(key, {}).values():
            balancer.invalidate()
        self._changed.set()

    async def close(self) -> None:
        """Close every listener and relayed connection; wait (briefly) until they are."""
        relays = list(self._relays())
        self._open.clear()
        self._draining.clear()
        for relay in relays:
            relay.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_CLOSE_GRACE_SECONDS):
                await asyncio.gather(*(relay.wait_closed() for relay in relays))

    # -- one step ------------------------------------------------------------------------

    async def reconcile(self) -> None:
        """Bring the listeners and LoadBalancer statuses in line with the catalog, once."""
        async with self._lock:
            self._unfinished = False
            wanted, refused = self._claims()
            self._close_unwanted(wanted)
            fresh = await self._open_wanted(wanted)
            fresh += self._refuse(refused)
            self._forget_failures(wanted, refused)
            self._tidy()
            for failure in fresh:
                await self._warn(failure)
            if self._client is not None:
                await self._write_statuses(self._client)

    def _claims(self) -> tuple[dict[Address, Listen], list[Listen]]:
        """Every wanted socket once; an address two Services want stays with its holder."""
        wanted: dict[Address, Listen] = {}
        refused: list[Listen] = []
        for key, service in self.catalog.all_services():
            for listen in wanted_listeners(key, service, node_address=self.node_address):
                held = self._open.get(listen.address)
                claimed = wanted.get(listen.address)
                if claimed is None:
                    wanted[listen.address] = listen
                elif held is not None and held[0] == listen:
                    refused.append(claimed)
                    wanted[listen.address] = listen
                else:
                    refused.append(listen)
        return wanted, refused

    def _close_unwanted(self, wanted: Mapping[Address, Listen]) -> None:
        for address, (listen, relay) in list(self._open.items()):
            if wanted.get(address) == listen:
                continue
            del self._open[address]
            if self.catalog.service(listen.service) is None:
                relay.close()  # a deleted Service: its connections go with it
            else:
                relay.stop_listening()
                self._draining.add(relay)
            logger.debug("service proxy: closed %s:%d/%s", *address)

    async def _open_wanted(self, wanted: Mapping[Address, Listen]) -> list[_Failure]:
        fresh: list[_Failure] = []
        for address, listen in wanted.items():
            if address in self._open:
                continue
            failure = await self._open_one(listen)
            if failure is None:
                self._failures.pop((address, listen.service), None)
            elif self._record(listen, failure):
                fresh.append(failure)
        return fresh

    def _record(self, listen: Listen, failure: _Failure) -> bool:
        """Remember why ``listen`` failed; True when it had not failed before (tell once)."""
        key = (listen.address, listen.service)
        new = key not in self._failures
        self._failures[key] = failure
        return new

    async def _open_one(self, listen: Listen) -> _Failure | None:
        where = f"{listen.ip}:{listen.port}/{listen.protocol}"
        if listen.protocol not in _RELAYED_PROTOCOLS:
            message = f"{where}: protocol {listen.protocol} is not supported by the proxy"
            return _Failure(listen.service, _UNSUPPORTED_PROTOCOL, message)
        relay = self._relay_for(listen)
        try:
            await relay.open()
        except OSError as exc:
            message = f"listen {where}: {exc.strerror or exc}"
            logger.debug("service proxy: %s for Service %s", message, listen.service)
            return _Failure(listen.service, _FAILED_TO_BIND, message)
        self._open[listen.address] = (listen, relay)
        logger.debug("service proxy: listening on %s for %s", where, listen.service)
        return None

    def _relay_for(self, listen: Listen) -> _Relay:
        balancers = self._balancers.setdefault(listen.service, {})
        balancer = balancers.get(listen.target)
        if balancer is None:
            balancer = Balancer(self.catalog, listen.service, listen.target, clock=self._clock)
            balancers[listen.target] = balancer
        if listen.protocol == "UDP":
            return UdpRelay(
                listen.ip,
                listen.port,
                balancer,
                idle_timeout=self._udp_idle_timeout,
                clock=self._clock,
            )
        return TcpRelay(
            listen.ip,
            listen.port,
            balancer,
            connect_timeout=self._connect_timeout,
            attempts=self._connect_attempts,
        )

    def _refuse(self, refused: list[Listen]) -> list[_Failure]:
        fresh: list[_Failure] = []
        for listen in refused:
            holder = self._open.get(listen.address)
            owner = holder[0].service if holder is not None else "another Service"
            where = f"{listen.ip}:{listen.port}/{listen.protocol}"
            message = f"listen {where}: already used by Service {owner}"
            failure = _Failure(listen.service, _FAILED_TO_BIND, message)
            if self._record(listen, failure):
                fresh.append(failure)
        return fresh

    def _forget_failures(self, wanted: Mapping[Address, Listen], refused: list[Listen]) -> None:
        still = {(listen.address, listen.service) for listen in (*wanted.values(), *refused)}
        for gone in [k for k in self._failures if k not in still]:
            del self._failures[gone]

    def _tidy(self) -> None:
        """Forget finished draining relays, unused balancers and expired affinities."""
        self._draining = {r for r in self._draining if r.active}
        used: dict[str, set[int | str]] = {}
        for listen, _ in self._open.values():
            used.setdefault(listen.service, set()).add(listen.target)
        for key in list(self._balancers):
            balancers = self._balancers[key]
            for target in [t for t in balancers if t not in used.get(key, ())]:
                del balancers[target]
            if not balancers:
                del self._balancers[key]
        for balancers in self._balancers.values():
            for balancer in balancers.values():
                balancer.forget_expired()

    async def _warn(self, failure: _Failure) -> None:
        """Tell of a new failure once: in the log, and as an Event on the Service."""
        logger.warning("service proxy: %s (Service %s)", failure.message, failure.service)
        service = self.catalog.service(failure.service)
        if self._events is not None and service is not None:
            await self._events.warning(service, failure.reason, message=failure.message)

    # -- LoadBalancer statuses -----------------------------------------------------------

    def _serving(self, key: str, service: Mapping[str, Any]) -> bool:
        """Whether every load-balancer socket of ``key`` is open (for this Service)."""
        for listen in wanted_listeners(key, service, node_address=self.node_address):
            if listen.exposure == "LoadBalancer":
                held = self._open.get(listen.address)
                if held is None or held[0] != listen:
                    return False
        return True

    async def _write_statuses(self, client: KubeClient) -> None:
        for key, service in list(self.catalog.all_services()):
            serving = self._serving(key, service)
            ingress = wanted_ingress(service, node_address=self.node_address, serving=serving)
            if ingress is None:
                continue
            wanted = [(entry["ip"], "") for entry in ingress]
            if _ingress_addresses(service) == wanted:
                continue
            namespace, name = split_key(key)
            body = {"status": {"loadBalancer": {"ingress": ingress or None}}}
            try:
                await client.patch(SERVICES, name, body, namespace=namespace, subresource="status")
            except ApiError as exc:
                logger.warning("service proxy: could not write the status of %s: %s", key, exc)
                self._unfinished = True
