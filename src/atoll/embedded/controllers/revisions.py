"""ControllerRevisions: the pod-template history of StatefulSets and DaemonSets.

A revision records one template of its owner as the strategic merge patch that restores it,
``{"spec": {"template": {..., "$patch": "replace"}}}``, which is exactly what ``kubectl
rollout undo`` sends back to the owner and what ``kubectl rollout history`` applies to show a
revision. It is named ``<owner>-<hash>``, where the hash is FNV-32a over the data (plus the
owner's ``status.collisionCount`` once a collision was seen) written with kube's
``SafeEncodeString`` alphabet; it carries the template's labels (so the owner's selector,
which kubectl lists by, finds it), the ``controller-revision-hash`` label, the owner's
annotations (``kubernetes.io/change-cause`` becomes CHANGE-CAUSE) and a controller
ownerReference (kubectl keeps only revisions ``IsControlledBy`` the owner).

The data is written the way Go's ``json.Marshal`` writes a ``map[string]interface{}``: keys
sorted at every level, with the zero values Go always emits for a template
(``metadata.creationTimestamp: null``, ``resources: {}`` of each container) and without the
empty lists its ``omitempty`` fields never show. kubectl compares these bytes with the patch
it computes from the live object to print "skipped rollback", and a template that went
through an undo compares equal to its revision.

``RevisionHistory`` holds the one algorithm both owners share (kube's
``getStatefulSetRevisions`` and the DaemonSet's ``constructHistory``): the newest revision
equal to the live template is the update revision; an older equal one is "rolled back to" by
giving it the next revision number; otherwise a new revision is created, bumping the
collision count while a different revision already holds the name. ``truncate`` deletes the
oldest revisions no pod uses beyond ``revisionHistoryLimit``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from atoll.errors import AlreadyExists, Conflict, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.informers import OWNER_UID_INDEX, Informer, by_owner_uid, key_of
from atoll.kube.patchmeta import patch_meta_for
from atoll.kube.strategic import apply_strategic_merge_patch

from .workload_pods import (
    ORPHANS_INDEX,
    adopt,
    controller_ref,
    is_controlled_by,
    orphans,
    orphans_by_namespace,
    selector_of,
)

__all__ = [
    "CONTROLLER_REVISIONS",
    "REVISION_HASH_LABEL",
    "RevisionHistory",
    "apply_revision",
    "fnv32a",
    "hash_data",
    "new_revision",
    "revision_data",
    "revision_name",
    "safe_encode",
    "sort_revisions",
]

logger = logging.getLogger(__name__)

CONTROLLER_REVISIONS = ResourceType("apps", "v1", "controllerrevisions", "ControllerRevision", True)
REVISION_HASH_LABEL = "controller-revision-hash"

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery's rand: no vowels, no 0/1/3
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MAX_PREFIX = 223  # kube's ControllerRevisionName: leaves room for "-" and the hash
_MAX_COLLISIONS = 20  # a safety net: real collisions of a 32-bit hash are rare


def fnv32a(data: bytes) -> int:
    """32-bit FNV-1a, as Go's ``hash/fnv.New32a``."""
    value = _FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """apimachinery's ``rand.SafeEncodeString``: each character mapped into the alphabet."""
    return "".join(_SAFE_ALPHABET[ord(char) % len(_SAFE_ALPHABET)] for char in text)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def _without_empty_lists(value: Any) -> Any:
    """Drop ``[]`` values of maps: every list field of a pod template Go may leave empty is
    ``omitempty`` (and the rest must not be empty), so Go never writes one."""
    if isinstance(value, dict):
        return {k: _without_empty_lists(v) for k, v in value.items() if v != []}
    if isinstance(value, list):
        return [_without_empty_lists(item) for item in value]
    return value


def _go_template(template: Mapping[str, Any]) -> dict[str, Any]:
    """A pod template as Go's encoder writes a typed one: its zero values, no empty lists."""
    result: dict[str, Any] = _without_empty_lists(copy.deepcopy(dict(template)))
    meta = result.setdefault("metadata", {})
    meta.setdefault("creationTimestamp", None)
    spec = result.setdefault("spec", {})
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or ():
            if isinstance(container, dict):
                container.setdefault("resources", {})
    return result


