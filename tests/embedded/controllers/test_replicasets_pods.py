"""Pod facts, Pods made from templates, deletion order (replicasets_pods)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from atoll.embedded.controllers.replicasets_pods import (
    is_pod_active,
    is_pod_available,
    pod_from_template,
    pods_to_delete,
)

NOW = datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC)


def _pod(
    name: str,
    *,
    phase: str = "Pending",
    node: str = "",
    ready_since: datetime | None = None,
    created: datetime = NOW,
    restarts: int = 0,
) -> dict[str, Any]:
    conditions = []
    if ready_since is not None:
        stamp = ready_since.strftime("%Y-%m-%dT%H:%M:%SZ")
        conditions.append({"type": "Ready", "status": "True", "lastTransitionTime": stamp})
    return {
        "metadata": {"name": name, "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "spec": {"nodeName": node} if node else {},
        "status": {
            "phase": phase,
            "conditions": conditions,
            "containerStatuses": [{"restartCount": restarts}],
        },
    }


def test_active_and_available() -> None:
    assert is_pod_active(_pod("a"))
    assert not is_pod_active(_pod("a", phase="Succeeded"))
    deleting = _pod("a")
    deleting["metadata"]["deletionTimestamp"] = "2021-01-01T00:00:00Z"
    assert not is_pod_active(deleting)
    ready = _pod("a", phase="Running", ready_since=NOW - timedelta(seconds=10))
    assert is_pod_available(ready, 0, NOW)
    assert is_pod_available(ready, 9, NOW)
    assert not is_pod_available(ready, 10, NOW), "ready exactly minReadySeconds is not enough"
    assert not is_pod_available(_pod("a"), 0, NOW)


def test_pods_from_a_template() -> None:
    template = {
        "metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}, "name": "ignored"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }
    ref = {"kind": "ReplicaSet", "name": "web-1", "uid": "u", "controller": True}
    pod = pod_from_template(template, owner_name="web-1", owner_ref=ref)
    assert pod["metadata"] == {
        "generateName": "web-1-",
        "ownerReferences": [ref],
        "labels": {"app": "web"},
        "annotations": {"a": "b"},
    }
    assert pod["spec"] == template["spec"] and pod["spec"] is not template["spec"]


def test_the_least_useful_pods_are_deleted_first() -> None:
    hour = timedelta(hours=1)
    pods = [
        _pod("running-ready-long", phase="Running", node="n", ready_since=NOW - 3 * hour),
        _pod("running-ready-recent", phase="Running", node="n", ready_since=NOW - hour),
        _pod("running-not-ready", phase="Running", node="n"),
        _pod("pending-scheduled", node="n"),
        _pod("unscheduled", created=NOW - hour),
        _pod("unscheduled-newer"),
        _pod(
            "running-restarting", phase="Running", node="n", ready_since=NOW - 3 * hour, restarts=4
        ),
    ]
    order = [p["metadata"]["name"] for p in pods_to_delete(pods, 6)]
    assert order == [
        "unscheduled-newer",
        "unscheduled",
        "pending-scheduled",
        "running-not-ready",
        "running-ready-recent",
        "running-restarting",
    ]
    assert len(pods_to_delete(pods, 10)) == 7
