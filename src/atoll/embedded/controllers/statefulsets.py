"""The StatefulSet controller: ordered pods with stable names and storage, rolled by revision.

One pass (kube 1.20's ``defaultStatefulSetControl.UpdateStatefulSet``) for one set:

1. adopt orphan pods and revisions its selector matches; find the update revision (the live
   template's ControllerRevision, created or renumbered by ``revisions.RevisionHistory``) and
   the current one (``status.currentRevision``);
2. count pods into the status and sort them into ``replicas`` (ordinal < spec.replicas) and
   ``condemned`` (the rest);
3. create each missing ordinal (its claims first), recreating failed ones; with
   ``OrderedReady`` one pod per pass, and only once every lower ordinal is Running and Ready;
   with ``Parallel`` all at once;
4. delete condemned pods from the highest ordinal down, one per pass under ``OrderedReady``;
5. ``RollingUpdate``: delete the highest ordinal ≥ ``partition`` not at the update revision,
   one at a time, waiting for each to come back healthy (``OnDelete``: nothing, a deleted pod
   comes back at the update revision);
6. write the status (``currentRevision`` becomes ``updateRevision`` once every pod is updated
   and ready) and delete revisions beyond ``revisionHistoryLimit`` that no pod uses.

Stale caches are harmless: pod names are fixed, so a second create is ``AlreadyExists``, and
deletes carry the uid as a precondition. A set being deleted is left alone (no new revision
or pod to race the garbage collector, which removes its pods).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from atoll.controllers.results import Result
from atoll.controllers.runtime import ControllerContext
from atoll.errors import AlreadyExists, ApiError, Conflict, NotFound
from atoll.kube.client import Object, ResourceType
from atoll.kube.informers import OWNER_UID_INDEX, by_owner_uid, key_of

from . import ControllerFactory, ControllerOptions
from .revisions import CONTROLLER_REVISIONS, RevisionHistory, apply_revision
from .statefulset_pods import (
    PERSISTENT_VOLUME_CLAIMS,
    claims_for,
    identity_matches,
    is_failed,
    is_healthy,
    is_running_and_ready,
    new_pod,
    ordinal_of,
    parent_of,
    revision_of,
    storage_matches,
    with_identity,
)
from .workload_pods import (
    ORPHANS_INDEX,
    PODS,
    adopt,
    controller_of,
    is_controlled_by,
    is_terminating,
    orphans,
    orphans_by_namespace,
    selector_of,
)

__all__ = ["CONTROLLERS", "STATEFUL_SETS", "StatefulSetController"]

logger = logging.getLogger(__name__)

STATEFUL_SETS = ResourceType("apps", "v1", "statefulsets", "StatefulSet", True)
_KIND = "StatefulSet"
_RETRY_EXISTING = 1.0  # seconds: a pod we made is not in the cache yet, or someone else's is


@dataclass(slots=True)
class _Pass:
    """What one reconcile of one set knows and has counted so far."""

    sts: Object
    current_set: Object  # the set with the current revision's template
    update_set: Object  # the set with the update revision's template
    current: str  # revision names
    update: str
    collisions: int
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def monotonic(self) -> bool:
        return (self.sts.get("spec") or {}).get("podManagementPolicy") != "Parallel"

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.sts.get("spec") or {}
        return spec

    def count(self, pod: Mapping[str, Any], delta: int) -> None:
        """Add ``delta`` to the counters ``pod``'s revision falls in."""
        revision = revision_of(pod)
        if revision == self.current:
            self.status["currentReplicas"] += delta
        if revision == self.update:
            self.status["updatedReplicas"] += delta


class _Blocked(Exception):
    """This pass can make no more progress (a monotonic step was taken or must wait)."""

    def __init__(self, requeue_after: float | None = None) -> None:
        super().__init__()
        self.requeue_after = requeue_after


