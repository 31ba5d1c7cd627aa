"""The Deployment strategies: RollingUpdate and Recreate, plus scaling and paused syncs.

Ported from upstream's ``rolling.go``, ``recreate.go`` and ``sync.go``; each function is one
reconcile's worth of progress, and the next watch event (a ReplicaSet's status moving)
brings the Deployment back for the next step.

RollingUpdate, per step: scale the new set up as far as ``maxSurge`` allows; if nothing was
scaled up, scale old sets down — first their unavailable Pods, then as far as
``maxUnavailable`` allows given what is available now; once complete, clean up history.
Recreate: scale every old set to 0, wait until none of their Pods is left, then create the
new set at full size. A paused Deployment, or one whose ``spec.replicas`` changed, is only
scaled (proportionally across sets mid-rollout), never rolled.
"""

from __future__ import annotations

from collections.abc import Callable

from atoll.controllers.results import Result
from atoll.kube.client import Object

from .deployments_replicas import (
    available_replicas,
    max_unavailable,
    new_rs_new_replicas,
    replicas,
    spec_replicas,
    status_replicas,
)
from .deployments_revisions import by_creation, desired_replicas_annotation
from .deployments_status import deployment_complete
from .deployments_sync import DeploymentSync, active_sets

__all__ = [
    "is_scaling_event",
    "rollout_recreate",
    "rollout_rolling",
    "sync_paused_or_scaled",
    "sync_status_only",
]

PodsOf = Callable[[str], list[Object]]  # the Pods a ReplicaSet (by uid) controls, from cache


def _uid(obj: Object | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("uid") or "")


def _paused(sync: DeploymentSync) -> bool:
    return bool((sync.deployment.get("spec") or {}).get("paused"))


async def sync_status_only(sync: DeploymentSync) -> Result:
    """A Deployment being deleted: report, change nothing (upstream ``syncStatusOnly``)."""
    new_rs, old = await sync.new_and_old(create=False)
    await sync.sync_status([*old, new_rs], new_rs)
    return Result()


async def sync_paused_or_scaled(sync: DeploymentSync) -> Result:
    """Scale without rolling; clean up history when paused (upstream ``sync``)."""
    new_rs, old = await sync.new_and_old(create=False)
    await sync.scale(new_rs, old)
    if _paused(sync):
        await sync.cleanup(_latest(sync, old))
    await sync.sync_status([*_latest(sync, old), _latest_one(sync, new_rs)], new_rs)
    return Result()


def _latest(sync: DeploymentSync, replica_sets: list[Object]) -> list[Object]:
    """The same sets as the sync holds them now, after its own writes."""
    current = {_uid(rs): rs for rs in sync.replica_sets}
    return [current.get(_uid(rs), rs) for rs in replica_sets]


def _latest_one(sync: DeploymentSync, rs: Object | None) -> Object | None:
    return None if rs is None else _latest(sync, [rs])[0]


async def is_scaling_event(sync: DeploymentSync) -> bool:
    """An active set's desired-replicas annotation differs from ``spec.replicas``."""
    new_rs, old = await sync.new_and_old(create=False)
    desired = spec_replicas(sync.deployment)
    for rs in active_sets([*old, new_rs]):
        annotated = desired_replicas_annotation(rs)
        if annotated is not None and annotated != desired:
            return True
    return False


async def rollout_rolling(sync: DeploymentSync) -> Result:
    """One step of a rolling update (upstream ``rolloutRolling``)."""
    new_rs, old = await sync.new_and_old(create=True)
    assert new_rs is not None  # created when missing
    if await _reconcile_new(sync, new_rs, old):
        return await _rollout_status(sync, old, new_rs)
    new_rs = _latest_one(sync, new_rs)
    assert new_rs is not None
    if await _reconcile_old(sync, _latest(sync, old), new_rs):
        return await _rollout_status(sync, old, new_rs)
    if deployment_complete(sync.deployment, sync.deployment.get("status") or {}):
        await sync.cleanup(_latest(sync, old))
    return await _rollout_status(sync, old, new_rs)


async def _rollout_status(sync: DeploymentSync, old: list[Object], new_rs: Object | None) -> Result:
    old = _latest(sync, old)
    new_rs = _latest_one(sync, new_rs)
    return await sync.sync_rollout_status([*old, new_rs], new_rs)


