"""Server-side finalization: emptying terminating namespaces, orphaning and foreground deletion.

In a real cluster, kube-controller-manager's namespace controller and garbage collector act
on the ``kubernetes``, ``orphan`` and ``foregroundDeletion`` finalizers. The embedded cluster
does the same work here, inside the API server process, so that ``kubectl delete namespace``,
``--cascade=orphan`` and ``--cascade=foreground`` complete even before any controller runs.

One worker drains a queue of object keys (each key queued once): a namespace marked for
deletion is emptied, kind by kind, then its ``kubernetes`` finalizer is dropped; an object
carrying ``orphan`` has its dependents' ownerReferences to it removed; one carrying
``foregroundDeletion`` has its dependents deleted and waits for the blocking ones to go.
Work that cannot finish yet (dependents still finalizing) is retried with back-off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

from atoll.embedded.storage.store import Entry
from atoll.errors import ApiError, NotFound

from .options import DeleteOptions, WriteOptions
from .registry import Registry, WriteResult
from .resources import Resource

__all__ = ["Finalizer"]

logger = logging.getLogger(__name__)

_NAMESPACES = ("", "namespaces")
_OPTS = WriteOptions(field_manager="kube-controller-manager")
_Key = tuple[tuple[str, str], str, str]  # storage key, namespace, name


class _NotYet(Exception):
    """The work must wait for other objects to go away; retry later."""


class Finalizer:
    def __init__(self, registry: Registry, tasks: set[asyncio.Task[None]]) -> None:
        self._registry = registry
        self._queue: asyncio.Queue[_Key] = asyncio.Queue()
        self._queued: set[_Key] = set()
        self._tasks = tasks
        registry.after_write.append(self._written)

    def start(self) -> None:
        """Start the worker and queue everything left half-finalized by an earlier run."""
        task = asyncio.get_running_loop().create_task(self._work())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        for storage in {r.storage for r in self._registry.catalog}:
            for entry in self._registry.storage.iter(storage):
                if b'"deletionTimestamp"' in entry.raw:
                    self._enqueue((storage, entry.namespace, entry.name))

    def _written(self, resource: Resource, result: WriteResult) -> None:
        if result.entry is None or result.deleted:
            return
        meta = result.obj.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            self._enqueue((resource.storage, result.entry.namespace, result.entry.name))

    def _enqueue(self, key: _Key) -> None:
        if key not in self._queued:
            self._queued.add(key)
            self._queue.put_nowait(key)

    async def _work(self) -> None:
        while True:
            key = await self._queue.get()
            self._queued.discard(key)
            try:
                await self.finalize(key)
            except _NotYet:
                self._retry(key, 0.2)
            except ApiError as exc:
                logger.warning("finalizing %s/%s: %s", key[1], key[2], exc.message)
                self._retry(key, 1.0)

    def _retry(self, key: _Key, delay: float) -> None:
        asyncio.get_running_loop().call_later(delay, self._enqueue, key)

    async def finalize(self, key: _Key) -> None:
        """One step for one object; raises ``_NotYet`` when it must be retried."""
        storage, namespace, name = key
        entry = self._registry.storage.latest(storage, namespace, name)
        if entry is None:
            return
        obj = entry.decode()
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp"):
            return
        finalizers = list(meta.get("finalizers") or [])
        if "orphan" in finalizers:
            await self._orphan_dependents(meta["uid"], namespace)
            await self._drop_finalizer(storage, namespace, name, "orphan")
        elif "foregroundDeletion" in finalizers:
            await self._delete_dependents(meta["uid"], namespace)
            await self._drop_finalizer(storage, namespace, name, "foregroundDeletion")
        elif storage == _NAMESPACES and "kubernetes" in (obj.get("spec") or {}).get(
            "finalizers", []
        ):
            await self._empty_namespace(name)
            await self._finalize_namespace(name)

    # -- dependents -------------------------------------------------------------------------

    def _dependents(self, uid: str, namespace: str) -> Iterator[tuple[Resource, Entry]]:
        """Objects whose ownerReferences name ``uid`` (same namespace, or anywhere for a
        cluster-scoped owner)."""
        needle = f'"uid":"{uid}"'.encode()
        seen: set[tuple[str, str]] = set()
        for resource in list(self._registry.catalog):
            if resource.storage in seen:
                continue
            seen.add(resource.storage)
            scope = namespace if (namespace and resource.namespaced) else None
            if namespace and not resource.namespaced:
                continue
            for entry in list(self._registry.storage.iter(resource.storage, scope)):
                if needle in entry.raw and _owned_by(entry.decode(), uid):
                    yield resource, entry

    async def _orphan_dependents(self, uid: str, namespace: str) -> None:
        for resource, entry in list(self._dependents(uid, namespace)):
            obj = entry.decode()
            refs = [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if refs:
                obj["metadata"]["ownerReferences"] = refs
            else:
                obj["metadata"].pop("ownerReferences", None)
            try:
                await self._registry.replace_stored(resource, obj, entry, _OPTS, expected=entry.rv)
            except NotFound:
                continue

    async def _delete_dependents(self, uid: str, namespace: str) -> None:
        blocking = False
        for resource, entry in list(self._dependents(uid, namespace)):
            obj = entry.decode()
            refs = [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") == uid]
            blocking = blocking or any(r.get("blockOwnerDeletion") for r in refs)
            if not obj["metadata"].get("deletionTimestamp"):
                try:
                    await self._registry.delete(
                        resource,
                        entry.namespace,
                        entry.name,
                        DeleteOptions(propagation="Foreground"),
                    )
                except NotFound:
                    continue
        if blocking:
            raise _NotYet

    # -- namespaces -------------------------------------------------------------------------

    async def _empty_namespace(self, namespace: str) -> None:
        remaining = False
        seen: set[tuple[str, str]] = set()
        for resource in list(self._registry.catalog):
            if not resource.namespaced or resource.storage in seen:
                continue
            seen.add(resource.storage)
            for entry in list(self._registry.storage.iter(resource.storage, namespace)):
                remaining = True
                if b'"deletionTimestamp"' in entry.raw:
                    continue
                try:
                    await self._registry.delete(resource, namespace, entry.name, DeleteOptions())
                except NotFound:
                    continue
        if remaining:
            raise _NotYet

    async def _finalize_namespace(self, name: str) -> None:
        entry = self._registry.storage.latest(_NAMESPACES, "", name)
        if entry is None:
            return
        obj = entry.decode()
        spec = obj.setdefault("spec", {})
        spec["finalizers"] = [f for f in spec.get("finalizers", []) if f != "kubernetes"]
        resource = self._registry.catalog.get("", "v1", "namespaces")
        assert resource is not None
        await self._registry.replace_stored(resource, obj, entry, _OPTS, expected=entry.rv)

    async def _drop_finalizer(
        self, storage: tuple[str, str], namespace: str, name: str, finalizer: str
    ) -> None:
        entry = self._registry.storage.latest(storage, namespace, name)
        if entry is None:
            return
        obj = entry.decode()
        meta = obj["metadata"]
        meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != finalizer]
        resource = next(r for r in self._registry.catalog if r.storage == storage)
        await self._registry.replace_stored(resource, obj, entry, _OPTS, expected=entry.rv)


def _owned_by(obj: dict[str, Any], uid: str) -> bool:
    return any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or [])
