"""Claims and volumes: the default class, local-path provisioning, binding, reclaiming,
protection, and a pod writing into its claim.

Most tests run on the session cluster (no kubelet: binding and provisioning need none);
the last starts its own cluster with the kubelet on, so a real pod mounts a claim. Classes
and volumes are cluster-scoped, so each test names its own (``manual-<random>``) and removes
them afterwards.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ClusterProcess, start_cluster
from tests.embedded.controllers.lifecycle_support import Api, eventually

from atoll.embedded.controllers.persistentvolumes_matching import best_match, mismatch
from atoll.embedded.controllers.persistentvolumes_protection import claims_used_by
from atoll.embedded.controllers.persistentvolumes_provisioning import local_path_volume

Obj = dict[str, Any]
RWO = ["ReadWriteOnce"]


def _claim(name: str, storage: str = "1Gi", modes: list[str] = RWO, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}"},
        "spec": {"accessModes": modes, "resources": {"requests": {"storage": storage}}, **spec},
    }


def _volume(
    name: str,
    storage: str = "1Gi",
    modes: list[str] = RWO,
    *,
    cls: str = "",
    labels: dict[str, str] | None = None,
    policy: str = "Retain",
    phase: str | None = "Available",
    **spec: Any,
) -> Obj:
    volume: Obj = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            "capacity": {"storage": storage},
            "accessModes": modes,
            "hostPath": {"path": f"/tmp/{name}"},
            "persistentVolumeReclaimPolicy": policy,
            **({"storageClassName": cls} if cls else {}),
            **spec,
        },
    }
    if phase is not None:
        volume["status"] = {"phase": phase}
    return volume


# -- matching, as pure functions ----------------------------------------------------------------


def test_the_smallest_fitting_volume_of_the_class_wins() -> None:
    volumes = [
        _volume("big", "10Gi", cls="fast"),
        _volume("small", "2Gi", cls="fast"),
        _volume("too-small", "500Mi", cls="fast"),
        _volume("other-class", "1Gi", cls="slow"),
        _volume("taken", "1Gi", cls="fast", claimRef={"namespace": "ns", "name": "x", "uid": "u"}),
        _volume("pending", "1Gi", cls="fast", phase="Pending"),
    ]
    claim = _claim("c", "1Gi", storageClassName="fast")
    assert best_match(claim, volumes, delay_binding=False) == volumes[1]
    assert (
        best_match(_claim("c", "20Gi", storageClassName="fast"), volumes, delay_binding=False)
        is None
    )


def test_access_modes_selector_and_volume_mode_must_fit() -> None:
    rwx = _volume("rwx", "5Gi", ["ReadWriteOnce", "ReadWriteMany"], labels={"tier": "gold"})
    rwo = _volume("rwo", "5Gi", labels={"tier": "gold"})
    block = _volume("block", "1Gi", volumeMode="Block")
    volumes = [rwx, rwo, block]
    assert best_match(_claim("c"), volumes, delay_binding=False) == rwo  # fewest modes first
    many = _claim("c", modes=["ReadWriteMany"])
    assert best_match(many, volumes, delay_binding=False) == rwx
    gold = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["gold"]}]}
    assert best_match(_claim("c", selector=gold), [block, rwo], delay_binding=False) == rwo
    silver = {"matchLabels": {"tier": "silver"}}
    assert best_match(_claim("c", selector=silver), volumes, delay_binding=False) is None
    assert best_match(_claim("c", volumeMode="Block"), volumes, delay_binding=False) == block


def test_a_volume_reserved_for_the_claim_wins_even_when_delayed() -> None:
    reserved = _volume("mine", "3Gi", cls="other", phase="Pending")
    reserved["spec"]["claimRef"] = {"namespace": "ns", "name": "c"}  # no uid: any claim "c"
    plain = _volume("plain", "1Gi", cls="fast")
    claim = _claim("c", storageClassName="fast")
    assert best_match(claim, [plain, reserved], delay_binding=False) == reserved
    assert best_match(claim, [plain], delay_binding=True) is None  # the scheduler's job
    reserved["spec"]["claimRef"]["uid"] = "someone-else"
    assert best_match(claim, [reserved], delay_binding=True) is None


def test_why_a_requested_volume_does_not_fit() -> None:
    claim = _claim("c", "2Gi", storageClassName="fast")
    assert mismatch(_volume("v", "1Gi", cls="fast"), claim) == "requested PV is too small"
    assert mismatch(_volume("v", "2Gi"), claim) == "storageClassName does not match"
    many = _volume("v", "2Gi", ["ReadWriteMany"], cls="fast")
    assert mismatch(many, claim) == "incompatible accessMode"
    assert mismatch(_volume("v", "2Gi", cls="fast"), claim) is None


def test_local_path_volume_shape() -> None:
    claim = _claim("data", "3Gi", storageClassName="local-path")
    storage_class = {"metadata": {"name": "local-path"}, "reclaimPolicy": "Retain"}
    volume = local_path_volume(claim, storage_class, path=Path("/d/v/pvc-x"), node="n1")
    assert volume["metadata"] == {
        "name": "pvc-uid-data",
        "annotations": {"pv.kubernetes.io/provisioned-by": "atoll.io/local-path"},
    }
    spec = volume["spec"]
    assert spec["capacity"] == {"storage": "3Gi"} and spec["accessModes"] == RWO
    assert spec["persistentVolumeReclaimPolicy"] == "Retain"
    assert spec["hostPath"] == {"path": "/d/v/pvc-x", "type": "DirectoryOrCreate"}
    terms = spec["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms == [
        {
            "matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}
            ]
        }
    ]
    assert spec["claimRef"]["uid"] == "uid-data" and spec["claimRef"]["name"] == "data"


def test_only_scheduled_pods_hold_claims() -> None:
    volumes = [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}, {"name": "e"}]
    pod: Obj = {"metadata": {"namespace": "ns"}, "spec": {"volumes": volumes}}
    assert claims_used_by(pod) == []
    pod["spec"]["nodeName"] = "n1"
    assert claims_used_by(pod) == ["ns/data"]


# -- against the session cluster -----------------------------------------------------------------


@pytest.fixture
def api(cluster: ClusterProcess) -> Api:
    return Api(cluster)


@pytest.fixture
def cleanup(cluster: ClusterProcess, namespace: str) -> Iterator[list[str]]:
    """Cluster-scoped objects (``pv/name``, ``storageclass/name``) to delete afterwards,
    after the namespace's claims, so that no volume is left bound (and held)."""
    made: list[str] = []
    yield made
    cluster.kubectl("delete", "pvc", "--all", "-n", namespace, "--wait=false")
    if made:
        cluster.kubectl("delete", *made, "--wait=false", "--ignore-not-found")


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


