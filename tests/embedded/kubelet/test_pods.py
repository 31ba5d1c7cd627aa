"""Pods really run: host processes started, restarted, probed, logged and stopped.

Each test uses its own namespace of the shared kubelet cluster and waits with deadlines
(``eventually``), never with sleeps.
"""

from __future__ import annotations

import json
import socket
import textwrap
from typing import Any

from tests.conftest import ClusterProcess
from tests.waiting import eventually


def pod(cluster: ClusterProcess, namespace: str, name: str) -> dict[str, Any]:
    out = cluster.kubectl("get", "pod", name, "-n", namespace, "-o", "json", check=False)
    return json.loads(out) if out.startswith("{") else {}


def ready(obj: dict[str, Any]) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_kubectl_run_http_server_becomes_ready_and_serves(
    cluster: ClusterProcess, namespace: str
) -> None:
    port = free_port()
    cluster.kubectl(
        "run",
        "web",
        "-n",
        namespace,
        "--image=python:3.11",
        "--port",
        str(port),
        "--",
        "python3",
        "-m",
        "http.server",
        str(port),
    )
    found = eventually(lambda: (p := pod(cluster, namespace, "web")) and ready(p) and p, timeout=30)
    status = found["status"]
    assert status["phase"] == "Running"
    (container,) = status["containerStatuses"]
    assert container["ready"] is True and container["started"] is True
    assert container["restartCount"] == 0 and "running" in container["state"]
    assert container["containerID"].startswith("process://")
    assert set(container) >= {"name", "ready", "restartCount", "image", "imageID"}

    ip = status["podIP"]  # the pod's own address (this machine's without a pod network)

    def answer() -> bytes | None:  # Ready without a probe means started, not yet listening
        try:
            with socket.create_connection((ip, port), timeout=5) as conn:
                conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
                return conn.recv(64)
        except OSError:
            return None

    assert eventually(answer, timeout=20).startswith(b"HTTP/1.0 200")
    events = cluster.kubectl("get", "events", "-n", namespace, "-o", "json")
    reasons = {e["reason"] for e in json.loads(events)["items"]}
    assert {"Started", "Created", "ImagePullFallback"} <= reasons

    cluster.kubectl("delete", "pod", "web", "-n", namespace, "--wait=true", "--timeout=30s")
    eventually(lambda: not pod(cluster, namespace, "web"), timeout=30)

    def closed() -> bool:
        try:
            socket.create_connection((ip, port), timeout=1).close()
        except OSError:
            return True
        return False

    eventually(closed, timeout=10, what="the server process stopped")


def test_crashing_container_restarts_with_back_off(cluster: ClusterProcess, namespace: str) -> None:
    cluster.kubectl(
        "run", "crash", "-n", namespace, "--image=busybox", "--", "sh", "-c", "echo boom; exit 3"
    )

    def backing_off() -> dict[str, Any] | None:
        statuses = (pod(cluster, namespace, "crash").get("status") or {}).get(
            "containerStatuses"
        ) or []
        if (
            statuses
            and (statuses[0]["state"].get("waiting") or {}).get("reason") == "CrashLoopBackOff"
        ):
            return statuses[0]
        return None

    status = eventually(backing_off, timeout=30)
    assert status["restartCount"] >= 1
    last = status["lastState"]["terminated"]
    assert last["exitCode"] == 3 and last["reason"] == "Error"
    assert "back-off 10s" in status["state"]["waiting"]["message"]


def test_job_like_pod_succeeds_and_logs(cluster: ClusterProcess, namespace: str) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "once"},
        "spec": {
            "restartPolicy": "Never",
            "initContainers": [
                {"name": "prep", "image": "busybox", "command": ["sh", "-c", "echo init-ran"]}
            ],
            "containers": [
                {
                    "name": "main",
                    "image": "busybox",
                    "command": [
                        "sh",
                        "-c",
                        'echo "hello $(GREETING) from $POD_NAME"; echo oops >&2',
                    ],
                    "env": [
                        {"name": "GREETING", "value": "world"},
                        {
                            "name": "POD_NAME",
                            "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
                        },
                    ],
                }
            ],
        },
    }
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))
    done = eventually(
        lambda: (
            (p := pod(cluster, namespace, "once")) and p["status"].get("phase") == "Succeeded" and p
        ),
        timeout=30,
    )
    (main,) = done["status"]["containerStatuses"]
    assert main["state"]["terminated"]["reason"] == "Completed"
    (init,) = done["status"]["initContainerStatuses"]
    assert init["state"]["terminated"]["exitCode"] == 0
    logs = cluster.kubectl("logs", "once", "-n", namespace, "-c", "main")
    assert logs == "hello world from once\noops\n"
    assert cluster.kubectl("logs", "once", "-n", namespace, "-c", "prep") == "init-ran\n"


