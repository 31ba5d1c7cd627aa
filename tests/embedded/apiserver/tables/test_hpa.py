"""The HorizontalPodAutoscaler table over autoscaling/v1, v2beta1 and v2beta2/v2 objects."""

from __future__ import annotations

from typing import Any

import pytest
from tests.embedded.apiserver.tables.tables_support import NOW, meta

from atoll.embedded.apiserver.tables import column_definitions, row_cells

REF = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}


def hpa(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    base = {"scaleTargetRef": REF, "minReplicas": 2, "maxReplicas": 10}
    return {"metadata": meta("web"), "spec": {**base, **spec}, "status": status or {}}


def targets(obj: dict[str, Any]) -> str:
    cells = row_cells("autoscaling", "HorizontalPodAutoscaler", obj, now=NOW)
    return str(cells[2])


def test_columns_and_row() -> None:
    columns = column_definitions("autoscaling", "HorizontalPodAutoscaler")
    assert [c["name"] for c in columns] == [
        "Name",
        "Reference",
        "Targets",
        "MinPods",
        "MaxPods",
        "Replicas",
        "Age",
    ]
    obj = hpa(
        {"targetCPUUtilizationPercentage": 50},
        {"currentReplicas": 3, "currentCPUUtilizationPercentage": 20},
    )
    assert row_cells("autoscaling", "HorizontalPodAutoscaler", obj, now=NOW) == [
        "web",
        "Deployment/web",
        "20%/50%",
        "2",
        10,
        3,
        "5m",
    ]


@pytest.mark.parametrize(
    ("spec", "status", "expected"),
    [
        # autoscaling/v1
        ({}, {}, "<unknown>/80%"),
        ({"targetCPUUtilizationPercentage": 70}, {"currentReplicas": 0}, "<unknown>/70%"),
        ({"targetCPUUtilizationPercentage": 70}, {"currentCPUUtilizationPercentage": 0}, "0%/70%"),
        # autoscaling/v2beta2 and v2
        (
            {
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 60},
                        },
                    }
                ]
            },
            {
                "currentMetrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "current": {"averageUtilization": 45, "averageValue": "120m"},
                        },
                    }
                ]
            },
            "45%/60%",
        ),
        (
            {
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "memory",
                            "target": {"type": "AverageValue", "averageValue": "500Mi"},
                        },
                    }
                ]
            },
            {
                "currentMetrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "memory", "current": {"averageValue": "300Mi"}},
                    }
                ]
            },
            "300Mi/500Mi",
        ),
        (
            {
                "metrics": [
                    {
                        "type": "Pods",
                        "pods": {
                            "metric": {"name": "qps"},
                            "target": {"type": "AverageValue", "averageValue": "10"},
                        },
                    }
                ]
            },
            {},
            "<unknown>/10",
        ),
        (
            {
                "metrics": [
                    {
                        "type": "Object",
                        "object": {
                            "metric": {"name": "hits"},
                            "target": {"type": "Value", "value": "2k"},
                        },
                    }
                ]
            },
            {"currentMetrics": [{"type": "Object", "object": {"current": {"value": "1500"}}}]},
            "1500/2k",
        ),
        (
            {
                "metrics": [
                    {
                        "type": "External",
                        "external": {
                            "metric": {"name": "queue"},
                            "target": {"type": "AverageValue", "averageValue": "30"},
                        },
                    }
                ]
            },
            {"currentMetrics": [{"type": "External", "external": {"current": {"value": "7"}}}]},
            "<unknown>/30 (avg)",
        ),
        (
            {
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization"}},
                    }
                ]
            },
            {},
            "<unknown>/<auto>",
        ),
        (
            {
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "memory", "target": {"averageValue": "1Gi"}},
                    }
                ]
            },
            {
                "currentMetrics": [
                    {"type": "Resource", "resource": {"current": {"averageUtilization": 5}}}
                ]
            },
            "<nil>/1Gi",  # Go prints a nil *Quantity as <nil>
        ),
        (
            {"metrics": [{"type": "Bogus"}]},
            {},
            "<unknown type>",
        ),
        # autoscaling/v2beta1
        (
            {
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "targetAverageUtilization": 75},
                    }
                ]
            },
            {
                "currentMetrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "currentAverageUtilization": 30,
                            "currentAverageValue": "100m",
                        },
                    }
                ]
            },
            "30%/75%",
        ),
        (
            {
                "metrics": [
                    {
                        "type": "Object",
                        "object": {
                            "metricName": "hits",
                            "targetValue": "100",
                            "averageValue": "10",
                        },
                    }
                ]
            },
            {
                "currentMetrics": [
                    {"type": "Object", "object": {"currentValue": "40", "averageValue": "4"}}
                ]
            },
            "4/10 (avg)",
        ),
        (
            {
                "metrics": [
                    {"type": "External", "external": {"metricName": "q", "targetValue": "9"}}
                ]
            },
            {"currentMetrics": [{"type": "External", "external": {"currentValue": "3"}}]},
            "3/9",
        ),
    ],
)
def test_targets(spec: dict[str, Any], status: dict[str, Any], expected: str) -> None:
    assert targets(hpa(spec, status)) == expected


def test_more_than_two_metrics_are_summarised() -> None:
    metric = {"type": "Pods", "pods": {"metric": {"name": "m"}, "target": {"averageValue": "1"}}}
    assert targets(hpa({"metrics": [metric] * 4})) == "<unknown>/1, <unknown>/1 + 2 more..."


def test_fresh_hpa() -> None:
    assert row_cells("autoscaling", "HorizontalPodAutoscaler", {}, now=NOW) == [
        "",
        "/",
        "<unknown>/80%",
        "1",
        0,
        0,
        "<unknown>",
    ]