def _apply(cluster: ClusterProcess, namespace: str | None, *objects: Obj) -> None:
    body = json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)})
    where = ["-n", namespace] if namespace else []
    cluster.kubectl("apply", *where, "-f", "-", input=body)


def _new_claim(name: str, storage: str = "1Gi", modes: list[str] = RWO, **spec: Any) -> Obj:
    claim = _claim(name, storage, modes, **spec)
    claim["metadata"] = {"name": name}
    return claim


def _new_volume(name: str, storage: str = "1Gi", **kwargs: Any) -> Obj:
    return _volume(name, storage, phase=None, **kwargs)


def _claim_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}"


def _phase_is(api: Api, path: str, phase: str) -> Callable[[], Obj | None]:
    def probe() -> Obj | None:
        found = api.get(path)
        return found if found is not None and found["status"].get("phase") == phase else None

    return probe


def _bound(api: Api, namespace: str, name: str) -> Obj:
    return eventually(_phase_is(api, _claim_path(namespace, name), "Bound"), what=f"{name} Bound")


def _reasons(api: Api, namespace: str, name: str) -> dict[str, str]:
    events = api.items(
        f"/api/v1/namespaces/{namespace}/events", fieldSelector=f"involvedObject.name={name}"
    )
    return {e["reason"]: e["message"] for e in events}


def _volumes_dir(cluster: ClusterProcess) -> Path:
    return cluster.data_dir / "volumes"


