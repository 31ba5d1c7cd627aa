"""Images from a real registry run under runc and as host processes.

The image is built FROM scratch around Debian's static busybox and pushed to a
``docker-registry`` on loopback; the kubelet pulls it like any image. runc needs root, so
those tests skip (saying why) elsewhere.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from tests.conftest import ClusterProcess, start_cluster
from tests.embedded.kubelet.image_support import needs_runc
from tests.embedded.kubelet.registry_support import Registry
from tests.waiting import eventually


def pod(cluster: ClusterProcess, namespace: str, name: str) -> dict[str, Any]:
    out = cluster.kubectl("get", "pod", name, "-n", namespace, "-o", "json", check=False)
    return json.loads(out) if out.startswith("{") else {}


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == kind]
    return found[0] if found else {}


def run(
    cluster: ClusterProcess, namespace: str, name: str, spec: dict[str, Any], **meta: Any
) -> None:
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, **meta}, "spec": spec}
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(manifest))


def logs(cluster: ClusterProcess, namespace: str, name: str) -> str:
    return cluster.kubectl("logs", name, "-n", namespace, check=False)


@needs_runc
def test_pulled_image_runs_under_runc(
    cluster: ClusterProcess, namespace: str, static_image: str
) -> None:
    script = (
        'echo "marker=$(cat /etc/image-marker) env=$FROM_IMAGE '
        'host=$(cat /etc/os-release 2>/dev/null | head -c 4)"; sleep 1000'
    )
    spec = {
        "restartPolicy": "Never",
        "containers": [{"name": "main", "image": static_image, "command": ["sh", "-c", script]}],
    }
    run(cluster, namespace, "boxed", spec)
    eventually(lambda: "marker=" in logs(cluster, namespace, "boxed"), timeout=60)
    line = logs(cluster, namespace, "boxed")
    assert "marker=from-the-image env=yes host=\n" in line  # the host's /etc is not visible
    found = pod(cluster, namespace, "boxed")
    status = found["status"]["containerStatuses"][0]
    assert status["containerID"].startswith("runc://")
    assert status["imageID"].endswith(
        found["status"]["containerStatuses"][0]["imageID"].rsplit("@", 1)[1]
    )
    assert "@sha256:" in status["imageID"]
    runtime = condition(found, "atoll.io/Runtime")
    assert runtime["reason"] == "Runc" and "runc container" in runtime["message"]
    events = json.loads(cluster.kubectl("get", "events", "-n", namespace, "-o", "json"))["items"]
    assert {"Pulling", "Pulled"} <= {e["reason"] for e in events}
    cluster.kubectl("delete", "pod", "boxed", "-n", namespace, "--grace-period=2", "--wait=true")


@needs_runc
def test_container_over_its_memory_limit_is_oom_killed(
    cluster: ClusterProcess, namespace: str, static_image: str
) -> None:
    spec = {
        "restartPolicy": "Never",
        "containers": [
            {
                "name": "hog",
                "image": static_image,
                "command": [
                    "sh",
                    "-c",
                    "exec dd if=/dev/zero of=/dev/null bs=200M count=1",
                ],
                "resources": {"limits": {"memory": "32Mi"}},
            }
        ],
    }
    run(cluster, namespace, "hog", spec)

    def terminated() -> dict[str, Any] | None:
        statuses = (pod(cluster, namespace, "hog").get("status") or {}).get(
            "containerStatuses"
        ) or []
        return (statuses[0]["state"].get("terminated") if statuses else None) or None

    state = eventually(terminated, timeout=60)
    assert state["reason"] == "OOMKilled", state
    assert pod(cluster, namespace, "hog")["status"]["phase"] == "Failed"


def test_pulled_image_runs_as_a_host_process_when_asked(
    cluster: ClusterProcess, namespace: str, static_image: str
) -> None:
    script = (
        'echo "marker=$(cat /etc/image-marker 2>/dev/null || echo none) env=$FROM_IMAGE"; '
        "sleep 1000"
    )
    spec = {
        "containers": [{"name": "main", "image": static_image, "command": ["sh", "-c", script]}]
    }
    run(cluster, namespace, "hosted", spec, annotations={"atoll.io/runtime": "process"})
    eventually(lambda: "marker=" in logs(cluster, namespace, "hosted"), timeout=60)
    # The entrypoint and env come from the image, the files around it from the host.
    assert "marker=none env=yes" in logs(cluster, namespace, "hosted")
    found = pod(cluster, namespace, "hosted")
    assert found["status"]["containerStatuses"][0]["containerID"].startswith("process://")
    runtime = condition(found, "atoll.io/Runtime")
    assert runtime["reason"] == "HostProcess" and "from image" in runtime["message"]
    cluster.kubectl("delete", "pod", "hosted", "-n", namespace, "--grace-period=2", "--wait=true")


def test_missing_image_on_a_reachable_registry_is_err_image_pull(
    cluster: ClusterProcess, namespace: str, registry: Registry
) -> None:
    host = registry.url.split("://", 1)[1]
    spec = {
        "containers": [
            {"name": "main", "image": f"{host}/no/such:1", "command": ["sh", "-c", "sleep 1"]}
        ]
    }
    run(cluster, namespace, "missing", spec)

    def waiting() -> str | None:
        statuses = (pod(cluster, namespace, "missing").get("status") or {}).get(
            "containerStatuses"
        ) or []
        return (
            (statuses[0]["state"].get("waiting") or {}).get("reason") if statuses else None
        ) or None

    assert eventually(
        lambda: waiting() in ("ErrImagePull", "ImagePullBackOff") and waiting(), timeout=30
    )


def test_registry_mirror_setting_is_honoured(
    tmp_path: Path, registry: Registry, static_image: str
) -> None:
    """``docker.io`` is unreachable here: the image can only come from the mirror."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    mirrors = json.dumps({"docker.io": registry.url})
    cluster = start_cluster(data_dir, "--kubelet", "on", settings={"REGISTRY_MIRRORS": mirrors})
    try:
        spec = {
            "containers": [
                {
                    "name": "main",
                    "image": "docker.io/static/busybox:1",
                    "command": ["sh", "-c", "cat /etc/image-marker 2>/dev/null; sleep 1000"],
                }
            ]
        }
        run(cluster, "default", "mirrored", spec, annotations={"atoll.io/runtime": "process"})

        def pulled() -> str | None:
            statuses = (pod(cluster, "default", "mirrored").get("status") or {}).get(
                "containerStatuses"
            ) or []
            return (statuses[0].get("imageID") if statuses else None) or None

        assert "@sha256:" in eventually(pulled, timeout=60)
        registry.settled()
        assert registry.requests("GET", "/v2/static/busybox/manifests/1")
    finally:
        cluster.stop()


