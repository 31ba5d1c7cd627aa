"""The Event table for core v1 and events.k8s.io Events."""

from __future__ import annotations

from typing import Any

import pytest
from tests.embedded.apiserver.tables.tables_support import NOW, ago

from atoll.embedded.apiserver.tables import column_definitions, row_cells

CORE_EVENT: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Event",
    "metadata": {
        "name": "web-1.16a8b0c1",
        "namespace": "default",
        "creationTimestamp": ago(minutes=9),
    },
    "involvedObject": {
        "kind": "Pod",
        "name": "web-1",
        "namespace": "default",
        "fieldPath": "spec.containers{nginx}",
    },
    "reason": "Pulled",
    "message": '  Successfully pulled image "nginx"\n',
    "source": {"component": "kubelet", "host": "node-a"},
    "firstTimestamp": ago(minutes=9),
    "lastTimestamp": ago(minutes=2),
    "count": 4,
    "type": "Normal",
}


@pytest.mark.parametrize("group", ["", "events.k8s.io"])
def test_columns(group: str) -> None:
    columns = column_definitions(group, "Event")
    assert [(c["name"], c["priority"]) for c in columns] == [
        ("Last Seen", 0),
        ("Type", 0),
        ("Reason", 0),
        ("Object", 0),
        ("Subobject", 1),
        ("Source", 1),
        ("Message", 0),
        ("First Seen", 1),
        ("Count", 1),
        ("Name", 1),
    ]
    assert columns[-1]["format"] == "name"


def test_core_event_row() -> None:
    assert row_cells("", "Event", CORE_EVENT, now=NOW) == [
        "2m",
        "Normal",
        "Pulled",
        "pod/web-1",
        "spec.containers{nginx}",
        "kubelet, node-a",
        'Successfully pulled image "nginx"',
        "9m",
        4,
        "web-1.16a8b0c1",
    ]


def test_event_about_a_kind_without_name_and_source_without_host() -> None:
    event = {
        **CORE_EVENT,
        "involvedObject": {"kind": "Node"},
        "source": {"component": "scheduler"},
        "lastTimestamp": None,
        "count": 0,
    }
    cells = row_cells("", "Event", event, now=NOW)
    assert cells[0] == "9m"  # Last Seen falls back to First Seen
    assert cells[3] == "node"
    assert cells[5] == "scheduler"
    assert cells[8] == 1  # a singleton without a count counts once


def test_new_style_core_event_uses_event_time_and_series() -> None:
    event = {
        "metadata": {"name": "e"},
        "involvedObject": {"kind": "Deployment", "name": "web"},
        "eventTime": "2021-01-02T02:54:04.500000Z",
        "series": {"count": 7, "lastObservedTime": "2021-01-02T03:03:05.000000Z"},
        "reportingComponent": "deployment-controller",
        "type": "Normal",
        "reason": "ScalingReplicaSet",
        "message": "Scaled up",
    }
    cells = row_cells("", "Event", event, now=NOW)
    assert (cells[0], cells[7], cells[8]) == ("60s", "10m", 7)
    assert cells[5] == ""  # 1.20 prints only the legacy source


def test_events_k8s_io_event_is_read_through_core_names() -> None:
    event = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "web.1"},
        "eventTime": ago(minutes=3),
        "regarding": {"kind": "ReplicaSet", "name": "web-5d4b", "fieldPath": ""},
        "note": "Created pod: web-5d4b-x2",
        "reason": "SuccessfulCreate",
        "type": "Normal",
        "deprecatedSource": {"component": "replicaset-controller"},
        "deprecatedCount": 2,
        "deprecatedFirstTimestamp": ago(minutes=3),
        "deprecatedLastTimestamp": ago(minutes=1),
        "reportingController": "replicaset-controller",
        "reportingInstance": "kcm-1",
        "action": "Create",
    }
    assert row_cells("events.k8s.io", "Event", event, now=NOW) == [
        "60s",
        "Normal",
        "SuccessfulCreate",
        "replicaset/web-5d4b",
        "",
        "replicaset-controller",
        "Created pod: web-5d4b-x2",
        "3m",
        2,
        "web.1",
    ]


def test_empty_event() -> None:
    assert row_cells("events.k8s.io", "Event", {}, now=NOW) == [
        "<unknown>",
        "",
        "",
        "",
        "",
        "",
        "",
        "<unknown>",
        1,
        "",
    ]
