"""The Pod table, with the STATUS logic of kube-apiserver 1.20's ``printPod``.

STATUS is the one cell users read most, and its rules are subtle; in order:

1. start from ``status.reason`` or else ``status.phase``;
2. the first init container that has not exited 0 gives ``Init:<reason>``,
   ``Init:Signal:N``, ``Init:ExitCode:N`` or ``Init:i/n`` and stops the walk;
3. otherwise app containers are walked last to first, so the first container's reason wins: a
   waiting reason, a terminated reason, ``Signal:N`` or ``ExitCode:N``; ``Completed`` with a
   container still running and ready turns into ``Running`` (pod Ready) or ``NotReady``;
4. a set ``deletionTimestamp`` gives ``Terminating``, or ``Unknown`` when the node was lost.

RESTARTS is an integer in 1.20 (the "(5m ago)" suffix came in 1.22). It counts init containers
while the pod is initialising and app containers afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from atoll.embedded.apiserver.tables.ages import age
from atoll.embedded.apiserver.tables.columns import AGE, NAME, Column, Printer, field
from atoll.embedded.apiserver.tables.fields import (
    boolean,
    integer,
    items,
    mapping,
    optional_mapping,
    present,
    text,
)

# Set by the node lifecycle controller on pods of an unreachable node (util/node).
NODE_UNREACHABLE_REASON = "NodeLost"

COLUMNS = (
    NAME,
    Column("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", description="The aggregate status of the containers in this pod."),
    Column(
        "Restarts",
        "integer",
        "The number of times the containers in this pod have been restarted.",
    ),
    AGE,
    field("IP", "PodStatus.podIP", priority=1),
    field("Node", "PodSpec.nodeName", priority=1),
    field("Nominated Node", "PodStatus.nominatedNodeName", priority=1),
    field("Readiness Gates", "PodSpec.readinessGates", priority=1),
)


def layout_containers(pod_spec: Mapping[str, Any]) -> tuple[str, str]:
    """The Containers and Images cells of a pod template: names and images, comma-separated."""
    containers = items(pod_spec, "containers")
    names = ",".join(text(container, "name") for container in containers)
    images = ",".join(text(container, "image") for container in containers)
    return names, images


def _terminated_reason(terminated: Mapping[str, Any], prefix: str = "") -> str:
    reason = text(terminated, "reason")
    if reason:
        return prefix + reason
    signal = integer(terminated, "signal")
    if signal != 0:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{integer(terminated, 'exitCode')}"


def _init_reason(pod: Mapping[str, Any]) -> tuple[str | None, int]:
    """The reason while init containers are still at work (else ``None``) and their restarts."""
    restarts = 0
    total = len(items(pod, "spec", "initContainers"))
    for index, status in enumerate(items(pod, "status", "initContainerStatuses")):
        restarts += integer(status, "restartCount")
        terminated = optional_mapping(status, "state", "terminated")
        waiting = optional_mapping(status, "state", "waiting")
        if terminated is not None and integer(terminated, "exitCode") == 0:
            continue
        if terminated is not None:
            return _terminated_reason(terminated, "Init:"), restarts
        waiting_reason = text(waiting, "reason")
        if waiting is not None and waiting_reason and waiting_reason != "PodInitializing":
            return f"Init:{waiting_reason}", restarts
        return f"Init:{index}/{total}", restarts
    return None, restarts


def _containers_reason(pod: Mapping[str, Any], reason: str) -> tuple[str, int, int]:
    """Walk app containers last to first: the reason, ready containers and restarts."""
    ready = restarts = 0
    has_running = False
    for status in reversed(items(pod, "status", "containerStatuses")):
        restarts += integer(status, "restartCount")
        waiting = optional_mapping(status, "state", "waiting")
        terminated = optional_mapping(status, "state", "terminated")
        if waiting is not None and text(waiting, "reason"):
            reason = text(waiting, "reason")
        elif terminated is not None:
            reason = _terminated_reason(terminated)
        elif boolean(status, "ready") and optional_mapping(status, "state", "running") is not None:
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        reason = "Running" if _has_condition(pod, "Ready") else "NotReady"
    return reason, ready, restarts


def _has_condition(pod: Mapping[str, Any], condition_type: str) -> bool:
    return any(
        text(condition, "type") == condition_type and text(condition, "status") == "True"
        for condition in items(pod, "status", "conditions")
    )


def pod_status(pod: Mapping[str, Any]) -> tuple[str, int, int]:
    """The STATUS cell, the number of ready containers and the RESTARTS count."""
    status = mapping(pod, "status")
    reason = text(status, "reason") or text(status, "phase")
    init_reason, restarts = _init_reason(pod)
    ready = 0
    if init_reason is not None:
        reason = init_reason
    else:
        reason, ready, restarts = _containers_reason(pod, reason)
    if present(pod, "metadata", "deletionTimestamp"):
        reason = "Unknown" if text(status, "reason") == NODE_UNREACHABLE_REASON else "Terminating"
    return reason, ready, restarts


def _readiness_gates(pod: Mapping[str, Any]) -> str:
    gates = items(pod, "spec", "readinessGates")
    if not gates:
        return "<none>"
    conditions = items(pod, "status", "conditions")
    true_count = 0
    for gate in gates:
        wanted = text(gate, "conditionType")
        # Only the first condition of a type counts, as in the Go loop that breaks on a match.
        match = next((c for c in conditions if text(c, "type") == wanted), None)
        if match is not None and text(match, "status") == "True":
            true_count += 1
    return f"{true_count}/{len(gates)}"


def _pod_ip(pod: Mapping[str, Any]) -> str:
    # The v1 → internal conversion treats podIP as authoritative over podIPs[0].
    pod_ips = items(pod, "status", "podIPs")
    ip = text(pod, "status", "podIP") or (text(pod_ips[0], "ip") if pod_ips else "")
    return ip or "<none>"


def pod_cells(pod: Mapping[str, Any], now: datetime) -> list[Any]:
    reason, ready, restarts = pod_status(pod)
    total = len(items(pod, "spec", "containers"))
    return [
        text(pod, "metadata", "name"),
        f"{ready}/{total}",
        reason,
        restarts,
        age(text(pod, "metadata", "creationTimestamp"), now),
        _pod_ip(pod),
        text(pod, "spec", "nodeName") or "<none>",
        text(pod, "status", "nominatedNodeName") or "<none>",
        _readiness_gates(pod),
    ]


PRINTERS = {("", "Pod"): Printer(COLUMNS, pod_cells)}
