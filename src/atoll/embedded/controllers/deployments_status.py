"""A Deployment's status and its Progressing and Available conditions, as upstream writes them.

``kubectl rollout status`` decides from these fields alone (k8s-api.md §8): observedGeneration,
replicas, updatedReplicas, availableReplicas, and the Progressing condition's reason
(``ProgressDeadlineExceeded`` ends the wait with an error). So the rules are upstream's,
line for line (``calculateStatus``, ``syncRolloutStatus``, ``SetDeploymentCondition``):

- Available is True/MinimumReplicasAvailable once ``availableReplicas >= replicas -
  maxUnavailable``, else False/MinimumReplicasUnavailable;
- Progressing (only with a progress deadline) is True/NewReplicaSetAvailable when the rollout
  completes; True/ReplicaSetUpdated whenever the counts move (lastUpdateTime refreshed,
  lastTransitionTime kept); False/ProgressDeadlineExceeded when they have not moved for
  ``progressDeadlineSeconds`` since lastUpdateTime;
- a condition set again with the same status and reason is left as it was, timestamps too;
- a ReplicaFailure condition of the new (else any) ReplicaSet is mirrored on the Deployment.

Status dicts leave zero counts out, as Go's ``omitempty`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from atoll.kube.client import Object

from .deployments_replicas import (
    available_replicas,
    max_unavailable,
    ready_replicas,
    replicas,
    spec_replicas,
    status_replicas,
)
from .replicasets_pods import format_time, parse_time

__all__ = [
    "AVAILABLE",
    "FOUND_NEW_RS",
    "MAX_INT32",
    "NEW_RS_AVAILABLE",
    "NEW_RS_CREATED",
    "PAUSED",
    "PROGRESSING",
    "REPLICA_FAILURE",
    "RESUMED",
    "RS_CREATE_ERROR",
    "RS_UPDATED",
    "TIMED_OUT",
    "calculate_status",
    "deployment_complete",
    "get_condition",
    "has_progress_deadline",
    "new_condition",
    "remove_condition",
    "rollout_status",
    "set_condition",
    "stuck_requeue_after",
]

AVAILABLE, PROGRESSING, REPLICA_FAILURE = "Available", "Progressing", "ReplicaFailure"
RS_UPDATED = "ReplicaSetUpdated"
RS_CREATE_ERROR = "ReplicaSetCreateError"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"
MAX_INT32 = 2**31 - 1  # a progress deadline or history limit of MaxInt32 means "none"

Condition = dict[str, Any]


def new_condition(type_: str, status: str, reason: str, message: str, now: datetime) -> Condition:
    stamp = format_time(now)
    return {
        "type": type_,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def get_condition(status: Mapping[str, Any], type_: str) -> Condition | None:
    for condition in status.get("conditions") or ():
        if condition.get("type") == type_:
            return dict(condition)
    return None


def set_condition(status: dict[str, Any], condition: Condition) -> None:
    """Upstream ``SetDeploymentCondition``: same status and reason → no change at all."""
    current = get_condition(status, condition["type"])
    if current and current["status"] == condition["status"]:
        if current.get("reason") == condition.get("reason"):
            return
        condition = {**condition, "lastTransitionTime": current.get("lastTransitionTime")}
    others = [c for c in status.get("conditions") or () if c.get("type") != condition["type"]]
    status["conditions"] = [*others, condition]


def remove_condition(status: dict[str, Any], type_: str) -> None:
    kept = [c for c in status.get("conditions") or () if c.get("type") != type_]
    if kept:
        status["conditions"] = kept
    else:
        status.pop("conditions", None)


def has_progress_deadline(deployment: Mapping[str, Any]) -> bool:
    deadline = (deployment.get("spec") or {}).get("progressDeadlineSeconds")
    return deadline is not None and deadline != MAX_INT32


def calculate_status(
    deployment: Mapping[str, Any],
    all_sets: list[Object | None],
    new_rs: Object | None,
    now: datetime,
) -> dict[str, Any]:
    """The Deployment's status from its ReplicaSets (upstream ``calculateStatus``)."""
    available = available_replicas(all_sets)
    unavailable = max(replicas(all_sets) - available, 0)
    old = deployment.get("status") or {}
    counts = {
        "observedGeneration": (deployment.get("metadata") or {}).get("generation"),
        "replicas": status_replicas(all_sets),
        "updatedReplicas": status_replicas([new_rs]),
        "readyReplicas": ready_replicas(all_sets),
        "availableReplicas": available,
        "unavailableReplicas": unavailable,
    }
    status: dict[str, Any] = {k: v for k, v in counts.items() if v}
    if old.get("conditions"):
        status["conditions"] = [dict(c) for c in old["conditions"]]
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if available >= spec_replicas(deployment) - max_unavailable(deployment):
        condition = new_condition(
            AVAILABLE, "True", MIN_AVAILABLE, "Deployment has minimum availability.", now
        )
    else:
        condition = new_condition(
            AVAILABLE,
            "False",
            MIN_UNAVAILABLE,
            "Deployment does not have minimum availability.",
            now,
        )
    set_condition(status, condition)
    return status


