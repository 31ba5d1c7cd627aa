"""Deployment status and conditions with an injected time (deployments_status).

The progress deadline is checked here with times chosen by the test, so nothing waits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from atoll.embedded.controllers.deployments_status import (
    calculate_status,
    get_condition,
    rollout_status,
    set_condition,
    stuck_requeue_after,
)

NOW = datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC)
STAMP = "2021-01-02T03:04:05Z"


def _deployment(status: dict[str, Any] | None = None, **spec: Any) -> Any:
    return {
        "metadata": {"name": "web", "generation": 2},
        "spec": {
            "replicas": 3,
            "progressDeadlineSeconds": 60,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            **spec,
        },
        "status": status or {},
    }


def _rs(name: str, replicas: int, available: int, **status: Any) -> Any:
    return {
        "metadata": {"name": name},
        "spec": {"replicas": replicas},
        "status": {
            "replicas": replicas,
            "availableReplicas": available,
            "readyReplicas": available,
            **status,
        },
    }


def _progressing(reason: str, updated: datetime, status: str = "True") -> dict[str, Any]:
    stamp = updated.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "type": "Progressing",
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": "m",
    }


def test_counts_and_availability() -> None:
    old, new = _rs("old", 2, 2), _rs("new", 2, 0)
    status = calculate_status(_deployment(), [old, new], new, NOW)
    assert status["observedGeneration"] == 2
    assert (status["replicas"], status["updatedReplicas"], status["availableReplicas"]) == (4, 2, 2)
    assert status["unavailableReplicas"] == 2
    available = get_condition(status, "Available")
    assert available is not None
    # 3 replicas, 25% unavailable rounds down to 0: 2 available is not enough.
    assert (available["status"], available["reason"]) == ("False", "MinimumReplicasUnavailable")
    assert available["lastUpdateTime"] == available["lastTransitionTime"] == STAMP


def test_setting_the_same_condition_keeps_its_times() -> None:
    status: dict[str, Any] = {
        "conditions": [_progressing("ReplicaSetUpdated", NOW - timedelta(hours=1))]
    }
    set_condition(status, _progressing("ReplicaSetUpdated", NOW))
    assert status["conditions"][0]["lastUpdateTime"] == "2021-01-02T02:04:05Z"
    set_condition(status, _progressing("NewReplicaSetAvailable", NOW))
    condition = status["conditions"][0]
    assert condition["reason"] == "NewReplicaSetAvailable"
    assert (condition["lastUpdateTime"], condition["lastTransitionTime"]) == (
        STAMP,
        "2021-01-02T02:04:05Z",
    )


def test_progress_refreshes_the_update_time_only() -> None:
    since = NOW - timedelta(seconds=30)
    deployment = _deployment(
        {
            "replicas": 3,
            "updatedReplicas": 1,
            "conditions": [_progressing("ReplicaSetUpdated", since)],
        }
    )
    new, old = _rs("new", 2, 0), _rs("old", 1, 1)
    status = rollout_status(deployment, [old, new], new, NOW)
    progressing = get_condition(status, "Progressing")
    assert progressing is not None
    assert progressing["reason"] == "ReplicaSetUpdated"
    assert progressing["message"] == 'ReplicaSet "new" is progressing.'
    assert progressing["lastUpdateTime"] == STAMP
    assert progressing["lastTransitionTime"] == since.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_no_progress_past_the_deadline_times_out() -> None:
    since = NOW - timedelta(seconds=61)
    counts = {"replicas": 3, "updatedReplicas": 3, "observedGeneration": 2}
    deployment = _deployment({**counts, "conditions": [_progressing("ReplicaSetUpdated", since)]})
    new = _rs("new", 3, 0)
    status = rollout_status(deployment, [new], new, NOW)
    progressing = get_condition(status, "Progressing")
    assert progressing is not None
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert progressing["message"] == 'ReplicaSet "new" has timed out progressing.'

    early = rollout_status(deployment, [new], new, NOW - timedelta(seconds=20))
    assert get_condition(early, "Progressing")["reason"] == "ReplicaSetUpdated"  # type: ignore[index]
    assert stuck_requeue_after(deployment, early, NOW - timedelta(seconds=20)) == 20.0


def test_completion_and_replica_failures() -> None:
    since = NOW - timedelta(seconds=5)
    deployment = _deployment({"conditions": [_progressing("ReplicaSetUpdated", since)]})
    failure = {
        "type": "ReplicaFailure",
        "status": "True",
        "lastTransitionTime": STAMP,
        "reason": "FailedCreate",
        "message": "quota",
    }
    new = _rs("new", 3, 3, conditions=[failure])
    status = rollout_status(deployment, [new], new, NOW)
    progressing = get_condition(status, "Progressing")
    assert progressing is not None and progressing["reason"] == "NewReplicaSetAvailable"
    assert progressing["message"] == 'ReplicaSet "new" has successfully progressed.'
    mirrored = get_condition(status, "ReplicaFailure")
    assert mirrored is not None and (mirrored["reason"], mirrored["message"]) == (
        "FailedCreate",
        "quota",
    )
    assert stuck_requeue_after(deployment, status, NOW) is None


def test_without_a_deadline_there_is_no_progressing_condition() -> None:
    deployment = _deployment(
        {"conditions": [_progressing("ReplicaSetUpdated", NOW)]}, progressDeadlineSeconds=2**31 - 1
    )
    new = _rs("new", 3, 1)
    status = rollout_status(deployment, [new], new, NOW)
    assert get_condition(status, "Progressing") is None
