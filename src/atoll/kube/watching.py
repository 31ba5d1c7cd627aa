"""The watch loop, written once: list → watch from the list's resourceVersion → resume → relist.

Every consumer of a stream of object changes (informers, Atoll's controllers, the console's
live updates) goes through ``watch_objects``, as kopf's ``watching.py`` and client-go's
reflector do:

1. list (in pages, one consistent snapshot) and hand over a synthetic ``Listed`` step;
2. watch from the list's resourceVersion with bookmarks, handing over each ``Changed``
   step and remembering the last resourceVersion seen (bookmarks move it too);
3. when the server ends the stream (its timeout, a restart, a proxy), watch again from that
   resourceVersion — nothing is missed and nothing is listed again;
4. on 410 Expired (the resourceVersion fell out of the server's history) list again;
5. on connection errors and other failures back off (exponentially, with jitter) and retry
   forever, until ``stop`` is set.

``watch_step`` is one step of that loop (one list, or one watch session), so each branch is
tested on its own; ``watch_objects`` only adds the retrying and the stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from atoll.errors import ApiError, Expired
from atoll.kit.backoff import Backoff

from .client import Object, ResourceType

__all__ = [
    "Changed",
    "Listed",
    "OnEvent",
    "Step",
    "WatchClient",
    "WatchState",
    "list_objects",
    "watch_objects",
    "watch_step",
]

logger = logging.getLogger(__name__)

PAGE_SIZE = 500  # objects per list page, as client-go's reflector asks
_QUICK_SESSION = 0.5  # seconds: a silent session this short counts as a failure (no hot loop)
_T = TypeVar("_T")


class WatchClient(Protocol):
    """The part of ``KubeClient`` the loop uses; tests pass fakes through this seam."""

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
    ) -> Object: ...

    def watch_stream(
        self,
        rt: ResourceType,
        *,
        namespace: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        allow_bookmarks: bool = True,
    ) -> AsyncGenerator[Object, None]: ...


@dataclass(frozen=True, slots=True)
class Listed:
    """The synthetic step after a (re)list: every object that exists, at ``resource_version``."""

    objects: list[Object]
    resource_version: str


@dataclass(frozen=True, slots=True)
class Changed:
    """One watch event; a DELETED object carries its last state."""

    type: Literal["ADDED", "MODIFIED", "DELETED"]
    object: Object


Step = Listed | Changed
OnEvent = Callable[[Step], Awaitable[None]]


@dataclass(slots=True)
class WatchState:
    """Where the loop stands: the resourceVersion to watch from; None means "list next"."""

    resource_version: str | None = None


def _with_type(obj: Object, rt: ResourceType) -> Object:
    # Items of a List come without kind/apiVersion from kube-apiserver; consumers
    # (event references, owner references) need them, so every object carries both.
    if "kind" not in obj:
        obj["kind"] = rt.kind
    if "apiVersion" not in obj:
        obj["apiVersion"] = rt.api_version
    return obj


async def list_objects(
    client: WatchClient,
    rt: ResourceType,
    *,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    page_size: int | None = PAGE_SIZE,
) -> Listed:
    """Every matching object in one consistent snapshot, paged by ``page_size``.

    When the continue token of a long paged list expires, the list is read again unpaged,
    as client-go's reflector falls back to.
    """
    objects: list[Object] = []
    token: str | None = None
    while True:
        try:
            page = await client.list(
                rt,
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                limit=page_size,
                continue_=token,
            )
        except Expired:
            if token is None or page_size is None:
                raise
            logger.info("paged list of %s expired; listing in one piece", _what(rt, namespace))
            objects, token, page_size = [], None, None
            continue
        objects += [_with_type(item, rt) for item in page.get("items") or []]
        meta = page.get("metadata") or {}
        token = meta.get("continue") or None
        if token is None:
            return Listed(objects, str(meta.get("resourceVersion") or ""))


async def watch_step(
    client: WatchClient,
    rt: ResourceType,
    state: WatchState,
    *,
    on_event: OnEvent,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    timeout_seconds: int | None = None,
) -> bool:
    """One step: a list when ``state`` has no resourceVersion, else one watch session.

    Returns whether the step got anything from the server (a list always does). A session
    ending in 410 Expired clears ``state.resource_version`` so the next step lists again.
    ``state`` advances only after ``on_event`` returned, so a failed hand-over is redelivered.
    """
    if state.resource_version is None:
        listed = await list_objects(
            client,
            rt,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
        )
        await on_event(listed)
        state.resource_version = listed.resource_version
        return True
    received = False
    stream = client.watch_stream(
        rt,
        namespace=namespace,
        resource_version=state.resource_version,
        timeout_seconds=timeout_seconds or random.randint(300, 600),  # as client-go
        label_selector=label_selector,
        field_selector=field_selector,
        allow_bookmarks=True,
    )
    try:
        async with contextlib.aclosing(stream):
            async for event in stream:
                received = True
                await _hand_over(event, rt, on_event)
                version = (event.get("object") or {}).get("metadata", {}).get("resourceVersion")
                if version:
                    state.resource_version = str(version)
    except Expired as exc:
        logger.info("watch of %s expired (%s); listing again", _what(rt, namespace), exc)
        state.resource_version = None
        return True
    return received


async def _hand_over(event: Object, rt: ResourceType, on_event: OnEvent) -> None:
    kind = event.get("type")
    obj = event.get("object")
    if kind == "BOOKMARK":
        return
    if kind in ("ADDED", "MODIFIED", "DELETED") and isinstance(obj, dict):
        await on_event(Changed(kind, _with_type(obj, rt)))
        return
    logger.warning("ignoring a watch event of type %r for %s", kind, rt.plural)


async def watch_objects(
    client: WatchClient,
    rt: ResourceType,
    *,
    on_event: OnEvent,
    stop: asyncio.Event,
    namespace: str | None = None,
    label_selector: str | None = None,
    field_selector: str | None = None,
    backoff: Backoff | None = None,
    timeout_seconds: int | None = None,
) -> None:
    """List and watch until ``stop`` is set; see the module docstring for the loop."""
    state = WatchState()
    backoff = backoff or Backoff()
    loop = asyncio.get_running_loop()
    what = _what(rt, namespace)
    while not stop.is_set():
        before, started = state.resource_version, loop.time()
        step = watch_step(
            client,
            rt,
            state,
            on_event=on_event,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            timeout_seconds=timeout_seconds,
        )
        failed = True
        try:
            progressed = await _unless_stopped(stop, step)
            failed = False
        except ApiError as exc:  # ConnectionFailed included
            logger.warning("watching %s failed: %s", what, exc)
        except Exception:
            logger.exception("watching %s failed", what)
        if stop.is_set():
            return
        if not failed and (progressed or loop.time() - started >= _QUICK_SESSION):
            backoff.reset()
            continue
        if state.resource_version != before:
            backoff.reset()  # the step moved on before it failed: start the delays afresh
        if await backoff.wait(stop):
            return


async def _unless_stopped(stop: asyncio.Event, step: Coroutine[Any, Any, _T]) -> _T | None:
    """Run ``step``; cancel it as soon as ``stop`` is set (then return None)."""
    task = asyncio.ensure_future(step)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return None if task.cancelled() else task.result()


def _what(rt: ResourceType, namespace: str | None) -> str:
    where = f"namespace {namespace}" if namespace else "all namespaces"
    return f"{rt.plural}.{rt.group or 'core'} in {where}" if rt.namespaced else rt.plural
