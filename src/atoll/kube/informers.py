"""Informers as in client-go: reflector (``watching.watch_objects``) → indexed cache → handlers.

An ``Informer`` keeps every object of one (resource type, namespace, selectors) in memory,
keyed ``namespace/name`` (``name`` for cluster-scoped kinds), with secondary indexes such as
"objects owned by uid X" or "pods on node N". Handlers hear of each change; they must only
enqueue keys — a worker then reconciles from the cache (level-based, idempotent), so a
handler never blocks the stream and never needs the exact sequence of intermediate states.

A relist (first start, or after 410 Expired) is turned into the adds, updates and deletes
that bring the cache to the listed state, so handlers see one consistent stream and hear
about objects that vanished while the watch was down. The cached objects are the decoded
dicts themselves: treat them as read-only, copy before changing.

``InformerFactory`` shares one informer per (resource type, namespace, selectors) between
all controllers of a process; its informers run in a task group owned by the caller.

Memory: a decoded object costs five to ten times its JSON, and an informer holds every
object of its kind. Before caching, an informer applies a transform (client-go's
``SetTransform``); the factory's default, ``slim``, drops ``metadata.managedFields`` (no
controller reads them, and an update sent without them keeps the stored ones) and interns
short strings, which repeat across objects (phases, condition types, images, timestamps).
Together they take a typical pod from ~15 KB to ~6 KB of Python objects.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from atoll.kit.backoff import Backoff
from atoll.kube.selectors import LabelSelector

from .client import Object, ResourceType
from .watching import Changed, Listed, Step, WatchClient, watch_objects

__all__ = [
    "NAMESPACE_INDEX",
    "NODE_NAME_INDEX",
    "OWNER_UID_INDEX",
    "Cache",
    "IndexFunc",
    "Informer",
    "InformerFactory",
    "Transform",
    "by_namespace",
    "by_node_name",
    "by_owner_uid",
    "key_of",
    "slim",
    "split_key",
]

logger = logging.getLogger(__name__)

IndexFunc = Callable[[Object], Iterable[str]]
OnAdd = Callable[[Object], None]
OnUpdate = Callable[[Object, Object], None]
OnDelete = Callable[[Object], None]
Transform = Callable[[Object], Object]
_Objects = list[Object]  # aliases: inside Cache and Informer, ``list`` is a method
_Keys = list[str]


def key_of(obj: Object) -> str:
    """``namespace/name``, or ``name`` for a cluster-scoped object (client-go's key)."""
    meta = obj.get("metadata") or {}
    namespace, name = meta.get("namespace"), meta.get("name", "")
    return f"{namespace}/{name}" if namespace else str(name)


def split_key(key: str) -> tuple[str, str]:
    """(namespace, name) of a key; namespace is "" for cluster-scoped objects."""
    namespace, _, name = key.rpartition("/")
    return namespace, name


def by_namespace(obj: Object) -> list[str]:
    return [str((obj.get("metadata") or {}).get("namespace") or "")]


def by_owner_uid(obj: Object) -> list[str]:
    """The uids of the object's owners: ``by_index(OWNER_UID_INDEX, rs_uid)`` gives its pods."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return [str(ref["uid"]) for ref in refs if isinstance(ref, dict) and ref.get("uid")]


def by_node_name(obj: Object) -> list[str]:
    node = (obj.get("spec") or {}).get("nodeName")
    return [str(node)] if node else []


_INTERN_MAX = 64  # longer strings (certificates, scripts, JSON blobs) rarely repeat


def _intern_in(
    node: dict[str, Any] | list[Any], _intern: Callable[[str], str] = sys.intern
) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for slot, value in items:
        if type(value) is str:
            if len(value) <= _INTERN_MAX:
                node[slot] = _intern(value)  # type: ignore[index]
        elif type(value) is dict or type(value) is list:
            _intern_in(value)


def slim(obj: Object) -> Object:
    """The default transform: ``obj`` without managedFields, its short strings interned.

    Changes ``obj`` in place (the watch loop hands over freshly decoded objects) and
    returns it. Dict keys need no interning: the JSON decoder already shares them.
    """
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)
    _intern_in(obj)
    return obj


NAMESPACE_INDEX = "namespace"
OWNER_UID_INDEX = "owner-uid"
NODE_NAME_INDEX = "node-name"


class Cache:
    """Objects by key plus secondary indexes (client-go's thread-safe store and indexer)."""

    def __init__(self) -> None:
        self._items: dict[str, Object] = {}
        self._indexers: dict[str, IndexFunc] = {NAMESPACE_INDEX: by_namespace}
        self._indices: dict[str, dict[str, set[str]]] = {NAMESPACE_INDEX: {}}

    def add_indexer(self, name: str, func: IndexFunc) -> None:
        known = self._indexers.get(name)
        if known is not None and known is not func:
            raise ValueError(f"another index is already named {name!r}")
        if known is None:
            self._indexers[name] = func
            self._indices[name] = {}
            for key, obj in self._items.items():
                self._index(name, key, (), func(obj))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def keys(self) -> list[str]:
        return list(self._items)

    def items(self) -> Iterator[tuple[str, Object]]:
        return iter(list(self._items.items()))

    def get(self, key: str) -> Object | None:
        return self._items.get(key)

    def list(
        self, namespace: str | None = None, label_selector: str | LabelSelector | None = None
    ) -> _Objects:
        """Objects, optionally of one namespace and matching a label selector."""
        if namespace is None:
            objects = list(self._items.values())
        else:
            objects = self.by_index(NAMESPACE_INDEX, namespace)
        if label_selector is None:
            return objects
        if isinstance(label_selector, str):
            label_selector = LabelSelector.parse(label_selector)
        return [o for o in objects if label_selector.matches(_labels(o))]

    def by_index(self, name: str, value: str) -> _Objects:
        index = self._indices.get(name)
        if index is None:
            raise KeyError(f"no index named {name!r}")
        return [self._items[key] for key in index.get(value, ())]

    def put(self, obj: Object) -> Object | None:
        """Store ``obj``; return what it replaced."""
        key = key_of(obj)
        old = self._items.get(key)
        self._items[key] = obj
        for name, func in self._indexers.items():
            self._index(name, key, func(old) if old is not None else (), func(obj))
        return old

    def remove(self, key: str) -> Object | None:
        old = self._items.pop(key, None)
        if old is not None:
            for name, func in self._indexers.items():
                self._index(name, key, func(old), ())
        return old

    def _index(self, name: str, key: str, old: Iterable[str], new: Iterable[str]) -> None:
        index = self._indices[name]
        old_values, new_values = set(old), set(new)
        for value in old_values - new_values:
            keys = index.get(value)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del index[value]
        for value in new_values - old_values:
            index.setdefault(value, set()).add(key)


def _labels(obj: Object) -> dict[str, str]:
    labels: dict[str, str] = (obj.get("metadata") or {}).get("labels") or {}
    return labels


def _version(obj: Object) -> Any:
    return (obj.get("metadata") or {}).get("resourceVersion")


@dataclass(frozen=True, slots=True)
class _Handler:
    on_add: OnAdd | None
    on_update: OnUpdate | None
    on_delete: OnDelete | None


class Informer:
    """One list+watch feeding one cache; run it with ``await informer.run(stop)``."""

    def __init__(
        self,
        client: WatchClient,
        rt: ResourceType,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resync_period: float | None = None,
        backoff: Backoff | None = None,
        transform: Transform | None = None,
    ) -> None:
        self.client = client
        self.transform = transform
        self.rt = rt
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_period = resync_period
        self._backoff = backoff
        self._cache = Cache()
        self._handlers: list[_Handler] = []
        self._synced = asyncio.Event()
        self._started = False

    # -- set-up (before start) -----------------------------------------------------------

    def add_indexer(self, name: str, func: IndexFunc) -> None:
        """Register a secondary index; only before the informer starts."""
        if self._started:
            raise RuntimeError(f"index {name!r} must be added before the informer starts")
        self._cache.add_indexer(name, func)

    def add_handler(
        self,
        on_add: OnAdd | None = None,
        on_update: OnUpdate | None = None,
        on_delete: OnDelete | None = None,
    ) -> None:
        """Subscribe to changes. A handler added after the first list hears every cached
        object as an add first, as client-go does, so late subscribers miss nothing."""
        handler = _Handler(on_add, on_update, on_delete)
        self._handlers.append(handler)
        if self._synced.is_set() and on_add is not None:
            for _, obj in self._cache.items():
                self._call(on_add, obj)

    # -- reads ---------------------------------------------------------------------------

    def get(self, key: str) -> Object | None:
        return self._cache.get(key)

    def list(
        self, namespace: str | None = None, label_selector: str | LabelSelector | None = None
    ) -> _Objects:
        return self._cache.list(namespace, label_selector)

    def by_index(self, name: str, value: str) -> _Objects:
        return self._cache.by_index(name, value)

    def keys(self) -> _Keys:
        return self._cache.keys()

    @property
    def has_synced(self) -> bool:
        """True once the first list has been delivered."""
        return self._synced.is_set()

    async def wait_synced(self) -> None:
        await self._synced.wait()

    # -- running -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """List, watch and (when asked) resync until ``stop`` is set."""
        if self._started:
            raise RuntimeError("an informer runs once")
        self._started = True
        async with asyncio.TaskGroup() as group:
            group.create_task(
                watch_objects(
                    self.client,
                    self.rt,
                    on_event=self.apply,
                    stop=stop,
                    namespace=self.namespace,
                    label_selector=self.label_selector,
                    field_selector=self.field_selector,
                    backoff=self._backoff,
                )
            )
            if self.resync_period:
                group.create_task(self._resync_loop(stop, self.resync_period))

    async def apply(self, step: Step) -> None:
        """Bring the cache up to date with one step of the watch loop and notify handlers."""
        transform = self.transform
        if isinstance(step, Listed):
            objects = step.objects if transform is None else map(transform, step.objects)
            self._replace(objects)
            self._synced.set()
            return
        if transform is not None:
            step = Changed(step.type, transform(step.object))
        if step.type == "DELETED":
            self._cache.remove(key_of(step.object))
            self._notify_delete(step.object)
        else:
            self._upsert(step)

    def resync(self) -> None:
        """Re-deliver every cached object as an update (old and new are the same object)."""
        for _, obj in self._cache.items():
            self._notify_update(obj, obj)

    def _upsert(self, step: Changed) -> None:
        old = self._cache.put(step.object)
        if old is None:
            self._notify_add(step.object)
        else:
            self._notify_update(old, step.object)

    def _replace(self, objects: Iterable[Object]) -> None:
        listed: dict[str, Object] = {key_of(obj): obj for obj in objects}
        for obj in listed.values():
            old = self._cache.put(obj)
            if old is None:
                self._notify_add(obj)
            elif _version(old) != _version(obj):
                self._notify_update(old, obj)
        for key in [key for key in self._cache if key not in listed]:
            gone = self._cache.remove(key)
            if gone is not None:
                self._notify_delete(gone)

    async def _resync_loop(self, stop: asyncio.Event, period: float) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), period)
            except TimeoutError:
                if self._synced.is_set():
                    self.resync()

    def _notify_add(self, obj: Object) -> None:
        for handler in self._handlers:
            if handler.on_add is not None:
                self._call(handler.on_add, obj)

    def _notify_update(self, old: Object, new: Object) -> None:
        for handler in self._handlers:
            if handler.on_update is not None:
                self._call(handler.on_update, old, new)

    def _notify_delete(self, obj: Object) -> None:
        for handler in self._handlers:
            if handler.on_delete is not None:
                self._call(handler.on_delete, obj)

    def _call(self, func: Callable[..., None], *args: Object) -> None:
        try:
            func(*args)
        except Exception:  # one broken handler must not starve the others
            logger.exception("an informer handler for %s failed", self.rt.plural)


