"""ResourceQuota status: ``status.hard`` as the spec says, ``status.used`` as the namespace is.

kube's resource quota controller. ``kubectl describe quota`` shows ``used`` against
``hard``; the admission step (``atoll.embedded.apiserver.quota``) enforces the quota on
every write and counts from storage itself, so this status is for people and tools.

Each resource named in ``spec.hard`` is counted from its source, with the same rules as
admission (``quota_usage``): pods' compute resources and counts, and Services, from
informers (a change re-counts the quotas of its namespace at once); claims, and every
other ``count/<resource>.<group>``, from lists of the API (re-counted every 10 seconds
while a quota names them, else every 5 minutes, kube's full resync period).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from atoll.controllers.results import Result
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.embedded.apiserver.quota_usage import charge_of, quantity_text, quota_applies
from atoll.errors import ApiError, Conflict, NotFound
from atoll.kube.client import Object, ResourceType
from atoll.kube.informers import Informer
from atoll.kube.quantities import QuantityError, canonical_quantity

from . import ControllerOptions
from .workload_pods import PODS

__all__ = ["CONTROLLERS", "QUOTAS", "ResourceQuotaController", "source_of"]

QUOTAS = ResourceType("", "v1", "resourcequotas", "ResourceQuota")
SERVICES = ResourceType("", "v1", "services", "Service")
_RESYNC = 300.0  # kube's --resource-quota-sync-period
_POLL = 10.0  # while a quota counts something no informer here watches
_SERVICE_NAMES = frozenset(
    {"services", "count/services", "services.nodeports", "services.loadbalancers"}
)
_CLAIM_NAMES = frozenset(
    {"persistentvolumeclaims", "count/persistentvolumeclaims", "requests.storage"}
)
_CORE_COUNTS = frozenset({"configmaps", "secrets", "replicationcontrollers", "resourcequotas"})


def source_of(name: str) -> tuple[str, str]:
    """The (group, plural) whose objects a quota resource counts: ``requests.cpu`` → pods."""
    if name in _SERVICE_NAMES:
        return ("", "services")
    if name in _CLAIM_NAMES or ".storageclass.storage.k8s.io/" in name:
        return ("", "persistentvolumeclaims")
    if name in _CORE_COUNTS:
        return ("", name)
    if name.startswith("count/"):
        plural, _, group = name.removeprefix("count/").partition(".")
        return (group, plural)
    return ("", "pods")


def _canonical(hard: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in hard.items():
        try:
            out[name] = canonical_quantity(value)
        except (QuantityError, TypeError):
            out[name] = str(value)
    return out


class ResourceQuotaController:
    """kube's resource quota controller; see the module docstring."""

    name = "resourcequota"

    def __init__(self, options: ControllerOptions) -> None:
        self._options = options

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._quotas: Informer = ctx.informers.informer(QUOTAS)
        self._pods: Informer = ctx.informers.informer(PODS)
        self._services: Informer = ctx.informers.informer(SERVICES)
        self._quotas.add_handler(ctx.enqueue, lambda _old, new: ctx.enqueue(new))
        for informer in (self._pods, self._services):
            informer.add_handler(self._changed, lambda _old, new: self._changed(new), self._changed)

    def _changed(self, obj: Object) -> None:
        """Re-count the quotas of the object's namespace."""
        namespace = (obj.get("metadata") or {}).get("namespace") or ""
        for quota in self._quotas.list(namespace):
            self._ctx.enqueue(quota)

    async def reconcile(self, key: str) -> Result:
        quota = self._quotas.get(key)
        if quota is None:
            return Result()
        hard = dict((quota.get("spec") or {}).get("hard") or {})
        by_source: dict[tuple[str, str], list[str]] = {}
        for name in hard:
            by_source.setdefault(source_of(name), []).append(name)
        used: dict[str, Decimal] = {}
        polled = False
        for source, names in by_source.items():
            counted = await self._count(quota, source, names)
            polled = polled or source not in (("", "pods"), ("", "services"))
            used.update(counted)
        status = {
            "hard": _canonical(hard),
            "used": {name: quantity_text(used.get(name, Decimal(0)), hard[name]) for name in hard},
        }
        if status != (quota.get("status") or {}):
            try:
                await self._ctx.client.replace_status(QUOTAS, {**quota, "status": status})
            except (Conflict, NotFound):
                return Result(requeue=True)
        return Result(requeue_after=_POLL if polled else _RESYNC)

    async def _count(
        self, quota: Object, source: tuple[str, str], names: list[str]
    ) -> dict[str, Decimal]:
        """Usage of ``names`` by the objects of ``source`` in the quota's namespace."""
        namespace = quota["metadata"]["namespace"]
        objects: list[Object]
        if source == ("", "pods"):
            objects = self._pods.list(namespace)
        elif source == ("", "services"):
            objects = self._services.list(namespace)
        elif source == ("", "persistentvolumeclaims"):
            objects = await self._listed(source, namespace)
        else:
            return {name: Decimal(await self._how_many(source, namespace)) for name in names}
        now = self._ctx.clock.now()
        totals = dict.fromkeys(names, Decimal(0))
        for obj in objects:
            charge = charge_of(*source, obj)
            if quota_applies(quota, charge):
                usage = charge.at(now)
                for name in names:
                    totals[name] += usage.get(name, Decimal(0))
        return totals

    async def _listed(self, source: tuple[str, str], namespace: str) -> list[Object]:
        try:
            rt = await self._ctx.client.resource_type(".".join(p for p in source[::-1] if p))
            listed = await self._ctx.client.list(rt, namespace=namespace)
        except ApiError:
            return []
        return list(listed.get("items") or [])

    async def _how_many(self, source: tuple[str, str], namespace: str) -> int:
        """Objects of a kind in a namespace, from a one-item page and its remaining count."""
        group, plural = source
        try:
            rt = await self._ctx.client.resource_type(f"{plural}.{group}" if group else plural)
            if not rt.namespaced:
                return 0
            page = await self._ctx.client.list(rt, namespace=namespace, limit=1)
        except ApiError:
            return 0
        remaining = (page.get("metadata") or {}).get("remainingItemCount") or 0
        return len(page.get("items") or []) + int(remaining)


def _quota_controller(options: ControllerOptions) -> Controller:
    return ResourceQuotaController(options)


CONTROLLERS = [_quota_controller]
