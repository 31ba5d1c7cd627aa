"""Conversions between served versions: the registry, Events, EndpointSlices, same-shape pairs.

HorizontalPodAutoscaler conversions are in ``test_conversions_hpa.py``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.embedded.apiserver.conversions import convert
from atoll.errors import BadRequest


def round_trip(obj: dict[str, Any], via: str) -> dict[str, Any]:
    before = copy.deepcopy(obj)
    there = convert(obj, to_api_version=via)
    assert there["apiVersion"] == via
    back = convert(there, to_api_version=obj["apiVersion"])
    assert obj == before, "convert mutated its input"
    return back


# --- the registry ------------------------------------------------------------------------------


def test_same_version_is_a_copy() -> None:
    obj = {"apiVersion": "batch/v1", "kind": "CronJob", "spec": {"schedule": "* * * * *"}}
    out = convert(obj, to_api_version="batch/v1")
    assert out == obj and out is not obj and out["spec"] is not obj["spec"]


@pytest.mark.parametrize(
    ("api_version", "kind", "target", "message"),
    [
        (
            "autoscaling/v1",
            "HorizontalPodAutoscaler",
            "autoscaling/v3",
            'no conversion for HorizontalPodAutoscaler from "autoscaling/v1" to "autoscaling/v3"',
        ),
        (
            "apps/v1",
            "Deployment",
            "apps/v1beta2",
            'no conversion for Deployment from "apps/v1" to "apps/v1beta2"',
        ),
        (
            "v1",
            "Event",
            "events.k8s.io/v2",
            'no conversion for Event from "v1" to "events.k8s.io/v2"',
        ),
        (
            "batch/v1",
            "Job",
            "batch/v1beta1",
            'no conversion for Job from "batch/v1" to "batch/v1beta1"',
        ),
    ],
)
def test_unknown_pairs_are_refused(api_version: str, kind: str, target: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        convert({"apiVersion": api_version, "kind": kind}, to_api_version=target)
    assert caught.value.message == message


def test_objects_without_type_information_are_refused() -> None:
    with pytest.raises(BadRequest):
        convert({"kind": "CronJob"}, to_api_version="batch/v1")
    with pytest.raises(BadRequest):
        convert({"apiVersion": "batch/v1"}, to_api_version="batch/v1beta1")


# --- identity-shaped pairs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "old", "new", "body"),
    [
        ("CronJob", "batch/v1beta1", "batch/v1", {"spec": {"schedule": "*/5 * * * *"}}),
        ("PodDisruptionBudget", "policy/v1beta1", "policy/v1", {"spec": {"selector": {}}}),
        ("Eviction", "policy/v1beta1", "policy/v1", {"deleteOptions": {"gracePeriodSeconds": 0}}),
        ("HorizontalPodAutoscaler", "autoscaling/v2beta2", "autoscaling/v2", {"spec": {}}),
    ],
)
def test_same_shape_pairs_change_only_the_api_version(
    kind: str, old: str, new: str, body: dict[str, Any]
) -> None:
    obj = {"apiVersion": old, "kind": kind, "metadata": {"name": "x"}, **body}
    converted = convert(obj, to_api_version=new)
    assert converted == {**obj, "apiVersion": new}
    assert round_trip(converted, old) == converted


# --- Event -------------------------------------------------------------------------------------

CORE_EVENT: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Event",
    "metadata": {"name": "web.1", "namespace": "default"},
    "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default", "uid": "u1"},
    "reason": "Scheduled",
    "message": "Successfully assigned default/web to node1",
    "source": {"component": "default-scheduler", "host": "node1"},
    "firstTimestamp": "2021-01-02T03:04:05Z",
    "lastTimestamp": "2021-01-02T03:04:06Z",
    "count": 2,
    "type": "Normal",
    "eventTime": "2021-01-02T03:04:05.000000Z",
    "series": {"count": 2, "lastObservedTime": "2021-01-02T03:04:06.000000Z"},
    "action": "Binding",
    "related": {"kind": "Node", "name": "node1"},
    "reportingComponent": "default-scheduler",
    "reportingInstance": "default-scheduler-node1",
}

EVENTS_EVENT: dict[str, Any] = {
    "apiVersion": "events.k8s.io/v1",
    "kind": "Event",
    "metadata": {"name": "web.1", "namespace": "default"},
    "regarding": CORE_EVENT["involvedObject"],
    "reason": "Scheduled",
    "note": "Successfully assigned default/web to node1",
    "deprecatedSource": {"component": "default-scheduler", "host": "node1"},
    "deprecatedFirstTimestamp": "2021-01-02T03:04:05Z",
    "deprecatedLastTimestamp": "2021-01-02T03:04:06Z",
    "deprecatedCount": 2,
    "type": "Normal",
    "eventTime": "2021-01-02T03:04:05.000000Z",
    "series": {"count": 2, "lastObservedTime": "2021-01-02T03:04:06.000000Z"},
    "action": "Binding",
    "related": {"kind": "Node", "name": "node1"},
    "reportingController": "default-scheduler",
    "reportingInstance": "default-scheduler-node1",
}


def test_core_event_to_events_api() -> None:
    assert convert(CORE_EVENT, to_api_version="events.k8s.io/v1") == EVENTS_EVENT


def test_events_api_event_to_core() -> None:
    assert convert(EVENTS_EVENT, to_api_version="v1") == CORE_EVENT


def test_events_v1beta1_has_the_events_v1_shape() -> None:
    beta = convert(CORE_EVENT, to_api_version="events.k8s.io/v1beta1")
    assert beta == {**EVENTS_EVENT, "apiVersion": "events.k8s.io/v1beta1"}
    assert convert(beta, to_api_version="events.k8s.io/v1") == EVENTS_EVENT


def test_event_round_trips() -> None:
    assert round_trip(CORE_EVENT, "events.k8s.io/v1") == CORE_EVENT
    assert round_trip(EVENTS_EVENT, "v1") == EVENTS_EVENT
    old_style = {k: v for k, v in CORE_EVENT.items() if k not in ("eventTime", "series")}
    assert round_trip(old_style, "events.k8s.io/v1") == old_style


def test_deprecated_series_state_is_dropped() -> None:
    event = {**CORE_EVENT, "series": {"count": 3, "state": "Ongoing"}}
    assert convert(event, to_api_version="events.k8s.io/v1")["series"] == {"count": 3}


# --- EndpointSlice -----------------------------------------------------------------------------

ZONE, HOST = "topology.kubernetes.io/zone", "kubernetes.io/hostname"


def slice_of(api_version: str, *endpoints: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "EndpointSlice",
        "metadata": {"name": "web-abc"},
        "addressType": "IPv4",
        "endpoints": list(endpoints),
        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
    }


def test_beta_topology_becomes_v1_fields() -> None:
    beta = slice_of(
        "discovery.k8s.io/v1beta1",
        {"addresses": ["10.0.0.1"], "topology": {ZONE: "a", HOST: "n1", "rack": "r1"}},
        {"addresses": ["10.0.0.2"], "nodeName": "n2", "topology": {HOST: "n2"}},
        {"addresses": ["10.0.0.3"], "nodeName": "n3", "topology": {HOST: "other"}},
        {"addresses": ["10.0.0.4"], "conditions": {"ready": True}},
        {"addresses": ["10.0.0.5"], "topology": {}},
    )
    assert convert(beta, to_api_version="discovery.k8s.io/v1")["endpoints"] == [
        {
            "addresses": ["10.0.0.1"],
            "zone": "a",
            "nodeName": "n1",
            "deprecatedTopology": {"rack": "r1"},
        },
        {"addresses": ["10.0.0.2"], "nodeName": "n2"},
        {"addresses": ["10.0.0.3"], "nodeName": "n3", "deprecatedTopology": {HOST: "other"}},
        {"addresses": ["10.0.0.4"], "conditions": {"ready": True}},
        {"addresses": ["10.0.0.5"]},
    ]


def test_v1_fields_become_beta_topology() -> None:
    v1 = slice_of(
        "discovery.k8s.io/v1",
        {
            "addresses": ["10.0.0.1"],
            "zone": "a",
            "nodeName": "n1",
            "deprecatedTopology": {"r": "1"},
        },
        {"addresses": ["10.0.0.3"], "nodeName": "n3", "deprecatedTopology": {HOST: "other"}},
        {"addresses": ["10.0.0.4"], "hints": {"forZones": [{"name": "a"}]}},
    )
    assert convert(v1, to_api_version="discovery.k8s.io/v1beta1")["endpoints"] == [
        {
            "addresses": ["10.0.0.1"],
            "nodeName": "n1",
            "topology": {"r": "1", ZONE: "a", HOST: "n1"},
        },
        {"addresses": ["10.0.0.3"], "nodeName": "n3", "topology": {HOST: "other"}},
        {"addresses": ["10.0.0.4"], "hints": {"forZones": [{"name": "a"}]}},
    ]


ENDPOINTS = st.fixed_dictionaries(
    {"addresses": st.lists(st.sampled_from(["10.0.0.1", "10.0.0.2"]), min_size=1, max_size=2)},
    optional={
        "nodeName": st.sampled_from(["n1", "n2"]),
        "zone": st.sampled_from(["a", "b"]),
        # Upstream, too, cannot keep zone/hostname keys that clash with the fields.
        "deprecatedTopology": st.dictionaries(
            st.sampled_from(["rack", "row"]), st.sampled_from(["1", "2"]), min_size=1
        ),
        "conditions": st.fixed_dictionaries({}, optional={"ready": st.booleans()}),
    },
)


@given(st.lists(ENDPOINTS, max_size=4))
def test_endpoint_slices_round_trip(endpoints: list[dict[str, Any]]) -> None:
    v1 = slice_of("discovery.k8s.io/v1", *endpoints)
    assert round_trip(v1, "discovery.k8s.io/v1beta1") == v1
