"""The Service proxy against a real API server, with backends served by the test itself.

The session cluster runs no pods, so each test creates selector-less Services and writes
their EndpointSlices by hand, pointing at small TCP/UDP servers on 127.0.0.1. The proxy
runs in the test's own loop over its own informers. The byte paths run on both asyncio's
loop and uvloop (the production loop); pure decisions (what to listen on, which endpoint)
are tested without a cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import pytest
import uvloop
from tests.conftest import ClusterProcess

from atoll.embedded.network.catalog import ENDPOINT_SLICES, SERVICES, Endpoint, ServiceCatalog
from atoll.embedded.network.relaying import Backend, TcpRelay
from atoll.embedded.network.serviceproxy import (
    Balancer,
    ServiceProxy,
    wanted_ingress,
    wanted_listeners,
)
from atoll.embedded.network.udp_relaying import UdpRelay
from atoll.errors import NotFound
from atoll.kube.client import KubeClient, Object
from atoll.kube.events import EVENTS, EventRecorder
from atoll.kube.informers import InformerFactory
from atoll.kube.kubeconfig import ClusterConfig

T = TypeVar("T")
LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
HTTP = [{"name": "http", "port": 80, "protocol": "TCP"}]


# -- polling, loops, ports -----------------------------------------------------------------


async def until(probe: Callable[[], T | None], *, timeout: float = 15.0, what: str = "") -> T:
    """Poll ``probe`` until it returns something truthy; fail at the deadline."""

    async def wrapped() -> T | None:
        return probe()

    return await until_async(wrapped, timeout=timeout, what=what)


async def until_async(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 15.0, what: str = ""
) -> T:
    give_up = time.monotonic() + timeout
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > give_up:
            raise AssertionError(f"not reached within {timeout} s: {what} (last: {found!r})")
        await asyncio.sleep(0.02)  # a poll interval, not a synchronisation point


def run_on(loop: str, scenario: Coroutine[Any, Any, None]) -> None:
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        runner.run(scenario)


def free_port(kind: int = socket.SOCK_STREAM, low: int = 1024, high: int = 65535) -> int:
    """A port nobody on 127.0.0.1 uses right now (in [low, high])."""
    chooser = random.SystemRandom()
    while True:
        port = chooser.randint(low, high)
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


# -- backends ------------------------------------------------------------------------------


class _Echo(asyncio.Protocol):
    """Says its backend's name, then echoes everything, passing EOF on."""

    def __init__(self, backend: TcpBackend) -> None:
        self.backend = backend
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have asyncio's methods without subclassing its classes
        self.transport = transport = cast(asyncio.Transport, transport)
        self.backend.transports.add(transport)
        self.backend.accepted += 1
        transport.write(self.backend.name.encode() + b"\n")

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def eof_received(self) -> bool:
        assert self.transport is not None
        self.transport.write_eof()
        return True

    def pause_writing(self) -> None:
        assert self.transport is not None
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        assert self.transport is not None
        self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        assert self.transport is not None
        self.backend.transports.discard(self.transport)
        if not self.backend.transports:
            self.backend.idle.set()


@dataclass
class TcpBackend:
    name: str
    port: int = 0
    accepted: int = 0
    server: asyncio.Server | None = None
    transports: set[asyncio.Transport] = field(default_factory=set)
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> TcpBackend:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _Echo(self), "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        self.idle.clear()
        for transport in list(self.transports):
            transport.abort()
        if self.transports:
            await asyncio.wait_for(self.idle.wait(), 5)


class _UdpEcho(asyncio.DatagramProtocol):
    def __init__(self, name: str) -> None:
        self.name = name.encode()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(self.name + b":" + data, addr)


@contextlib.asynccontextmanager
async def udp_backend(name: str) -> AsyncIterator[int]:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _UdpEcho(name), local_addr=("127.0.0.1", 0)
    )
    try:
        yield transport.get_extra_info("sockname")[1]
    finally:
        transport.close()


