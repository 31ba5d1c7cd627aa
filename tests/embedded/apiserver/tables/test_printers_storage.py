"""Tables of PersistentVolume, PersistentVolumeClaim and StorageClass."""

from __future__ import annotations

from tests.embedded.apiserver.tables.tables_support import NOW, ago, meta

from atoll.embedded.apiserver.tables import column_definitions, row_cells


def test_persistent_volume() -> None:
    columns = column_definitions("", "PersistentVolume")
    assert [(c["name"], c["priority"]) for c in columns] == [
        ("Name", 0),
        ("Capacity", 0),
        ("Access Modes", 0),
        ("Reclaim Policy", 0),
        ("Status", 0),
        ("Claim", 0),
        ("StorageClass", 0),
        ("Reason", 0),
        ("Age", 0),
        ("VolumeMode", 1),
    ]
    volume = {
        "metadata": meta("pv-1"),
        "spec": {
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete",
            "claimRef": {"namespace": "default", "name": "data"},
            "storageClassName": "local",
            "volumeMode": "Block",
            "hostPath": {"path": "/srv"},
        },
        "status": {"phase": "Bound"},
    }
    assert row_cells("", "PersistentVolume", volume, now=NOW) == [
        "pv-1",
        "10Gi",
        "RWO,RWX",
        "Delete",
        "Bound",
        "default/data",
        "local",
        "",
        "5m",
        "Block",
    ]


def test_fresh_and_terminating_persistent_volume() -> None:
    fresh = {"metadata": meta("pv-2"), "spec": {}}
    assert row_cells("", "PersistentVolume", fresh, now=NOW) == [
        "pv-2",
        "0",
        "",
        "Retain",
        "Pending",
        "",
        "",
        "",
        "5m",
        "Filesystem",
    ]
    going = {
        "metadata": {
            **meta("pv-3"),
            "deletionTimestamp": ago(seconds=3),
            "annotations": {"volume.beta.kubernetes.io/storage-class": "beta"},
        },
        "spec": {"storageClassName": "ignored"},
        "status": {"phase": "Released", "reason": "Reclaiming"},
    }
    cells = row_cells("", "PersistentVolume", going, now=NOW)
    assert (cells[4], cells[6], cells[7]) == ("Terminating", "beta", "Reclaiming")


def test_persistent_volume_claim() -> None:
    assert [c["name"] for c in column_definitions("", "PersistentVolumeClaim")] == [
        "Name",
        "Status",
        "Volume",
        "Capacity",
        "Access Modes",
        "StorageClass",
        "Age",
        "VolumeMode",
    ]
    bound = {
        "metadata": meta("data"),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "volumeName": "pv-1",
            "storageClassName": "local",
            "volumeMode": "Filesystem",
        },
        "status": {
            "phase": "Bound",
            "accessModes": ["ReadWriteOnce", "ReadOnlyMany"],
            "capacity": {"storage": "10Gi"},
        },
    }
    assert row_cells("", "PersistentVolumeClaim", bound, now=NOW) == [
        "data",
        "Bound",
        "pv-1",
        "10Gi",
        "RWO,ROX",
        "local",
        "5m",
        "Filesystem",
    ]
    pending = {"metadata": meta("wait"), "spec": {"resources": {"requests": {"storage": "1Gi"}}}}
    assert row_cells("", "PersistentVolumeClaim", pending, now=NOW) == [
        "wait",
        "Pending",
        "",
        "",
        "",
        "",
        "5m",
        "Filesystem",
    ]


def test_storage_class() -> None:
    group = "storage.k8s.io"
    assert [c["name"] for c in column_definitions(group, "StorageClass")] == [
        "Name",
        "Provisioner",
        "ReclaimPolicy",
        "VolumeBindingMode",
        "AllowVolumeExpansion",
        "Age",
    ]
    default_class = {
        "metadata": meta(
            "standard", annotations={"storageclass.kubernetes.io/is-default-class": "true"}
        ),
        "provisioner": "rancher.io/local-path",
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }
    assert row_cells(group, "StorageClass", default_class, now=NOW) == [
        "standard (default)",
        "rancher.io/local-path",
        "Retain",
        "WaitForFirstConsumer",
        True,
        "5m",
    ]
    plain = {
        "metadata": meta(
            "fast", annotations={"storageclass.beta.kubernetes.io/is-default-class": "false"}
        ),
        "provisioner": "x",
    }
    assert row_cells(group, "StorageClass", plain, now=NOW) == [
        "fast",
        "x",
        "Delete",
        "Immediate",
        False,
        "5m",
    ]
