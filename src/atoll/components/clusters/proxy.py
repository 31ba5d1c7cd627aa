"""The Kubernetes proxy: ``/api``, ``/apis``, ``/version`` and ``/openapi`` of the host
cluster, and the same under ``/clusters/<cluster>`` for every cluster Atoll reaches, passed
through after the request pipeline authorized them.

Requests go to the cluster with Atoll's own credentials, as they are (method, path, query,
body, ``Accept`` and ``Content-Type``); answers stream back as they come, so watches and
followed logs flow. WebSockets (exec, attach, port-forward) are joined end to end with the
subprotocol the cluster chose. Kinds with an ``ObjectHook`` (a User's password) are
changed on the way in and out: written objects go through ``write`` and every object
answered, in gets, lists and watch events alike, through ``read``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import orjson
from fastapi import APIRouter, Request, WebSocket
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocketDisconnect

from atoll.errors import ApiError, BadRequest
from atoll.kube.client import KubeClient, ResourceType
from atoll.server.access import ObjectHook, Pipeline, RequestInfo, in_cluster, request_info
from atoll.server.clusters import ClusterClients

__all__ = ["proxy_router"]

logger = logging.getLogger(__name__)

_SENT_HEADERS = ("accept", "content-type")
_KEPT_HEADERS = ("content-type", "content-encoding", "cache-control", "retry-after", "warning")
_WS_BEARER = "base64url.bearer.authorization.k8s.io."
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _status(error: ApiError) -> Response:
    body = orjson.dumps(error.to_status())
    return Response(body, status_code=error.code, media_type="application/json")


def _read_all(hook: ObjectHook, answer: Any) -> Any:
    assert hook.read is not None
    if not isinstance(answer, dict):
        return answer
    if isinstance(answer.get("items"), list):
        answer["items"] = [hook.read(i) if isinstance(i, dict) else i for i in answer["items"]]
        return answer
    if answer.get("kind") in ("Status", "Table"):
        return answer
    return hook.read(answer)


async def _read_events(hook: ObjectHook, lines: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    assert hook.read is not None
    async for line in lines:
        if not line.strip():
            continue
        event = orjson.loads(line)
        if isinstance(event.get("object"), dict) and event.get("type") != "ERROR":
            event["object"] = hook.read(event["object"])
        yield orjson.dumps(event) + b"\n"


async def _dry_run(
    client: KubeClient, method: str, target: str, headers: dict[str, str], body: bytes | None
) -> dict[str, Any] | None:
    """What the write would store, from the cluster itself (``dryRun=All``)."""
    separator = "&" if "?" in target else "?"
    async with client.forward(
        method, f"{target}{separator}dryRun=All", headers=headers, body=body
    ) as response:
        if response.status >= 400:
            return None  # the write itself will fail, and say why
        answer = orjson.loads(await response.read())
    return answer if isinstance(answer, dict) else None


def proxy_router(
    clusters: Callable[[], ClusterClients], pipeline: Callable[[], Pipeline]
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def hook_for(info: RequestInfo) -> ObjectHook | None:
        if not info.resource_request or info.subresource not in ("", "status"):
            return None
        return pipeline().object_hooks.get((info.api_group, info.resource))

    async def forward(request: Request) -> Response:
        info = request.scope.get("atoll.request_info") or request_info(
            request.method, request.url.path, dict(request.query_params)
        )
        body = await request.body() if request.method in ("POST", "PUT", "PATCH") else None
        if request.method == "DELETE":
            body = await request.body() or None
        hook = hook_for(info)
        if hook is not None and hook.write is not None and info.verb in ("create", "update"):
            try:
                written = orjson.loads(body or b"")
                if not isinstance(written, dict):
                    raise BadRequest("the body must be an object")
                body = orjson.dumps(await hook.write(info, written))
            except orjson.JSONDecodeError:
                return _status(BadRequest("the body is not valid JSON"))
            except ApiError as error:
                return _status(error)
        cluster, path = in_cluster(request.url.path)
        try:
            client = clusters().client(cluster)
        except ApiError as error:
            return _status(error)
        target = path + (f"?{request.url.query}" if request.url.query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() in _SENT_HEADERS}
        if body is not None and "content-type" not in headers:
            headers["content-type"] = "application/json"  # as the API server assumes
        admissions = pipeline().admission
        if admissions and info.resource_request and info.verb in ("create", "update", "patch"):

            async def outcome() -> dict[str, Any] | None:
                return await _dry_run(client, request.method, target, headers, body)

            try:
                for admit in admissions:
                    await admit(info, outcome)
            except ApiError as error:
                return _status(error)
        opened = client.forward(request.method, target, headers=headers, body=body)
        try:
            response = await opened.__aenter__()
        except ApiError as error:
            return _status(error)
        kept = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
        reads = hook is not None and hook.read is not None and response.status < 400
        if reads and response.content_type == "application/json" and hook is not None:
            if info.verb == "watch":
                return StreamingResponse(
                    _read_events(hook, response.content),
                    status_code=response.status,
                    headers=kept,
                    background=BackgroundTask(opened.__aexit__, None, None, None),
                )
            try:
                answer = orjson.loads(await response.read())
            finally:
                await opened.__aexit__(None, None, None)
            kept.pop("content-encoding", None)
            content = orjson.dumps(_read_all(hook, answer))
            return Response(content, status_code=response.status, headers=kept)
        return StreamingResponse(
            response.content.iter_any(),
            status_code=response.status,
            headers=kept,
            background=BackgroundTask(opened.__aexit__, None, None, None),
        )

    for prefix in ("/api", "/apis", "/version", "/openapi"):
        for base in ("", "/clusters/{cluster}"):  # the host's, and any cluster's by name
            router.add_api_route(base + prefix, forward, methods=_METHODS)
            router.add_api_route(base + prefix + "/{rest:path}", forward, methods=_METHODS)

    async def join(websocket: WebSocket) -> None:
        offered = websocket.headers.get("sec-websocket-protocol", "")
        protocols = [
            p.strip()
            for p in offered.split(",")
            if p.strip() and not p.strip().startswith(_WS_BEARER)
        ]
        query = websocket.url.query
        query = "&".join(q for q in query.split("&") if not q.startswith("access_token="))
        cluster, path = in_cluster(websocket.url.path)
        target = path + (f"?{query}" if query else "")
        client = clusters().client(cluster)
        try:
            upstream = await client.websocket(target, protocols=protocols)
        except (ApiError, aiohttp.ClientError) as error:
            logger.info("a WebSocket to the cluster failed: %s", error)
            await _refuse_socket(websocket, protocols, await _why_refused(client, path, error))
            return
        await websocket.accept(subprotocol=upstream.protocol)

        async def inward() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        return
                    if message.get("bytes") is not None:
                        await upstream.send_bytes(message["bytes"])
                    elif message.get("text") is not None:
                        await upstream.send_str(message["text"])

        async def outward() -> None:
            async for message in upstream:
                if message.type == aiohttp.WSMsgType.BINARY:
                    await websocket.send_bytes(message.data)
                elif message.type == aiohttp.WSMsgType.TEXT:
                    await websocket.send_text(message.data)
                else:
                    return

        tasks = [asyncio.create_task(inward()), asyncio.create_task(outward())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await upstream.close()
            with contextlib.suppress(RuntimeError):
                await websocket.close()

    for prefix in ("/api", "/apis", "/clusters/{cluster}/api", "/clusters/{cluster}/apis"):
        router.add_api_websocket_route(prefix + "/{rest:path}", join)
    return router


_POD_STREAM = re.compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)/(?:exec|attach|portforward)$")
_PODS = ResourceType("", "v1", "pods", "Pod", True)


async def _why_refused(
    client: KubeClient, path: str, error: ApiError | aiohttp.ClientError
) -> ApiError | aiohttp.ClientError:
    """A refused upgrade says only its status code; for a pod's stream, the pod itself (or
    its absence) says more: "pods \"web\" not found"."""
    found = _POD_STREAM.match(path)
    if not isinstance(error, aiohttp.WSServerHandshakeError) or found is None:
        return error
    try:
        await client.get(_PODS, found[2], namespace=found[1])
    except ApiError as why:
        return why
    return error


async def _refuse_socket(
    websocket: WebSocket, protocols: list[str], error: ApiError | aiohttp.ClientError
) -> None:
    """Say why the cluster refused (no pod, no container…) in words the client can read.

    Closing before the handshake would show a browser only a bare 1006. So the socket is
    accepted, and on a channel protocol (``v4.channel.k8s.io``, ``base64.channel.k8s.io``)
    the cluster's Status goes on the error channel 3, as kube-apiserver sends it; then the
    socket closes with 1011 and the message as reason.
    """
    status = (
        error.to_status()
        if isinstance(error, ApiError)
        else {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": str(error)}
    )
    channel = next((p for p in protocols if p.endswith("channel.k8s.io")), None)
    await websocket.accept(subprotocol=channel)
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        body = orjson.dumps(status)
        if channel is not None and channel.startswith("base64."):
            await websocket.send_text("3" + base64.b64encode(body).decode())
        elif channel is not None:
            await websocket.send_bytes(b"\x03" + body)
        message = str(status.get("message") or error)
        await websocket.close(code=1011, reason=message.encode()[:120].decode(errors="ignore"))