@contextlib.asynccontextmanager
async def tcp_backends(*names: str) -> AsyncIterator[list[TcpBackend]]:
    started = [await TcpBackend(name).start() for name in names]
    try:
        yield started
    finally:
        for backend in started:
            await backend.close()


class _UdpClient(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answers: asyncio.Queue[tuple[bytes, Any]] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.answers.put_nowait((data, addr))


async def ask_udp(ip: str, port: int, question: bytes) -> tuple[bytes, Any]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        _UdpClient, local_addr=("127.0.0.1", 0)
    )
    try:
        for _ in range(20):  # UDP: a lost datagram is asked again
            transport.sendto(question, (ip, port))
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(protocol.answers.get(), 0.5)
        raise AssertionError(f"no UDP answer from {ip}:{port}")
    finally:
        transport.close()


# -- clients -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def connected(ip: str, port: int) -> AsyncIterator[tuple[asyncio.StreamReader, Any]]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(ip, port), 5)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def greeting(ip: str, port: int) -> str:
    """The name the backend reached through ``ip:port`` says first."""
    async with connected(ip, port) as (reader, _):
        line = await asyncio.wait_for(reader.readline(), 5)
    return line.decode().strip()


# -- the cluster side ----------------------------------------------------------------------


@dataclass
class Proxied:
    client: KubeClient
    catalog: ServiceCatalog
    proxy: ServiceProxy
    namespace: str
    created: set[str] = field(default_factory=set)

    async def service(
        self, name: str, ports: list[dict[str, Any]] | None = None, **spec: Any
    ) -> Object:
        body = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": {"ports": ports or HTTP, **spec},
        }
        self.created.add(name)
        return await self.client.create(SERVICES, body)

    async def endpoints(
        self,
        service: str,
        port: int,
        *,
        ready: bool = True,
        name: str = "http",
        protocol: str = "TCP",
    ) -> Object:
        """One EndpointSlice: 127.0.0.1:``port`` serves ``service``'s port ``name``."""
        body = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{service}-{uuid.uuid4().hex[:6]}",
                "namespace": self.namespace,
                "labels": {"kubernetes.io/service-name": service},
            },
            "addressType": "IPv4",
            "ports": [{"name": name, "port": port, "protocol": protocol}],
            "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": ready}}],
        }
        return await self.client.create(ENDPOINT_SLICES, body)

    def key(self, name: str) -> str:
        return f"{self.namespace}/{name}"

    async def ready(self, name: str, port: int | str, count: int) -> None:
        await until(
            lambda: len(self.catalog.ready_endpoints(self.key(name), port)) == count,
            what=f"{count} ready endpoints of {name}",
        )

    async def listening(self, ip: str, port: int, protocol: str = "TCP") -> None:
        await until(lambda: (ip, port, protocol) in self.proxy.listeners, what=f"{ip}:{port}")

    async def events(self, name: str, reason: str) -> list[Object]:
        found = await self.client.list(EVENTS, namespace=self.namespace)
        return [
            e
            for e in found["items"]
            if e["reason"] == reason and e["involvedObject"].get("name") == name
        ]

    async def delete(self, name: str) -> None:
        with contextlib.suppress(NotFound):
            await self.client.delete(SERVICES, name, namespace=self.namespace)


@contextlib.asynccontextmanager
async def running_proxy(
    cluster: ClusterProcess, namespace: str, **options: Any
) -> AsyncIterator[Proxied]:
    async with KubeClient(ClusterConfig.from_kubeconfig(cluster.kubeconfig)) as client:
        informers = InformerFactory(client)
        catalog = ServiceCatalog(informers)
        events = EventRecorder(client, "service-proxy")
        proxy = ServiceProxy(catalog, client=client, events=events, **options)
        async with asyncio.TaskGroup() as group:
            informers.start(group)
            running = group.create_task(proxy.run())
            env = Proxied(client, catalog, proxy, namespace)
            try:
                await asyncio.wait_for(catalog.wait_synced(), 15)
                yield env
            finally:
                for name in env.created:  # later tests' proxies need not serve them
                    await env.delete(name)
                informers.stop()
                running.cancel()
        assert not proxy.listeners
        assert proxy.active_connections == 0


