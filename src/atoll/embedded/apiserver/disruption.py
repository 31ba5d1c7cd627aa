"""The eviction subresource's check against PodDisruptionBudgets (kube's EvictionREST).

``POST pods/{name}/eviction`` deletes the pod only when its budget allows: the registry
calls ``DisruptionBudgets.check(namespace, pod)`` first, and that raises

- 429 TooManyRequests ``Cannot evict pod as it would violate the pod's disruption budget.``
  when the budget allows no disruption now (cause: ``The disruption budget web needs 2
  healthy pods and has 2 currently``) or its status is older than its spec (``… is still
  being processed by the server.``);
- 500 when more than one budget covers the pod, which the eviction API does not support.

Pods that cannot be disrupted any further — terminal, pending or already being deleted —
are evicted without looking at budgets, as kube 1.20 does.

An allowed eviction is charged to the budget, as kube does: ``disruptionsAllowed`` goes down
by one and the pod is listed in ``status.disruptedPods`` (so the disruption controller does
not count it healthy while its deletion is under way). The check is synchronous and the
status write is not, so an eviction is first reserved in memory — a second eviction checked
before the write lands sees it — and the write follows as a task that this object owns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from atoll.errors import ApiError, Cause, Conflict, Forbidden, InternalError, TooManyRequests
from atoll.kube.selectors import from_label_selector_object

from .options import WriteOptions
from .registry import Registry
from .resources import Resource

__all__ = ["DisruptionBudgets"]

logger = logging.getLogger(__name__)

_PODS = ("", "pods")
_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget."
_WRITE = WriteOptions(field_manager="kube-apiserver")
_ATTEMPTS = 5


def _too_many(cause: str) -> TooManyRequests:
    return TooManyRequests(_MESSAGE, causes=[Cause("DisruptionBudget", cause)])


def _ignores_budgets(pod: Mapping[str, Any]) -> bool:
    """kube's canIgnorePDB: the pod cannot be disrupted any further."""
    phase = (pod.get("status") or {}).get("phase")
    deleting = bool((pod.get("metadata") or {}).get("deletionTimestamp"))
    return phase in ("Succeeded", "Failed", "Pending") or deleting


class DisruptionBudgets:
    """Registers the eviction check on ``registry``; see the module docstring."""

    def __init__(self, registry: Registry, *, tasks: set[asyncio.Task[None]] | None = None) -> None:
        """``tasks``: where the status writes go, for an owner that cancels them at shutdown."""
        self._registry = registry
        resource = registry.catalog.get("policy", "v1", "poddisruptionbudgets")
        assert resource is not None
        self._resource: Resource = resource
        # (namespace, budget) -> pods whose eviction is charged but not yet written
        self._reserved: dict[tuple[str, str], set[str]] = {}
        self._tasks: set[asyncio.Task[None]] = set() if tasks is None else tasks
        registry.eviction_checks.append(self.check)

    def check(self, namespace: str, pod_name: str) -> None:
        """Raise if evicting the pod would break its budget; else charge the budget."""
        entry = self._registry.storage.latest(_PODS, namespace, pod_name)
        if entry is None:
            return  # the delete that follows answers 404
        pod = entry.decode()
        if _ignores_budgets(pod):
            return
        budgets = self._budgets_of(namespace, pod)
        if not budgets:
            return
        if len(budgets) > 1:
            raise InternalError(
                "Internal error occurred: This pod has more than one PodDisruptionBudget, "
                "which the eviction subresource does not support."
            )
        self._charge(namespace, budgets[0], pod_name)

    def _budgets_of(self, namespace: str, pod: Mapping[str, Any]) -> list[dict[str, Any]]:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        found = []
        for entry in self._registry.storage.iter(self._resource.storage, namespace):
            pdb = entry.decode()
            try:
                selector = from_label_selector_object((pdb.get("spec") or {}).get("selector"))
            except ApiError:
                continue
            if selector.matches(labels):
                found.append(pdb)
        return found

    def _charge(self, namespace: str, pdb: dict[str, Any], pod_name: str) -> None:
        """kube's checkAndDecrement, with in-memory reservations for writes in flight."""
        meta, status = pdb["metadata"], pdb.get("status") or {}
        name = meta["name"]
        if int(status.get("observedGeneration") or 0) < int(meta.get("generation") or 0):
            raise _too_many(f"The disruption budget {name} is still being processed by the server.")
        allowed = int(status.get("disruptionsAllowed") or 0)
        if allowed < 0:
            raise Forbidden(
                f'poddisruptionbudgets.policy "{name}" is forbidden: pdb disruptions allowed '
                "is negative",
                name=name,
                group="policy",
                kind="poddisruptionbudgets",
            )
        listed = set((status.get("disruptedPods") or {}).keys())
        allowed -= len(self._reserved.get((namespace, name), set()) - listed)
        if allowed <= 0:
            raise _too_many(
                f"The disruption budget {name} needs {int(status.get('desiredHealthy') or 0)} "
                f"healthy pods and has {int(status.get('currentHealthy') or 0)} currently"
            )
        self._reserved.setdefault((namespace, name), set()).add(pod_name)
        task = asyncio.get_running_loop().create_task(self._record(namespace, name, pod_name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record(self, namespace: str, name: str, pod_name: str) -> None:
        """Write the charge to the budget's status; the reservation ends either way."""
        try:
            for _ in range(_ATTEMPTS):
                entry = self._registry.storage.latest(self._resource.storage, namespace, name)
                if entry is None:
                    return
                pdb = entry.decode()
                status = pdb.setdefault("status", {})
                disrupted = status.setdefault("disruptedPods", {})
                if pod_name in disrupted:
                    return
                disrupted[pod_name] = self._registry.clock()
                status["disruptionsAllowed"] = max(int(status.get("disruptionsAllowed", 0)) - 1, 0)
                try:
                    await self._registry.update(
                        self._resource, namespace, name, pdb, _WRITE, subresource="status"
                    )
                    return
                except Conflict:
                    continue
        except Exception:  # a lost charge is corrected by the disruption controller
            logger.exception("could not record the eviction of %s/%s", namespace, pod_name)
        finally:
            reserved = self._reserved.get((namespace, name), set())
            reserved.discard(pod_name)
            if not reserved:
                self._reserved.pop((namespace, name), None)
