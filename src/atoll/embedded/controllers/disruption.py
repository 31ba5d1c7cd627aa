"""PodDisruptionBudgets: how many of the pods a budget covers may be disrupted now.

kube's disruption controller. For each budget (policy/v1 stored) it finds the pods its
selector matches in its namespace (no selector: none; an empty one: all) and works out:

- ``expectedPods`` and ``desiredHealthy``: with an integer ``minAvailable``, the pods found
  and that number; with a percentage ``minAvailable`` or any ``maxUnavailable``, the scale
  of the pods' controllers (a ReplicaSet owned by a Deployment counts as the Deployment;
  anything else through its ``/scale`` subresource), rounded up as kube does;
- ``currentHealthy``: pods Ready, not being deleted and not just evicted — the eviction
  subresource lists what it evicted in ``disruptedPods``; an entry that the pod's deletion
  has not followed within two minutes is dropped (and the budget looked at again then);
- ``disruptionsAllowed`` = currentHealthy − desiredHealthy (never below zero, and zero while
  no pod is expected), with the ``DisruptionAllowed`` condition (``SufficientPods`` or
  ``InsufficientPods``; ``SyncFailed`` when the expected count cannot be worked out).

The eviction side (429 when the budget allows no disruption) is the API server's:
``atoll.embedded.apiserver.disruption``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from atoll.controllers.leadership import parse_time
from atoll.controllers.results import Result
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.errors import ApiError, BadRequest, Conflict, NotFound
from atoll.kube.client import Object, ResourceType
from atoll.kube.informers import Informer
from atoll.kube.selectors import LabelSelector, from_label_selector_object

from . import ControllerOptions
from .jobs import rfc3339
from .workload_pods import PODS, controller_of, is_ready, is_terminating

__all__ = ["CONTROLLERS", "PDBS", "DisruptionController"]

PDBS = ResourceType("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget")
REPLICASETS = ResourceType("apps", "v1", "replicasets", "ReplicaSet")
DELETION_TIMEOUT = timedelta(minutes=2)  # kube's DeletionTimeout for disruptedPods entries
_RETRY = 15.0


class _NoScale(Exception):
    """The expected number of pods cannot be worked out; ``str()`` is kube's message."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _selector(pdb: Mapping[str, Any]) -> LabelSelector:
    try:
        return from_label_selector_object((pdb.get("spec") or {}).get("selector"))
    except BadRequest:
        return LabelSelector.nothing()


def _labels(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def _int_or_percent(value: object, total: int) -> int:
    """intstr.GetValueFromIntOrPercent with roundUp: ``"30%"`` of total, rounded up."""
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)  # type: ignore[call-overload, no-any-return]


def _condition(
    status: Mapping[str, Any], state: str, reason: str, message: str, now: datetime
) -> dict[str, Any]:
    """The DisruptionAllowed condition, keeping its transition time while the state holds."""
    old: Mapping[str, Any] = next(
        (c for c in status.get("conditions") or () if c.get("type") == "DisruptionAllowed"), {}
    )
    changed = old.get("status") != state
    return {
        "type": "DisruptionAllowed",
        "status": state,
        "observedGeneration": status.get("observedGeneration", 0),
        "lastTransitionTime": rfc3339(now) if changed else old.get("lastTransitionTime"),
        "reason": reason,
        "message": message,
    }


