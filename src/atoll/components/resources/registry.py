"""The store registry: one store per (cluster, resource type), started on first use.

Nothing is cached until someone asks: the first request for a resource in a cluster starts
its store's reflector, as a task of the registry's task group, and waits (bounded) for the
first list; later requests are answered from memory at once. A store keeps running for the
life of the registry, so the next request finds it current. A store that failed for good
(the resource was deleted, is not listable, or is forbidden to Atoll) answers its error
once and is dropped, so the next request starts afresh.

Resource names are resolved through the cluster's discovery: ``pods``, or ``plural.group``
(``deployments.apps``) where a plural is served by several groups. An unknown name re-reads
discovery (a CRD may be new), and so does a name whose list was 404 (a CRD deleted), at most
once a second per cluster.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from atoll.errors import NotFound, ServiceUnavailable
from atoll.kit.backoff import Backoff
from atoll.kube.client import KubeClient, ResourceType

from .reflecting import reflect
from .stores import Store, resource_name

__all__ = ["StoreRegistry"]

logger = logging.getLogger(__name__)

SYNC_TIMEOUT = 20.0  # seconds a request waits for a new store's first list
_REDISCOVER_SECONDS = 1.0


def _match(types: list[ResourceType], resource: str) -> ResourceType | None:
    plural, _, group = resource.partition(".")
    for rt in types:  # preferred versions come first
        if rt.plural == plural and (not group or rt.group == group):
            return rt
    return None


class Clients(Protocol):
    """Each cluster's client by name (``atoll.server.clusters.ClusterClients``, a dict)."""

    def get(self, name: str, /) -> KubeClient | None: ...


class StoreRegistry:
    """Stores of the clusters in ``clients`` (by cluster name); run it with ``await run()``."""

    def __init__(self, clients: Clients, *, sync_timeout: float = SYNC_TIMEOUT) -> None:
        self._clients = clients
        self._sync_timeout = sync_timeout
        self._stores: dict[tuple[str, ResourceType], Store] = {}
        self._group: asyncio.TaskGroup | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._task_of: dict[tuple[str, ResourceType], asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()
        self._discovered: dict[str, float] = {}  # when discovery was last re-read
        self._gone: set[tuple[str, ResourceType]] = set()  # listed as 404 since then

    async def run(self) -> None:
        """Run the stores' reflectors until ``stop()`` (or until cancelled)."""
        async with asyncio.TaskGroup() as group:
            self._group = group
            try:
                await self._stopping.wait()
            finally:
                self._group = None
                for task in list(self._tasks):
                    task.cancel()

    def stop(self) -> None:
        self._stopping.set()

    def sizes(self) -> dict[tuple[str, str], int]:
        """Objects cached, by (cluster, resource name), for /metrics."""
        return {(cluster, resource_name(rt)): len(s) for (cluster, rt), s in self._stores.items()}

    def client(self, cluster: str) -> KubeClient:
        client = self._clients.get(cluster)
        if client is None:
            raise NotFound(f"there is no cluster named {cluster!r}")
        return client

    async def resolve(self, cluster: str, resource: str) -> ResourceType:
        """The resource type ``resource`` names in ``cluster``; NotFound when none does."""
        client = self.client(cluster)
        found = _match(await client.discover(), resource)
        stale = found is None or (cluster, found) in self._gone
        now = asyncio.get_running_loop().time()
        if stale and now - self._discovered.get(cluster, -1e9) >= _REDISCOVER_SECONDS:
            self._discovered[cluster] = now
            self._gone = {key for key in self._gone if key[0] != cluster}
            found = _match(await client.discover(refresh=True), resource)
        if found is None:
            raise NotFound(f"the cluster {cluster!r} serves no resource {resource!r}")
        return found

    async def synced(self, cluster: str, rt: ResourceType) -> Store:
        """The store of ``rt`` in ``cluster`` once it holds a full list; started if new."""
        key = (cluster, rt)
        store = self._stores.get(key)
        if store is None:
            store = self._start(cluster, rt)
        if not store.settled.is_set():
            try:
                async with asyncio.timeout(self._sync_timeout):
                    await store.settled.wait()
            except TimeoutError:
                raise ServiceUnavailable(
                    f"the cache of {resource_name(rt)} is still filling; try again shortly",
                    retry_after=1,
                ) from None
        if store.failure is not None:
            if self._stores.get(key) is store:
                del self._stores[key]
            if isinstance(store.failure, NotFound):  # a deleted CRD? re-read discovery next
                self._gone.add(key)
            raise store.failure
        return store

    def _start(self, cluster: str, rt: ResourceType) -> Store:
        if self._group is None:
            raise ServiceUnavailable("the resource caches are not running", retry_after=1)
        store = Store(rt)
        self._stores[(cluster, rt)] = store
        task = self._group.create_task(
            reflect(self.client(cluster), store, backoff=Backoff()),
            name=f"resources store {cluster} {resource_name(rt)}",
        )
        self._tasks.add(task)
        self._task_of[(cluster, rt)] = task
        task.add_done_callback(self._tasks.discard)
        logger.info("caching %s of cluster %s", resource_name(rt), cluster)
        return store

    def forget(self, cluster: str) -> None:
        """Drop a cluster's stores (it left, or its client changed)."""
        for key in [k for k in self._stores if k[0] == cluster]:
            del self._stores[key]
            task = self._task_of.pop(key, None)
            if task is not None:
                task.cancel()
