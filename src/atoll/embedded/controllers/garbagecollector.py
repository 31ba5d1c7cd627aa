"""The garbage collector: ownerReferences honoured for every resource the server serves.

kube-controller-manager's garbage collector, rebuilt on shared informers. Every resource
that can be listed, watched and deleted is watched (events excepted, as kube does); each
cache indexes its objects by uid and by owner uid, so "the object with uid X" and "the
dependents of X" are dictionary look-ups across the caches — the owner → dependents graph
needs no structure of its own and nothing is ever scanned per event.

Queue keys are uids: ``d/<uid>`` (is this object garbage? — kube's attemptToDelete) and
``o/<uid>`` (orphan the dependents of this owner). The three cascade policies:

- **Background**: the owner is deleted at once; its DELETED event queues each dependent,
  which is deleted (with ``preconditions.uid``) once none of its owners exists any more.
  An owner missing from the caches is looked up on the server before anything is deleted.
- **Foreground**: the owner keeps ``foregroundDeletion`` and its deletionTimestamp; its
  dependents are deleted (Foreground again when they have dependents of their own), and
  the finalizer is removed once no dependent with ``blockOwnerDeletion`` remains.
- **Orphan**: the owner keeps ``orphan``; its ownerReference is removed from every
  dependent, then the finalizer.

Custom resources are watched too: a CRD event (and a slow periodic re-read) re-discovers the
served resources and watches the new ones. Every write is conditional (uid precondition or
resourceVersion), so racing another finalizer is harmless: NotFound means done, Conflict
means look again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from atoll.controllers.clocks import Clock
from atoll.controllers.results import Result, TemporaryError
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.errors import Conflict, NotFound
from atoll.kube.client import Object, ResourceType
from atoll.kube.informers import OWNER_UID_INDEX, Informer, by_owner_uid
from atoll.kube.watching import list_objects

from . import ControllerOptions
from .namespaces import Discovery, discover_served

__all__ = ["CONTROLLERS", "UID_INDEX", "GarbageCollector", "by_uid"]

logger = logging.getLogger(__name__)

UID_INDEX = "uid"
CRDS = ResourceType(
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False
)
ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
_IGNORED = frozenset({("", "events"), ("events.k8s.io", "events")})  # kube's default too
_RESOURCES_KEY = "resources"  # re-discover and watch new resources; uid keys contain a "/"
_REDISCOVER_SECONDS = 60.0  # CRD events trigger it at once; this catches everything else
_SYNC_PATIENCE_SECONDS = 30.0  # a cache that cannot list for this long is not waited for
_ABSENT_CACHE_SIZE = 4096  # uids known to be gone, as kube's absentOwnerCache
_REDISCOVER_AT_MOST_EVERY = 5.0  # seconds, when an ownerReference names an unknown kind
Policy = Literal["Orphan", "Background", "Foreground"]
OwnerState = Literal["solid", "gone", "waiting"]


class _UnknownKind(Exception):
    """An ownerReference names a kind the server does not serve (a CRD not yet created?)."""


def by_uid(obj: Object) -> list[str]:
    uid = (obj.get("metadata") or {}).get("uid")
    return [str(uid)] if uid else []


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    return meta


def _refs(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [r for r in _meta(obj).get("ownerReferences") or () if isinstance(r, dict)]


def _deleting_with(obj: Mapping[str, Any], finalizer: str) -> bool:
    meta = _meta(obj)
    return bool(meta.get("deletionTimestamp")) and finalizer in (meta.get("finalizers") or ())


@dataclass(frozen=True, slots=True)
class _Item:
    """An object as the caches know it, with the resource it is served as."""

    rt: ResourceType
    obj: Object

    @property
    def uid(self) -> str:
        return str(_meta(self.obj).get("uid"))

    @property
    def name(self) -> str:
        return str(_meta(self.obj).get("name"))

    @property
    def namespace(self) -> str:
        return str(_meta(self.obj).get("namespace") or "")

    @property
    def deleting(self) -> bool:
        return bool(_meta(self.obj).get("deletionTimestamp"))

    def blocks(self, owner_uid: str) -> bool:
        """Whether this dependent holds up the foreground deletion of ``owner_uid``."""
        return any(
            r.get("uid") == owner_uid and r.get("blockOwnerDeletion") for r in _refs(self.obj)
        )

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.rt.plural}.{self.rt.group or 'core'} {where}{self.name}"


# -- the graph: queries across every watched cache -------------------------------------------


class _Graph:
    """The informers the collector reads, one per watched resource, queried by uid."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._informers: dict[ResourceType, Informer] = {}
        self._since: dict[ResourceType, float] = {}

    @property
    def types(self) -> set[ResourceType]:
        return set(self._informers)

    def add(self, rt: ResourceType, informer: Informer) -> None:
        self._informers[rt] = informer
        self._since[rt] = self._clock.monotonic()

    def remove(self, rt: ResourceType) -> list[Object]:
        """Stop reading ``rt``; return what its cache held."""
        self._since.pop(rt, None)
        informer = self._informers.pop(rt, None)
        return informer.list() if informer is not None else []

    def find(self, uid: str) -> _Item | None:
        for rt, informer in self._informers.items():
            found = informer.by_index(UID_INDEX, uid)
            if found:
                return _Item(rt, found[0])
        return None

    def dependents(self, uid: str) -> list[_Item]:
        seen: set[str] = set()
        items = []
        for rt, informer in self._informers.items():
            for obj in informer.by_index(OWNER_UID_INDEX, uid):
                item = _Item(rt, obj)
                if item.uid not in seen:  # one object served under two groups (ingresses)
                    seen.add(item.uid)
                    items.append(item)
        return items

    def synced(self) -> bool:
        """All caches listed, but for those that have failed to for a long while."""
        patience = self._clock.monotonic() - _SYNC_PATIENCE_SECONDS
        return all(
            informer.has_synced or self._since[rt] < patience
            for rt, informer in self._informers.items()
        )


