"""What the replica controllers need to know about a Pod, and how they make one.

Facts read from a cached Pod (active, ready, available after ``minReadySeconds``), the Pod a
controller creates from its template (upstream ``GetPodFromTemplate``: ``generateName``
``<owner>-``, the template's labels, annotations and finalizers, a controller
ownerReference) and the order in which surplus Pods are deleted (upstream
``ActivePodsWithRanks``: unscheduled, pending, not ready, most recently ready, most restarted,
newest first). Upstream also ranks by how many sibling Pods share a node; on a one-node
cluster that rank is the same for every Pod, so it is left out.

Shared by the ReplicaSet and ReplicationController controllers and read by the Deployment
controller; the functions are pure, so the rules are tested without a server.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from atoll.kube.client import Object, ResourceType

__all__ = [
    "PODS",
    "controller_ref",
    "deletion_order",
    "format_time",
    "is_pod_active",
    "is_pod_available",
    "is_pod_ready",
    "labels_of",
    "owner_reference",
    "parse_time",
    "pod_from_template",
    "pods_to_delete",
]

PODS = ResourceType("", "v1", "pods", "Pod", True)

_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}  # anything else sorts as Pending


def format_time(instant: datetime) -> str:
    """A metav1.Time: whole seconds in UTC, ``2021-01-02T03:04:05Z``."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: object) -> datetime | None:
    """A metav1.Time or MicroTime string as an aware datetime; None when absent or malformed."""
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = (obj.get("metadata") or {}).get("labels") or {}
    return labels


def controller_ref(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ownerReference with ``controller: true``, if any (upstream ``GetControllerOf``)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if isinstance(ref, dict) and ref.get("controller"):
            return ref
    return None


def owner_reference(owner: Mapping[str, Any], *, kind: str, api_version: str) -> dict[str, Any]:
    """A controller ownerReference to ``owner`` that blocks its foreground deletion."""
    meta = owner.get("metadata") or {}
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def is_pod_active(pod: Mapping[str, Any]) -> bool:
    """Not finished and not being deleted (upstream ``IsPodActive``)."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not _deleting(pod)


def _deleting(obj: Mapping[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def _ready_condition(pod: Mapping[str, Any]) -> dict[str, Any] | None:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return condition
    return None


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    condition = _ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def is_pod_available(pod: Mapping[str, Any], min_ready_seconds: int, now: datetime) -> bool:
    """Ready for at least ``min_ready_seconds`` (upstream ``IsPodAvailable``)."""
    condition = _ready_condition(pod)
    if condition is None or condition.get("status") != "True":
        return False
    if min_ready_seconds <= 0:
        return True
    since = parse_time(condition.get("lastTransitionTime"))
    return since is not None and since + timedelta(seconds=min_ready_seconds) < now


def pod_from_template(
    template: Mapping[str, Any], *, owner_name: str, owner_ref: dict[str, Any]
) -> Object:
    """The Pod a controller creates from its template (upstream ``GetPodFromTemplate``)."""
    template_meta = template.get("metadata") or {}
    metadata: dict[str, Any] = {
        "generateName": f"{owner_name}-",
        "ownerReferences": [owner_ref],
    }
    for field in ("labels", "annotations", "finalizers"):
        if template_meta.get(field):
            metadata[field] = copy.deepcopy(template_meta[field])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def _ready_since(pod: Mapping[str, Any]) -> datetime | None:
    condition = _ready_condition(pod)
    if condition is None or condition.get("status") != "True":
        return None
    return parse_time(condition.get("lastTransitionTime"))


def _max_restarts(pod: Mapping[str, Any]) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or ()
    return max((int(s.get("restartCount") or 0) for s in statuses), default=0)


def deletion_order(pod: Mapping[str, Any]) -> tuple[Any, ...]:
    """A sort key: the Pods to delete first sort first (upstream ``ActivePodsWithRanks``).

    Unassigned before assigned; Pending before Unknown before Running; not ready before
    ready; ready more recently before ready longer; more restarts first; newer first. Times
    missing sort as "newest" (upstream's ``afterOrZero``), so they go first.
    """
    assigned = bool((pod.get("spec") or {}).get("nodeName"))
    phase = _PHASE_ORDER.get((pod.get("status") or {}).get("phase") or "", 0)
    created = parse_time((pod.get("metadata") or {}).get("creationTimestamp"))
    return (
        assigned,
        phase,
        is_pod_ready(pod),
        _newest_first(_ready_since(pod)),
        -_max_restarts(pod),
        _newest_first(created),
    )


def _newest_first(instant: datetime | None) -> float:
    """Later instants sort first; a missing one sorts before all (upstream ``afterOrZero``)."""
    return float("-inf") if instant is None else -instant.timestamp()


def pods_to_delete(pods: list[Object], count: int) -> list[Object]:
    """The ``count`` Pods a controller with too many replicas deletes."""
    if count < len(pods):
        return sorted(pods, key=deletion_order)[:count]
    return list(pods)
