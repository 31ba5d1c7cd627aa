"""The Pod table: columns, a realistic row, and the STATUS/READY/RESTARTS edge cases of printPod."""

from __future__ import annotations

from typing import Any

import pytest
from tests.embedded.apiserver.tables.tables_support import NOW, ago, meta

from atoll.embedded.apiserver.tables import column_definitions, row_cells


def pod(
    *,
    containers: int = 1,
    statuses: list[dict[str, Any]] | None = None,
    init: list[dict[str, Any]] | None = None,
    phase: str = "Running",
    **status: Any,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": f"c{i}", "image": "nginx"} for i in range(containers)]
    }
    if init is not None:
        spec["initContainers"] = [{"name": f"i{i}", "image": "busybox"} for i in range(len(init))]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta("web-1"),
        "spec": spec,
        "status": {
            "phase": phase,
            "containerStatuses": statuses or [],
            "initContainerStatuses": init or [],
            **status,
        },
    }


def running(ready: bool = True, restarts: int = 0) -> dict[str, Any]:
    state = {"running": {"startedAt": ago(minutes=4)}}
    return {"name": "c", "ready": ready, "restartCount": restarts, "state": state}


def waiting(reason: str, restarts: int = 0) -> dict[str, Any]:
    return {
        "name": "c",
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason}},
    }


def terminated(exit_code: int = 0, reason: str = "", signal: int = 0) -> dict[str, Any]:
    state: dict[str, Any] = {"exitCode": exit_code}
    if reason:
        state["reason"] = reason
    if signal:
        state["signal"] = signal
    return {"name": "c", "ready": False, "restartCount": 0, "state": {"terminated": state}}


def status_of(obj: dict[str, Any]) -> tuple[str, str, int]:
    cells = row_cells("", "Pod", obj, now=NOW)
    return cells[1], cells[2], cells[3]


def test_columns_are_those_of_1_20() -> None:
    columns = column_definitions("", "Pod")
    assert [(c["name"], c["type"], c["priority"]) for c in columns] == [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Status", "string", 0),
        ("Restarts", "integer", 0),
        ("Age", "string", 0),
        ("IP", "string", 1),
        ("Node", "string", 1),
        ("Nominated Node", "string", 1),
        ("Readiness Gates", "string", 1),
    ]
    assert columns[0]["format"] == "name"
    assert (
        columns[1]["description"]
        == "The aggregate readiness state of this pod for accepting traffic."
    )
    assert all(set(c) == {"name", "type", "format", "description", "priority"} for c in columns)


def test_running_pod_row() -> None:
    obj = pod(
        containers=2,
        statuses=[running(restarts=1), running(restarts=2)],
        podIP="10.1.0.7",
        podIPs=[{"ip": "10.1.0.7"}, {"ip": "fd00::7"}],
        hostIP="192.168.1.2",
    )
    obj["spec"]["nodeName"] = "node-a"
    assert row_cells("", "Pod", obj, now=NOW) == [
        "web-1",
        "2/2",
        "Running",
        3,
        "5m",
        "10.1.0.7",
        "node-a",
        "<none>",
        "<none>",
    ]


def test_fresh_pod_without_status() -> None:
    obj = {"metadata": meta("new"), "spec": {"containers": [{"name": "a"}]}}
    assert row_cells("", "Pod", obj, now=NOW) == [
        "new",
        "0/1",
        "",
        0,
        "5m",
        "<none>",
        "<none>",
        "<none>",
        "<none>",
    ]


def test_pending_pod_shows_phase_and_nominated_node() -> None:
    obj = pod(phase="Pending", nominatedNodeName="node-b")
    cells = row_cells("", "Pod", obj, now=NOW)
    assert cells[2] == "Pending"
    assert cells[7] == "node-b"


def test_pod_ip_falls_back_to_pod_ip_field() -> None:
    cells = row_cells("", "Pod", pod(podIP="10.0.0.9"), now=NOW)
    assert cells[5] == "10.0.0.9"


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([waiting("ContainerCreating")], (0, "ContainerCreating", 0)),
        ([waiting("CrashLoopBackOff", restarts=4)], (0, "CrashLoopBackOff", 4)),
        ([waiting("ErrImagePull")], (0, "ErrImagePull", 0)),
        ([terminated(0, "Completed")], (0, "Completed", 0)),
        ([terminated(1, "Error")], (0, "Error", 0)),
        ([terminated(137, "", signal=9)], (0, "Signal:9", 0)),
        ([terminated(3)], (0, "ExitCode:3", 0)),
        ([running(ready=False)], (0, "Running", 0)),
        # The walk goes last to first, so the first container's reason wins.
        ([waiting("ImagePullBackOff"), terminated(1, "Error")], (0, "ImagePullBackOff", 0)),
        ([running(), waiting("CrashLoopBackOff", 2)], (1, "CrashLoopBackOff", 2)),
        # A waiting state without a reason falls through to the next checks.
        ([{"ready": False, "restartCount": 0, "state": {"waiting": {}}}], (0, "Running", 0)),
    ],
)
def test_container_states(statuses: list[dict[str, Any]], expected: tuple[int, str, int]) -> None:
    ready, status, restarts = expected
    obj = pod(containers=len(statuses), statuses=statuses)
    assert status_of(obj) == (f"{ready}/{len(statuses)}", status, restarts)


