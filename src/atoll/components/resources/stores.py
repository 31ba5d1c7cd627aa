"""A store: every object of one resource type in one cluster, as ``Entry`` values.

Entries are kept by namespace, then by name (cluster-scoped objects under ""), so a list in
one namespace reads only that namespace's objects, and a visibility check runs once per
namespace rather than once per object. A store is filled by ``reflecting.reflect`` and read
by ``queries``; both run on the event loop without awaiting in between, so a reader always
sees one consistent state. A relist swaps in the new contents whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator

from atoll.errors import ApiError
from atoll.kube.client import ResourceType

from .entries import Entry

__all__ = ["Bucket", "Store", "resource_name"]

Bucket = dict[str, Entry]
"""The entries of one namespace, by name."""


def resource_name(rt: ResourceType) -> str:
    """``pods``, ``deployments.apps``: how sizes and messages name a resource."""
    return f"{rt.plural}.{rt.group}" if rt.group else rt.plural


class Store:
    """Entries of ``rt``; ``settled`` is set once the first list is in, or the store failed."""

    def __init__(self, rt: ResourceType) -> None:
        self.rt = rt
        self._buckets: dict[str, Bucket] = {}
        self._count = 0
        self.settled = asyncio.Event()
        self.synced = False
        self.failure: ApiError | None = None
        # The resourceVersion the contents are at: a page listed from the store, then a watch
        # from this version, miss no change in between (the console's live lists).
        self.resource_version = ""

    def __len__(self) -> int:
        return self._count

    def get(self, namespace: str, name: str) -> Entry | None:
        bucket = self._buckets.get(namespace if self.rt.namespaced else "")
        return None if bucket is None else bucket.get(name)

    def buckets(self, namespace: str | None = None) -> Iterator[tuple[str, Bucket]]:
        """(namespace, entries) of one namespace, or of all when ``namespace`` is None."""
        if namespace is None:
            yield from self._buckets.items()
            return
        bucket = self._buckets.get(namespace)
        if bucket:
            yield namespace, bucket

    # -- writes, by the reflector ---------------------------------------------------------

    def replace(self, entries: Iterable[Entry]) -> None:
        """The whole contents at once (a list); marks the store synced."""
        buckets: dict[str, Bucket] = {}
        count = 0
        for entry in entries:
            bucket = buckets.setdefault(entry.namespace, {})
            count += entry.name not in bucket
            bucket[entry.name] = entry
        self._buckets, self._count = buckets, count
        self.synced = True
        self.settled.set()

    def put(self, entry: Entry) -> None:
        bucket = self._buckets.setdefault(entry.namespace, {})
        self._count += entry.name not in bucket
        bucket[entry.name] = entry

    def remove(self, namespace: str, name: str) -> None:
        bucket = self._buckets.get(namespace)
        if bucket is not None and bucket.pop(name, None) is not None:
            self._count -= 1
            if not bucket:
                del self._buckets[namespace]

    def fail(self, error: ApiError) -> None:
        """The resource cannot be listed and watched (gone, not listable, forbidden)."""
        self.failure = error
        self.settled.set()
