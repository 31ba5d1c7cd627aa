"""Claiming dependents: adopt orphans the selector matches, release owned ones it no longer does.

Upstream's ``ControllerRefManager``, for the two owners here: a ReplicaSet (or
ReplicationController) over its Pods and a Deployment over its ReplicaSets. The candidates
come from informer indexes, never from a List: those whose controller ownerReference names
the owner's uid (``OWNER_UID_INDEX``) and the orphans of the namespace, i.e. objects without
a controller reference (``ORPHANS_INDEX``, which this module defines and both controllers
register). Adopting and releasing are strategic merge patches of ``ownerReferences`` that
also carry the dependent's uid, so a patch never lands on a namesake created meanwhile.

An owner being deleted adopts nothing and releases nothing, and before its first adoption the
owner is read afresh from the API (upstream ``RecheckDeletionTimestamp``): the cache may not
yet show that it is being deleted, and adopting then would leave the orphan to be collected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from atoll.errors import Conflict, Invalid, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.selectors import LabelSelector

from .replicasets_pods import controller_ref, labels_of, owner_reference

__all__ = ["ORPHANS_INDEX", "Claim", "orphans_by_namespace"]

ORPHANS_INDEX = "replicasets-orphans-by-namespace"


def orphans_by_namespace(obj: Object) -> list[str]:
    """Index objects without a controller reference under their namespace."""
    if controller_ref(obj) is not None:
        return []
    return [str((obj.get("metadata") or {}).get("namespace") or "")]


def _uid(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


def _deleting(obj: Mapping[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


@dataclass(slots=True, kw_only=True)
class Claim:
    """One owner's claim on its dependents during one reconcile."""

    client: KubeClient
    owner: Object
    owner_type: ResourceType
    dependent_type: ResourceType
    selector: LabelSelector
    _can_adopt: bool | None = field(default=None, init=False)

    async def claim(self, owned: list[Object], orphans: list[Object]) -> list[Object]:
        """The dependents that are the owner's after adopting and releasing as needed.

        ``owned`` are candidates whose controller is the owner; ``orphans`` have no controller.
        """
        claimed: list[Object] = []
        for obj in owned:
            if self.selector.matches(labels_of(obj)):
                claimed.append(obj)
            elif not _deleting(self.owner):
                await self._release(obj)
        for obj in orphans:
            if _deleting(self.owner) or _deleting(obj):
                continue
            if not self.selector.matches(labels_of(obj)):
                continue
            adopted = await self._adopt(obj)
            if adopted is not None:
                claimed.append(adopted)
        return claimed

    async def _adopt(self, obj: Object) -> Object | None:
        if not await self._owner_still_adopts():
            return None
        ref = owner_reference(
            self.owner, kind=self.owner_type.kind, api_version=self.owner_type.api_version
        )
        patch = {"metadata": {"ownerReferences": [ref], "uid": _uid(obj)}}
        return await self._patch(obj, patch)

    async def _release(self, obj: Object) -> None:
        delete = {"$patch": "delete", "uid": _uid(self.owner)}
        await self._patch(obj, {"metadata": {"ownerReferences": [delete], "uid": _uid(obj)}})

    async def _patch(self, obj: Object, patch: dict[str, Any]) -> Object | None:
        meta = obj.get("metadata") or {}
        try:
            return await self.client.patch(
                self.dependent_type,
                str(meta.get("name")),
                patch,
                namespace=meta.get("namespace"),
                patch_type="strategic",
            )
        except (NotFound, Invalid, Conflict):
            return None  # gone, or replaced by a namesake with another uid: nothing to claim

    async def _owner_still_adopts(self) -> bool:
        if self._can_adopt is None:
            meta = self.owner.get("metadata") or {}
            try:
                fresh = await self.client.get(
                    self.owner_type, str(meta.get("name")), namespace=meta.get("namespace")
                )
            except NotFound:
                fresh = {}
            self._can_adopt = _uid(fresh) == _uid(self.owner) and not _deleting(fresh)
        return self._can_adopt