def test_a_claim_without_class_gets_a_local_path_volume_deleted_with_it(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    _apply(cluster, namespace, _new_claim("data", "2Gi"))
    claim = _bound(api, namespace, "data")
    uid = claim["metadata"]["uid"]
    name = f"pvc-{uid}"
    assert claim["spec"]["storageClassName"] == "local-path"
    assert claim["spec"]["volumeName"] == name
    assert claim["status"] == {"phase": "Bound", "accessModes": RWO, "capacity": {"storage": "2Gi"}}
    annotations = claim["metadata"]["annotations"]
    assert annotations["pv.kubernetes.io/bind-completed"] == "yes"
    assert annotations["pv.kubernetes.io/bound-by-controller"] == "yes"
    assert annotations["volume.beta.kubernetes.io/storage-provisioner"] == "atoll.io/local-path"

    volume = eventually(_phase_is(api, f"/api/v1/persistentvolumes/{name}", "Bound"))
    directory = _volumes_dir(cluster) / f"{name}_{namespace}_data"
    assert volume["spec"]["hostPath"] == {"path": str(directory), "type": "DirectoryOrCreate"}
    assert volume["spec"]["claimRef"]["uid"] == uid
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert volume["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == (
        "atoll.io/local-path"
    )
    assert directory.is_dir()

    row = cluster.kubectl("get", "pvc", "data", "-n", namespace, "--no-headers").split()
    assert row[:6] == ["data", "Bound", name, "2Gi", "RWO", "local-path"]
    wanted = {"ExternalProvisioning", "Provisioning", "ProvisioningSucceeded"}
    reasons = eventually(lambda: (r := _reasons(api, namespace, "data")).keys() >= wanted and r)
    assert reasons["ProvisioningSucceeded"] == f"Successfully provisioned volume {name}"
    assert reasons["Provisioning"] == (
        f'External provisioner is provisioning volume for claim "{namespace}/data"'
    )

    cluster.kubectl("delete", "pvc", "data", "-n", namespace)
    eventually(lambda: api.get(f"/api/v1/persistentvolumes/{name}") is None, what="volume gone")
    assert not directory.exists()


def test_retain_keeps_the_released_volume_and_its_directory(
    cluster: ClusterProcess, api: Api, namespace: str, cleanup: list[str]
) -> None:
    kept = f"kept-{_suffix()}"
    storage_class = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": kept},
        "provisioner": "atoll.io/local-path",
        "reclaimPolicy": "Retain",
    }
    _apply(cluster, None, storage_class)
    cleanup.append(f"storageclass/{kept}")
    _apply(cluster, namespace, _new_claim("data", storageClassName=kept))
    name = _bound(api, namespace, "data")["spec"]["volumeName"]
    cleanup.append(f"pv/{name}")

    cluster.kubectl("delete", "pvc", "data", "-n", namespace)
    volume = eventually(_phase_is(api, f"/api/v1/persistentvolumes/{name}", "Released"))
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert Path(volume["spec"]["hostPath"]["path"]).is_dir()
    row = cluster.kubectl("get", "pv", name, "--no-headers").split()
    assert row[1:6] == ["1Gi", "RWO", "Retain", "Released", f"{namespace}/data"]


