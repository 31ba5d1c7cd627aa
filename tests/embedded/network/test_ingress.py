"""The ingress proxy end to end: the real embedded cluster, real sockets, in-test backends.

Services are selector-less with hand-written EndpointSlices pointing at small aiohttp
servers of the test (the kubelet is off, so no pod runs); Ingresses are applied with
kubectl; the proxy runs in the test's event loop on free ports and watches only the test's
namespace, so tests of one worker never see each other's Ingresses.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import json
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
import pytest
import yaml
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.conftest import ClusterProcess
from yarl import URL

from atoll.embedded.network.catalog import ServiceCatalog
from atoll.embedded.network.ingress import IngressProxy, ProxyTimeouts
from atoll.embedded.network.ingress_certificates import FAKE_CERTIFICATE_CN
from atoll.kube.client import KubeClient
from atoll.kube.events import EventRecorder
from atoll.kube.informers import InformerFactory
from atoll.kube.kubeconfig import ClusterConfig

T = TypeVar("T")
MB = 1024 * 1024


async def until(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 20.0) -> T:
    """Await ``probe`` until it returns something truthy; fail at the deadline."""
    loop = asyncio.get_running_loop()
    give_up, last = loop.time() + timeout, None
    while loop.time() < give_up:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.05)  # a poll interval, not a synchronisation point
    raise AssertionError(f"not reached within {timeout} s (last: {last!r})")


def free_port() -> int:
    """A port nothing listens on (bound, then closed again)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- backends --------------------------------------------------------------------------------


@dataclass
class Backend:
    """A small HTTP server standing in for a pod; it answers with what it received."""

    name: str
    port: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)  # lets /slow answer
    first_chunk: asyncio.Event = field(default_factory=asyncio.Event)  # /upload got bytes
    client_has_first: asyncio.Event = field(default_factory=asyncio.Event)  # for /download
    runner: web.ServerRunner | None = None

    async def start(self) -> None:
        self.runner = web.ServerRunner(web.Server(self.handle))
        await self.runner.setup()
        sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self.runner, sock).start()

    async def stop(self) -> None:
        self.release.set()
        if self.runner is not None:
            await self.runner.cleanup()

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.path == "/upload":
            return await self.upload(request)
        if request.path == "/download":
            return await self.download(request)
        if request.path == "/ws":
            return await self.echo(request)
        if request.path == "/slow":
            await self.release.wait()
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        info = {
            "backend": self.name,
            "method": request.method,
            "target": request.raw_path,
            "headers": dict(request.headers),
            "body": len(body),
            "peer_port": peer[1] if peer else None,
        }
        hop = {"Connection": "X-Hop", "X-Hop": "1", "Keep-Alive": "timeout=9"}
        return web.json_response(info, headers={"X-Backend": self.name, **hop})

    async def upload(self, request: web.BaseRequest) -> web.StreamResponse:
        digest, size = hashlib.sha256(), 0
        async for data in request.content.iter_any():
            digest.update(data)
            size += len(data)
            self.first_chunk.set()
        return web.json_response({"bytes": size, "sha256": digest.hexdigest()})

    async def download(self, request: web.BaseRequest) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(pattern(0))
        await asyncio.wait_for(self.client_has_first.wait(), 10)  # the proxy must not buffer
        for part in range(1, 8):
            await response.write(pattern(part))
        await response.write_eof()
        return response

    async def echo(self, request: web.BaseRequest) -> web.StreamResponse:
        ws = web.WebSocketResponse(protocols=("chat",))
        await ws.prepare(request)
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT and message.data == "bye":
                await ws.close(code=4001, message=b"bye")
            elif message.type is aiohttp.WSMsgType.TEXT:
                await ws.send_str(f"{self.name}: {message.data}")
            elif message.type is aiohttp.WSMsgType.BINARY:
                await ws.send_bytes(message.data[::-1])
        return ws


def pattern(part: int) -> bytes:
    return bytes([part]) * MB


# -- cluster objects -------------------------------------------------------------------------


def service(name: str, *ports: int, ready: bool = True) -> list[dict[str, Any]]:
    """A selector-less Service (port 80, "http") and one EndpointSlice per backend port."""
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name},
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
        }
    ]
    for i, port in enumerate(ports):
        docs.append(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {"name": f"{name}-{i}", "labels": {"kubernetes.io/service-name": name}},
                "addressType": "IPv4",
                "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
                "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": ready}}],
            }
        )
    return docs


