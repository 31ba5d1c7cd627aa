"""The Deployment controller through real kubectl, with the kubelet stand-in marking Pods ready.

Rollout status, history, undo (to the last and to a given revision), pause and resume,
restart; scaling (proportional in the middle of a rollout); Recreate; the maxSurge and
maxUnavailable bounds watched at every step of a rolling update; the progress deadline;
revision history clean-up; and deletion with each cascade policy.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
from tests.conftest import KUBECTL, ClusterProcess
from tests.embedded.controllers.kubelet_stand_in import KubeletStandIn
from tests.embedded.controllers.rollout_support import Api, Watcher, eventually

HASH = re.compile(r"^[bcdfghjklmnpqrstvwxz2456789]+$")


@pytest.fixture
def api(cluster: ClusterProcess) -> Api:
    return Api(cluster)


def _deployment(name: str, replicas: int, image: str = "nginx:1", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
            **spec,
        },
    }


def _path(namespace: str, plural: str, name: str = "") -> str:
    return f"/apis/apps/v1/namespaces/{namespace}/{plural}" + (f"/{name}" if name else "")


def _sets(api: Api, namespace: str, app: str) -> dict[str, dict[str, Any]]:
    items = api.items(_path(namespace, "replicasets"), labelSelector=f"app={app}")
    return {rs["metadata"]["name"]: rs for rs in items}


def _get(api: Api, namespace: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = api.get(_path(namespace, "deployments", name))
    return found


def _annotation(obj: dict[str, Any], key: str) -> str | None:
    value: str | None = (obj["metadata"].get("annotations") or {}).get(key)
    return value


def _rollout_status(cluster: ClusterProcess, namespace: str, name: str) -> str:
    return cluster.kubectl("rollout", "status", f"deploy/{name}", "-n", namespace, "--timeout=60s")


def _new_set(api: Api, namespace: str, name: str) -> dict[str, Any]:
    """The set carrying the Deployment's revision (``kubectl describe``'s NewReplicaSet)."""
    revision = _annotation(_get(api, namespace, name), "deployment.kubernetes.io/revision")
    for rs in _sets(api, namespace, name).values():
        if _annotation(rs, "deployment.kubernetes.io/revision") == revision:
            return rs
    raise AssertionError(f"no replica set has revision {revision}")


def test_a_new_deployment_rolls_out(cluster: ClusterProcess, api: Api, namespace: str) -> None:
    with KubeletStandIn(cluster, namespace):
        cluster.kubectl(
            "create", "deployment", "web", "--image=nginx:1", "--replicas=3", "-n", namespace
        )
        assert 'deployment "web" successfully rolled out' in _rollout_status(
            cluster, namespace, "web"
        )

    [(name, rs)] = _sets(api, namespace, "web").items()
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert name == f"web-{pod_hash}" and HASH.match(pod_hash)
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == pod_hash
    annotations = rs["metadata"]["annotations"]
    assert annotations["deployment.kubernetes.io/revision"] == "1"
    assert annotations["deployment.kubernetes.io/desired-replicas"] == "3"
    assert annotations["deployment.kubernetes.io/max-replicas"] == "4"  # 25% surge, rounded up
    [owner] = rs["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Deployment", "web", True)

    deployment = _get(api, namespace, "web")
    assert _annotation(deployment, "deployment.kubernetes.io/revision") == "1"
    status = deployment["status"]
    assert {k: status.get(k) for k in ("replicas", "updatedReplicas", "readyReplicas")} == {
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 3,
    }
    assert status["availableReplicas"] == 3 and "unavailableReplicas" not in status
    conditions = {c["type"]: c for c in status["conditions"]}
    assert (conditions["Available"]["status"], conditions["Available"]["reason"]) == (
        "True",
        "MinimumReplicasAvailable",
    )
    progressing = conditions["Progressing"]
    assert (progressing["status"], progressing["reason"]) == ("True", "NewReplicaSetAvailable")
    assert progressing["message"] == f'ReplicaSet "{name}" has successfully progressed.'
    pods = api.items(
        f"/api/v1/namespaces/{namespace}/pods", labelSelector=f"pod-template-hash={pod_hash}"
    )
    assert len(pods) == 3
    events = cluster.kubectl(
        "get", "events", "-n", namespace, "--field-selector=reason=ScalingReplicaSet"
    )
    assert f"Scaled up replica set {name} to 3" in events


def test_min_ready_seconds_delays_availability(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    api.create(_path(namespace, "deployments"), _deployment("slow", 1, minReadySeconds=4))
    [rs] = eventually(lambda: list(_sets(api, namespace, "slow").values()))
    assert rs["spec"]["minReadySeconds"] == 4

    def counts() -> tuple[int, int]:
        status = _get(api, namespace, "slow").get("status") or {}
        return status.get("readyReplicas", 0), status.get("availableReplicas", 0)

    with KubeletStandIn(cluster, namespace):
        eventually(lambda: counts()[0] == 1, what="ready")
        assert counts() == (1, 0), "ready, but not yet for minReadySeconds"
        assert "successfully rolled out" in _rollout_status(cluster, namespace, "slow")
    assert counts() == (1, 1)


def test_rolling_update_keeps_within_surge_and_unavailability(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    # 10 replicas, 25% each way: at most 13 pods wanted (surge rounds up), at least 8 ready
    # (unavailability rounds down).
    api.create(_path(namespace, "deployments"), _deployment("roll", 10))
    seen = {"most_wanted": 0, "fewest_ready": 10}

    def sets_changed(_: str, __: dict[str, Any], sets: dict[str, dict[str, Any]]) -> None:
        wanted = sum(rs["spec"]["replicas"] for rs in sets.values())
        seen["most_wanted"] = max(seen["most_wanted"], wanted)

    def pods_changed(_: str, __: dict[str, Any], pods: dict[str, dict[str, Any]]) -> None:
        ready = sum(
            1
            for pod in pods.values()
            if not pod["metadata"].get("deletionTimestamp")
            and any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in (pod.get("status") or {}).get("conditions") or []
            )
        )
        seen["fewest_ready"] = min(seen["fewest_ready"], ready)

    with KubeletStandIn(cluster, namespace):
        _rollout_status(cluster, namespace, "roll")
        with (
            Watcher(api, _path(namespace, "replicasets"), sets_changed),
            Watcher(api, f"/api/v1/namespaces/{namespace}/pods", pods_changed),
        ):
            cluster.kubectl("set", "image", "deploy/roll", "c=nginx:2", "-n", namespace)
            assert "successfully rolled out" in _rollout_status(cluster, namespace, "roll")
    assert seen["most_wanted"] == 13
    assert seen["fewest_ready"] >= 8
    sizes = sorted(rs["spec"]["replicas"] for rs in _sets(api, namespace, "roll").values())
    assert sizes == [0, 10]


def test_history_undo_and_change_cause(cluster: ClusterProcess, api: Api, namespace: str) -> None:
    def kubectl(*args: str) -> str:
        return cluster.kubectl(*args, "-n", namespace)

    body = _deployment("hist", 1)
    body["metadata"]["annotations"] = {"kubernetes.io/change-cause": "first"}
    with KubeletStandIn(cluster, namespace):
        api.create(_path(namespace, "deployments"), body)
        _rollout_status(cluster, namespace, "hist")
        first = _new_set(api, namespace, "hist")["metadata"]["name"]
        # What ``kubectl set image --record`` sends: the template and the cause at once.
        change = {
            "metadata": {"annotations": {"kubernetes.io/change-cause": "second"}},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}},
        }
        api.merge_patch(_path(namespace, "deployments", "hist"), change)
        _rollout_status(cluster, namespace, "hist")
        second = _new_set(api, namespace, "hist")["metadata"]["name"]
        assert (
            _annotation(_new_set(api, namespace, "hist"), "kubernetes.io/change-cause") == "second"
        )
        history = kubectl("rollout", "history", "deploy/hist")
        assert re.search(r"1\s+first", history) and re.search(r"2\s+second", history)

        kubectl("rollout", "undo", "deploy/hist")  # back to revision 1's template
        _rollout_status(cluster, namespace, "hist")
        reused = _new_set(api, namespace, "hist")
        assert reused["metadata"]["name"] == first, "the old set is reused, not recreated"
        assert _annotation(reused, "deployment.kubernetes.io/revision") == "3"
        assert _annotation(reused, "deployment.kubernetes.io/revision-history") == "1"
        assert _annotation(reused, "kubernetes.io/change-cause") == "first"
        assert (
            _get(api, namespace, "hist")["spec"]["template"]["spec"]["containers"][0]["image"]
            == "nginx:1"
        )
        history = kubectl("rollout", "history", "deploy/hist")
        assert re.search(r"2\s+second", history) and re.search(r"3\s+first", history)

        kubectl("rollout", "undo", "deploy/hist", "--to-revision=2")
        _rollout_status(cluster, namespace, "hist")
        back = _new_set(api, namespace, "hist")
        assert back["metadata"]["name"] == second
        assert _annotation(back, "deployment.kubernetes.io/revision") == "4"
        assert len(_sets(api, namespace, "hist")) == 2
        failed = cluster.kubectl(
            "rollout", "undo", "deploy/hist", "--to-revision=9", "-n", namespace, check=False
        )
        assert "unable to find specified revision 9 in history" in failed


def test_pause_and_resume(cluster: ClusterProcess, api: Api, namespace: str) -> None:
    with KubeletStandIn(cluster, namespace):
        api.create(_path(namespace, "deployments"), _deployment("pause", 2))
        _rollout_status(cluster, namespace, "pause")
        cluster.kubectl("rollout", "pause", "deploy/pause", "-n", namespace)

        def progressing() -> dict[str, Any]:
            conditions = _get(api, namespace, "pause")["status"]["conditions"]
            found: dict[str, Any] = next(c for c in conditions if c["type"] == "Progressing")
            return found

        eventually(lambda: progressing()["reason"] == "DeploymentPaused")
        assert progressing()["status"] == "Unknown"
        assert progressing()["message"] == "Deployment is paused"
        cluster.kubectl("set", "image", "deploy/pause", "c=nginx:2", "-n", namespace)
        generation = _get(api, namespace, "pause")["metadata"]["generation"]
        eventually(
            lambda: _get(api, namespace, "pause")["status"]["observedGeneration"] == generation
        )
        assert len(_sets(api, namespace, "pause")) == 1, "a paused deployment does not roll"

        cluster.kubectl("rollout", "resume", "deploy/pause", "-n", namespace)
        assert "successfully rolled out" in _rollout_status(cluster, namespace, "pause")
        assert len(_sets(api, namespace, "pause")) == 2
        assert progressing()["reason"] == "NewReplicaSetAvailable"


def test_restart_rolls_a_new_replica_set(cluster: ClusterProcess, api: Api, namespace: str) -> None:
    with KubeletStandIn(cluster, namespace):
        api.create(_path(namespace, "deployments"), _deployment("restart", 2))
        _rollout_status(cluster, namespace, "restart")
        cluster.kubectl("rollout", "restart", "deploy/restart", "-n", namespace)
        _rollout_status(cluster, namespace, "restart")
    new = _new_set(api, namespace, "restart")
    assert _annotation(new, "deployment.kubernetes.io/revision") == "2"
    template_annotations = new["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in template_annotations
    assert sorted(rs["spec"]["replicas"] for rs in _sets(api, namespace, "restart").values()) == [
        0,
        2,
    ]


def test_scaling_is_proportional_during_a_rollout(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    # Only "good" pods become ready, so a rollout to a "bad" template stalls half-way.
    body = _deployment("prop", 10)
    body["spec"]["template"]["metadata"]["labels"]["track"] = "good"
    with KubeletStandIn(cluster, namespace, label_selector="track=good"):
        api.create(_path(namespace, "deployments"), body)
        _rollout_status(cluster, namespace, "prop")
        patch = {"spec": {"template": {"metadata": {"labels": {"track": "bad"}}}}}
        api.merge_patch(_path(namespace, "deployments", "prop"), patch)

        def sizes() -> dict[str, int]:
            return {
                rs["spec"]["template"]["metadata"]["labels"]["track"]: rs["spec"]["replicas"]
                for rs in _sets(api, namespace, "prop").values()
            }

        # 10 + 3 surge; old 10 → 8 (2 unavailable allowed); new 3 → 5; then stuck.
        eventually(lambda: sizes() == {"good": 8, "bad": 5}, what="the stalled rollout")
        cluster.kubectl("scale", "deploy/prop", "--replicas=20", "-n", namespace)
        # 20 + 5 surge = 25 allowed; the 12 more go 7 to the old set and 5 to the new one.
        eventually(lambda: sizes() == {"good": 15, "bad": 10}, what="proportional scaling")
        eventually(lambda: _get(api, namespace, "prop")["status"].get("availableReplicas") == 15)
    events = cluster.kubectl(
        "get", "events", "-n", namespace, "--field-selector=reason=ScalingReplicaSet"
    )
    assert "Scaled up replica set" in events and "to 15" in events


def test_recreate_removes_old_pods_before_creating_new_ones(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    body = _deployment("recreate", 3, strategy={"type": "Recreate"})
    with KubeletStandIn(cluster, namespace):
        api.create(_path(namespace, "deployments"), body)
        _rollout_status(cluster, namespace, "recreate")
        old_hash = _new_set(api, namespace, "recreate")["metadata"]["labels"]["pod-template-hash"]
        with Watcher(api, f"/api/v1/namespaces/{namespace}/pods") as pods:
            cluster.kubectl("set", "image", "deploy/recreate", "c=nginx:2", "-n", namespace)
            assert "successfully rolled out" in _rollout_status(cluster, namespace, "recreate")
    order = [
        (kind, obj["metadata"]["labels"]["pod-template-hash"] == old_hash)
        for kind, obj in pods.events
        if kind in ("ADDED", "DELETED")
    ]
    last_old_gone = max(i for i, (kind, old) in enumerate(order) if kind == "DELETED" and old)
    first_new = min(i for i, (kind, old) in enumerate(order) if kind == "ADDED" and not old)
    assert last_old_gone < first_new
    assert sum(1 for kind, old in order if kind == "ADDED" and not old) == 3


def test_progress_deadline_exceeded(cluster: ClusterProcess, api: Api, namespace: str) -> None:
    # Nothing marks these pods ready: after 2 s without progress the rollout has failed.
    api.create(_path(namespace, "deployments"), _deployment("stuck", 2, progressDeadlineSeconds=2))

    def progressing() -> dict[str, Any] | None:
        conditions = (_get(api, namespace, "stuck").get("status") or {}).get("conditions") or []
        return next((c for c in conditions if c["type"] == "Progressing"), None)

    condition = eventually(
        lambda: (c := progressing()) and c["reason"] == "ProgressDeadlineExceeded" and c,
        timeout=20,
    )
    assert condition["status"] == "False"
    assert condition["message"].endswith("has timed out progressing.")
    result = subprocess.run(
        [
            str(KUBECTL),
            f"--kubeconfig={cluster.kubeconfig}",
            "rollout",
            "status",
            "deploy/stuck",
            "-n",
            namespace,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert 'deployment "stuck" exceeded its progress deadline' in result.stderr


def test_old_replica_sets_beyond_the_history_limit_are_deleted(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    with KubeletStandIn(cluster, namespace):
        api.create(_path(namespace, "deployments"), _deployment("limit", 1, revisionHistoryLimit=1))
        for tag in ("2", "3", "4"):
            _rollout_status(cluster, namespace, "limit")
            cluster.kubectl("set", "image", "deploy/limit", f"c=nginx:{tag}", "-n", namespace)
        _rollout_status(cluster, namespace, "limit")

        def images() -> list[str]:
            return sorted(
                rs["spec"]["template"]["spec"]["containers"][0]["image"]
                for rs in _sets(api, namespace, "limit").values()
            )

        eventually(lambda: images() == ["nginx:3", "nginx:4"], what="one old set kept")


def test_delete_with_each_cascade_policy(cluster: ClusterProcess, api: Api, namespace: str) -> None:
    for name in ("orphaned", "background", "foreground"):
        api.create(_path(namespace, "deployments"), _deployment(name, 2))
        eventually(
            lambda n=name: (
                len(api.items(f"/api/v1/namespaces/{namespace}/pods", labelSelector=f"app={n}"))
                == 2
            )
        )  # type: ignore[misc]

    cluster.kubectl("delete", "deploy", "orphaned", "-n", namespace, "--cascade=orphan")
    [kept] = _sets(api, namespace, "orphaned").values()
    assert not kept["metadata"].get("ownerReferences")
    assert kept["spec"]["replicas"] == 2

    cluster.kubectl("delete", "deploy", "foreground", "-n", namespace, "--cascade=foreground")
    eventually(lambda: not _sets(api, namespace, "foreground"), what="foreground: sets gone")

    cluster.kubectl("delete", "deploy", "background", "-n", namespace)
    eventually(lambda: not _sets(api, namespace, "background"), what="background: sets gone")
    eventually(
        lambda: (
            not api.items(f"/api/v1/namespaces/{namespace}/pods", labelSelector="app=background")
        ),
        what="background: pods gone",
    )
    as_json = json.loads(
        cluster.kubectl("get", "pods", "-n", namespace, "-l", "app=orphaned", "-o", "json")
    )
    assert len(as_json["items"]) == 2, "the orphaned set still keeps its pods"
