"""LimitRange admission: default container resources, and hold pods and claims to min/max.

kube's LimitRanger plugin. When a pod is created in a namespace with LimitRanges:

- each container (and init container) gets the ``default`` limits and ``defaultRequest``
  requests of the ``Container`` items it does not set itself, and the pod is annotated
  ``kubernetes.io/limit-ranger: LimitRanger plugin set: cpu, memory request for container
  web; cpu limit for container web``; its QoS class is worked out again;
- ``min``, ``max`` and ``maxLimitRequestRatio`` of ``Container`` items hold for every
  container, those of ``Pod`` items for the pod's totals, and those of
  ``PersistentVolumeClaim`` items for a claim's storage request (on create and update).

A violation is ``403 Forbidden`` with kube's wording, for example ``pods "web" is
forbidden: maximum cpu usage per Container is 500m, but limit is 1``; several are listed in
brackets, comma-separated. Pods are only checked on create, as kube does: containers'
resources cannot change afterwards.

LimitRanger runs before ResourceQuota admission, so quotas charge the defaulted resources;
this step puts itself ahead of a ``ResourceQuotaAdmission`` already registered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from atoll.errors import Forbidden
from atoll.kube.quantities import QuantityError, canonical_quantity, parse_quantity

from . import strategies
from .registry import Registry
from .resources import Resource

__all__ = ["LimitRangeAdmission"]

_LIMIT_RANGES = ("", "limitranges")
_ANNOTATION = "kubernetes.io/limit-ranger"
ResourceList = Mapping[str, Any]


def _amount(value: object) -> Decimal | None:
    if not isinstance(value, str | int | float):
        return None
    try:
        return parse_quantity(value)
    except QuantityError:
        return None


def _text(value: object) -> str:
    """A quantity as kube's ``Quantity.String()`` prints it."""
    if not isinstance(value, str | int | float):
        return str(value)
    try:
        return canonical_quantity(value)
    except QuantityError:
        return str(value)


def _min(kind: str, name: str, floor: object, requests: ResourceList, limits: ResourceList) -> str:
    req, lim, enforced = _amount(requests.get(name)), _amount(limits.get(name)), _amount(floor)
    if enforced is None:
        return ""
    if req is None:
        return f"minimum {name} usage per {kind} is {_text(floor)}.  No request is specified"
    if req < enforced:
        return (
            f"minimum {name} usage per {kind} is {_text(floor)}, but request is "
            f"{_text(requests[name])}"
        )
    if lim is not None and lim < enforced:
        return (
            f"minimum {name} usage per {kind} is {_text(floor)}, but limit is {_text(limits[name])}"
        )
    return ""


def _max(kind: str, name: str, cap: object, requests: ResourceList, limits: ResourceList) -> str:
    req, lim, enforced = _amount(requests.get(name)), _amount(limits.get(name)), _amount(cap)
    if enforced is None:
        return ""
    if lim is None:
        return f"maximum {name} usage per {kind} is {_text(cap)}.  No limit is specified"
    if lim > enforced:
        return (
            f"maximum {name} usage per {kind} is {_text(cap)}, but limit is {_text(limits[name])}"
        )
    if req is not None and req > enforced:
        return (
            f"maximum {name} usage per {kind} is {_text(cap)}, but request is "
            f"{_text(requests[name])}"
        )
    return ""


def _max_request(kind: str, name: str, cap: object, requests: ResourceList) -> str:
    """kube's maxRequestConstraint, for claims: only the request counts."""
    req, enforced = _amount(requests.get(name)), _amount(cap)
    if enforced is None:
        return ""
    if req is None:
        return f"maximum {name} usage per {kind} is {_text(cap)}.  No request is specified"
    if req > enforced:
        return (
            f"maximum {name} usage per {kind} is {_text(cap)}, but request is "
            f"{_text(requests[name])}"
        )
    return ""


def _ratio(kind: str, name: str, cap: object, requests: ResourceList, limits: ResourceList) -> str:
    req, lim, enforced = _amount(requests.get(name)), _amount(limits.get(name)), _amount(cap)
    if enforced is None:
        return ""
    if not req:
        return (
            f"{name} max limit to request ratio per {kind} is {_text(cap)}, but no request is "
            "specified or request is 0"
        )
    if not lim:
        return (
            f"{name} max limit to request ratio per {kind} is {_text(cap)}, but no limit is "
            "specified or limit is 0"
        )
    observed = lim / req
    if observed > enforced:
        return (
            f"{name} max limit to request ratio per {kind} is {_text(cap)}, but provided ratio "
            f"is {float(observed):f}"
        )
    return ""


def _check(
    kind: str, item: Mapping[str, Any], requests: ResourceList, limits: ResourceList
) -> list[str]:
    """Every min/max/ratio rule of one LimitRange item against one set of resources."""
    errors = [_min(kind, n, v, requests, limits) for n, v in (item.get("min") or {}).items()]
    errors += [_max(kind, n, v, requests, limits) for n, v in (item.get("max") or {}).items()]
    ratios = (item.get("maxLimitRequestRatio") or {}).items()
    errors += [_ratio(kind, n, v, requests, limits) for n, v in ratios]
    return [e for e in errors if e]


def _resources(container: Mapping[str, Any], kind: str) -> dict[str, Any]:
    return dict((container.get("resources") or {}).get(kind) or {})


