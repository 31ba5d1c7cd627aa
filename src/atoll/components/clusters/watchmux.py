"""The console's watch socket: ``/kapis/resources.atoll.io/v1alpha1/watches``, one per tab.

A console page watches several kinds at once (a Deployment, its Pods, their Events); a socket
per watch costs a connection each and soon meets the browser's per-host limit. Here one
socket multiplexes them: the console subscribes and unsubscribes by resource, namespace and
selectors, and each subscription is authorized on its own exactly as a plain watch through
``/api`` or ``/apis`` would be, then listed and watched against the cluster with Atoll's
credentials. Opening the socket needs only a valid login (the request pipeline refuses
anonymous handshakes with 401; this path is in ``Pipeline.filtering``).

Protocol: JSON text frames.

Client → server::

    {"op": "subscribe", "id": "pods", "cluster": "host", "group": "", "version": "v1",
     "resource": "pods", "namespace": "web", "labelSelector": "app=web",
     "fieldSelector": "status.phase=Running", "resourceVersion": "1234"}
    {"op": "unsubscribe", "id": "pods"}

``id`` (a non-empty string) names the subscription in every frame about it. ``group`` ""
is the core group; without ``version`` the group's preferred version serves. ``cluster``
(default ``host``), ``namespace`` (none: every namespace; not allowed for cluster-scoped
kinds), the selectors and ``resourceVersion`` are optional. Unknown fields are refused.
Unsubscribing an unknown id does nothing; frames of an unsubscribed id still queued are
dropped, so none arrive once the server has read the ``unsubscribe``.

Server → client::

    {"id": "pods", "type": "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK", "object": {…}}
    {"id": "pods", "type": "SUBSCRIBED"}
    {"id": "pods", "type": "RESYNC"}
    {"id": "pods", "type": "ERROR", "status": {"kind": "Status", "code": 403, …}}

- Without ``resourceVersion`` a subscription starts with a list: every existing object as
  ``ADDED``, then ``SUBSCRIBED``, then the changes since that list. With one, ``SUBSCRIBED``
  comes first and the watch starts there. Either way every change after ``SUBSCRIBED`` is
  delivered, in order; ``BOOKMARK`` objects carry only a newer ``resourceVersion`` to resume
  from on a new socket.
- When the cluster no longer has the history to continue (410 Expired), ``RESYNC`` says:
  forget this subscription's objects; every object follows as ``ADDED``, then
  ``SUBSCRIBED`` again, and the changes go on.
- ``ERROR`` ends the subscription it names (the id may be used again), its ``status`` a
  Kubernetes ``Status``: 400 for a malformed subscribe, 403 with the authorizer's reason
  when a plain watch would be refused (the very ``Status`` the request pipeline answers,
  and audited as the pipeline audits refusals), 404 for an unknown cluster or resource, 429
  beyond ``Limits.subscriptions`` subscriptions, or what the cluster said when the list or
  the watch failed (a broken connection included: subscribe again from the last
  ``resourceVersion``). An ``ERROR`` answering a frame ends nothing else: a subscribe whose
  id is already live gets a 400 and that subscription goes on; a frame that is not a JSON
  object, or names no known ``op``, gets a 400 (``"id": null`` when it has no id).

A watch authorized at subscribe time goes on until it ends, as a plain watch does; roles
taken away later apply to the next subscribe. Each object passes the pipeline's
``ObjectHook.read`` for its kind first (no User leaves with its password).

Slow consumers: frames wait in one bounded queue per socket. A subscription that finds no
room within ``Limits.patience`` seconds has met a consumer that is not keeping up; the socket
is then closed with 1013 (try again later) instead of buffering without bound. Closing the
socket, either way, cancels every watch and frees its connection to the cluster.

Browsers cannot set headers on a WebSocket: they authenticate with the ``access_token``
query parameter or the ``base64url.bearer.authorization.k8s.io.<token>`` subprotocol; with
the latter they must also offer ``watches.atoll.io``, which the server then chooses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import orjson
from fastapi import APIRouter, HTTPException, WebSocket
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response
from starlette.websockets import WebSocketDisconnect

from atoll.errors import (
    ApiError,
    BadRequest,
    Expired,
    Forbidden,
    InternalError,
    NotFound,
    TooManyRequests,
)
from atoll.kit.backoff import Backoff
from atoll.kube.client import ResourceType
from atoll.kube.watching import WatchClient, list_objects
from atoll.server.access import (
    HOST_CLUSTER,
    ObjectHook,
    Pipeline,
    Principal,
    RequestInfo,
    principal_of,
)
from atoll.server.problems import problem

__all__ = ["PATH", "PROTOCOL", "Limits", "WatchMux", "watches_router"]

logger = logging.getLogger(__name__)

PATH = "/kapis/resources.atoll.io/v1alpha1/watches"
PROTOCOL = "watches.atoll.io"  # the subprotocol chosen when a browser offers it
_QUICK_SESSION = 0.5  # seconds: a silent watch session this short is retried after a back-off


@dataclass(frozen=True, slots=True)
class Limits:
    """What one socket may hold."""

    subscriptions: int = 100  # live subscriptions; more are refused with 429
    queued_frames: int = 1024  # frames waiting for the consumer
    patience: float = 10.0  # seconds to wait for room in the queue before closing with 1013


class ClusterClient(WatchClient, Protocol):
    """The part of ``KubeClient`` the socket uses: list, watch and discovery."""

    async def discover(self, *, refresh: bool = False) -> list[ResourceType]: ...


class Subscription(BaseModel):
    """A ``subscribe`` frame."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    op: Literal["subscribe"]
    id: str = Field(min_length=1, max_length=253)
    cluster: str = HOST_CLUSTER
    group: str = ""
    version: str | None = None
    resource: str = Field(min_length=1)
    namespace: str | None = None
    label_selector: str | None = Field(None, alias="labelSelector")
    field_selector: str | None = Field(None, alias="fieldSelector")
    resource_version: str | None = Field(None, alias="resourceVersion")

    @classmethod
    def parse(cls, frame: dict[str, Any]) -> Subscription:
        try:
            return cls.model_validate(frame)
        except ValidationError as error:
            problems = [
                f"{'.'.join(str(part) for part in e['loc']) or 'frame'}: {e['msg']}"
                for e in error.errors()
            ]
            raise BadRequest("a malformed subscribe: " + "; ".join(problems)) from None


