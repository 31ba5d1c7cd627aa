"""HTTP handlers for resource paths: one method per verb, thin over the generic store.

Each handler turns a parsed request (``RequestInfo``) into registry calls and renders the
answer in the negotiated representation. Subresources with their own shapes (scale,
binding, eviction, finalize) live in ``subresources``.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from atoll.embedded.storage.watching import Watcher
from atoll.errors import ApiError, BadRequest, Expired, MethodNotAllowed, NotFound

from . import subresources
from .bodies import decode_document, media_type, read_body
from .kubeletproxy import KubeletProxy
from .options import DeleteOptions, ListOptions, WriteOptions, parse_bool, parse_int
from .patching import patch
from .registry import Registry, WriteResult
from .rendering import (
    Representation,
    list_body,
    negotiate,
    render_list,
    render_object,
    watch_line,
)
from .requests import RequestInfo
from .resources import Resource

__all__ = ["ResourceHandlers", "json_response"]

_BOOKMARK_EVERY = 60.0
_NOT_ALLOWED = "the server does not allow this method on the requested resource"


def json_response(body: bytes | dict[str, Any], status: int = 200, **headers: str) -> Response:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(raw, status_code=status, media_type="application/json", headers=headers)


class _ChunkedResponse(Response):
    """A large list body sent chunk by chunk as it is rendered (``rendering.list_body``).

    The body never exists in one piece, and a keep-alive TLS connection's buffers stay at
    one chunk instead of growing to the largest response it ever sent. The event loop gets
    a turn between chunks, so watches and other requests keep flowing during a big list.
    Without a known length the body goes out with chunked transfer encoding.
    """

    media_type = "application/json"

    def __init__(self, chunks: Iterator[bytes], length: int | None) -> None:
        self.status_code = 200
        self.background = None
        self._chunks = chunks
        self.init_headers({"content-length": str(length)} if length is not None else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        for chunk in self._chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _quoted(text: str) -> str:
    """An HTTP quoted-string, as kube's Warning headers use."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _success_status(resource: Resource, obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    details: dict[str, Any] = {"name": meta.get("name", "")}
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.plural
    details["uid"] = meta.get("uid", "")
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


