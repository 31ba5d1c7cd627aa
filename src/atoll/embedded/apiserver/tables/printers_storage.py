"""Tables of PersistentVolume, PersistentVolumeClaim and StorageClass (kube-apiserver 1.20).

Fields the server always defaults before storing (a PV's reclaim policy, a volume mode, a
claim's phase, a class's binding mode) print their default when missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from atoll.embedded.apiserver.tables.ages import age
from atoll.embedded.apiserver.tables.columns import AGE, NAME, Column, Printer, field
from atoll.embedded.apiserver.tables.fields import (
    mapping,
    optional_boolean,
    optional_mapping,
    present,
    quantity,
    strings,
    text,
)

# The beta annotation still wins over spec.storageClassName in 1.20.
BETA_STORAGE_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
_ACCESS_MODES = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"))


def _name(obj: Mapping[str, Any]) -> str:
    return text(obj, "metadata", "name")


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return age(text(obj, "metadata", "creationTimestamp"), now)


def access_modes(modes: list[str]) -> str:
    """Short access modes in a fixed order (RWO, ROX, RWX), whatever order they were given in."""
    return ",".join(short for mode, short in _ACCESS_MODES if mode in modes)


def _storage_class(obj: Mapping[str, Any]) -> str:
    annotations = mapping(obj, "metadata", "annotations")
    if BETA_STORAGE_CLASS_ANNOTATION in annotations:
        return str(annotations[BETA_STORAGE_CLASS_ANNOTATION])
    return text(obj, "spec", "storageClassName")


def _phase(obj: Mapping[str, Any], default: str) -> str:
    if present(obj, "metadata", "deletionTimestamp"):
        return "Terminating"
    return text(obj, "status", "phase") or default


def _pv_cells(volume: Mapping[str, Any], now: datetime) -> list[Any]:
    spec = mapping(volume, "spec")
    claim = optional_mapping(spec, "claimRef")
    claim_text = "" if claim is None else f"{text(claim, 'namespace')}/{text(claim, 'name')}"
    return [
        _name(volume),
        quantity(spec, "capacity", "storage"),
        access_modes(strings(spec, "accessModes")),
        text(spec, "persistentVolumeReclaimPolicy") or "Retain",
        _phase(volume, "Pending"),
        claim_text,
        _storage_class(volume),
        text(volume, "status", "reason"),
        _age(volume, now),
        text(spec, "volumeMode") or "Filesystem",
    ]


PERSISTENT_VOLUME = Printer(
    (
        NAME,
        field("Capacity", "PersistentVolumeSpec.capacity"),
        field("Access Modes", "PersistentVolumeSpec.accessModes"),
        field("Reclaim Policy", "PersistentVolumeSpec.persistentVolumeReclaimPolicy"),
        field("Status", "PersistentVolumeStatus.phase"),
        field("Claim", "PersistentVolumeSpec.claimRef"),
        Column("StorageClass", description="StorageClass of the pv"),
        field("Reason", "PersistentVolumeStatus.reason"),
        AGE,
        field("VolumeMode", "PersistentVolumeSpec.volumeMode", priority=1),
    ),
    _pv_cells,
)


def _pvc_cells(claim: Mapping[str, Any], now: datetime) -> list[Any]:
    volume_name = text(claim, "spec", "volumeName")
    # Capacity and access modes are those of the bound volume, so only shown once bound.
    capacity = quantity(claim, "status", "capacity", "storage") if volume_name else ""
    modes = access_modes(strings(claim, "status", "accessModes")) if volume_name else ""
    return [
        _name(claim),
        _phase(claim, "Pending"),
        volume_name,
        capacity,
        modes,
        _storage_class(claim),
        _age(claim, now),
        text(claim, "spec", "volumeMode") or "Filesystem",
    ]


PERSISTENT_VOLUME_CLAIM = Printer(
    (
        NAME,
        field("Status", "PersistentVolumeClaimStatus.phase"),
        field("Volume", "PersistentVolumeClaimSpec.volumeName"),
        field("Capacity", "PersistentVolumeClaimStatus.capacity"),
        field("Access Modes", "PersistentVolumeClaimStatus.accessModes"),
        Column("StorageClass", description="StorageClass of the pvc"),
        AGE,
        field("VolumeMode", "PersistentVolumeClaimSpec.volumeMode", priority=1),
    ),
    _pvc_cells,
)


def _storage_class_cells(storage_class: Mapping[str, Any], now: datetime) -> list[Any]:
    annotations = mapping(storage_class, "metadata", "annotations")
    is_default = any(annotations.get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS)
    return [
        _name(storage_class) + (" (default)" if is_default else ""),
        text(storage_class, "provisioner"),
        text(storage_class, "reclaimPolicy") or "Delete",
        text(storage_class, "volumeBindingMode") or "Immediate",
        optional_boolean(storage_class, "allowVolumeExpansion") is True,
        _age(storage_class, now),
    ]


STORAGE_CLASS = Printer(
    (
        NAME,
        field("Provisioner", "StorageClass.provisioner"),
        field("ReclaimPolicy", "StorageClass.reclaimPolicy"),
        field("VolumeBindingMode", "StorageClass.volumeBindingMode"),
        field("AllowVolumeExpansion", "StorageClass.allowVolumeExpansion"),
        AGE,
    ),
    _storage_class_cells,
)

PRINTERS = {
    ("", "PersistentVolume"): PERSISTENT_VOLUME,
    ("", "PersistentVolumeClaim"): PERSISTENT_VOLUME_CLAIM,
    ("storage.k8s.io", "StorageClass"): STORAGE_CLASS,
}