def cluster_ip(service: Object) -> str:
    return str(service["spec"]["clusterIP"])


# -- what to listen on (no cluster) --------------------------------------------------------


def _service(kind: str = "ClusterIP", **spec: Any) -> dict[str, Any]:
    ports = spec.pop("ports", [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}])
    return {"spec": {"type": kind, "clusterIP": "127.96.0.9", "ports": ports, **spec}}


def test_clusterip_services_listen_on_their_cluster_ip_only() -> None:
    found = wanted_listeners("ns/a", _service(ports=HTTP), node_address="127.0.0.1")
    assert [(f.address, f.target, f.exposure) for f in found] == [
        (("127.96.0.9", 80, "TCP"), "http", "ClusterIP")
    ]


def test_nodeport_and_loadbalancer_services_also_listen_on_the_node() -> None:
    node_port = wanted_listeners("ns/a", _service("NodePort"), node_address="127.0.0.2")
    assert {f.address for f in node_port} == {
        ("127.96.0.9", 80, "TCP"),
        ("127.0.0.2", 30080, "TCP"),
    }
    balanced = wanted_listeners("ns/a", _service("LoadBalancer"), node_address="127.0.0.2")
    assert {(f.address, f.exposure) for f in balanced} == {
        (("127.96.0.9", 80, "TCP"), "ClusterIP"),
        (("127.0.0.2", 30080, "TCP"), "NodePort"),
        (("127.0.0.2", 80, "TCP"), "LoadBalancer"),
    }
    classed = _service("LoadBalancer", loadBalancerClass="example.com/lb")
    assert {f.exposure for f in wanted_listeners("ns/a", classed, node_address="x")} == {
        "ClusterIP",
        "NodePort",
    }


def test_headless_external_name_and_unallocated_services_have_nothing_to_proxy() -> None:
    assert wanted_listeners("ns/a", _service(clusterIP="None"), node_address="127.0.0.1") == []
    external = _service("ExternalName", externalName="example.com")
    assert wanted_listeners("ns/a", external, node_address="127.0.0.1") == []
    assert wanted_listeners("ns/a", _service(clusterIP=""), node_address="127.0.0.1") == []


def test_services_of_another_proxy_are_left_alone() -> None:
    labels = {"service.kubernetes.io/service-proxy-name": "other"}
    theirs = {**_service("LoadBalancer"), "metadata": {"labels": labels}}
    assert wanted_listeners("ns/a", theirs, node_address="127.0.0.1") == []
    assert wanted_ingress(theirs, node_address="127.0.0.1", serving=True) is None


def test_unnamed_ports_are_targeted_by_number_and_protocols_kept() -> None:
    ports = [{"port": 53, "protocol": "UDP"}]
    (found,) = wanted_listeners("ns/a", _service(ports=ports), node_address="127.0.0.1")
    assert (found.address, found.target) == (("127.96.0.9", 53, "UDP"), 53)