def to(service_name: str, port: int | str = 80) -> dict[str, Any]:
    key = "number" if isinstance(port, int) else "name"
    return {"service": {"name": service_name, "port": {key: port}}}


def rule(host: str | None, *paths: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "http": {"paths": [{"path": p, "pathType": kind, "backend": b} for p, kind, b in paths]}
    }
    if host:
        out["host"] = host
    return out


def ingress(name: str, *rules: dict[str, Any], **spec: Any) -> dict[str, Any]:
    annotations = spec.pop("annotations", None)
    metadata: dict[str, Any] = {"name": name}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": {**({"rules": list(rules)} if rules else {}), **spec},
    }


def tls_certificate(*hosts: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def tls_secret(name: str, chain: bytes, key: bytes) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "kubernetes.io/tls",
        "data": {
            "tls.crt": base64.b64encode(chain).decode(),
            "tls.key": base64.b64encode(key).decode(),
        },
    }


# -- the harness -----------------------------------------------------------------------------


@dataclass
class Harness:
    cluster: ClusterProcess
    namespace: str
    proxy: IngressProxy
    http: aiohttp.ClientSession  # the test's client to the proxy
    backends: list[Backend]

    async def kubectl(self, *args: str, input: str | None = None) -> str:
        return await asyncio.to_thread(
            self.cluster.kubectl, *args, "-n", self.namespace, input=input
        )

    async def apply(self, *docs: dict[str, Any] | list[dict[str, Any]]) -> None:
        flat = [d for doc in docs for d in (doc if isinstance(doc, list) else [doc])]
        await self.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(flat))

    async def backend(self, name: str) -> Backend:
        created = Backend(name)
        await created.start()
        self.backends.append(created)
        return created

    def url(self, path: str, *, https: bool = False) -> str:
        if https:
            return f"https://127.0.0.1:{self.proxy.https_port}{path}"
        return f"http://127.0.0.1:{self.proxy.http_port}{path}"

    async def get(self, host: str, path: str, **options: Any) -> tuple[int, str]:
        headers = {"Host": host, **options.pop("headers", {})}
        url = URL(self.url(path), encoded=True)  # sent exactly as written
        async with self.http.get(url, headers=headers, **options) as response:
            return response.status, await response.text()

    async def json(self, host: str, path: str) -> dict[str, Any]:
        status, text = await self.get(host, path)
        assert status == 200, text
        answer: dict[str, Any] = json.loads(text)
        return answer

    async def served_by(self, host: str, path: str, backend: str) -> None:
        """Wait until the proxy routes ``host``/``path`` to ``backend`` (tables are built
        asynchronously after kubectl returns)."""

        async def probe() -> bool:
            status, text = await self.get(host, path)
            return status == 200 and json.loads(text).get("backend") == backend

        await until(probe)

    async def status(self, name: str) -> dict[str, Any]:
        out = await self.kubectl("get", "ingress", name, "-o", "json")
        status: dict[str, Any] = json.loads(out).get("status") or {}
        return status

    async def events(self, reason: str) -> list[dict[str, Any]]:
        out = await self.kubectl("get", "events", "-o", "json")
        return [e for e in json.loads(out)["items"] if e.get("reason") == reason]


Start = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def start_proxy(cluster: ClusterProcess, namespace: str) -> AsyncIterator[Start]:
    async with contextlib.AsyncExitStack() as stack:

        async def start(**options: Any) -> Harness:
            config = ClusterConfig.from_kubeconfig(cluster.kubeconfig)
            client = await stack.enter_async_context(KubeClient(config))
            informers = InformerFactory(client)
            proxy = IngressProxy(
                ServiceCatalog(informers),
                informers,
                client=client,
                events=EventRecorder(client, "atoll-ingress"),
                http_port=0,
                https_port=0,
                watch_namespace=namespace,
                **options,
            )
            await proxy.start()
            tasks = [asyncio.create_task(informers.run()), asyncio.create_task(proxy.run())]
            stack.push_async_callback(stop_tasks, tasks)
            harness = Harness(cluster, namespace, proxy, aiohttp.ClientSession(), [])
            stack.push_async_callback(harness.http.close)
            stack.push_async_callback(stop_backends, harness.backends)
            return harness

        yield start


