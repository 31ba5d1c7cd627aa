"""Conversions between the served versions of a kind that share one stored version.

Storage keeps one version per resource (HorizontalPodAutoscaler as autoscaling/v2, Event as
core v1, CronJob as batch/v1, ...); a read or write in another served version goes through
``convert``. Each kind is a family: a hub (the stored version) and, per member version, a pair
of functions into and out of the hub shape, so any two members convert through the hub.

What each family does, following kube-apiserver's conversion functions:
- HorizontalPodAutoscaler: autoscaling/v1 keeps the CPU utilization target and current value
  in fields and everything else in the ``autoscaling.alpha.kubernetes.io/*`` annotations the
  real server uses (v1-shaped metric specs and statuses, conditions, and the behavior with Go
  field names). v2beta2 has v2's shape.
- Event: core v1 and events.k8s.io rename fields (``involvedObject`` is ``regarding``, ...).
- EndpointSlice: discovery v1beta1's ``topology`` map holds v1's ``zone``, ``nodeName`` and
  ``deprecatedTopology``.
- CronJob, PodDisruptionBudget, Eviction: same shape, only ``apiVersion`` changes.

Objects are plain dicts; ``convert`` never mutates its argument.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from atoll.errors import BadRequest

__all__ = ["convert"]

Converter = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns a private copy of an object into another version's shape; may mutate its input."""


@dataclass(frozen=True, slots=True)
class _Member:
    to_hub: Converter
    from_hub: Converter


def _same(obj: dict[str, Any]) -> dict[str, Any]:
    return obj


_IDENTICAL = _Member(_same, _same)


def convert(obj: dict[str, Any], *, to_api_version: str) -> dict[str, Any]:
    """A copy of ``obj`` in ``to_api_version`` (``apiVersion`` set), by its ``kind``.

    Raises ``BadRequest`` when no conversion between the two versions of the kind is known.
    """
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        raise BadRequest("cannot convert an object without apiVersion and kind")
    result: dict[str, Any] = _clone(obj)
    if api_version == to_api_version:
        return result
    members = _FAMILIES.get(kind, {})
    source, target = members.get(api_version), members.get(to_api_version)
    if source is None or target is None:
        raise BadRequest(f'no conversion for {kind} from "{api_version}" to "{to_api_version}"')
    converted = target.from_hub(source.to_hub(result))
    converted["apiVersion"] = to_api_version
    return converted


