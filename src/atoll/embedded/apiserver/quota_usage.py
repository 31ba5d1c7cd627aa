"""What an object charges to a ResourceQuota (kube's quota evaluators), as plain functions.

Shared by the ResourceQuota admission step (``quota``) and the controller that keeps
``status.used`` current (``controllers.resourcequota``), so both count alike:

- every object: ``count/<resource>[.<group>]`` 1, and for the core kinds kube counts by
  their old names also ``pods``, ``services``, ``configmaps``, ``secrets``,
  ``replicationcontrollers``, ``resourcequotas``, ``persistentvolumeclaims``;
- a pod, until it ends (Succeeded/Failed, or its deletion grace period ran out): ``pods``,
  ``cpu``/``requests.cpu``, ``memory``/``requests.memory``, ``limits.cpu``,
  ``limits.memory`` and ephemeral storage — the sum over its containers, or its largest init
  container when that is more; ``count/pods`` stays while the pod exists;
- a Service: ``services.nodeports`` (its ports, for NodePort and LoadBalancer) and
  ``services.loadbalancers``;
- a PersistentVolumeClaim: ``requests.storage``, also per storage class.

Quota scopes (``Terminating``, ``NotTerminating``, ``BestEffort``, ``NotBestEffort`` and a
``PriorityClass`` scope selector) select pods; a quota with scopes charges nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from atoll.kube.quantities import QuantityError, canonical_quantity, parse_quantity

__all__ = [
    "COMPUTE_RESOURCES",
    "Charge",
    "PodFacts",
    "charge_of",
    "count_name",
    "quantity_text",
    "quota_applies",
    "resources_of",
]

Usage = dict[str, Decimal]

#: Resources a pod must request (or limit) explicitly when a quota tracks them.
COMPUTE_RESOURCES = frozenset(
    {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
)
_LEGACY_NAMES = frozenset(
    {
        "pods",
        "services",
        "configmaps",
        "secrets",
        "replicationcontrollers",
        "resourcequotas",
        "persistentvolumeclaims",
    }
)
_ONE = Decimal(1)
_STORAGE_CLASS = ".storageclass.storage.k8s.io/"


def count_name(group: str, plural: str) -> str:
    """``count/pods``, ``count/deployments.apps``: the object-count resource of a kind."""
    return f"count/{plural}.{group}" if group else f"count/{plural}"


def _amount(value: object) -> Decimal | None:
    if not isinstance(value, str | int | float):
        return None
    try:
        return parse_quantity(value)
    except QuantityError:
        return None


def _resources(container: Mapping[str, Any], kind: str) -> Usage:
    listed = (container.get("resources") or {}).get(kind) or {}
    parsed = {name: _amount(value) for name, value in listed.items()}
    return {name: amount for name, amount in parsed.items() if amount is not None}


def _pod_totals(spec: Mapping[str, Any], kind: str) -> Usage:
    """Sum over containers, raised to the largest init container (kube's quota.Max)."""
    total: Usage = {}
    for container in spec.get("containers") or ():
        for name, amount in _resources(container, kind).items():
            total[name] = total.get(name, Decimal(0)) + amount
    for container in spec.get("initContainers") or ():
        for name, amount in _resources(container, kind).items():
            total[name] = max(total.get(name, Decimal(0)), amount)
    return total


def _compute_usage(requests: Usage, limits: Usage) -> Usage:
    """kube's podComputeUsageHelper."""
    usage: Usage = {"pods": _ONE}
    for name in ("cpu", "memory", "ephemeral-storage"):
        if name in requests:
            usage[name] = usage[f"requests.{name}"] = requests[name]
        if name in limits:
            usage[f"limits.{name}"] = limits[name]
    for name, amount in requests.items():
        if name.startswith("hugepages-"):
            usage[name] = usage[f"requests.{name}"] = amount
        elif "/" in name and not name.startswith("kubernetes.io/"):
            usage[f"requests.{name}"] = amount  # extended resources
    return usage


def resources_of(container: Mapping[str, Any]) -> set[str]:
    """The compute resources a container names (kube's enforcePodContainerConstraints)."""
    return set(_compute_usage(_resources(container, "requests"), _resources(container, "limits")))


@dataclass(frozen=True, slots=True)
class PodFacts:
    """What quota scopes look at in a pod."""

    terminating: bool
    best_effort: bool
    priority_class: str


@dataclass(frozen=True, slots=True)
class Charge:
    """One object's charge: its usage, and for pods when that usage ends."""

    usage: Usage
    after_end: Usage = field(default_factory=dict)  # what a pod still charges once it ended
    ends: datetime | None = None  # a terminating pod stops charging compute at this instant
    ended: bool = False
    pod: PodFacts | None = None

    def at(self, now: datetime) -> Usage:
        if self.ended or (self.ends is not None and now > self.ends):
            return self.after_end
        return self.usage


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _pod_charge(pod: Mapping[str, Any]) -> Charge:
    spec, meta = pod.get("spec") or {}, pod.get("metadata") or {}
    requests, limits = _pod_totals(spec, "requests"), _pod_totals(spec, "limits")
    counted: Usage = {"count/pods": _ONE}
    usage = {**counted, **_compute_usage(requests, limits)}
    phase = (pod.get("status") or {}).get("phase")
    ends = None
    deleted = _parse_time(meta.get("deletionTimestamp"))
    if deleted is not None and meta.get("deletionGracePeriodSeconds") is not None:
        ends = deleted + timedelta(seconds=int(meta["deletionGracePeriodSeconds"]))
    deadline = spec.get("activeDeadlineSeconds")
    facts = PodFacts(
        terminating=isinstance(deadline, int) and deadline >= 0,
        best_effort=not any(k in ("cpu", "memory") for k in (*requests, *limits)),
        priority_class=str(spec.get("priorityClassName") or ""),
    )
    ended = phase in ("Succeeded", "Failed")
    return Charge(usage, counted, ends, ended, facts)


def _service_usage(svc: Mapping[str, Any]) -> Usage:
    spec = svc.get("spec") or {}
    usage: Usage = {}
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        usage["services.nodeports"] = Decimal(len(spec.get("ports") or ()))
    if spec.get("type") == "LoadBalancer":
        usage["services.loadbalancers"] = _ONE
    return usage


def _claim_usage(claim: Mapping[str, Any]) -> Usage:
    spec = claim.get("spec") or {}
    usage: Usage = {}
    storage = _amount(((spec.get("resources") or {}).get("requests") or {}).get("storage"))
    storage_class = spec.get("storageClassName")
    if storage is not None:
        usage["requests.storage"] = storage
    if storage_class:
        usage[f"{storage_class}{_STORAGE_CLASS}persistentvolumeclaims"] = _ONE
        if storage is not None:
            usage[f"{storage_class}{_STORAGE_CLASS}requests.storage"] = storage
    return usage


def charge_of(group: str, plural: str, obj: Mapping[str, Any]) -> Charge:
    """What ``obj`` (of ``plural.group``) charges to the quotas of its namespace."""
    if (group, plural) == ("", "pods"):
        return _pod_charge(obj)
    usage: Usage = {count_name(group, plural): _ONE}
    if not group and plural in _LEGACY_NAMES:
        usage[plural] = _ONE
    if (group, plural) == ("", "services"):
        usage.update(_service_usage(obj))
    elif (group, plural) == ("", "persistentvolumeclaims"):
        usage.update(_claim_usage(obj))
    return Charge(usage)


def _scope_selected(requirement: Mapping[str, Any], facts: PodFacts) -> bool:
    scope, operator = requirement.get("scopeName"), requirement.get("operator")
    values = set(requirement.get("values") or ())
    if scope == "PriorityClass":
        name = facts.priority_class
        return {
            "In": name in values,
            "NotIn": name not in values,
            "Exists": bool(name),
            "DoesNotExist": not name,
        }.get(str(operator), False)
    selected = _scope_matches(str(scope), facts)
    return selected if operator in ("Exists", "In") else not selected


def _scope_matches(scope: str, facts: PodFacts) -> bool:
    return {
        "Terminating": facts.terminating,
        "NotTerminating": not facts.terminating,
        "BestEffort": facts.best_effort,
        "NotBestEffort": not facts.best_effort,
    }.get(scope, False)


def quota_applies(quota: Mapping[str, Any], charge: Charge) -> bool:
    """Whether ``quota``'s scopes select the object (a quota without scopes takes all)."""
    spec = quota.get("spec") or {}
    scopes = list(spec.get("scopes") or ())
    expressions = list((spec.get("scopeSelector") or {}).get("matchExpressions") or ())
    if not scopes and not expressions:
        return True
    if charge.pod is None:
        return False
    return all(_scope_matches(s, charge.pod) for s in scopes) and all(
        _scope_selected(e, charge.pod) for e in expressions
    )


def quantity_text(amount: Decimal, like: object = None) -> str:
    """``amount`` as kube prints a quantity, in the format of ``like`` (a quota's hard)."""
    binary = isinstance(like, str) and like.strip().endswith(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))
    if binary and amount == amount.to_integral_value() and abs(amount) >= 1024:
        return canonical_quantity(f"{amount / 1024}Ki")
    return canonical_quantity(format(amount.normalize(), "f") if amount else "0")