class StatefulSetController:
    """See the module docstring."""

    def __init__(self, options: ControllerOptions) -> None:
        self.options = options

    @property
    def name(self) -> str:
        return "statefulset"

    async def setup(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.sets = ctx.informers.informer(STATEFUL_SETS)
        self.pods = ctx.informers.informer(PODS)
        self.pods.add_indexer(OWNER_UID_INDEX, by_owner_uid)
        self.pods.add_indexer(ORPHANS_INDEX, orphans_by_namespace)
        self.claims = ctx.informers.informer(PERSISTENT_VOLUME_CLAIMS)
        self.history = RevisionHistory(ctx.client, ctx.informers.informer(CONTROLLER_REVISIONS))
        self.sets.add_handler(ctx.enqueue, lambda _old, new: ctx.enqueue(new), ctx.enqueue)
        for informer in (self.pods, self.history.informer):
            informer.add_handler(self._on_child, self._on_child_update, self._on_child)

    # -- handlers: only enqueue keys -------------------------------------------------------

    def _on_child(self, obj: Object) -> None:
        if controller_of(obj) is not None:
            self.ctx.enqueue_owner(obj, kind=_KIND, api_version="apps/v1")
            return
        labels = (obj.get("metadata") or {}).get("labels") or {}
        for sts in self.sets.list((obj.get("metadata") or {}).get("namespace") or ""):
            if selector_of(sts).matches(labels):
                self.ctx.enqueue(sts)  # a set that may adopt this orphan

    def _on_child_update(self, old: Object, new: Object) -> None:
        if controller_of(old) != controller_of(new):
            self._on_child(old)
        self._on_child(new)

    # -- reconcile -------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result:
        sts = self.sets.get(key)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return Result()  # the garbage collector removes the pods of a deleted set
        await self._adopt_orphans(sts)
        pods = self._pods_of(sts)
        owned = self.history.owned(sts)
        step = await self._begin(sts, owned)
        _count_pods(step, pods)
        result = Result()
        try:
            await self._sync(step, pods)
        except _Blocked as blocked:
            if blocked.requeue_after is not None:
                result = Result(requeue_after=blocked.requeue_after)
        await self._write_status(step)
        live = {step.current, step.update, *(revision_of(p) for p in pods)}
        limit = int(step.spec.get("revisionHistoryLimit", 10))
        await self.history.truncate(owned, live=live, limit=limit)
        return result

    async def _begin(self, sts: Object, owned: list[Object]) -> _Pass:
        """The pass over ``sts`` at its current and update revisions (the latter made now)."""
        status = sts.get("status") or {}
        update, collisions = await self.history.update_revision(
            sts, owned, int(status.get("collisionCount") or 0)
        )
        named = {r["metadata"]["name"]: r for r in owned}
        current = named.get(str(status.get("currentRevision") or ""), update)
        return _Pass(
            sts=sts,
            current_set=apply_revision(sts, current),
            update_set=apply_revision(sts, update),
            current=current["metadata"]["name"],
            update=update["metadata"]["name"],
            collisions=collisions,
        )

    def _pods_of(self, sts: Object) -> list[Object]:
        """The set's pods: controlled by it and named like its members."""
        uid = sts["metadata"]["uid"]
        name = sts["metadata"]["name"]
        return [
            pod
            for pod in self.pods.by_index(OWNER_UID_INDEX, uid)
            if is_controlled_by(pod, sts) and parent_of(pod) == name
        ]

    async def _adopt_orphans(self, sts: Object) -> None:
        selector = selector_of(sts)
        name = sts["metadata"]["name"]
        candidates = orphans(
            self.pods.by_index(ORPHANS_INDEX, sts["metadata"]["namespace"]), selector
        )
        for pod in candidates:
            if parent_of(pod) == name:
                await adopt(self.ctx.client, PODS, pod, sts)
        await self.history.adopt_orphans(sts)

    async def _sync(self, step: _Pass, pods: list[Object]) -> None:
        replicas, condemned = _partition(step, pods)
        first_unhealthy = _first_unhealthy([*replicas, *condemned])
        await self._scale_up(step, replicas)
        await self._scale_down(step, condemned, first_unhealthy)
        if (step.spec.get("updateStrategy") or {}).get("type") == "OnDelete":
            return
        await self._roll(step, replicas)

    async def _scale_up(self, step: _Pass, replicas: list[Object | None]) -> None:
        """Create missing and failed ordinals; under OrderedReady wait for each to be ready."""
        for ordinal, pod in enumerate(replicas):
            if pod is not None and is_failed(pod):
                await self._recreate_failed(step, pod)
                pod = None
            if pod is None:
                replicas[ordinal] = await self._create(step, ordinal)
                if step.monotonic:
                    raise _Blocked
                continue
            if step.monotonic and (is_terminating(pod) or not is_running_and_ready(pod)):
                raise _Blocked
            if not identity_matches(step.sts, pod) or not storage_matches(step.sts, pod):
                await self._repair(step, pod)

    async def _scale_down(
        self, step: _Pass, condemned: list[Object], first_unhealthy: Object | None
    ) -> None:
        """Delete pods beyond spec.replicas, the highest ordinal first."""
        for pod in reversed(condemned):
            if is_terminating(pod):
                if step.monotonic:
                    raise _Blocked
                continue
            if step.monotonic and not is_running_and_ready(pod) and pod is not first_unhealthy:
                raise _Blocked
            await self._delete(step, pod)
            if step.monotonic:
                raise _Blocked

    async def _roll(self, step: _Pass, replicas: list[Object | None]) -> None:
        """Replace the highest outdated ordinal ≥ partition, one at a time."""
        rolling = (step.spec.get("updateStrategy") or {}).get("rollingUpdate") or {}
        partition = int(rolling.get("partition") or 0)
        for ordinal in range(len(replicas) - 1, partition - 1, -1):
            pod = replicas[ordinal]
            if pod is None:
                return
            if revision_of(pod) != step.update and not is_terminating(pod):
                await self._delete(step, pod)
                return
            if not is_healthy(pod):
                return

    # -- writes ----------------------------------------------------------------------------

    async def _create(self, step: _Pass, ordinal: int) -> Object:
        pod = _versioned_pod(step, ordinal)
        await self._create_claims(step, pod)
        name = pod["metadata"]["name"]
        try:
            created = await self.ctx.client.create(PODS, pod)
        except AlreadyExists:
            logger.debug("%s: pod %s exists but is not in the cache yet", key_of(step.sts), name)
            raise _Blocked(_RETRY_EXISTING) from None
        except ApiError as exc:
            await self._event_failed(step, "create", f"Pod {name}", exc)
            raise
        await self.ctx.events.normal(
            step.sts,
            "SuccessfulCreate",
            message=f"create Pod {name} in {_set_phrase(step)} successful",
        )
        step.status["replicas"] += 1
        step.count(created, 1)
        return created

    async def _create_claims(self, step: _Pass, pod: Object) -> None:
        """Create the pod's missing PersistentVolumeClaims (before the pod)."""
        pod_name = pod["metadata"]["name"]
        for claim in claims_for(step.sts, ordinal_of(pod)).values():
            if self.claims.get(key_of(claim)) is not None:
                continue
            name = claim["metadata"]["name"]
            try:
                await self.ctx.client.create(PERSISTENT_VOLUME_CLAIMS, claim)
            except AlreadyExists:
                continue
            except ApiError as exc:
                await self._event_failed(step, "create", f"Claim {name} for Pod {pod_name}", exc)
                raise
            message = f"create Claim {name} Pod {pod_name} in {_set_phrase(step)} success"
            await self.ctx.events.normal(step.sts, "SuccessfulCreate", message=message)

    async def _delete(self, step: _Pass, pod: Object) -> None:
        meta = pod["metadata"]
        try:
            await self.ctx.client.delete(
                PODS, meta["name"], namespace=meta["namespace"], preconditions={"uid": meta["uid"]}
            )
        except (NotFound, Conflict):
            return  # gone already, or a new pod under that name
        except ApiError as exc:
            await self._event_failed(step, "delete", f"Pod {meta['name']}", exc)
            raise
        message = f"delete Pod {meta['name']} in {_set_phrase(step)} successful"
        await self.ctx.events.normal(step.sts, "SuccessfulDelete", message=message)
        step.count(pod, -1)

    async def _recreate_failed(self, step: _Pass, pod: Object) -> None:
        name = pod["metadata"]["name"]
        message = f"StatefulSet {key_of(step.sts)} is recreating failed Pod {name}"
        await self.ctx.events.warning(step.sts, "RecreatingFailedPod", message=message)
        await self._delete(step, pod)
        step.status["replicas"] -= 1

    async def _repair(self, step: _Pass, pod: Object) -> None:
        """Restore a pod's identity label and create its missing claims (``UpdateStatefulPod``)."""
        await self._create_claims(step, pod)
        if identity_matches(step.sts, pod):
            return
        meta = pod["metadata"]
        labels = with_identity(step.sts, {"metadata": {"name": meta["name"]}})["metadata"]["labels"]
        patch = {"metadata": {"labels": labels, "resourceVersion": meta["resourceVersion"]}}
        try:
            await self.ctx.client.patch(PODS, meta["name"], patch, namespace=meta["namespace"])
        except (NotFound, Conflict):
            return
        message = f"update Pod {meta['name']} in {_set_phrase(step)} successful"
        await self.ctx.events.normal(step.sts, "SuccessfulUpdate", message=message)

    async def _event_failed(self, step: _Pass, verb: str, what: str, exc: ApiError) -> None:
        message = f"{verb} {what} in {_set_phrase(step)} failed error: {exc}"
        await self.ctx.events.warning(step.sts, f"Failed{verb.title()}", message=message)

    async def _write_status(self, step: _Pass) -> None:
        status = _final_status(step)
        current = step.sts.get("status") or {}
        if status == current:
            return
        # On Conflict a newer version is on its way through the informer and enqueues the key.
        with contextlib.suppress(NotFound, Conflict):
            await self.ctx.client.replace_status(STATEFUL_SETS, {**step.sts, "status": status})


# -- pure steps ------------------------------------------------------------------------------


def _set_phrase(step: _Pass) -> str:
    return f"StatefulSet {step.sts['metadata']['name']}"


def _count_pods(step: _Pass, pods: list[Object]) -> None:
    """The status of the pods as found, before this pass changes anything."""
    step.status = {
        "observedGeneration": step.sts["metadata"].get("generation", 0),
        "replicas": len(pods),
        "readyReplicas": sum(1 for pod in pods if is_running_and_ready(pod)),
        "currentReplicas": 0,
        "updatedReplicas": 0,
        "currentRevision": step.current,
        "updateRevision": step.update,
        "collisionCount": step.collisions,
    }
    for pod in pods:
        if not is_terminating(pod):
            step.count(pod, 1)


def _partition(step: _Pass, pods: list[Object]) -> tuple[list[Object | None], list[Object]]:
    """Pods by ordinal below spec.replicas, and the condemned ones above (ascending)."""
    wanted = int(step.spec.get("replicas", 1))
    replicas: list[Object | None] = [None] * wanted
    condemned = []
    for pod in pods:
        ordinal = ordinal_of(pod)
        if 0 <= ordinal < wanted:
            replicas[ordinal] = pod
        elif ordinal >= wanted:
            condemned.append(pod)
    return replicas, sorted(condemned, key=ordinal_of)


def _first_unhealthy(pods: list[Object | None]) -> Object | None:
    unhealthy = [pod for pod in pods if pod is not None and not is_healthy(pod)]
    return min(unhealthy, key=ordinal_of, default=None)


def _versioned_pod(step: _Pass, ordinal: int) -> Object:
    """A new pod at the current revision below the partition, else at the update revision."""
    strategy = step.spec.get("updateStrategy") or {}
    rolling = strategy.get("rollingUpdate")
    current_replicas = int((step.sts.get("status") or {}).get("currentReplicas") or 0)
    if (
        strategy.get("type") == "RollingUpdate" and rolling is None and ordinal < current_replicas
    ) or (rolling is not None and ordinal < int(rolling.get("partition") or 0)):
        return new_pod(step.current_set, ordinal, step.current)
    return new_pod(step.update_set, ordinal, step.update)


def _final_status(step: _Pass) -> dict[str, Any]:
    """The status to store: kube's ``completeRollingUpdate``, zero values omitted as Go does."""
    counted = dict(step.status)
    strategy = (step.spec.get("updateStrategy") or {}).get("type")
    if (
        strategy == "RollingUpdate"
        and counted["updatedReplicas"] == counted["replicas"]
        and counted["readyReplicas"] == counted["replicas"]
    ):
        counted["currentReplicas"] = counted["updatedReplicas"]
        counted["currentRevision"] = counted["updateRevision"]
    status = {k: v for k, v in (step.sts.get("status") or {}).items() if k == "conditions"}
    status.update({k: v for k, v in counted.items() if v or k in ("replicas", "collisionCount")})
    status["availableReplicas"] = counted["readyReplicas"]
    return status


def _factory(options: ControllerOptions) -> StatefulSetController:
    return StatefulSetController(options)


CONTROLLERS: list[ControllerFactory] = [_factory]