async def stop_tasks(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if not isinstance(outcome, asyncio.CancelledError | type(None)):
            raise outcome


async def stop_backends(backends: list[Backend]) -> None:
    for backend in backends:
        await backend.stop()


# -- routing ---------------------------------------------------------------------------------


async def test_routes_by_host_and_path(start_proxy: Start) -> None:
    h = await start_proxy()
    a, b = await h.backend("a"), await h.backend("b")
    await h.apply(
        service("svc-a", a.port),
        service("svc-b", b.port),
        ingress(
            "routes",
            rule("a.test", ("/api", "Prefix", to("svc-a")), ("/exact", "Exact", to("svc-b"))),
            rule("*.wild.test", ("/", "Prefix", to("svc-b", "http"))),
            rule(None, ("/any", "Prefix", to("svc-a"))),
        ),
        ingress("more", rule("a.test", ("/more", "Prefix", to("svc-b")))),
    )
    await h.served_by("a.test", "/more", "b")
    answer = await h.json("a.test", "/api/x?q=1&r=%2F")
    assert (answer["backend"], answer["target"]) == ("a", "/api/x?q=1&r=%2F")
    assert (await h.json("a.test", "/exact"))["backend"] == "b"
    assert (await h.json("x.wild.test", "/foo"))["backend"] == "b"
    assert (await h.json("elsewhere.test", "/any/1"))["backend"] == "a"
    for host, path in [("a.test", "/apix"), ("a.test", "/exact/"), ("elsewhere.test", "/none")]:
        status, text = await h.get(host, path)
        assert status == 404, (host, path)
        assert text.startswith("404 Not Found")


async def test_forwarded_headers_keep_alive_and_hop_by_hop(start_proxy: Start) -> None:
    h = await start_proxy()
    a = await h.backend("a")
    await h.apply(
        service("svc-a", a.port), ingress("a", rule("a.test", ("/", "Prefix", to("svc-a"))))
    )
    await h.served_by("a.test", "/", "a")
    sent = {
        "Host": "a.test:1234",
        "X-Forwarded-For": "6.6.6.6",
        "X-Real-IP": "6.6.6.6",
        "Connection": "keep-alive, X-Drop",
        "X-Drop": "1",
        "Keep-Alive": "timeout=5",
        "X-Keep": "yes",
    }
    async with h.http.post(h.url("/h"), headers=sent, data=b"12345") as response:
        assert response.status == 200
        seen = (await response.json())["headers"]
        assert response.headers["X-Backend"] == "a"
        assert "X-Hop" not in response.headers and "Keep-Alive" not in response.headers
    assert seen["Host"] == "a.test:1234", "Host passes unchanged"
    assert seen["X-Forwarded-For"] == "127.0.0.1", "the client's own value is not trusted"
    assert seen["X-Real-IP"] == "127.0.0.1"
    assert seen["X-Forwarded-Host"] == "a.test:1234"
    assert seen["X-Forwarded-Proto"] == "http"
    assert seen["X-Forwarded-Port"] == str(h.proxy.http_port)
    assert seen["X-Keep"] == "yes" and seen["Content-Length"] == "5"
    assert "X-Drop" not in seen and "Keep-Alive" not in seen
    ports = {(await h.json("a.test", "/again"))["peer_port"] for _ in range(3)}
    assert len(ports) == 1, "one kept-alive connection to the backend"


async def test_503_502_retry_and_resource_backends(start_proxy: Start) -> None:
    h = await start_proxy()
    a = await h.backend("a")
    resource = {"resource": {"apiGroup": "k8s.example.com", "kind": "Bucket", "name": "b"}}
    await h.apply(
        service("svc-a", a.port),
        service("empty"),
        service("unready", a.port, ready=False),
        service("dead", free_port()),
        service("half", free_port(), a.port),
        ingress(
            "errors",
            rule(
                "e.test",
                ("/empty", "Prefix", to("empty")),
                ("/unready", "Prefix", to("unready")),
                ("/dead", "Prefix", to("dead")),
                ("/half", "Prefix", to("half")),
                ("/bucket", "Prefix", resource),
                ("/ok", "Prefix", to("svc-a")),
            ),
        ),
    )
    await h.served_by("e.test", "/ok", "a")
    for path, status, words in [
        ("/empty", 503, "Service {ns}/empty has no ready endpoint"),
        ("/unready", 503, "Service {ns}/unready has no ready endpoint"),
        ("/dead", 502, "refused"),
        ("/bucket", 503, "Bucket b is a resource"),
    ]:
        got, text = await h.get("e.test", path)
        assert got == status, (path, text)
        assert words.format(ns=h.namespace) in text
    for _ in range(4):  # round-robin starts on the dead one half of the time: retried
        assert (await h.json("e.test", "/half"))["backend"] == "a"


async def test_a_slow_backend_gets_504(start_proxy: Start) -> None:
    h = await start_proxy(timeouts=ProxyTimeouts(read=0.3))
    a = await h.backend("a")
    await h.apply(
        service("svc-a", a.port), ingress("a", rule("a.test", ("/", "Prefix", to("svc-a"))))
    )
    await h.served_by("a.test", "/", "a")
    status, text = await h.get("a.test", "/slow")
    assert status == 504 and "in time" in text
    a.release.set()


async def test_bodies_are_streamed_both_ways(start_proxy: Start) -> None:
    h = await start_proxy()
    a = await h.backend("a")
    await h.apply(
        service("svc-a", a.port), ingress("a", rule("a.test", ("/", "Prefix", to("svc-a"))))
    )
    await h.served_by("a.test", "/", "a")

    async def upload() -> AsyncIterator[bytes]:
        yield pattern(0)
        await asyncio.wait_for(a.first_chunk.wait(), 10)  # a buffering proxy deadlocks here
        for part in range(1, 8):
            yield pattern(part)

    expected = hashlib.sha256(b"".join(pattern(p) for p in range(8))).hexdigest()
    async with h.http.post(h.url("/upload"), headers={"Host": "a.test"}, data=upload()) as sent:
        assert await sent.json() == {"bytes": 8 * MB, "sha256": expected}

    digest, size = hashlib.sha256(), 0
    async with h.http.get(h.url("/download"), headers={"Host": "a.test"}) as received:
        assert received.status == 200
        async for chunk in received.content.iter_any():
            digest.update(chunk)
            size += len(chunk)
            a.client_has_first.set()
    assert (size, digest.hexdigest()) == (8 * MB, expected)


async def test_websockets_are_relayed(start_proxy: Start) -> None:
    h = await start_proxy()
    a = await h.backend("a")
    await h.apply(
        service("svc-a", a.port), ingress("a", rule("a.test", ("/", "Prefix", to("svc-a"))))
    )
    await h.served_by("a.test", "/", "a")
    async with h.http.ws_connect(
        h.url("/ws"), headers={"Host": "a.test"}, protocols=("chat", "other")
    ) as ws:
        assert ws.protocol == "chat"
        await ws.send_str("hello")
        assert await ws.receive_str(timeout=10) == "a: hello"
        await ws.send_bytes(b"\x01\x02\x03")
        assert await ws.receive_bytes(timeout=10) == b"\x03\x02\x01"
        await ws.send_str("bye")
        closing = await ws.receive(timeout=10)
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 4001


# -- TLS -------------------------------------------------------------------------------------


async def peer_common_name(h: Harness, server_name: str) -> str:
    insecure = ssl.create_default_context()
    insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE
    _, writer = await asyncio.open_connection(
        "127.0.0.1", h.proxy.https_port, ssl=insecure, server_hostname=server_name
    )
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.close()
        await writer.wait_closed()
    names = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value)


