"""The DaemonSet controller in the embedded cluster, with Nodes each test makes for itself.

Each test registers a Node of its own (unique name and label) and selects it with the
DaemonSet's ``nodeSelector``, so the machine's own Node (NotReady and tainted until a kubelet
exists) and other tests' Nodes stay out of the picture. ``KubeletStandIn`` (test-only) marks pods
Ready and removes pods being deleted.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.conftest import ClusterProcess
from tests.embedded.controllers.kubelet_stand_in import KubeletStandIn
from tests.embedded.controllers.workload_support import PodWatch, eventually, get_json

from atoll.embedded.controllers.daemon_placement import pin_to_node, should_run, target_node
from atoll.embedded.controllers.revisions import REVISION_HASH_LABEL

LABEL = "atoll.test/daemons"


@pytest.fixture
def node(cluster: ClusterProcess) -> Iterator[str]:
    """A Node of this test's own, labelled ``atoll.test/daemons=<its name>``."""
    name = f"ds-node-{uuid.uuid4().hex[:8]}"
    manifest = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {LABEL: name, "kubernetes.io/hostname": name}},
    }
    cluster.kubectl("create", "-f", "-", input=json.dumps(manifest))
    yield name
    cluster.kubectl("delete", "node", name, "--wait=false")


def _ds(name: str, node: str, *, image: str = "pause:1", **spec: Any) -> str:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": name},
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "nodeSelector": {LABEL: node},
                        "containers": [{"name": "main", "image": image}],
                    },
                },
                **spec,
            },
        }
    )


def _pods(cluster: ClusterProcess, ns: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = get_json(cluster, "pods", "-n", ns)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def _status(cluster: ClusterProcess, ns: str, name: str) -> dict[str, Any]:
    status: dict[str, Any] = get_json(cluster, "daemonset", name, "-n", ns)["status"]
    return status


def _images(cluster: ClusterProcess, ns: str) -> list[str]:
    return [p["spec"]["containers"][0]["image"] for p in _pods(cluster, ns)]


def test_placement_rules() -> None:
    node = {
        "metadata": {"name": "n1", "labels": {"zone": "a"}},
        "spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]},
    }
    spec: dict[str, Any] = {"nodeSelector": {"zone": "a"}, "tolerations": []}
    assert should_run(node, spec) == (False, True), "NoSchedule: no new pod, the old one stays"
    spec["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "db"}]
    assert should_run(node, spec) == (True, True)
    assert should_run(node, {**spec, "nodeSelector": {"zone": "b"}}) == (False, False)
    node["spec"]["taints"].append({"key": "evict", "effect": "NoExecute"})
    assert should_run(node, spec) == (False, False)

    pinned: dict[str, Any] = {}
    pin_to_node(pinned, "n1")
    assert target_node({"spec": pinned}) == "n1"
    assert should_run(node | {"spec": {}}, pinned) == (True, True)
    assert should_run({"metadata": {"name": "n2"}}, pinned) == (False, False)


def test_one_pinned_pod_and_rollout_status(
    cluster: ClusterProcess, namespace: str, node: str
) -> None:
    ns = namespace
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=_ds("agent", node))
    (pod,) = eventually(lambda: _pods(cluster, ns), what="the daemon pod")
    terms = pod["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert terms["nodeSelectorTerms"] == [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
    ]
    tolerated = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
    assert ("node.kubernetes.io/not-ready", "NoExecute") in tolerated
    assert ("node.kubernetes.io/unschedulable", "NoSchedule") in tolerated
    (owner,) = pod["metadata"]["ownerReferences"]
    assert owner["kind"] == "DaemonSet" and owner["controller"]
    (revision,) = get_json(cluster, "controllerrevisions", "-n", ns)["items"]
    assert (
        pod["metadata"]["labels"][REVISION_HASH_LABEL]
        == (revision["metadata"]["labels"][REVISION_HASH_LABEL])
    )
    assert revision["metadata"]["name"].startswith("agent-")
    eventually(lambda: _status(cluster, ns, "agent").get("desiredNumberScheduled") == 1)

    with KubeletStandIn(cluster, ns, terminate=True):
        out = cluster.kubectl("rollout", "status", "daemonset/agent", "-n", ns, "--timeout=60s")
    assert 'daemon set "agent" successfully rolled out' in out
    status = _status(cluster, ns, "agent")
    assert status["numberReady"] == status["numberAvailable"] == 1
    assert status["updatedNumberScheduled"] == status["currentNumberScheduled"] == 1
    assert "numberUnavailable" not in status and status["observedGeneration"] == 1


def test_rolling_update_history_and_undo(
    cluster: ClusterProcess, namespace: str, node: str
) -> None:
    ns = namespace
    with KubeletStandIn(cluster, ns, terminate=True), PodWatch(cluster, ns) as watch:
        cluster.kubectl("apply", "-n", ns, "-f", "-", input=_ds("agent", node, image="pause:1"))
        cluster.kubectl("rollout", "status", "daemonset/agent", "-n", ns, "--timeout=60s")
        (first,) = _pods(cluster, ns)

        cluster.kubectl("set", "image", "daemonset/agent", "main=pause:2", "-n", ns)
        out = cluster.kubectl("rollout", "status", "daemonset/agent", "-n", ns, "--timeout=60s")
        assert "successfully rolled out" in out
        eventually(lambda: _images(cluster, ns) == ["pause:2"], what="the new pod alone")
        first_name = first["metadata"]["name"]
        assert watch.names("DELETED")[0] == first_name
        second = watch.names("ADDED")[1]
        deleted_at = next(i for i, e in enumerate(watch.log) if e[:2] == ("DELETED", first_name))
        added_at = next(i for i, e in enumerate(watch.log) if e[:2] == ("ADDED", second))
        assert deleted_at < added_at, "maxSurge 0: the old pod goes before the new one comes"

        history = cluster.kubectl("rollout", "history", "daemonset/agent", "-n", ns)
        assert [line.split()[0] for line in history.splitlines()[2:] if line] == ["1", "2"]
        out = cluster.kubectl("rollout", "undo", "daemonset/agent", "-n", ns)
        assert "rolled back" in out
        eventually(lambda: _images(cluster, ns) == ["pause:1"], what="rolled back pod")
    history = cluster.kubectl("rollout", "history", "daemonset/agent", "-n", ns)
    assert [line.split()[0] for line in history.splitlines()[2:] if line] == ["2", "3"]


def test_taints_decide_where_daemons_run(
    cluster: ClusterProcess, namespace: str, node: str
) -> None:
    ns = namespace
    cluster.kubectl("taint", "node", node, "dedicated=db:NoSchedule")
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=_ds("agent", node))
    eventually(lambda: _status(cluster, ns, "agent").get("observedGeneration") == 1)
    assert _status(cluster, ns, "agent")["desiredNumberScheduled"] == 0
    assert not _pods(cluster, ns)

    cluster.kubectl("taint", "node", node, "dedicated-")
    eventually(lambda: len(_pods(cluster, ns)) == 1, what="a pod once the taint is gone")
    cluster.kubectl("taint", "node", node, "evict=now:NoExecute")
    eventually(lambda: not _pods(cluster, ns), what="the pod removed by a NoExecute taint")
    assert _status(cluster, ns, "agent")["desiredNumberScheduled"] == 0


