"""The scheduler: binds Pending pods to a node they fit, or says why none fits.

Pods asking for ``default-scheduler`` (or no scheduler) that have no ``spec.nodeName`` are
its keys. A reconcile runs the filters of ``scheduling_predicates`` against every node in the
cache, picks the least allocated node that passes and POSTs ``pods/<name>/binding``; when no
node passes, the pod gets ``PodScheduled=False`` (reason ``Unschedulable``) and a
``FailedScheduling`` Warning with kube's ``0/N nodes are available: …`` message, both written
only when they say something new (the Event recorder counts repeats).

Resources in use per node are kept by ``NodeLedger``, an index over the pod informer's cache
that the pod handlers update as pods come, bind, finish and go — so a decision costs one
pass over the nodes, not over every pod. A pod is *assumed* on its node before the binding
is sent, as kube-scheduler assumes it, so two workers never hand out the same room.

Nothing is retried on a timer: a pod that fits nowhere is looked at again when something
that could change the answer happens — a node appears or changes its labels, taints,
schedulability, allocatable or readiness (heartbeats do not count), or a bound pod finishes
or is deleted. With ``ControllerOptions.scheduler`` off the controller does nothing at all.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from atoll.controllers.clocks import Clock
from atoll.controllers.results import Result
from atoll.controllers.runtime import ControllerContext
from atoll.errors import Conflict, NotFound
from atoll.kube.client import Object, ResourceType
from atoll.kube.events import EventRecorder
from atoll.kube.informers import Informer, key_of, split_key

from . import ControllerFactory, ControllerOptions
from .scheduling_predicates import (
    NodeFacts,
    PodFacts,
    Resources,
    Usage,
    add_resources,
    failure_reasons,
    node_facts,
    pod_facts,
    pod_requests,
    rank,
    unschedulable_message,
)

__all__ = ["CONTROLLERS", "PODS", "SCHEDULER_NAME", "NodeLedger", "Scheduler"]

logger = logging.getLogger(__name__)

PODS = ResourceType("", "v1", "pods", "Pod", True)
NODES = ResourceType("", "v1", "nodes", "Node", False)
SCHEDULER_NAME = "default-scheduler"
_UNBOUND_INDEX = "atoll-scheduler-unbound"
_TERMINAL = ("Succeeded", "Failed")


def _unbound(pod: Object) -> list[str]:
    """Index of the pods no node has yet: the only ones a node change can help."""
    return [] if (pod.get("spec") or {}).get("nodeName") else ["unbound"]


def _wants_scheduling(pod: Object | None) -> bool:
    if pod is None:
        return False
    spec, meta = pod.get("spec") or {}, pod.get("metadata") or {}
    return (
        not spec.get("nodeName")
        and not meta.get("deletionTimestamp")
        and (spec.get("schedulerName") or SCHEDULER_NAME) == SCHEDULER_NAME
        and (pod.get("status") or {}).get("phase") not in _TERMINAL
    )


def _occupies(pod: Object) -> str | None:
    """The node whose resources the pod holds: bound and not finished."""
    node = (pod.get("spec") or {}).get("nodeName")
    if not node or (pod.get("status") or {}).get("phase") in _TERMINAL:
        return None
    return str(node)


@dataclass(frozen=True, slots=True)
class _Entry:
    uid: str
    node: str
    requests: Resources
    assumed: bool  # bound by us; the informer has not shown the binding yet


class NodeLedger:
    """Requests and pod counts per node, updated pod by pod (see the module docstring)."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._usage: dict[str, Usage] = {}

    def usage(self, node: str) -> Usage:
        return self._usage.get(node) or Usage()

    def observe(self, pod: Object) -> bool:
        """Account for the pod as the cache now shows it; True if it freed room on a node."""
        key, uid = key_of(pod), str((pod.get("metadata") or {}).get("uid", ""))
        node, old = _occupies(pod), self._entries.get(key)
        if node is None:
            if old is not None and old.assumed and old.uid == uid:
                return False  # bound by us a moment ago; the cache has not caught up
            return self.forget(key)
        if old is not None and (old.uid, old.node, old.assumed) == (uid, node, False):
            return False  # unchanged: requests of a pod never change once it exists
        self.forget(key)
        self._add(key, _Entry(uid, node, pod_requests(pod), assumed=False))
        return False

    def assume(self, key: str, uid: str, node: str, requests: Resources) -> None:
        self.forget(key)
        self._add(key, _Entry(uid, node, requests, assumed=True))

    def is_assumed(self, key: str, uid: str) -> bool:
        entry = self._entries.get(key)
        return entry is not None and entry.assumed and entry.uid == uid

    def forget(self, key: str) -> bool:
        """Drop the pod; True if it held room on a node."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return False
        usage = self._usage[entry.node]
        add_resources(usage.requested, entry.requests, sign=-1)
        usage.pods -= 1
        if usage.pods == 0:
            del self._usage[entry.node]
        return True

    def _add(self, key: str, entry: _Entry) -> None:
        self._entries[key] = entry
        usage = self._usage.setdefault(entry.node, Usage())
        add_resources(usage.requested, entry.requests)
        usage.pods += 1


def _scheduling_signature(node: Object) -> tuple[Any, ...]:
    """What of a node can change a scheduling decision: not its heartbeats."""
    facts = node_facts(node)
    return facts.labels, facts.taints, facts.unschedulable, facts.allocatable


def _pod_scheduled(pod: Object) -> Mapping[str, Any] | None:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if isinstance(condition, Mapping) and condition.get("type") == "PodScheduled":
            return condition
    return None


def _stamp(clock: Clock) -> str:
    return clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


class Scheduler:
    """Binds pods to nodes; see the module docstring."""

    name = "scheduler"

    def __init__(self, options: ControllerOptions) -> None:
        self.enabled = options.scheduler
        self.clock: Clock = options.clock
        self.ledger = NodeLedger()
        self._facts: dict[str, tuple[str, NodeFacts]] = {}  # node → (resourceVersion, facts)
        self._ctx: ControllerContext | None = None
        self._pods: Informer | None = None
        self._nodes: Informer | None = None
        self._events: EventRecorder | None = None

    async def setup(self, ctx: ControllerContext) -> None:
        if not self.enabled:
            return
        self._ctx = ctx
        self._events = EventRecorder(ctx.client, SCHEDULER_NAME, clock=self._wall_ns)
        self._pods = ctx.informers.informer(PODS)
        self._pods.add_indexer(_UNBOUND_INDEX, _unbound)
        self._pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)
        self._nodes = ctx.informers.informer(NODES)
        self._nodes.add_handler(
            on_add=lambda _node: self._retry_pending(),
            on_update=self._node_updated,
            on_delete=self._node_deleted,
        )

    def _wall_ns(self) -> int:
        now = self.clock.now()
        return int(now.timestamp()) * 10**9 + now.microsecond * 1000

    # -- handlers: keep the ledger, enqueue keys ---------------------------------------

    def _pod_added(self, pod: Object) -> None:
        self.ledger.observe(pod)
        if _wants_scheduling(pod) and self._ctx is not None:
            self._ctx.enqueue(pod)

    def _pod_updated(self, old: Object, new: Object) -> None:
        if self.ledger.observe(new):
            self._retry_pending()
        # Our own PodScheduled condition must not wake the pod again: only a new spec can.
        changed = old.get("spec") != new.get("spec") or not _wants_scheduling(old)
        if _wants_scheduling(new) and changed and self._ctx is not None:
            self._ctx.enqueue(new)

    def _pod_deleted(self, pod: Object) -> None:
        if self.ledger.forget(key_of(pod)):
            self._retry_pending()

    def _node_updated(self, old: Object, new: Object) -> None:
        if _scheduling_signature(old) != _scheduling_signature(new):
            self._retry_pending()

    def _node_deleted(self, node: Object) -> None:
        self._facts.pop(key_of(node), None)

    def _retry_pending(self) -> None:
        if self._pods is None or self._ctx is None:
            return
        for pod in self._pods.by_index(_UNBOUND_INDEX, "unbound"):
            if _wants_scheduling(pod):
                self._ctx.enqueue(pod)

    # -- reconcile ---------------------------------------------------------------------

    def _node_facts(self, node: Object) -> NodeFacts:
        meta = node.get("metadata") or {}
        name, version = str(meta.get("name", "")), str(meta.get("resourceVersion", ""))
        cached = self._facts.get(name)
        if cached is None or cached[0] != version:
            cached = (version, node_facts(node))
            self._facts[name] = cached
        return cached[1]

    async def reconcile(self, key: str) -> Result:
        if self._pods is None or self._nodes is None:
            return Result()
        pod = self._pods.get(key)
        if pod is None or not _wants_scheduling(pod):
            return Result()
        uid = str((pod.get("metadata") or {}).get("uid", ""))
        if self.ledger.is_assumed(key, uid):
            return Result()  # bound already; the informer will show it
        facts = pod_facts(pod)
        nodes = [self._node_facts(node) for node in self._nodes.list()]
        verdicts = [failure_reasons(facts, n, self.ledger.usage(n.name)) for n in nodes]
        fitting = [n for n, reasons in zip(nodes, verdicts, strict=True) if not reasons]
        if not fitting:
            await self._report_unschedulable(pod, unschedulable_message(len(nodes), verdicts))
            return Result()
        best = min(fitting, key=lambda n: rank(facts, n, self.ledger.usage(n.name)))
        await self._bind(pod, best.name, facts)
        return Result()

    async def _bind(self, pod: Object, node: str, facts: PodFacts) -> None:
        assert self._ctx is not None and self._events is not None
        key = key_of(pod)
        namespace, name = split_key(key)
        uid = str(pod["metadata"].get("uid", ""))
        self.ledger.assume(key, uid, node, facts.requests)  # before any await: see docstring
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name, "namespace": namespace, "uid": uid},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        path = PODS.path(namespace=namespace, name=name, subresource="binding")
        try:
            await self._ctx.client.request("POST", path, body=binding)
        except Conflict:
            return  # bound meanwhile (or being deleted): the informer will tell the ledger
        except NotFound:
            self.ledger.forget(key)
            return
        except Exception:
            self.ledger.forget(key)  # not bound after all; the cache may know better
            current = self._pods.get(key) if self._pods is not None else None
            if current is not None:
                self.ledger.observe(current)
            raise
        self._ctx.logger.debug("bound %s to %s", key, node)
        message = f"Successfully assigned {key} to {node}"
        await self._events.normal(pod, "Scheduled", message=message)
        await self._clear_unschedulable(pod)

    async def _clear_unschedulable(self, pod: Object) -> None:
        """Replace a PodScheduled=False left by an earlier attempt (kube's binding does so)."""
        condition = _pod_scheduled(pod)
        if condition is None or condition.get("status") == "True":
            return
        await self._write_condition(pod, {"type": "PodScheduled", "status": "True"})

    async def _report_unschedulable(self, pod: Object, message: str) -> None:
        assert self._events is not None
        await self._events.warning(pod, "FailedScheduling", message=message)
        condition = _pod_scheduled(pod) or {}
        wanted = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
        }
        if all(condition.get(k) == v for k, v in wanted.items()):
            return
        await self._write_condition(pod, wanted)

    async def _write_condition(self, pod: Object, condition: dict[str, Any]) -> None:
        assert self._ctx is not None
        namespace, name = split_key(key_of(pod))
        old = _pod_scheduled(pod) or {}
        same_status = old.get("status") == condition["status"] and old.get("lastTransitionTime")
        condition = {
            **condition,
            "lastProbeTime": None,
            "lastTransitionTime": old["lastTransitionTime"] if same_status else _stamp(self.clock),
        }
        with contextlib.suppress(NotFound):  # deleted meanwhile: unbound pods go at once
            await self._ctx.client.patch(
                PODS,
                name,
                {"status": {"conditions": [condition]}},
                namespace=namespace,
                patch_type="strategic",
                subresource="status",
                field_manager=SCHEDULER_NAME,
            )


CONTROLLERS: list[ControllerFactory] = [Scheduler]
