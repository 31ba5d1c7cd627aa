"""ResourceQuota admission: refuse a write that would take a namespace over its quota.

kube's ResourceQuota admission plugin, with the same answers:

- ``403 Forbidden`` ``pods "web" is forbidden: exceeded quota: compute, requested:
  pods=1, used: pods=2, limited: pods=2`` (the exceeded resources only, sorted);
- ``403 Forbidden`` ``… is forbidden: failed quota: compute: must specify
  limits.cpu,requests.cpu`` when a quota tracks CPU or memory and a container leaves them out.

What is charged is ``quota_usage``'s business. Creates of every namespaced kind are
checked (object counts), updates of Services and PersistentVolumeClaims too (node ports,
storage), as kube 1.20 does. Usage is counted from storage rather than from the quotas'
``status.used``: it is exact at every write, and needs no status write from admission. Per
namespace and kind the charges are loaded once, then kept current by the registry's
after-write hook. A create that passed is reserved until its write lands, so two creates
racing for the last unit cannot both pass; a reservation whose object never got stored
(refused later, or a dry run) is dropped at the next check.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from atoll.errors import Forbidden
from atoll.kube.quantities import parse_quantity

from .quota_usage import (
    COMPUTE_RESOURCES,
    Charge,
    charge_of,
    quantity_text,
    quota_applies,
    resources_of,
)
from .registry import Registry, WriteResult
from .resources import Resource

__all__ = ["ResourceQuotaAdmission"]

_QUOTAS = ("", "resourcequotas")
_UPDATES_CHARGED = frozenset({("", "services"), ("", "persistentvolumeclaims")})
_Key = tuple[tuple[str, str], str]  # (storage key, namespace)


def _hard(quota: Mapping[str, Any]) -> dict[str, tuple[Decimal, str]]:
    """``spec.hard`` as amounts, with the text each was given in (for formatting)."""
    hard: dict[str, tuple[Decimal, str]] = {}
    for name, value in ((quota.get("spec") or {}).get("hard") or {}).items():
        try:
            hard[name] = (parse_quantity(value), str(value))
        except ValueError:
            continue
    return hard


def _forbidden(resource: Resource, obj: Mapping[str, Any], message: str) -> Forbidden:
    """kube's admission.NewForbidden: named by name, else generateName."""
    meta = obj.get("metadata") or {}
    name = str(meta.get("name") or meta.get("generateName") or "")
    qualified = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
    return Forbidden(
        f'{qualified} "{name}" is forbidden: {message}',
        name=name,
        group=resource.group,
        kind=resource.plural,
    )


def _listed(values: Mapping[str, Decimal], hard: Mapping[str, tuple[Decimal, str]]) -> str:
    """kube's prettyPrint: ``name=quantity`` pairs, sorted, comma-separated."""
    return ",".join(
        f"{k}={quantity_text(values.get(k, Decimal(0)), hard[k][1])}" for k in sorted(values)
    )