def test_on_delete_replaces_only_deleted_pods(
    cluster: ClusterProcess, namespace: str, node: str
) -> None:
    ns = namespace
    manifest = _ds("agent", node, updateStrategy={"type": "OnDelete"})
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
    (pod,) = eventually(lambda: _pods(cluster, ns), what="the daemon pod")
    cluster.kubectl("set", "image", "daemonset/agent", "main=pause:2", "-n", ns)
    eventually(lambda: _status(cluster, ns, "agent").get("observedGeneration") == 2)
    assert _images(cluster, ns) == ["pause:1"]
    assert "updatedNumberScheduled" not in _status(cluster, ns, "agent")

    cluster.kubectl("delete", "pod", pod["metadata"]["name"], "-n", ns)
    eventually(lambda: _images(cluster, ns) == ["pause:2"], what="the replacement")
    eventually(lambda: _status(cluster, ns, "agent").get("updatedNumberScheduled") == 1)


def test_available_after_min_ready_seconds(
    cluster: ClusterProcess, namespace: str, node: str
) -> None:
    ns = namespace
    manifest = _ds("agent", node, minReadySeconds=3)

    def available() -> bool:
        if _status(cluster, ns, "agent").get("numberAvailable") != 1:
            return False
        (pod,) = _pods(cluster, ns)
        ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
        ready_for = datetime.now(UTC) - datetime.fromisoformat(ready["lastTransitionTime"])
        assert ready_for >= timedelta(seconds=2), "timestamps have whole seconds: 3 s - 1"
        return True

    with KubeletStandIn(cluster, ns, terminate=True):
        cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
        eventually(available, what="available once ready for minReadySeconds")
    status = _status(cluster, ns, "agent")
    assert status["numberReady"] == 1 and "numberUnavailable" not in status
