"""Cluster DNS against a real embedded cluster: Services and hand-written EndpointSlices in,
the Kubernetes DNS schema out — through ``answer`` directly, and over UDP and TCP with
dnspython's own client.

The session cluster runs no kubelet, so headless Services get EndpointSlices written here
(labelled with their Service, as the EndpointSlice controller leaves selector-less Services
alone). One namespace per test module holds the fixed Services; a test that changes things
makes its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import dns.asyncquery
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from tests.conftest import ClusterProcess

from atoll.embedded.network.catalog import ENDPOINT_SLICES, SERVICES, ServiceCatalog
from atoll.embedded.network.dns import ClusterDns
from atoll.kube.client import KubeClient
from atoll.kube.informers import InformerFactory
from atoll.kube.kubeconfig import ClusterConfig

POD_NETWORK = "10.244.0.0/16"
MANY = 100  # endpoints of the Service whose A records outgrow any UDP reply


def _slice(name: str, service: str, endpoints: list[dict[str, Any]], ports: str) -> str:
    lines = [
        "apiVersion: discovery.k8s.io/v1",
        "kind: EndpointSlice",
        f"metadata: {{name: {name}, labels: {{kubernetes.io/service-name: {service}}}}}",
        "addressType: IPv4",
        f"ports: {ports}",
        "endpoints:",
    ]
    for endpoint in endpoints:
        lines.append(f"- addresses: [{endpoint['ip']}]")
        lines.append(f"  conditions: {{ready: {str(endpoint.get('ready', True)).lower()}}}")
        if endpoint.get("hostname"):
            lines.append(f"  hostname: {endpoint['hostname']}")
    return "\n".join(lines)


def _manifests(namespace: str) -> str:
    many = [{"ip": f"10.244.1.{i}"} for i in range(1, MANY + 1)]
    return "\n---\n".join(
        [
            """apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports:
  - {name: http, port: 80, protocol: TCP}
  - {name: dns, port: 53, protocol: UDP}
  - {port: 9090, protocol: TCP, name: metrics}""",
            """apiVersion: v1
kind: Service
metadata: {name: db}
spec: {clusterIP: None, ports: [{name: pg, port: 5432}]}""",
            _slice(
                "db-1",
                "db",
                [
                    {"ip": "10.244.0.5", "hostname": "db-0"},
                    {"ip": "10.244.0.6", "hostname": "db-1", "ready": False},
                    {"ip": "10.244.0.7"},
                ],
                "[{name: pg, port: 5432, protocol: TCP}]",
            ),
            """apiVersion: v1
kind: Service
metadata: {name: everyone}
spec: {clusterIP: None, publishNotReadyAddresses: true}""",
            _slice(
                "everyone-1",
                "everyone",
                [{"ip": "10.244.0.8"}, {"ip": "10.244.0.9", "ready": False}],
                "[]",
            ),
            """apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {type: ExternalName, externalName: example.com}""",
            f"""apiVersion: v1
kind: Service
metadata: {{name: alias}}
spec: {{type: ExternalName, externalName: web.{namespace}.svc.cluster.local}}""",
            """apiVersion: v1
kind: Service
metadata: {name: many}
spec: {clusterIP: None, ports: [{name: http, port: 8080}]}""",
            _slice("many-1", "many", many, "[{name: http, port: 8080, protocol: TCP}]"),
        ]
    )


@dataclass(frozen=True)
class Fixed:
    """The module's namespace, holding the Services above."""

    namespace: str
    web_ip: str

    def name(self, relative: str) -> str:
        return f"{relative}.{self.namespace}.svc.cluster.local."


@pytest.fixture(scope="module")
def fixed(cluster: ClusterProcess) -> Iterator[Fixed]:
    namespace = f"dns-{uuid.uuid4().hex[:10]}"
    cluster.kubectl("create", "namespace", namespace)
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=_manifests(namespace))
    web_ip = cluster.kubectl(
        "get", "service", "web", "-n", namespace, "-o", "jsonpath={.spec.clusterIP}"
    )
    yield Fixed(namespace, web_ip)
    cluster.kubectl("delete", "namespace", namespace, "--wait=false")


