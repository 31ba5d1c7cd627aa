"""PersistentVolume, PersistentVolumeClaim and StorageClass validation."""

from __future__ import annotations

import copy
from typing import Any

from atoll.embedded.apiserver.builtins import default, validate


def _messages(
    group: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None = None
) -> list[str]:
    default(group, kind, obj)
    return [str(e) for e in validate(group, kind, obj, old, namespaced=kind != "PersistentVolume")]


def _claim(**spec: Any) -> dict[str, Any]:
    return {
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            **spec,
        }
    }


def test_claims() -> None:
    assert _messages("", "PersistentVolumeClaim", _claim()) == []
    assert _messages("", "PersistentVolumeClaim", {"spec": {"accessModes": ["ReadSometimes"]}}) == [
        'spec.accessModes: Unsupported value: "ReadSometimes": supported values: "ReadOnlyMany", '
        '"ReadWriteMany", "ReadWriteOnce"',
        "spec.resources[storage]: Required value",
    ]
    assert _messages(
        "", "PersistentVolumeClaim", {"spec": {"resources": {"requests": {"storage": "0"}}}}
    ) == [
        "spec.accessModes: Required value: at least 1 access mode is required",
        "spec.resources[storage]: Invalid value: 0: must be greater than zero",
    ]


def test_claim_updates() -> None:
    old = _claim()
    default("", "PersistentVolumeClaim", old)
    bound = copy.deepcopy(old)
    bound["spec"]["volumeName"] = "pv-1"
    assert _messages("", "PersistentVolumeClaim", bound, old) == []
    grown = copy.deepcopy(old)
    grown["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert _messages("", "PersistentVolumeClaim", grown, old) == [
        "spec: Forbidden: spec is immutable after creation except resources.requests for "
        "bound claims"
    ]
    old["status"]["phase"] = "Bound"
    assert _messages("", "PersistentVolumeClaim", grown, old) == []
    shrunk = copy.deepcopy(old)
    shrunk["spec"]["resources"]["requests"]["storage"] = "500Mi"
    assert _messages("", "PersistentVolumeClaim", shrunk, old) == [
        "spec.resources.requests.storage: Forbidden: field can not be less than previous value"
    ]


def test_volumes() -> None:
    pv = {
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/d"},
        }
    }
    assert _messages("", "PersistentVolume", pv) == []
    assert _messages("", "PersistentVolume", {"spec": {}}) == [
        "spec.accessModes: Required value",
        "spec.capacity: Required value",
        'spec.capacity: Unsupported value: core.ResourceList{}: supported values: "storage"',
        "spec: Required value: must specify a volume type",
    ]
    changed = copy.deepcopy(pv)
    default("", "PersistentVolume", pv)
    changed["spec"]["hostPath"] = {"path": "/other"}
    assert _messages("", "PersistentVolume", changed, pv) == [
        "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable "
        "after creation"
    ]


def test_storage_classes() -> None:
    group = "storage.k8s.io"
    sc = {"metadata": {"name": "local"}, "provisioner": "rancher.io/local-path"}
    assert _messages(group, "StorageClass", sc) == []
    assert _messages(group, "StorageClass", {"reclaimPolicy": "Recycle"}) == [
        "provisioner: Required value",
        'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
    ]
    old = copy.deepcopy(sc)
    default(group, "StorageClass", old)
    new = copy.deepcopy(old)
    new["provisioner"] = "other.io/x"
    new["volumeBindingMode"] = "WaitForFirstConsumer"
    assert _messages(group, "StorageClass", new, old) == [
        "provisioner: Forbidden: updates to provisioner are forbidden.",
        'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
    ]
