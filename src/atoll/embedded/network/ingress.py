"""The embedded cluster's ingress controller: a reverse proxy for networking.k8s.io/v1 Ingresses.

It behaves as a user of ingress-nginx expects (``ingress_rules`` has the matching), but is
one asyncio process: an aiohttp low-level server on an HTTP and an HTTPS port, and one
keep-alive client pool to the pods.

- **Which Ingresses**: those of class ``class_name`` (field or the legacy annotation), of
  any IngressClass whose controller is ``atoll.io/ingress-controller``, and — when
  ``default_class`` — those naming no class. ``watch_namespace`` narrows everything to one
  namespace, as ingress-nginx's ``--watch-namespace``.
- **Tables**: informer handlers only set a flag; ``run`` rebuilds the whole table in one
  step (``refresh``) and swaps it, so a burst of changes costs one rebuild and a request
  never sees half a table. Endpoints are not in the table: each request asks the
  ``ServiceCatalog`` for the ready endpoints of its backend, which is as cheap as a cached
  copy and never stale — so endpoint changes need no rebuild and no catalog listener.
- **Upstreams**: the pods themselves, round-robin per Service port, not the ClusterIP (as
  ingress-nginx does). A refused or timed-out connect tries a second endpoint, then 502
  (504 for a timeout); a backend slower than ``ProxyTimeouts.read`` between two reads gets
  504. Only connects are retried: after that the body may be half sent.
- **Requests**: bodies are streamed both ways, never buffered whole, and never decompressed;
  hop-by-hop headers are dropped; ``Host`` passes unchanged; ``X-Forwarded-For``,
  ``-Host``, ``-Proto``, ``-Port`` and ``X-Real-IP`` are set from the connection, replacing
  what the client sent (ingress-nginx's defaults: ``use-forwarded-headers`` and
  ``compute-full-forwarded-for`` off, so a client cannot forge its address). WebSocket
  upgrades are relayed message by message (text, binary, ping, pong, close code) through
  aiohttp's own WebSocket code rather than as raw bytes: that needs no private aiohttp
  API. Other ``Upgrade`` protocols are not relayed.
- **TLS**: one ``SSLContext`` per Secret, chosen by SNI in ``sni_callback``; contexts
  are cached by the digest of the Secret's data, so a rebuild reloads nothing unchanged.
  Unknown names and missing or invalid Secrets get a self-signed fallback made at start
  (CN "Atoll Ingress Fake Certificate", like ingress-nginx's), plus a Warning Event on the
  Ingress. Only Secrets of type ``kubernetes.io/tls`` are watched (a field selector): the
  proxy never holds service-account tokens or other Secrets in memory.
- **Status**: with a ``client``, served Ingresses get ``status.loadBalancer.ingress`` (our
  address and both ports) through the status subresource, only when it differs; an
  Ingress no longer served loses it, but only if it still carries exactly what this proxy
  wrote — another controller's status is never touched. Failed writes retry with back-off.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import aiohttp
from aiohttp import hdrs, web
from multidict import CIMultiDict
from yarl import URL

from atoll.errors import ApiError, NotFound
from atoll.kit.backoff import Backoff
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.events import EventRecorder
from atoll.kube.informers import InformerFactory, key_of, split_key

from .catalog import Endpoint, ServiceCatalog
from .ingress_certificates import fake_certificate, server_context
from .ingress_http import error_page, pump_websocket, upstream_headers, without_hop_by_hop
from .ingress_rules import (
    Problem,
    ResourceBackend,
    Route,
    RouteTable,
    ServiceBackend,
    build_table,
    controller_classes,
    normalize_host,
    serves,
)

__all__ = [
    "INGRESSES",
    "INGRESS_CLASSES",
    "IngressProxy",
    "ProxyTimeouts",
]

logger = logging.getLogger(__name__)

INGRESSES = ResourceType("networking.k8s.io", "v1", "ingresses", "Ingress", True)
INGRESS_CLASSES = ResourceType("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False)
SECRETS = ResourceType("", "v1", "secrets", "Secret", True)
TLS_SECRET = "kubernetes.io/tls"

"""The cluster's default IngressClass, for the bootstrap objects to create."""

