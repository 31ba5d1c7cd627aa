"""Storage object in use protection: a claim a pod uses, or a bound volume, is not removed.

kube-controller-manager's ``pvc-protection`` and ``pv-protection`` controllers (1.20):

- every claim carries the finalizer ``kubernetes.io/pvc-protection``; once the claim is being
  deleted the finalizer is removed when no scheduled pod (one with a ``spec.nodeName``, in
  any phase, as 1.20 counts them) names it in a ``persistentVolumeClaim`` volume — so
  ``kubectl delete pvc`` of a claim in use leaves it Terminating until its pods are gone.
  When the pod cache says unused, the pods of the namespace are listed from the API first,
  as kube does, so a pod created a moment ago is not missed;
- every volume carries ``kubernetes.io/pv-protection``, removed once the volume is being
  deleted and is no longer Bound.

Upstream the finalizers are added at creation by the ``StorageObjectInUseProtection``
admission plugin, and by these controllers for objects that lack them; here only the
controllers add them, a moment after creation. With these controllers switched off nothing
carries the finalizers, so nothing waits on them either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atoll.controllers.results import Result
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.errors import Conflict, NotFound
from atoll.kube.client import Object, ResourceType
from atoll.kube.informers import Informer, key_of, split_key

from . import ControllerOptions
from .persistentvolumes import CLAIMS, VOLUMES

__all__ = [
    "CLAIM_FINALIZER",
    "CONTROLLERS",
    "VOLUME_FINALIZER",
    "ClaimProtection",
    "VolumeProtection",
    "claims_used_by",
]

CLAIM_FINALIZER = "kubernetes.io/pvc-protection"
VOLUME_FINALIZER = "kubernetes.io/pv-protection"
PODS = ResourceType("", "v1", "pods", "Pod", True)
_CLAIMS_INDEX = "pvc-protection-claims-in-use"


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    return meta


def _finalizers(obj: Mapping[str, Any]) -> list[str]:
    return list(_meta(obj).get("finalizers") or ())


def _needs_work(obj: Object, finalizer: str) -> bool:
    """A finalizer to add (not being deleted) or perhaps to remove (being deleted)."""
    deleting = bool(_meta(obj).get("deletionTimestamp"))
    return deleting == (finalizer in _finalizers(obj))


def claims_used_by(pod: Object) -> list[str]:
    """``namespace/claim`` keys of the claims a scheduled pod uses (kube's podUsesPVC)."""
    spec = pod.get("spec") or {}
    if not spec.get("nodeName"):
        return []  # the kubelet never starts a pod whose claim is being deleted
    namespace = _meta(pod).get("namespace") or ""
    return [
        f"{namespace}/{volume['persistentVolumeClaim'].get('claimName', '')}"
        for volume in spec.get("volumes") or ()
        if isinstance(volume.get("persistentVolumeClaim"), Mapping)
    ]


async def _set_finalizers(
    ctx: ControllerContext, rt: ResourceType, obj: Object, finalizers: list[str]
) -> Result:
    """A merge patch of the finalizers, conditional on the cached resourceVersion."""
    namespace, name = split_key(key_of(obj))
    rv = _meta(obj).get("resourceVersion")
    patch = {"metadata": {"finalizers": finalizers or None, "resourceVersion": rv}}
    try:
        await ctx.client.patch(rt, name, patch, namespace=namespace or None)
    except Conflict:
        return Result(requeue=True)  # the newer object is on its way
    except NotFound:
        pass
    return Result()


class ClaimProtection:
    """``kubernetes.io/pvc-protection``; see the module docstring."""

    name = "pvc-protection"

    def __init__(self, options: ControllerOptions) -> None:
        del options

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._claims: Informer = ctx.informers.informer(CLAIMS)
        self._pods: Informer = ctx.informers.informer(PODS)
        self._pods.add_indexer(_CLAIMS_INDEX, claims_used_by)
        self._claims.add_handler(
            on_add=self._claim_changed, on_update=lambda _old, new: self._claim_changed(new)
        )
        self._pods.add_handler(on_delete=self._pod_deleted)

    def _claim_changed(self, claim: Object) -> None:
        if _needs_work(claim, CLAIM_FINALIZER):
            self._ctx.enqueue(claim)

    def _pod_deleted(self, pod: Object) -> None:
        """The claims a pod used may be free now (a finished pod still counts, as in 1.20)."""
        for key in claims_used_by(pod):
            claim = self._claims.get(key)
            if claim is not None and _meta(claim).get("deletionTimestamp"):
                self._ctx.queue.add(key)

    async def reconcile(self, key: str) -> Result:
        claim = self._claims.get(key)
        if claim is None or not _needs_work(claim, CLAIM_FINALIZER):
            return Result()
        finalizers = _finalizers(claim)
        if not _meta(claim).get("deletionTimestamp"):
            return await _set_finalizers(self._ctx, CLAIMS, claim, [*finalizers, CLAIM_FINALIZER])
        if self._pods.by_index(_CLAIMS_INDEX, key) or await self._used_live(key):
            return Result()  # the pod's deletion queues the claim again
        kept = [f for f in finalizers if f != CLAIM_FINALIZER]
        return await _set_finalizers(self._ctx, CLAIMS, claim, kept)

    async def _used_live(self, key: str) -> bool:
        namespace, _ = split_key(key)
        listed = await self._ctx.client.list(PODS, namespace=namespace)
        return any(key in claims_used_by(pod) for pod in listed.get("items") or ())


class VolumeProtection:
    """``kubernetes.io/pv-protection``; see the module docstring."""

    name = "pv-protection"

    def __init__(self, options: ControllerOptions) -> None:
        del options

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._volumes: Informer = ctx.informers.informer(VOLUMES)
        self._volumes.add_handler(
            on_add=self._volume_changed, on_update=lambda _old, new: self._volume_changed(new)
        )

    def _volume_changed(self, volume: Object) -> None:
        if _needs_work(volume, VOLUME_FINALIZER):
            self._ctx.enqueue(volume)

    async def reconcile(self, key: str) -> Result:
        volume = self._volumes.get(key)
        if volume is None or not _needs_work(volume, VOLUME_FINALIZER):
            return Result()
        finalizers = _finalizers(volume)
        if not _meta(volume).get("deletionTimestamp"):
            return await _set_finalizers(
                self._ctx, VOLUMES, volume, [*finalizers, VOLUME_FINALIZER]
            )
        if (volume.get("status") or {}).get("phase") == "Bound":
            return Result()  # the phase change queues the volume again
        kept = [f for f in finalizers if f != VOLUME_FINALIZER]
        return await _set_finalizers(self._ctx, VOLUMES, volume, kept)


def _claim_protection(options: ControllerOptions) -> Controller:
    return ClaimProtection(options)


def _volume_protection(options: ControllerOptions) -> Controller:
    return VolumeProtection(options)


CONTROLLERS = [_claim_protection, _volume_protection]