async def _reconcile_new(sync: DeploymentSync, new_rs: Object, old: list[Object]) -> bool:
    desired = spec_replicas(sync.deployment)
    current = spec_replicas(new_rs)
    if current == desired:
        return False
    if current > desired:
        scaled, _ = await sync.scale_rs_and_record(new_rs, desired)
        return scaled
    count = new_rs_new_replicas(sync.deployment, [*old, new_rs], new_rs)
    scaled, _ = await sync.scale_rs_and_record(new_rs, count)
    return scaled


async def _reconcile_old(sync: DeploymentSync, old: list[Object], new_rs: Object) -> bool:
    """Scale old sets down as far as availability allows (upstream ``reconcileOldReplicaSets``).

    At most ``all - minAvailable - newUnavailable`` go: unavailable new Pods must not let
    old available ones be removed, or a broken template would take the Deployment down.
    """
    active_old = active_sets(old)
    if replicas(active_old) == 0:
        return False
    all_count = replicas([*active_old, new_rs])
    min_available = spec_replicas(sync.deployment) - max_unavailable(sync.deployment)
    new_unavailable = spec_replicas(new_rs) - available_replicas([new_rs])
    most = all_count - min_available - new_unavailable
    if most <= 0:
        return False
    cleaned = await _cleanup_unhealthy(sync, active_old, most)
    if cleaned is None:
        return False
    active_old = _latest(sync, active_old)
    scaled = await _scale_down_old(sync, active_old, new_rs)
    return cleaned + scaled > 0


async def _cleanup_unhealthy(sync: DeploymentSync, old: list[Object], most: int) -> int | None:
    """Remove old sets' unavailable replicas first: that cannot lower availability.

    None when a set reports more available replicas than it wants (its status lags a scale
    down): upstream gives up scaling down for this step rather than scale that set up.
    """
    total = 0
    for rs in by_creation(old):
        if total >= most:
            break
        current = spec_replicas(rs)
        available = available_replicas([rs])
        if current == 0 or current == available:
            continue
        if available > current:
            return None
        count = min(most - total, current - available)
        await sync.scale_rs_and_record(rs, current - count)
        total += count
    return total


async def _scale_down_old(sync: DeploymentSync, old: list[Object], new_rs: Object) -> int:
    """Scale old sets down, oldest first, while availability stays above the minimum."""
    min_available = spec_replicas(sync.deployment) - max_unavailable(sync.deployment)
    available = available_replicas([*old, new_rs])
    if available <= min_available:
        return 0
    total, wanted = 0, available - min_available
    for rs in by_creation(old):
        if total >= wanted:
            break
        current = spec_replicas(rs)
        if current == 0:
            continue
        count = min(current, wanted - total)
        await sync.scale_rs_and_record(rs, current - count)
        total += count
    return total


async def rollout_recreate(sync: DeploymentSync, pods_of: PodsOf) -> Result:
    """One step of a Recreate rollout (upstream ``rolloutRecreate``)."""
    new_rs, old = await sync.new_and_old(create=False)
    scaled = False
    for rs in active_sets(old):
        changed, _ = await sync.scale_rs_and_record(rs, 0)
        scaled = scaled or changed
    if scaled or _old_pods_running(_latest(sync, old), new_rs, pods_of):
        return await _rollout_status(sync, old, new_rs)
    if new_rs is None:
        new_rs, old = await sync.new_and_old(create=True)
        assert new_rs is not None
    await sync.scale_rs_and_record(new_rs, spec_replicas(sync.deployment))
    if deployment_complete(sync.deployment, sync.deployment.get("status") or {}):
        await sync.cleanup(_latest(sync, old))
    return await _rollout_status(sync, old, new_rs)


def _old_pods_running(old: list[Object], new_rs: Object | None, pods_of: PodsOf) -> bool:
    """Old sets still report Pods, or a Pod of theirs has not finished (upstream)."""
    if status_replicas(old) > 0:
        return True
    new_uid = _uid(new_rs)
    for rs in old:
        if _uid(rs) == new_uid:
            continue
        for pod in pods_of(_uid(rs)):
            if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                return True
    return False