def test_a_precreated_volume_binds_the_claim_it_satisfies_only(
    cluster: ClusterProcess, api: Api, namespace: str, cleanup: list[str]
) -> None:
    manual, tag = f"manual-{_suffix()}", _suffix()
    small, gold = f"small-{tag}", f"gold-{tag}"
    _apply(
        cluster,
        None,
        _new_volume(small, "1Gi", cls=manual),
        _new_volume(gold, "5Gi", cls=manual, labels={"tier": "gold"}),
    )
    cleanup += [f"pv/{small}", f"pv/{gold}"]
    _apply(
        cluster,
        namespace,
        _new_claim("huge", "10Gi", storageClassName=manual),
        _new_claim("shared", "1Gi", ["ReadWriteMany"], storageClassName=manual),
        _new_claim("other", "1Gi", storageClassName=f"other-{tag}"),
        _new_claim(
            "gold", "1Gi", storageClassName=manual, selector={"matchLabels": {"tier": "gold"}}
        ),
        _new_claim("fits", "500Mi", storageClassName=manual),
    )
    fits = _bound(api, namespace, "fits")
    assert fits["spec"]["volumeName"] == small  # the smaller of the two that fit
    gold_claim = _bound(api, namespace, "gold")
    assert gold_claim["spec"]["volumeName"] == gold
    assert gold_claim["status"]["capacity"] == {"storage": "5Gi"}  # the volume's, not the ask

    volume = eventually(_phase_is(api, f"/api/v1/persistentvolumes/{small}", "Bound"))
    assert volume["spec"]["claimRef"]["uid"] == fits["metadata"]["uid"]
    assert volume["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"
    for name in ("huge", "shared", "other"):
        claim = api.get(_claim_path(namespace, name))
        assert claim is not None and claim["status"]["phase"] == "Pending", name
        assert not claim["spec"].get("volumeName"), name
    not_found = f'storageclass.storage.k8s.io "{manual}" not found'
    failed = eventually(lambda: _reasons(api, namespace, "huge").get("ProvisioningFailed"))
    assert failed == not_found

    cluster.kubectl("delete", "pvc", "fits", "-n", namespace)
    released = eventually(_phase_is(api, f"/api/v1/persistentvolumes/{small}", "Released"))
    assert released["spec"]["claimRef"]["name"] == "fits"  # Retain: kept for the admin


def test_a_claim_naming_its_volume_gets_it_or_says_why_not(
    cluster: ClusterProcess, api: Api, namespace: str, cleanup: list[str]
) -> None:
    manual, tag = f"manual-{_suffix()}", _suffix()
    wanted = f"wanted-{tag}"
    _apply(cluster, None, _new_volume(wanted, "1Gi", cls=manual))
    cleanup.append(f"pv/{wanted}")
    _apply(cluster, namespace, _new_claim("wrong", storageClassName="", volumeName=wanted))
    message = eventually(lambda: _reasons(api, namespace, "wrong").get("VolumeMismatch"))
    assert message == f'Cannot bind to requested volume "{wanted}": storageClassName does not match'

    _apply(cluster, namespace, _new_claim("right", storageClassName=manual, volumeName=wanted))
    claim = _bound(api, namespace, "right")
    assert "pv.kubernetes.io/bound-by-controller" not in claim["metadata"]["annotations"]
    pending = api.get(_claim_path(namespace, "wrong"))
    assert pending is not None and pending["status"]["phase"] == "Pending"


def test_an_explicit_empty_class_is_not_defaulted_and_waits(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    _apply(cluster, namespace, _new_claim("bare", storageClassName=""))
    message = eventually(lambda: _reasons(api, namespace, "bare").get("FailedBinding"))
    assert message == "no persistent volumes available for this claim and no storage class is set"
    claim = api.get(_claim_path(namespace, "bare"))
    assert claim is not None and claim["spec"]["storageClassName"] == ""
    assert claim["status"]["phase"] == "Pending"


def test_a_block_claim_is_refused_by_the_local_path_provisioner(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    _apply(cluster, namespace, _new_claim("raw", volumeMode="Block"))
    message = eventually(lambda: _reasons(api, namespace, "raw").get("ProvisioningFailed"))
    assert message == (
        'failed to provision volume with StorageClass "local-path": '
        "atoll.io/local-path makes directories; volumeMode Block is not supported"
    )
    claim = api.get(_claim_path(namespace, "raw"))
    assert claim is not None and claim["status"]["phase"] == "Pending"


def test_wait_for_first_consumer_provisions_once_a_node_is_selected(
    cluster: ClusterProcess, api: Api, namespace: str, cleanup: list[str]
) -> None:
    later = f"later-{_suffix()}"
    storage_class = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": later},
        "provisioner": "atoll.io/local-path",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    _apply(cluster, None, storage_class)
    cleanup.append(f"storageclass/{later}")
    _apply(cluster, namespace, _new_claim("data", storageClassName=later))
    message = eventually(lambda: _reasons(api, namespace, "data").get("WaitForFirstConsumer"))
    assert message == "waiting for first consumer to be created before binding"
    claim = api.get(_claim_path(namespace, "data"))
    assert claim is not None and claim["status"]["phase"] == "Pending"
    assert api.get(f"/api/v1/persistentvolumes/pvc-{claim['metadata']['uid']}") is None

    # What kube-scheduler's VolumeBinding plugin writes as it places the claim's first pod.
    annotation = {"volume.kubernetes.io/selected-node": "node-7"}
    api.merge_patch(_claim_path(namespace, "data"), {"metadata": {"annotations": annotation}})
    name = _bound(api, namespace, "data")["spec"]["volumeName"]
    cleanup.append(f"pv/{name}")
    volume = api.get(f"/api/v1/persistentvolumes/{name}")
    assert volume is not None
    terms = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"][0]["values"] == ["node-7"]


def _pod_using(name: str, claim: str, node: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,  # bound by hand: this cluster has no kubelet to run it
            "containers": [{"name": "c", "image": "busybox"}],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}],
        },
    }


