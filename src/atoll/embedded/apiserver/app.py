"""The embedded API server's ASGI application: authentication, routing, error rendering.

Plain ASGI over Starlette's request/response types rather than a router: Kubernetes paths
are parsed once by ``requests.parse_request``, and per-request overhead matters here.
Every failure leaves as a Kubernetes ``Status``; an unexpected exception is logged and
answered with a 500 Status that carries no stack trace.

Requests carry the cluster's bearer token in ``Authorization``; a WebSocket upgrade may
carry it as a subprotocol instead (``base64url.bearer.authorization.k8s.io.<token>``, what
browsers can send). Upgrades (``exec``, ``attach``, ``portforward``) arrive as ``http``
requests through ``upgrades`` and are answered like any other until accepted.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from atoll.errors import ApiError, InternalError, MethodNotAllowed, NotFound, Unauthorized
from atoll.kube.streaming import offered_protocols, split_bearer_token

from . import discovery, openapi
from .handlers import ResourceHandlers, json_response
from .kubeletproxy import KubeletProxy
from .metricsapi import GROUP as METRICS_GROUP
from .metricsapi import MetricsApi
from .registry import Registry
from .requests import parse_request

__all__ = ["ApiServerApp"]

logger = logging.getLogger(__name__)

_HEALTH = ("/healthz", "/livez", "/readyz")


def status_response(error: ApiError) -> Response:
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return Response(
        orjson.dumps(error.to_status()) + b"\n",
        status_code=error.code,
        media_type="application/json",
        headers=headers,
    )


class ApiServerApp:
    """ASGI app serving the Kubernetes API of one embedded cluster."""

    def __init__(
        self,
        registry: Registry,
        *,
        token: str,
        server_address: str,
        kubelets: KubeletProxy | None = None,
        metrics: MetricsApi | None = None,
    ) -> None:
        self.registry = registry
        self.token = token
        self.server_address = server_address
        self.handlers = ResourceHandlers(registry, kubelets)
        self.metrics = metrics  # None: no kubelet, so no metrics.k8s.io (no metrics-server)
        self.ready = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            response = await self.dispatch(request)
        except ApiError as exc:
            response = status_response(exc)
        except Exception:
            logger.exception("%s %s failed", request.method, request.url.path)
            response = status_response(InternalError("an internal error occurred"))
        await response(scope, receive, send)

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(credential.strip(), self.token):
            return
        offers = offered_protocols(request.headers.getlist("sec-websocket-protocol"))
        if offers:
            try:
                token, _ = split_bearer_token(offers)
            except ValueError as error:
                raise Unauthorized(str(error)) from None
            if token is not None and hmac.compare_digest(token, self.token):
                return
        raise Unauthorized("Unauthorized")

    async def dispatch(self, request: Request) -> Response:
        path = request.scope["path"].rstrip("/") or "/"  # not request.url: it builds a URL
        if path.startswith(_HEALTH):
            return PlainTextResponse(
                "ok" if self.ready else "not ready", status_code=200 if self.ready else 500
            )
        self._authenticate(request)
        segments = [s for s in path.split("/")][1:]
        if path == "/version":
            return json_response(discovery.version_info())
        if path == "/openapi/v2":
            return await self._openapi(request)
        if segments and segments[0] == "api":
            return await self._core(request, segments[1:])
        if segments and segments[0] == "apis":
            return await self._groups(request, segments[1:])
        raise NotFound("the server could not find the requested resource")

    async def _openapi(self, request: Request) -> Response:
        # The first build parses every model (about a second): keep it off the event loop.
        catalog = self.registry.catalog
        if "protobuf" in request.headers.get("accept", ""):
            body = await asyncio.to_thread(openapi.openapi_protobuf, catalog)
            return Response(body, media_type="application/octet-stream")
        return json_response(await asyncio.to_thread(openapi.openapi_json, catalog))

    async def _core(self, request: Request, rest: list[str]) -> Response:
        catalog = self.registry.catalog
        if not rest:
            return json_response(discovery.api_versions(self.server_address))
        if rest[0] != "v1":
            raise NotFound("the server could not find the requested resource")
        if len(rest) == 1:
            _only_get(request)
            return json_response(discovery.api_resource_list(catalog, "", "v1") or {})
        info = parse_request("", "v1", rest[1:], request.method)
        return await self.handlers.handle(request, info)

    async def _groups(self, request: Request, rest: list[str]) -> Response:
        catalog = self.registry.catalog
        if not rest:
            _only_get(request)
            extra = [self.metrics.group_entry()] if self.metrics is not None else []
            return json_response(discovery.api_group_list(catalog, extra))
        group = rest[0]
        if group == METRICS_GROUP and self.metrics is not None:
            return await self.metrics.handle(request, rest[1:])
        if len(rest) == 1:
            _only_get(request)
            doc = discovery.api_group(catalog, group)
        elif len(rest) == 2:
            _only_get(request)
            doc = discovery.api_resource_list(catalog, group, rest[1])
        else:
            info = parse_request(group, rest[1], rest[2:], request.method)
            return await self.handlers.handle(request, info)
        if doc is None:
            raise NotFound("the server could not find the requested resource")
        return json_response(doc)


def _only_get(request: Request) -> None:
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed("the server does not allow this method on the requested resource")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