def revision_data(owner: Mapping[str, Any]) -> dict[str, Any]:
    """The patch that restores ``owner``'s pod template (kube's ``getPatch``)."""
    template = _go_template((owner.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    data: dict[str, Any] = _sorted({"spec": {"template": template}})
    return data


def hash_data(data: Mapping[str, Any], collision_count: int | None = None) -> str:
    """The revision hash of ``data`` (kube's ``HashControllerRevision``, with FNV-1a)."""
    raw = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    if collision_count:
        raw += str(collision_count).encode()
    return safe_encode(str(fnv32a(raw)))


def revision_name(owner_name: str, hash_: str) -> str:
    return f"{owner_name[:_MAX_PREFIX]}-{hash_}"


def new_revision(
    owner: Mapping[str, Any], *, data: dict[str, Any], number: int, collision_count: int
) -> Object:
    """A ControllerRevision of ``owner`` (kube's ``NewControllerRevision`` plus annotations)."""
    meta = owner.get("metadata") or {}
    template = (owner.get("spec") or {}).get("template") or {}
    hash_ = hash_data(data, collision_count)
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels[REVISION_HASH_LABEL] = hash_
    revision_meta: dict[str, Any] = {
        "name": revision_name(meta.get("name", ""), hash_),
        "namespace": meta.get("namespace"),
        "labels": labels,
        "ownerReferences": [controller_ref(owner)],
    }
    if meta.get("annotations"):
        revision_meta["annotations"] = dict(meta["annotations"])
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": revision_meta,
        "data": data,
        "revision": number,
    }


def sort_revisions(revisions: Iterable[Object]) -> list[Object]:
    """Oldest first: by revision number, then creation time, then name (kube's order)."""

    def order(revision: Object) -> tuple[int, str, str]:
        meta = revision.get("metadata") or {}
        number = revision.get("revision")
        return (
            number if isinstance(number, int) else 0,
            str(meta.get("creationTimestamp") or ""),
            str(meta.get("name") or ""),
        )

    return sorted(revisions, key=order)


def apply_revision(owner: Mapping[str, Any], revision: Mapping[str, Any]) -> Object:
    """``owner`` with the template ``revision`` records (kube's ``ApplyRevision``)."""
    group = str(owner.get("apiVersion", "apps/v1")).rpartition("/")[0]
    meta = patch_meta_for(group, str(owner.get("kind", "")))
    data = revision.get("data")
    if meta is None or not isinstance(data, dict):
        return copy.deepcopy(dict(owner))
    return apply_strategic_merge_patch(dict(owner), data, meta)


def _number(revision: Mapping[str, Any]) -> int:
    number = revision.get("revision")
    return number if isinstance(number, int) else 0


class RevisionHistory:
    """The ControllerRevisions of one kind of owner, read from a shared informer."""

    def __init__(self, client: KubeClient, informer: Informer) -> None:
        self.client = client
        self.informer = informer
        informer.add_indexer(OWNER_UID_INDEX, by_owner_uid)
        informer.add_indexer(ORPHANS_INDEX, orphans_by_namespace)

    def owned(self, owner: Mapping[str, Any]) -> list[Object]:
        """The owner's revisions, oldest first."""
        uid = str((owner.get("metadata") or {}).get("uid") or "")
        found = self.informer.by_index(OWNER_UID_INDEX, uid)
        return sort_revisions(r for r in found if is_controlled_by(r, owner))

    async def adopt_orphans(self, owner: Mapping[str, Any]) -> list[Object]:
        """Claim revisions the owner's selector matches that have no controller."""
        namespace = str((owner.get("metadata") or {}).get("namespace") or "")
        candidates = orphans(self.informer.by_index(ORPHANS_INDEX, namespace), selector_of(owner))
        adopted = []
        for revision in candidates:
            done = await adopt(self.client, CONTROLLER_REVISIONS, revision, owner)
            if done is not None:
                adopted.append(done)
        return adopted

    async def update_revision(
        self, owner: Mapping[str, Any], owned: list[Object], collision_count: int
    ) -> tuple[Object, int]:
        """The revision of the live template, created or renumbered as needed.

        Returns it with the collision count to store in the owner's status.
        """
        data = revision_data(owner)
        equal = [r for r in owned if r.get("data") == data]
        next_number = max((_number(r) for r in owned), default=0) + 1
        if equal and owned and equal[-1] is owned[-1]:
            return equal[-1], collision_count
        if equal:
            return await self._renumber(equal[-1], next_number), collision_count
        return await self._create(owner, data, next_number, collision_count)

    async def _renumber(self, revision: Object, number: int) -> Object:
        meta = revision["metadata"]
        logger.info("rolling %s back: it becomes revision %d", key_of(revision), number)
        return await self.client.patch(
            CONTROLLER_REVISIONS, meta["name"], {"revision": number}, namespace=meta["namespace"]
        )

    async def _create(
        self, owner: Mapping[str, Any], data: dict[str, Any], number: int, collision_count: int
    ) -> tuple[Object, int]:
        for _ in range(_MAX_COLLISIONS):
            revision = new_revision(
                owner, data=data, number=number, collision_count=collision_count
            )
            try:
                return await self.client.create(CONTROLLER_REVISIONS, revision), collision_count
            except AlreadyExists:
                found = await self._existing(owner, revision)
                if found is not None and found.get("data") == data:
                    return found, collision_count
                collision_count += 1
        raise RuntimeError(f"no free ControllerRevision name for {key_of(dict(owner))}")

    async def _existing(self, owner: Mapping[str, Any], revision: Object) -> Object | None:
        """The revision already under this name, adopted when it is an orphan."""
        meta = revision["metadata"]
        try:
            found = await self.client.get(
                CONTROLLER_REVISIONS, meta["name"], namespace=meta["namespace"]
            )
        except NotFound:
            return None
        if is_controlled_by(found, owner):
            return found
        if not orphans([found], selector_of(owner)):
            return None  # another owner's: the caller treats it as a collision
        return await adopt(self.client, CONTROLLER_REVISIONS, found, owner)

    async def truncate(self, owned: list[Object], *, live: set[str], limit: int) -> None:
        """Delete the oldest revisions not in ``live`` (names) beyond ``limit`` of them."""
        history = [r for r in sort_revisions(owned) if r["metadata"]["name"] not in live]
        for revision in history[: max(len(history) - max(limit, 0), 0)]:
            meta = revision["metadata"]
            try:
                await self.client.delete(
                    CONTROLLER_REVISIONS,
                    meta["name"],
                    namespace=meta["namespace"],
                    preconditions={"uid": meta["uid"]},
                )
            except (NotFound, Conflict):
                continue