class _Monitors:
    """Informers of resources that appear after the manager started its own (new CRDs).

    The runtime cannot yet start an informer once its controllers run, so each of these
    runs as a task of its own, bound to the worker that started it: when the manager
    stops its workers, these stop too.
    """

    def __init__(self) -> None:
        self._running: dict[ResourceType, tuple[asyncio.Event, asyncio.Task[None]]] = {}
        self._bound: set[asyncio.Task[Any]] = set()

    @property
    def types(self) -> set[ResourceType]:
        return set(self._running)

    def start(self, rt: ResourceType, informer: Informer) -> None:
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(
            informer.run(stop), name=f"garbage collector informer {rt.plural}.{rt.group}"
        )
        task.add_done_callback(_log_failure)
        self._running[rt] = (stop, task)
        worker = asyncio.current_task()
        if worker is not None and worker not in self._bound:
            self._bound.add(worker)
            worker.add_done_callback(lambda _: self.stop_all())

    def stop(self, rt: ResourceType) -> None:
        stop, task = self._running.pop(rt, (None, None))
        if stop is not None and task is not None:
            stop.set()
            task.cancel()

    def stop_all(self) -> None:
        for rt in list(self._running):
            self.stop(rt)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("%s failed", task.get_name(), exc_info=task.exception())


def _collectable(discovery: Discovery) -> list[ResourceType]:
    return [
        served.type
        for served in discovery.resources
        if served.allows("list", "watch", "delete")
        and (served.type.group, served.type.plural) not in _IGNORED
    ]


# -- the controller ---------------------------------------------------------------------------