def test_completed_container_next_to_a_running_one() -> None:
    statuses = [terminated(0, "Completed"), running()]
    ready_condition = [{"type": "Ready", "status": "True"}]
    assert (
        status_of(pod(containers=2, statuses=statuses, conditions=ready_condition))[1] == "Running"
    )
    assert status_of(pod(containers=2, statuses=statuses))[1] == "NotReady"


def test_status_reason_overrides_phase() -> None:
    obj = pod(phase="Failed", reason="Evicted", statuses=[terminated(137, "Error")])
    assert status_of(obj)[1] == "Error"
    assert status_of(pod(phase="Failed", reason="Evicted"))[1] == "Evicted"


@pytest.mark.parametrize(
    ("init", "expected"),
    [
        ([waiting("PodInitializing")], "Init:0/1"),
        ([terminated(0, "Completed"), running(ready=False)], "Init:1/2"),
        ([terminated(0, "Completed"), waiting("PodInitializing")], "Init:1/2"),
        ([waiting("CrashLoopBackOff", restarts=3)], "Init:CrashLoopBackOff"),
        ([terminated(1, "Error")], "Init:Error"),
        ([terminated(2)], "Init:ExitCode:2"),
        ([terminated(143, signal=15)], "Init:Signal:15"),
        ([waiting("ImagePullBackOff"), waiting("ErrImagePull")], "Init:ImagePullBackOff"),
    ],
)
def test_init_containers(init: list[dict[str, Any]], expected: str) -> None:
    obj = pod(phase="Pending", init=init, statuses=[waiting("PodInitializing")])
    assert status_of(obj)[1] == expected


def test_restarts_count_init_containers_only_while_initialising() -> None:
    initialising = pod(
        init=[waiting("CrashLoopBackOff", restarts=5)], statuses=[waiting("PodInitializing", 7)]
    )
    assert status_of(initialising) == ("0/1", "Init:CrashLoopBackOff", 5)
    done = pod(
        init=[{**terminated(0, "Completed"), "restartCount": 5}], statuses=[running(restarts=1)]
    )
    assert status_of(done) == ("1/1", "Running", 1)


def test_terminating_and_node_lost() -> None:
    obj = pod(statuses=[running()])
    obj["metadata"]["deletionTimestamp"] = ago(seconds=10)
    assert status_of(obj)[1] == "Terminating"
    obj["status"]["reason"] = "NodeLost"
    assert status_of(obj)[1] == "Unknown"


def test_terminating_wins_over_init_state() -> None:
    obj = pod(init=[waiting("CrashLoopBackOff")])
    obj["metadata"]["deletionTimestamp"] = ago(seconds=10)
    assert status_of(obj)[1] == "Terminating"


def test_readiness_gates() -> None:
    obj = pod(
        statuses=[running()],
        conditions=[
            {"type": "example.com/lb", "status": "True"},
            {"type": "example.com/dns", "status": "False"},
            {"type": "example.com/lb", "status": "False"},  # only the first of a type counts
        ],
    )
    obj["spec"]["readinessGates"] = [
        {"conditionType": "example.com/lb"},
        {"conditionType": "example.com/dns"},
        {"conditionType": "example.com/missing"},
    ]
    assert row_cells("", "Pod", obj, now=NOW)[8] == "1/3"


@pytest.mark.parametrize(
    "status",
    [
        {"containerStatuses": None, "initContainerStatuses": None},
        {"containerStatuses": [None, "junk", {"state": None}]},
        {"containerStatuses": [{"state": {"terminated": None, "waiting": "x"}}]},
        {"conditions": "nope", "podIPs": [{}]},
    ],
)
def test_malformed_status_never_raises(status: dict[str, Any]) -> None:
    obj = {"metadata": {"name": "p"}, "spec": {"containers": None}, "status": status}
    cells = row_cells("", "Pod", obj, now=NOW)
    assert len(cells) == 9


def test_pod_ip_wins_over_pod_ips() -> None:
    obj = pod(podIP="10.0.0.1", podIPs=[{"ip": "10.0.0.2"}])
    assert row_cells("", "Pod", obj, now=NOW)[5] == "10.0.0.1"
    assert row_cells("", "Pod", pod(podIPs=[{"ip": "fd00::2"}]), now=NOW)[5] == "fd00::2"
