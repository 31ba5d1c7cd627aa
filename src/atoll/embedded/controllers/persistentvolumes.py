"""The PersistentVolume binder: claims meet volumes, and volumes whose claims went are reclaimed.

kube-controller-manager's ``persistentvolume-binder`` (``pv_controller.go`` of 1.20), with
its keys in one queue: ``namespace/name`` for a claim, ``name`` for a volume.

A claim not yet bound gets the best Available volume (``persistentvolumes_matching``); the
binding is four writes, each skipped when already done, so a reconcile interrupted between
them finishes the job next time: the volume's ``claimRef`` (with the claim's uid), its phase
Bound, the claim's ``volumeName`` with the ``pv.kubernetes.io/bind-completed`` and
``bound-by-controller`` annotations, and the claim's status (Bound, the volume's access modes
and capacity). When no volume fits, a claim of a class is handed to the class's provisioner
— every provisioner is external here, as CSI drivers and rancher's local-path are: the claim
is annotated ``volume.beta.kubernetes.io/storage-provisioner`` (and the GA key), an
``ExternalProvisioning`` event says so, and the volume the provisioner makes, reserved for
the claim, is bound like any other. A claim of a ``WaitForFirstConsumer`` class waits
(``WaitForFirstConsumer`` event) until the scheduler writes
``volume.kubernetes.io/selected-node`` on it. A claim without class and without a fitting
volume stays Pending with ``FailedBinding``.

A volume whose claim is gone is Released and its reclaim policy runs: Retain keeps it;
Delete of a provisioned volume is its provisioner's job (``persistentvolumes_provisioning``
for ``atoll.io/local-path``); anything else the binder cannot reclaim (Recycle, Delete of a
hand-made volume) turns it Failed with kube's Warning. Before releasing, a claim the cache
does not show is looked up in the API, as kube does: a lagging cache must never cost data.

Every write is conditional on the resourceVersion the decision was made from; a Conflict
means the cache was behind, and the key is tried again once the newer object arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from atoll.controllers.results import PermanentError, Result
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.errors import Conflict, NotFound
from atoll.kube.client import Object, ResourceType
from atoll.kube.events import EventRecorder
from atoll.kube.informers import Informer, key_of, split_key

from . import ControllerOptions
from .persistentvolumes_matching import (
    ANN_BETA_STORAGE_PROVISIONER,
    ANN_BIND_COMPLETED,
    ANN_BOUND_BY_CONTROLLER,
    ANN_PROVISIONED_BY,
    ANN_SELECTED_NODE,
    ANN_STORAGE_PROVISIONER,
    best_match,
    claim_class,
    claim_key,
    claim_ref,
    is_bound_to,
    mismatch,
    volume_class,
)

__all__ = [
    "CLAIMS",
    "CONTROLLERS",
    "STORAGE_CLASSES",
    "VOLUMES",
    "PersistentVolumeBinder",
]

logger = logging.getLogger(__name__)

VOLUMES = ResourceType("", "v1", "persistentvolumes", "PersistentVolume", False)
CLAIMS = ResourceType("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True)
STORAGE_CLASSES = ResourceType("storage.k8s.io", "v1", "storageclasses", "StorageClass", False)
COMPONENT = "persistentvolume-controller"  # the event source kube's binder reports as
_WAITING_INDEX = "pv-binder-waiting-claims"  # unbound claims: "class:<c>" or "volume:<v>"
_RESERVED_INDEX = "pv-binder-volumes-by-claim"  # volumes by their claimRef's ns/name


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    return meta


def _spec(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj.get("spec") or {}
    return spec


def _annotations(obj: Mapping[str, Any]) -> dict[str, str]:
    annotations: dict[str, str] = _meta(obj).get("annotations") or {}
    return annotations


def _phase(obj: Mapping[str, Any]) -> str:
    return str((obj.get("status") or {}).get("phase") or "")


def _uid(obj: Mapping[str, Any]) -> str:
    return str(_meta(obj).get("uid") or "")


def _waiting(claim: Object) -> list[str]:
    """Index of claims a volume or class change can help: those not yet bound."""
    if ANN_BIND_COMPLETED in _annotations(claim):
        return []
    wanted = _spec(claim).get("volumeName")
    return [f"volume:{wanted}"] if wanted else [f"class:{claim_class(claim)}"]


def _reserved_for(volume: Object) -> list[str]:
    ref = _spec(volume).get("claimRef") or {}
    return [f"{ref.get('namespace', '')}/{ref['name']}"] if ref.get("name") else []


class PersistentVolumeBinder:
    """Binds claims to volumes and reclaims released volumes; see the module docstring."""

    name = "persistentvolume-binder"

    def __init__(self, options: ControllerOptions) -> None:
        self._clock = options.clock

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._events = EventRecorder(ctx.client, COMPONENT, ctx.events.host, clock=self._wall_ns)
        self._claims: Informer = ctx.informers.informer(CLAIMS)
        self._volumes: Informer = ctx.informers.informer(VOLUMES)
        self._classes: Informer = ctx.informers.informer(STORAGE_CLASSES)
        self._claims.add_indexer(_WAITING_INDEX, _waiting)
        self._volumes.add_indexer(_RESERVED_INDEX, _reserved_for)
        self._claims.add_handler(
            on_add=ctx.enqueue,
            on_update=lambda _old, new: ctx.enqueue(new),
            on_delete=self._claim_deleted,
        )
        self._volumes.add_handler(
            on_add=self._volume_changed,
            on_update=lambda _old, new: self._volume_changed(new),
            on_delete=self._volume_deleted,
        )
        self._classes.add_handler(
            on_add=self._class_changed, on_update=lambda _old, new: self._class_changed(new)
        )

    def _wall_ns(self) -> int:
        now = self._clock.now()
        return int(now.timestamp()) * 10**9 + now.microsecond * 1000

    # -- handlers: enqueue keys ------------------------------------------------------------

    def _wake(self, index_value: str) -> None:
        for claim in self._claims.by_index(_WAITING_INDEX, index_value):
            self._ctx.enqueue(claim)

    def _claim_deleted(self, claim: Object) -> None:
        for volume in self._volumes.by_index(_RESERVED_INDEX, key_of(claim)):
            self._ctx.enqueue(volume)
        if wanted := _spec(claim).get("volumeName"):
            self._ctx.queue.add(str(wanted))

    def _volume_changed(self, volume: Object) -> None:
        self._ctx.enqueue(volume)
        if reserved := _reserved_for(volume):
            self._ctx.queue.add(reserved[0])  # a provisioned or pre-bound volume: bind it
        elif _phase(volume) == "Available":
            self._wake(f"class:{volume_class(volume)}")
        self._wake(f"volume:{_meta(volume).get('name', '')}")

    def _volume_deleted(self, volume: Object) -> None:
        for key in _reserved_for(volume):
            self._ctx.queue.add(key)

    def _class_changed(self, storage_class: Object) -> None:
        self._wake(f"class:{_meta(storage_class).get('name', '')}")

    # -- reconcile -------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result:
        try:
            if "/" in key:
                return await self._sync_claim(key)
            return await self._sync_volume(key)
        except Conflict:
            return Result(requeue=True)  # decided from a stale cache; the newer object comes
        except NotFound:
            return Result()  # deleted meanwhile; its delete handler queues what follows

    # -- claims ----------------------------------------------------------------------------

    async def _sync_claim(self, key: str) -> Result:
        claim = self._claims.get(key)
        if claim is None:
            return Result()
        if ANN_BIND_COMPLETED in _annotations(claim):
            await self._sync_bound_claim(claim)
        elif not _meta(claim).get("deletionTimestamp"):  # binding a leaving claim helps nobody
            await self._sync_unbound_claim(claim)
        return Result()

    async def _sync_unbound_claim(self, claim: Object) -> None:
        wanted = _spec(claim).get("volumeName")
        if not wanted:
            await self._find_volume(claim)
            return
        volume = self._volumes.get(str(wanted))
        if volume is None:  # asked for a volume that does not exist (yet)
            await self._claim_phase(claim, "Pending")
            return
        if not _spec(volume).get("claimRef"):
            if (why := mismatch(volume, claim)) is not None:
                message = f'Cannot bind to requested volume "{wanted}": {why}'
                await self._events.warning(claim, "VolumeMismatch", message=message)
                await self._claim_phase(claim, "Pending")
                return
            await self._bind(volume, claim)
        elif is_bound_to(volume, claim):
            await self._bind(volume, claim)
        elif ANN_BOUND_BY_CONTROLLER not in _annotations(claim):
            await self._claim_phase(claim, "Pending")  # the user's pick is taken; wait
        else:
            ref = _spec(volume)["claimRef"]
            raise PermanentError(
                f"invalid binding of claim {claim_key(claim)} to volume {wanted}: volume "
                f"already claimed by {ref.get('namespace')}/{ref.get('name')}"
            )

    async def _find_volume(self, claim: Object) -> None:
        delay = self._delays_binding(claim)
        volume = best_match(claim, self._volumes.list(), delay_binding=delay)
        if volume is not None:
            await self._bind(volume, claim)
            return
        if delay and ANN_SELECTED_NODE not in _annotations(claim):
            message = "waiting for first consumer to be created before binding"
            await self._events.normal(claim, "WaitForFirstConsumer", message=message)
        elif claim_class(claim):
            await self._provision(claim)
            return
        else:
            message = "no persistent volumes available for this claim and no storage class is set"
            await self._events.normal(claim, "FailedBinding", message=message)
        await self._claim_phase(claim, "Pending")

    def _delays_binding(self, claim: Object) -> bool:
        name = claim_class(claim)
        storage_class = self._classes.get(name) if name else None
        return (storage_class or {}).get("volumeBindingMode") == "WaitForFirstConsumer"

    async def _provision(self, claim: Object) -> None:
        """Hand the claim to its class's (external) provisioner, as kube does for CSI."""
        name = claim_class(claim)
        storage_class = self._classes.get(name)
        if storage_class is None:
            message = f'storageclass.storage.k8s.io "{name}" not found'
            await self._events.warning(claim, "ProvisioningFailed", message=message)
            return
        provisioner = str(storage_class.get("provisioner") or "")
        annotations = _annotations(claim)
        wanted = {ANN_BETA_STORAGE_PROVISIONER: provisioner, ANN_STORAGE_PROVISIONER: provisioner}
        if any(annotations.get(k) != v for k, v in wanted.items()):
            claim = await self._patch(CLAIMS, claim, {"metadata": {"annotations": wanted}})
        message = (
            f'waiting for a volume to be created, either by external provisioner "{provisioner}" '
            "or manually created by system administrator"
        )
        await self._events.normal(claim, "ExternalProvisioning", message=message)

    async def _sync_bound_claim(self, claim: Object) -> None:
        wanted = str(_spec(claim).get("volumeName") or "")
        if not wanted:
            message = (
                "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!"
            )
            await self._claim_lost(claim, "ClaimLost", message)
            return
        volume = self._volumes.get(wanted) or await self._read(VOLUMES, wanted, None)
        if volume is None:
            message = "Bound claim has lost its PersistentVolume. Data on the volume is lost!"
            await self._claim_lost(claim, "ClaimLost", message)
            return
        ref = _spec(volume).get("claimRef")
        if not ref or ref.get("uid") == _uid(claim):
            await self._bind(volume, claim)  # repairs whatever half of the binding is missing
        else:
            message = "Two claims are bound to the same volume, this one is bound incorrectly"
            await self._claim_lost(claim, "ClaimMisbound", message)

    # -- binding ---------------------------------------------------------------------------

    async def _bind(self, volume: Object, claim: Object) -> None:
        """kube's bind(): volume to claim, volume Bound, claim to volume, claim Bound."""
        volume = await self._bind_volume(volume, claim)
        volume = await self._volume_phase(volume, "Bound")
        claim = await self._bind_claim(claim, volume)
        await self._claim_bound(claim, volume)
        self._ctx.logger.debug("bound %s to volume %s", claim_key(claim), _meta(volume)["name"])

    async def _bind_volume(self, volume: Object, claim: Object) -> Object:
        ref = _spec(volume).get("claimRef") or {}
        if is_bound_to(volume, claim) and ref.get("uid") == _uid(claim):
            return volume
        patch: dict[str, Any] = {"spec": {"claimRef": claim_ref(claim)}}
        if not is_bound_to(volume, claim):  # the controller chose it, not the user
            patch["metadata"] = {"annotations": {ANN_BOUND_BY_CONTROLLER: "yes"}}
        return await self._patch(VOLUMES, volume, patch)

    async def _bind_claim(self, claim: Object, volume: Object) -> Object:
        name = _meta(volume)["name"]
        annotations = {ANN_BIND_COMPLETED: "yes"}
        patch: dict[str, Any] = {"metadata": {"annotations": annotations}}
        if _spec(claim).get("volumeName") != name:
            patch["spec"] = {"volumeName": name}
            annotations[ANN_BOUND_BY_CONTROLLER] = "yes"
        elif ANN_BIND_COMPLETED in _annotations(claim):
            return claim
        return await self._patch(CLAIMS, claim, patch)

    async def _claim_bound(self, claim: Object, volume: Object) -> None:
        spec, status = _spec(volume), claim.get("status") or {}
        wanted = {
            "phase": "Bound",
            "accessModes": spec.get("accessModes") or [],
            "capacity": {"storage": (spec.get("capacity") or {}).get("storage")},
        }
        if any(status.get(k) != v for k, v in wanted.items()):
            await self._patch(CLAIMS, claim, {"status": wanted}, subresource="status")

    async def _claim_phase(self, claim: Object, phase: str) -> Object:
        if _phase(claim) == phase:
            return claim
        return await self._patch(CLAIMS, claim, {"status": {"phase": phase}}, subresource="status")

    async def _claim_lost(self, claim: Object, reason: str, message: str) -> None:
        if _phase(claim) != "Lost":
            await self._claim_phase(claim, "Lost")
            await self._events.warning(claim, reason, message=message)

    # -- volumes ---------------------------------------------------------------------------

    async def _sync_volume(self, name: str) -> Result:
        volume = self._volumes.get(name)
        if volume is None:
            return Result()
        ref = _spec(volume).get("claimRef") or {}
        if not ref.get("uid"):  # unused, or reserved for a claim that has not taken it yet
            await self._volume_phase(volume, "Available")
            return Result()
        claim = await self._claim_of(volume, ref)
        wanted = str(_spec(claim).get("volumeName") or "") if claim is not None else ""
        if claim is None:
            await self._release(volume)
        elif not wanted:
            self._ctx.enqueue(claim)  # binding half done: the claim's sync finishes it
        elif wanted == name:
            await self._volume_phase(volume, "Bound")
        elif ANN_PROVISIONED_BY in _annotations(volume) and _policy(volume) == "Delete":
            await self._release(volume)  # made for a claim that got another volume
        else:
            await self._unbind(volume)
        return Result()

    async def _claim_of(self, volume: Object, ref: Mapping[str, Any]) -> Object | None:
        """The claim ``ref`` names, with its uid; a miss is checked in the API (see above)."""
        namespace, name = str(ref.get("namespace") or ""), str(ref.get("name") or "")
        claim = self._claims.get(f"{namespace}/{name}")
        if claim is not None and _uid(claim) == ref.get("uid"):
            return claim
        if _phase(volume) in ("Released", "Failed"):
            return None
        claim = await self._read(CLAIMS, name, namespace)
        return claim if claim is not None and _uid(claim) == ref.get("uid") else None

    async def _read(self, rt: ResourceType, name: str, namespace: str | None) -> Object | None:
        try:
            return await self._ctx.client.get(rt, name, namespace=namespace)
        except NotFound:
            return None

    async def _release(self, volume: Object) -> None:
        if _phase(volume) not in ("Released", "Failed"):
            self._ctx.logger.info(
                "volume %s is released; reclaim policy %s", _meta(volume)["name"], _policy(volume)
            )
            volume = await self._volume_phase(volume, "Released")
        policy = _policy(volume)
        if policy == "Retain":
            return
        if policy == "Delete" and ANN_PROVISIONED_BY in _annotations(volume):
            return  # its provisioner deletes it
        if policy == "Recycle":
            reason, message = "VolumeFailedRecycle", "No recycler plugin found for the volume!"
        elif policy == "Delete":
            reason = "VolumeFailedDelete"
            message = (
                f'Error getting deleter volume plugin for volume "{_meta(volume)["name"]}": '
                "no deletable volume plugin matched"
            )
        else:
            reason = "VolumeUnknownReclaimPolicy"
            message = "Volume has unrecognized PersistentVolumeReclaimPolicy"
        if _phase(volume) != "Failed":
            await self._volume_phase(volume, "Failed", message)
            await self._events.warning(volume, reason, message=message)

    async def _unbind(self, volume: Object) -> None:
        """kube's unbindVolume: forget a claim bound elsewhere; keep a user's reservation."""
        if ANN_BOUND_BY_CONTROLLER in _annotations(volume):
            patch: dict[str, Any] = {
                "metadata": {"annotations": {ANN_BOUND_BY_CONTROLLER: None}},
                "spec": {"claimRef": None},
            }
        else:
            patch = {"spec": {"claimRef": {"uid": None}}}
        volume = await self._patch(VOLUMES, volume, patch)
        await self._volume_phase(volume, "Available")

    async def _volume_phase(self, volume: Object, phase: str, message: str = "") -> Object:
        status = volume.get("status") or {}
        if status.get("phase") == phase and (status.get("message") or "") == message:
            return volume
        body = {"status": {"phase": phase, "message": message or None}}
        return await self._patch(VOLUMES, volume, body, subresource="status")

    async def _patch(
        self, rt: ResourceType, obj: Object, patch: dict[str, Any], *, subresource: str = ""
    ) -> Object:
        """A merge patch, conditional on the resourceVersion the decision was made from."""
        namespace, name = split_key(key_of(obj))
        meta = {**patch.get("metadata", {}), "resourceVersion": _meta(obj).get("resourceVersion")}
        return await self._ctx.client.patch(
            rt,
            name,
            {**patch, "metadata": meta},
            namespace=namespace or None,
            subresource=subresource or None,
        )


def _policy(volume: Object) -> str:
    return str(_spec(volume).get("persistentVolumeReclaimPolicy") or "Retain")


def _binder(options: ControllerOptions) -> Controller:
    return PersistentVolumeBinder(options)


CONTROLLERS = [_binder]
