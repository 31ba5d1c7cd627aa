"""Which PersistentVolume satisfies a claim: kube's volume index, as pure functions.

The binder (``persistentvolumes``) asks two questions, answered here as kube-controller-manager
1.20 answers them (``pkg/controller/volume/persistentvolume/index.go`` and the storage
helpers it calls):

- ``best_match(claim, volumes, delay_binding=…)``: the volume a claim that names none should
  get. A volume already reserved for the claim (``spec.claimRef`` naming it) wins outright
  when it is big enough; otherwise among Available volumes of the claim's class, with the
  claim's access modes among their own, its volume mode, at least its requested storage and
  labels its selector matches, the one with the fewest access modes and then the least
  capacity. With ``delay_binding`` (a ``WaitForFirstConsumer`` class) only reserved volumes
  count: the scheduler, which knows the node, binds the rest.
- ``mismatch(volume, claim)``: why a volume a claim asks for by ``spec.volumeName`` cannot
  be its volume, or None.

The claim's class is the beta annotation ``volume.beta.kubernetes.io/storage-class`` when
present, else ``spec.storageClassName``, else "" (no class); likewise for volumes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from atoll.errors import BadRequest
from atoll.kube.client import Object
from atoll.kube.quantities import QuantityError, parse_quantity
from atoll.kube.selectors import from_label_selector_object

__all__ = [
    "ANN_BETA_STORAGE_PROVISIONER",
    "ANN_BIND_COMPLETED",
    "ANN_BOUND_BY_CONTROLLER",
    "ANN_PROVISIONED_BY",
    "ANN_SELECTED_NODE",
    "ANN_STORAGE_PROVISIONER",
    "best_match",
    "claim_class",
    "claim_key",
    "claim_ref",
    "is_bound_to",
    "mismatch",
    "requested_storage",
    "volume_class",
]

ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
_ANN_BETA_CLASS = "volume.beta.kubernetes.io/storage-class"


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    return meta


def _spec(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj.get("spec") or {}
    return spec


def _storage(value: object) -> Decimal:
    """A storage quantity; a missing or malformed one counts as zero."""
    if not isinstance(value, str | int | float):
        return Decimal(0)
    try:
        return parse_quantity(value)
    except QuantityError:
        return Decimal(0)


def claim_key(claim: Mapping[str, Any]) -> str:
    meta = _meta(claim)
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def claim_class(claim: Mapping[str, Any]) -> str:
    annotations = _meta(claim).get("annotations") or {}
    if _ANN_BETA_CLASS in annotations:
        return str(annotations[_ANN_BETA_CLASS])
    return str(_spec(claim).get("storageClassName") or "")


def volume_class(volume: Mapping[str, Any]) -> str:
    annotations = _meta(volume).get("annotations") or {}
    if _ANN_BETA_CLASS in annotations:
        return str(annotations[_ANN_BETA_CLASS])
    return str(_spec(volume).get("storageClassName") or "")


def requested_storage(claim: Mapping[str, Any]) -> Decimal:
    return _storage(((_spec(claim).get("resources") or {}).get("requests") or {}).get("storage"))


def _capacity(volume: Mapping[str, Any]) -> Decimal:
    return _storage((_spec(volume).get("capacity") or {}).get("storage"))


def claim_ref(claim: Mapping[str, Any]) -> dict[str, str]:
    """The ``spec.claimRef`` of a volume bound to ``claim`` (client-go's GetReference)."""
    meta = _meta(claim)
    return {
        "kind": "PersistentVolumeClaim",
        "namespace": str(meta.get("namespace", "")),
        "name": str(meta.get("name", "")),
        "uid": str(meta.get("uid", "")),
        "apiVersion": "v1",
        "resourceVersion": str(meta.get("resourceVersion", "")),
    }


def is_bound_to(volume: Mapping[str, Any], claim: Mapping[str, Any]) -> bool:
    """The volume's claimRef names the claim (kube's IsVolumeBoundToClaim): a ref without a
    uid is a reservation any claim of that name may take."""
    ref = _spec(volume).get("claimRef")
    meta = _meta(claim)
    if not ref or ref.get("name") != meta.get("name"):
        return False
    if ref.get("namespace") != meta.get("namespace"):
        return False
    return not ref.get("uid") or ref.get("uid") == meta.get("uid")


def _access_modes_fit(claim: Mapping[str, Any], volume: Mapping[str, Any]) -> bool:
    offered = set(_spec(volume).get("accessModes") or ())
    return set(_spec(claim).get("accessModes") or ()) <= offered


def _volume_modes_differ(claim: Mapping[str, Any], volume: Mapping[str, Any]) -> bool:
    wanted = _spec(claim).get("volumeMode") or "Filesystem"
    return bool(wanted != (_spec(volume).get("volumeMode") or "Filesystem"))


def _selects(claim: Mapping[str, Any], volume: Mapping[str, Any]) -> bool:
    selector = _spec(claim).get("selector")
    if selector is None:
        return True
    try:
        return from_label_selector_object(selector).matches(_meta(volume).get("labels") or {})
    except BadRequest:  # validation refuses such claims; one that slipped through gets nothing
        return False


def best_match(
    claim: Mapping[str, Any], volumes: Iterable[Object], *, delay_binding: bool
) -> Object | None:
    """The volume the binder should bind ``claim`` to; see the module docstring."""
    requested, wanted_class = requested_storage(claim), claim_class(claim)
    best: tuple[int, Decimal, str] | None = None
    chosen: Object | None = None
    for volume in volumes:
        spec = _spec(volume)
        if spec.get("claimRef") and not is_bound_to(volume, claim):
            continue
        capacity = _capacity(volume)
        if capacity < requested or not _access_modes_fit(claim, volume):
            continue
        if _volume_modes_differ(claim, volume) or _meta(volume).get("deletionTimestamp"):
            continue
        if is_bound_to(volume, claim):
            return volume
        if delay_binding:
            continue  # the scheduler binds these, knowing the node
        if (volume.get("status") or {}).get("phase") != "Available":
            continue
        if volume_class(volume) != wanted_class or not _selects(claim, volume):
            continue
        rank = (len(spec.get("accessModes") or ()), capacity, str(_meta(volume).get("name")))
        if best is None or rank < best:
            best, chosen = rank, volume
    return chosen


def mismatch(volume: Mapping[str, Any], claim: Mapping[str, Any]) -> str | None:
    """Why ``volume`` cannot serve ``claim`` (kube's checkVolumeSatisfyClaim), or None."""
    if _meta(volume).get("deletionTimestamp"):
        return f'the volume is marked for deletion "{_meta(volume).get("name", "")}"'
    if _capacity(volume) < requested_storage(claim):
        return "requested PV is too small"
    if volume_class(volume) != claim_class(claim):
        return "storageClassName does not match"
    if _volume_modes_differ(claim, volume):
        return "incompatible volumeMode"
    if not _access_modes_fit(claim, volume):
        return "incompatible accessMode"
    return None
