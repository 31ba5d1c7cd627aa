"""Port-forward through the API server to the kubelet: kubectl (SPDY), Python (WebSocket)."""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Iterator

import pytest
from kubernetes import client, config
from kubernetes.stream import portforward
from tests.conftest import KUBECTL, ClusterProcess
from tests.embedded.kubelet.streaming_support import running_pod, sleeper


def port_forward(cluster: ClusterProcess, namespace: str) -> list[str]:
    return [str(KUBECTL), f"--kubeconfig={cluster.kubeconfig}", "port-forward", "-n", namespace]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(port: int, path: str = "/") -> bytes | None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)
    except OSError:
        return None


@pytest.fixture
def web(cluster: ClusterProcess, namespace: str) -> tuple[str, int]:
    """A pod serving HTTP on its own loopback only (the kubelet forwards to the pod's
    localhost, as upstream); Ready once an exec probe — run inside the pod's network
    namespace too — reaches the server; (name, port)."""
    port = free_port()
    server = ["python3", "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    reach = f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=1)"
    probe = {"exec": {"command": ["python3", "-c", reach]}, "periodSeconds": 1}
    manifest = sleeper("web", image="python:3.11", command=server, readinessProbe=probe)
    name = running_pod(cluster, namespace, manifest)
    cluster.kubectl(
        "wait", "-n", namespace, "--for=condition=Ready", f"pod/{name}", "--timeout=30s"
    )
    return name, port


@pytest.fixture
def forwarded(
    cluster: ClusterProcess, namespace: str, web: tuple[str, int]
) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """``kubectl port-forward pod/web :<port>`` running; (local port, the process)."""
    name, port = web
    process = subprocess.Popen(
        [*port_forward(cluster, namespace), f"pod/{name}", f":{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # "Forwarding from 127.0.0.1:<local> -> <port>"
    found = re.search(r"127\.0\.0\.1:(\d+) -> (\d+)", first)
    assert found, first
    yield int(found[1]), process
    process.terminate()
    process.wait(10)
    process.stdout.close()


def test_kubectl_port_forward_reaches_the_pod(forwarded: tuple[int, subprocess.Popen[str]]) -> None:
    local, process = forwarded
    for _ in range(3):  # a stream pair per connection, on one SPDY session
        answer = http_get(local)
        assert answer is not None and answer.startswith(b"HTTP/1.0 200")
    assert process.poll() is None


def test_kubectl_port_forward_reports_a_closed_port(
    cluster: ClusterProcess, namespace: str
) -> None:
    name = running_pod(cluster, namespace, sleeper("quiet"))
    closed = free_port()
    process = subprocess.Popen(
        [*port_forward(cluster, namespace), f"pod/{name}", f":{closed}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        found = re.search(r"127\.0\.0\.1:(\d+)", process.stdout.readline())
        assert found
        assert not http_get(int(found[1]))  # the connection is dropped, nothing answers
        lines = [process.stdout.readline() for _ in range(3)]
        assert any(f"failed to connect to localhost:{closed}" in line for line in lines), lines
    finally:
        process.terminate()
        process.wait(10)
        assert process.stdout is not None
        process.stdout.close()


def test_python_client_port_forward(
    cluster: ClusterProcess, namespace: str, web: tuple[str, int]
) -> None:
    name, port = web
    api = config.new_client_from_config(str(cluster.kubeconfig))
    try:
        core = client.CoreV1Api(api)
        forward = portforward(
            core.connect_get_namespaced_pod_portforward, name, namespace, ports=str(port)
        )
        conn = forward.socket(port)
        conn.setblocking(True)
        conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
        conn.close()
        assert b"".join(chunks).startswith(b"HTTP/1.0 200")
        assert forward.error(port) is None
        forward.close()
        forward.websocket.shutdown()  # its close() does nothing once the server closed
    finally:
        api.close()
