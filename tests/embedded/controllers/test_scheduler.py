"""The scheduler against a real API server: bindings, and why a pod stays Pending.

The session cluster (every controller, kubelet off) shows the product's behaviour: pods stay
Pending and unbound behind the node's not-ready taint and are deleted at once. The other
tests use a cluster of their own running only the node and scheduler controllers, add Ready
nodes of their own (writing the status a kubelet would) and delete them afterwards, so no
other test's DaemonSet or pod lands on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from tests.conftest import ClusterProcess, start_cluster

from atoll.embedded.controllers.nodes import NODES
from atoll.embedded.controllers.scheduler import PODS
from atoll.errors import NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.events import EVENTS
from atoll.kube.kubeconfig import ClusterConfig

T = TypeVar("T")
NAMESPACES = ResourceType("", "v1", "namespaces", "Namespace", False)
NOT_READY_REASON = (
    "node(s) had taint {node.kubernetes.io/not-ready: }, that the pod didn't tolerate"
)


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


def pod_scheduled(pod: Object) -> dict[str, Any] | None:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "PodScheduled"), None)


# -- the product's set-up: kubelet off ---------------------------------------------------


def test_pods_stay_pending_behind_the_not_ready_taint_and_go_at_once(
    cluster: ClusterProcess, namespace: str
) -> None:
    cluster.kubectl("run", "waiting", "--image=busybox", "-n", namespace)

    def reported() -> dict[str, Any] | None:
        out = cluster.kubectl("get", "pod", "waiting", "-n", namespace, "-o", "json")
        pod = json.loads(out)
        condition = pod_scheduled(pod)
        return pod if condition is not None else None

    give_up = time.monotonic() + 15
    while (pod := reported()) is None:
        assert time.monotonic() < give_up, "the pod never got a PodScheduled condition"
        time.sleep(0.05)
    assert not pod["spec"].get("nodeName")
    assert pod["status"]["phase"] == "Pending"
    condition = pod_scheduled(pod)
    assert condition is not None
    assert (condition["status"], condition["reason"]) == ("False", "Unschedulable")
    assert condition["message"].startswith("0/")
    assert NOT_READY_REASON in condition["message"]

    events = json.loads(
        cluster.kubectl(
            "get",
            "events",
            "-n",
            namespace,
            "--field-selector=reason=FailedScheduling",
            "-o",
            "json",
        )
    )["items"]
    assert [(e["type"], e["source"]["component"]) for e in events] == [
        ("Warning", "default-scheduler")
    ]
    assert events[0]["message"] == condition["message"]

    started = time.monotonic()
    cluster.kubectl("delete", "pod", "waiting", "-n", namespace)  # waits until it is gone
    assert time.monotonic() - started < 10
    assert "waiting" not in cluster.kubectl("get", "pods", "-n", namespace, "-o", "name")


# -- a cluster of our own with Ready nodes -----------------------------------------------


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    data_dir: Path = tmp_path_factory.mktemp("scheduler") / "data"
    data_dir.mkdir()
    settings = {"CONTROLLERS": "node,scheduler", "NODE_NAME": "atoll-scheduler-test"}
    proc = start_cluster(data_dir, settings=settings)
    yield proc
    if proc.process.poll() is None:
        proc.stop()


class Fleet:
    """Ready nodes and pods made by one test; nodes are deleted when it ends."""

    def __init__(self, kube: KubeClient, namespace: str) -> None:
        self.kube = kube
        self.namespace = namespace
        self.nodes: list[str] = []
        self.tag = uuid.uuid4().hex[:6]

    async def node(
        self,
        name: str,
        *,
        labels: dict[str, str] | None = None,
        taints: list[dict[str, str]] | None = None,
        unschedulable: bool = False,
        allocatable: dict[str, str] | None = None,
    ) -> str:
        full = f"{name}-{self.tag}"
        resources = allocatable or {"cpu": "4", "memory": "8Gi", "pods": "110"}
        ready = {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok"}
        await self.kube.create(
            NODES,
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": full, "labels": {"fleet": self.tag, **(labels or {})}},
                "spec": {"taints": taints or [], "unschedulable": unschedulable},
                "status": {"capacity": resources, "allocatable": resources, "conditions": [ready]},
            },
        )
        self.nodes.append(full)
        return full

    async def pod(
        self,
        name: str,
        *,
        requests: dict[str, str] | None = None,
        selector: dict[str, str] | None = None,
        **spec: Any,
    ) -> str:
        container: dict[str, Any] = {"name": "c", "image": "busybox"}
        if requests:
            container["resources"] = {"requests": requests}
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": self.namespace},
            # Only this test's nodes: the other tests' and the local node stay out of it.
            "spec": {
                "containers": [container],
                "nodeSelector": {"fleet": self.tag, **(selector or {})},
                **spec,
            },
        }
        await self.kube.create(PODS, body)
        return name

    async def get(self, name: str) -> Object:
        return await self.kube.get(PODS, name, namespace=self.namespace)

    async def bound(self, name: str) -> str:
        async def node_name() -> str | None:
            return (await self.get(name))["spec"].get("nodeName")

        return await eventually(node_name)

    async def unschedulable(self, name: str, fragment: str) -> str:
        """Wait for PodScheduled=False whose message has ``fragment``; return the message."""

        async def message() -> str | None:
            condition = pod_scheduled(await self.get(name)) or {}
            text = str(condition.get("message", ""))
            return text if condition.get("status") == "False" and fragment in text else None

        return await eventually(message)

    async def event_messages(self, name: str, reason: str) -> list[str]:
        selector = f"involvedObject.name={name},reason={reason}"
        events = await self.kube.list(EVENTS, namespace=self.namespace, field_selector=selector)
        return [e["message"] for e in events["items"]]


@pytest.fixture
async def fleet(own_cluster: ClusterProcess) -> AsyncIterator[Fleet]:
    config = ClusterConfig.from_kubeconfig(own_cluster.kubeconfig)
    async with KubeClient(config) as kube:
        namespace = f"s-{uuid.uuid4().hex[:8]}"
        await kube.create(NAMESPACES, {"metadata": {"name": namespace}})
        made = Fleet(kube, namespace)
        yield made
        for node in made.nodes:
            with contextlib.suppress(NotFound):
                await kube.delete(NODES, node)


async def test_a_pod_is_bound_to_the_node_its_selector_names(fleet: Fleet) -> None:
    await fleet.node("a", labels={"zone": "a"})
    b = await fleet.node("b", labels={"zone": "b"})
    await fleet.pod("web", selector={"zone": "b"})

    assert await fleet.bound("web") == b

    async def scheduled() -> list[str]:
        return await fleet.event_messages("web", "Scheduled")

    assert await eventually(scheduled) == [f"Successfully assigned {fleet.namespace}/web to {b}"]


async def test_required_node_affinity_and_match_fields(fleet: Fleet) -> None:
    await fleet.node("small", labels={"cores": "2"})
    big = await fleet.node("big", labels={"cores": "16"})
    wanted = await fleet.node("wanted")

    def affinity(term: dict[str, Any]) -> dict[str, Any]:
        required = {"nodeSelectorTerms": [term]}
        return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}

    gt = {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["8"]}]}
    await fleet.pod("needs-cores", affinity=affinity(gt))
    by_name = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [wanted]}]}
    await fleet.pod("daemon-like", affinity=affinity(by_name))

    assert await fleet.bound("needs-cores") == big
    assert await fleet.bound("daemon-like") == wanted


async def test_taints_keep_pods_away_unless_tolerated(fleet: Fleet) -> None:
    gpu = await fleet.node(
        "gpu", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    )

    await fleet.pod("plain")
    message = await fleet.unschedulable(
        "plain", "1 node(s) had taint {dedicated: gpu}, that the pod didn't tolerate"
    )
    assert message.startswith("0/")

    async def warned() -> list[str]:
        return await fleet.event_messages("plain", "FailedScheduling")

    assert await eventually(warned) == [message]

    toleration = {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}
    await fleet.pod("tolerant", tolerations=[toleration])
    await fleet.pod("tolerates-all", tolerations=[{"operator": "Exists"}])
    assert await fleet.bound("tolerant") == gpu
    assert await fleet.bound("tolerates-all") == gpu
    assert not (await fleet.get("plain"))["spec"].get("nodeName")


async def test_requests_must_fit_and_a_deleted_pod_frees_room(fleet: Fleet) -> None:
    node = await fleet.node("tiny", allocatable={"cpu": "1", "memory": "1Gi", "pods": "10"})

    await fleet.pod("huge", requests={"cpu": "2"})
    await fleet.unschedulable("huge", "1 Insufficient cpu")

    await fleet.pod("first", requests={"cpu": "600m", "memory": "256Mi"})
    assert await fleet.bound("first") == node
    await fleet.pod("second", requests={"cpu": "600m"})
    await fleet.unschedulable("second", "1 Insufficient cpu")

    await fleet.kube.delete(PODS, "first", namespace=fleet.namespace, grace_period_seconds=0)
    assert await fleet.bound("second") == node  # retried when the room was freed

    async def no_longer_unschedulable() -> bool:
        return (pod_scheduled(await fleet.get("second")) or {}).get("status") == "True"

    await eventually(no_longer_unschedulable)
    assert not (await fleet.get("huge"))["spec"].get("nodeName")


async def test_an_unschedulable_node_takes_pods_once_uncordoned(fleet: Fleet) -> None:
    node = await fleet.node("cordoned", unschedulable=True)
    await fleet.pod("patient")
    await fleet.unschedulable("patient", "1 node(s) were unschedulable")

    await fleet.kube.patch(NODES, node, {"spec": {"unschedulable": False}})

    assert await fleet.bound("patient") == node


async def test_pods_for_another_scheduler_are_left_alone(fleet: Fleet) -> None:
    await fleet.node("any")
    await fleet.pod("theirs", schedulerName="someone-else")
    await fleet.pod("ours")
    await fleet.bound("ours")  # the scheduler has run; "theirs" was not its business
    pod = await fleet.get("theirs")
    assert not pod["spec"].get("nodeName")
    assert pod_scheduled(pod) is None
