"""The request pipeline every request passes: request info → authentication → authorization →
the route → audit. One ASGI middleware, so HTTP, streaming answers and WebSockets all pass it.

- **Authentication**: a bearer token (``Authorization: Bearer …``; for WebSockets, which
  browsers cannot give headers, also the ``access_token`` query parameter or the
  ``base64url.bearer.authorization.k8s.io.…`` subprotocol kubectl uses). No token on a public
  path is fine; an invalid token anywhere is 401.
- **Authorization**: the one authorizer the iam component installs, for every non-public
  request, Atoll's routes and the Kubernetes proxy alike. Routes that filter what they
  answer (lists across namespaces) are let through for their verbs and ask per item.
- **Audit**: every mutating request and every refused one becomes an ``AuditEvent`` for
  the registered sinks, once its answer's status is known.

Refusals are problem+json on Atoll's API, and Kubernetes ``Status`` objects on the
Kubernetes paths (``/api``, ``/apis``) so kubectl and client libraries read them as usual.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import orjson

from .access import ANONYMOUS, Pipeline, Principal, RequestInfo, in_cluster, request_info
from .problems import PROBLEM_JSON

__all__ = ["RequestPipeline"]

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MUTATING = frozenset({"create", "update", "patch", "delete", "deletecollection"})
_WS_BEARER = "base64url.bearer.authorization.k8s.io."


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}


def bearer_token(scope: Scope, query: dict[str, str]) -> str | None:
    headers = _headers(scope)
    authorization = headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    if scope["type"] == "websocket":
        for protocol in headers.get("sec-websocket-protocol", "").split(","):
            protocol = protocol.strip()
            if protocol.startswith(_WS_BEARER):
                encoded = protocol[len(_WS_BEARER) :]
                try:
                    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
                except (binascii.Error, UnicodeDecodeError):
                    return None
        return query.get("access_token") or None
    return None


def _kubernetes_path(path: str) -> bool:
    _, path = in_cluster(path)  # any cluster's Kubernetes API
    return path == "/api" or path.startswith(("/api/", "/apis"))


def _refusal(path: str, status: int, message: str, info: RequestInfo) -> tuple[bytes, str]:
    if _kubernetes_path(path):
        reason = {401: "Unauthorized", 403: "Forbidden"}.get(status, "Unknown")
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": status,
        }
        if info.resource_request:
            body["details"] = {"name": info.name, "group": info.api_group, "kind": info.resource}
        return orjson.dumps(body), "application/json"
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": message,
    }
    return orjson.dumps(body), PROBLEM_JSON


class RequestPipeline:
    def __init__(self, app: ASGIApp, pipeline: Pipeline) -> None:
        self.app = app
        self.pipeline = pipeline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method = scope.get("method", "GET") if scope["type"] == "http" else "GET"
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        info = request_info(method, path, query)
        public = self.pipeline.is_public(path)
        who: Principal = ANONYMOUS
        token = bearer_token(scope, query)
        if token is not None:
            found = await self.pipeline.authenticate(token)
            if found is None and not public:
                await self._refuse(scope, receive, send, info, who, 401, "the token is not valid")
                return
            who = found or ANONYMOUS
        elif not public:
            await self._refuse(scope, receive, send, info, who, 401, "log in first")
            return
        if not public and not self._filtering(info):
            decision = await self.pipeline.authorize(who, info)
            if not decision.allowed:
                await self._refuse(scope, receive, send, info, who, 403, decision.reason)
                return
        scope["atoll.principal"] = who
        scope["atoll.request_info"] = info
        if not self._audited(info):
            await self.app(scope, receive, send)
            return
        answered = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["code"] = int(message["status"])
            elif message["type"] == "websocket.accept":
                answered["code"] = 101
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._audit(scope, info, who, answered["code"])

    def _audited(self, info: RequestInfo) -> bool:
        return (
            info.verb in MUTATING
            and bool(self.pipeline.audit_sinks)
            and not any(test(info) for test in self.pipeline.unaudited)
        )

    def _filtering(self, info: RequestInfo) -> bool:
        return any(test(info) for test in self.pipeline.filtering)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        info: RequestInfo,
        who: Principal,
        status: int,
        message: str,
    ) -> None:
        self._audit(scope, info, who, status, reason=message)
        body, media_type = _refusal(scope["path"], status, message, info)
        headers = [(b"content-type", media_type.encode()), (b"content-length", b"%d" % len(body))]
        if status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="atoll"'))
        if scope["type"] == "websocket":
            # Refuse the handshake with an HTTP answer (the WebSocket denial response), as
            # the Kubernetes API server does; servers without it close with 1008.
            if "websocket.http.response" in (scope.get("extensions") or {}):
                await send(
                    {"type": "websocket.http.response.start", "status": status, "headers": headers}
                )
                await send({"type": "websocket.http.response.body", "body": body})
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _audit(
        self, scope: Scope, info: RequestInfo, who: Principal, code: int, reason: str = ""
    ) -> None:
        client = scope.get("client")
        self.pipeline.audit(who, info, str(client[0]) if client else "", code, reason)
