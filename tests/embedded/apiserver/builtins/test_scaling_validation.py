"""HorizontalPodAutoscaler and PodDisruptionBudget validation."""

from __future__ import annotations

from typing import Any

from atoll.embedded.apiserver.builtins import default, validate


def _messages(group: str, kind: str, obj: dict[str, Any]) -> list[str]:
    default(group, kind, obj)
    return [str(e) for e in validate(group, kind, obj, None, namespaced=True)]


def _hpa(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            **spec,
        },
    }


def test_autoscaler() -> None:
    assert _messages("autoscaling", "HorizontalPodAutoscaler", _hpa(maxReplicas=3)) == []
    assert _messages(
        "autoscaling", "HorizontalPodAutoscaler", _hpa(minReplicas=0, maxReplicas=0)
    ) == [
        "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
        "spec.maxReplicas: Invalid value: 0: must be greater than 0",
    ]
    assert _messages(
        "autoscaling", "HorizontalPodAutoscaler", _hpa(minReplicas=5, maxReplicas=2)
    ) == ["spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"]
    no_target = {"apiVersion": "autoscaling/v1", "spec": {"maxReplicas": 2, "scaleTargetRef": {}}}
    assert _messages("autoscaling", "HorizontalPodAutoscaler", no_target) == [
        "spec.scaleTargetRef.kind: Required value",
        "spec.scaleTargetRef.name: Required value",
    ]


def test_disruption_budget() -> None:
    assert _messages("policy", "PodDisruptionBudget", {"spec": {"minAvailable": "50%"}}) == []
    both = {"spec": {"minAvailable": 1, "maxUnavailable": "150%"}}
    assert _messages("policy", "PodDisruptionBudget", both) == [
        "spec: Invalid value: policy.PodDisruptionBudgetSpec{MinAvailable:1, MaxUnavailable:150%}: "
        "minAvailable and maxUnavailable cannot be both set",
        "spec.maxUnavailable: Invalid value: 150%: must not be greater than 100%",
    ]
    assert _messages("policy", "PodDisruptionBudget", {"spec": {"minAvailable": "half"}})[
        0
    ].startswith("spec.minAvailable: Invalid value: half: a valid percent string")
