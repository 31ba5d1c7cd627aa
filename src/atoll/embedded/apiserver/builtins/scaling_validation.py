"""Validation of HorizontalPodAutoscaler and PodDisruptionBudget (kube 1.20 wording).

An autoscaler needs ``1 <= minReplicas <= maxReplicas`` and a named ``scaleTargetRef``; a
disruption budget sets ``minAvailable`` or ``maxUnavailable``, not both, each a non-negative
int or a percentage of at most 100%.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atoll.embedded.apiserver.builtins.checks import (
    GoValue,
    as_list,
    as_map,
    as_str,
    int_or_percent_errors,
    label_selector_errors,
    percent_over_100,
)
from atoll.embedded.apiserver.builtins.names import path_segment_errors
from atoll.embedded.apiserver.builtins.resources import quantity_of
from atoll.errors import FieldError

__all__ = ["autoscaler_errors", "disruption_budget_errors"]

Obj = Mapping[str, Any]
_METRIC_TYPES = ("ContainerResource", "External", "Object", "Pods", "Resource")


def _target_ref_errors(ref: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    for key in ("kind", "name"):
        value = as_str(ref.get(key))
        path = f"spec.scaleTargetRef.{key}"
        if not value:
            errors.append(FieldError.required(path))
        else:
            errors += [FieldError.invalid(path, value, m) for m in path_segment_errors(value)]
    return errors


def _metric_errors(metrics: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, metric in enumerate(map(as_map, as_list(metrics))):
        where = f"spec.metrics[{i}]"
        kind = metric.get("type")
        if not kind:
            errors.append(FieldError.required(f"{where}.type", "must specify a metric source type"))
            continue
        if kind not in _METRIC_TYPES:
            errors.append(FieldError.not_supported(f"{where}.type", kind, _METRIC_TYPES))
            continue
        source_key = kind[:1].lower() + kind[1:]
        if metric.get(source_key) is None:
            errors.append(
                FieldError.required(
                    f"{where}.{source_key}",
                    "must populate information for the given metric source",
                )
            )
        target = as_map(as_map(metric.get(source_key)).get("target"))
        for name in ("value", "averageValue"):
            amount = quantity_of(target.get(name))
            if amount is not None and amount <= 0:
                errors.append(
                    FieldError.invalid(
                        f"{where}.{source_key}.target.{name}",
                        GoValue(str(target.get(name))),
                        "must be positive",
                    )
                )
    return errors


def autoscaler_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = as_map(obj.get("spec"))
    errors: list[FieldError] = []
    low, high = spec.get("minReplicas"), spec.get("maxReplicas")
    high = high if isinstance(high, int) else 0
    if isinstance(low, int) and low < 1:
        errors.append(
            FieldError.invalid("spec.minReplicas", low, "must be greater than or equal to 1")
        )
    if high < 1:
        errors.append(FieldError.invalid("spec.maxReplicas", high, "must be greater than 0"))
    if isinstance(low, int) and high < low:
        errors.append(
            FieldError.invalid(
                "spec.maxReplicas", high, "must be greater than or equal to `minReplicas`"
            )
        )
    ref_errors = _target_ref_errors(as_map(spec.get("scaleTargetRef")))
    if ref_errors:
        return errors + ref_errors
    target = spec.get("targetCPUUtilizationPercentage")
    if isinstance(target, int) and target < 1:
        errors.append(
            FieldError.invalid(
                "spec.targetCPUUtilizationPercentage", target, "must be greater than 0"
            )
        )
    return errors + _metric_errors(spec.get("metrics"))


def disruption_budget_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = as_map(obj.get("spec"))
    errors: list[FieldError] = []
    least, most = spec.get("minAvailable"), spec.get("maxUnavailable")
    if least is not None and most is not None:
        shown = GoValue(
            f"policy.PodDisruptionBudgetSpec{{MinAvailable:{least}, MaxUnavailable:{most}}}"
        )
        errors.append(
            FieldError.invalid("spec", shown, "minAvailable and maxUnavailable cannot be both set")
        )
    for key, value in (("minAvailable", least), ("maxUnavailable", most)):
        if value is not None:
            errors += int_or_percent_errors(f"spec.{key}", value)
            errors += percent_over_100(f"spec.{key}", value)
    if spec.get("selector") is not None:
        errors += label_selector_errors("spec.selector", spec.get("selector"))
    return errors
