"""Validation of storage kinds: PersistentVolume, PersistentVolumeClaim, StorageClass (1.20).

A claim's spec is immutable once created, except that a bound claim may grow its storage
request and an unbound one may gain a ``volumeName`` (the binder's job); a volume's source is
immutable; a class's provisioner, parameters, reclaim policy and binding mode are fixed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from atoll.embedded.apiserver.builtins.checks import (
    GoValue,
    as_list,
    as_map,
    as_str,
    immutable,
    label_selector_errors,
)
from atoll.embedded.apiserver.builtins.names import dns1123_subdomain_errors, qualified_name_errors
from atoll.embedded.apiserver.builtins.resources import quantity_of, resource_list_errors
from atoll.errors import FieldError

__all__ = [
    "persistent_volume_claim_errors",
    "persistent_volume_errors",
    "storage_class_errors",
]

Obj = Mapping[str, Any]
_ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce")
_VOLUME_MODES = ("Block", "Filesystem")
_PV_SOURCES = (
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "csi",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "glusterfs",
    "hostPath",
    "iscsi",
    "local",
    "nfs",
    "photonPersistentDisk",
    "portworxVolume",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageos",
    "vsphereVolume",
)


def _access_mode_errors(spec: Obj, *, detail: str = "") -> list[FieldError]:
    modes = as_list(spec.get("accessModes"))
    errors = [] if modes else [FieldError.required("spec.accessModes", detail)]
    return errors + [
        FieldError.not_supported("spec.accessModes", mode, _ACCESS_MODES)
        for mode in modes
        if mode not in _ACCESS_MODES
    ]


def _volume_mode_errors(spec: Obj) -> list[FieldError]:
    mode = spec.get("volumeMode")
    if mode is None or mode in _VOLUME_MODES:
        return []
    return [FieldError.not_supported("spec.volumeMode", mode, _VOLUME_MODES)]


def _positive(path: str, value: Any) -> list[FieldError]:
    amount = quantity_of(value)
    if amount is not None and amount <= 0:
        return [FieldError.invalid(path, GoValue(str(value)), "must be greater than zero")]
    return []


def persistent_volume_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = as_map(obj.get("spec"))
    errors = _access_mode_errors(spec)
    capacity = as_map(spec.get("capacity"))
    if not capacity:
        errors.append(FieldError.required("spec.capacity"))
    if "storage" not in capacity or len(capacity) > 1:
        shown = GoValue(
            "core.ResourceList{" + ", ".join(f'"{k}":"{v}"' for k, v in capacity.items()) + "}"
        )
        errors.append(FieldError.not_supported("spec.capacity", shown, ("storage",)))
    errors += resource_list_errors(capacity, "spec.capacity")
    for name, value in capacity.items():
        errors += _positive(f"spec.capacity[{name}]", value)
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy and policy not in ("Delete", "Recycle", "Retain"):
        errors.append(
            FieldError.not_supported(
                "spec.persistentVolumeReclaimPolicy", policy, ("Delete", "Recycle", "Retain")
            )
        )
    sources = [key for key in _PV_SOURCES if spec.get(key) is not None]
    if not sources:
        errors.append(FieldError.required("spec", "must specify a volume type"))
    errors += [
        FieldError.forbidden(f"spec.{key}", "may not specify more than 1 volume type")
        for key in sources[1:]
    ]
    errors += _volume_mode_errors(spec)
    if old is not None:
        before = as_map(old.get("spec"))
        if any(spec.get(key) != before.get(key) for key in _PV_SOURCES):
            errors.append(
                FieldError.forbidden(
                    "spec.persistentvolumesource",
                    "spec.persistentvolumesource is immutable after creation",
                )
            )
        errors += immutable("volumeMode", spec.get("volumeMode"), old=before.get("volumeMode"))
    return errors


def _claim_spec_errors(spec: Obj) -> list[FieldError]:
    errors = _access_mode_errors(spec, detail="at least 1 access mode is required")
    if spec.get("selector") is not None:
        errors += label_selector_errors("spec.selector", spec.get("selector"))
    requests = as_map(as_map(spec.get("resources")).get("requests"))
    if "storage" not in requests:
        errors.append(FieldError.required("spec.resources[storage]"))
    else:
        errors += resource_list_errors({"storage": requests["storage"]}, "spec.resources")
        errors += _positive("spec.resources[storage]", requests["storage"])
    class_name = as_str(spec.get("storageClassName"))
    if class_name:
        errors += [
            FieldError.invalid("spec.storageClassName", class_name, m)
            for m in dns1123_subdomain_errors(class_name)
        ]
    return errors + _volume_mode_errors(spec)


def _claim_update_errors(spec: Obj, old: Obj) -> list[FieldError]:
    before = as_map(old.get("spec"))
    mine, theirs = copy.deepcopy(dict(spec)), copy.deepcopy(dict(before))
    if not as_str(before.get("volumeName")):
        theirs["volumeName"] = mine.get("volumeName")
        if theirs["volumeName"] is None:
            theirs.pop("volumeName")
    new_size = as_map(as_map(spec.get("resources")).get("requests")).get("storage")
    old_size = as_map(as_map(before.get("resources")).get("requests")).get("storage")
    bound = as_map(old.get("status")).get("phase") == "Bound"
    if bound and isinstance(mine.get("resources"), dict):
        requests = mine["resources"].get("requests")
        if isinstance(requests, dict):
            requests["storage"] = old_size
    errors: list[FieldError] = []
    if mine != theirs:
        errors.append(
            FieldError.forbidden(
                "spec",
                "spec is immutable after creation except resources.requests for bound claims",
            )
        )
    grown, was = quantity_of(new_size), quantity_of(old_size)
    if grown is not None and was is not None and grown < was:
        errors.append(
            FieldError.forbidden(
                "spec.resources.requests.storage", "field can not be less than previous value"
            )
        )
    return errors


def persistent_volume_claim_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = as_map(obj.get("spec"))
    errors = _claim_spec_errors(spec)
    if old is not None:
        errors += _claim_update_errors(spec, old)
    return errors


def storage_class_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    provisioner = as_str(obj.get("provisioner"))
    errors: list[FieldError] = []
    if not provisioner:
        errors.append(FieldError.required("provisioner"))
    else:
        errors += [
            FieldError.invalid("provisioner", provisioner, m)
            for m in qualified_name_errors(provisioner.lower())
        ]
    parameters = as_map(obj.get("parameters"))
    if sum(len(k) + len(as_str(v)) for k, v in parameters.items()) > 256 * 1024:
        errors.append(FieldError.too_long("parameters", "", 256 * 1024))
    policy = obj.get("reclaimPolicy")
    if policy and policy not in ("Delete", "Retain"):
        errors.append(FieldError.not_supported("reclaimPolicy", policy, ("Delete", "Retain")))
    mode = obj.get("volumeBindingMode")
    if not mode:
        errors.append(FieldError.required("volumeBindingMode"))
    elif mode not in ("Immediate", "WaitForFirstConsumer"):
        errors.append(
            FieldError.not_supported(
                "volumeBindingMode", mode, ("Immediate", "WaitForFirstConsumer")
            )
        )
    if old is not None:
        for name in ("parameters", "provisioner", "reclaimPolicy"):
            if (obj.get(name) or None) != (old.get(name) or None):
                errors.append(FieldError.forbidden(name, f"updates to {name} are forbidden."))
        errors += immutable("volumeBindingMode", mode, old=old.get("volumeBindingMode"))
    return errors