_WEBSOCKET_HANDSHAKE = frozenset(  # made anew by the client side of the relay
    f"sec-websocket-{h}" for h in ("key", "version", "extensions", "protocol")
)
_SKIP_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
_CONNECT_FAILED = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


@dataclass(frozen=True, slots=True)
class ProxyTimeouts:
    """Seconds; the defaults are ingress-nginx's ``proxy-*-timeout`` settings."""

    connect: float = 5.0  # to open a connection to a pod
    read: float = 60.0  # between two reads of a pod's answer (headers, then each chunk)
    shutdown: float = 5.0  # for requests in flight when the proxy stops


@dataclass(frozen=True, slots=True)
class _Routing:
    """What one request reads: swapped whole, never changed in place."""

    table: RouteTable = field(default_factory=RouteTable)
    contexts: Mapping[str, ssl.SSLContext] = field(default_factory=dict)  # by Secret key


class IngressProxy:
    """Serves the cluster's Ingresses on ``http_port`` and ``https_port`` (0: any free one).

    Ask for it before the ``InformerFactory`` starts (it registers its informers); then
    ``await start()`` to bind (so the ports are known) and run ``run()`` until cancelled.
    """

    def __init__(
        self,
        catalog: ServiceCatalog,
        informers: InformerFactory,
        *,
        client: KubeClient | None = None,
        events: EventRecorder | None = None,
        class_name: str = "atoll",
        default_class: bool = True,
        host: str = "127.0.0.1",
        http_port: int = 8880,
        https_port: int = 8443,
        status_address: str = "127.0.0.1",
        watch_namespace: str | None = None,
        timeouts: ProxyTimeouts | None = None,
    ) -> None:
        self._catalog = catalog
        self._client = client
        self._events = events
        self._class_name = class_name
        self._default_class = default_class
        self._host = host
        self._ports = (http_port, https_port)
        self._status_address = status_address
        self._timeouts = timeouts or ProxyTimeouts()
        self._ingresses = informers.informer(INGRESSES, namespace=watch_namespace)
        self._classes = informers.informer(INGRESS_CLASSES)
        self._secrets = informers.informer(
            SECRETS, namespace=watch_namespace, field_selector=f"type={TLS_SECRET}"
        )
        for informer in (self._ingresses, self._classes):
            informer.add_handler(self._touch, lambda _, new: self._touch(new), self._touch)
        on_secret = self._touch_secret
        self._secrets.add_handler(on_secret, lambda _, new: on_secret(new), on_secret)
        self._changed = asyncio.Event()
        self._routing = _Routing()
        self._certificates: dict[bytes, ssl.SSLContext] = {}  # by digest of chain and key
        self._turns: dict[tuple[str, int | str], int] = {}  # round-robin position per backend
        self._reported: set[Problem] = set()
        self._status_sent: dict[str, tuple[str, Any]] = {}  # key -> (resourceVersion, status)
        self._runner: web.ServerRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._starting = asyncio.Lock()

    @property
    def http_port(self) -> int:
        """The bound port once started (a free one when configured as 0)."""
        return self._ports[0]

    @property
    def https_port(self) -> int:
        return self._ports[1]

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Make the fallback certificate and bind both listeners; once."""
        async with self._starting:
            if self._runner is None:
                await self._start()

    async def _start(self) -> None:
        chain, key = await asyncio.to_thread(fake_certificate)
        fallback = server_context(chain, key)
        fallback.sni_callback = self._choose_certificate
        server = web.Server(self._handle, handler_cancellation=True, auto_decompress=False)
        runner = web.ServerRunner(server, shutdown_timeout=self._timeouts.shutdown)
        await runner.setup()
        sockets: list[socket.socket] = []
        try:
            for port, context in zip(self._ports, (None, fallback), strict=True):
                sockets.append(_listen(self._host, port))
                await web.SockSite(runner, sockets[-1], ssl_context=context).start()
        except BaseException:
            await runner.cleanup()
            for sock in sockets:
                sock.close()
            raise
        self._runner = runner
        http, https = (int(sock.getsockname()[1]) for sock in sockets)
        self._ports = (http, https)  # what 0 turned into
        timeout = aiohttp.ClientTimeout(
            sock_connect=self._timeouts.connect, sock_read=self._timeouts.read
        )
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=60),
            timeout=timeout,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),  # never carry one client's cookies to the next
        )
        logger.info("ingress: serving on %s ports %d and %d", self._host, *self._ports)

    async def run(self) -> None:
        """Serve and keep tables and status current until cancelled; then close everything."""
        await self.start()
        backoff = Backoff(initial=1.0, maximum=30.0)
        try:
            # Before the first table: a Secret or IngressClass not yet listed would read as
            # missing, and an Ingress of such a class would lose the status it has.
            await asyncio.gather(
                *(i.wait_synced() for i in (self._ingresses, self._classes, self._secrets))
            )
            while True:
                self._changed.clear()
                try:
                    healthy = await self.refresh()
                except Exception:  # a bug must not stop the serving of the last good table
                    logger.exception("ingress: could not rebuild the routing table")
                    healthy = False
                delay = None if healthy else backoff.next_delay()
                if healthy:
                    backoff.reset()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), delay)
        finally:
            await self.close()

    async def close(self) -> None:
        """Close the listeners and every connection (waiting ``timeouts.shutdown`` for
        requests in flight), then the pool to the pods."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    # -- keeping the table -----------------------------------------------------------------

    def _touch(self, obj: Object) -> None:
        self._changed.set()

    def _touch_secret(self, secret: Object) -> None:
        if key_of(secret) in self._routing.table.secrets:  # only the Secrets in use matter
            self._changed.set()

    async def refresh(self) -> bool:
        """One step: rebuild and swap the table, report problems, write status.
        False when a status write failed and wants a retry."""
        classes = controller_classes(self._classes.list(), class_name=self._class_name)
        served = [
            ingress
            for ingress in self._ingresses.list()
            if serves(ingress, classes=classes, default_class=self._default_class)
        ]
        table, problems = build_table(served)
        contexts, bad_secrets = self._load_certificates(table)
        self._routing = _Routing(table, contexts)
        routes = table.routes()
        live = {(b.service, b.port) for r in routes if isinstance(b := r.backend, ServiceBackend)}
        self._turns = {k: v for k, v in self._turns.items() if k in live}
        await self._report([*problems, *bad_secrets])
        return await self._write_status(table.ingresses) if self._client is not None else True

    def _load_certificates(
        self, table: RouteTable
    ) -> tuple[dict[str, ssl.SSLContext], list[Problem]]:
        contexts: dict[str, ssl.SSLContext] = {}
        cache: dict[bytes, ssl.SSLContext] = {}
        problems: list[Problem] = []
        for entry in {(e.secret, e.ingress): e for e in table.tls.values() if e.secret}.values():
            secret = self._secrets.get(entry.secret)
            if secret is None:
                why = f"TLS Secret {entry.secret} not found (or not of type {TLS_SECRET})"
                problems.append(Problem(entry.ingress, "SecretNotFound", why))
                continue
            try:
                chain, key = (
                    base64.b64decode(_data(secret, k), validate=True)
                    for k in ("tls.crt", "tls.key")
                )
                digest = hashlib.sha256(chain + b"\0" + key).digest()
                context = (
                    cache.get(digest)
                    or self._certificates.get(digest)
                    or server_context(chain, key)
                )
            except Exception as exc:  # whatever is wrong with an untrusted certificate
                why = f"TLS Secret {entry.secret} is unusable: {exc}"
                problems.append(Problem(entry.ingress, "BadCertificate", why))
                continue
            cache[digest] = contexts[entry.secret] = context
        self._certificates = cache
        return contexts, problems

    def _choose_certificate(
        self, ssl_object: ssl.SSLObject, name: str | None, _: ssl.SSLContext
    ) -> None:
        routing = self._routing
        entry = routing.table.certificate(name)
        context = routing.contexts.get(entry.secret) if entry is not None else None
        if context is not None:
            ssl_object.context = context

    async def _report(self, problems: Iterable[Problem]) -> None:
        """Log (and record as Events) problems not reported by the previous step."""
        current = set(problems)
        fresh, self._reported = current - self._reported, current
        for problem in sorted(fresh, key=lambda p: (p.ingress, p.message)):
            logger.warning("ingress %s: %s", problem.ingress, problem.message)
            ingress = self._ingresses.get(problem.ingress)
            if self._events is not None and ingress is not None:
                await self._events.warning(ingress, problem.reason, message=problem.message)

    def _load_balancer(self) -> list[dict[str, Any]]:
        try:
            ipaddress.ip_address(self._status_address)
            entry: dict[str, Any] = {"ip": self._status_address}
        except ValueError:
            entry = {"hostname": self._status_address}
        entry["ports"] = [{"port": port, "protocol": "TCP"} for port in self._ports]
        return [entry]

    async def _write_status(self, served: frozenset[str]) -> bool:
        assert self._client is not None
        ours, healthy = self._load_balancer(), True
        for ingress in self._ingresses.list():
            key = key_of(ingress)
            meta = ingress.get("metadata") or {}
            current = ((ingress.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
            wanted = ours if key in served else []
            if current == wanted or (key not in served and current != ours):
                continue
            version = str(meta.get("resourceVersion") or "")
            if self._status_sent.get(key) == (version, wanted):
                continue  # written; the informer has not caught up yet
            namespace, name = split_key(key)
            patch = {"status": {"loadBalancer": {"ingress": wanted or None}}}
            try:
                await self._client.patch(
                    INGRESSES, name, patch, namespace=namespace, subresource="status"
                )
            except NotFound:
                continue
            except ApiError as exc:
                logger.warning("ingress %s: could not write status: %s", key, exc)
                healthy = False
                continue
            self._status_sent[key] = (version, wanted)
        known = set(self._ingresses.keys())
        self._status_sent = {k: v for k, v in self._status_sent.items() if k in known}
        return healthy

    # -- serving ---------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        try:
            return await self._serve(request)
        except Exception:  # a bug here must still answer with a page, not a traceback
            logger.exception("ingress: failed on %s %s", request.method, request.rel_url.path)
            return error_page(
                HTTPStatus.INTERNAL_SERVER_ERROR, "The ingress proxy failed on this request."
            )

    async def _serve(self, request: web.BaseRequest) -> web.StreamResponse:
        host = normalize_host(request.headers.get(hdrs.HOST, ""))
        if host is None:
            return error_page(HTTPStatus.BAD_REQUEST, "The Host header is not a host name.")
        route = self._routing.table.match(host, request.rel_url.path)
        if route is None:
            return error_page(HTTPStatus.NOT_FOUND, "No Ingress rule matches this host and path.")
        if route.ssl_redirect and not request.secure:
            port = "" if self.https_port == 443 else f":{self.https_port}"
            location = f"https://{host}{port}{request.raw_path}"
            return web.Response(
                status=HTTPStatus.PERMANENT_REDIRECT.value, headers={hdrs.LOCATION: location}
            )
        backend = route.backend
        if isinstance(backend, ResourceBackend):
            what = f"{backend.kind} {backend.name}"
            return error_page(
                HTTPStatus.SERVICE_UNAVAILABLE,
                f"The backend {what} is a resource; only Services are proxied.",
            )
        endpoints = self._catalog.ready_endpoints(backend.service, backend.port)
        if not endpoints:
            return error_page(
                HTTPStatus.SERVICE_UNAVAILABLE, f"Service {backend.service} has no ready endpoint."
            )
        return await self._forward(request, route, self._pick(backend, endpoints))

    def _pick(self, backend: ServiceBackend, endpoints: list[Endpoint]) -> list[Endpoint]:
        """The next endpoint in turn, then (for a retry) a different one if there is one."""
        turn = self._turns.get((backend.service, backend.port), 0)
        self._turns[(backend.service, backend.port)] = turn + 1
        first = turn % len(endpoints)
        return [endpoints[(first + i) % len(endpoints)] for i in range(min(2, len(endpoints)))]

    async def _forward(
        self, request: web.BaseRequest, route: Route, endpoints: list[Endpoint]
    ) -> web.StreamResponse:
        headers = upstream_headers(request, self._ports)
        upgrade = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
        failure: Exception | None = None
        if request.headers.get(hdrs.EXPECT, "").lower() == "100-continue":
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        for endpoint in endpoints:
            url = URL(f"http://{_address(endpoint)}{request.raw_path}", encoded=True)
            try:
                if upgrade:
                    return await self._relay_websocket(request, url, headers)
                return await self._exchange(request, url, headers)
            except _CONNECT_FAILED as exc:
                logger.info("ingress %s: %s:%d: %s", route.ingress, endpoint.ip, endpoint.port, exc)
                failure = exc
            except TimeoutError:
                return error_page(HTTPStatus.GATEWAY_TIMEOUT, "The backend did not answer in time.")
            except aiohttp.WSServerHandshakeError as exc:
                why = f"The backend refused the WebSocket upgrade ({exc.status})."
                return error_page(HTTPStatus.BAD_GATEWAY, why)
            except aiohttp.ClientError as exc:
                logger.info("ingress %s: %s:%d: %s", route.ingress, endpoint.ip, endpoint.port, exc)
                return error_page(HTTPStatus.BAD_GATEWAY, "The backend broke the connection.")
        if isinstance(failure, TimeoutError):
            return error_page(
                HTTPStatus.GATEWAY_TIMEOUT, "The backend did not accept a connection in time."
            )
        return error_page(HTTPStatus.BAD_GATEWAY, "The backend refused the connection.")

    async def _exchange(
        self, request: web.BaseRequest, url: URL, headers: CIMultiDict[str]
    ) -> web.StreamResponse:
        """Send the request, stream the answer back; errors before the answer starts raise."""
        assert self._session is not None
        body = request.content if request.body_exists else None
        async with self._session.request(
            request.method,
            url,
            headers=headers,
            data=body,
            allow_redirects=False,
            skip_auto_headers=_SKIP_AUTO_HEADERS,
        ) as upstream:
            response = web.StreamResponse(
                status=upstream.status,
                reason=upstream.reason,
                headers=without_hop_by_hop(upstream.headers),
            )
            await response.prepare(request)
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
            except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
                # The status line is gone: cut the connection, so the client sees a truncated
                # answer rather than a complete-looking one.
                logger.info("ingress: the answer from %s broke off: %s", url.host, exc)
                if request.transport is not None:
                    request.transport.abort()
            return response

    async def _relay_websocket(
        self, request: web.BaseRequest, url: URL, headers: CIMultiDict[str]
    ) -> web.StreamResponse:
        assert self._session is not None
        offered = request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL, "")
        protocols = [p.strip() for p in offered.split(",") if p.strip()]
        forwarded = CIMultiDict(
            (k, v) for k, v in headers.items() if k.lower() not in _WEBSOCKET_HANDSHAKE
        )
        async with self._session.ws_connect(
            url, headers=forwarded, protocols=protocols, autoping=False, max_msg_size=0, compress=0
        ) as upstream:
            chosen = (upstream.protocol,) if upstream.protocol else ()
            downstream = web.WebSocketResponse(
                protocols=chosen, autoping=False, max_msg_size=0, compress=False
            )
            await downstream.prepare(request)
            async with asyncio.TaskGroup() as group:
                group.create_task(pump_websocket(downstream, upstream))
                group.create_task(pump_websocket(upstream, downstream))
            return downstream


def _address(endpoint: Endpoint) -> str:
    ip = f"[{endpoint.ip}]" if ":" in endpoint.ip else endpoint.ip
    return f"{ip}:{endpoint.port}"


def _data(secret: Object, key: str) -> str:
    value = (secret.get("data") or {}).get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"it has no {key}")
    return value


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=512)
