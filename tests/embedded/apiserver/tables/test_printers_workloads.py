"""Tables of Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision, Job, CronJob."""

from __future__ import annotations

from typing import Any

import pytest
from tests.embedded.apiserver.tables.tables_support import NOW, ago, meta

from atoll.embedded.apiserver.tables import column_definitions, row_cells

TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {
        "containers": [
            {"name": "nginx", "image": "nginx:1.19"},
            {"name": "sidecar", "image": "envoy"},
        ]
    },
}


def columns(group: str, kind: str) -> list[tuple[str, str, int]]:
    return [(c["name"], c["type"], c["priority"]) for c in column_definitions(group, kind)]


def test_deployment() -> None:
    assert columns("apps", "Deployment") == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Up-to-date", "string", 0),
        ("Available", "string", 0),
        ("Age", "string", 0),
        ("Containers", "string", 1),
        ("Images", "string", 1),
        ("Selector", "string", 1),
    ]
    deployment = {
        "metadata": meta("web"),
        "spec": {
            "replicas": 3,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "api"]}],
            },
            "template": TEMPLATE,
        },
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert row_cells("apps", "Deployment", deployment, now=NOW) == [
        "web",
        "2/3",
        3,
        2,
        "5m",
        "nginx,sidecar",
        "nginx:1.19,envoy",
        "app=web,tier in (api,fe)",
    ]


def test_fresh_deployment_and_odd_selectors() -> None:
    fresh = {"metadata": meta("new"), "spec": {"template": TEMPLATE}}
    assert row_cells("apps", "Deployment", fresh, now=NOW)[1:4] == ["0/1", 0, 0]
    assert row_cells("apps", "Deployment", fresh, now=NOW)[7] == ""
    bad = {
        "metadata": meta("bad"),
        "spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Is"}]}},
    }
    assert row_cells("apps", "Deployment", bad, now=NOW)[7] == "<invalid>"


def test_replica_set() -> None:
    assert [name for name, _, _ in columns("apps", "ReplicaSet")] == [
        "Name",
        "Desired",
        "Current",
        "Ready",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ]
    replica_set = {
        "metadata": meta("web-5d4b8c"),
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d4b8c"}},
            "template": TEMPLATE,
        },
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    assert row_cells("apps", "ReplicaSet", replica_set, now=NOW) == [
        "web-5d4b8c",
        2,
        2,
        1,
        "5m",
        "nginx,sidecar",
        "nginx:1.19,envoy",
        "app=web,pod-template-hash=5d4b8c",
    ]
    empty_selector = {"metadata": meta("rs"), "spec": {"replicas": 0, "selector": {}}}
    assert row_cells("apps", "ReplicaSet", empty_selector, now=NOW)[1:4] == [0, 0, 0]
    assert row_cells("apps", "ReplicaSet", empty_selector, now=NOW)[7] == "<none>"


def test_stateful_set() -> None:
    assert columns("apps", "StatefulSet") == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Age", "string", 0),
        ("Containers", "string", 1),
        ("Images", "string", 1),
    ]
    sts = {
        "metadata": meta("db"),
        "spec": {"replicas": 3, "template": TEMPLATE},
        "status": {"readyReplicas": 1},
    }
    assert row_cells("apps", "StatefulSet", sts, now=NOW) == [
        "db",
        "1/3",
        "5m",
        "nginx,sidecar",
        "nginx:1.19,envoy",
    ]


def test_daemon_set() -> None:
    assert [name for name, _, _ in columns("apps", "DaemonSet")] == [
        "Name",
        "Desired",
        "Current",
        "Ready",
        "Up-to-date",
        "Available",
        "Node Selector",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ]
    daemon_set = {
        "metadata": meta("fluentd"),
        "spec": {
            "selector": {
                "matchExpressions": [
                    {"key": "app", "operator": "Exists"},
                    {"key": "old", "operator": "DoesNotExist"},
                ]
            },
            "template": {
                **TEMPLATE,
                "spec": {**TEMPLATE["spec"], "nodeSelector": {"kubernetes.io/os": "linux"}},
            },
        },
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
            "numberMisscheduled": 0,
        },
    }
    assert row_cells("apps", "DaemonSet", daemon_set, now=NOW) == [
        "fluentd",
        3,
        3,
        2,
        3,
        2,
        "kubernetes.io/os=linux",
        "5m",
        "nginx,sidecar",
        "nginx:1.19,envoy",
        "app,!old",
    ]
    assert row_cells("apps", "DaemonSet", {"metadata": meta("d")}, now=NOW)[1:7] == [
        0,
        0,
        0,
        0,
        0,
        "<none>",
    ]