class GarbageCollector:
    """Deletes dependents whose owners are gone; runs the orphan and foreground finalizers."""

    name = "garbagecollector"

    def __init__(self, options: ControllerOptions) -> None:
        self._options = options
        self._graph = _Graph(options.clock)
        self._monitors = _Monitors()
        self._kinds: dict[tuple[str, str], ResourceType] = {}
        self._kinds_read = float("-inf")
        self._absent: OrderedDict[str, None] = OrderedDict()

    async def setup(self, ctx: ControllerContext) -> None:
        """Watch the built-in resources through the shared informers; custom resources are
        watched by the first ``resources`` pass, so a broken CRD never holds up the manager."""
        self._ctx = ctx
        discovery = await discover_served(ctx.client)
        self._learn_kinds(discovery)
        custom = await self._custom_resources()
        for rt in _collectable(discovery):
            if (rt.group, rt.plural) not in custom:
                self._watch(rt, ctx.informers.informer(rt))
        ctx.queue.add(_RESOURCES_KEY)

    async def _custom_resources(self) -> set[tuple[str, str]]:
        crds = await list_objects(self._ctx.client, CRDS)
        return {
            (str(spec.get("group")), str((spec.get("names") or {}).get("plural")))
            for spec in (crd.get("spec") or {} for crd in crds.objects)
        }

    def _learn_kinds(self, discovery: Discovery) -> None:
        self._kinds = {(s.type.group, s.type.kind): s.type for s in discovery.resources}
        self._kinds_read = self._options.clock.monotonic()

    def _watch(self, rt: ResourceType, informer: Informer) -> None:
        informer.add_indexer(UID_INDEX, by_uid)
        informer.add_indexer(OWNER_UID_INDEX, by_owner_uid)
        informer.add_handler(on_add=self._added, on_update=self._updated, on_delete=self._deleted)
        if rt == CRDS:
            informer.add_handler(
                on_add=self._crd_changed,
                on_update=lambda _old, new: self._crd_changed(new),
                on_delete=self._crd_changed,
            )
        self._graph.add(rt, informer)

    # -- handlers: they only queue keys --------------------------------------------------

    def _added(self, obj: Object) -> None:
        if _refs(obj):
            self._queue_attempt(obj)
        self._queue_finalizing(obj)

    def _updated(self, old: Object, new: Object) -> None:
        self._queue_finalizing(new)
        old_refs, new_refs = _refs(old), _refs(new)
        if old_refs == new_refs:
            return
        self._queue_attempt(new)  # a new owner may be gone already
        kept = {(r.get("uid"), bool(r.get("blockOwnerDeletion"))) for r in new_refs}
        for ref in old_refs:  # an owner waiting on this dependent may be free now
            if (ref.get("uid"), bool(ref.get("blockOwnerDeletion"))) not in kept:
                self._wake_owner(str(ref.get("uid")))

    def _deleted(self, obj: Object) -> None:
        for uid in by_uid(obj):
            for dependent in self._graph.dependents(uid):
                self._ctx.queue.add(f"d/{dependent.uid}")
        for ref in _refs(obj):
            self._wake_owner(str(ref.get("uid")))

    def _crd_changed(self, _crd: Object) -> None:
        self._ctx.queue.add(_RESOURCES_KEY)

    def _queue_attempt(self, obj: Object) -> None:
        for uid in by_uid(obj):
            self._ctx.queue.add(f"d/{uid}")

    def _queue_finalizing(self, obj: Object) -> None:
        if _deleting_with(obj, ORPHAN):
            for uid in by_uid(obj):
                self._ctx.queue.add(f"o/{uid}")
        elif _deleting_with(obj, FOREGROUND):
            self._queue_attempt(obj)

    def _wake_owner(self, uid: str) -> None:
        owner = self._graph.find(uid)
        if owner is not None and _deleting_with(owner.obj, FOREGROUND):
            self._ctx.queue.add(f"d/{uid}")

    # -- reconcile -----------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result:
        if key == _RESOURCES_KEY:
            return await self._sync_resources()
        kind, _, uid = key.partition("/")
        try:
            if kind == "o":
                return await self._orphan_dependents(uid)
            return await self._attempt_to_delete(uid)
        except Conflict:  # our cache is behind the object: look again shortly
            return Result(requeue=True)

    async def _attempt_to_delete(self, uid: str) -> Result:
        """kube's attemptToDeleteItem: delete ``uid`` if none of its owners remains."""
        item = self._graph.find(uid)
        if item is None:
            return Result()
        if item.deleting:
            if _deleting_with(item.obj, FOREGROUND):
                return await self._delete_dependents(item)
            return Result()
        refs = _refs(item.obj)
        if not refs:
            return Result()
        try:
            states = [await self._owner_state(item, ref) for ref in refs]
        except _UnknownKind as exc:
            logger.info("%s: %s; looking again later", item, exc)
            return Result(requeue=True)
        if "solid" in states:
            absent = {
                str(r.get("uid")) for r, state in zip(refs, states, strict=True) if state != "solid"
            }
            if absent:  # only the references to owners that are gone or going
                await self._drop_owner_refs(item, absent)
            return Result()
        if "waiting" in states and self._graph.dependents(uid):
            await self._delete(item, "Foreground")  # its own dependents go first, then it
        else:
            await self._delete(item, _policy_of(item.obj))
        logger.debug("%s: deleted, its owners being %s", item, ", ".join(states))
        return Result()

    async def _owner_state(self, item: _Item, ref: Mapping[str, Any]) -> OwnerState:
        """Whether the owner ``ref`` names exists, is gone, or waits for its dependents."""
        uid = str(ref.get("uid"))
        owner = self._graph.find(uid)
        if owner is None or not _same_owner(owner, ref, item.namespace):
            if uid in self._absent:
                return "gone"
            owner = await self._look_up_owner(item, ref)
            if owner is None:
                self._remember_absent(uid)
                return "gone"
        return "waiting" if _deleting_with(owner.obj, FOREGROUND) else "solid"

    async def _look_up_owner(self, item: _Item, ref: Mapping[str, Any]) -> _Item | None:
        """The owner as the server has it, or None when it is gone (raises ``_UnknownKind``)."""
        group = str(ref.get("apiVersion") or "").rpartition("/")[0]
        rt = await self._kind(group, str(ref.get("kind")))
        if rt.namespaced and not item.namespace:
            await self._ctx.events.warning(
                item.obj, "OwnerRefInvalidNamespace", message=_invalid_namespace(ref, item)
            )
            return None
        try:
            live = await self._ctx.client.get(rt, str(ref.get("name")), namespace=item.namespace)
        except NotFound:
            return None
        return _Item(rt, live) if _meta(live).get("uid") == ref.get("uid") else None

    async def _kind(self, group: str, kind: str) -> ResourceType:
        rt = self._kinds.get((group, kind))
        stale = self._options.clock.monotonic() - self._kinds_read > _REDISCOVER_AT_MOST_EVERY
        if rt is None and stale:  # a CRD may be newer than what we know
            self._learn_kinds(await discover_served(self._ctx.client))
            rt = self._kinds.get((group, kind))
        if rt is None:
            raise _UnknownKind(f"the owner kind {kind} of group {group or 'core'!r} is not served")
        return rt

    def _remember_absent(self, uid: str) -> None:
        self._absent[uid] = None  # uids are never reused: gone stays gone
        while len(self._absent) > _ABSENT_CACHE_SIZE:
            self._absent.popitem(last=False)

    async def _delete_dependents(self, owner: _Item) -> Result:
        """Foreground: queue every dependent; drop the finalizer once none blocks."""
        if not self._graph.synced():
            raise TemporaryError("waiting for the caches to list", delay=1.0)
        dependents = self._graph.dependents(owner.uid)
        if not any(d.blocks(owner.uid) for d in dependents):
            await self._remove_finalizer(owner, FOREGROUND)
            return Result()
        for dependent in dependents:
            if not dependent.deleting:
                self._ctx.queue.add(f"d/{dependent.uid}")
        return Result()  # a dependent's deletion queues the owner again

    async def _orphan_dependents(self, uid: str) -> Result:
        """Orphan: remove the owner's reference from each dependent, then the finalizer."""
        owner = self._graph.find(uid)
        if owner is None or not _deleting_with(owner.obj, ORPHAN):
            return Result()
        if not self._graph.synced():
            raise TemporaryError("waiting for the caches to list", delay=1.0)
        dependents = self._graph.dependents(uid)
        await asyncio.gather(*(self._drop_owner_refs(d, {uid}) for d in dependents))
        await self._remove_finalizer(owner, ORPHAN)
        return Result()

    # -- writes --------------------------------------------------------------------------

    async def _delete(self, item: _Item, policy: Policy) -> None:
        try:
            await self._ctx.client.delete(
                item.rt,
                item.name,
                namespace=item.namespace or None,
                propagation_policy=policy,
                preconditions={"uid": item.uid},
            )
        except (NotFound, Conflict):
            return  # gone already, or a new object of that name that is not ours to judge

    async def _drop_owner_refs(self, item: _Item, uids: set[str]) -> None:
        refs = [r for r in _refs(item.obj) if str(r.get("uid")) not in uids]
        await self._patch_meta(item, {"ownerReferences": refs or None})

    async def _remove_finalizer(self, item: _Item, finalizer: str) -> None:
        finalizers = [f for f in _meta(item.obj).get("finalizers") or () if f != finalizer]
        await self._patch_meta(item, {"finalizers": finalizers or None})

    async def _patch_meta(self, item: _Item, changes: dict[str, Any]) -> None:
        """A merge patch of metadata, conditional on the cached resourceVersion."""
        rv = _meta(item.obj).get("resourceVersion")
        patch = {"metadata": {**changes, "resourceVersion": rv}}
        try:
            await self._ctx.client.patch(
                item.rt, item.name, patch, namespace=item.namespace or None, patch_type="merge"
            )
        except NotFound:
            return

    # -- watching new resources ----------------------------------------------------------

    async def _sync_resources(self) -> Result:
        """Re-read discovery; watch resources that are new, stop those no longer served."""
        discovery = await discover_served(self._ctx.client)
        self._learn_kinds(discovery)
        wanted = set(_collectable(discovery))
        for rt in sorted(wanted - self._graph.types, key=str):
            informer = Informer(self._ctx.client, rt)
            self._watch(rt, informer)
            self._monitors.start(rt, informer)
            logger.info("garbage collector: watching %s.%s", rt.plural, rt.group)
        if not discovery.failures:  # an unreachable group is not a vanished one
            for rt in self._monitors.types - wanted:
                self._monitors.stop(rt)
                for gone in self._graph.remove(rt):  # their DELETED events will not come
                    self._deleted(gone)
        return Result(requeue_after=_REDISCOVER_SECONDS)


def _same_owner(owner: _Item, ref: Mapping[str, Any], namespace: str) -> bool:
    """The cached object is the one ``ref`` names from ``namespace`` (not just the same uid)."""
    if owner.name != ref.get("name") or owner.rt.kind != ref.get("kind"):
        return False
    return not owner.rt.namespaced or owner.namespace == namespace


def _policy_of(obj: Object) -> Policy:
    """Delete garbage as its own finalizers ask (kube keeps a requested orphaning)."""
    finalizers = _meta(obj).get("finalizers") or ()
    if ORPHAN in finalizers:
        return "Orphan"
    if FOREGROUND in finalizers:
        return "Foreground"
    return "Background"


def _invalid_namespace(ref: Mapping[str, Any], item: _Item) -> str:
    return (
        f"ownerRef [{ref.get('apiVersion')}/{ref.get('kind')}, namespace: {item.namespace}, "
        f"name: {ref.get('name')}, uid: {ref.get('uid')}] does not exist in namespace "
        f'"{item.namespace}"'
    )


def _garbage_collector(options: ControllerOptions) -> Controller:
    return GarbageCollector(options)


CONTROLLERS = [_garbage_collector]