class SlowConsumer(Exception):
    """The socket's consumer left no room in its queue for ``Limits.patience`` seconds."""


@dataclass(eq=False)
class _Watch:
    """One live subscription: its task, and whether the client has dropped it."""

    subscription: Subscription
    task: asyncio.Task[None] | None = None
    stopped: bool = False


class _Outbox:
    """The socket's bounded queue of frames, each with the watch it belongs to (None: the
    socket's own, such as an ERROR for a bad frame)."""

    def __init__(self, size: int, patience: float) -> None:
        self._queue: asyncio.Queue[tuple[_Watch | None, str]] = asyncio.Queue(size)
        self._patience = patience

    async def put(self, owner: _Watch | None, frame: dict[str, Any]) -> None:
        item = (owner, orjson.dumps(frame).decode())
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            try:
                await asyncio.wait_for(self._queue.put(item), self._patience)
            except TimeoutError:
                raise SlowConsumer(f"no room for {self._patience} s") from None

    async def get(self) -> tuple[_Watch | None, str]:
        return await self._queue.get()


def _error_frame(id_: Any, error: ApiError) -> dict[str, Any]:
    return {"id": id_, "type": "ERROR", "status": error.to_status()}


class WatchMux:
    """One socket's subscriptions, from the handshake until either side closes."""

    def __init__(
        self,
        websocket: WebSocket,
        *,
        clients: Callable[[str], ClusterClient],
        pipeline: Pipeline,
        limits: Limits = Limits(),
    ) -> None:
        self._websocket = websocket
        self._who: Principal = principal_of(websocket)
        self._clients = clients  # by cluster name; raises NotFound for an unknown one
        self._pipeline = pipeline
        self._limits = limits
        self._outbox = _Outbox(limits.queued_frames, limits.patience)
        self._watches: dict[str, _Watch] = {}
        self._group: asyncio.TaskGroup | None = None

    async def serve(self) -> None:
        """Accept the socket and serve it; every watch is cancelled before this returns."""
        offered = self._websocket.headers.get("sec-websocket-protocol", "")
        chosen = PROTOCOL if PROTOCOL in (p.strip() for p in offered.split(",")) else None
        await self._websocket.accept(subprotocol=chosen)
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                sender = group.create_task(self._send_frames(), name="watchmux sender")
                await self._read_frames()
                sender.cancel()
                for watch in self._watches.values():
                    self._stop(watch)
        except* SlowConsumer:
            logger.info("closing the watch socket of %s: it does not keep up", self._who.name)
            # Bounded too: a client that reads nothing may never take the close frame.
            closing = self._websocket.close(code=1013, reason="too slow: reconnect and resume")
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, TimeoutError):
                await asyncio.wait_for(closing, self._limits.patience)
        except* (WebSocketDisconnect, OSError):
            pass  # the client went away while a frame was on its way

    # -- the two ends of the socket ------------------------------------------------------

    async def _send_frames(self) -> None:
        while True:
            owner, text = await self._outbox.get()
            if owner is None or not owner.stopped:
                await self._websocket.send_text(text)

    async def _read_frames(self) -> None:
        while True:
            message = await self._websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                refusal = BadRequest("frames must be JSON text")
                await self._outbox.put(None, _error_frame(None, refusal))
                continue
            await self._handle(text)

    async def _handle(self, text: str) -> None:
        try:
            frame = orjson.loads(text)
        except orjson.JSONDecodeError:
            frame = None
        if not isinstance(frame, dict):
            refusal = BadRequest("a frame must be a JSON object")
            await self._outbox.put(None, _error_frame(None, refusal))
            return
        id_ = frame.get("id") if isinstance(frame.get("id"), str | int) else None
        op = frame.get("op")
        if op == "subscribe":
            await self._subscribe(frame, id_)
        elif op == "unsubscribe":
            watch = self._watches.pop(id_, None) if isinstance(id_, str) else None
            if watch is not None:
                self._stop(watch)
        else:
            refusal = BadRequest(f"unknown op {op!r}: subscribe or unsubscribe")
            await self._outbox.put(None, _error_frame(id_, refusal))

    async def _subscribe(self, frame: dict[str, Any], id_: Any) -> None:
        try:
            subscription = Subscription.parse(frame)
            if subscription.id in self._watches:
                raise BadRequest(f"subscription {subscription.id!r} exists: choose another id")
            if len(self._watches) >= self._limits.subscriptions:
                raise TooManyRequests(
                    f"at most {self._limits.subscriptions} subscriptions per socket"
                )
        except ApiError as refusal:
            await self._outbox.put(None, _error_frame(id_, refusal))
            return
        assert self._group is not None
        watch = _Watch(subscription)
        self._watches[subscription.id] = watch
        watch.task = self._group.create_task(self._follow(watch), name=f"watch {subscription.id}")

    def _stop(self, watch: _Watch) -> None:
        watch.stopped = True  # its frames still queued are dropped
        if watch.task is not None:
            watch.task.cancel()

    # -- one subscription ----------------------------------------------------------------

    async def _follow(self, watch: _Watch) -> None:
        """The life of one subscription: it ends with an ERROR frame, or is cancelled."""
        subscription = watch.subscription
        try:
            rt = await self._resolve(subscription)
            await self._authorize(subscription, rt)
            hook = self._pipeline.object_hooks.get((rt.group, rt.plural))
            await self._stream(watch, rt, hook)
        except SlowConsumer:
            raise
        except ApiError as error:
            await self._outbox.put(watch, _error_frame(subscription.id, error))
        except Exception:
            logger.exception("the watch %r of %s failed", subscription.id, self._who.name)
            failed = InternalError("the watch failed; subscribe again")
            await self._outbox.put(watch, _error_frame(subscription.id, failed))
        finally:
            if self._watches.get(subscription.id) is watch:
                del self._watches[subscription.id]

    async def _resolve(self, subscription: Subscription) -> ResourceType:
        client = self._clients(subscription.cluster)
        for refresh in (False, True):  # a CRD may be newer than the cached discovery
            for rt in await client.discover(refresh=refresh):
                if (rt.group, rt.plural) == (subscription.group, subscription.resource) and (
                    subscription.version in (None, rt.version)
                ):
                    if subscription.namespace and not rt.namespaced:
                        raise BadRequest(f"{rt.plural} are cluster-scoped: give no namespace")
                    return rt
        raise NotFound(
            "the server could not find the requested resource",
            group=subscription.group,
            kind=subscription.resource,
        )

    async def _authorize(self, subscription: Subscription, rt: ResourceType) -> None:
        """As the request pipeline authorizes ``GET …/<resource>?watch=true``."""
        namespace = (subscription.namespace or "") if rt.namespaced else ""
        info = RequestInfo(
            verb="watch",
            path=rt.path(namespace=namespace or None),
            resource_request=True,
            prefix="apis" if rt.group else "api",
            api_group=rt.group,
            api_version=rt.version,
            resource=rt.plural,
            namespace=namespace,
            cluster=subscription.cluster,
        )
        decision = await self._pipeline.authorize(self._who, info)
        if decision.allowed:
            return
        self._audit_refusal(info, decision.reason)
        raise _Refused(decision.reason, info)

    def _audit_refusal(self, info: RequestInfo, reason: str) -> None:
        client = self._websocket.client
        self._pipeline.audit(self._who, info, client.host if client else "", 403, reason)

    async def _stream(self, watch: _Watch, rt: ResourceType, hook: ObjectHook | None) -> None:
        """List (unless given a resourceVersion), then watch; relist on 410 Expired."""
        subscription = watch.subscription
        version = subscription.resource_version or None  # "" means now, as Kubernetes reads it
        if version is None:
            version = await self._list(watch, rt, hook)
        await self._outbox.put(watch, {"id": subscription.id, "type": "SUBSCRIBED"})
        backoff = Backoff()
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                version, received = await self._watch_session(watch, rt, hook, version)
            except Expired:
                await self._outbox.put(watch, {"id": subscription.id, "type": "RESYNC"})
                version = await self._list(watch, rt, hook)
                await self._outbox.put(watch, {"id": subscription.id, "type": "SUBSCRIBED"})
                continue
            if received or loop.time() - started >= _QUICK_SESSION:
                backoff.reset()
            else:  # a server that ends watches at once must not make us spin
                await backoff.wait()

    async def _list(self, watch: _Watch, rt: ResourceType, hook: ObjectHook | None) -> str:
        subscription = watch.subscription
        listed = await list_objects(
            self._clients(subscription.cluster),
            rt,
            namespace=subscription.namespace or None,
            label_selector=subscription.label_selector,
            field_selector=subscription.field_selector,
        )
        for obj in listed.objects:
            shown = hook.read(obj) if hook is not None and hook.read is not None else obj
            await self._outbox.put(watch, {"id": subscription.id, "type": "ADDED", "object": shown})
        return listed.resource_version

    async def _watch_session(
        self, watch: _Watch, rt: ResourceType, hook: ObjectHook | None, version: str
    ) -> tuple[str, bool]:
        """Watch from ``version`` until the cluster ends the stream; return where it got
        and whether anything came."""
        subscription = watch.subscription
        received = False
        stream = self._clients(subscription.cluster).watch_stream(
            rt,
            namespace=subscription.namespace or None,
            resource_version=version,
            timeout_seconds=random.randint(300, 600),  # as client-go's reflector
            label_selector=subscription.label_selector,
            field_selector=subscription.field_selector,
            allow_bookmarks=True,
        )
        async with contextlib.aclosing(stream):
            async for event in stream:
                received = True
                kind, obj = event.get("type"), event.get("object")
                if kind not in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK"):
                    continue
                if not isinstance(obj, dict):
                    continue
                version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
                if kind != "BOOKMARK" and hook is not None and hook.read is not None:
                    obj = hook.read(obj)
                await self._outbox.put(watch, {"id": subscription.id, "type": kind, "object": obj})
        return version, received