def test_load_balancer_ingress_is_the_node_address_while_served() -> None:
    balanced = _service("LoadBalancer")
    assert wanted_ingress(balanced, node_address="127.0.0.1", serving=True) == [{"ip": "127.0.0.1"}]
    assert wanted_ingress(balanced, node_address="127.0.0.1", serving=False) == []
    classed = _service("LoadBalancer", loadBalancerClass="example.com/lb")
    assert wanted_ingress(classed, node_address="127.0.0.1", serving=True) is None
    was_ours = {**_service(), "status": {"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}}
    assert wanted_ingress(was_ours, node_address="127.0.0.1", serving=True) == []
    assert wanted_ingress(_service(), node_address="127.0.0.1", serving=True) is None


# -- which endpoint (no cluster) -----------------------------------------------------------


@dataclass
class FakeCatalog:
    spec: dict[str, Any] = field(default_factory=dict)
    endpoints: list[Endpoint] = field(default_factory=list)

    def service(self, key: str) -> Object | None:
        return {"spec": self.spec}

    def ready_endpoints(self, key: str, port: int | str | None = None) -> list[Endpoint]:
        return [e for e in self.endpoints if e.ready]


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def _endpoints(*ports: int, ready: bool = True) -> list[Endpoint]:
    return [Endpoint("127.0.0.1", port, ready) for port in ports]


def test_the_balancer_goes_round_robin_and_lists_the_others_to_fail_over_to() -> None:
    balancer = Balancer(FakeCatalog(endpoints=_endpoints(1, 2, 3)), "ns/a", "http")
    firsts = [balancer.choose("10.0.0.1")[0][1] for _ in range(6)]
    assert firsts == [1, 2, 3, 1, 2, 3]
    assert [port for _, port in balancer.choose("10.0.0.1")] == [1, 2, 3]


def test_the_balancer_skips_unready_endpoints_and_rereads_after_a_change() -> None:
    catalog = FakeCatalog(endpoints=[*_endpoints(1), *_endpoints(2, ready=False)])
    balancer = Balancer(catalog, "ns/a", "http")
    assert balancer.choose("10.0.0.1") == [("127.0.0.1", 1)]
    catalog.endpoints = []
    assert balancer.choose("10.0.0.1") == [("127.0.0.1", 1)]  # cached until told
    balancer.invalidate()
    assert balancer.choose("10.0.0.1") == []


def test_client_ip_affinity_keeps_an_endpoint_while_ready_and_recently_used() -> None:
    clock = FakeClock()
    spec = {
        "sessionAffinity": "ClientIP",
        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
    }
    catalog = FakeCatalog(spec=spec, endpoints=_endpoints(1, 2, 3))
    balancer = Balancer(catalog, "ns/a", "http", clock=clock)
    chosen = balancer.choose("10.0.0.1")[0]
    balancer.connected("10.0.0.1", chosen)
    for _ in range(5):
        clock.now += 59  # used within the timeout, every time
        assert balancer.choose("10.0.0.1")[0] == chosen
        balancer.connected("10.0.0.1", chosen)
    other = balancer.choose("10.0.0.2")[0]
    assert other != chosen  # other clients still go round robin
    clock.now += 60
    balancer.forget_expired()
    assert balancer.choose("10.0.0.1")[0] != chosen  # expired: round robin again

    balancer.connected("10.0.0.1", chosen)
    catalog.endpoints = [e for e in catalog.endpoints if (e.ip, e.port) != chosen]
    balancer.invalidate()
    assert chosen not in balancer.choose("10.0.0.1")  # no longer ready: moved on


def test_a_failed_connection_forgets_the_affinity() -> None:
    catalog = FakeCatalog(spec={"sessionAffinity": "ClientIP"}, endpoints=_endpoints(1, 2))
    balancer = Balancer(catalog, "ns/a", "http")
    balancer.connected("10.0.0.1", ("127.0.0.1", 2))
    assert balancer.choose("10.0.0.1")[0] == ("127.0.0.1", 2)
    balancer.failed("10.0.0.1", ("127.0.0.1", 2))
    assert [balancer.choose("10.0.0.1")[0] for _ in range(2)] == [
        ("127.0.0.1", 1),
        ("127.0.0.1", 2),
    ]


# -- relays on their own (no cluster) ------------------------------------------------------


@dataclass
class FixedBackends:
    backends: list[Backend]
    failures: list[Backend] = field(default_factory=list)

    def choose(self, client_ip: str) -> list[Backend]:
        return list(self.backends)

    def connected(self, client_ip: str, backend: Backend) -> None:
        pass

    def failed(self, client_ip: str, backend: Backend) -> None:
        self.failures.append(backend)


async def test_idle_udp_sessions_expire() -> None:
    clock = FakeClock()
    async with udp_backend("one") as port:
        relay = UdpRelay(
            "127.0.0.1", 0, FixedBackends([("127.0.0.1", port)]), idle_timeout=60, clock=clock
        )
        relay.port = free_port(socket.SOCK_DGRAM)
        await relay.open()
        try:
            assert await ask_udp("127.0.0.1", relay.port, b"hi") == (
                b"one:hi",
                ("127.0.0.1", relay.port),
            )
            assert relay.active == 1
            clock.now += 59
            assert relay.expire_idle() == 0
            clock.now += 1
            assert relay.expire_idle() == 1
            assert relay.active == 0
        finally:
            relay.close()
            await asyncio.wait_for(relay.wait_closed(), 5)


@contextlib.contextmanager
def unanswered_address() -> Iterator[Backend]:
    """An address whose connects hang: a listener with a full backlog drops new SYNs."""
    with contextlib.ExitStack() as stack:
        silent = stack.enter_context(socket.socket())
        silent.bind(("127.0.0.1", 0))
        silent.listen(0)
        for _ in range(3):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(silent.getsockname())
        yield silent.getsockname()


async def test_a_relay_that_closes_resets_the_connections_still_connecting() -> None:
    with unanswered_address() as hanging:
        backends = FixedBackends([hanging])
        relay = TcpRelay("127.0.0.1", free_port(), backends, connect_timeout=30)
        await relay.open()
        async with connected("127.0.0.1", relay.port) as (reader, _):
            await until(lambda: relay.active == 1, what="an accepted connection")
            relay.close()
            with pytest.raises(ConnectionResetError):
                await asyncio.wait_for(reader.read(), 5)
        await asyncio.wait_for(relay.wait_closed(), 5)
        assert backends.failures == []


async def test_a_connect_that_times_out_moves_on_to_the_next_endpoint() -> None:
    with unanswered_address() as hanging:
        async with tcp_backends("alive") as (alive,):
            backends = FixedBackends([hanging, ("127.0.0.1", alive.port)])
            relay = TcpRelay("127.0.0.1", free_port(), backends, connect_timeout=0.2)
            await relay.open()
            try:
                assert await greeting("127.0.0.1", relay.port) == "alive"
                assert backends.failures == [hanging]
            finally:
                relay.close()
                await asyncio.wait_for(relay.wait_closed(), 5)


# -- through the cluster -------------------------------------------------------------------


async def _reachable_scenario(cluster: ClusterProcess, namespace: str) -> None:
    async with running_proxy(cluster, namespace) as env, tcp_backends("one") as (one,):
        service = await env.service("web")
        await env.endpoints("web", one.port)
        await env.ready("web", "http", 1)
        await env.listening(cluster_ip(service), 80)
        async with connected(cluster_ip(service), 80) as (reader, writer):
            writer.write(b"GET / HTTP/1.1\r\n\r\n")  # before the proxy reached the backend
            assert await reader.readline() == b"one\n"
            assert await reader.readexactly(18) == b"GET / HTTP/1.1\r\n\r\n"
            assert env.proxy.active_connections == 1


@pytest.mark.parametrize("loop", LOOPS)
def test_a_cluster_ip_reaches_the_endpoint(
    cluster: ClusterProcess, namespace: str, loop: str
) -> None:
    run_on(loop, _reachable_scenario(cluster, namespace))


async def test_connections_go_round_robin_over_ready_endpoints_only(
    cluster: ClusterProcess, namespace: str
) -> None:
    async with running_proxy(cluster, namespace) as env, tcp_backends("a", "b", "c") as found:
        service = await env.service("rr")
        await env.endpoints("rr", found[0].port)
        await env.endpoints("rr", found[1].port)
        await env.endpoints("rr", found[2].port, ready=False)
        await env.ready("rr", "http", 2)
        await env.listening(cluster_ip(service), 80)
        names = [await greeting(cluster_ip(service), 80) for _ in range(6)]
        assert sorted(names) == ["a", "a", "a", "b", "b", "b"]
        assert names[0] != names[1]
        assert found[2].accepted == 0


async def _no_endpoint_scenario(cluster: ClusterProcess, namespace: str) -> None:
    async with running_proxy(cluster, namespace) as env:
        service = await env.service("empty")
        await env.listening(cluster_ip(service), 80)
        started = time.monotonic()
        async with connected(cluster_ip(service), 80) as (reader, _):
            with pytest.raises(ConnectionResetError):
                await asyncio.wait_for(reader.read(), 5)
        assert time.monotonic() - started < 2


@pytest.mark.parametrize("loop", LOOPS)
def test_without_a_ready_endpoint_the_client_is_reset_at_once(
    cluster: ClusterProcess, namespace: str, loop: str
) -> None:
    run_on(loop, _no_endpoint_scenario(cluster, namespace))


async def test_client_ip_affinity_keeps_the_client_on_one_endpoint(
    cluster: ClusterProcess, namespace: str
) -> None:
    async with running_proxy(cluster, namespace) as env, tcp_backends("a", "b") as found:
        service = await env.service("sticky", sessionAffinity="ClientIP")
        for backend in found:
            await env.endpoints("sticky", backend.port)
        await env.ready("sticky", "http", 2)
        await env.listening(cluster_ip(service), 80)
        names = {await greeting(cluster_ip(service), 80) for _ in range(6)}
        assert len(names) == 1


async def test_a_failing_endpoint_is_retried_on_another(
    cluster: ClusterProcess, namespace: str
) -> None:
    async with running_proxy(cluster, namespace) as env, tcp_backends("alive") as (alive,):
        service = await env.service("flaky")
        await env.endpoints("flaky", free_port())  # nobody listens there: refused
        await env.endpoints("flaky", alive.port)
        await env.ready("flaky", "http", 2)
        await env.listening(cluster_ip(service), 80)
        names = [await greeting(cluster_ip(service), 80) for _ in range(4)]
        assert names == ["alive"] * 4


async def test_a_node_port_is_served_on_the_node_address(
    cluster: ClusterProcess, namespace: str
) -> None:
    node_port = free_port(low=30000, high=32767)
    ports = [{**HTTP[0], "nodePort": node_port}]
    async with running_proxy(cluster, namespace) as env, tcp_backends("one") as (one,):
        service = await env.service("np", ports, type="NodePort")
        await env.endpoints("np", one.port)
        await env.ready("np", "http", 1)
        await env.listening("127.0.0.1", node_port)
        assert (cluster_ip(service), 80, "TCP") in env.proxy.listeners
        assert await greeting("127.0.0.1", node_port) == "one"


async def test_a_load_balancer_gets_the_node_address_as_ingress(
    cluster: ClusterProcess, namespace: str
) -> None:
    port, node_port = free_port(), free_port(low=30000, high=32767)
    ports = [{"name": "http", "port": port, "protocol": "TCP", "nodePort": node_port}]
    async with running_proxy(cluster, namespace) as env, tcp_backends("one") as (one,):
        await env.service("lb", ports, type="LoadBalancer")
        await env.endpoints("lb", one.port)
        await env.ready("lb", "http", 1)

        async def ingress() -> Any:
            found = await env.client.get(SERVICES, "lb", namespace=namespace)
            return (found.get("status") or {}).get("loadBalancer", {}).get("ingress")

        assert await until_async(ingress, what="an ingress") == [{"ip": "127.0.0.1"}]
        assert await greeting("127.0.0.1", port) == "one"
        assert await greeting("127.0.0.1", node_port) == "one"

        patch = {"spec": {"type": "ClusterIP", "ports": [{**ports[0], "nodePort": None}]}}
        await env.client.patch(SERVICES, "lb", patch, namespace=namespace)
        await until(lambda: ("127.0.0.1", port, "TCP") not in env.proxy.listeners)
        assert await until_async(lambda: _no(ingress), what="the ingress cleared") is True


async def _no(probe: Callable[[], Awaitable[Any]]) -> bool:
    return not await probe()


async def test_a_deleted_service_closes_its_listener_and_connections(
    cluster: ClusterProcess, namespace: str
) -> None:
    async with running_proxy(cluster, namespace) as env, tcp_backends("one") as (one,):
        service = await env.service("gone")
        await env.endpoints("gone", one.port)
        await env.ready("gone", "http", 1)
        address = (cluster_ip(service), 80, "TCP")
        await env.listening(*address)
        async with connected(cluster_ip(service), 80) as (reader, _):
            assert await reader.readline() == b"one\n"
            await env.delete("gone")
            await until(lambda: address not in env.proxy.listeners, what="listener closed")
            with contextlib.suppress(ConnectionResetError):
                assert await asyncio.wait_for(reader.read(), 5) == b""
        with pytest.raises(OSError):
            await asyncio.wait_for(asyncio.open_connection(cluster_ip(service), 80), 5)


async def test_a_changed_port_gets_a_new_listener_and_old_connections_finish(
    cluster: ClusterProcess, namespace: str
) -> None:
    async with running_proxy(cluster, namespace) as env, tcp_backends("one") as (one,):
        service = await env.service("moving")
        await env.endpoints("moving", one.port)
        await env.ready("moving", "http", 1)
        ip = cluster_ip(service)
        await env.listening(ip, 80)
        async with connected(ip, 80) as (reader, writer):
            assert await reader.readline() == b"one\n"
            patch = {"spec": {"ports": [{**HTTP[0], "port": 8080}]}}
            await env.client.patch(SERVICES, "moving", patch, namespace=namespace)
            await env.listening(ip, 8080)
            assert (ip, 80, "TCP") not in env.proxy.listeners
            writer.write(b"still here")  # the draining connection goes on
            assert await reader.readexactly(10) == b"still here"
            assert env.proxy.active_connections == 1
        assert await greeting(ip, 8080) == "one"


async def _udp_scenario(cluster: ClusterProcess, namespace: str) -> None:
    dns = [{"name": "dns", "port": 53, "protocol": "UDP"}]
    async with running_proxy(cluster, namespace) as env, udp_backend("ns1") as port:
        service = await env.service("dns", dns)
        await env.endpoints("dns", port, name="dns", protocol="UDP")
        await env.ready("dns", "dns", 1)
        ip = cluster_ip(service)
        await env.listening(ip, 53, "UDP")
        answer, source = await ask_udp(ip, 53, b"example.com?")
        assert answer == b"ns1:example.com?"
        assert source == (ip, 53)  # what a resolver checks
        assert env.proxy.udp_sessions == 1


@pytest.mark.parametrize("loop", LOOPS)
def test_udp_datagrams_are_relayed_and_answered_from_the_service_address(
    cluster: ClusterProcess, namespace: str, loop: str
) -> None:
    run_on(loop, _udp_scenario(cluster, namespace))


async def _large_transfer_scenario(cluster: ClusterProcess, namespace: str) -> None:
    payload = os.urandom(8 * 1024 * 1024)
    async with running_proxy(cluster, namespace) as env, tcp_backends("big") as (big,):
        service = await env.service("big")
        await env.endpoints("big", big.port)
        await env.ready("big", "http", 1)
        await env.listening(cluster_ip(service), 80)
        async with connected(cluster_ip(service), 80) as (reader, writer):

            async def send() -> None:
                for start in range(0, len(payload), 256 * 1024):
                    writer.write(payload[start : start + 256 * 1024])
                    await writer.drain()
                writer.write_eof()  # half-close: the answer must still arrive in full

            sending = asyncio.create_task(send())
            received = await asyncio.wait_for(reader.read(-1), 60)
            await sending
        assert received[:4] == b"big\n"
        assert len(received) - 4 == len(payload)
        assert hashlib.sha256(received[4:]).digest() == hashlib.sha256(payload).digest()
        await until(lambda: env.proxy.active_connections == 0, what="the connection closed")


@pytest.mark.parametrize("loop", LOOPS)
def test_megabytes_both_ways_arrive_intact_with_half_close(
    cluster: ClusterProcess, namespace: str, loop: str
) -> None:
    run_on(loop, _large_transfer_scenario(cluster, namespace))


@pytest.mark.parametrize("retried", ["on the next change", "after the retry interval"])
async def test_a_port_that_cannot_be_bound_is_reported_once_and_retried(
    cluster: ClusterProcess, namespace: str, retried: str
) -> None:
    interval = 0.1 if retried == "after the retry interval" else 3600
    async with (
        running_proxy(cluster, namespace, retry_interval=interval) as env,
        tcp_backends("one") as (one,),
    ):
        service = await env.service("busy")
        ip = cluster_ip(service)
        await env.endpoints("busy", one.port, name="alt")
        await env.listening(ip, 80)
        blocker = socket.socket()
        try:
            blocker.bind((ip, 81))
            blocker.listen()
            ports = [*HTTP, {"name": "alt", "port": 81, "protocol": "TCP"}]
            patch = {"spec": {"ports": ports}}
            await env.client.patch(SERVICES, "busy", patch, namespace=namespace)
            await until(lambda: (ip, 81, "TCP") in env.proxy.failures, what="a bind failure")
            (event,) = await until_async(lambda: env.events("busy", "FailedToBindPort"))
            assert event["type"] == "Warning"
            assert f"{ip}:81/TCP" in event["message"]
        finally:
            blocker.close()
        if retried == "on the next change":
            labels = {"metadata": {"labels": {"touched": "yes"}}}
            await env.client.patch(SERVICES, "busy", labels, namespace=namespace)
        await env.listening(ip, 81)
        assert (ip, 81, "TCP") not in env.proxy.failures
        assert await greeting(ip, 81) == "one"
        (event,) = await env.events("busy", "FailedToBindPort")
        assert event["count"] == 1  # told once, however often retried


async def test_sctp_ports_are_skipped_with_a_warning(
    cluster: ClusterProcess, namespace: str
) -> None:
    ports = [*HTTP, {"name": "sig", "port": 9, "protocol": "SCTP"}]
    async with running_proxy(cluster, namespace) as env:
        service = await env.service("sctp", ports)
        await env.listening(cluster_ip(service), 80)
        (event,) = await until_async(lambda: env.events("sctp", "UnsupportedProtocol"))
        assert "SCTP" in event["message"]
        assert (cluster_ip(service), 9, "SCTP") not in env.proxy.listeners


async def test_stopping_the_proxy_closes_listeners_and_connections(
    cluster: ClusterProcess, namespace: str
) -> None:
    async with tcp_backends("one") as (one,):
        async with running_proxy(cluster, namespace) as env:
            service = await env.service("stop")
            await env.endpoints("stop", one.port)
            await env.ready("stop", "http", 1)
            await env.listening(cluster_ip(service), 80)
            reader, writer = await asyncio.open_connection(cluster_ip(service), 80)
            assert await reader.readline() == b"one\n"
        # running_proxy checked that no listener and no connection is left
        with contextlib.suppress(ConnectionResetError):
            assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_reconcile_is_one_idempotent_step(cluster: ClusterProcess, namespace: str) -> None:
    async with KubeClient(ClusterConfig.from_kubeconfig(cluster.kubeconfig)) as client:
        informers = InformerFactory(client)
        catalog = ServiceCatalog(informers)
        proxy = ServiceProxy(catalog)  # not run: the test drives the steps
        async with asyncio.TaskGroup() as group:
            informers.start(group)
            try:
                await asyncio.wait_for(catalog.wait_synced(), 15)
                env = Proxied(client, catalog, proxy, namespace)
                service = await env.service("steps")
                await until(lambda: catalog.service(env.key("steps")), what="the cached Service")
                address = (cluster_ip(service), 80, "TCP")
                assert address not in proxy.listeners
                await proxy.reconcile()
                opened = proxy.listeners
                assert address in opened
                await proxy.reconcile()  # nothing to do: nothing re-bound, nothing failed
                assert proxy.listeners == opened
                assert address not in proxy.failures
            finally:
                await proxy.close()
                await Proxied(client, catalog, proxy, namespace).delete("steps")
                informers.stop()
        assert not proxy.listeners
