"""The lean reflector against a cluster that forgets quickly: a 410 brings a full relist."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.components.resources.resources_support import NAMESPACES
from tests.conftest import ClusterProcess, start_cluster

from atoll.components.resources.reflecting import reflect, reflect_step
from atoll.components.resources.stores import Store
from atoll.errors import NotFound
from atoll.kube.client import KubeClient, ResourceType
from atoll.kube.kubeconfig import ClusterConfig
from atoll.kube.watching import WatchState

CONFIGMAPS = ResourceType("", "v1", "configmaps", "ConfigMap", True)


@pytest.fixture(scope="module")
def short_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    """A cluster that remembers five watch events: older resourceVersions get 410."""
    data_dir: Path = tmp_path_factory.mktemp("short-history") / "data"
    data_dir.mkdir()
    proc = start_cluster(data_dir, settings={"HISTORY_SIZE": "5"})
    yield proc
    if proc.process.poll() is None:
        proc.stop()


@pytest.fixture
async def client(short_history: ClusterProcess) -> AsyncIterator[KubeClient]:
    async with KubeClient(ClusterConfig.from_kubeconfig(short_history.kubeconfig)) as opened:
        yield opened


def _config_map(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": {"k": "v"}}


def _names(store: Store, namespace: str) -> list[str]:
    return sorted(name for _, bucket in store.buckets(namespace) for name in bucket)


async def test_an_expired_watch_lists_again_and_catches_up(client: KubeClient) -> None:
    namespace = f"t-{uuid.uuid4().hex[:10]}"
    await client.create(NAMESPACES, {"metadata": {"name": namespace}})
    for name in ("keep", "drop"):
        await client.create(CONFIGMAPS, _config_map(name), namespace=namespace)
    store, state = Store(CONFIGMAPS), WatchState()
    assert await reflect_step(client, store, state)  # the first list
    assert store.synced and _names(store, namespace) == ["drop", "keep"]

    # Unseen by any watch: more writes than the cluster remembers.
    await client.delete(CONFIGMAPS, "drop", namespace=namespace)
    await client.create(CONFIGMAPS, _config_map("new"), namespace=namespace)
    for i in range(8):
        await client.create(CONFIGMAPS, _config_map(f"churn-{i}"), namespace=namespace)

    assert await reflect_step(client, store, state)  # a watch from a forgotten version: 410
    assert state.resource_version is None
    assert await reflect_step(client, store, state)  # listed again
    assert state.resource_version is not None
    assert _names(store, namespace) == sorted(["keep", "new", *(f"churn-{i}" for i in range(8))])


async def test_a_resource_that_cannot_be_listed_fails_its_store(client: KubeClient) -> None:
    reviews = ResourceType("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", False)
    store = Store(reviews)
    await reflect(client, store)  # returns: there is nothing to wait for
    assert isinstance(store.failure, NotFound) and store.settled.is_set()
    assert not store.synced