async def test_tls_by_sni_fallback_and_redirect(start_proxy: Start) -> None:
    h = await start_proxy()
    a = await h.backend("a")
    chain, key = tls_certificate("secure.test")
    broken = tls_secret("broken-cert", b"not a certificate", key)
    site = ("/", "Prefix", to("svc-a"))
    await h.apply(
        service("svc-a", a.port),
        tls_secret("site-cert", chain, key),
        broken,
        ingress(
            "secure",
            rule("secure.test", site),
            rule("missing.test", site),
            rule("broken.test", site),
            tls=[
                {"hosts": ["secure.test"], "secretName": "site-cert"},
                {"hosts": ["missing.test"], "secretName": "absent"},
                {"hosts": ["broken.test"], "secretName": "broken-cert"},
            ],
        ),
        ingress(
            "relaxed",
            rule("relaxed.test", site),
            tls=[{"hosts": ["relaxed.test"], "secretName": "site-cert"}],
            annotations={"nginx.ingress.kubernetes.io/ssl-redirect": "false"},
        ),
    )
    await h.served_by("relaxed.test", "/", "a")
    trusting = ssl.create_default_context(cadata=chain.decode())

    async def over_https() -> dict[str, Any] | None:
        with contextlib.suppress(aiohttp.ClientConnectorCertificateError):
            async with h.http.get(
                h.url("/p", https=True),
                headers={"Host": "secure.test"},
                ssl=trusting,
                server_hostname="secure.test",
            ) as response:
                answer: dict[str, Any] = await response.json()
                return answer
        return None

    seen = (await until(over_https))["headers"]
    assert seen["X-Forwarded-Proto"] == "https"
    assert seen["X-Forwarded-Port"] == str(h.proxy.https_port)
    assert await peer_common_name(h, "secure.test") == "secure.test"
    for name in ("nobody.test", "missing.test", "broken.test"):
        assert await peer_common_name(h, name) == FAKE_CERTIFICATE_CN, name

    async with h.http.get(
        h.url("/p?q=1"), headers={"Host": "secure.test"}, allow_redirects=False
    ) as response:
        assert response.status == 308
        assert response.headers["Location"] == f"https://secure.test:{h.proxy.https_port}/p?q=1"
    assert (await h.json("relaxed.test", "/p"))["backend"] == "a", "ssl-redirect: false"

    missing = await until(lambda: h.events("SecretNotFound"))
    assert missing[0]["type"] == "Warning"
    assert missing[0]["involvedObject"]["name"] == "secure"
    assert f"{h.namespace}/absent" in missing[0]["message"]
    unusable = await until(lambda: h.events("BadCertificate"))
    assert f"{h.namespace}/broken-cert" in unusable[0]["message"]


