"""The DaemonSet controller: one pod on every eligible node, rolled by ControllerRevision.

One pass (kube 1.20's ``syncDaemonSet``) for one DaemonSet:

1. adopt orphan pods and revisions its selector matches; find the revision of the live
   template (``revisions.RevisionHistory``) — its hash labels the pods made now;
2. unless pods it created or deleted are still missing from the cache (expectations, as
   kube's: pods have generated names, so a stale cache would otherwise make a second pod),
   ``manage``: for each Node (read through an informer) decide with
   ``daemon_placement.should_run``; create a pod pinned by node affinity where one is missing,
   delete pods where none may run, failed pods (with a per-node back-off and a
   ``FailedDaemonPod`` Warning) and all but the oldest of duplicates;
3. ``RollingUpdate`` (when ``manage`` had nothing to do): delete old pods that are not
   available, then available old pods while fewer than ``maxUnavailable`` are unavailable;
   the next pass creates their replacements (``maxSurge`` is 0). ``OnDelete``: nothing;
4. delete revisions beyond ``revisionHistoryLimit`` that no pod uses, and write the status
   ``kubectl rollout status ds`` reads (``desiredNumberScheduled``, ``updatedNumberScheduled``,
   ``numberAvailable``, ``observedGeneration`` …), looking again after ``minReadySeconds``.

A DaemonSet being deleted is left alone, as kube does: the garbage collector removes its pods.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from atoll.controllers.clocks import Clock
from atoll.controllers.results import Result
from atoll.controllers.runtime import ControllerContext
from atoll.errors import ApiError, Conflict, NotFound
from atoll.kube.client import Object, ResourceType
from atoll.kube.informers import OWNER_UID_INDEX, Informer, by_owner_uid, key_of

from . import ControllerFactory, ControllerOptions
from .daemon_placement import (
    TEMPLATE_GENERATION_ANNOTATION,
    TEMPLATE_GENERATION_LABEL,
    daemon_template,
    pin_to_node,
    should_run,
    target_node,
)
from .revisions import CONTROLLER_REVISIONS, REVISION_HASH_LABEL, RevisionHistory
from .workload_pods import (
    ORPHANS_INDEX,
    PODS,
    adopt,
    available_in,
    controller_of,
    is_controlled_by,
    is_ready,
    is_terminating,
    orphans,
    orphans_by_namespace,
    pod_from_template,
    selector_of,
)

__all__ = ["CONTROLLERS", "DAEMON_SETS", "NODES", "DaemonSetController"]

logger = logging.getLogger(__name__)

DAEMON_SETS = ResourceType("apps", "v1", "daemonsets", "DaemonSet", True)
NODES = ResourceType("", "v1", "nodes", "Node", False)
_KIND = "DaemonSet"
_EXPECTATIONS_TTL = 300.0  # kube's ExpectationsTimeout: never wait longer for a stale cache
_FAILED_BACKOFF = (1.0, 900.0)  # kube's failedPodsBackoff: 1 s doubling to 15 min

PodsByNode = dict[str, list[Object]]


@dataclass(slots=True)
class _Pending:
    deadline: float
    created: set[str] = field(default_factory=set)  # pod keys
    deleted: dict[str, str] = field(default_factory=dict)  # pod key -> uid


class _Expectations:
    """Pods a DaemonSet created or deleted that the pod cache has not shown yet."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._pending: dict[str, _Pending] = {}

    def expect(self, key: str, *, created: Iterable[str] = (), deleted: dict[str, str]) -> None:
        pending = self._pending.setdefault(key, _Pending(0.0))
        pending.deadline = self._clock.monotonic() + _EXPECTATIONS_TTL
        pending.created.update(created)
        pending.deleted.update(deleted)

    def satisfied(self, key: str, pods: Informer) -> bool:
        pending = self._pending.get(key)
        if pending is None:
            return True
        pending.created = {k for k in pending.created if pods.get(k) is None}
        pending.deleted = {
            k: uid for k, uid in pending.deleted.items() if _still_running(pods.get(k), uid)
        }
        if (pending.created or pending.deleted) and self._clock.monotonic() < pending.deadline:
            return False
        del self._pending[key]
        return True

    def forget(self, key: str) -> None:
        self._pending.pop(key, None)


def _still_running(pod: Object | None, uid: str) -> bool:
    return pod is not None and pod["metadata"].get("uid") == uid and not is_terminating(pod)


class _FailedPodsBackoff:
    """Per (DaemonSet, node): how long to leave a failed pod before deleting it again."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[tuple[str, str], tuple[float, float]] = {}  # -> (last, delay)

    def wait(self, key: tuple[str, str]) -> float:
        """Seconds left in the back-off of ``key``; 0 when a new attempt may start now."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        last, delay = entry
        return max(last + delay - self._clock.monotonic(), 0.0)

    def next(self, key: tuple[str, str]) -> None:
        _, delay = self._entries.get(key, (0.0, _FAILED_BACKOFF[0] / 2))
        self._entries[key] = (self._clock.monotonic(), min(delay * 2, _FAILED_BACKOFF[1]))


