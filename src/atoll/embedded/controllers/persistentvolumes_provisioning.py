"""The local-path provisioner: a directory on this machine for each claim of its classes.

What k3s ships as rancher's local-path-provisioner, as an in-process controller named
``local-path-provisioner`` (switch it off with ``--controllers=*,-local-path-provisioner``).
It serves StorageClasses whose ``provisioner`` is ``atoll.io/local-path`` (the bootstrap
class ``local-path`` is one) and speaks the external-provisioner protocol, so the binder
treats it like any CSI driver:

- a claim the binder annotated ``volume.beta.kubernetes.io/storage-provisioner:
  atoll.io/local-path`` and that has no volume yet (of a ``WaitForFirstConsumer`` class: only
  once the scheduler chose its node) gets the directory
  ``DATA_DIR/volumes/pvc-<claim uid>_<namespace>_<claim name>`` (mode 0777, as rancher's
  helper makes it) and a PersistentVolume ``pvc-<claim uid>``: ``hostPath`` of that
  directory (type ``DirectoryOrCreate``) with required node affinity to this node, the
  claim's requested storage, access modes and volume mode, the class's reclaim policy and
  mount options, annotated ``pv.kubernetes.io/provisioned-by`` and reserved for the claim
  by a ``claimRef`` with its uid, which the binder then completes. Events
  ``Provisioning`` and ``ProvisioningSucceeded`` (or ``ProvisioningFailed``) on the claim.
  A claim for a ``Block`` volume is refused, as rancher's provisioner refuses it.
- a volume it provisioned, Released with reclaim policy Delete, loses its directory and
  then its PersistentVolume object. Only a directory directly under ``DATA_DIR/volumes``
  is ever removed, whatever a volume's ``hostPath`` says.

The controller runs in the cluster's process on the only node, so it makes and removes the
directories itself where rancher's runs a helper pod on the volume's node. Filesystem work
goes through ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from atoll.controllers.results import Result, TemporaryError
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.errors import AlreadyExists, Conflict, NotFound
from atoll.kube.client import Object
from atoll.kube.events import EventRecorder
from atoll.kube.informers import Informer

from . import ControllerOptions
from .persistentvolumes import CLAIMS, STORAGE_CLASSES, VOLUMES
from .persistentvolumes_matching import (
    ANN_BETA_STORAGE_PROVISIONER,
    ANN_PROVISIONED_BY,
    ANN_SELECTED_NODE,
    claim_class,
    claim_key,
    claim_ref,
)

__all__ = ["CONTROLLERS", "PROVISIONER", "LocalPathProvisioner", "local_path_volume"]

logger = logging.getLogger(__name__)

PROVISIONER = "atoll.io/local-path"
VOLUMES_DIR = "volumes"  # under the cluster's data directory
_HOSTNAME_LABEL = "kubernetes.io/hostname"
_RETRY_SECONDS = 10.0


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    return meta


def _spec(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj.get("spec") or {}
    return spec


def _wants_volume(claim: Object) -> bool:
    annotations = _meta(claim).get("annotations") or {}
    return annotations.get(ANN_BETA_STORAGE_PROVISIONER) == PROVISIONER and not _spec(claim).get(
        "volumeName"
    )


def _ours_to_delete(volume: Object) -> bool:
    annotations = _meta(volume).get("annotations") or {}
    return (
        annotations.get(ANN_PROVISIONED_BY) == PROVISIONER
        and (volume.get("status") or {}).get("phase") == "Released"
        and _spec(volume).get("persistentVolumeReclaimPolicy") == "Delete"
    )


def local_path_volume(
    claim: Object, storage_class: Mapping[str, Any], *, path: Path, node: str
) -> Object:
    """The PersistentVolume provisioned for ``claim`` in ``path`` on ``node``."""
    meta, spec = _meta(claim), _spec(claim)
    on_node = {"key": _HOSTNAME_LABEL, "operator": "In", "values": [node]}
    volume_spec: dict[str, Any] = {
        "capacity": {"storage": ((spec.get("resources") or {}).get("requests") or {})["storage"]},
        "accessModes": list(spec.get("accessModes") or ()),
        "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy") or "Delete",
        "storageClassName": _meta(storage_class)["name"],
        "volumeMode": spec.get("volumeMode") or "Filesystem",
        "hostPath": {"path": str(path), "type": "DirectoryOrCreate"},
        "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [on_node]}]}},
        "claimRef": claim_ref(claim),
    }
    if storage_class.get("mountOptions"):
        volume_spec["mountOptions"] = list(storage_class["mountOptions"])
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": f"pvc-{meta['uid']}",
            "annotations": {ANN_PROVISIONED_BY: PROVISIONER},
        },
        "spec": volume_spec,
    }


def _make_directory(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o777)  # any container user may write, as rancher's helper leaves it


def _remove_directory(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):  # removed by an earlier, interrupted try
        shutil.rmtree(path)


class LocalPathProvisioner:
    """Makes and removes local-path volumes; see the module docstring."""

    name = "local-path-provisioner"

    def __init__(self, options: ControllerOptions) -> None:
        self._node = options.node_name
        self._clock = options.clock
        self._root = options.data_dir / VOLUMES_DIR if options.data_dir is not None else None

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        component = f"{PROVISIONER}_{self._node}"  # <provisioner>_<host>, as external ones do
        self._events = EventRecorder(ctx.client, component, ctx.events.host, clock=self._wall_ns)
        self._claims: Informer = ctx.informers.informer(CLAIMS)
        self._volumes: Informer = ctx.informers.informer(VOLUMES)
        self._classes: Informer = ctx.informers.informer(STORAGE_CLASSES)
        if self._root is None:  # no data directory: nowhere to put volumes
            return
        self._claims.add_handler(
            on_add=self._claim_changed, on_update=lambda _old, new: self._claim_changed(new)
        )
        self._volumes.add_handler(
            on_add=self._volume_changed, on_update=lambda _old, new: self._volume_changed(new)
        )

    def _wall_ns(self) -> int:
        now = self._clock.now()
        return int(now.timestamp()) * 10**9 + now.microsecond * 1000

    def _claim_changed(self, claim: Object) -> None:
        if _wants_volume(claim):
            self._ctx.enqueue(claim)

    def _volume_changed(self, volume: Object) -> None:
        if _ours_to_delete(volume):
            self._ctx.enqueue(volume)

    async def reconcile(self, key: str) -> Result:
        if self._root is None:
            return Result()
        if "/" in key:
            return await self._provision(key, self._root)
        return await self._delete(key, self._root)

    # -- provisioning ----------------------------------------------------------------------

    def _class_for(self, claim: Object) -> Object | None:
        """The claim's class if it is ours and the claim may be provisioned now."""
        storage_class = self._classes.get(claim_class(claim))
        if storage_class is None or storage_class.get("provisioner") != PROVISIONER:
            return None
        waits = storage_class.get("volumeBindingMode") == "WaitForFirstConsumer"
        if waits and ANN_SELECTED_NODE not in (_meta(claim).get("annotations") or {}):
            return None
        return storage_class

    async def _provision(self, key: str, root: Path) -> Result:
        claim = self._claims.get(key)
        if claim is None or not _wants_volume(claim) or _meta(claim).get("deletionTimestamp"):
            return Result()
        storage_class = self._class_for(claim)
        name = f"pvc-{_meta(claim)['uid']}"
        if storage_class is None or self._volumes.get(name) is not None:
            return Result()
        message = f'External provisioner is provisioning volume for claim "{claim_key(claim)}"'
        await self._events.normal(claim, "Provisioning", message=message)
        failed = f'failed to provision volume with StorageClass "{_meta(storage_class)["name"]}"'
        if _spec(claim).get("volumeMode") == "Block":  # a directory is no block device
            message = (
                f"{failed}: {PROVISIONER} makes directories; volumeMode Block is not supported"
            )
            await self._events.warning(claim, "ProvisioningFailed", message=message)
            return Result()
        meta = _meta(claim)
        path = root / f"{name}_{meta['namespace']}_{meta['name']}"
        try:
            await asyncio.to_thread(_make_directory, path)
        except OSError as exc:
            await self._events.warning(claim, "ProvisioningFailed", message=f"{failed}: {exc}")
            raise TemporaryError(f"{failed}: {exc}", delay=_RETRY_SECONDS) from exc
        node = str((meta.get("annotations") or {}).get(ANN_SELECTED_NODE) or self._node)
        try:
            await self._ctx.client.create(
                VOLUMES, local_path_volume(claim, storage_class, path=path, node=node)
            )
        except AlreadyExists:
            return Result()  # made a moment ago; our cache has not seen it yet
        self._ctx.logger.info("provisioned %s for claim %s in %s", name, key, path)
        message = f"Successfully provisioned volume {name}"
        await self._events.normal(claim, "ProvisioningSucceeded", message=message)
        return Result()

    # -- deleting --------------------------------------------------------------------------

    async def _delete(self, name: str, root: Path) -> Result:
        volume = self._volumes.get(name)
        if volume is None or not _ours_to_delete(volume):
            return Result()
        path = Path(str((_spec(volume).get("hostPath") or {}).get("path") or ""))
        if path.parent != root or not path.name.startswith(f"{name}_"):
            message = f"refusing to remove {path}: not a directory this provisioner made"
            await self._events.warning(volume, "VolumeFailedDelete", message=message)
            return Result()
        try:
            await asyncio.to_thread(_remove_directory, path)
        except OSError as exc:
            message = f"failed to delete volume {name}: {exc}"
            await self._events.warning(volume, "VolumeFailedDelete", message=message)
            raise TemporaryError(message, delay=_RETRY_SECONDS) from exc
        try:
            await self._ctx.client.delete(
                VOLUMES, name, preconditions={"uid": str(_meta(volume).get("uid"))}
            )
        except (NotFound, Conflict):
            return Result()  # gone already, or a new volume of that name that is not ours
        self._ctx.logger.info("deleted volume %s and its directory %s", name, path)
        return Result()


def _local_path_provisioner(options: ControllerOptions) -> Controller:
    return LocalPathProvisioner(options)


CONTROLLERS = [_local_path_provisioner]