class _Refused(Forbidden):
    """A subscription the authorizer refused, with the very ``Status`` the request pipeline
    answers a refused plain watch with."""

    def __init__(self, reason: str, info: RequestInfo) -> None:
        super().__init__(reason, group=info.api_group, kind=info.resource)

    def to_status(self) -> dict[str, Any]:
        status = super().to_status()
        status["details"] = {"name": "", "group": self.group, "kind": self.kind}
        return status


def watches_router(
    clients: Callable[[], Callable[[str], ClusterClient]],
    pipeline: Callable[[], Pipeline],
    *,
    limits: Limits = Limits(),
) -> APIRouter:
    """The socket's route; ``clients`` (giving the client of a cluster by name) and
    ``pipeline`` raise ``HTTPException`` until the component has started."""
    router = APIRouter(include_in_schema=False)

    @router.websocket(PATH)
    async def watches(websocket: WebSocket) -> None:
        try:
            mux = WatchMux(websocket, clients=clients(), pipeline=pipeline(), limits=limits)
        except HTTPException:
            await websocket.close(code=1013, reason="Atoll is starting; try again in a moment")
            return
        await mux.serve()

    # Plain HTTP at ``PATH`` or under it must not fall through to another route (the
    # resources API would take "watches…" for a kind): it is told to upgrade instead.
    async def not_a_websocket() -> Response:
        answer = problem(426, f"{PATH} is a WebSocket: connect with Upgrade: websocket")
        answer.headers["Upgrade"] = "websocket"
        return answer

    router.add_api_route(
        PATH + "{rest:path}",
        not_a_websocket,
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    )
    return router
