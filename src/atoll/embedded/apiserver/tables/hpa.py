"""The HorizontalPodAutoscaler table (1.20's ``printHorizontalPodAutoscaler``).

The real server prints from its internal (v2-shaped) object whatever version was stored, so
every served shape is first read as v2:

- ``autoscaling/v1``: ``targetCPUUtilizationPercentage`` (default 80, applied by the server when
  converting) becomes one CPU utilisation metric, ``currentCPUUtilizationPercentage`` its
  current value;
- ``v2beta1``: ``targetAverageUtilization``/``targetAverageValue``/``targetValue`` and the
  ``current*`` fields become ``target``/``current``;
- ``v2beta2`` and ``v2``: used as they are.

TARGETS shows at most two metrics, "current/target", with ``<unknown>`` before metrics exist.
1.20 has no "cpu: " prefix on resource metrics (that came in 1.27). A quantity missing where Go
dereferences a nil ``*Quantity`` prints ``<nil>``, as upstream.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from atoll.embedded.apiserver.tables.ages import age
from atoll.embedded.apiserver.tables.columns import AGE, NAME, Printer, field
from atoll.embedded.apiserver.tables.fields import (
    integer,
    items,
    mapping,
    optional_integer,
    optional_mapping,
    text,
)

MAX_METRICS = 2
# The CPU utilisation the server assumes when an autoscaling/v1 object sets no target.
DEFAULT_CPU_UTILIZATION = 80

_SOURCE_KEYS = {
    "Resource": "resource",
    "Pods": "pods",
    "Object": "object",
    "External": "external",
    "ContainerResource": "containerResource",
}


def _quantity(obj: Mapping[str, Any] | None, key: str) -> str | None:
    value = None if obj is None else obj.get(key)
    if isinstance(value, bool) or value is None:
        return None
    return str(value)


def _as_v2(source: Mapping[str, Any], new: str, prefix: str) -> Mapping[str, Any]:
    """The ``target`` (or ``current``) of a metric source, from v2 or v2beta1 fields."""
    nested = optional_mapping(source, new)
    if nested is not None:
        return nested
    value_key = f"{prefix}Value"
    return {
        "averageUtilization": source.get(f"{prefix}AverageUtilization"),
        "averageValue": source.get(f"{prefix}AverageValue", source.get("averageValue")),
        "value": source.get(value_key),
    }


def _metric_specs(hpa: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    metrics = items(hpa, "spec", "metrics")
    if metrics:
        return metrics
    target = optional_integer(hpa, "spec", "targetCPUUtilizationPercentage")
    utilization = DEFAULT_CPU_UTILIZATION if target is None else target
    return [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"averageUtilization": utilization}},
        }
    ]


def _metric_statuses(hpa: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if items(hpa, "status", "currentMetrics") or items(hpa, "spec", "metrics"):
        return items(hpa, "status", "currentMetrics")
    current = optional_integer(hpa, "status", "currentCPUUtilizationPercentage")
    if current is None:
        return []
    return [{"type": "Resource", "resource": {"current": {"averageUtilization": current}}}]


def _current(statuses: list[Mapping[str, Any]], index: int, key: str) -> Mapping[str, Any] | None:
    """The current value of metric ``index``, or ``None`` when the status has none yet."""
    if index >= len(statuses):
        return None
    source = optional_mapping(statuses[index], key)
    return None if source is None else _as_v2(source, "current", "current")


def _shown(obj: Mapping[str, Any], key: str) -> str:
    # Go calls String() on a possibly nil *Quantity, which prints "<nil>".
    value = _quantity(obj, key)
    return "<nil>" if value is None else value


def _format_metric(spec: Mapping[str, Any], current: Mapping[str, Any] | None) -> str:
    metric_type = text(spec, "type")
    key = _SOURCE_KEYS.get(metric_type)
    if key is None:
        return "<unknown type>"
    target = _as_v2(mapping(spec, key), "target", "target")
    unknown = "<unknown>"
    if metric_type == "Pods" or (
        metric_type in ("Resource", "ContainerResource")
        and _quantity(target, "averageValue") is not None
    ):
        now = unknown if current is None else _shown(current, "averageValue")
        return f"{now}/{_shown(target, 'averageValue')}"
    if metric_type in ("Resource", "ContainerResource"):
        used = None if current is None else optional_integer(current, "averageUtilization")
        wanted = optional_integer(target, "averageUtilization")
        now = unknown if used is None else f"{used}%"
        return f"{now}/{'<auto>' if wanted is None else f'{wanted}%'}"
    # Object and External: an average target is marked "(avg)".
    if _quantity(target, "averageValue") is not None:
        average = None if current is None else _quantity(current, "averageValue")
        return f"{average or unknown}/{_shown(target, 'averageValue')} (avg)"
    now = unknown if current is None else _shown(current, "value")
    return f"{now}/{_shown(target, 'value')}"


def format_targets(hpa: Mapping[str, Any]) -> str:
    """The TARGETS cell."""
    specs, statuses = _metric_specs(hpa), _metric_statuses(hpa)
    listed = []
    for index, spec in enumerate(specs):
        key = _SOURCE_KEYS.get(text(spec, "type"), "")
        listed.append(_format_metric(spec, _current(statuses, index, key)))
    if len(listed) > MAX_METRICS:
        shown = ", ".join(listed[:MAX_METRICS])
        return f"{shown} + {len(listed) - MAX_METRICS} more..."
    return ", ".join(listed)


def _hpa_cells(hpa: Mapping[str, Any], now: datetime) -> list[Any]:
    target = mapping(hpa, "spec", "scaleTargetRef")
    min_replicas = optional_integer(hpa, "spec", "minReplicas")
    return [
        text(hpa, "metadata", "name"),
        f"{text(target, 'kind')}/{text(target, 'name')}",
        format_targets(hpa),
        # minReplicas is defaulted to 1 by the server in every version.
        str(1 if min_replicas is None else min_replicas),
        integer(hpa, "spec", "maxReplicas"),
        integer(hpa, "status", "currentReplicas"),
        age(text(hpa, "metadata", "creationTimestamp"), now),
    ]


HORIZONTAL_POD_AUTOSCALER = Printer(
    (
        NAME,
        field("Reference", "HorizontalPodAutoscalerSpec.scaleTargetRef"),
        field("Targets", "HorizontalPodAutoscalerSpec.metrics"),
        field("MinPods", "HorizontalPodAutoscalerSpec.minReplicas"),
        field("MaxPods", "HorizontalPodAutoscalerSpec.maxReplicas"),
        field("Replicas", "HorizontalPodAutoscalerStatus.currentReplicas"),
        AGE,
    ),
    _hpa_cells,
)

PRINTERS = {("autoscaling", "HorizontalPodAutoscaler"): HORIZONTAL_POD_AUTOSCALER}
