"""HorizontalPodAutoscaler conversions: autoscaling/v1 fields and annotations <-> v2."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.embedded.apiserver.conversions import convert
from atoll.errors import BadRequest

METRICS = "autoscaling.alpha.kubernetes.io/metrics"
CURRENT = "autoscaling.alpha.kubernetes.io/current-metrics"
CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"


def round_trip(obj: dict[str, Any], via: str) -> dict[str, Any]:
    before = copy.deepcopy(obj)
    back = convert(convert(obj, to_api_version=via), to_api_version=obj["apiVersion"])
    assert obj == before, "convert mutated its input"
    return back


def hpa(api_version: str, spec: dict[str, Any], **extra: Any) -> dict[str, Any]:
    ref = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    return {
        "apiVersion": api_version,
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default", **extra.pop("metadata", {})},
        "spec": {"scaleTargetRef": ref, "minReplicas": 1, "maxReplicas": 4, **spec},
        **extra,
    }


def cpu(utilization: int) -> dict[str, Any]:
    target = {"type": "Utilization", "averageUtilization": utilization}
    return {"type": "Resource", "resource": {"name": "cpu", "target": target}}


MEMORY = {
    "type": "Resource",
    "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}},
}


def test_v1_cpu_target_becomes_a_v2_metric() -> None:
    v2 = convert(
        hpa("autoscaling/v1", {"targetCPUUtilizationPercentage": 50}),
        to_api_version="autoscaling/v2",
    )
    assert v2["spec"]["metrics"] == [cpu(50)]
    assert "targetCPUUtilizationPercentage" not in v2["spec"]
    assert "annotations" not in v2["metadata"]


def test_v1_without_target_gets_the_default_cpu_metric() -> None:
    v2 = convert(hpa("autoscaling/v1", {}), to_api_version="autoscaling/v2")
    assert v2["spec"]["metrics"] == [cpu(80)]


def test_v1_current_cpu_becomes_a_current_metric() -> None:
    v1 = hpa(
        "autoscaling/v1",
        {"targetCPUUtilizationPercentage": 50},
        status={"currentReplicas": 2, "desiredReplicas": 2, "currentCPUUtilizationPercentage": 7},
    )
    status = convert(v1, to_api_version="autoscaling/v2")["status"]
    assert status == {
        "currentReplicas": 2,
        "desiredReplicas": 2,
        "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 7}}}
        ],
    }


def test_v2_to_v1_writes_upstream_shaped_annotations() -> None:
    current = {"averageUtilization": 48, "averageValue": "4m"}
    condition = {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}
    v2 = hpa(
        "autoscaling/v2",
        {"metrics": [MEMORY, cpu(50)]},
        status={
            "currentReplicas": 5,
            "desiredReplicas": 5,
            "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": current}}
            ],
            "conditions": [condition],
        },
    )
    v1 = convert(v2, to_api_version="autoscaling/v1")
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 50
    assert "metrics" not in v1["spec"]
    assert v1["status"] == {
        "currentReplicas": 5,
        "desiredReplicas": 5,
        "currentCPUUtilizationPercentage": 48,
    }
    assert v1["metadata"]["annotations"] == {
        METRICS: '[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"100Mi"}}]',
        CURRENT: '[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":48,'
        '"currentAverageValue":"4m"}}]',
        CONDITIONS: '[{"type":"AbleToScale","status":"True","reason":"ReadyForNewScale"}]',
    }
    assert round_trip(v2, "autoscaling/v1") == v2


def test_v1_annotation_shapes_of_every_metric_type() -> None:
    selector = {"matchLabels": {"app": "web"}}
    v2_metrics = [
        {
            "type": "Pods",
            "pods": {
                "metric": {"name": "qps", "selector": selector},
                "target": {"type": "AverageValue", "averageValue": "10"},
            },
        },
        {
            "type": "Object",
            "object": {
                "describedObject": {"kind": "Ingress", "name": "main"},
                "metric": {"name": "hits"},
                "target": {"type": "Value", "value": "2k"},
            },
        },
        {
            "type": "External",
            "external": {
                "metric": {"name": "queue", "selector": selector},
                "target": {"type": "AverageValue", "averageValue": "30"},
            },
        },
        {
            "type": "ContainerResource",
            "containerResource": {
                "name": "cpu",
                "container": "app",
                "target": {"type": "Utilization", "averageUtilization": 60},
            },
        },
    ]
    v1 = convert(hpa("autoscaling/v2", {"metrics": v2_metrics}), to_api_version="autoscaling/v1")
    assert "targetCPUUtilizationPercentage" not in v1["spec"]
    assert json.loads(v1["metadata"]["annotations"][METRICS]) == [
        {
            "type": "Pods",
            "pods": {"metricName": "qps", "selector": selector, "targetAverageValue": "10"},
        },
        {
            "type": "Object",
            "object": {
                "target": {"kind": "Ingress", "name": "main"},
                "metricName": "hits",
                "targetValue": "2k",
            },
        },
        {
            "type": "External",
            "external": {
                "metricName": "queue",
                "metricSelector": selector,
                "targetAverageValue": "30",
            },
        },
        {
            "type": "ContainerResource",
            "containerResource": {
                "name": "cpu",
                "container": "app",
                "targetAverageUtilization": 60,
            },
        },
    ]
    assert convert(v1, to_api_version="autoscaling/v2")["spec"]["metrics"] == v2_metrics


def test_behavior_travels_with_go_field_names() -> None:
    behavior = {
        "scaleDown": {
            "stabilizationWindowSeconds": 300,
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        }
    }
    v2 = hpa("autoscaling/v2", {"metrics": [cpu(50)], "behavior": behavior})
    v1 = convert(v2, to_api_version="autoscaling/v1")
    assert json.loads(v1["metadata"]["annotations"][BEHAVIOR]) == {
        "ScaleDown": {
            "StabilizationWindowSeconds": 300,
            "SelectPolicy": "Max",
            "Policies": [{"Type": "Percent", "Value": 100, "PeriodSeconds": 15}],
        }
    }
    assert round_trip(v2, "autoscaling/v1") == v2


def test_behavior_annotation_is_read_case_insensitively_and_nulls_are_absent() -> None:
    text = '{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":null},"scaleDown":null}'
    v1 = hpa("autoscaling/v1", {}, metadata={"annotations": {BEHAVIOR: text}})
    v2 = convert(v1, to_api_version="autoscaling/v2")
    assert v2["spec"]["behavior"] == {"scaleUp": {"stabilizationWindowSeconds": 0}}
    assert "annotations" not in v2["metadata"]


@pytest.mark.parametrize("text", ["not json", "[1]", '"x"', "{}"])
def test_unusable_behavior_annotations_are_ignored(text: str) -> None:
    v1 = hpa("autoscaling/v1", {}, metadata={"annotations": {BEHAVIOR: text, "keep": "me"}})
    v2 = convert(v1, to_api_version="autoscaling/v2")
    assert "behavior" not in v2["spec"]
    assert v2["metadata"]["annotations"] == {"keep": "me"}


@pytest.mark.parametrize("annotation", [METRICS, CURRENT, CONDITIONS])
@pytest.mark.parametrize("text", ["not json", "{}", "3"])
def test_malformed_list_annotations_are_bad_requests(annotation: str, text: str) -> None:
    v1 = hpa("autoscaling/v1", {}, metadata={"annotations": {annotation: text}}, status={})
    with pytest.raises(BadRequest, match=annotation):
        convert(v1, to_api_version="autoscaling/v2")


def test_stale_round_trip_annotations_on_v2_are_replaced() -> None:
    stale = {METRICS: "[]", CONDITIONS: "[]", "team": "a"}
    v2 = hpa("autoscaling/v2", {"metrics": [cpu(50)]}, metadata={"annotations": stale})
    assert convert(v2, to_api_version="autoscaling/v1")["metadata"]["annotations"] == {"team": "a"}


def test_cpu_metric_order_survives_and_v1_edits_apply_in_place() -> None:
    v2 = hpa("autoscaling/v2", {"metrics": [cpu(50), MEMORY]})
    v1 = convert(v2, to_api_version="autoscaling/v1")
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 50
    assert round_trip(v2, "autoscaling/v1") == v2

    v1["spec"]["targetCPUUtilizationPercentage"] = 70
    assert convert(v1, to_api_version="autoscaling/v2")["spec"]["metrics"] == [cpu(70), MEMORY]
    del v1["spec"]["targetCPUUtilizationPercentage"]
    assert convert(v1, to_api_version="autoscaling/v2")["spec"]["metrics"] == [MEMORY]


def test_v1_objects_round_trip() -> None:
    v1 = hpa(
        "autoscaling/v1",
        {"targetCPUUtilizationPercentage": 50},
        metadata={"labels": {"app": "web"}},
        status={"currentReplicas": 1, "desiredReplicas": 1, "currentCPUUtilizationPercentage": 3},
    )
    back = round_trip(v1, "autoscaling/v2")
    # The current-metrics annotation is how v1 carries the full status; the fields match.
    assert back["spec"] == v1["spec"] and back["status"] == v1["status"]
    assert json.loads(back["metadata"]["annotations"][CURRENT]) == [
        {"type": "Resource", "resource": {"name": "cpu", "currentAverageUtilization": 3}}
    ]


def test_v1_and_v2beta2_convert_through_the_hub() -> None:
    v1 = hpa("autoscaling/v1", {"targetCPUUtilizationPercentage": 40})
    beta = convert(v1, to_api_version="autoscaling/v2beta2")
    assert beta["apiVersion"] == "autoscaling/v2beta2"
    assert beta["spec"]["metrics"] == [cpu(40)]
    assert convert(beta, to_api_version="autoscaling/v1") == v1


# --- HPA properties ----------------------------------------------------------------------------

QUANTITIES = st.sampled_from(["1", "250m", "100Mi", "2k"])
PERCENTS = st.integers(min_value=0, max_value=200)
SELECTORS = st.fixed_dictionaries({"matchLabels": st.fixed_dictionaries({"app": st.just("web")})})
IDENTIFIERS = st.fixed_dictionaries(
    {"name": st.sampled_from(["qps", "hits"])}, optional={"selector": SELECTORS}
)
UTILIZATION_TARGETS = st.one_of(
    st.builds(lambda u: {"type": "Utilization", "averageUtilization": u}, PERCENTS),
    st.builds(lambda q: {"type": "AverageValue", "averageValue": q}, QUANTITIES),
)
VALUE_TARGETS = st.one_of(
    st.builds(lambda q: {"type": "Value", "value": q}, QUANTITIES),
    st.builds(lambda q: {"type": "AverageValue", "averageValue": q}, QUANTITIES),
)
RESOURCE_NAMES = st.sampled_from(["cpu", "memory"])

SPEC_METRICS = st.one_of(
    st.builds(
        lambda n, t: {"type": "Resource", "resource": {"name": n, "target": t}},
        RESOURCE_NAMES,
        UTILIZATION_TARGETS,
    ),
    st.builds(
        lambda n, t: {
            "type": "ContainerResource",
            "containerResource": {"name": n, "container": "app", "target": t},
        },
        RESOURCE_NAMES,
        UTILIZATION_TARGETS,
    ),
    st.builds(
        lambda m, q: {
            "type": "Pods",
            "pods": {"metric": m, "target": {"type": "AverageValue", "averageValue": q}},
        },
        IDENTIFIERS,
        QUANTITIES,
    ),
    st.builds(
        lambda m, t: {
            "type": "Object",
            "object": {
                "describedObject": {"apiVersion": "v1", "kind": "Service", "name": "s"},
                "metric": m,
                "target": t,
            },
        },
        IDENTIFIERS,
        VALUE_TARGETS,
    ),
    st.builds(
        lambda m, t: {"type": "External", "external": {"metric": m, "target": t}},
        IDENTIFIERS,
        VALUE_TARGETS,
    ),
)

CURRENT_VALUES = st.fixed_dictionaries(
    {"averageValue": QUANTITIES}, optional={"averageUtilization": PERCENTS}
)
VALUE_STATUS = st.one_of(
    st.fixed_dictionaries({"value": QUANTITIES}),
    st.fixed_dictionaries({"averageValue": QUANTITIES}),
)
STATUS_METRICS = st.one_of(
    st.builds(
        lambda n, c: {"type": "Resource", "resource": {"name": n, "current": c}},
        RESOURCE_NAMES,
        CURRENT_VALUES,
    ),
    st.builds(
        lambda c: {"type": "Pods", "pods": {"metric": {"name": "qps"}, "current": c}},
        st.fixed_dictionaries({"averageValue": QUANTITIES}),
    ),
    st.builds(
        lambda m, c: {
            "type": "Object",
            "object": {
                "describedObject": {"kind": "Service", "name": "s"},
                "metric": m,
                "current": c,
            },
        },
        IDENTIFIERS,
        VALUE_STATUS,
    ),
    st.builds(
        lambda m, c: {"type": "External", "external": {"metric": m, "current": c}},
        IDENTIFIERS,
        VALUE_STATUS,
    ),
)

RULES = st.fixed_dictionaries(
    {},
    optional={
        "stabilizationWindowSeconds": st.integers(0, 3600),
        "selectPolicy": st.sampled_from(["Max", "Min", "Disabled"]),
        "policies": st.lists(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["Pods", "Percent"]),
                    "value": st.integers(1, 100),
                    "periodSeconds": st.integers(1, 1800),
                }
            ),
            min_size=1,
            max_size=2,
        ),
    },
).filter(bool)
BEHAVIORS = st.fixed_dictionaries({}, optional={"scaleUp": RULES, "scaleDown": RULES}).filter(bool)
CONDITION_LISTS = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["AbleToScale", "ScalingActive", "ScalingLimited"]),
            "status": st.sampled_from(["True", "False", "Unknown"]),
            "lastTransitionTime": st.just("2021-01-02T03:04:05Z"),
            "reason": st.sampled_from(["ReadyForNewScale", "ValidMetricFound"]),
            "message": st.text(max_size=10),
        }
    ),
    min_size=1,
    max_size=3,
)
STATUSES = st.fixed_dictionaries(
    {"currentReplicas": st.integers(0, 5), "desiredReplicas": st.integers(0, 5)},
    optional={
        "observedGeneration": st.integers(1, 9),
        "lastScaleTime": st.just("2021-01-02T03:04:05Z"),
        "currentMetrics": st.lists(STATUS_METRICS, min_size=1, max_size=3),
        "conditions": CONDITION_LISTS,
    },
)
ANNOTATIONS = st.dictionaries(st.sampled_from(["a", "b/c"]), st.text(max_size=5), min_size=1)


@st.composite
def v2_hpas(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"metrics": draw(st.lists(SPEC_METRICS, min_size=1, max_size=5))}
    if draw(st.booleans()):
        spec["behavior"] = draw(BEHAVIORS)
    extra: dict[str, Any] = {}
    if draw(st.booleans()):
        extra["status"] = draw(STATUSES)
    if draw(st.booleans()):
        extra["metadata"] = {"annotations": draw(ANNOTATIONS)}
    return hpa(draw(st.sampled_from(["autoscaling/v2", "autoscaling/v2beta2"])), spec, **extra)


@given(v2_hpas())
def test_hpa_v2_to_v1_to_v2_is_lossless(v2: dict[str, Any]) -> None:
    assert round_trip(v2, "autoscaling/v1") == v2


@given(v2_hpas())
def test_hpa_v1_view_agrees_with_the_v2_metrics(v2: dict[str, Any]) -> None:
    v1 = convert(v2, to_api_version="autoscaling/v1")
    utilizations = [
        m["resource"]["target"]["averageUtilization"]
        for m in v2["spec"]["metrics"]
        if m["type"] == "Resource"
        and m["resource"]["name"] == "cpu"
        and m["resource"]["target"]["type"] == "Utilization"
    ]
    assert v1["spec"].get("targetCPUUtilizationPercentage") == (utilizations or [None])[0]
    assert set(v1["spec"]) <= {
        "scaleTargetRef",
        "minReplicas",
        "maxReplicas",
        "targetCPUUtilizationPercentage",
    }
    assert "conditions" not in v1.get("status", {})
    assert "currentMetrics" not in v1.get("status", {})