# -- status and classes ----------------------------------------------------------------------


async def test_status_and_ingress_classes(start_proxy: Start, cluster: ClusterProcess) -> None:
    h = await start_proxy()
    a = await h.backend("a")
    custom = f"custom-{h.namespace}"
    await asyncio.to_thread(
        cluster.kubectl,
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "IngressClass",
                "metadata": {"name": custom},
                "spec": {"controller": "atoll.io/ingress-controller"},
            }
        ),
    )
    try:
        site = ("/", "Prefix", to("svc-a"))
        await h.apply(
            service("svc-a", a.port),
            ingress("theirs", rule("theirs.test", site), ingressClassName="nginx"),
            ingress(
                "legacy",
                rule("legacy.test", site),
                annotations={"kubernetes.io/ingress.class": "atoll"},
            ),
            ingress("custom", rule("custom.test", site), ingressClassName=custom),
            ingress("mine", rule("mine.test", site)),
        )
        ours = [
            {
                "ip": "127.0.0.1",
                "ports": [
                    {"port": h.proxy.http_port, "protocol": "TCP"},
                    {"port": h.proxy.https_port, "protocol": "TCP"},
                ],
            }
        ]

        async def load_balancer(name: str) -> Any:
            return ((await h.status(name)).get("loadBalancer") or {}).get("ingress")

        assert await until(lambda: load_balancer("mine")) == ours
        for name in ("legacy", "custom"):
            assert await until(lambda: load_balancer(name)) == ours  # noqa: B023
            await h.served_by(f"{name}.test", "/", "a")
        assert await load_balancer("theirs") is None
        assert (await h.get("theirs.test", "/"))[0] == 404

        await h.kubectl(
            "patch",
            "ingress",
            "mine",
            "--type=merge",
            "-p",
            '{"spec":{"ingressClassName":"nginx"}}',
        )

        async def cleared() -> bool:
            return await load_balancer("mine") is None

        await until(cleared)
        assert (await h.get("mine.test", "/"))[0] == 404
    finally:
        await asyncio.to_thread(cluster.kubectl, "delete", "ingressclass", custom)


# -- bad requests ----------------------------------------------------------------------------


async def test_bad_requests_get_400_without_a_trace(start_proxy: Start) -> None:
    h = await start_proxy()
    for raw in (
        b"GET / HTTP/1.1\r\nHost: bad host!\r\nConnection: close\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
    ):
        reader, writer = await asyncio.open_connection("127.0.0.1", h.proxy.http_port)
        try:
            writer.write(raw)
            answer = await asyncio.wait_for(reader.read(), 10)
        finally:
            writer.close()
            await writer.wait_closed()
        assert answer.split(b" ", 2)[1] == b"400", answer
        assert b"Traceback" not in answer