class ResourceHandlers:
    def __init__(self, registry: Registry, kubelets: KubeletProxy | None = None) -> None:
        self.registry = registry
        self.kubelets = kubelets

    async def handle(self, request: Request, info: RequestInfo) -> Response:
        resource = self.registry.catalog.get(info.group, info.version, info.resource)
        if resource is None:
            raise NotFound("the server could not find the requested resource")
        if info.subresource:
            return await subresources.handle(self, request, info, resource)
        if resource.namespaced and info.namespace is None and info.name:
            raise NotFound("the server could not find the requested resource")
        if not resource.namespaced and info.namespace is not None:
            raise NotFound("the server could not find the requested resource")
        if info.verb not in resource.verbs and info.verb != "watch":
            raise MethodNotAllowed(
                "the server does not allow this method on the requested resource"
            )
        method = getattr(self, f"_{info.verb}", None)
        if method is None:
            raise MethodNotAllowed(
                "the server does not allow this method on the requested resource"
            )
        response: Response = await method(request, info, resource)
        return response

    # -- helpers ----------------------------------------------------------------------------

    def representation(self, request: Request) -> Representation:
        return negotiate(
            request.headers.get("accept", ""),
            include_object=request.query_params.get("includeObject", ""),
        )

    def object_response(
        self, resource: Resource, result: WriteResult, request: Request, status: int = 200
    ) -> Response:
        if result.entry is not None and not result.deleted:
            raw = self.registry.encode(resource, result.entry)
        else:
            raw = orjson.dumps(self.registry.from_storage(resource, result.obj))
        body = render_object(resource, raw, self.representation(request))
        headers = {}
        if result.warnings:
            headers["Warning"] = ", ".join(f"299 - {_quoted(w)}" for w in result.warnings)
        return json_response(body, status, **headers)

    @staticmethod
    def write_options(request: Request) -> WriteOptions:
        return WriteOptions.from_query(
            request.query_params,
            user_agent=request.headers.get("user-agent", ""),
            method=request.method,
        )

    async def read_object(self, request: Request) -> Any:
        body = await read_body(request)
        strict = request.query_params.get("fieldValidation") == "Strict"
        return decode_document(body, media_type(request), strict=strict)

    # -- verbs ------------------------------------------------------------------------------

    async def _get(self, request: Request, info: RequestInfo, resource: Resource) -> Response:
        entry = self.registry.get(resource, info.namespace or "", info.name)
        raw = self.registry.encode(resource, entry)
        return json_response(render_object(resource, raw, self.representation(request)))

    async def _list(self, request: Request, info: RequestInfo, resource: Resource) -> Response:
        if parse_bool(request.query_params, "watch"):
            return await self._watch(request, info, resource)
        rep = self.representation(request)
        opts = ListOptions.from_query(request.query_params)
        result = self.registry.list(resource, info.namespace, opts)
        body = list_body(
            resource,
            result.entries,
            rep,
            rv=result.rv,
            encode=lambda e: self.registry.encode(resource, e),
            decode=lambda e: self.registry.from_storage(resource, e.decode()),
            continue_token=result.continue_token,
            remaining=result.remaining,
        )
        first = next(body.chunks)
        second = next(body.chunks, None)
        if second is None:
            return json_response(first)
        return _ChunkedResponse(itertools.chain((first, second), body.chunks), body.length)

    async def _create(self, request: Request, info: RequestInfo, resource: Resource) -> Response:
        obj = await self.read_object(request)
        result = await self.registry.create(
            resource, info.namespace, obj, self.write_options(request)
        )
        return self.object_response(resource, result, request, 201)

    async def _update(self, request: Request, info: RequestInfo, resource: Resource) -> Response:
        obj = await self.read_object(request)
        namespace = info.namespace or ""
        opts = self.write_options(request)
        if self.registry.storage.latest(resource.storage, namespace, info.name) is None:
            if resource.kind not in ("Event", "Lease", "Endpoints", "Node"):
                raise NotFound.of(resource.plural, resource.group, info.name)
            if isinstance(obj, dict):
                obj.setdefault("metadata", {}).pop("resourceVersion", None)
            result = await self.registry.create(resource, info.namespace, obj, opts)
            return self.object_response(resource, result, request, 201)
        result = await self.registry.update(resource, namespace, info.name, obj, opts)
        return self.object_response(resource, result, request)

    async def _patch(self, request: Request, info: RequestInfo, resource: Resource) -> Response:
        body = await read_body(request)
        result = await patch(
            self.registry,
            resource,
            info.namespace or "",
            info.name,
            mime=media_type(request),
            body=body,
            opts=self.write_options(request),
        )
        return self.object_response(resource, result, request, 201 if result.created else 200)

    async def _delete_options(self, request: Request) -> DeleteOptions:
        body = await read_body(request)
        doc = decode_document(body, "application/json") if body.strip() else None
        if doc is not None and not isinstance(doc, dict):
            raise BadRequest("DeleteOptions must be an object")
        return DeleteOptions.parse(doc, request.query_params)

    async def _delete(self, request: Request, info: RequestInfo, resource: Resource) -> Response:
        opts = await self._delete_options(request)
        result = await self.registry.delete(resource, info.namespace or "", info.name, opts)
        if result.deleted and not (resource.kind == "Pod" and resource.group == ""):
            return json_response(_success_status(resource, result.obj))
        return self.object_response(resource, result, request)

    async def _deletecollection(
        self, request: Request, info: RequestInfo, resource: Resource
    ) -> Response:
        """Delete what matches the selectors; answer with the list of deleted objects."""
        opts = await self._delete_options(request)
        selectors = {
            k: v for k, v in request.query_params.items() if k in ("labelSelector", "fieldSelector")
        }
        listed = self.registry.list(resource, info.namespace, ListOptions.from_query(selectors))
        deleted = []
        for entry in listed.entries:
            try:
                result = await self.registry.delete(resource, entry.namespace, entry.name, opts)
            except NotFound:
                continue
            deleted.append(result.entry or entry)
        body = render_list(
            resource,
            deleted,
            self.representation(request),
            rv=self.registry.storage.revision,
            encode=lambda e: self.registry.encode(resource, e),
            decode=lambda e: self.registry.from_storage(resource, e.decode()),
        )
        return json_response(body)

    # -- watch ------------------------------------------------------------------------------

    async def _watch(self, request: Request, info: RequestInfo, resource: Resource) -> Response:
        rep = self.representation(request)
        params = request.query_params
        opts = ListOptions.from_query(params)
        timeout = parse_int(params, "timeoutSeconds")
        if timeout is None:
            timeout = random.randint(1800, 3600)
        bookmarks = parse_bool(params, "allowWatchBookmarks")
        since = parse_int({"rv": opts.resource_version}, "rv", 0) or 0
        predicate = self.registry.predicate(resource, opts)
        try:
            watcher = self.registry.storage.watch(
                resource.storage, namespace=info.namespace, since_rv=since, predicate=predicate
            )
        except Expired as exc:
            line = orjson.dumps({"type": "ERROR", "object": exc.to_status()}) + b"\n"
            return Response(line, media_type="application/json")
        stream = self._stream(watcher, resource, rep, timeout=timeout, bookmarks=bookmarks)
        return StreamingResponse(stream, media_type="application/json")

    async def _stream(
        self,
        watcher: Watcher,
        resource: Resource,
        rep: Representation,
        *,
        timeout: int,
        bookmarks: bool,
    ) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        first = True
        try:
            while (left := deadline - loop.time()) > 0:
                item = await watcher.next(min(left, _BOOKMARK_EVERY))
                if item is None:
                    if watcher.closed:
                        return
                    if bookmarks and deadline - loop.time() > 0:
                        yield self._bookmark(resource)
                    continue
                kind, entry = item
                raw = self.registry.encode(resource, entry)
                yield watch_line(kind, resource, raw, rep, first=first)
                first = False
        except ApiError as exc:
            yield orjson.dumps({"type": "ERROR", "object": exc.to_status()}) + b"\n"
        finally:
            watcher.close()

    def _bookmark(self, resource: Resource) -> bytes:
        obj = {
            "kind": resource.kind,
            "apiVersion": resource.api_version,
            "metadata": {"resourceVersion": str(self.registry.storage.revision)},
        }
        return orjson.dumps({"type": "BOOKMARK", "object": obj}) + b"\n"