@dataclass(frozen=True)
class Running:
    dns: ClusterDns
    client: KubeClient


def open_sockets() -> int:
    """How many sockets this process holds (Linux)."""
    count = 0
    for fd in os.scandir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed since the listing
            count += os.readlink(fd.path).startswith("socket:")
    return count


@asynccontextmanager
async def running(cluster: ClusterProcess, **options: Any) -> AsyncIterator[Running]:
    """A ``ClusterDns`` over a catalog whose informers have listed the cluster."""
    before = open_sockets()
    async with KubeClient(ClusterConfig.from_kubeconfig(cluster.kubeconfig)) as client:
        informers = InformerFactory(client)
        catalog = ServiceCatalog(informers)
        server = ClusterDns(catalog, reverse_networks=[POD_NETWORK], **options)
        runner = asyncio.create_task(informers.run())
        try:
            async with asyncio.timeout(30):
                await catalog.wait_synced()
            yield Running(server, client)
        finally:
            informers.stop()
            await runner
    # A watch stopped before its response began closes its TLS connection gracefully, and
    # after the client has closed: wait for it, or the loop ends with the socket open.
    await until(lambda: open_sockets() <= before, timeout=5)


def ask(server: ClusterDns, name: str, rdtype: str = "A", **query: Any) -> dns.message.Message:
    return server.answer(dns.message.make_query(name, rdtype, **query))


def records(response: dns.message.Message, rdtype: str = "A") -> set[str]:
    wanted = dns.rdatatype.from_text(rdtype)
    return {rd.to_text() for rrset in response.answer if rrset.rdtype == wanted for rd in rrset}


def soa_owner(response: dns.message.Message) -> str:
    """The owner of the SOA in the authority section (negative answers carry one)."""
    [soa] = [r for r in response.authority if r.rdtype == dns.rdatatype.SOA]
    assert soa.ttl == 5
    return str(soa.name)


def nodata(response: dns.message.Message) -> bool:
    return (
        response.rcode() == dns.rcode.NOERROR
        and not response.answer
        and bool(response.flags & dns.flags.AA)
        and soa_owner(response) == "cluster.local."
    )


