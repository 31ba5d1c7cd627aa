"""The clusters Atoll reaches: one ``KubeClient`` per cluster, by name, on every replica.

The host cluster is ``host`` from the start. The clusters component adds a member cluster
when its Cluster object and kubeconfig Secret appear, and removes it (closing its client)
when they go; components ask for a cluster's client by name and may listen for arrivals
and departures (to start or stop their caches for it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from atoll.errors import NotFound
from atoll.kube.client import KubeClient

__all__ = ["HOST", "ClusterClients"]

logger = logging.getLogger(__name__)

HOST = "host"
Listener = Callable[[str, KubeClient | None], None]  # (name, client; None when it left)


class ClusterClients:
    def __init__(self, host: KubeClient) -> None:
        self._clients: dict[str, KubeClient] = {HOST: host}
        self._listeners: list[Listener] = []

    def names(self) -> list[str]:
        return sorted(self._clients)

    def get(self, name: str) -> KubeClient | None:
        return self._clients.get(name)

    def client(self, name: str) -> KubeClient:
        """The cluster's client; NotFound (404) for a cluster Atoll does not reach."""
        found = self._clients.get(name)
        if found is None:
            raise NotFound(f'cluster "{name}" not found', name=name)
        return found

    def listen(self, listener: Listener) -> None:
        """Hear of every cluster added from now on, and of those there already."""
        self._listeners.append(listener)
        for name, client in list(self._clients.items()):
            listener(name, client)

    def add(self, name: str, client: KubeClient) -> None:
        if name == HOST:
            raise ValueError("the host cluster is not added")
        self._clients[name] = client
        self._tell(name, client)

    async def remove(self, name: str) -> None:
        client = self._clients.pop(name, None) if name != HOST else None
        if client is None:
            return
        self._tell(name, None)
        await client.close()

    async def close(self) -> None:
        for name in [n for n in self._clients if n != HOST]:
            await self.remove(name)

    def _tell(self, name: str, client: KubeClient | None) -> None:
        for listener in self._listeners:
            try:
                listener(name, client)
            except Exception:
                logger.exception("a cluster listener failed for %s", name)
