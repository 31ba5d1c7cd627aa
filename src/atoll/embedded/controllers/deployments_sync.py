"""One reconcile of one Deployment: its ReplicaSets and every write it makes to them and itself.

``DeploymentSync`` holds a private copy of the Deployment and the ReplicaSets it owns, as read
from the caches, and offers the steps upstream's strategies are built from (upstream
``sync.go``): find or create the new ReplicaSet and keep revision numbers straight
(``new_and_old``), scale one set with its ScalingReplicaSet Event, scale all of them in
proportion when the Deployment itself was scaled (``scale``), delete old empty sets beyond
``revisionHistoryLimit`` (``cleanup``), and write status (``sync_status``,
``sync_rollout_status``).

Each write's answer replaces the object it wrote, so the later steps of the same reconcile
work on the current resourceVersion instead of colliding with their own earlier write (as
upstream, which re-reads its caches, sometimes does). A Conflict with someone else's write
ends the reconcile; the controller retries it from the caches.

Status changes made along the way (a new Progressing condition, a pause) stay in memory and
are written once, at the end of the reconcile, with the revision annotation
``deployment.kubernetes.io/revision`` in the same status write: as upstream's
``getNewReplicaSet`` does with ``UpdateStatus``, since the Deployment status strategy keeps
everything but spec and labels of the object it is sent.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atoll.controllers.results import Result, TemporaryError
from atoll.controllers.runtime import ControllerContext
from atoll.errors import AlreadyExists, ApiError, NotFound
from atoll.kube.client import Object, ResourceType

from .deployments_replicas import (
    is_rolling_update,
    is_saturated,
    max_surge,
    new_rs_new_replicas,
    proportion,
    replicas,
    spec_replicas,
)
from .deployments_revisions import (
    REVISION,
    by_creation,
    equal_ignore_hash,
    find_new_replica_set,
    find_old_replica_sets,
    max_revision,
    new_replica_set,
    replicas_annotations_need_update,
    set_new_replica_set_annotations,
    set_replicas_annotations,
    template_hash,
)
from .deployments_status import (
    FOUND_NEW_RS,
    MAX_INT32,
    NEW_RS_CREATED,
    PROGRESSING,
    RS_CREATE_ERROR,
    calculate_status,
    get_condition,
    has_progress_deadline,
    new_condition,
    rollout_status,
    set_condition,
    stuck_requeue_after,
)
from .replicasets_pods import controller_ref

__all__ = ["DEPLOYMENTS", "REPLICASETS", "DeploymentSync", "active_sets"]

DEPLOYMENTS = ResourceType("apps", "v1", "deployments", "Deployment", True)
REPLICASETS = ResourceType("apps", "v1", "replicasets", "ReplicaSet", True)


def _meta(obj: Object) -> dict[str, Any]:
    meta: dict[str, Any] = obj.setdefault("metadata", {})
    return meta


def _uid(obj: Object | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("uid") or "")


@dataclass(slots=True, kw_only=True)
class DeploymentSync:
    """The state and write steps of one reconcile (see the module docstring)."""

    ctx: ControllerContext
    deployment: Object  # a private copy; writes update it
    replica_sets: list[Object]  # the claimed sets; writes replace their entries
    cached_rs: Callable[[str], Object | None]  # the RS informer's get(key)
    stored_status: dict[str, Any]  # the status as the API has it (read-only); ours is in
    # ``deployment``
    revision_pending: bool = False  # the revision annotation changed and is not written yet

    @classmethod
    def start(
        cls,
        ctx: ControllerContext,
        deployment: Object,
        replica_sets: list[Object],
        cached_rs: Callable[[str], Object | None],
    ) -> DeploymentSync:
        return cls(
            ctx=ctx,
            deployment=_editable(deployment),
            replica_sets=list(replica_sets),
            cached_rs=cached_rs,
            stored_status=deployment.get("status") or {},  # only compared, never changed
        )

    @property
    def name(self) -> str:
        return str(_meta(self.deployment).get("name"))

    @property
    def namespace(self) -> str:
        return str(_meta(self.deployment).get("namespace"))

    def now(self) -> datetime:
        return self.ctx.clock.now()

    # -- writes ---------------------------------------------------------------------------

    def set_status(self, status: dict[str, Any]) -> None:
        """Change the status in memory; ``flush_status`` writes it, once per reconcile."""
        self.deployment["status"] = status

    async def flush_status(self) -> bool:
        """Write status (and a new revision annotation) if they changed; True if written."""
        status = self.deployment.get("status") or {}
        if status == self.stored_status and not self.revision_pending:
            return False
        written = await self.ctx.client.replace_status(DEPLOYMENTS, self.deployment)
        self.stored_status = written.get("status") or {}
        self.revision_pending = False
        _meta(self.deployment)["resourceVersion"] = _meta(written).get("resourceVersion")
        return True

    async def update_status(self, status: dict[str, Any]) -> None:
        """Change and write the status now (before giving up on an error)."""
        self.set_status(status)
        await self.flush_status()

    def write_revision(self, revision: str) -> None:
        """Set the Deployment's revision annotation; ``flush_status`` writes it."""
        annotations = _meta(self.deployment).setdefault("annotations", {})
        if annotations.get(REVISION) != revision:
            annotations[REVISION] = revision
            self.revision_pending = True

    async def update_rs(self, rs: Object) -> Object:
        written = await self.ctx.client.replace(REPLICASETS, rs)
        self.replica_sets = [written if _uid(r) == _uid(written) else r for r in self.replica_sets]
        return written

    async def event(self, reason: str, message: str, *, warning: bool = False) -> None:
        record = self.ctx.events.warning if warning else self.ctx.events.normal
        await record(self.deployment, reason, message=message)

    # -- the new and the old ReplicaSets --------------------------------------------------

    async def new_and_old(self, *, create: bool) -> tuple[Object | None, list[Object]]:
        """The new set (created if asked and missing) and all old ones, revisions in sync.

        Upstream ``getAllReplicaSetsAndSyncRevision``.
        """
        existing = find_new_replica_set(self.deployment, self.replica_sets)
        _, old = find_old_replica_sets(self.replica_sets, existing)
        new_revision = max_revision(old) + 1
        if existing is not None:
            return await self._sync_existing_new(existing, new_revision), old
        if not create:
            return None, old
        return await self._create_new(old, new_revision), old

    async def _sync_existing_new(self, rs: Object, new_revision: int) -> Object:
        updated = _editable(rs)
        changed = set_new_replica_set_annotations(
            self.deployment,
            updated,
            new_revision=new_revision,
            exists=True,
            max_surge=max_surge(self.deployment),
        )
        min_ready = (self.deployment.get("spec") or {}).get("minReadySeconds") or 0
        if (updated["spec"].get("minReadySeconds") or 0) != min_ready:
            updated["spec"]["minReadySeconds"] = min_ready  # 0 and absent are the same
            changed = True
        if changed:
            return await self.update_rs(updated)
        self.write_revision(str((_meta(updated).get("annotations") or {}).get(REVISION)))
        status = copy.deepcopy(self.deployment.get("status") or {})
        if has_progress_deadline(self.deployment) and get_condition(status, PROGRESSING) is None:
            message = f'Found new replica set "{_meta(updated).get("name")}"'
            set_condition(
                status, new_condition(PROGRESSING, "True", FOUND_NEW_RS, message, self.now())
            )
            self.set_status(status)
        return updated

    async def _create_new(self, old: list[Object], new_revision: int) -> Object:
        status = self.deployment.get("status") or {}
        pod_hash = template_hash(
            (self.deployment.get("spec") or {}).get("template") or {},
            status.get("collisionCount"),
        )
        rs = new_replica_set(self.deployment, pod_template_hash=pod_hash, replicas=0)
        count = new_rs_new_replicas(self.deployment, [*old, rs], rs)
        rs["spec"]["replicas"] = count
        set_new_replica_set_annotations(
            self.deployment,
            rs,
            new_revision=new_revision,
            exists=False,
            max_surge=max_surge(self.deployment),
        )
        try:
            created = await self.ctx.client.create(REPLICASETS, rs, namespace=self.namespace)
        except AlreadyExists:
            return await self._existing_namesake(rs)
        except ApiError as exc:
            await self._report_create_failure(rs, exc)
            raise
        self.replica_sets.append(created)
        if count > 0:
            await self.event(
                "ScalingReplicaSet",
                f"Scaled up replica set {_meta(created).get('name')} to {count}",
            )
        self.write_revision(str(new_revision))
        if has_progress_deadline(self.deployment):
            message = f'Created new replica set "{_meta(created).get("name")}"'
            condition = new_condition(PROGRESSING, "True", NEW_RS_CREATED, message, self.now())
            status = copy.deepcopy(self.deployment.get("status") or {})
            set_condition(status, condition)
            self.set_status(status)
        return created

    async def _existing_namesake(self, rs: Object) -> Object:
        """Our set from an earlier reconcile the cache has not shown yet, or a hash collision."""
        found = self.cached_rs(f"{self.namespace}/{_meta(rs).get('name')}")
        if found is None:
            raise TemporaryError(
                f"replica set {_meta(rs).get('name')} is not cached yet", delay=0.1
            )
        template = (self.deployment.get("spec") or {}).get("template") or {}
        ref = controller_ref(found) or {}
        if ref.get("uid") == _uid(self.deployment) and equal_ignore_hash(
            template, (found.get("spec") or {}).get("template") or {}
        ):
            if all(_uid(r) != _uid(found) for r in self.replica_sets):
                self.replica_sets.append(found)
            return found
        status = copy.deepcopy(self.deployment.get("status") or {})
        status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
        await self.update_status(status)
        raise TemporaryError(f"hash collision on replica set {_meta(rs).get('name')}", delay=0)

    async def _report_create_failure(self, rs: Object, exc: ApiError) -> None:
        message = f'Failed to create new replica set "{_meta(rs).get("name")}": {exc.message}'
        if has_progress_deadline(self.deployment):
            condition = new_condition(PROGRESSING, "False", RS_CREATE_ERROR, message, self.now())
            status = copy.deepcopy(self.deployment.get("status") or {})
            set_condition(status, condition)
            with contextlib.suppress(ApiError):  # the failure to create is the news
                await self.update_status(status)
        await self.event(RS_CREATE_ERROR, message, warning=True)

    # -- scaling ----------------------------------------------------------------------------

    async def scale_rs_and_record(self, rs: Object, new_scale: int) -> tuple[bool, Object]:
        current = spec_replicas(rs)
        if current == new_scale:
            return False, rs
        return await self.scale_rs(rs, new_scale, "up" if current < new_scale else "down")

    async def scale_rs(self, rs: Object, new_scale: int, operation: str) -> tuple[bool, Object]:
        """Set a set's replicas and replicas annotations; an Event if the size changed."""
        desired = spec_replicas(self.deployment)
        most = desired + max_surge(self.deployment)
        resize = spec_replicas(rs) != new_scale
        if not resize and not replicas_annotations_need_update(rs, desired, most):
            return False, rs
        updated = _editable(rs)
        updated["spec"]["replicas"] = new_scale
        set_replicas_annotations(updated, desired, most)
        written = await self.update_rs(updated)
        if resize:
            name = _meta(written).get("name")
            await self.event(
                "ScalingReplicaSet", f"Scaled {operation} replica set {name} to {new_scale}"
            )
        return resize, written

    async def scale(self, new_rs: Object | None, old: list[Object]) -> None:
        """Follow a change of ``spec.replicas`` (upstream ``scale``), proportionally if rolling."""
        desired = spec_replicas(self.deployment)
        single = _active_or_latest(new_rs, old)
        if single is not None:
            if spec_replicas(single) != desired:
                await self.scale_rs_and_record(single, desired)
            return
        if is_saturated(self.deployment, new_rs):
            for rs in active_sets(old):
                await self.scale_rs_and_record(rs, 0)
            return
        if is_rolling_update(self.deployment):
            await self._scale_proportionally(active_sets([*old, new_rs]))

    async def _scale_proportionally(self, active: list[Object]) -> None:
        desired = spec_replicas(self.deployment)
        allowed = desired + max_surge(self.deployment) if desired > 0 else 0
        to_add = allowed - replicas(active)
        operation = "up" if to_add > 0 else "down" if to_add < 0 else ""
        ordered = _by_size(active, newer_first=to_add > 0)
        sizes: list[int] = []
        added = 0
        for rs in ordered:
            share = proportion(rs, self.deployment, to_add, added) if to_add else 0
            sizes.append(spec_replicas(rs) + share)
            added += share
        if ordered and to_add:
            sizes[0] = max(sizes[0] + to_add - added, 0)  # leftovers go to the largest
        for rs, size in zip(ordered, sizes, strict=True):
            await self.scale_rs(rs, size, operation)

    async def cleanup(self, old: list[Object]) -> None:
        """Delete the oldest empty old sets beyond ``revisionHistoryLimit`` (upstream)."""
        limit = (self.deployment.get("spec") or {}).get("revisionHistoryLimit")
        if limit is None or limit == MAX_INT32:
            return
        alive = [rs for rs in old if not _meta(rs).get("deletionTimestamp")]
        surplus = len(alive) - int(limit)
        for rs in by_creation(alive)[: max(surplus, 0)]:
            status = rs.get("status") or {}
            generation = _meta(rs).get("generation") or 0
            if status.get("replicas") or spec_replicas(rs) != 0:
                continue
            if generation > (status.get("observedGeneration") or 0):
                continue
            with contextlib.suppress(NotFound):
                await self.ctx.client.delete(
                    REPLICASETS, str(_meta(rs).get("name")), namespace=self.namespace
                )

    # -- status ---------------------------------------------------------------------------

    async def sync_status(self, all_sets: list[Object | None], new_rs: Object | None) -> None:
        """Write the plain status when it changed (upstream ``syncDeploymentStatus``)."""
        self.set_status(calculate_status(self.deployment, all_sets, new_rs, self.now()))
        await self.flush_status()

    async def sync_rollout_status(
        self, all_sets: list[Object | None], new_rs: Object | None
    ) -> Result:
        """Write the status with progress estimated; come back to check a stalled rollout."""
        now = self.now()
        status = rollout_status(self.deployment, all_sets, new_rs, now)
        self.set_status(status)
        if await self.flush_status():
            return Result()  # the update event brings the Deployment back
        after = stuck_requeue_after(self.deployment, status, now)
        if after is None:
            return Result()
        return Result(requeue=True) if after == 0 else Result(requeue_after=after)