async def until(probe: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll ``probe`` (the informers run meanwhile) until true; fail at the deadline."""
    give_up = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < give_up, "not reached before the deadline"
        await asyncio.sleep(0.02)  # a poll interval: lets the informers' watch run


# -- Services with a ClusterIP -----------------------------------------------------------------


async def test_a_service_name_resolves_to_its_cluster_ip(
    cluster: ClusterProcess, fixed: Fixed
) -> None:
    async with running(cluster) as it:
        asked = f"WEB.{fixed.namespace.upper()}.Svc.Cluster.Local."
        response = ask(it.dns, asked)
        assert response.rcode() == dns.rcode.NOERROR
        assert response.flags & dns.flags.AA
        assert not response.flags & dns.flags.RA
        [rrset] = response.answer
        assert rrset.name.to_text() == asked  # the question's case
        assert rrset.ttl == 5
        assert records(response) == {fixed.web_ip}
        # glibc asks AAAA beside A: NODATA (with AA and an SOA), never an error
        assert nodata(ask(it.dns, fixed.name("web"), "AAAA"))


async def test_named_ports_have_srv_records_and_the_cluster_ip_a_ptr(
    cluster: ClusterProcess, fixed: Fixed
) -> None:
    async with running(cluster) as it:
        web = fixed.name("web")
        http = ask(it.dns, f"_http._tcp.{web}", "SRV")
        assert records(http, "SRV") == {f"0 100 80 {web}"}
        assert {str(r.name) for r in http.additional} == {web}  # the target's A record
        assert records(ask(it.dns, f"_dns._udp.{web}", "SRV"), "SRV") == {f"0 100 53 {web}"}
        assert ask(it.dns, f"_http._udp.{web}", "SRV").rcode() == dns.rcode.NXDOMAIN
        assert nodata(ask(it.dns, f"_tcp.{web}", "SRV"))  # above a name that exists
        reverse = dns.name.from_text(".".join(reversed(fixed.web_ip.split("."))) + ".in-addr.arpa")
        assert records(ask(it.dns, str(reverse), "PTR"), "PTR") == {web}


# -- headless Services -------------------------------------------------------------------------


async def test_a_headless_service_resolves_to_its_ready_endpoints(
    cluster: ClusterProcess, fixed: Fixed
) -> None:
    async with running(cluster) as it:
        db = fixed.name("db")
        assert records(ask(it.dns, db)) == {"10.244.0.5", "10.244.0.7"}
        assert records(ask(it.dns, f"db-0.{db}")) == {"10.244.0.5"}
        assert records(ask(it.dns, f"10-244-0-7.{db}")) == {"10.244.0.7"}  # no hostname
        assert ask(it.dns, f"db-1.{db}").rcode() == dns.rcode.NXDOMAIN  # not ready
        srv = ask(it.dns, f"_pg._tcp.{db}", "SRV")
        assert records(srv, "SRV") == {f"0 100 5432 db-0.{db}", f"0 100 5432 10-244-0-7.{db}"}
        assert {str(r.name) for r in srv.additional} == {f"db-0.{db}", f"10-244-0-7.{db}"}
        assert records(ask(it.dns, "5.0.244.10.in-addr.arpa.", "PTR"), "PTR") == {f"db-0.{db}"}
        assert nodata(ask(it.dns, db, "AAAA"))


async def test_publish_not_ready_addresses_serves_every_endpoint(
    cluster: ClusterProcess, fixed: Fixed
) -> None:
    async with running(cluster) as it:
        everyone = fixed.name("everyone")
        assert records(ask(it.dns, everyone)) == {"10.244.0.8", "10.244.0.9"}
        assert records(ask(it.dns, f"10-244-0-9.{everyone}")) == {"10.244.0.9"}


async def test_records_follow_services_and_endpoint_slices(
    cluster: ClusterProcess, fixed: Fixed
) -> None:
    async with running(cluster) as it:
        namespace, name = fixed.namespace, f"late-{uuid.uuid4().hex[:6]}"
        late = fixed.name(name)
        await it.client.create(
            SERVICES,
            {"metadata": {"name": name}, "spec": {"clusterIP": "None"}},
            namespace=namespace,
        )
        await until(lambda: nodata(ask(it.dns, late)))  # no endpoints: exists, no address
        endpoint = {"addresses": ["10.244.2.1"], "conditions": {"ready": False}}
        piece = {
            "metadata": {"name": name, "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4",
            "endpoints": [endpoint],
        }
        await it.client.create(ENDPOINT_SLICES, piece, namespace=namespace)
        assert nodata(ask(it.dns, late))  # before and after the slice arrives: not ready
        ready = {"endpoints": [{**endpoint, "conditions": {"ready": True}}]}
        await it.client.patch(ENDPOINT_SLICES, name, ready, namespace=namespace)
        await until(lambda: records(ask(it.dns, late)) == {"10.244.2.1"})
        await it.client.delete(SERVICES, name, namespace=namespace)
        await until(lambda: ask(it.dns, late).rcode() == dns.rcode.NXDOMAIN)


# -- ExternalName, pods, the zone itself and everything else -----------------------------------


async def test_external_names_are_cnames_followed_inside_the_cluster(
    cluster: ClusterProcess, fixed: Fixed
) -> None:
    async with running(cluster) as it:
        ext = ask(it.dns, fixed.name("ext"))
        assert ext.rcode() == dns.rcode.NOERROR
        assert records(ext, "CNAME") == {"example.com."}
        assert not records(ext)  # the target is not ours: the client asks it elsewhere
        alias = ask(it.dns, fixed.name("alias"))
        assert records(alias, "CNAME") == {fixed.name("web")}
        assert records(alias) == {fixed.web_ip}


async def test_pod_names_resolve_to_the_address_they_spell(cluster: ClusterProcess) -> None:
    async with running(cluster) as it:
        assert records(ask(it.dns, "10-244-3-4.any.pod.cluster.local.")) == {"10.244.3.4"}
        assert nodata(ask(it.dns, "10-244-3-4.any.pod.cluster.local.", "AAAA"))
        assert nodata(ask(it.dns, "any.pod.cluster.local."))
        nope = ask(it.dns, "10-244-3.any.pod.cluster.local.")
        assert nope.rcode() == dns.rcode.NXDOMAIN


async def test_missing_names_are_nxdomain_and_the_zone_itself_exists(
    cluster: ClusterProcess, fixed: Fixed
) -> None:
    async with running(cluster) as it:
        missing = ask(it.dns, fixed.name("missing"))
        assert missing.rcode() == dns.rcode.NXDOMAIN
        assert missing.flags & dns.flags.AA
        assert soa_owner(missing) == "cluster.local."
        for name in (
            "cluster.local.",
            "svc.cluster.local.",
            f"{fixed.namespace}.svc.cluster.local.",
        ):
            assert nodata(ask(it.dns, name)), name
        soa = ask(it.dns, "cluster.local.", "SOA")
        assert records(soa, "SOA") == {
            "ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"
        }
        assert records(ask(it.dns, "dns-version.cluster.local.", "TXT"), "TXT") == {'"1.1.0"'}


async def test_other_names_are_refused_and_never_forwarded(cluster: ClusterProcess) -> None:
    async with running(cluster) as it:
        for name, rdtype in [("example.com.", "A"), ("8.8.8.8.in-addr.arpa.", "PTR")]:
            refused = ask(it.dns, name, rdtype)
            assert refused.rcode() == dns.rcode.REFUSED
            assert not refused.flags & dns.flags.AA
            assert not refused.answer
        unknown = ask(it.dns, "9.9.244.10.in-addr.arpa.", "PTR")  # in the pod network
        assert unknown.rcode() == dns.rcode.NXDOMAIN
        assert soa_owner(unknown) == "244.10.in-addr.arpa."


async def test_odd_queries_get_the_matching_error(cluster: ClusterProcess) -> None:
    async with running(cluster) as it:
        notify = dns.message.make_query("cluster.local.", "SOA")
        notify.set_opcode(dns.opcode.NOTIFY)
        assert it.dns.answer(notify).rcode() == dns.rcode.NOTIMP
        chaos = dns.message.make_query("version.bind.", "TXT", "CH")
        assert it.dns.answer(chaos).rcode() == dns.rcode.REFUSED
        transfer = dns.message.make_query("cluster.local.", "AXFR")
        assert it.dns.answer(transfer).rcode() == dns.rcode.REFUSED
        future = dns.message.make_query("cluster.local.", "SOA", use_edns=1)
        assert it.dns.answer(future).rcode() == dns.rcode.BADVERS
        two = dns.message.make_query("cluster.local.", "SOA")
        other = dns.name.from_text("svc.cluster.local.")
        two.question.append(dns.rrset.RRset(other, dns.rdataclass.IN, dns.rdatatype.SOA))
        assert it.dns.answer(two).rcode() == dns.rcode.FORMERR


# -- on the wire -------------------------------------------------------------------------------


async def test_answers_over_udp_and_tcp_and_truncates_big_udp_replies(
    cluster: ClusterProcess, fixed: Fixed
) -> None:
    async with running(cluster) as it, it.dns.listening([("127.0.0.1", 0)]) as [(host, port)]:
        web = dns.message.make_query(fixed.name("web"), "A")
        over_udp = await dns.asyncquery.udp(web, host, port=port, timeout=5)
        over_tcp = await dns.asyncquery.tcp(web, host, port=port, timeout=5)
        assert records(over_udp) == records(over_tcp) == {fixed.web_ip}

        many = fixed.name("many")
        plain = await dns.asyncquery.udp(dns.message.make_query(many, "A"), host, port=port)
        assert plain.flags & dns.flags.TC
        assert not plain.answer
        # EDNS offers more, but no UDP reply exceeds 1232 bytes
        edns = dns.message.make_query(many, "A", use_edns=0, payload=4096)
        big = await dns.asyncquery.udp(edns, host, port=port, timeout=5)
        assert big.flags & dns.flags.TC
        full = await dns.asyncquery.tcp(dns.message.make_query(many, "A"), host, port=port)
        assert not full.flags & dns.flags.TC
        assert len(records(full)) == MANY


async def test_malformed_input_is_dropped_and_the_server_goes_on(
    cluster: ClusterProcess, fixed: Fixed
) -> None:
    async with running(cluster) as it, it.dns.listening([("127.0.0.1", 0)]) as [(host, port)]:
        query = dns.message.make_query(fixed.name("web"), "A")
        junk, response = b"\x12\x34 not a dns message", dns.message.make_response(query).to_wire()
        assert it.dns.reply(junk, tcp=False) is None
        assert it.dns.reply(response, tcp=False) is None  # answering responses could loop
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
            raw.sendto(junk, (host, port))
            raw.sendto(response, (host, port))
        assert records(await dns.asyncquery.udp(query, host, port=port, timeout=5))

        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(b"\x00\x05hello")
            assert await asyncio.wait_for(reader.read(), 5) == b""  # closed on us
        finally:
            writer.close()
            await writer.wait_closed()
        assert records(await dns.asyncquery.tcp(query, host, port=port, timeout=5))


async def test_tcp_connections_take_pipelined_queries_and_close_when_idle(
    cluster: ClusterProcess, fixed: Fixed
) -> None:
    async with (
        running(cluster, tcp_idle_timeout=0.3) as it,
        it.dns.listening([("127.0.0.1", 0)]) as [(host, port)],
    ):
        names = [fixed.name("web"), fixed.name("db")]
        reader, writer = await asyncio.open_connection(host, port)
        try:
            wires = [dns.message.make_query(n, "A").to_wire(prepend_length=True) for n in names]
            writer.write(b"".join(wires))  # both in one segment
            answered = []
            for _ in names:
                size = int.from_bytes(await reader.readexactly(2), "big")
                answered.append(dns.message.from_wire(await reader.readexactly(size)))
            assert [str(a.question[0].name) for a in answered] == names
            assert await asyncio.wait_for(reader.read(), 5) == b""  # idle: closed
        finally:
            writer.close()
            await writer.wait_closed()


async def test_serve_listens_until_cancelled(cluster: ClusterProcess, fixed: Fixed) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    query = dns.message.make_query(fixed.name("web"), "A")
    async with running(cluster) as it:
        serving = asyncio.create_task(it.dns.serve([("127.0.0.1", port)]))
        try:
            give_up = time.monotonic() + 10
            while True:
                try:
                    answered = await dns.asyncquery.tcp(query, "127.0.0.1", port=port, timeout=5)
                    break
                except ConnectionRefusedError:  # not listening yet
                    if serving.done():
                        serving.result()  # it failed: show why
                    assert time.monotonic() < give_up
                    await asyncio.sleep(0.02)
            assert records(answered) == {fixed.web_ip}
            assert records(await dns.asyncquery.udp(query, "127.0.0.1", port=port, timeout=5))
        finally:
            serving.cancel()
            with pytest.raises(asyncio.CancelledError):
                await serving
        with pytest.raises(ConnectionRefusedError):
            await dns.asyncquery.tcp(query, "127.0.0.1", port=port, timeout=5)