def deployment_complete(deployment: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    """All replicas updated and available, and this generation observed."""
    desired = spec_replicas(deployment)
    generation = (deployment.get("metadata") or {}).get("generation") or 0
    return (
        status.get("updatedReplicas", 0) == desired
        and status.get("replicas", 0) == desired
        and status.get("availableReplicas", 0) == desired
        and (status.get("observedGeneration") or 0) >= generation
    )


def _progressing(deployment: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    """The counts moved since the status the Deployment carries (upstream)."""
    old = deployment.get("status") or {}

    def get(s: Mapping[str, Any], field: str) -> int:
        return int(s.get(field) or 0)

    old_old = get(old, "replicas") - get(old, "updatedReplicas")
    new_old = get(status, "replicas") - get(status, "updatedReplicas")
    return (
        get(status, "updatedReplicas") > get(old, "updatedReplicas")
        or new_old < old_old
        or get(status, "readyReplicas") > get(old, "readyReplicas")
        or get(status, "availableReplicas") > get(old, "availableReplicas")
    )


def _timed_out(deployment: Mapping[str, Any], status: Mapping[str, Any], now: datetime) -> bool:
    if not has_progress_deadline(deployment):
        return False
    condition = get_condition(status, PROGRESSING)
    if condition is None or condition.get("reason") == NEW_RS_AVAILABLE:
        return False
    if condition.get("reason") == TIMED_OUT:
        return True
    since = parse_time(condition.get("lastUpdateTime"))
    if since is None:
        return False
    deadline = int((deployment.get("spec") or {}).get("progressDeadlineSeconds") or 0)
    return since + timedelta(seconds=deadline) < now


def _subject(deployment: Mapping[str, Any], new_rs: Object | None) -> str:
    if new_rs is not None:
        return f'ReplicaSet "{(new_rs.get("metadata") or {}).get("name")}"'
    return f'Deployment "{(deployment.get("metadata") or {}).get("name")}"'


def rollout_status(
    deployment: Mapping[str, Any],
    all_sets: list[Object | None],
    new_rs: Object | None,
    now: datetime,
) -> dict[str, Any]:
    """The status during a rollout, with progress estimated (upstream ``syncRolloutStatus``)."""
    status = calculate_status(deployment, all_sets, new_rs, now)
    if not has_progress_deadline(deployment):
        remove_condition(status, PROGRESSING)
    current = get_condition(deployment.get("status") or {}, PROGRESSING)
    complete_before = (
        status.get("replicas", 0) == status.get("updatedReplicas", 0)
        and current is not None
        and current.get("reason") == NEW_RS_AVAILABLE
    )
    if has_progress_deadline(deployment) and not complete_before:
        _estimate_progress(deployment, status, new_rs, current, now)
    failures = _replica_failures(all_sets, new_rs)
    if failures:
        set_condition(status, failures[0])
    else:
        remove_condition(status, REPLICA_FAILURE)
    return status


def _estimate_progress(
    deployment: Mapping[str, Any],
    status: dict[str, Any],
    new_rs: Object | None,
    current: Condition | None,
    now: datetime,
) -> None:
    subject = _subject(deployment, new_rs)
    if deployment_complete(deployment, status):
        message = f"{subject} has successfully progressed."
        set_condition(status, new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE, message, now))
    elif _progressing(deployment, status):
        message = f"{subject} is progressing."
        condition = new_condition(PROGRESSING, "True", RS_UPDATED, message, now)
        if current is not None:
            if current.get("status") == "True":
                condition["lastTransitionTime"] = current.get("lastTransitionTime")
            remove_condition(status, PROGRESSING)
        set_condition(status, condition)
    elif _timed_out(deployment, status, now):
        message = f"{subject} has timed out progressing."
        set_condition(status, new_condition(PROGRESSING, "False", TIMED_OUT, message, now))


def _replica_failures(all_sets: list[Object | None], new_rs: Object | None) -> list[Condition]:
    """ReplicaFailure conditions of the new set, else of any set, as Deployment conditions."""

    def failures(rs: Object | None) -> list[Condition]:
        found = []
        for c in ((rs or {}).get("status") or {}).get("conditions") or ():
            if c.get("type") == REPLICA_FAILURE:
                found.append(
                    {
                        "type": REPLICA_FAILURE,
                        "status": c.get("status"),
                        "lastUpdateTime": c.get("lastTransitionTime"),
                        "lastTransitionTime": c.get("lastTransitionTime"),
                        "reason": c.get("reason"),
                        "message": c.get("message"),
                    }
                )
        return found

    return failures(new_rs) or [c for rs in all_sets for c in failures(rs)]


def stuck_requeue_after(
    deployment: Mapping[str, Any], status: Mapping[str, Any], now: datetime
) -> float | None:
    """Seconds until a stalled rollout must be checked against its deadline; None: never.

    Upstream ``requeueStuckDeployment``: without this the timeout would wait for the next
    event. 0 means "now, with back-off"; the extra second absorbs timestamp rounding.
    """
    current = get_condition(deployment.get("status") or {}, PROGRESSING)
    if not has_progress_deadline(deployment) or current is None:
        return None
    if deployment_complete(deployment, status) or current.get("reason") == TIMED_OUT:
        return None
    since = parse_time(current.get("lastUpdateTime"))
    if since is None:
        return None
    deadline = int((deployment.get("spec") or {}).get("progressDeadlineSeconds") or 0)
    after = (since + timedelta(seconds=deadline) - now).total_seconds()
    return 0.0 if after < 1 else after + 1
