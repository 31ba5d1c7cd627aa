"""The one async Kubernetes client of Atoll: plain HTTP to any API server, embedded or real.

Objects are plain dicts decoded with orjson, addressed by a ``ResourceType`` (group, version,
plural, kind, namespaced) — no generated models, so custom resources and built-in kinds take
the same path and nothing is converted twice on hot paths.

Transport: aiohttp, keep-alive, at most ``connection_limit`` connections for requests.
Watches run on a second, unlimited pool: they hold their connection for minutes, and a
process with many informers must never starve its own writes of connections.

Errors: a failed request raises the ``atoll.errors`` class of its ``Status`` reason, with
message, details and code preserved. A reason the tree does not know becomes a subclass of
the class for its HTTP code that carries the server's reason (410 ``Gone`` is an
``Expired``, 504 ``Timeout`` a ``ServiceUnavailable``), so callers can always decide by type.
Unreachable servers and broken connections raise ``ConnectionFailed`` (a
``ServiceUnavailable``): retry it. ``retry_after`` carries ``Retry-After`` of a 429.
Tokens are sent only as headers and never logged. A token file (a Pod's service account,
which the kubelet rotates) is re-read every minute, and at the next request after a 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self
from urllib.parse import quote, urlencode

import aiohttp
import orjson
from yarl import URL

from atoll.errors import ApiError, InternalError, NotFound, ServiceUnavailable

from .kubeconfig import ClusterConfig
from .statuses import error_from_response, error_from_status

__all__ = [
    "ConnectionFailed",
    "KubeClient",
    "Object",
    "PatchBody",
    "PatchType",
    "ResourceType",
    "error_from_response",
    "error_from_status",
]

logger = logging.getLogger(__name__)

Object = dict[str, Any]
"""A Kubernetes object (or List, or Status) as decoded JSON."""

PatchType = Literal["merge", "strategic", "json", "apply"]
Params = Mapping[str, str | int | bool | None]
PatchBody = dict[str, Any] | list[dict[str, Any]] | str | bytes
_ResourceTypes = list["ResourceType"]  # an alias: inside KubeClient, ``list`` is a method

_PATCH_CONTENT_TYPES: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}
_TOKEN_REREAD_SECONDS = 60.0  # as client-go re-reads a rotating service-account token
_WATCH_GRACE_SECONDS = 30.0  # beyond the server's own timeoutSeconds before we give up


@dataclass(frozen=True, slots=True)
class ResourceType:
    """Where a kind is served: ``ResourceType("apps", "v1", "deployments", "Deployment", True)``."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        """``apps/v1``, or ``v1`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(
        self,
        *,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
    ) -> str:
        """The URL path; ``namespace`` is ignored for cluster-scoped kinds, None means all."""
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            root += f"/namespaces/{quote(namespace, safe='')}"
        path = f"{root}/{self.plural}"
        if name is not None:
            path += f"/{quote(name, safe='')}"
            if subresource:
                path += f"/{subresource}"
        return path


class ConnectionFailed(ServiceUnavailable):
    """The server could not be reached, or the connection broke mid-response. Retry."""


_CONNECTION_ERRORS = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError)


def _query(params: Params | None) -> str:
    if not params:
        return ""
    pairs = [
        (k, ("true" if v else "false") if isinstance(v, bool) else str(v))
        for k, v in params.items()
        if v is not None
    ]
    return "?" + urlencode(pairs) if pairs else ""


def _write_params(field_manager: str | None, dry_run: bool) -> dict[str, str | None]:
    return {"fieldManager": field_manager, "dryRun": "All" if dry_run else None}


def _namespace(rt: ResourceType, namespace: str | None, obj: Mapping[str, Any] | None) -> str:
    """The namespace of a single-object request; required for namespaced kinds."""
    if not rt.namespaced:
        return ""
    if not namespace and obj is not None:
        namespace = (obj.get("metadata") or {}).get("namespace")
    if not namespace:
        raise ValueError(f"{rt.plural}.{rt.group or 'core'} are namespaced: give a namespace")
    return namespace


def _name(obj: Mapping[str, Any]) -> str:
    name = (obj.get("metadata") or {}).get("name")
    if not name:
        raise ValueError("the object has no metadata.name")
    return str(name)


class KubeClient:
    """An async client for one API server; open it with ``async with`` or call ``close()``."""

    def __init__(
        self,
        config: ClusterConfig,
        *,
        connection_limit: int = 64,
        request_timeout: float = 30.0,
        user_agent: str = "atoll",
    ) -> None:
        self.config = config
        self._base = config.server.rstrip("/")
        self._ssl: ssl.SSLContext | bool = config.ssl_context() or True
        self._limit = connection_limit
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._connect_timeout = request_timeout
        self._user_agent = user_agent
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._token: str | None = config.token
        self._token_read = float("-inf")
        self._discovery: _ResourceTypes | None = None
        self._discovery_lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        sessions, self._sessions = self._sessions, {}
        for session in sessions.values():
            await session.close()

    def _session(self, purpose: Literal["requests", "watches"]) -> aiohttp.ClientSession:
        session = self._sessions.get(purpose)
        if session is None or session.closed:
            limit = self._limit if purpose == "requests" else 0
            connector = aiohttp.TCPConnector(
                limit=limit,
                ssl=self._ssl,
                keepalive_timeout=60,
                # A watch cancelled before its response began is closed with a graceful TLS
                # goodbye that can outlive the client; before Python 3.12.7 only this makes
                # ``close()`` abort such connections instead of leaking their sockets.
                enable_cleanup_closed=sys.version_info < (3, 12, 7),
            )
            session = aiohttp.ClientSession(connector=connector, auto_decompress=True)
            self._sessions[purpose] = session
        return session

    async def _headers(self, content_type: str | None, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": self._user_agent}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if self.config.token_file is not None:
            now = time.monotonic()
            if now - self._token_read >= _TOKEN_REREAD_SECONDS:
                self._token = await asyncio.to_thread(self.config.read_token)
                self._token_read = now
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _after_failure(self, status: int) -> None:
        # As client-go's cached token source: a 401 may mean the token file has rotated
        # since it was last read, so the next request reads it again instead of waiting.
        if status == 401:
            self._token_read = float("-inf")

    # -- the escape hatch ----------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        timeout: float | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON answer (text when it is not JSON).

        ``body`` may be bytes/str (sent as is) or anything orjson encodes.
        """
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else body
            if not isinstance(data, bytes):
                data = orjson.dumps(data)
        headers = await self._headers(content_type if data is not None else None, accept)
        url = URL(self._base + path + _query(params), encoded=True)
        limit = self._timeout if timeout is None else aiohttp.ClientTimeout(total=timeout)
        try:
            async with self._session("requests").request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=limit,
                server_hostname=self.config.tls_server_name,
            ) as response:
                raw = await response.read()
                status, kind = response.status, response.content_type
                retry_after = response.headers.get("Retry-After")
        except _CONNECTION_ERRORS as exc:
            raise self._connection_failed(method, path, exc) from exc
        logger.debug("%s %s -> %d", method, path, status)
        if status >= 400:
            self._after_failure(status)
            raise error_from_response(status, raw, retry_after=retry_after)
        if kind == "application/json" or kind.endswith("+json"):
            return orjson.loads(raw) if raw else None
        return raw.decode("utf-8", "replace")

    def _connection_failed(self, method: str, path: str, exc: BaseException) -> ConnectionFailed:
        why = str(exc) or type(exc).__name__
        return ConnectionFailed(f"{method} {self._base}{path}: {why}")

    async def _object(self, method: str, path: str, **kwargs: Any) -> Object:
        answer = await self.request(method, path, **kwargs)
        if not isinstance(answer, dict):
            raise InternalError(f"{method} {path}: the server did not answer with an object")
        return answer

    # -- verbs ---------------------------------------------------------------------------

    async def get(
        self,
        rt: ResourceType,
        name: str,
        *,
        namespace: str | None = None,
        subresource: str | None = None,
    ) -> Object:
        ns = _namespace(rt, namespace, None)
        return await self._object("GET", rt.path(namespace=ns, name=name, subresource=subresource))

    async def list(
        self,
        rt: ResourceType,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
    ) -> Object:
        """One page of a List; ``namespace=None`` lists across all namespaces."""
        params = {
            "labelSelector": label_selector or None,
            "fieldSelector": field_selector or None,
            "limit": limit,
            "continue": continue_ or None,
            "resourceVersion": resource_version,
        }
        return await self._object("GET", rt.path(namespace=namespace), params=params)

    async def create(
        self,
        rt: ResourceType,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> Object:
        path = rt.path(namespace=_namespace(rt, namespace, obj))
        params = _write_params(field_manager, dry_run)
        return await self._object("POST", path, params=params, body=dict(obj))

    async def replace(
        self,
        rt: ResourceType,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> Object:
        """PUT the whole object; its ``metadata.resourceVersion`` makes it a conditional write."""
        return await self._put(rt, obj, None, namespace, _write_params(field_manager, dry_run))

    async def replace_status(
        self,
        rt: ResourceType,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> Object:
        """PUT the ``status`` subresource: never the spec; what else may change is the
        kind's status strategy's call (a Deployment's annotations do, for one)."""
        return await self._put(rt, obj, "status", namespace, _write_params(field_manager, dry_run))

    async def _put(
        self,
        rt: ResourceType,
        obj: Mapping[str, Any],
        subresource: str | None,
        namespace: str | None,
        params: Params,
    ) -> Object:
        ns = _namespace(rt, namespace, obj)
        path = rt.path(namespace=ns, name=_name(obj), subresource=subresource)
        return await self._object("PUT", path, params=params, body=dict(obj))

    async def patch(
        self,
        rt: ResourceType,
        name: str,
        patch: PatchBody,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
        subresource: str | None = None,
        field_manager: str | None = None,
        force: bool | None = None,
        dry_run: bool = False,
    ) -> Object:
        """PATCH with a merge, strategic-merge, JSON (RFC 6902) or server-side apply patch."""
        content_type = _PATCH_CONTENT_TYPES.get(patch_type)
        if content_type is None:
            raise ValueError(f"unknown patch type {patch_type!r}")
        if patch_type == "apply" and not field_manager:
            raise ValueError("a server-side apply needs a field_manager")
        ns = _namespace(rt, namespace, None)
        path = rt.path(namespace=ns, name=name, subresource=subresource)
        params = {**_write_params(field_manager, dry_run), "force": force}
        return await self._object(
            "PATCH", path, params=params, body=patch, content_type=content_type
        )

    async def delete(
        self,
        rt: ResourceType,
        name: str,
        *,
        namespace: str | None = None,
        propagation_policy: Literal["Orphan", "Background", "Foreground"] | None = None,
        grace_period_seconds: int | None = None,
        preconditions: Mapping[str, str] | None = None,
        dry_run: bool = False,
    ) -> Object:
        """Delete one object; the answer is the object (when finalizers hold it) or a Status."""
        body = _delete_options(propagation_policy, grace_period_seconds, preconditions, dry_run)
        path = rt.path(namespace=_namespace(rt, namespace, None), name=name)
        return await self._object("DELETE", path, body=body)

    async def delete_collection(
        self,
        rt: ResourceType,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        propagation_policy: Literal["Orphan", "Background", "Foreground"] | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool = False,
    ) -> Object:
        """Delete every matching object (in ``namespace`` for namespaced kinds)."""
        body = _delete_options(propagation_policy, grace_period_seconds, None, dry_run)
        params = {"labelSelector": label_selector or None, "fieldSelector": field_selector or None}
        path = rt.path(namespace=_namespace(rt, namespace, None))
        return await self._object("DELETE", path, params=params, body=body)

    # -- watch ---------------------------------------------------------------------------

    async def watch_stream(
        self,
        rt: ResourceType,
        *,
        namespace: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        allow_bookmarks: bool = True,
    ) -> AsyncGenerator[Object, None]:
        """Raw watch events (``{"type": ..., "object": ...}``) until the server ends the stream.

        An ERROR event raises its ``Status`` as an ``ApiError`` (``Expired`` for 410). Close
        the iterator (``contextlib.aclosing``) when leaving early, to free the connection.
        """
        params: dict[str, str | int | bool | None] = {
            "watch": True,
            "resourceVersion": resource_version,
            "timeoutSeconds": timeout_seconds,
            "labelSelector": label_selector or None,
            "fieldSelector": field_selector or None,
            "allowWatchBookmarks": True if allow_bookmarks else None,
        }
        path = rt.path(namespace=namespace)
        url = URL(self._base + path + _query(params), encoded=True)
        total = None if timeout_seconds is None else timeout_seconds + _WATCH_GRACE_SECONDS
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=self._connect_timeout)
        headers = await self._headers(None, "application/json")
        try:
            async with self._session("watches").get(
                url, headers=headers, timeout=timeout, server_hostname=self.config.tls_server_name
            ) as response:
                if response.status >= 400:
                    self._after_failure(response.status)
                    raw = await response.read()
                    retry_after = response.headers.get("Retry-After")
                    raise error_from_response(response.status, raw, retry_after=retry_after)
                finished = False
                try:
                    async for event in _events(response.content):
                        yield event
                    finished = True
                finally:
                    if not finished:
                        _abort(response)
        except _CONNECTION_ERRORS as exc:
            raise self._connection_failed("WATCH", path, exc) from exc

    # -- pass-through (Atoll's cluster proxy) ---------------------------------------------

    @contextlib.asynccontextmanager
    async def forward(
        self,
        method: str,
        path_and_query: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send a request as given, with this client's credentials, and yield its response
        unread, so a proxy can stream it (watches, followed logs). No total timeout."""
        sent = await self._headers(None, headers.get("Accept", "*/*"))
        sent.update(
            {k: v for k, v in headers.items() if k.lower() not in ("authorization", "host")}
        )
        url = URL(self._base + path_and_query, encoded=True)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout)
        try:
            request = self._session("watches").request(
                method,
                url,
                data=body,
                headers=sent,
                timeout=timeout,
                server_hostname=self.config.tls_server_name,
                auto_decompress=False,
            )
            response = await request.__aenter__()
        except _CONNECTION_ERRORS as exc:
            raise self._connection_failed(method, path_and_query, exc) from exc
        try:
            yield response
        finally:
            response.release()

    async def websocket(
        self, path_and_query: str, *, protocols: Sequence[str]
    ) -> aiohttp.ClientWebSocketResponse:
        """A WebSocket to the cluster (exec, attach, port-forward) with these subprotocols."""
        headers = await self._headers(None, "*/*")
        url = URL(self._base + path_and_query, encoded=True)
        try:
            return await self._session("watches").ws_connect(
                url,
                protocols=tuple(protocols),
                headers=headers,
                server_hostname=self.config.tls_server_name,
                max_msg_size=0,
            )
        except _CONNECTION_ERRORS as exc:
            raise self._connection_failed("GET", path_and_query, exc) from exc

    # -- discovery -----------------------------------------------------------------------

    async def discover(self, *, refresh: bool = False) -> _ResourceTypes:
        """Every top-level resource the server serves (cached; ``refresh`` re-reads).

        Preferred versions come first within each group, so the first match wins.
        """
        async with self._discovery_lock:
            if self._discovery is None or refresh:
                self._discovery = await self._read_discovery()
            return list(self._discovery)

    async def resource_type(self, what: str | tuple[str, str, str]) -> ResourceType:
        """Look a resource up by ``(group, version, kind)``, plural, ``plural.group`` or kind.

        An unknown name re-reads discovery once (a CRD may be new) before raising NotFound.
        """
        for refresh in (False, True):
            found = _find(await self.discover(refresh=refresh), what)
            if found is not None:
                return found
        raise NotFound(f"the server doesn't have a resource type {what!r}")

    async def _read_discovery(self) -> _ResourceTypes:
        core = await self.request("GET", "/api")
        group_versions = [("", v) for v in core.get("versions") or []]
        groups = await self.request("GET", "/apis")
        for group in groups.get("groups") or []:
            preferred = (group.get("preferredVersion") or {}).get("version")
            versions = [v.get("version") for v in group.get("versions") or []]
            versions.sort(key=lambda v: v != preferred)  # stable: preferred first
            group_versions += [(group["name"], v) for v in versions if v]
        found = await asyncio.gather(*(self._group_version(g, v) for g, v in group_versions))
        return [rt for resources in found for rt in resources]

    async def _group_version(self, group: str, version: str) -> _ResourceTypes:
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            answer = await self.request("GET", path)
        except ApiError as exc:  # an unavailable aggregated API must not hide the rest
            logger.warning("discovery of %s failed: %s", path, exc)
            return []
        return [
            ResourceType(group, version, r["name"], r["kind"], bool(r.get("namespaced")))
            for r in answer.get("resources") or []
            if "/" not in r.get("name", "/")
        ]


def _find(types: list[ResourceType], what: str | tuple[str, str, str]) -> ResourceType | None:
    if isinstance(what, tuple):
        group, version, kind = what
        match = (rt for rt in types if (rt.group, rt.version, rt.kind) == (group, version, kind))
        return next(match, None)
    plural, _, group = what.partition(".")
    for rt in types:
        if rt.plural == plural and (not group or rt.group == group):
            return rt
    lowered = what.lower()
    return next((rt for rt in types if rt.kind.lower() == lowered), None)


def _delete_options(
    propagation_policy: str | None,
    grace_period_seconds: int | None,
    preconditions: Mapping[str, str] | None,
    dry_run: bool,
) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
    if propagation_policy is not None:
        body["propagationPolicy"] = propagation_policy
    if grace_period_seconds is not None:
        body["gracePeriodSeconds"] = grace_period_seconds
    if preconditions:
        body["preconditions"] = dict(preconditions)
    if dry_run:
        body["dryRun"] = ["All"]
    return body


def _abort(response: aiohttp.ClientResponse) -> None:
    """Drop the connection of a stream left early: a graceful TLS goodbye would outlive us."""
    connection = response.connection
    if connection is not None and connection.transport is not None:
        connection.transport.abort()


async def _events(content: aiohttp.StreamReader) -> AsyncIterator[Object]:
    """Decode newline-delimited JSON events; an ERROR event raises its Status."""
    buffer = bytearray()
    async for chunk in content.iter_any():
        start = len(buffer)
        buffer += chunk
        while (end := buffer.find(b"\n", start)) >= 0:
            line = bytes(buffer[:end]).strip()
            del buffer[: end + 1]
            start = 0
            if line:
                yield _decode_event(line)
    if buffer.strip():
        yield _decode_event(bytes(buffer))


def _decode_event(line: bytes) -> Object:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise InternalError(f"undecodable watch event: {line[:200]!r}") from None
    if not isinstance(event, dict):
        raise InternalError(f"a watch event is not an object: {line[:200]!r}")
    if event.get("type") == "ERROR":
        status = event.get("object")
        raise error_from_status(status if isinstance(status, Mapping) else {}, code=500)
    return event
