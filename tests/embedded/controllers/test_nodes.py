"""The node controller: this machine's Node, its readiness taint and its Lease heartbeats.

The first tests read the Node of the session cluster (every controller, kubelet off) with
the official Python client, whose models reject incomplete objects. The others run a
``NodeController`` in-process on a ``ManualClock`` against a cluster of their own (only the
node and scheduler controllers run there, so extra Nodes disturb no other test), and move
time by hand: no test waits for a heartbeat in real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client, config
from tests.conftest import ClusterProcess, start_cluster

from atoll.controllers import ControllerManager, ManualClock
from atoll.embedded.controllers import ControllerOptions
from atoll.embedded.controllers.nodes import LEASE_NAMESPACE, LEASES, NODES, NodeController
from atoll.errors import NotFound
from atoll.kube.client import KubeClient, Object
from atoll.kube.events import EVENTS
from atoll.kube.informers import InformerFactory
from atoll.kube.kubeconfig import ClusterConfig
from atoll.kube.quantities import parse_quantity
from atoll.settings import Settings

T = TypeVar("T")
NOT_READY = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
NODE_INFO_FIELDS = {
    "architecture",
    "boot_id",
    "container_runtime_version",
    "kernel_version",
    "kube_proxy_version",
    "kubelet_version",
    "machine_id",
    "operating_system",
    "os_image",
    "system_uuid",
}


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 15.0) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` real seconds."""
    give_up = time.monotonic() + timeout
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > give_up:
            raise AssertionError("condition not reached before the deadline")
        await asyncio.sleep(0.02)


def poll(predicate: Callable[[], T | None], timeout: float = 15.0) -> T:
    give_up = time.monotonic() + timeout
    while not (found := predicate()):
        if time.monotonic() > give_up:
            raise AssertionError("condition not reached before the deadline")
        time.sleep(0.05)
    return found


# -- the session cluster's own Node ------------------------------------------------------


@pytest.fixture
def api_client(cluster: ClusterProcess) -> Iterator[client.ApiClient]:
    with config.new_client_from_config(config_file=str(cluster.kubeconfig)) as found:
        yield found


def test_the_node_is_complete_for_the_python_client(
    cluster: ClusterProcess, api_client: client.ApiClient
) -> None:
    name = Settings().cluster.node_name
    api = client.CoreV1Api(api_client)

    def registered() -> Any:
        nodes = api.list_node().items
        return next((n for n in nodes if n.metadata.name == name), None)

    poll(registered)
    node = api.read_node(name)  # pydantic models: a missing required field raises

    labels = node.metadata.labels
    assert labels["kubernetes.io/hostname"] == name
    assert labels["kubernetes.io/os"] == "linux"
    assert labels["kubernetes.io/arch"] in ("amd64", "arm64")
    assert labels["node-role.kubernetes.io/control-plane"] == ""
    info = node.status.node_info
    assert {f for f in NODE_INFO_FIELDS if getattr(info, f)} == NODE_INFO_FIELDS
    assert info.kubelet_version == "v1.20.2"
    assert info.operating_system == "linux"
    assert {(a.type, a.address) for a in node.status.addresses} >= {("InternalIP", "127.0.0.1")}
    assert node.status.daemon_endpoints.kubelet_endpoint.port > 0
    for resource in ("cpu", "memory", "ephemeral-storage", "pods"):
        capacity = parse_quantity(node.status.capacity[resource])
        allocatable = parse_quantity(node.status.allocatable[resource])
        assert 0 < allocatable <= capacity
    assert node.status.capacity["pods"] == "110"

    # Kubelet off: NotReady, and tainted so the scheduler leaves pods alone.
    conditions = {c.type: c for c in node.status.conditions}
    assert set(conditions) == {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}
    assert (conditions["Ready"].status, conditions["Ready"].reason) == ("False", "KubeletNotReady")
    assert conditions["Ready"].last_heartbeat_time is not None
    assert conditions["MemoryPressure"].status == "False"
    taints = [(t.key, t.effect) for t in node.spec.taints or ()]
    assert (NOT_READY["key"], "NoSchedule") in taints

    table = cluster.kubectl("get", "nodes", name, "--no-headers")
    assert table.split()[1:3] == ["NotReady", "control-plane,master"]


def test_the_node_holds_a_lease(cluster: ClusterProcess, api_client: client.ApiClient) -> None:
    name = Settings().cluster.node_name
    leases = client.CoordinationV1Api(api_client)

    def lease() -> Any:
        found = leases.list_namespaced_lease(LEASE_NAMESPACE).items
        return next((item for item in found if item.metadata.name == name), None)

    found = poll(lease)
    assert found.spec.holder_identity == name
    assert found.spec.lease_duration_seconds == 40
    assert found.spec.renew_time is not None
    owner = found.metadata.owner_references[0]
    assert (owner.kind, owner.name) == ("Node", name)
    raw = json.loads(cluster.kubectl("get", "lease", name, "-n", LEASE_NAMESPACE, "-o", "json"))
    assert len(raw["spec"]["renewTime"].rpartition(".")[2]) == len("123456Z")  # MicroTime


# -- in-process, on a manual clock -------------------------------------------------------


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    data_dir: Path = tmp_path_factory.mktemp("nodes") / "data"
    data_dir.mkdir()
    settings = {"CONTROLLERS": "node,scheduler", "NODE_NAME": "atoll-nodes-test"}
    proc = start_cluster(data_dir, settings=settings)
    yield proc
    if proc.process.poll() is None:
        proc.stop()