_InformerKey = tuple[ResourceType, str | None, str | None, str | None]


class InformerFactory:
    """Shares one informer per (resource type, namespace, selectors) between controllers.

    Ask for informers and register indexers and handlers first, then ``start(group)`` runs
    every informer not yet started as a task of the caller's ``asyncio.TaskGroup`` (call it
    again after adding more); ``stop()`` ends them all. ``run()`` is the same as a coroutine
    that owns its own task group, for callers that prefer to run it as one task.
    """

    def __init__(
        self,
        client: WatchClient,
        *,
        resync_period: float | None = None,
        backoff: Callable[[], Backoff] = Backoff,
        transform: Transform | None = slim,
    ) -> None:
        self.client = client
        self.resync_period = resync_period
        self.transform = transform
        self._backoff = backoff
        self._informers: dict[_InformerKey, Informer] = {}
        self._started: set[_InformerKey] = set()
        self._stop = asyncio.Event()

    def informer(
        self,
        rt: ResourceType,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> Informer:
        """The shared informer for this selection, created on first request."""
        key = (rt, namespace or None, label_selector or None, field_selector or None)
        found = self._informers.get(key)
        if found is None:
            found = Informer(
                self.client,
                rt,
                namespace=key[1],
                label_selector=key[2],
                field_selector=key[3],
                resync_period=self.resync_period,
                backoff=self._backoff(),
                transform=self.transform,
            )
            self._informers[key] = found
        return found

    def start(self, group: asyncio.TaskGroup) -> None:
        """Run every informer not yet started as a task of ``group``."""
        if self._stop.is_set():
            raise RuntimeError("the informer factory was stopped")
        for key, informer in self._informers.items():
            if key not in self._started:
                self._started.add(key)
                group.create_task(informer.run(self._stop), name=f"informer {key[0].plural}")

    async def run(self) -> None:
        """Run every informer until ``stop()``."""
        async with asyncio.TaskGroup() as group:
            self.start(group)

    def sizes(self) -> dict[str, int]:
        """Objects cached, by resource (``plural.group``), summed over its informers."""
        sizes: dict[str, int] = {}
        for key, informer in self._informers.items():
            rt = key[0]
            name = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
            sizes[name] = sizes.get(name, 0) + len(informer.keys())
        return sizes

    @property
    def synced(self) -> bool:
        """Whether every informer asked for so far has delivered its first list."""
        return all(informer.has_synced for informer in self._informers.values())

    async def wait_synced(self) -> None:
        """Wait until every informer asked for so far has delivered its first list."""
        for informer in list(self._informers.values()):
            await informer.wait_synced()

    def stop(self) -> None:
        self._stop.set()