class DisruptionController:
    """kube's disruption controller; see the module docstring."""

    name = "disruption"

    def __init__(self, options: ControllerOptions) -> None:
        self._options = options

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._pdbs: Informer = ctx.informers.informer(PDBS)
        self._pods: Informer = ctx.informers.informer(PODS)
        self._pdbs.add_handler(ctx.enqueue, lambda _old, new: ctx.enqueue(new))
        self._pods.add_handler(self._pod_changed, self._pod_updated, self._pod_changed)

    def _pod_changed(self, pod: Object) -> None:
        """Queue every budget of the pod's namespace whose selector matches it."""
        namespace = (pod.get("metadata") or {}).get("namespace") or ""
        labels = _labels(pod)
        for pdb in self._pdbs.list(namespace):
            if _selector(pdb).matches(labels):
                self._ctx.enqueue(pdb)

    def _pod_updated(self, old: Object, new: Object) -> None:
        self._pod_changed(new)
        if _labels(old) != _labels(new):
            self._pod_changed(old)

    async def reconcile(self, key: str) -> Result:
        pdb = self._pdbs.get(key)
        if pdb is None or pdb["metadata"].get("deletionTimestamp"):
            return Result()
        namespace = pdb["metadata"]["namespace"]
        pods = sorted(self._pods.list(namespace, _selector(pdb)), key=_name)
        now = self._ctx.clock.now()
        if not pods:
            await self._ctx.events.normal(pdb, "NoPods", message="No matching pods found")
        try:
            expected, desired = await self._expected(pdb, pods)
        except _NoScale as exc:
            await self._ctx.events.warning(pdb, exc.reason, message=str(exc))
            message = f"Failed to calculate the number of expected pods: {exc}"
            await self._ctx.events.warning(pdb, "CalculateExpectedPodCountFailed", message=message)
            return await self._fail_safe(pdb, str(exc), now)
        disrupted, recheck = _disrupted(pdb, pods, now)
        healthy = sum(
            1 for p in pods if is_ready(p) and not is_terminating(p) and _name(p) not in disrupted
        )
        allowed = max(healthy - desired, 0) if expected > 0 else 0
        status: dict[str, Any] = {
            "observedGeneration": pdb["metadata"].get("generation", 1),
            "disruptionsAllowed": allowed,
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "expectedPods": expected,
        }
        if disrupted:
            status["disruptedPods"] = disrupted
        reason = "SufficientPods" if allowed > 0 else "InsufficientPods"
        state = "True" if allowed > 0 else "False"
        status["conditions"] = [_condition(_with_generation(pdb, status), state, reason, "", now)]
        if not await self._write(pdb, status):
            return Result(requeue=True)
        if recheck is None:
            return Result()
        return Result(requeue_after=max((recheck - now).total_seconds(), 0.0))

    async def _fail_safe(self, pdb: Object, message: str, now: datetime) -> Result:
        """kube's failSafe: allow no disruption while the budget cannot be computed."""
        status = copy.deepcopy(pdb.get("status") or {})
        status["disruptionsAllowed"] = 0
        status["conditions"] = [
            _condition(_with_generation(pdb, status), "False", "SyncFailed", message, now)
        ]
        await self._write(pdb, status)
        return Result(requeue_after=_RETRY)

    async def _write(self, pdb: Object, status: dict[str, Any]) -> bool:
        if status == (pdb.get("status") or {}):
            return True
        try:
            await self._ctx.client.replace_status(PDBS, {**pdb, "status": status})
        except (Conflict, NotFound):
            return False
        return True

    async def _expected(self, pdb: Object, pods: Sequence[Object]) -> tuple[int, int]:
        """kube's getExpectedPodCount: (expectedPods, desiredHealthy)."""
        spec = pdb.get("spec") or {}
        most, least = spec.get("maxUnavailable"), spec.get("minAvailable")
        if most is not None:
            expected = await self._expected_scale(pods)
            return expected, max(expected - _int_or_percent(most, expected), 0)
        if least is None:
            return 0, 0
        if isinstance(least, int):
            return len(pods), least
        expected = await self._expected_scale(pods)
        return expected, _int_or_percent(least, expected)

    async def _expected_scale(self, pods: Sequence[Object]) -> int:
        """The summed scale of the controllers of ``pods`` (each controller counted once)."""
        scales: dict[str, int] = {}
        for pod in pods:
            ref = controller_of(pod)
            if ref is None:
                message = f'found no controller ref for pod "{_name(pod)}"'
                raise _NoScale(message, "NoControllerRef")
            if ref.get("uid") in scales:
                continue
            namespace = pod["metadata"].get("namespace", "")
            scale = await self._scale_of(namespace, ref)
            if scale is None:
                raise _NoScale(f'found no controllers for pod "{_name(pod)}"', "NoControllers")
            scales[str(ref.get("uid"))] = scale
        return sum(scales.values())

    async def _scale_of(self, namespace: str, ref: Mapping[str, Any]) -> int | None:
        """Replicas of the pod controller ``ref``: a Deployment's for its ReplicaSets."""
        group = str(ref.get("apiVersion") or "").rpartition("/")[0]
        try:
            if (group, ref.get("kind")) == ("apps", "ReplicaSet"):
                rs = await self._ctx.client.get(REPLICASETS, str(ref["name"]), namespace=namespace)
                if rs["metadata"].get("uid") != ref.get("uid"):
                    return None
                owner = controller_of(rs)
                if owner is None or owner.get("kind") != "Deployment":
                    return int((rs.get("spec") or {}).get("replicas", 1))
                ref = owner
            return await self._scale_subresource(namespace, ref)
        except ApiError:
            return None

    async def _scale_subresource(self, namespace: str, ref: Mapping[str, Any]) -> int | None:
        group, _, version = str(ref.get("apiVersion") or "").rpartition("/")
        rt = await self._ctx.client.resource_type((group, version, str(ref.get("kind"))))
        scale = await self._ctx.client.get(
            rt, str(ref.get("name")), namespace=namespace, subresource="scale"
        )
        if scale["metadata"].get("uid") != ref.get("uid"):
            return None
        return int((scale.get("spec") or {}).get("replicas") or 0)


def _with_generation(pdb: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The old conditions with the new observedGeneration, for the condition's bookkeeping."""
    old = pdb.get("status") or {}
    return {**old, "observedGeneration": new.get("observedGeneration", 0)}


def _name(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name") or "")


def _disrupted(
    pdb: Mapping[str, Any], pods: Sequence[Object], now: datetime
) -> tuple[dict[str, str], datetime | None]:
    """kube's buildDisruptedPodMap: evictions still expected to delete their pod, next expiry."""
    listed = (pdb.get("status") or {}).get("disruptedPods") or {}
    kept: dict[str, str] = {}
    recheck: datetime | None = None
    for pod in pods:
        name = _name(pod)
        when = parse_time(listed.get(name))
        if is_terminating(pod) or when is None:
            continue
        deadline = when + DELETION_TIMEOUT
        if deadline > now:
            kept[name] = listed[name]
            recheck = deadline if recheck is None else min(recheck, deadline)
    return kept, recheck


def _disruption_controller(options: ControllerOptions) -> Controller:
    return DisruptionController(options)


CONTROLLERS = [_disruption_controller]