class ResourceQuotaAdmission:
    """Registers itself on ``registry``; see the module docstring."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._charges: dict[_Key, dict[str, Charge]] = {}
        self._reserved: dict[_Key, dict[str, Charge]] = {}
        registry.admission.append(self)
        registry.after_write.append(self._written)

    # -- bookkeeping ----------------------------------------------------------------------

    def _loaded(self, key: _Key) -> dict[str, Charge]:
        charges = self._charges.get(key)
        if charges is None:
            (group, plural), namespace = key
            charges = {
                entry.name: charge_of(group, plural, entry.decode())
                for entry in self._registry.storage.iter((group, plural), namespace)
            }
            self._charges[key] = charges
        return charges

    def _written(self, resource: Resource, result: WriteResult) -> None:
        meta = result.obj.get("metadata") or {}
        key = (resource.storage, str(meta.get("namespace") or ""))
        name = str(meta.get("name") or "")
        reserved = self._reserved.get(key)
        if reserved is not None:
            reserved.pop(name, None)
        charges = self._charges.get(key)
        if charges is None or result.entry is None:
            return
        if result.deleted:
            charges.pop(name, None)
        else:
            charges[name] = charge_of(*resource.storage, result.obj)

    def _current(self, key: _Key) -> dict[str, Charge]:
        """Stored charges plus creates admitted whose write is still on its way."""
        charges = dict(self._loaded(key))
        reserved = self._reserved.get(key) or {}
        storage, namespace = key
        for name in list(reserved):
            if name in charges or self._registry.storage.latest(storage, namespace, name) is None:
                del reserved[name]  # stored meanwhile, or refused after admission
            else:
                charges[name] = reserved[name]
        return charges

    # -- admission ------------------------------------------------------------------------

    def admit(
        self, op: str, resource: Resource, obj: dict[str, Any], old: Mapping[str, Any] | None
    ) -> None:
        if not resource.namespaced:
            return
        if op == "UPDATE" and resource.storage not in _UPDATES_CHARGED:
            return
        meta = obj.get("metadata") or {}
        namespace = str(meta.get("namespace") or "")
        quotas = [e.decode() for e in self._registry.storage.iter(_QUOTAS, namespace)]
        if not quotas:
            return
        now = datetime.now(UTC)
        charge = charge_of(*resource.storage, obj)
        delta = dict(charge.at(now))
        if old is not None:
            before = charge_of(*resource.storage, old).at(now)
            delta = {k: max(v - before.get(k, Decimal(0)), Decimal(0)) for k, v in delta.items()}
        applying = [q for q in quotas if quota_applies(q, charge)]
        for quota in applying:
            self._check_constraints(resource, obj, quota)
        delta = {k: v for k, v in delta.items() if v > 0}
        if not delta:
            return
        key = (resource.storage, namespace)
        for quota in sorted(applying, key=lambda q: str(q["metadata"].get("name"))):
            self._check_usage(resource, obj, quota, delta, key, now)
        if op == "CREATE":
            self._reserved.setdefault(key, {})[str(meta.get("name") or "")] = charge

    def _check_constraints(
        self, resource: Resource, obj: Mapping[str, Any], quota: Mapping[str, Any]
    ) -> None:
        """Pods must name every compute resource the quota tracks (kube's Constraints)."""
        if resource.storage != ("", "pods"):
            return
        required = COMPUTE_RESOURCES & set((quota.get("spec") or {}).get("hard") or {})
        if not required:
            return
        spec = obj.get("spec") or {}
        missing: set[str] = set()
        for container in [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]:
            missing |= required - resources_of(container)
        if missing:
            name = quota["metadata"].get("name")
            message = f"failed quota: {name}: must specify {','.join(sorted(missing))}"
            raise _forbidden(resource, obj, message)

    def _check_usage(
        self,
        resource: Resource,
        obj: Mapping[str, Any],
        quota: Mapping[str, Any],
        delta: Mapping[str, Decimal],
        key: _Key,
        now: datetime,
    ) -> None:
        hard = _hard(quota)
        requested = {k: v for k, v in delta.items() if k in hard}
        if not requested:
            return
        used = {k: Decimal(0) for k in requested}
        for charge in self._current(key).values():
            if quota_applies(quota, charge):
                usage = charge.at(now)
                for k in requested:
                    used[k] += usage.get(k, Decimal(0))
        exceeded = sorted(k for k, v in requested.items() if used[k] + v > hard[k][0])
        if exceeded:
            message = (
                f"exceeded quota: {quota['metadata'].get('name')}, "
                f"requested: {_listed({k: requested[k] for k in exceeded}, hard)}, "
                f"used: {_listed({k: used[k] for k in exceeded}, hard)}, "
                f"limited: {_listed({k: hard[k][0] for k in exceeded}, hard)}"
            )
            raise _forbidden(resource, obj, message)
