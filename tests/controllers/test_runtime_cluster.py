"""The runtime on the real client layer, against the embedded cluster (kubectl as the peer).

Leader election over real Leases (the API server's AlreadyExists/Conflict decide races), and
a leader-elected manager whose controller hears ConfigMaps through a real informer and
records an Event for each.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from tests.conftest import ClusterProcess

from atoll.controllers import (
    ControllerContext,
    ControllerManager,
    KubeLeases,
    LeaderElectionSettings,
    LeaderElector,
    ManualClock,
    Result,
)
from atoll.kube.client import KubeClient, ResourceType
from atoll.kube.informers import Informer, InformerFactory, split_key
from atoll.kube.kubeconfig import ClusterConfig

CONFIGMAPS = ResourceType("", "v1", "configmaps", "ConfigMap", True)


async def until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    give_up = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > give_up:
            raise AssertionError("condition not reached before the deadline")
        await asyncio.sleep(0.01)


@pytest.fixture
async def kube(cluster: ClusterProcess) -> AsyncIterator[KubeClient]:
    async with KubeClient(ClusterConfig.from_kubeconfig(cluster.kubeconfig)) as client:
        yield client


def lease_spec(cluster: ClusterProcess, namespace: str, name: str) -> dict[str, Any]:
    out = cluster.kubectl("get", "lease", name, "-n", namespace, "-o", "json")
    spec: dict[str, Any] = json.loads(out)["spec"]
    return spec


async def test_leader_election_on_real_leases(
    cluster: ClusterProcess, namespace: str, kube: KubeClient
) -> None:
    clock = ManualClock()
    settings = LeaderElectionSettings(namespace=namespace, name="election")

    def candidate(identity: str) -> LeaderElector:
        return LeaderElector(KubeLeases(kube), settings=settings, identity=identity, clock=clock)

    a, b, c = candidate("host-a_1"), candidate("host-b_2"), candidate("host-c_3")
    won = await asyncio.gather(a.try_acquire_or_renew(), b.try_acquire_or_renew())
    assert sorted(won) == [False, True]
    first, second = (a, b) if won[0] else (b, a)
    spec = lease_spec(cluster, namespace, "election")
    assert spec["holderIdentity"] == first.identity
    assert spec["leaseDurationSeconds"] == 15
    assert spec["leaseTransitions"] == 0
    assert spec["renewTime"] == "2021-01-02T03:04:05.123456Z"

    clock.advance(2)
    assert await first.try_acquire_or_renew()
    assert not await second.try_acquire_or_renew()

    clock.advance(16)  # the holder stopped renewing 16 s ago
    won = await asyncio.gather(second.try_acquire_or_renew(), c.try_acquire_or_renew())
    assert sorted(won) == [False, True], "two takeovers raced: the API server's Conflict decides"
    spec = lease_spec(cluster, namespace, "election")
    assert spec["holderIdentity"] in (second.identity, c.identity)
    assert spec["leaseTransitions"] == 1
    assert not await first.try_acquire_or_renew()
    assert first.leader == spec["holderIdentity"]


class ConfigMapWatcher:
    """Records an Event on every ConfigMap of one namespace, read from the informer cache."""

    name = "configmap-watcher"

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.seen: list[str] = []
        self.informer: Informer | None = None
        self.ctx: ControllerContext | None = None

    async def setup(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.informer = ctx.informers.informer(CONFIGMAPS, namespace=self.namespace)
        self.informer.add_handler(
            on_add=ctx.enqueue,
            on_update=lambda old, new: ctx.enqueue(new),
            on_delete=ctx.enqueue,
        )

    async def reconcile(self, key: str) -> Result:
        assert self.informer is not None and self.ctx is not None
        obj = self.informer.get(key)
        if obj is None:
            return Result()
        self.seen.append(split_key(key)[1])
        await self.ctx.events.normal(obj, "Seen", message=f"saw {key}")
        return Result()


async def test_a_leader_elected_manager_reconciles_from_a_real_informer(
    cluster: ClusterProcess, namespace: str, kube: KubeClient
) -> None:
    cluster.kubectl("create", "configmap", "before", "-n", namespace, "--from-literal=a=1")
    watcher = ConfigMapWatcher(namespace)
    manager = ControllerManager(
        [watcher], client=kube, informers=InformerFactory(kube), enabled="*"
    )
    settings = LeaderElectionSettings(namespace=namespace, name="controllers")
    elector = LeaderElector(KubeLeases(kube), settings=settings)

    running = asyncio.create_task(elector.run(manager.run))
    await until(lambda: "before" in watcher.seen)
    assert lease_spec(cluster, namespace, "controllers")["holderIdentity"] == elector.identity

    cluster.kubectl("create", "configmap", "after", "-n", namespace, "--from-literal=a=1")
    await until(lambda: "after" in watcher.seen)
    events = json.loads(cluster.kubectl("get", "events", "-n", namespace, "-o", "json"))
    seen = {
        e["involvedObject"]["name"]: e["source"]["component"]
        for e in events["items"]
        if e["reason"] == "Seen"
    }
    assert seen == {
        "before": "configmap-watcher-controller",
        "after": "configmap-watcher-controller",
    }

    manager.stop()  # the callback returns, so the elector releases the Lease
    await asyncio.wait_for(running, 15)
    spec = lease_spec(cluster, namespace, "controllers")
    assert spec.get("holderIdentity", "") == ""
    assert spec["leaseDurationSeconds"] == 1