def _clone(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    return value


# --- Event: core v1 (hub) <-> events.k8s.io ----------------------------------------------------

_EVENT_RENAMES = {
    "involvedObject": "regarding",
    "message": "note",
    "source": "deprecatedSource",
    "firstTimestamp": "deprecatedFirstTimestamp",
    "lastTimestamp": "deprecatedLastTimestamp",
    "count": "deprecatedCount",
    "reportingComponent": "reportingController",
}
_EVENT_RENAMES_BACK = {new: old for old, new in _EVENT_RENAMES.items()}


def _core_event_to_events(obj: dict[str, Any]) -> dict[str, Any]:
    out = {_EVENT_RENAMES.get(key, key): value for key, value in obj.items()}
    if isinstance(out.get("series"), dict):
        # events.k8s.io's EventSeries has no ``state``; core's is deprecated and never set.
        out["series"].pop("state", None)
    return out


def _events_event_to_core(obj: dict[str, Any]) -> dict[str, Any]:
    return {_EVENT_RENAMES_BACK.get(key, key): value for key, value in obj.items()}


_EVENTS_API = _Member(_events_event_to_core, _core_event_to_events)


# --- EndpointSlice: discovery v1 (hub) <-> v1beta1 ---------------------------------------------

_ZONE_LABEL = "topology.kubernetes.io/zone"
_HOSTNAME_LABEL = "kubernetes.io/hostname"


def _beta_slice_to_v1(obj: dict[str, Any]) -> dict[str, Any]:
    for endpoint in obj.get("endpoints") or []:
        if isinstance(endpoint, dict) and isinstance(endpoint.get("topology"), dict):
            _beta_endpoint_to_v1(endpoint)
        elif isinstance(endpoint, dict):
            endpoint.pop("topology", None)
    return obj


def _beta_endpoint_to_v1(endpoint: dict[str, Any]) -> None:
    topology: dict[str, Any] = endpoint.pop("topology")
    rest = dict(topology)
    if _ZONE_LABEL in topology:
        endpoint["zone"] = rest.pop(_ZONE_LABEL)
    if _HOSTNAME_LABEL in topology:
        # As upstream: the hostname becomes nodeName when there is none, and is dropped when it
        # repeats nodeName; a different hostname stays in deprecatedTopology.
        if endpoint.get("nodeName") is None:
            endpoint["nodeName"] = rest.pop(_HOSTNAME_LABEL)
        elif endpoint["nodeName"] == topology[_HOSTNAME_LABEL]:
            del rest[_HOSTNAME_LABEL]
    if rest:
        endpoint["deprecatedTopology"] = rest


def _v1_slice_to_beta(obj: dict[str, Any]) -> dict[str, Any]:
    for endpoint in obj.get("endpoints") or []:
        if isinstance(endpoint, dict):
            _v1_endpoint_to_beta(endpoint)
    return obj


def _v1_endpoint_to_beta(endpoint: dict[str, Any]) -> None:
    deprecated, zone = endpoint.pop("deprecatedTopology", None), endpoint.pop("zone", None)
    node = endpoint.get("nodeName")
    if deprecated is None and zone is None and node is None:
        return
    topology = dict(deprecated or {})
    if zone is not None:
        topology[_ZONE_LABEL] = zone
    if node is not None and not topology.get(_HOSTNAME_LABEL):
        topology[_HOSTNAME_LABEL] = node
    endpoint["topology"] = topology


# --- HorizontalPodAutoscaler: autoscaling/v2 (hub) <-> v1 --------------------------------------

_METRICS = "autoscaling.alpha.kubernetes.io/metrics"
_CURRENT_METRICS = "autoscaling.alpha.kubernetes.io/current-metrics"
_CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
_BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
_ROUND_TRIP = (_METRICS, _CURRENT_METRICS, _CONDITIONS, _BEHAVIOR)
_DEFAULT_CPU_UTILIZATION = 80

_SOURCES = {
    "Resource": "resource",
    "ContainerResource": "containerResource",
    "Pods": "pods",
    "Object": "object",
    "External": "external",
}

# v1 (v2beta1-style) member name -> path inside the v2 source, per metric type.
_Fields = tuple[tuple[str, tuple[str, ...]], ...]
_NAME: _Fields = (("name", ("name",)),)
_CONTAINER: _Fields = (*_NAME, ("container", ("container",)))
_METRIC: _Fields = (("metricName", ("metric", "name")), ("selector", ("metric", "selector")))
_EXTERNAL: _Fields = (
    ("metricName", ("metric", "name")),
    ("metricSelector", ("metric", "selector")),
)
_TARGET_UTILIZATION: _Fields = (
    ("targetAverageUtilization", ("target", "averageUtilization")),
    ("targetAverageValue", ("target", "averageValue")),
)
_CURRENT_UTILIZATION: _Fields = (
    ("currentAverageUtilization", ("current", "averageUtilization")),
    ("currentAverageValue", ("current", "averageValue")),
)
_SPEC_FIELDS: dict[str, _Fields] = {
    "Resource": _NAME + _TARGET_UTILIZATION,
    "ContainerResource": _CONTAINER + _TARGET_UTILIZATION,
    "Pods": (*_METRIC, ("targetAverageValue", ("target", "averageValue"))),
    "Object": (
        ("target", ("describedObject",)),
        *_METRIC,
        ("targetValue", ("target", "value")),
        ("averageValue", ("target", "averageValue")),
    ),
    "External": (
        *_EXTERNAL,
        ("targetValue", ("target", "value")),
        ("targetAverageValue", ("target", "averageValue")),
    ),
}
_STATUS_FIELDS: dict[str, _Fields] = {
    "Resource": _NAME + _CURRENT_UTILIZATION,
    "ContainerResource": _CONTAINER + _CURRENT_UTILIZATION,
    "Pods": (*_METRIC, ("currentAverageValue", ("current", "averageValue"))),
    "Object": (
        ("target", ("describedObject",)),
        *_METRIC,
        ("currentValue", ("current", "value")),
        ("averageValue", ("current", "averageValue")),
    ),
    "External": (
        *_EXTERNAL,
        ("currentValue", ("current", "value")),
        ("currentAverageValue", ("current", "averageValue")),
    ),
}


def _source(metric: Any) -> tuple[str, str, dict[str, Any]] | None:
    """(type, member name, source) of a metric whose type this module knows."""
    kind = metric.get("type") if isinstance(metric, dict) else None
    member = _SOURCES.get(kind) if isinstance(kind, str) else None
    source = metric.get(member) if member is not None else None
    if kind is None or member is None or not isinstance(source, dict):
        return None
    return kind, member, source


def _metric_to_v1(metric: Any, fields: dict[str, _Fields]) -> Any:
    """A v2 MetricSpec/MetricStatus in v1's annotation shape; unknown types pass unchanged."""
    if (found := _source(metric)) is None:
        return metric
    kind, member, source = found
    out: dict[str, Any] = {}
    for v1_name, path in fields[kind]:
        node: Any = source
        for step in path:
            node = node.get(step, _MISSING) if isinstance(node, dict) else _MISSING
        if node is not _MISSING:
            out[v1_name] = node
    return {"type": kind, member: out}


_MISSING = object()


def _metric_from_v1(metric: Any, fields: dict[str, _Fields], *, spec: bool) -> Any:
    """The inverse of ``_metric_to_v1``; a spec's ``target.type`` is inferred as upstream."""
    if (found := _source(metric)) is None:
        return metric
    kind, member, source = found
    out: dict[str, Any] = {}
    for v1_name, path in fields[kind]:
        if v1_name in source:
            node = out
            for step in path[:-1]:
                node = node.setdefault(step, {})
            node[path[-1]] = source[v1_name]
    if spec:
        target = out.get("target", {})
        out["target"] = {"type": _target_type(kind, target), **target}
    return {"type": kind, member: out}


def _target_type(kind: str, target: Mapping[str, Any]) -> str:
    if kind in ("Resource", "ContainerResource"):
        return "Utilization" if "averageUtilization" in target else "AverageValue"
    if kind == "Pods":
        return "AverageValue"
    if kind == "Object":
        return "AverageValue" if "averageValue" in target else "Value"
    return "Value" if "value" in target else "AverageValue"


def _cpu_metric(utilization: Any) -> dict[str, Any]:
    target = {"type": "Utilization", "averageUtilization": utilization}
    return {"type": "Resource", "resource": {"name": "cpu", "target": target}}


def _cpu_utilization(metric: Any, *, side: str = "target") -> Any:
    """The CPU utilization a Resource metric targets (or reports), else ``None``."""
    if not isinstance(metric, dict) or metric.get("type") != "Resource":
        return None
    resource = metric.get("resource")
    if not isinstance(resource, dict) or resource.get("name") != "cpu":
        return None
    values = resource.get(side)
    return values.get("averageUtilization") if isinstance(values, dict) else None


def _hpa_v2_to_v1(obj: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, str] = {}
    spec, status = obj.get("spec"), obj.get("status")
    if isinstance(spec, dict):
        cpu, saved = _split_cpu_target(spec.pop("metrics", None) or [])
        if cpu is not None:
            spec["targetCPUUtilizationPercentage"] = cpu
        if saved:
            extra[_METRICS] = _encode([_metric_to_v1(m, _SPEC_FIELDS) for m in saved])
        behavior = spec.pop("behavior", None)
        if behavior is not None:
            # Upstream marshals its internal type, whose JSON keys are Go field names.
            extra[_BEHAVIOR] = _encode(_rekey(behavior, str.upper))
    if isinstance(status, dict):
        current = status.pop("currentMetrics", None) or []
        reported = (_cpu_utilization(m, side="current") for m in current)
        cpu_now = next((u for u in reported if u is not None), None)
        if cpu_now is not None:
            status["currentCPUUtilizationPercentage"] = cpu_now
        if current:
            extra[_CURRENT_METRICS] = _encode([_metric_to_v1(m, _STATUS_FIELDS) for m in current])
        if conditions := status.pop("conditions", None):
            extra[_CONDITIONS] = _encode(conditions)
    _set_round_trip_annotations(obj, extra)
    return obj


def _split_cpu_target(metrics: list[Any]) -> tuple[Any, list[Any]]:
    """v1's CPU target and the metrics its annotation must keep.

    Upstream stores every metric but the CPU one and appends that one last on the way back. When
    it is not last (or not in its plain shape) that would reorder or lose data, so the whole list
    is kept and the way back updates the CPU entry in place instead.
    """
    index = next((i for i, m in enumerate(metrics) if _cpu_utilization(m) is not None), None)
    if index is None:
        return None, metrics
    cpu = _cpu_utilization(metrics[index])
    if index == len(metrics) - 1 and metrics[index] == _cpu_metric(cpu):
        return cpu, metrics[:-1]
    return cpu, metrics


def _hpa_v1_to_v2(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    annotations = annotations if isinstance(annotations, dict) else {}
    spec, status = obj.get("spec"), obj.get("status")
    if isinstance(spec, dict):
        saved = _decode_list(annotations, _METRICS)
        metrics = [_metric_from_v1(m, _SPEC_FIELDS, spec=True) for m in saved]
        spec["metrics"] = _with_cpu_target(
            metrics, spec.pop("targetCPUUtilizationPercentage", None)
        )
        behavior = _decode_behavior(annotations.get(_BEHAVIOR))
        if behavior:
            spec["behavior"] = behavior
    if isinstance(status, dict):
        cpu_now = status.pop("currentCPUUtilizationPercentage", None)
        if _CURRENT_METRICS in annotations:
            # As upstream: the annotation has more than the CPU field and wins over it.
            saved = _decode_list(annotations, _CURRENT_METRICS)
            status["currentMetrics"] = [
                _metric_from_v1(m, _STATUS_FIELDS, spec=False) for m in saved
            ]
        elif cpu_now is not None:
            current = {"averageUtilization": cpu_now}
            status["currentMetrics"] = [
                {"type": "Resource", "resource": {"name": "cpu", "current": current}}
            ]
        if _CONDITIONS in annotations:
            status["conditions"] = _decode_list(annotations, _CONDITIONS)
    _set_round_trip_annotations(obj, {})
    return obj


def _with_cpu_target(metrics: list[Any], cpu: Any) -> list[Any]:
    index = next((i for i, m in enumerate(metrics) if _cpu_utilization(m) is not None), None)
    if index is not None and cpu is None:
        del metrics[index]  # a v1 client dropped targetCPUUtilizationPercentage
    elif index is not None:
        metrics[index]["resource"]["target"]["averageUtilization"] = cpu
    elif cpu is not None:
        metrics.append(_cpu_metric(cpu))
    # v1's implicit default, made explicit as upstream does in this conversion.
    return metrics or [_cpu_metric(_DEFAULT_CPU_UTILIZATION)]


def _set_round_trip_annotations(obj: dict[str, Any], extra: dict[str, str]) -> None:
    """Replace the round-trip annotations by ``extra``, dropping a map left empty by that."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        if not extra:
            return
        meta = obj["metadata"] = {}
    current = meta.get("annotations")
    current = current if isinstance(current, dict) else {}
    kept = {k: v for k, v in current.items() if k not in _ROUND_TRIP}
    if kept or extra:
        meta["annotations"] = kept | extra
    elif len(kept) != len(current):
        del meta["annotations"]


def _encode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _decode_list(annotations: Mapping[str, Any], name: str) -> list[Any]:
    text = annotations.get(name)
    if text is None:
        return []
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        value = None
    if not isinstance(value, list):
        raise BadRequest(f"invalid value in annotation {name}: expected a JSON list")
    return value


def _decode_behavior(text: Any) -> dict[str, Any] | None:
    """The behavior annotation, read case-insensitively; malformed text is ignored (upstream)."""
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    behavior: dict[str, Any] = _rekey(value, str.lower)
    return behavior


def _rekey(value: Any, case: Callable[[str], str]) -> Any:
    """``value`` with each object key's first letter passed through ``case``; nulls dropped."""
    if isinstance(value, dict):
        return {
            case(key[:1]) + key[1:]: _rekey(item, case)
            for key, item in value.items()
            if item is not None
        }
    if isinstance(value, list):
        return [_rekey(item, case) for item in value]
    return value


_HPA_V1 = _Member(_hpa_v1_to_v2, _hpa_v2_to_v1)


# --- Ingress: extensions/v1beta1 and networking.k8s.io/v1beta1 <-> networking.k8s.io/v1 ----


def _backend_to_v1(backend: Any) -> Any:
    if not isinstance(backend, dict) or "serviceName" not in backend:
        return backend
    port = backend.get("servicePort")
    out = {k: v for k, v in backend.items() if k not in ("serviceName", "servicePort")}
    out["service"] = {
        "name": backend["serviceName"],
        "port": {"name": port} if isinstance(port, str) else {"number": port},
    }
    return out


def _backend_to_beta(backend: Any) -> Any:
    if not isinstance(backend, dict) or "service" not in backend:
        return backend
    service = backend["service"] or {}
    port = service.get("port") or {}
    out = {k: v for k, v in backend.items() if k != "service"}
    out["serviceName"] = service.get("name", "")
    out["servicePort"] = port.get("name") if port.get("name") else port.get("number", 0)
    return out


def _ingress_paths(obj: dict[str, Any], convert_backend: Converter) -> None:
    for rule in (obj.get("spec") or {}).get("rules") or []:
        for path in ((rule or {}).get("http") or {}).get("paths") or []:
            if isinstance(path, dict) and "backend" in path:
                path["backend"] = convert_backend(path["backend"])


def _ingress_beta_to_v1(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    if "backend" in spec:
        spec["defaultBackend"] = _backend_to_v1(spec.pop("backend"))
    _ingress_paths(obj, _backend_to_v1)
    return obj


def _ingress_v1_to_beta(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    if "defaultBackend" in spec:
        spec["backend"] = _backend_to_beta(spec.pop("defaultBackend"))
    _ingress_paths(obj, _backend_to_beta)
    return obj


_INGRESS_BETA = _Member(_ingress_beta_to_v1, _ingress_v1_to_beta)


# --- the registry ------------------------------------------------------------------------------

_FAMILIES: dict[str, dict[str, _Member]] = {
    "HorizontalPodAutoscaler": {
        "autoscaling/v2": _IDENTICAL,
        "autoscaling/v2beta2": _IDENTICAL,
        "autoscaling/v1": _HPA_V1,
    },
    "Event": {
        "v1": _IDENTICAL,
        "events.k8s.io/v1": _EVENTS_API,
        "events.k8s.io/v1beta1": _EVENTS_API,
    },
    "EndpointSlice": {
        "discovery.k8s.io/v1": _IDENTICAL,
        "discovery.k8s.io/v1beta1": _Member(_beta_slice_to_v1, _v1_slice_to_beta),
    },
    "CronJob": {"batch/v1": _IDENTICAL, "batch/v1beta1": _IDENTICAL},
    # policy/v1beta1 reads an empty selector ({}) as "no pods" where policy/v1 reads it as "all
    # pods"; upstream marks such v1beta1 objects during conversion. Atoll converts the shape
    # only, so a v1beta1 PDB with an empty selector protects every pod in its namespace.
    "PodDisruptionBudget": {"policy/v1": _IDENTICAL, "policy/v1beta1": _IDENTICAL},
    "Eviction": {"policy/v1": _IDENTICAL, "policy/v1beta1": _IDENTICAL},
    "Ingress": {
        "networking.k8s.io/v1": _IDENTICAL,
        "networking.k8s.io/v1beta1": _INGRESS_BETA,
        "extensions/v1beta1": _INGRESS_BETA,
    },
}