@dataclass(slots=True)
class _Plan:
    """What ``manage`` decided for one DaemonSet."""

    create_on: list[str] = field(default_factory=list)  # node names
    delete: list[Object] = field(default_factory=list)
    retry_after: float | None = None

    def retry(self, delay: float) -> None:
        self.retry_after = delay if self.retry_after is None else min(self.retry_after, delay)


class DaemonSetController:
    """See the module docstring."""

    def __init__(self, options: ControllerOptions) -> None:
        self.options = options

    @property
    def name(self) -> str:
        return "daemonset"

    async def setup(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.expectations = _Expectations(ctx.clock)
        self.backoff = _FailedPodsBackoff(ctx.clock)
        self.sets = ctx.informers.informer(DAEMON_SETS)
        self.pods = ctx.informers.informer(PODS)
        self.pods.add_indexer(OWNER_UID_INDEX, by_owner_uid)
        self.pods.add_indexer(ORPHANS_INDEX, orphans_by_namespace)
        self.nodes = ctx.informers.informer(NODES)
        self.history = RevisionHistory(ctx.client, ctx.informers.informer(CONTROLLER_REVISIONS))
        self.sets.add_handler(ctx.enqueue, lambda _old, new: ctx.enqueue(new), ctx.enqueue)
        for informer in (self.pods, self.history.informer):
            informer.add_handler(self._on_child, self._on_child_update, self._on_child)
        self.nodes.add_handler(self._on_node, self._on_node_update, self._on_node)

    # -- handlers: only enqueue keys -------------------------------------------------------

    def _on_child(self, obj: Object) -> None:
        if controller_of(obj) is not None:
            self.ctx.enqueue_owner(obj, kind=_KIND, api_version="apps/v1")
            return
        labels = (obj.get("metadata") or {}).get("labels") or {}
        for ds in self.sets.list((obj.get("metadata") or {}).get("namespace") or ""):
            if selector_of(ds).matches(labels):
                self.ctx.enqueue(ds)  # a DaemonSet that may adopt this orphan

    def _on_child_update(self, old: Object, new: Object) -> None:
        if controller_of(old) != controller_of(new):
            self._on_child(old)
        self._on_child(new)

    def _on_node(self, _node: Object) -> None:
        for ds in self.sets.list():
            self.ctx.enqueue(ds)

    def _on_node_update(self, old: Object, new: Object) -> None:
        if _placement_facts(old) != _placement_facts(new):
            self._on_node(new)

    # -- reconcile -------------------------------------------------------------------------

    async def reconcile(self, key: str) -> Result:
        ds = self.sets.get(key)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            self.expectations.forget(key)
            return Result()  # the garbage collector removes the pods of a deleted DaemonSet
        await self._adopt_orphans(ds)
        owned = self.history.owned(ds)
        collisions = int((ds.get("status") or {}).get("collisionCount") or 0)
        current, collisions = await self.history.update_revision(ds, owned, collisions)
        hash_ = str(current["metadata"]["labels"][REVISION_HASH_LABEL])
        nodes = self.nodes.list()
        retry_after = None
        if self.expectations.satisfied(key, self.pods):
            retry_after = await self._sync(ds, nodes, hash_)
        pods = self._pods_by_node(ds)
        live_hashes = {_hash_of(p) for node_pods in pods.values() for p in node_pods}
        live = {r["metadata"]["name"] for r in owned if _hash_of(r) in live_hashes}
        limit = int((ds.get("spec") or {}).get("revisionHistoryLimit", 10))
        await self.history.truncate(owned, live=live | {current["metadata"]["name"]}, limit=limit)
        available_after = await self._write_status(ds, nodes, pods, hash_, collisions)
        delays = [d for d in (retry_after, available_after) if d is not None]
        return Result(requeue_after=min(delays)) if delays else Result()

    async def _sync(self, ds: Object, nodes: list[Object], hash_: str) -> float | None:
        """``manage``, then (when it changed nothing) the rolling update; a retry delay."""
        plan = await self._plan(ds, nodes, self._pods_by_node(ds))
        if plan.create_on or plan.delete:
            await self._apply(ds, plan, hash_)
        elif (ds.get("spec") or {}).get("updateStrategy", {}).get("type") == "RollingUpdate":
            to_delete = self._outdated_to_delete(ds, nodes, self._pods_by_node(ds), hash_)
            await self._apply(ds, _Plan(delete=to_delete), hash_)
        return plan.retry_after

    def _pods_by_node(self, ds: Object) -> PodsByNode:
        """The DaemonSet's pods, by the node each is for (kube's ``getNodesToDaemonPods``)."""
        found: PodsByNode = defaultdict(list)
        for pod in self.pods.by_index(OWNER_UID_INDEX, ds["metadata"]["uid"]):
            node = target_node(pod)
            if node is not None and is_controlled_by(pod, ds):
                found[node].append(pod)
        return found

    async def _adopt_orphans(self, ds: Object) -> None:
        namespace = ds["metadata"]["namespace"]
        for pod in orphans(self.pods.by_index(ORPHANS_INDEX, namespace), selector_of(ds)):
            await adopt(self.ctx.client, PODS, pod, ds)
        await self.history.adopt_orphans(ds)

    # -- manage: create where missing, delete where not wanted ----------------------------

    async def _plan(self, ds: Object, nodes: list[Object], pods: PodsByNode) -> _Plan:
        plan = _Plan()
        spec = daemon_template(ds, "")["spec"]
        for node in nodes:
            name = node["metadata"]["name"]
            run, keep = should_run(node, spec)
            on_node = pods.get(name, [])
            if run and not on_node:
                plan.create_on.append(name)
            elif keep:
                await self._keep_one(ds, name, on_node, plan)
            elif on_node:
                plan.delete += [p for p in on_node if not is_terminating(p)]
        known = {node["metadata"]["name"] for node in nodes}
        for name, on_node in pods.items():  # pinned to nodes that no longer exist
            if name not in known:
                plan.delete += [p for p in on_node if not p["spec"].get("nodeName")]
        return plan

    async def _keep_one(self, ds: Object, node: str, on_node: list[Object], plan: _Plan) -> None:
        """Delete failed pods (with back-off) and all but the oldest of the rest."""
        running = []
        for pod in on_node:
            if is_terminating(pod):
                continue
            if (pod.get("status") or {}).get("phase") != "Failed":
                running.append(pod)
                continue
            backoff_key = (key_of(ds), node)
            wait = self.backoff.wait(backoff_key)
            if wait > 0:
                plan.retry(wait)
                continue
            self.backoff.next(backoff_key)
            message = f"Found failed daemon pod {key_of(pod)} on node {node}, will try to kill it"
            await self.ctx.events.warning(ds, "FailedDaemonPod", message=message)
            plan.delete.append(pod)
        running.sort(key=_age_order)
        plan.delete += running[1:]

    async def _apply(self, ds: Object, plan: _Plan, hash_: str) -> None:
        key = key_of(ds)
        deleted = {key_of(p): p["metadata"]["uid"] for p in plan.delete}
        self.expectations.expect(key, deleted=deleted)
        template = daemon_template(ds, hash_)
        for node in plan.create_on:
            pod = pod_from_template(template, ds)
            pin_to_node(pod["spec"], node)
            pod["metadata"]["namespace"] = ds["metadata"]["namespace"]
            try:
                created = await self.ctx.client.create(PODS, pod)
            except ApiError as exc:
                await self.ctx.events.warning(ds, "FailedCreate", message=f"Error creating: {exc}")
                raise
            self.expectations.expect(key, created=[key_of(created)], deleted={})
            name = created["metadata"]["name"]
            await self.ctx.events.normal(ds, "SuccessfulCreate", message=f"Created pod: {name}")
        for pod in plan.delete:
            await self._delete(ds, pod)

    async def _delete(self, ds: Object, pod: Object) -> None:
        meta = pod["metadata"]
        try:
            await self.ctx.client.delete(
                PODS, meta["name"], namespace=meta["namespace"], preconditions={"uid": meta["uid"]}
            )
        except (NotFound, Conflict):
            return
        except ApiError as exc:
            await self.ctx.events.warning(ds, "FailedDelete", message=f"Error deleting: {exc}")
            raise
        await self.ctx.events.normal(ds, "SuccessfulDelete", message=f"Deleted pod: {meta['name']}")

    # -- rolling update --------------------------------------------------------------------

    def _outdated_to_delete(
        self, ds: Object, nodes: list[Object], pods: PodsByNode, hash_: str
    ) -> list[Object]:
        """Old pods to delete now: unavailable ones, then available ones within the budget."""
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        now = self.ctx.clock.now()
        max_unavailable, unavailable = _unavailable_numbers(ds, nodes, pods, min_ready, now)
        old = [p for on_node in pods.values() for p in on_node if not _is_updated(ds, p, hash_)]
        old_available = [p for p in old if available_in(p, min_ready, now) == 0]
        to_delete = [p for p in old if p not in old_available and not is_terminating(p)]
        for pod in old_available:
            if unavailable >= max_unavailable:
                break
            to_delete.append(pod)
            unavailable += 1
        return to_delete

    # -- status ----------------------------------------------------------------------------

    async def _write_status(
        self, ds: Object, nodes: list[Object], pods: PodsByNode, hash_: str, collisions: int
    ) -> float | None:
        """Write the status if it changed; seconds until a ready pod becomes available."""
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        counts, available_after = _count(ds, nodes, pods, hash_, min_ready, self.ctx.clock)
        counts["numberUnavailable"] = counts["desiredNumberScheduled"] - counts["numberAvailable"]
        counts["observedGeneration"] = ds["metadata"].get("generation", 0)
        counts["collisionCount"] = collisions
        always = ("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled")
        current = ds.get("status") or {}
        status = {k: v for k, v in current.items() if k == "conditions"}
        status.update({k: v for k, v in counts.items() if v or k in (*always, "numberReady")})
        if status != current:
            with contextlib.suppress(NotFound, Conflict):  # a newer version enqueues the key
                await self.ctx.client.replace_status(DAEMON_SETS, {**ds, "status": status})
        return available_after


# -- pure helpers ----------------------------------------------------------------------------


def _placement_facts(node: Object) -> tuple[Any, ...]:
    meta, spec = node.get("metadata") or {}, node.get("spec") or {}
    return (meta.get("labels"), spec.get("taints"), spec.get("unschedulable"))


def _hash_of(obj: Object) -> str:
    return str(((obj.get("metadata") or {}).get("labels") or {}).get(REVISION_HASH_LABEL, ""))


def _age_order(pod: Object) -> tuple[str, int, str]:
    """Oldest first; at the same age a running pod before a pending one."""
    meta = pod.get("metadata") or {}
    phase = (pod.get("status") or {}).get("phase")
    return (str(meta.get("creationTimestamp") or ""), 0 if phase == "Running" else 1, meta["name"])


def _is_updated(ds: Object, pod: Object, hash_: str) -> bool:
    """``IsPodUpdated``: the pod carries the current hash (or template generation)."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    annotations = (ds.get("metadata") or {}).get("annotations") or {}
    generation = annotations.get(TEMPLATE_GENERATION_ANNOTATION)
    if generation and labels.get(TEMPLATE_GENERATION_LABEL) == str(generation):
        return True
    return bool(hash_) and labels.get(REVISION_HASH_LABEL) == hash_


def _max_unavailable(ds: Object, desired: int) -> int:
    rolling = ((ds.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
    value = rolling.get("maxUnavailable", 1)
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * desired / 100)
    return int(value)


def _wanted_nodes(ds: Object, nodes: list[Object]) -> list[str]:
    spec = daemon_template(ds, "")["spec"]
    return [n["metadata"]["name"] for n in nodes if should_run(n, spec)[0]]


def _unavailable_numbers(
    ds: Object, nodes: list[Object], pods: PodsByNode, min_ready: int, now: Any
) -> tuple[int, int]:
    """(maxUnavailable, how many wanted nodes lack an available, non-terminating pod)."""
    wanted = _wanted_nodes(ds, nodes)
    unavailable = 0
    for name in wanted:
        on_node = pods.get(name, [])
        if not any(available_in(p, min_ready, now) == 0 and not is_terminating(p) for p in on_node):
            unavailable += 1
    return _max_unavailable(ds, len(wanted)), unavailable


def _count(
    ds: Object, nodes: list[Object], pods: PodsByNode, hash_: str, min_ready: int, clock: Clock
) -> tuple[dict[str, int], float | None]:
    """The status counters (kube's ``updateDaemonSetStatus``) and the next availability."""
    spec = daemon_template(ds, "")["spec"]
    now = clock.now()
    counts = dict.fromkeys(
        ("desiredNumberScheduled", "currentNumberScheduled", "numberMisscheduled"), 0
    )
    counts |= dict.fromkeys(("numberReady", "numberAvailable", "updatedNumberScheduled"), 0)
    soonest: float | None = None
    for node in nodes:
        on_node = sorted(pods.get(node["metadata"]["name"], []), key=_age_order)
        if not should_run(node, spec)[0]:
            counts["numberMisscheduled"] += 1 if on_node else 0
            continue
        counts["desiredNumberScheduled"] += 1
        if not on_node:
            continue
        counts["currentNumberScheduled"] += 1
        pod = on_node[0]
        counts["numberReady"] += 1 if is_ready(pod) else 0
        wait = available_in(pod, min_ready, now)
        counts["numberAvailable"] += 1 if wait == 0 else 0
        if wait:
            soonest = wait if soonest is None else min(soonest, wait)
        counts["updatedNumberScheduled"] += 1 if _is_updated(ds, pod, hash_) else 0
    return counts, soonest


def _factory(options: ControllerOptions) -> DaemonSetController:
    return DaemonSetController(options)


CONTROLLERS: list[ControllerFactory] = [_factory]
