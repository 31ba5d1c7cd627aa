"""The Deployment controller: roll Pods from one template to the next through ReplicaSets.

A reconcile (upstream ``syncDeployment``) reads the Deployment, claims its ReplicaSets from the
informer caches (owned ones by owner-uid index, orphans the selector matches by the orphan
index; no List calls), then, in upstream's order:

- a Deployment being deleted only gets its status written;
- pausing or resuming sets Progressing Unknown/DeploymentPaused or DeploymentResumed, so a
  long pause is not taken for a stalled rollout;
- a paused Deployment, or one whose ``spec.replicas`` changed (the active sets'
  ``desired-replicas`` annotation says so), is scaled without rolling;
- otherwise one step of its strategy runs (``deployments_rollout``).

The ReplicaSets are ``<name>-<pod-template-hash>`` with the hash label on their selector,
template and Pods, a controller ownerReference, and the revision annotations
(``deployment.kubernetes.io/revision``, ``desired-replicas``, ``max-replicas``); see
``deployments_revisions``. ``kubectl rollout undo`` patches an old template back in; the
set with that template becomes the new one again with revision max+1. Status and
conditions follow ``deployments_status``, which is what ``kubectl rollout status`` reads.

Handlers only enqueue Deployment keys: on the Deployment's own changes, on changes to a
ReplicaSet it controls (or could adopt), and, for Recreate, when the last old Pod is gone.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

from atoll.controllers.results import Result
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.errors import BadRequest, Conflict, NotFound
from atoll.kube.client import Object
from atoll.kube.informers import OWNER_UID_INDEX, Informer, by_owner_uid, key_of
from atoll.kube.selectors import LabelSelector, from_label_selector_object

from . import ControllerOptions
from .deployments_rollout import (
    is_scaling_event,
    rollout_recreate,
    rollout_rolling,
    sync_paused_or_scaled,
    sync_status_only,
)
from .deployments_status import (
    PAUSED,
    PROGRESSING,
    RESUMED,
    TIMED_OUT,
    get_condition,
    has_progress_deadline,
    new_condition,
    set_condition,
)
from .deployments_sync import DEPLOYMENTS, REPLICASETS, DeploymentSync
from .replicasets_claims import ORPHANS_INDEX, Claim, orphans_by_namespace
from .replicasets_pods import PODS, controller_ref, labels_of

__all__ = ["CONTROLLERS", "DeploymentController"]

logger = logging.getLogger(__name__)


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    return meta


def _selects_everything(deployment: Mapping[str, Any]) -> bool:
    selector = (deployment.get("spec") or {}).get("selector")
    return isinstance(selector, dict) and not any(selector.values())


class DeploymentController:
    """Rolls Deployments out through ReplicaSets (see the module docstring)."""

    name = "deployment"

    def __init__(self, options: ControllerOptions) -> None:
        self._options = options

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._deployments: Informer = ctx.informers.informer(DEPLOYMENTS)
        self._replica_sets: Informer = ctx.informers.informer(REPLICASETS)
        self._pods: Informer = ctx.informers.informer(PODS)
        self._replica_sets.add_indexer(OWNER_UID_INDEX, by_owner_uid)
        self._replica_sets.add_indexer(ORPHANS_INDEX, orphans_by_namespace)
        self._pods.add_indexer(OWNER_UID_INDEX, by_owner_uid)
        self._deployments.add_handler(ctx.enqueue, self._deployment_updated, ctx.enqueue)
        self._replica_sets.add_handler(self._rs_added, self._rs_updated, self._rs_deleted)
        self._pods.add_handler(on_delete=self._pod_deleted)

    # -- handlers: only enqueue Deployment keys ---------------------------------------------

    def _deployment_updated(self, old: Object, new: Object) -> None:
        self._ctx.enqueue(new)

    def _rs_added(self, rs: Object) -> None:
        if _meta(rs).get("deletionTimestamp"):
            self._rs_deleted(rs)
            return
        ref = controller_ref(rs)
        if ref is not None:
            self._enqueue_resolved(rs, ref)
        else:
            self._enqueue_selecting(rs)

    def _rs_updated(self, old: Object, new: Object) -> None:
        if _meta(old).get("resourceVersion") == _meta(new).get("resourceVersion"):
            return
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref != new_ref and old_ref is not None:
            self._enqueue_resolved(old, old_ref)
        if new_ref is not None:
            self._enqueue_resolved(new, new_ref)
        elif labels_of(old) != labels_of(new) or old_ref != new_ref:
            self._enqueue_selecting(new)

    def _rs_deleted(self, rs: Object) -> None:
        ref = controller_ref(rs)
        if ref is not None:
            self._enqueue_resolved(rs, ref)

    def _pod_deleted(self, pod: Object) -> None:
        """Recreate waits for the old Pods to be gone: look again when the last one goes."""
        deployment = self._deployment_of_pod(pod)
        if deployment is None:
            return
        strategy = (deployment.get("spec") or {}).get("strategy") or {}
        if strategy.get("type") != "Recreate":
            return
        uid = str(_meta(deployment).get("uid"))
        sets = self._replica_sets.by_index(OWNER_UID_INDEX, uid)
        if not any(self._pods_of(str(_meta(rs).get("uid"))) for rs in sets):
            self._ctx.enqueue(deployment)

    def _deployment_of_pod(self, pod: Object) -> Object | None:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return None
        rs = self._replica_sets.get(f"{_meta(pod).get('namespace')}/{ref.get('name')}")
        if rs is None or _meta(rs).get("uid") != ref.get("uid"):
            return None
        return self._resolve(rs, controller_ref(rs))

    def _resolve(self, obj: Object, ref: dict[str, Any] | None) -> Object | None:
        if ref is None or ref.get("kind") != "Deployment":
            return None
        found = self._deployments.get(f"{_meta(obj).get('namespace')}/{ref.get('name')}")
        if found is None or _meta(found).get("uid") != ref.get("uid"):
            return None
        return found

    def _enqueue_resolved(self, rs: Object, ref: dict[str, Any]) -> None:
        deployment = self._resolve(rs, ref)
        if deployment is not None:
            self._ctx.enqueue(deployment)

    def _enqueue_selecting(self, rs: Object) -> None:
        """Queue each Deployment whose selector matches an orphan ReplicaSet's labels."""
        labels = labels_of(rs)
        if not labels:
            return
        for deployment in self._deployments.list(_meta(rs).get("namespace") or ""):
            try:
                selector = from_label_selector_object(
                    (deployment.get("spec") or {}).get("selector")
                )
            except BadRequest:
                continue
            if not selector.is_empty and selector.matches(labels):
                self._ctx.enqueue(deployment)

    def _pods_of(self, rs_uid: str) -> list[Object]:
        return [
            pod
            for pod in self._pods.by_index(OWNER_UID_INDEX, rs_uid)
            if (controller_ref(pod) or {}).get("uid") == rs_uid
        ]

    # -- reconcile --------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result:
        deployment = self._deployments.get(key)
        if deployment is None:
            return Result()
        try:
            return await self._sync(deployment)
        except (Conflict, NotFound) as exc:
            # Someone wrote first, or a set vanished: start again from the caches.
            logger.debug("deployment %s: %s; retrying", key, exc)
            return Result(requeue=True)

    async def _sync(self, deployment: Object) -> Result:
        if _selects_everything(deployment):
            return await self._refuse_selecting_all(deployment)
        try:
            selector = from_label_selector_object((deployment.get("spec") or {}).get("selector"))
        except BadRequest as exc:
            logger.warning("deployment %s: invalid selector: %s", key_of(deployment), exc)
            return Result()
        replica_sets = await self._claim_replica_sets(deployment, selector)
        sync = DeploymentSync.start(self._ctx, deployment, replica_sets, self._replica_sets.get)
        if _meta(deployment).get("deletionTimestamp"):
            return await sync_status_only(sync)
        await _check_paused_conditions(sync)
        if (deployment.get("spec") or {}).get("paused") or await is_scaling_event(sync):
            return await sync_paused_or_scaled(sync)
        strategy = (deployment.get("spec") or {}).get("strategy") or {}
        if strategy.get("type") == "Recreate":
            return await rollout_recreate(sync, self._pods_of)
        return await rollout_rolling(sync)

    async def _refuse_selecting_all(self, deployment: Object) -> Result:
        message = "This deployment is selecting all pods. A non-empty selector is required."
        await self._ctx.events.warning(deployment, "SelectingAll", message=message)
        status = dict(deployment.get("status") or {})
        generation = _meta(deployment).get("generation") or 0
        if (status.get("observedGeneration") or 0) < generation:
            status["observedGeneration"] = generation
            await self._ctx.client.replace_status(DEPLOYMENTS, {**deployment, "status": status})
        return Result()

    async def _claim_replica_sets(
        self, deployment: Object, selector: LabelSelector
    ) -> list[Object]:
        meta = _meta(deployment)
        uid = str(meta.get("uid"))
        owned = [
            rs
            for rs in self._replica_sets.by_index(OWNER_UID_INDEX, uid)
            if (controller_ref(rs) or {}).get("uid") == uid
        ]
        orphans = self._replica_sets.by_index(ORPHANS_INDEX, str(meta.get("namespace") or ""))
        if not orphans and all(selector.matches(labels_of(rs)) for rs in owned):
            return owned
        claim = Claim(
            client=self._ctx.client,
            owner=deployment,
            owner_type=DEPLOYMENTS,
            dependent_type=REPLICASETS,
            selector=selector,
        )
        return await claim.claim(owned, orphans)


async def _check_paused_conditions(sync: DeploymentSync) -> None:
    """Mark a pause or resume on Progressing so the deadline does not count the pause."""
    if not has_progress_deadline(sync.deployment):
        return
    status = copy.deepcopy(sync.deployment.get("status") or {})
    condition = get_condition(status, PROGRESSING)
    if condition is not None and condition.get("reason") == TIMED_OUT:
        return
    paused = bool((sync.deployment.get("spec") or {}).get("paused"))
    marked = condition is not None and condition.get("reason") == PAUSED
    if paused and not marked:
        update = new_condition(PROGRESSING, "Unknown", PAUSED, "Deployment is paused", sync.now())
    elif not paused and marked:
        update = new_condition(PROGRESSING, "Unknown", RESUMED, "Deployment is resumed", sync.now())
    else:
        return
    set_condition(status, update)
    sync.set_status(status)  # written with the rest of this reconcile's status


def _deployment_controller(options: ControllerOptions) -> Controller:
    return DeploymentController(options)


CONTROLLERS = [_deployment_controller]
