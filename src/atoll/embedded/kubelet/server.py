"""The kubelet's own HTTPS API, as the API server and Prometheus reach a real kubelet.

- ``GET /healthz``
- ``GET /containerLogs/{namespace}/{pod}/{container}`` with ``follow``, ``previous``,
  ``tailLines``, ``sinceSeconds``, ``sinceTime``, ``timestamps`` and ``limitBytes`` — what
  the API server's ``pods/log`` proxies to; errors are Kubernetes ``Status`` bodies with the
  kubelet's messages (``container "x" in pod "y" is waiting to start: ContainerCreating``).
- ``GET /stats/summary`` (what metrics-server reads) and ``GET /metrics/cadvisor``
  (Prometheus text with cAdvisor's names), from the newest usage reading (``usage``).
- ``/exec``, ``/attach`` and ``/portForward`` over SPDY/3.1 or WebSocket (``streaming``):
  what the API server's ``pods/exec``, ``pods/attach`` and ``pods/portforward`` relay to.

Every path but ``/healthz`` needs the cluster's bearer token. It serves on loopback, with
the cluster's serving certificate.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from atoll.errors import ApiError, BadRequest, NotFound, Unauthorized

from . import stats
from .log_reading import LogOptions, since_cutoff
from .logs import log_path
from .streaming import STREAMING_PATHS, StreamingEndpoints

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from .kubelet import Kubelet

__all__ = ["KubeletApp"]


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


def _int(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as error:
        raise BadRequest(f"invalid {name}: {value!r} is not an integer") from error


def _time(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError as error:
        raise BadRequest(f"invalid {name}: {value!r} is not an RFC3339 time") from error


class KubeletApp:
    """ASGI app of one kubelet; see the module doc."""

    def __init__(self, kubelet: Kubelet, *, token: str) -> None:
        self.kubelet = kubelet
        self.token = token
        self.streaming = StreamingEndpoints(kubelet)

    def _authorized(self, authorization: str) -> bool:
        scheme, _, credential = authorization.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(credential.strip(), self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            response = await self.dispatch(request)
        except ApiError as error:
            response = Response(
                orjson.dumps(error.to_status()),
                status_code=error.code,
                media_type="application/json",
            )
        await response(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        if not self._authorized(authorization):
            body = orjson.dumps(Unauthorized("Unauthorized").to_status())
            await send({"type": "websocket.http.response.start", "status": 401, "headers": []})
            await send({"type": "websocket.http.response.body", "body": body})
            return
        await self.streaming.websocket(scope, receive, send)

    async def dispatch(self, request: Request) -> Response:
        path = request.url.path.rstrip("/")
        if path == "/healthz":
            return PlainTextResponse("ok")
        if not self._authorized(request.headers.get("authorization", "")):
            raise Unauthorized("Unauthorized")
        parts = path.split("/")[1:]
        if parts and parts[0] in STREAMING_PATHS:
            return await self.streaming.http(request, parts)
        if len(parts) == 4 and parts[0] == "containerLogs":
            return await self._logs(request, parts[1], parts[2], parts[3])
        if path == "/stats/summary":
            body = orjson.dumps(stats.summary(await self.kubelet.usage.snapshot()))
            return Response(body, media_type="application/json")
        if path == "/metrics/cadvisor":
            text = stats.cadvisor_text(await self.kubelet.usage.snapshot())
            return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
        raise NotFound(f"the kubelet has no {path}")

    async def _logs(self, request: Request, namespace: str, name: str, container: str) -> Response:
        worker = self.kubelet.worker_of(namespace, name)
        if worker is None:
            raise NotFound(f'pod "{name}" in namespace "{namespace}" is not running on this node')
        state = next((s for s in [*worker.init, *worker.apps] if s.name == container), None)
        if state is None:
            raise BadRequest(f"container {container} is not valid for pod {name}")
        previous = _flag(request, "previous")
        if previous:
            if state.restart_count == 0:
                raise BadRequest(
                    f'previous terminated container "{container}" in pod "{name}" not found'
                )
            count = state.restart_count - 1
        else:
            if not state.container_id:
                reason = (state.waiting or ("ContainerCreating", ""))[0]
                raise BadRequest(
                    f'container "{container}" in pod "{name}" is waiting to start: {reason}'
                )
            count = state.restart_count
        meta = worker.pod["metadata"]
        path = log_path(self.kubelet.logs_root, namespace, name, meta["uid"], container, count)
        options = LogOptions(
            follow=_flag(request, "follow") and not previous,
            tail_lines=_int(request, "tailLines"),
            since_time=since_cutoff(
                now=datetime.now(UTC),
                since_seconds=_int(request, "sinceSeconds"),
                since_time=_time(request, "sinceTime"),
            ),
            timestamps=_flag(request, "timestamps"),
            limit_bytes=_int(request, "limitBytes"),
        )
        if not path.exists():  # the container has not written a byte yet
            return PlainTextResponse("")
        chunks = self.kubelet.logs.read(path, options)

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in chunks:
                    yield chunk
            except NotFound:
                return

        return StreamingResponse(body(), media_type="text/plain")
