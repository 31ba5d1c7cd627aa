"""The lean reflector: list → watch from the list's resourceVersion → relist on 410, into a store.

It is ``atoll.kube.watching``'s loop with one difference that matters for memory: each list
page becomes entries (JSON bytes and a few fields, see ``entries``) as it arrives, so no more
than one page of decoded objects is alive at a time. ``list_objects`` keeps every decoded
object of a list until its end — 50,000 pods would be most of a gigabyte for a moment.

Like the shared loop, it resumes a watch the server ended from the last resourceVersion seen
(bookmarks move it too), lists again on 410 Expired, and backs off on failures. Unlike it, a
resource that turns out not to be listable — deleted (a CRD removed), without list/watch
verbs, or forbidden to Atoll — ends the loop and fails the store, so the request waiting for
it gets an answer instead of waiting for a cache that will never fill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from atoll.errors import ApiError, Expired, Forbidden, MethodNotAllowed, NotFound
from atoll.kit.backoff import Backoff
from atoll.kube.client import Object
from atoll.kube.watching import PAGE_SIZE, WatchClient, WatchState

from .entries import entry_of
from .stores import Store, resource_name

__all__ = ["reflect", "reflect_step", "relist"]

logger = logging.getLogger(__name__)

_PERMANENT = (NotFound, MethodNotAllowed, Forbidden)
_QUICK_SESSION = 0.5  # seconds: a silent watch session this short counts as a failure
_LIST_ATTEMPTS = 3  # paged lists started again when their continue token expired


async def reflect(client: WatchClient, store: Store, *, backoff: Backoff | None = None) -> None:
    """Keep ``store`` in step with the cluster until cancelled, or until it fails for good."""
    loop = asyncio.get_running_loop()
    state = WatchState()
    backoff = backoff or Backoff()
    what = resource_name(store.rt)
    while True:
        started, failed, progressed = loop.time(), True, False
        try:
            progressed = await reflect_step(client, store, state)
            failed = False
        except _PERMANENT as error:
            logger.warning("caching %s stopped: %s", what, error)
            if isinstance(error, MethodNotAllowed):
                error = NotFound(f"{what} cannot be listed and watched")
            store.fail(error)
            return
        except ApiError as error:  # ConnectionFailed included
            logger.warning("caching %s failed: %s", what, error)
        except Exception:
            logger.exception("caching %s failed", what)
        if not failed and (progressed or loop.time() - started >= _QUICK_SESSION):
            backoff.reset()
            continue
        await asyncio.sleep(backoff.next_delay())


async def reflect_step(client: WatchClient, store: Store, state: WatchState) -> bool:
    """A list when ``state`` has no resourceVersion, else one watch session.

    Returns whether the server sent anything; 410 Expired clears ``state`` (list next).
    """
    if state.resource_version is None:
        state.resource_version = store.resource_version = await relist(client, store)
        return True
    received = False
    stream = client.watch_stream(
        store.rt,
        resource_version=state.resource_version,
        timeout_seconds=random.randint(300, 600),  # as client-go
        allow_bookmarks=True,
    )
    try:
        async with contextlib.aclosing(stream):
            async for event in stream:
                received = True
                _apply(store, event)
                version = (event.get("object") or {}).get("metadata", {}).get("resourceVersion")
                if version:
                    state.resource_version = store.resource_version = str(version)
    except Expired as error:
        logger.info("watch of %s expired (%s); listing again", store.rt.plural, error)
        state.resource_version = None
        return True
    return received


async def relist(client: WatchClient, store: Store) -> str:
    """List every object, page by page, into ``store``; return the list's resourceVersion."""
    rt = store.rt
    for _ in range(_LIST_ATTEMPTS):
        entries = []
        token: str | None = None
        try:
            while True:
                page = await client.list(rt, limit=PAGE_SIZE, continue_=token)
                entries += [entry_of(item, rt) for item in page.get("items") or []]
                meta = page.get("metadata") or {}
                token = meta.get("continue") or None
                if token is None:
                    store.replace(entries)
                    return str(meta.get("resourceVersion") or "")
        except Expired:
            if token is None:
                raise
            logger.info("paged list of %s expired; listing from the start", rt.plural)
    raise Expired(f"the list of {rt.plural} kept expiring between pages")


def _apply(store: Store, event: Object) -> None:
    kind, obj = event.get("type"), event.get("object")
    if kind == "BOOKMARK" or not isinstance(obj, dict):
        return
    if kind in ("ADDED", "MODIFIED"):
        store.put(entry_of(obj, store.rt))
    elif kind == "DELETED":
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or ""
        store.remove(namespace if store.rt.namespaced else "", str(meta.get("name") or ""))
    else:
        logger.warning("ignoring a watch event of type %r for %s", kind, store.rt.plural)
