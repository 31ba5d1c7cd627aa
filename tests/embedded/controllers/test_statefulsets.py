"""The StatefulSet controller in the embedded cluster, observed through kubectl and watches.

Nothing runs pods yet: ``mark_ready`` and ``KubeletStandIn`` (test-only) play the kubelet's part, so
each test decides when a pod becomes Running and Ready and can watch the controller wait.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import ClusterProcess
from tests.embedded.controllers.kubelet_stand_in import KubeletStandIn, mark_ready, session
from tests.embedded.controllers.workload_support import PodWatch, eventually, get_json

from atoll.embedded.controllers.revisions import (
    REVISION_HASH_LABEL,
    fnv32a,
    hash_data,
    revision_data,
    safe_encode,
)

POD_NAME = "statefulset.kubernetes.io/pod-name"


def _sts(name: str, *, replicas: int, image: str = "nginx:1.19", **spec: Any) -> str:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": name},
            "spec": {
                "replicas": replicas,
                "serviceName": name,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "main", "image": image}]},
                },
                **spec,
            },
        }
    )


def _get(cluster: ClusterProcess, ns: str, *what: str) -> Any:
    return get_json(cluster, *what, "-n", ns)


def _pods(cluster: ClusterProcess, ns: str) -> dict[str, dict[str, Any]]:
    return {p["metadata"]["name"]: p for p in _get(cluster, ns, "pods")["items"]}


def _status(cluster: ClusterProcess, ns: str, name: str) -> dict[str, Any]:
    status: dict[str, Any] = _get(cluster, ns, "statefulset", name)["status"]
    return status


def _revisions(cluster: ClusterProcess, ns: str) -> dict[str, dict[str, Any]]:
    items = _get(cluster, ns, "controllerrevisions")["items"]
    return {r["metadata"]["name"]: r for r in items}


def _ready_one(cluster: ClusterProcess, ns: str, pod: str) -> None:
    selector = f"{POD_NAME}={pod}"
    assert mark_ready(cluster, ns, label_selector=selector, http=session(cluster)) == 1


def test_revision_hash_is_fnv32a_in_the_safe_alphabet() -> None:
    assert fnv32a(b"") == 0x811C9DC5
    assert fnv32a(b"a") == 0xE40C292C
    assert safe_encode("0123456789") == "456789bcdf"
    data = revision_data({"spec": {"template": {"metadata": {"labels": {"a": "b"}}}}})
    assert list(data["spec"]["template"]) == ["$patch", "metadata", "spec"]
    assert data["spec"]["template"]["metadata"] == {"creationTimestamp": None, "labels": {"a": "b"}}
    assert hash_data(data) != hash_data(data, 1)


def test_ordered_ready_creation_waits_for_each_pod(cluster: ClusterProcess, namespace: str) -> None:
    ns = namespace
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=_sts("web", replicas=3))
    eventually(lambda: _status(cluster, ns, "web").get("replicas") == 1, what="web-0 made")
    assert list(_pods(cluster, ns)) == ["web-0"], "web-1 must wait for web-0 to be ready"

    status = _status(cluster, ns, "web")
    assert status["observedGeneration"] == 1
    assert status["currentRevision"] == status["updateRevision"]
    pod = _pods(cluster, ns)["web-0"]
    labels = pod["metadata"]["labels"]
    assert labels == {
        "app": "web",
        POD_NAME: "web-0",
        REVISION_HASH_LABEL: status["updateRevision"],
    }
    assert pod["spec"]["hostname"] == "web-0" and pod["spec"]["subdomain"] == "web"
    (owner,) = pod["metadata"]["ownerReferences"]
    assert owner["kind"] == "StatefulSet" and owner["name"] == "web" and owner["controller"]

    _ready_one(cluster, ns, "web-0")
    eventually(lambda: "web-1" in _pods(cluster, ns), what="web-1 made")
    assert sorted(_pods(cluster, ns)) == ["web-0", "web-1"]
    _ready_one(cluster, ns, "web-1")
    eventually(lambda: "web-2" in _pods(cluster, ns), what="web-2 made")
    _ready_one(cluster, ns, "web-2")
    eventually(lambda: _status(cluster, ns, "web").get("readyReplicas") == 3, what="all ready")
    out = cluster.kubectl("rollout", "status", "statefulset/web", "-n", ns, "--timeout=30s")
    assert "partitioned roll out complete: 3 new pods have been updated" in out

    events = _get(cluster, ns, "events")["items"]
    messages = {e["message"] for e in events if e["reason"] == "SuccessfulCreate"}
    assert "create Pod web-0 in StatefulSet web successful" in messages


def test_parallel_policy_creates_every_pod_at_once(cluster: ClusterProcess, namespace: str) -> None:
    ns = namespace
    manifest = _sts("par", replicas=3, podManagementPolicy="Parallel")
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
    eventually(lambda: len(_pods(cluster, ns)) == 3, what="three pods, none ready")
    assert sorted(_pods(cluster, ns)) == ["par-0", "par-1", "par-2"]


def test_scale_down_in_reverse_order_keeps_claims(cluster: ClusterProcess, namespace: str) -> None:
    ns = namespace
    claim = {
        "metadata": {"name": "data", "labels": {"tier": "db"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    manifest = _sts("db", replicas=3, volumeClaimTemplates=[claim])
    with KubeletStandIn(cluster, ns, terminate=True), PodWatch(cluster, ns) as watch:
        cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
        eventually(lambda: _status(cluster, ns, "db").get("readyReplicas") == 3, what="ready")
        claims = {c["metadata"]["name"]: c for c in _get(cluster, ns, "pvc")["items"]}
        assert sorted(claims) == ["data-db-0", "data-db-1", "data-db-2"]
        assert claims["data-db-1"]["metadata"]["labels"] == {"tier": "db", "app": "db"}
        volumes = _pods(cluster, ns)["db-1"]["spec"]["volumes"]
        assert {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-1"}} in volumes

        cluster.kubectl("scale", "statefulset/db", "--replicas=0", "-n", ns)
        eventually(lambda: not _pods(cluster, ns), what="all pods gone")
        assert watch.names("ADDED") == ["db-0", "db-1", "db-2"]
        assert watch.names("DELETED") == ["db-2", "db-1", "db-0"]
    assert len(_get(cluster, ns, "pvc")["items"]) == 3, "claims outlive their pods"


def _revision_of_pods(cluster: ClusterProcess, ns: str) -> dict[str, str]:
    return {n: p["metadata"]["labels"][REVISION_HASH_LABEL] for n, p in _pods(cluster, ns).items()}


def test_partition_rollout_then_kubectl_undo(cluster: ClusterProcess, namespace: str) -> None:
    ns = namespace
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    manifest = _sts("web", replicas=3, image="nginx:1.19", updateStrategy=strategy)
    with KubeletStandIn(cluster, ns, terminate=True), PodWatch(cluster, ns) as watch:
        cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
        eventually(lambda: _status(cluster, ns, "web").get("readyReplicas") == 3, what="ready")
        first = _status(cluster, ns, "web")["updateRevision"]

        cluster.kubectl("set", "image", "statefulset/web", "main=nginx:1.20", "-n", ns)

        def partitioned() -> dict[str, str] | None:
            pods, status = _revision_of_pods(cluster, ns), _status(cluster, ns, "web")
            done = status.get("updatedReplicas") == 1 and status.get("readyReplicas") == 3
            return pods if done and len(pods) == 3 else None

        pods = eventually(partitioned, what="only web-2 updated")
        second = _status(cluster, ns, "web")["updateRevision"]
        assert second != first
        assert pods == {"web-0": first, "web-1": first, "web-2": second}
        assert _status(cluster, ns, "web")["currentRevision"] == first
        out = cluster.kubectl("rollout", "status", "statefulset/web", "-n", ns, "--timeout=30s")
        assert "partitioned roll out complete: 1 new pods have been updated" in out

        patch = '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}'
        cluster.kubectl("patch", "statefulset/web", "-n", ns, "-p", patch)
        eventually(
            lambda: _status(cluster, ns, "web").get("currentRevision") == second,
            what="rollout complete",
        )
        assert set(_revision_of_pods(cluster, ns).values()) == {second}
        assert watch.names("DELETED") == ["web-2", "web-1", "web-0"]

        history = cluster.kubectl("rollout", "history", "statefulset/web", "-n", ns)
        assert [line.split()[0] for line in history.splitlines()[2:] if line] == ["1", "2"]
        cluster.kubectl("rollout", "undo", "statefulset/web", "-n", ns)
        eventually(
            lambda: (
                _status(cluster, ns, "web").get("currentRevision") == first
                and set(_revision_of_pods(cluster, ns).values()) == {first}
            ),
            what="rolled back",
        )
    template = _get(cluster, ns, "statefulset", "web")["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "nginx:1.19"
    assert _revisions(cluster, ns)[first]["revision"] == 3
    history = cluster.kubectl("rollout", "history", "statefulset/web", "-n", ns)
    assert [line.split()[0] for line in history.splitlines()[2:] if line] == ["2", "3"]


def test_on_delete_updates_only_deleted_pods(cluster: ClusterProcess, namespace: str) -> None:
    ns = namespace
    manifest = _sts("od", replicas=2, updateStrategy={"type": "OnDelete"})
    with KubeletStandIn(cluster, ns, terminate=True):
        cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
        eventually(lambda: _status(cluster, ns, "od").get("readyReplicas") == 2, what="ready")
        first = _status(cluster, ns, "od")["updateRevision"]
        cluster.kubectl("set", "image", "statefulset/od", "main=nginx:1.20", "-n", ns)
        eventually(lambda: _status(cluster, ns, "od")["observedGeneration"] == 2, what="observed")
        second = _status(cluster, ns, "od")["updateRevision"]
        assert second != first
        assert _revision_of_pods(cluster, ns) == {"od-0": first, "od-1": first}

        cluster.kubectl("delete", "pod", "od-0", "-n", ns)
        eventually(
            lambda: _revision_of_pods(cluster, ns) == {"od-0": second, "od-1": first},
            what="od-0 recreated at the update revision",
        )


def test_revisions_and_history_limit(cluster: ClusterProcess, namespace: str) -> None:
    ns = namespace
    manifest = _sts("h", replicas=0, revisionHistoryLimit=1)
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
    eventually(lambda: _status(cluster, ns, "h").get("updateRevision"), what="first revision")
    sts = _get(cluster, ns, "statefulset", "h")
    (revision,) = _revisions(cluster, ns).values()
    hash_ = hash_data(revision_data(sts))
    assert revision["metadata"]["name"] == f"h-{hash_}"
    assert revision["metadata"]["labels"] == {"app": "h", REVISION_HASH_LABEL: hash_}
    assert revision["revision"] == 1
    (owner,) = revision["metadata"]["ownerReferences"]
    assert owner["uid"] == sts["metadata"]["uid"] and owner["controller"]
    template = revision["data"]["spec"]["template"]
    assert template["$patch"] == "replace"
    assert template["spec"]["containers"][0]["image"] == "nginx:1.19"

    for image in ("nginx:1.20", "nginx:1.21", "nginx:1.22"):
        cluster.kubectl("set", "image", "statefulset/h", f"main={image}", "-n", ns)
    eventually(
        lambda: sorted(r["revision"] for r in _revisions(cluster, ns).values()) == [3, 4],
        what="the newest revision and one more",
    )


def test_a_recreated_set_adopts_orphaned_pods(cluster: ClusterProcess, namespace: str) -> None:
    ns = namespace
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=_sts("gone", replicas=2))
    eventually(lambda: "gone-0" in _pods(cluster, ns), what="gone-0 made")
    cluster.kubectl("delete", "statefulset", "gone", "-n", ns, "--cascade=orphan")
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=_sts("gone", replicas=1))

    def adopted() -> bool:
        pod = _pods(cluster, ns).get("gone-0")
        uid = _get(cluster, ns, "statefulset", "gone")["metadata"]["uid"]
        refs = (pod or {}).get("metadata", {}).get("ownerReferences") or []
        return any(ref["uid"] == uid and ref["controller"] for ref in refs)

    eventually(adopted, what="the orphan adopted by the new set")
    assert list(_pods(cluster, ns)) == ["gone-0"]


def test_a_failed_pod_is_recreated(cluster: ClusterProcess, namespace: str) -> None:
    ns = namespace
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=_sts("f", replicas=1))
    pod = eventually(lambda: _pods(cluster, ns).get("f-0"), what="f-0 made")
    http = session(cluster)
    pod["status"] = {"phase": "Failed"}
    url = f"{cluster.url}/api/v1/namespaces/{ns}/pods/f-0/status"
    assert http.put(url, json=pod, timeout=30).status_code == 200
    uid = pod["metadata"]["uid"]

    def replaced() -> bool:
        new = _pods(cluster, ns).get("f-0")
        return new is not None and new["metadata"]["uid"] != uid

    eventually(replaced, what="f-0 made again")
    events = _get(cluster, ns, "events")["items"]
    assert any(e["reason"] == "RecreatingFailedPod" for e in events)