def _containers(spec: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [("container", c) for c in spec.get("containers") or ()] + [
        ("init container", c) for c in spec.get("initContainers") or ()
    ]


def _pod_totals(spec: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Pod requests and limits: sum of containers, raised to the largest init container."""
    requests, limits = _pod_total(spec, "requests"), _pod_total(spec, "limits")
    return (
        {k: format(v.normalize(), "f") for k, v in requests.items()},
        {k: format(v.normalize(), "f") for k, v in limits.items()},
    )


def _pod_total(spec: Mapping[str, Any], kind: str) -> dict[str, Decimal]:
    total: dict[str, Decimal] = {}
    for container in spec.get("containers") or ():
        for name, value in _resources(container, kind).items():
            amount = _amount(value)
            if amount is not None:
                total[name] = total.get(name, Decimal(0)) + amount
    for container in spec.get("initContainers") or ():
        for name, value in _resources(container, kind).items():
            amount = _amount(value)
            if amount is not None:
                total[name] = max(total.get(name, Decimal(0)), amount)
    return total


def _aggregate(errors: Iterable[str]) -> str:
    """utilerrors.Aggregate's text: one error as is, several de-duplicated in brackets."""
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


class LimitRangeAdmission:
    """Registers itself on ``registry``; see the module docstring."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        steps = registry.admission
        quota = next(
            (i for i, s in enumerate(steps) if type(s).__name__ == "ResourceQuotaAdmission"),
            len(steps),
        )
        steps.insert(quota, self)

    def admit(
        self, op: str, resource: Resource, obj: dict[str, Any], old: Mapping[str, Any] | None
    ) -> None:
        if resource.storage == ("", "pods") and op == "CREATE":
            items = self._items(obj)
            if items:
                self._default_pod(resource, obj, items)
                self._validate(resource, obj, self._pod_errors(obj, items))
        elif resource.storage == ("", "persistentvolumeclaims") and op in ("CREATE", "UPDATE"):
            items = self._items(obj)
            requests = dict(((obj.get("spec") or {}).get("resources") or {}).get("requests") or {})
            errors = []
            for item in items:
                if item.get("type") == "PersistentVolumeClaim":
                    kind = "PersistentVolumeClaim"
                    floor = (item.get("min") or {}).items()
                    errors += [_min(kind, n, v, requests, {}) for n, v in floor]
                    cap = (item.get("max") or {}).items()
                    errors += [_max_request(kind, n, v, requests) for n, v in cap]
            self._validate(resource, obj, [e for e in errors if e])

    def _items(self, obj: Mapping[str, Any]) -> list[dict[str, Any]]:
        namespace = str((obj.get("metadata") or {}).get("namespace") or "")
        items: list[dict[str, Any]] = []
        for entry in self._registry.storage.iter(_LIMIT_RANGES, namespace):
            items += [i for i in (entry.decode().get("spec") or {}).get("limits") or () if i]
        return items

    def _default_pod(
        self, resource: Resource, pod: dict[str, Any], items: list[dict[str, Any]]
    ) -> None:
        """kube's mergePodResourceRequirements, annotating what it set."""
        limits: dict[str, Any] = {}
        requests: dict[str, Any] = {}
        for item in items:
            if item.get("type") == "Container":
                requests.update(item.get("defaultRequest") or {})
                limits.update(item.get("default") or {})
        notes: list[str] = []
        for label, container in _containers(pod.get("spec") or {}):
            resources = container.setdefault("resources", {})
            set_requests = sorted(k for k in requests if k not in (resources.get("requests") or {}))
            set_limits = sorted(k for k in limits if k not in (resources.get("limits") or {}))
            if set_requests:
                target = resources.setdefault("requests", {})
                target.update({k: requests[k] for k in set_requests})
                notes.append(
                    f"{', '.join(set_requests)} request for {label} {container.get('name')}"
                )
            if set_limits:
                target = resources.setdefault("limits", {})
                target.update({k: limits[k] for k in set_limits})
                notes.append(f"{', '.join(set_limits)} limit for {label} {container.get('name')}")
        if notes:
            annotations = pod["metadata"].setdefault("annotations", {})
            annotations[_ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)
            status = strategies.initial_status(resource, pod) or {}
            if "qosClass" in status and isinstance(pod.get("status"), dict):
                pod["status"]["qosClass"] = status["qosClass"]

    def _pod_errors(self, pod: Mapping[str, Any], items: list[dict[str, Any]]) -> list[str]:
        spec = pod.get("spec") or {}
        errors: list[str] = []
        for item in items:
            if item.get("type") == "Container":
                for _label, container in _containers(spec):
                    requests, limits = (
                        _resources(container, "requests"),
                        _resources(container, "limits"),
                    )
                    errors += _check("Container", item, requests, limits)
            elif item.get("type") == "Pod":
                requests, limits = _pod_totals(spec)
                errors += _check("Pod", item, requests, limits)
        return errors

    def _validate(self, resource: Resource, obj: Mapping[str, Any], errors: list[str]) -> None:
        if not errors:
            return
        meta = obj.get("metadata") or {}
        name = str(meta.get("name") or meta.get("generateName") or "")
        qualified = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
        raise Forbidden(
            f'{qualified} "{name}" is forbidden: {_aggregate(errors)}',
            name=name,
            group=resource.group,
            kind=resource.plural,
        )