def test_config_map_env_and_volume_update_reach_the_container(
    cluster: ClusterProcess, namespace: str, tmp_path: Any
) -> None:
    cluster.kubectl("create", "configmap", "settings", "-n", namespace, "--from-literal=mode=blue")
    script = textwrap.dedent(
        """
        echo "env mode=$MODE"
        while true; do echo "file mode=$(cat /etc/atoll-test/mode)"; sleep 0.2; done
        """
    )
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "reader"},
        "spec": {
            "volumes": [{"name": "cfg", "configMap": {"name": "settings"}}],
            "containers": [
                {
                    "name": "main",
                    "image": "busybox",
                    "command": ["sh", "-c", script],
                    "env": [
                        {
                            "name": "MODE",
                            "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}},
                        }
                    ],
                    "volumeMounts": [{"name": "cfg", "mountPath": "/etc/atoll-test"}],
                }
            ],
        },
    }
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))
    eventually(
        lambda: "file mode=blue" in cluster.kubectl("logs", "reader", "-n", namespace, check=False),
        timeout=30,
    )
    assert "env mode=blue" in cluster.kubectl("logs", "reader", "-n", namespace)
    cluster.kubectl(
        "create",
        "configmap",
        "settings",
        "-n",
        namespace,
        "--from-literal=mode=green",
        "--dry-run=client",
        "-o",
        "yaml",
    )
    cluster.kubectl(
        "patch", "configmap", "settings", "-n", namespace, "-p", '{"data":{"mode":"green"}}'
    )
    eventually(
        lambda: (
            "file mode=green" in cluster.kubectl("logs", "reader", "-n", namespace, check=False)
        ),
        timeout=30,
    )
    cluster.kubectl("delete", "pod", "reader", "-n", namespace, "--grace-period=1", "--wait=true")


def test_failing_liveness_probe_restarts_and_readiness_gates_ready(
    cluster: ClusterProcess, namespace: str, tmp_path: Any
) -> None:
    flag = tmp_path / "healthy"
    flag.write_text("ok")
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "probed"},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "busybox",
                    "command": ["sh", "-c", "while true; do sleep 0.2; done"],
                    "readinessProbe": {
                        "exec": {"command": ["test", "-f", str(flag)]},
                        "periodSeconds": 1,
                    },
                    "livenessProbe": {
                        "exec": {"command": ["test", "-f", str(flag)]},
                        "periodSeconds": 1,
                        "failureThreshold": 2,
                    },
                }
            ]
        },
    }
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))
    eventually(lambda: ready(pod(cluster, namespace, "probed")), timeout=30)
    flag.unlink()
    eventually(lambda: not ready(pod(cluster, namespace, "probed")), timeout=30)
    restarted = eventually(
        lambda: (
            (
                (pod(cluster, namespace, "probed").get("status") or {}).get("containerStatuses")
                or [{}]
            )[0].get("restartCount", 0)
            >= 1
        ),
        timeout=30,
    )
    assert restarted
    events = json.loads(cluster.kubectl("get", "events", "-n", namespace, "-o", "json"))["items"]
    messages = [e["message"] for e in events if e["reason"] in ("Unhealthy", "Killing")]
    assert any("Liveness probe failed" in m for m in messages)
    assert any("failed liveness probe, will be restarted" in m for m in messages)
    cluster.kubectl("delete", "pod", "probed", "-n", namespace, "--grace-period=1", "--wait=true")


def test_active_deadline_fails_the_pod(cluster: ClusterProcess, namespace: str) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "late"},
        "spec": {
            "activeDeadlineSeconds": 2,
            "containers": [{"name": "main", "image": "busybox", "command": ["sleep", "1000"]}],
        },
    }
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))
    failed = eventually(
        lambda: (
            (p := pod(cluster, namespace, "late")) and p["status"].get("phase") == "Failed" and p
        ),
        timeout=30,
    )
    assert failed["status"]["reason"] == "DeadlineExceeded"
    (status,) = failed["status"]["containerStatuses"]
    assert status["state"]["terminated"]["exitCode"] in (137, 143)


def test_fallback_to_logs_on_error_fills_the_termination_message(
    cluster: ClusterProcess, namespace: str
) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "explains"},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "main",
                    "image": "busybox",
                    "command": [
                        "sh",
                        "-c",
                        "echo starting; echo 'config file missing' >&2; exit 2",
                    ],
                    "terminationMessagePolicy": "FallbackToLogsOnError",
                }
            ],
        },
    }
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))
    failed = eventually(
        lambda: (
            (p := pod(cluster, namespace, "explains"))
            and p["status"].get("phase") == "Failed"
            and p
        ),
        timeout=30,
    )
    terminated = failed["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 2
    assert terminated["message"] == "starting\nconfig file missing\n"
