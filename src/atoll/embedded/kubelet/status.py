"""What the kubelet reports in ``pods/status``: container statuses, phase and conditions.

``ContainerState`` is the kubelet's record of one container of a pod (mutable, owned by the
pod worker); ``pod_status`` turns the records into the status object, with every field the
client models require (``imageID`` even when empty, ``status`` on every condition).
Condition transition times move only when a condition's status changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .runtime import Exit

__all__ = ["RUNTIME_CONDITION", "ContainerState", "pod_status", "timestamp"]

RUNTIME_CONDITION = "atoll.io/Runtime"  # how the containers run: host processes or runc

Object = dict[str, Any]


def timestamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ContainerState:
    """One container of a pod as the kubelet knows it."""

    name: str
    image: str
    init: bool = False
    restart_count: int = 0
    waiting: tuple[str, str] | None = ("ContainerCreating", "")  # (reason, message)
    running_since: datetime | None = None
    terminated: Exit | None = None
    terminated_started: datetime | None = None
    last_terminated: tuple[Exit, datetime | None, str] | None = None  # exit, started, id
    container_id: str = ""
    image_id: str = ""
    ready: bool = False
    started: bool = False
    runtime: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def set_waiting(self, reason: str, message: str = "") -> None:
        """Waiting (to start, or to restart): the last run, if any, becomes ``lastState``."""
        if self.terminated is not None:
            self.last_terminated = (self.terminated, self.terminated_started, self.container_id)
            self.terminated = None
        self.waiting = (reason, message)
        self.running_since, self.ready, self.started = None, False, False

    def set_running(self, container_id: str, since: datetime) -> None:
        if self.terminated is not None:
            self.last_terminated = (self.terminated, self.terminated_started, self.container_id)
        self.waiting, self.terminated = None, None
        self.container_id, self.running_since = container_id, since

    def set_terminated(self, exit: Exit) -> None:
        self.terminated, self.terminated_started = exit, self.running_since
        self.waiting, self.running_since, self.ready, self.started = None, None, False, False

    def to_status(self) -> Object:
        state: Object
        if self.running_since is not None:
            state = {"running": {"startedAt": timestamp(self.running_since)}}
        elif self.terminated is not None:
            state = {
                "terminated": _terminated(
                    self.terminated, self.terminated_started, self.container_id
                )
            }
        else:
            reason, message = self.waiting or ("ContainerCreating", "")
            state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
        last: Object = {}
        if self.last_terminated is not None:
            exit, started, container_id = self.last_terminated
            last = {"terminated": _terminated(exit, started, container_id)}
        status: Object = {
            "name": self.name,
            "state": state,
            "lastState": last,
            "ready": self.ready,
            "restartCount": self.restart_count,
            "image": self.image,
            "imageID": self.image_id,
            "started": self.started,
        }
        if self.container_id:
            status["containerID"] = self.container_id
        return status

    @property
    def finished(self) -> bool:
        return self.terminated is not None


def _terminated(exit: Exit, started: datetime | None, container_id: str) -> Object:
    out: Object = {
        "exitCode": exit.exit_code,
        "reason": exit.reason,
        "startedAt": timestamp(started) if started else None,
        "finishedAt": timestamp(exit.finished_at),
    }
    if exit.signal is not None:
        out["signal"] = exit.signal
    if exit.message:
        out["message"] = exit.message
    if container_id:
        out["containerID"] = container_id
    return out


def _condition(previous: list[Object], kind: str, status: bool, now: str, **extra: str) -> Object:
    value = "True" if status else "False"
    old = next((c for c in previous if c.get("type") == kind), None)
    since = old["lastTransitionTime"] if old and old.get("status") == value else now
    return {
        "type": kind,
        "status": value,
        "lastProbeTime": None,
        "lastTransitionTime": since,
        **extra,
    }


def pod_status(
    pod: Object,
    init: list[ContainerState],
    containers: list[ContainerState],
    *,
    phase: str,
    host_ip: str,
    pod_ip: str,
    started_at: datetime,
    message: tuple[str, str] | None = None,
    runtime: tuple[str, str] | None = None,
) -> Object:
    """The full ``status`` for ``pod``; conditions of others (PodScheduled, gates) are kept."""
    now = timestamp()
    previous: list[Object] = list((pod.get("status") or {}).get("conditions") or [])
    initialized = all(c.finished and c.terminated and c.terminated.exit_code == 0 for c in init)
    containers_ready = bool(containers) and all(c.ready for c in containers)
    gates = [g.get("conditionType") for g in (pod.get("spec") or {}).get("readinessGates") or []]
    gates_ok = all(
        any(c.get("type") == gate and c.get("status") == "True" for c in previous) for gate in gates
    )
    not_ready = [c.name for c in containers if not c.ready]
    why = (
        {}
        if containers_ready
        else {
            "reason": "ContainersNotReady",
            "message": f"containers with unready status: [{' '.join(not_ready)}]",
        }
    )
    ours = [
        _condition(
            previous,
            "Initialized",
            initialized,
            now,
            **(
                {}
                if initialized
                else {
                    "reason": "ContainersNotInitialized",
                    "message": "containers with incomplete status: "
                    f"[{' '.join(c.name for c in init if not c.finished)}]",
                }
            ),
        ),
        _condition(previous, "Ready", containers_ready and gates_ok, now, **why),
        _condition(previous, "ContainersReady", containers_ready, now, **why),
    ]
    if phase in ("Succeeded", "Failed"):  # a finished pod is not ready, whatever it was
        ours[1] = _condition(previous, "Ready", False, now, reason="PodCompleted")
        ours[2] = _condition(previous, "ContainersReady", False, now, reason="PodCompleted")
    if runtime is not None:
        reason, text = runtime
        ours.append(_condition(previous, RUNTIME_CONDITION, True, now, reason=reason, message=text))
    mine = {c["type"] for c in ours}
    kept = [c for c in previous if c.get("type") not in mine]
    status: Object = {
        "phase": phase,
        "conditions": [*ours, *kept],
        "hostIP": host_ip,
        **({"podIP": pod_ip, "podIPs": [{"ip": pod_ip}]} if pod_ip else {}),
        "startTime": timestamp(started_at),
        "containerStatuses": [c.to_status() for c in containers],
        "qosClass": (pod.get("status") or {}).get("qosClass") or qos_class(pod),
    }
    if init:
        status["initContainerStatuses"] = [c.to_status() for c in init]
    if message is not None:
        status["reason"], status["message"] = message
    return status


def qos_class(pod: Object) -> str:
    """Guaranteed, Burstable or BestEffort, from the containers' requests and limits."""
    spec = pod.get("spec") or {}
    every = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    resources = [c.get("resources") or {} for c in every]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    for r in resources:
        limits, requests = r.get("limits") or {}, r.get("requests") or {}
        if not ("cpu" in limits and "memory" in limits):
            return "Burstable"
        if any(requests.get(k, limits[k]) != limits[k] for k in ("cpu", "memory")):
            return "Burstable"
    return "Guaranteed"