@pytest.mark.parametrize(
    ("owners", "expected"),
    [
        (
            [
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "name": "web",
                    "uid": "u",
                    "controller": True,
                }
            ],
            "statefulset.apps/web",
        ),
        (
            [{"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "u", "controller": True}],
            "pod/p",
        ),
        ([{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "uid": "u"}], "<none>"),
        ([], "<none>"),
    ],
)
def test_controller_revision(owners: list[dict[str, Any]], expected: str) -> None:
    assert columns("apps", "ControllerRevision") == [
        ("Name", "string", 0),
        ("Controller", "string", 0),
        ("Revision", "string", 0),
        ("Age", "string", 0),
    ]
    revision = {"metadata": meta("web-7c9d", ownerReferences=owners), "revision": 2, "data": {}}
    assert row_cells("apps", "ControllerRevision", revision, now=NOW) == [
        "web-7c9d",
        expected,
        2,
        "5m",
    ]


def job(spec: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": meta("pi"), "spec": {"template": TEMPLATE, **spec}, "status": status}


def test_job_columns() -> None:
    assert [name for name, _, _ in columns("batch", "Job")] == [
        "Name",
        "Completions",
        "Duration",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ]


@pytest.mark.parametrize(
    ("spec", "status", "completions", "duration"),
    [
        ({"completions": 1, "parallelism": 1}, {}, "0/1", ""),
        ({"completions": 1}, {"startTime": ago(seconds=42), "active": 1}, "0/1", "42s"),
        (
            {"completions": 3},
            {"startTime": ago(minutes=4), "completionTime": ago(minutes=1), "succeeded": 3},
            "3/3",
            "3m",
        ),
        ({"parallelism": 4}, {"succeeded": 1}, "1/1 of 4", ""),
        ({"parallelism": 1}, {"succeeded": 1}, "1/1", ""),
        ({}, {}, "0/1", ""),
    ],
)
def test_job_rows(
    spec: dict[str, Any], status: dict[str, Any], completions: str, duration: str
) -> None:
    selector = {"matchLabels": {"controller-uid": "abc"}}
    obj = job({**spec, "selector": selector}, status)
    assert row_cells("batch", "Job", obj, now=NOW) == [
        "pi",
        completions,
        duration,
        "5m",
        "nginx,sidecar",
        "nginx:1.19,envoy",
        "controller-uid=abc",
    ]


def test_cron_job() -> None:
    assert columns("batch", "CronJob") == [
        ("Name", "string", 0),
        ("Schedule", "string", 0),
        ("Suspend", "boolean", 0),
        ("Active", "integer", 0),
        ("Last Schedule", "string", 0),
        ("Age", "string", 0),
        ("Containers", "string", 1),
        ("Images", "string", 1),
        ("Selector", "string", 1),
    ]
    cron_job = {
        "metadata": meta("hello"),
        "spec": {
            "schedule": "*/1 * * * *",
            "suspend": False,
            "jobTemplate": {"spec": {"template": TEMPLATE}},
        },
        "status": {"active": [{"name": "hello-1"}], "lastScheduleTime": ago(seconds=30)},
    }
    assert row_cells("batch", "CronJob", cron_job, now=NOW) == [
        "hello",
        "*/1 * * * *",
        "False",
        1,
        "30s",
        "5m",
        "nginx,sidecar",
        "nginx:1.19,envoy",
        "<none>",
    ]
    suspended = {"metadata": meta("s"), "spec": {"schedule": "@daily", "suspend": True}}
    assert row_cells("batch", "CronJob", suspended, now=NOW)[2:5] == ["True", 0, "<none>"]
    assert row_cells("batch", "CronJob", {"metadata": meta("n")}, now=NOW)[2] == "False"