@pytest.fixture
async def kube(own_cluster: ClusterProcess) -> AsyncIterator[KubeClient]:
    async with KubeClient(ClusterConfig.from_kubeconfig(own_cluster.kubeconfig)) as kube:
        yield kube


@pytest.fixture
async def node_name(kube: KubeClient) -> AsyncIterator[str]:
    name = f"node-{uuid.uuid4().hex[:8]}"
    yield name
    for rt, namespace in ((NODES, None), (LEASES, LEASE_NAMESPACE)):
        with contextlib.suppress(NotFound):
            await kube.delete(rt, name, namespace=namespace)


@contextlib.asynccontextmanager
async def running(
    kube: KubeClient, clock: ManualClock, **options: Any
) -> AsyncIterator[ControllerManager]:
    controller = NodeController(ControllerOptions(clock=clock, **options))
    manager = ControllerManager(
        [controller], client=kube, informers=InformerFactory(kube), clock=clock
    )
    task = asyncio.create_task(manager.run())
    try:
        yield manager
    finally:
        manager.stop()
        await asyncio.wait_for(task, 15)


async def get_or_none(kube: KubeClient, rt: Any, name: str, namespace: str | None) -> Object | None:
    try:
        return await kube.get(rt, name, namespace=namespace)
    except NotFound:
        return None


async def timer_armed(clock: ManualClock, *, at: float) -> None:
    """Wait until the controller has asked to be woken at ``at`` (its reconcile is done)."""

    async def armed() -> bool:
        await asyncio.sleep(0)
        return clock.next_deadline() == at

    await eventually(armed)


def ready_condition(node: Object) -> dict[str, Any]:
    return next(c for c in node["status"]["conditions"] if c["type"] == "Ready")


async def test_the_lease_is_renewed_every_10s_and_the_status_every_40s(
    kube: KubeClient, node_name: str
) -> None:
    clock = ManualClock()  # starts at 2021-01-02T03:04:05.123456Z, monotonic 1000
    async with running(kube, clock, node_name=node_name):

        async def lease_renewed_at(stamp: str) -> Object | None:
            lease = await get_or_none(kube, LEASES, node_name, LEASE_NAMESPACE)
            return lease if lease and lease["spec"]["renewTime"] == stamp else None

        lease = await eventually(lambda: lease_renewed_at("2021-01-02T03:04:05.123456Z"))
        assert lease["spec"]["holderIdentity"] == node_name
        node = await kube.get(NODES, node_name)
        assert ready_condition(node)["lastHeartbeatTime"] == "2021-01-02T03:04:05Z"
        version = node["metadata"]["resourceVersion"]

        for seconds in (15, 25, 35, 45):
            await timer_armed(clock, at=clock.monotonic() + 10)
            clock.advance(10)
            await eventually(lambda s=seconds: lease_renewed_at(f"2021-01-02T03:04:{s}.123456Z"))
            node = await kube.get(NODES, node_name)
            if seconds < 45:  # heartbeats alone do not rewrite the Node before 40 s
                assert node["metadata"]["resourceVersion"] == version

        async def status_reported() -> Object | None:
            node = await kube.get(NODES, node_name)
            beat = ready_condition(node)["lastHeartbeatTime"]
            return node if beat == "2021-01-02T03:04:45Z" else None

        node = await eventually(status_reported)
        assert ready_condition(node)["lastTransitionTime"] == "2021-01-02T03:04:05Z"


async def test_an_existing_node_is_adopted_and_tainted_until_ready(
    kube: KubeClient, node_name: str
) -> None:
    # What kubectl's test harness registers before the controllers may have done so.
    await kube.create(
        NODES,
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": node_name, "labels": {"custom": "yes"}},
            "spec": {"taints": [{"key": "dedicated", "value": "x", "effect": "PreferNoSchedule"}]},
            "status": {"capacity": {"memory": "1Gi"}},
        },
    )
    dedicated = {"key": "dedicated", "value": "x", "effect": "PreferNoSchedule"}

    async def node_with(taints: list[dict[str, str]], ready: str) -> Object | None:
        node = await kube.get(NODES, node_name)
        conditions = (node.get("status") or {}).get("conditions") or []
        states = [c["status"] for c in conditions if c["type"] == "Ready"]
        return node if node["spec"].get("taints") == taints and states == [ready] else None

    async with running(kube, ManualClock(), node_name=node_name, kubelet=False):
        node = await eventually(lambda: node_with([dedicated, NOT_READY], "False"))
    labels = node["metadata"]["labels"]
    assert labels["custom"] == "yes"
    assert labels["kubernetes.io/hostname"] == node_name
    assert node["status"]["capacity"]["memory"] != "1Gi"  # the host's, not the placeholder

    later = ManualClock(start=datetime(2021, 1, 2, 4, 0, 0, tzinfo=UTC))  # new Event names
    async with running(kube, later, node_name=node_name, kubelet=True):
        node = await eventually(lambda: node_with([dedicated], "True"))
    assert ready_condition(node)["reason"] == "KubeletReady"

    async def readiness_events() -> set[str] | None:
        selector = f"involvedObject.name={node_name}"
        events = await kube.list(EVENTS, namespace="default", field_selector=selector)
        # Named as the kubelet names them, so that ``kubectl describe node`` finds them.
        reasons = {e["reason"] for e in events["items"] if e["involvedObject"]["uid"] == node_name}
        return reasons if {"NodeNotReady", "NodeReady"} <= reasons else None

    await eventually(readiness_events)