def _editable(obj: Object) -> Object:
    """A copy whose metadata, annotations, spec and status may be changed in place.

    The cached original is shared and read-only; a deep copy of every object in every
    reconcile would cost more than the rest of the reconcile.
    """
    meta = dict(obj.get("metadata") or {})
    meta["annotations"] = dict(meta.get("annotations") or {})
    copied = {**obj, "metadata": meta, "spec": dict(obj.get("spec") or {})}
    if "status" in obj:
        copied["status"] = copy.deepcopy(obj["status"])
    return copied


def active_sets(replica_sets: Sequence[Object | None]) -> list[Object]:
    """Sets that have, or ought to have, Pods (upstream ``FilterActiveReplicaSets``)."""
    return [rs for rs in replica_sets if rs is not None and spec_replicas(rs) > 0]


def _active_or_latest(new_rs: Object | None, old: list[Object]) -> Object | None:
    """The only active set; else the new or newest one when none is active; else None."""
    if new_rs is None and not old:
        return None
    newest_first = list(reversed(by_creation(old)))
    active = active_sets([*newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    return active[0] if len(active) == 1 else None


def _by_size(replica_sets: list[Object], *, newer_first: bool) -> list[Object]:
    """Largest first; among equals newer first when scaling up, older first when down."""
    oldest_first = by_creation(replica_sets)
    ties = list(reversed(oldest_first)) if newer_first else oldest_first
    return sorted(ties, key=lambda rs: -spec_replicas(rs))
