"""The ReplicaSet and ReplicationController controllers: keep N Pods from a template.

One controller class serves both kinds (upstream runs the ReplicationController through the
ReplicaSet code too); they differ only in resource type and selector shape. A reconcile
(upstream ``syncReplicaSet``):

1. reads the owner and its Pods from the informer caches — the Pods it controls (by owner
   uid index) and the namespace's orphans (``ORPHANS_INDEX``), never a List call;
2. claims them: adopts matching orphans, releases owned Pods the selector no longer matches;
3. unless expectations are outstanding (``replicasets_expectations``) or the owner is being
   deleted, creates Pods from the template in slow-start batches (1, 2, 4, …, at most 500 at
   once) or deletes the surplus, least useful first (``replicasets_pods.pods_to_delete``),
   with an Event per Pod (SuccessfulCreate / FailedCreate / SuccessfulDelete / FailedDelete);
4. writes ``status``: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas
   (ready for ``minReadySeconds``), observedGeneration, and a ReplicaFailure condition while
   creating or deleting fails. Right after successful creates or deletes it does not (unlike
   upstream): the Pods' own watch events bring the owner back a moment later and the status
   is written then, which saves a write and a Deployment reconcile per change.

Handlers only enqueue owner keys (and count expectations off); a Pod that turns ready brings
its owner back after ``minReadySeconds`` so availability is recounted without polling.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atoll.controllers.results import Result
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.errors import ApiError, BadRequest, Conflict, NotFound
from atoll.kube.client import Object, ResourceType
from atoll.kube.informers import OWNER_UID_INDEX, Informer, by_owner_uid, key_of
from atoll.kube.selectors import LabelSelector, from_label_selector_object

from . import ControllerOptions
from .replicasets_claims import ORPHANS_INDEX, Claim, orphans_by_namespace
from .replicasets_expectations import Expectations
from .replicasets_pods import (
    PODS,
    controller_ref,
    format_time,
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    labels_of,
    owner_reference,
    pod_from_template,
    pods_to_delete,
)

__all__ = [
    "CONTROLLERS",
    "REPLICASETS",
    "REPLICATION_CONTROLLERS",
    "ReplicaKind",
    "ReplicaSetController",
    "calculate_status",
]

logger = logging.getLogger(__name__)

REPLICASETS = ResourceType("apps", "v1", "replicasets", "ReplicaSet", True)
REPLICATION_CONTROLLERS = ResourceType(
    "", "v1", "replicationcontrollers", "ReplicationController", True
)
BURST_REPLICAS = 500  # upstream's --concurrent burst: Pods created or deleted per reconcile
SLOW_START_INITIAL_BATCH = 1  # upstream SlowStartInitialBatchSize
REPLICA_FAILURE = "ReplicaFailure"


def _rs_selector(rs: Mapping[str, Any]) -> LabelSelector:
    return from_label_selector_object((rs.get("spec") or {}).get("selector"))


def _rc_selector(rc: Mapping[str, Any]) -> LabelSelector:
    selector = (rc.get("spec") or {}).get("selector")
    if not selector:
        return LabelSelector.nothing()
    return from_label_selector_object({"matchLabels": selector})


@dataclass(frozen=True, slots=True)
class ReplicaKind:
    """What differs between the kinds this controller serves."""

    controller_name: str
    rt: ResourceType
    selector: Callable[[Mapping[str, Any]], LabelSelector]


REPLICASET_KIND = ReplicaKind("replicaset", REPLICASETS, _rs_selector)
REPLICATION_CONTROLLER_KIND = ReplicaKind(
    "replicationcontroller", REPLICATION_CONTROLLERS, _rc_selector
)


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    return meta


def _replicas(owner: Mapping[str, Any]) -> int:
    value = (owner.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _min_ready_seconds(owner: Mapping[str, Any]) -> int:
    return int((owner.get("spec") or {}).get("minReadySeconds") or 0)


def _namespace_terminating(exc: ApiError) -> bool:
    """A create refused because the namespace is going away (kube marks it with a cause)."""
    if any(cause.reason == "NamespaceTerminating" for cause in exc.causes):
        return True
    return exc.code == 403 and "because it is being terminated" in exc.message


class ReplicaSetController:
    """Keeps the Pods of ReplicaSets (or ReplicationControllers) at their ``replicas``."""

    def __init__(self, kind: ReplicaKind, options: ControllerOptions) -> None:
        self._kind = kind
        self._options = options

    @property
    def name(self) -> str:
        return self._kind.controller_name

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._expectations = Expectations(ctx.clock)
        self._owners: Informer = ctx.informers.informer(self._kind.rt)
        self._pods: Informer = ctx.informers.informer(PODS)
        self._pods.add_indexer(OWNER_UID_INDEX, by_owner_uid)
        self._pods.add_indexer(ORPHANS_INDEX, orphans_by_namespace)
        self._owners.add_handler(self._owner_added, self._owner_updated, self._owner_deleted)
        self._pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    # -- handlers: only enqueue keys and count expectations off ---------------------------

    def _owner_added(self, owner: Object) -> None:
        self._ctx.queue.add(key_of(owner))

    def _owner_updated(self, old: Object, new: Object) -> None:
        if _meta(old).get("uid") != _meta(new).get("uid"):
            self._owner_deleted(old)
        self._ctx.queue.add(key_of(new))

    def _owner_deleted(self, owner: Object) -> None:
        key = key_of(owner)
        self._expectations.forget(key)
        self._ctx.queue.add(key)

    def _pod_added(self, pod: Object) -> None:
        if _meta(pod).get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        owner = self._resolve(pod, controller_ref(pod))
        if owner is not None:
            key = key_of(owner)
            self._expectations.creation_observed(key)
            self._ctx.queue.add(key)
        elif controller_ref(pod) is None:
            self._enqueue_selecting(pod)

    def _pod_updated(self, old: Object, new: Object) -> None:
        if _meta(old).get("resourceVersion") == _meta(new).get("resourceVersion"):
            return
        labels_changed = labels_of(old) != labels_of(new)
        if _meta(new).get("deletionTimestamp"):
            self._pod_deleted(new)
            if labels_changed:
                self._pod_deleted(old)
            return
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref != new_ref and old_ref is not None:
            previous = self._resolve(old, old_ref)
            if previous is not None:
                self._ctx.queue.add(key_of(previous))
        if new_ref is not None:
            owner = self._resolve(new, new_ref)
            if owner is not None:
                self._ctx.queue.add(key_of(owner))
                min_ready = _min_ready_seconds(owner)
                if min_ready > 0 and not is_pod_ready(old) and is_pod_ready(new):
                    self._ctx.queue.add_after(key_of(owner), min_ready + 1)
        elif labels_changed or old_ref != new_ref:
            self._enqueue_selecting(new)

    def _pod_deleted(self, pod: Object) -> None:
        owner = self._resolve(pod, controller_ref(pod))
        if owner is None:
            return
        key = key_of(owner)
        self._expectations.deletion_observed(key, key_of(pod))
        self._ctx.queue.add(key)

    def _resolve(self, pod: Object, ref: dict[str, Any] | None) -> Object | None:
        """The cached owner a controller reference names, if it is still that object."""
        if ref is None or ref.get("kind") != self._kind.rt.kind:
            return None
        owner = self._owners.get(f"{_meta(pod).get('namespace')}/{ref.get('name')}")
        if owner is None or _meta(owner).get("uid") != ref.get("uid"):
            return None
        return owner

    def _enqueue_selecting(self, pod: Object) -> None:
        """Queue every owner whose selector matches an orphan (it may adopt it)."""
        labels = labels_of(pod)
        if not labels:
            return
        for owner in self._owners.list(_meta(pod).get("namespace") or ""):
            try:
                if self._kind.selector(owner).matches(labels):
                    self._ctx.queue.add(key_of(owner))
            except BadRequest:
                continue

    # -- reconcile --------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result:
        owner = self._owners.get(key)
        if owner is None:
            self._expectations.forget(key)
            return Result()
        needs_sync = self._expectations.satisfied(key)
        try:
            selector = self._kind.selector(owner)
        except BadRequest as exc:
            logger.warning("%s %s: invalid selector: %s", self.name, key, exc)
            return Result()
        pods = await self._claim_pods(owner, selector)
        failure: ApiError | None = None
        acted = False
        if needs_sync and not _meta(owner).get("deletionTimestamp"):
            acted = len(pods) != _replicas(owner)
            failure = await self._manage_replicas(key, owner, pods)
        status = calculate_status(owner, pods, failure, now=self._ctx.clock.now())
        if failure is not None or not acted:
            # After creates or deletes, the Pods' watch events bring the owner back at once
            # and the status is written then: one write per change instead of two.
            try:
                await self._update_status(owner, status)
            except Conflict:
                return Result(requeue=True)  # written twice meanwhile (a busy rollout): later
        if failure is not None:
            return Result(requeue=True)  # back off; the Events and condition say why
        min_ready = _min_ready_seconds(owner)
        replicas = _replicas(owner)
        ready, available = status.get("readyReplicas", 0), status.get("availableReplicas", 0)
        if min_ready > 0 and ready == replicas and available != replicas:
            return Result(requeue_after=float(min_ready))
        return Result()

    async def _claim_pods(self, owner: Object, selector: LabelSelector) -> list[Object]:
        meta = _meta(owner)
        uid = meta.get("uid")
        owned = [
            pod
            for pod in self._pods.by_index(OWNER_UID_INDEX, str(uid))
            if is_pod_active(pod) and (controller_ref(pod) or {}).get("uid") == uid
        ]
        orphans = [
            pod
            for pod in self._pods.by_index(ORPHANS_INDEX, str(meta.get("namespace") or ""))
            if is_pod_active(pod)
        ]
        if not orphans and all(selector.matches(labels_of(pod)) for pod in owned):
            return owned  # the usual case: nothing to adopt or release
        claim = Claim(
            client=self._ctx.client,
            owner=owner,
            owner_type=self._kind.rt,
            dependent_type=PODS,
            selector=selector,
        )
        return await claim.claim(owned, orphans)

    async def _manage_replicas(
        self, key: str, owner: Object, pods: list[Object]
    ) -> ApiError | None:
        diff = len(pods) - _replicas(owner)
        if diff < 0:
            return await self._create_pods(key, owner, min(-diff, BURST_REPLICAS))
        if diff > 0:
            return await self._delete_pods(key, owner, pods, min(diff, BURST_REPLICAS))
        return None

    async def _create_pods(self, key: str, owner: Object, count: int) -> ApiError | None:
        self._expectations.expect_creations(key, count)
        created, failure = await _slow_start(count, lambda: self._create_pod(owner))
        for _ in range(count - created):
            self._expectations.creation_observed(key)  # they will never be seen
        return failure

    async def _create_pod(self, owner: Object) -> None:
        meta = _meta(owner)
        template = (owner.get("spec") or {}).get("template") or {}
        ref = owner_reference(owner, kind=self._kind.rt.kind, api_version=self._kind.rt.api_version)
        pod = pod_from_template(template, owner_name=str(meta.get("name")), owner_ref=ref)
        try:
            created = await self._ctx.client.create(PODS, pod, namespace=meta.get("namespace"))
        except ApiError as exc:
            if _namespace_terminating(exc):
                return  # everything in it is going away; nothing to report
            message = f"Error creating: {exc.message}"
            await self._ctx.events.warning(owner, "FailedCreate", message=message)
            raise
        name = _meta(created).get("name")
        await self._ctx.events.normal(owner, "SuccessfulCreate", message=f"Created pod: {name}")

    async def _delete_pods(
        self, key: str, owner: Object, pods: list[Object], count: int
    ) -> ApiError | None:
        victims = pods_to_delete(pods, count)
        self._expectations.expect_deletions(key, [key_of(pod) for pod in victims])
        results = await asyncio.gather(
            *(self._delete_pod(key, owner, pod) for pod in victims), return_exceptions=True
        )
        for result in results:
            if isinstance(result, ApiError):
                return result
            if isinstance(result, BaseException):
                raise result
        return None

    async def _delete_pod(self, key: str, owner: Object, pod: Object) -> None:
        name = str(_meta(pod).get("name"))
        try:
            await self._ctx.client.delete(PODS, name, namespace=_meta(pod).get("namespace"))
        except NotFound:
            self._expectations.deletion_observed(key, key_of(pod))
            return
        except ApiError as exc:
            self._expectations.deletion_observed(key, key_of(pod))
            message = f"Error deleting: {exc.message}"
            await self._ctx.events.warning(owner, "FailedDelete", message=message)
            raise
        await self._ctx.events.normal(owner, "SuccessfulDelete", message=f"Deleted pod: {name}")

    async def _update_status(self, owner: Object, status: dict[str, Any]) -> None:
        """Write ``status`` unless it is already there; once more on a fresh copy on Conflict."""
        status = {**status, "observedGeneration": _meta(owner).get("generation", 0)}
        if (owner.get("status") or {}) == status:
            return
        try:
            try:
                await self._ctx.client.replace_status(self._kind.rt, {**owner, "status": status})
            except Conflict:
                meta = _meta(owner)
                fresh = await self._ctx.client.get(
                    self._kind.rt, str(meta.get("name")), namespace=meta.get("namespace")
                )
                await self._ctx.client.replace_status(self._kind.rt, {**fresh, "status": status})
        except NotFound:
            pass  # deleted meanwhile; its delete event ends the story


async def _slow_start(
    count: int, create: Callable[[], Awaitable[None]]
) -> tuple[int, ApiError | None]:
    """Create in batches of 1, 2, 4, … until one fails (upstream ``slowStartBatch``).

    A quota or admission error then costs one request, not hundreds. Returns how many were
    created and the first failure, if any.
    """
    created, remaining = 0, count
    batch = min(remaining, SLOW_START_INITIAL_BATCH)
    while batch > 0:
        results = await asyncio.gather(*(create() for _ in range(batch)), return_exceptions=True)
        failures: list[ApiError] = []
        for result in results:
            if isinstance(result, ApiError):
                failures.append(result)
            elif isinstance(result, BaseException):
                raise result
        created += batch - len(failures)
        if failures:
            return created, failures[0]
        remaining -= batch
        batch = min(2 * batch, remaining)
    return created, None


def calculate_status(
    owner: Mapping[str, Any], pods: list[Object], failure: ApiError | None, *, now: datetime
) -> dict[str, Any]:
    """The owner's new status from its active Pods (upstream ``calculateStatus``).

    Zero counts are left out, as Go's ``omitempty`` leaves them out; ``replicas`` is always
    written. ``observedGeneration`` is added by whoever writes it.
    """
    template_labels = ((owner.get("spec") or {}).get("template") or {}).get("metadata") or {}
    wanted = template_labels.get("labels") or {}
    min_ready = _min_ready_seconds(owner)
    fully_labeled = sum(
        1 for pod in pods if all(labels_of(pod).get(k) == v for k, v in wanted.items())
    )
    ready = [pod for pod in pods if is_pod_ready(pod)]
    available = sum(1 for pod in ready if is_pod_available(pod, min_ready, now))
    status: dict[str, Any] = {"replicas": len(pods)}
    for field, value in (
        ("fullyLabeledReplicas", fully_labeled),
        ("readyReplicas", len(ready)),
        ("availableReplicas", available),
    ):
        if value:
            status[field] = value
    conditions = _failure_conditions(owner, pods, failure, now)
    if conditions:
        status["conditions"] = conditions
    return status


def _failure_conditions(
    owner: Mapping[str, Any], pods: list[Object], failure: ApiError | None, now: datetime
) -> list[dict[str, Any]]:
    """The old conditions with ReplicaFailure set while managing fails, removed once it works."""
    conditions: list[dict[str, Any]] = list((owner.get("status") or {}).get("conditions") or [])
    existing = next((c for c in conditions if c.get("type") == REPLICA_FAILURE), None)
    if failure is not None and existing is None:
        diff = len(pods) - _replicas(owner)
        reason = "FailedCreate" if diff < 0 else "FailedDelete" if diff > 0 else ""
        conditions.append(
            {
                "type": REPLICA_FAILURE,
                "status": "True",
                "lastTransitionTime": format_time(now),
                "reason": reason,
                "message": failure.message,
            }
        )
    elif failure is None and existing is not None:
        conditions = [c for c in conditions if c.get("type") != REPLICA_FAILURE]
    return conditions


def _replicaset_controller(options: ControllerOptions) -> Controller:
    return ReplicaSetController(REPLICASET_KIND, options)


def _replication_controller(options: ControllerOptions) -> Controller:
    return ReplicaSetController(REPLICATION_CONTROLLER_KIND, options)


CONTROLLERS = [_replicaset_controller, _replication_controller]