@needs_runc
def test_termination_message_file_under_runc(
    cluster: ClusterProcess, namespace: str, static_image: str
) -> None:
    script = "echo 'all done: 42 rows' > /dev/termination-log"
    spec = {
        "restartPolicy": "Never",
        "containers": [{"name": "main", "image": static_image, "command": ["sh", "-c", script]}],
    }
    run(cluster, namespace, "reporter", spec)

    def terminated() -> dict[str, Any] | None:
        statuses = (pod(cluster, namespace, "reporter").get("status") or {}).get(
            "containerStatuses"
        ) or []
        return (statuses[0]["state"].get("terminated") if statuses else None) or None

    assert eventually(terminated, timeout=60)["message"] == "all done: 42 rows\n"


@needs_runc
def test_a_runc_container_joins_its_pods_network(
    cluster: ClusterProcess, namespace: str, static_image: str
) -> None:
    # busybox's httpd serves the image's root; the address and files are the pod's own.
    script = "httpd -p 8080 -h /etc; ip -4 addr show eth0; cat /etc/hosts; sleep 1000"
    spec = {
        "restartPolicy": "Never",
        "containers": [{"name": "main", "image": static_image, "command": ["sh", "-c", script]}],
    }
    run(cluster, namespace, "netted", spec)
    eventually(lambda: "Kubernetes-managed" in logs(cluster, namespace, "netted"), timeout=60)
    ip = pod(cluster, namespace, "netted")["status"]["podIP"]
    shown = logs(cluster, namespace, "netted")
    assert f"inet {ip}/" in shown and f"{ip}\tnetted" in shown
    assert not ip.startswith("127.")

    def served() -> bytes | None:
        try:
            with socket.create_connection((ip, 8080), timeout=2) as conn:
                conn.sendall(b"GET /image-marker HTTP/1.0\r\n\r\n")
                answer = b""
                while chunk := conn.recv(4096):  # until the server closes
                    answer += chunk
                return answer
        except OSError:
            return None

    assert b"from-the-image" in eventually(served, what="busybox httpd in the runc container")