def test_a_claim_in_use_and_its_bound_volume_wait_for_their_users(
    cluster: ClusterProcess, api: Api, namespace: str, cleanup: list[str]
) -> None:
    manual, tag = f"manual-{_suffix()}", _suffix()
    kept = f"kept-{tag}"
    _apply(cluster, None, _new_volume(kept, "1Gi", cls=manual))
    cleanup.append(f"pv/{kept}")
    _apply(cluster, namespace, _new_claim("data", storageClassName=manual))
    _bound(api, namespace, "data")
    volume_path = f"/api/v1/persistentvolumes/{kept}"
    for path, finalizer in (
        (_claim_path(namespace, "data"), "kubernetes.io/pvc-protection"),
        (volume_path, "kubernetes.io/pv-protection"),
    ):
        eventually(
            lambda p=path, f=finalizer: (
                [f] == (api.get(p) or {}).get("metadata", {}).get("finalizers")
            ),
            what=f"{finalizer} on {path}",
        )
    eventually(_phase_is(api, volume_path, "Bound"))
    node = json.loads(cluster.kubectl("get", "nodes", "-o", "json"))["items"][0]["metadata"]["name"]
    _apply(cluster, namespace, _pod_using("user", "data", node))

    cluster.kubectl("delete", "pv", kept, "--wait=false")
    cluster.kubectl("delete", "pvc", "data", "-n", namespace, "--wait=false")
    held = api.get(_claim_path(namespace, "data"))
    assert held is not None and held["metadata"].get("deletionTimestamp")
    volume = api.get(volume_path)
    assert volume is not None and volume["status"]["phase"] == "Bound"

    cluster.kubectl("delete", "pod", "user", "-n", namespace, "--grace-period=0", "--force")
    eventually(lambda: api.get(_claim_path(namespace, "data")) is None, what="claim gone")
    eventually(lambda: api.get(volume_path) is None, what="volume gone once released")


# -- with a kubelet: a pod writes into its claim ---------------------------------------------------


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    data_dir = tmp_path_factory.mktemp("pv-kubelet") / "data"
    data_dir.mkdir()
    proc = start_cluster(data_dir, "--kubelet", "on")
    yield proc
    if proc.process.poll() is None:
        proc.stop()


def test_a_pod_writes_into_the_directory_of_its_claim(running: ClusterProcess) -> None:
    namespace = f"t-{_suffix()}"
    running.kubectl("create", "namespace", namespace)
    mount = Path(f"/tmp/atoll-pvc-{_suffix()}")
    # As root the pod sees the claim at its mountPath; otherwise the kubelet names the host
    # directory in ATOLL_MOUNT_0 ("<mountPath>=<directory>").
    script = f'd={mount}; [ -n "$ATOLL_MOUNT_0" ] && d="${{ATOLL_MOUNT_0#*=}}"; echo hi > "$d/out"'
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "writer", "annotations": {"atoll.io/runtime": "process"}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "c",
                    "image": "busybox",
                    "command": ["sh", "-c", script],
                    "volumeMounts": [{"name": "d", "mountPath": str(mount)}],
                }
            ],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}],
        },
    }
    try:
        _apply(running, namespace, _new_claim("data"), pod)
        api = Api(running)
        path = f"/api/v1/namespaces/{namespace}/pods/writer"
        done = eventually(_phase_is(api, path, "Succeeded"), timeout=60, what="writer done")
        assert done["status"]["phase"] == "Succeeded"
        claim = _bound(api, namespace, "data")
        volume = api.get(f"/api/v1/persistentvolumes/{claim['spec']['volumeName']}")
        assert volume is not None
        directory = Path(volume["spec"]["hostPath"]["path"])
        assert directory.parent == _volumes_dir(running)
        assert (directory / "out").read_text() == "hi\n"
    finally:
        with contextlib.suppress(OSError):
            mount.rmdir()  # the empty mount point the kubelet made on the host
