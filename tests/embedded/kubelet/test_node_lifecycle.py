"""The kubelet's own life: nothing it started outlives it, and a crash never duplicates pods.

Each test runs its own cluster (they stop and kill it). Pods write their pid to a file we
choose, so the test can look the process up in /proc.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.conftest import ClusterProcess, start_cluster
from tests.waiting import eventually


def sleeper(name: str, pid_file: Path) -> dict[str, Any]:
    # "$$$$": Kubernetes turns "$$" into "$" before the shell sees it.
    script = f"echo $$$$ > {pid_file}.tmp; mv {pid_file}.tmp {pid_file}; exec sleep 1000"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "terminationGracePeriodSeconds": 2,
            "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", script]}],
        },
    }


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def pod(cluster: ClusterProcess, name: str) -> dict[str, Any]:
    out = cluster.kubectl("get", "pod", name, "-o", "json", check=False)
    return json.loads(out) if out.startswith("{") else {}


def running_pid(cluster: ClusterProcess, name: str, pid_file: Path) -> int:
    eventually(
        lambda: (pod(cluster, name).get("status") or {}).get("phase") == "Running", timeout=30
    )
    return int(eventually(lambda: pid_file.exists() and pid_file.read_text().strip(), timeout=30))


def test_sigterm_stops_every_pod(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    cluster = start_cluster(data_dir, "--kubelet", "on")
    pids = []
    for index in range(3):
        pid_file = tmp_path / f"pid-{index}"
        cluster.kubectl("apply", "-f", "-", input=json.dumps(sleeper(f"s{index}", pid_file)))
        pids.append(pid_file)
    found = [running_pid(cluster, f"s{index}", path) for index, path in enumerate(pids)]
    assert all(alive(pid) for pid in found)
    assert cluster.stop(signal.SIGTERM) == 0
    assert not [pid for pid in found if alive(pid)], "pods outlived the cluster"


def test_after_kill_9_pods_restart_once_and_nothing_is_left_behind(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    cluster = start_cluster(data_dir, "--kubelet", "on")
    pid_file = tmp_path / "pid"
    cluster.kubectl("apply", "-f", "-", input=json.dumps(sleeper("survivor", pid_file)))
    first = running_pid(cluster, "survivor", pid_file)
    cluster.stop(signal.SIGKILL)
    eventually(lambda: not alive(first), timeout=10, what="the container died with its kubelet")
    pid_file.unlink()

    cluster = start_cluster(data_dir, "--kubelet", "on")
    try:
        second = running_pid(cluster, "survivor", pid_file)
        assert second != first
        status = pod(cluster, "survivor")["status"]["containerStatuses"][0]
        assert status["restartCount"] == 1  # the crash counts as one restart, as after a reboot
        # Exactly one instance runs: no other `sleep 1000` started from this pod's directory.
        uid = pod(cluster, "survivor")["metadata"]["uid"]
        ours = subprocess.run(["pgrep", "-f", "exec sleep 1000"], capture_output=True, text=True)
        candidates = [int(p) for p in ours.stdout.split()]
        mine = [p for p in candidates if uid in Path(f"/proc/{p}/cwd").resolve().as_posix()]
        assert mine == [second] or mine == [], mine  # cwd may be shared; never two of ours
    finally:
        cluster.stop()


def test_logs_follow_streams_new_lines(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    cluster = start_cluster(data_dir, "--kubelet", "on")
    try:
        trigger = tmp_path / "trigger"
        script = (
            f"echo first; while [ ! -e {trigger} ]; do sleep 0.05; done; echo second; sleep 1000"
        )
        manifest = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "talker"},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {"name": "main", "image": "busybox", "command": ["sh", "-c", script]}
                ],
            },
        }
        cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))
        eventually(lambda: "first" in cluster.kubectl("logs", "talker", check=False), timeout=30)
        follower = subprocess.Popen(
            [*_kubectl(cluster), "logs", "-f", "talker"], stdout=subprocess.PIPE, text=True
        )
        try:
            assert follower.stdout is not None
            assert follower.stdout.readline() == "first\n"
            trigger.touch()
            started = time.monotonic()
            assert follower.stdout.readline() == "second\n"
            assert time.monotonic() - started < 10
        finally:
            follower.kill()
            follower.wait()
            if follower.stdout is not None:
                follower.stdout.close()
        assert cluster.kubectl("logs", "talker", "--tail=1") == "second\n"
        stamped = cluster.kubectl("logs", "talker", "--timestamps")
        assert stamped.splitlines()[0].endswith("Z first")
    finally:
        cluster.stop()


def _kubectl(cluster: ClusterProcess) -> list[str]:
    from tests.conftest import KUBECTL

    return [str(KUBECTL), f"--kubeconfig={cluster.kubeconfig}"]


def test_kubelet_leaves_no_process_when_a_pod_is_deleted(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    cluster = start_cluster(data_dir, "--kubelet", "on")
    try:
        pid_file = tmp_path / "pid"
        cluster.kubectl("apply", "-f", "-", input=json.dumps(sleeper("gone", pid_file)))
        pid = running_pid(cluster, "gone", pid_file)
        cluster.kubectl("delete", "pod", "gone", "--wait=true", "--timeout=30s")
        assert not alive(pid)
        pods = data_dir / "kubelet" / "pods"
        eventually(lambda: not pods.exists() or not any(pods.iterdir()), timeout=10)
    finally:
        cluster.stop()
    assert os.path.exists(data_dir)


def test_a_full_node_refuses_pods_out_of_pods(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    cluster = start_cluster(data_dir, "--kubelet", "on", settings={"MAX_PODS": "2"})
    try:
        node = eventually(
            lambda: (
                (found := json.loads(cluster.kubectl("get", "nodes", "-o", "json"))["items"])
                and found[0]
            ),
            timeout=30,
        )
        assert node["status"]["capacity"]["pods"] == "2"
        for index in range(2):
            manifest = sleeper(f"fits{index}", tmp_path / f"pid{index}")
            cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))
            running_pid(cluster, f"fits{index}", tmp_path / f"pid{index}")
        # Bound directly (as a DaemonSet pod or `nodeName` in a manifest), past the scheduler:
        extra = sleeper("extra", tmp_path / "pid-extra")
        extra["spec"]["nodeName"] = node["metadata"]["name"]
        cluster.kubectl("apply", "-f", "-", input=json.dumps(extra))
        refused = eventually(
            lambda: (p := pod(cluster, "extra")) and p["status"].get("phase") == "Failed" and p,
            timeout=30,
        )
        assert refused["status"]["reason"] == "OutOfpods"
        assert "capacity: 2" in refused["status"]["message"]
        assert not (tmp_path / "pid-extra").exists()
        cluster.kubectl("delete", "pod", "extra", "--wait=true", "--timeout=30s")
    finally:
        cluster.stop()
