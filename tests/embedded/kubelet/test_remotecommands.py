"""exec, attach and cp through the API server to the kubelet, with real clients.

kubectl 1.20 speaks SPDY/3.1; the official Python client speaks WebSocket (v5, v4 and the
base64 variants). Pods here are host processes (busybox cannot be pulled offline), and,
as root with runc, OCI containers from a loopback registry.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websocket
from kubernetes import client, config
from kubernetes.stream import stream
from tests.conftest import KUBECTL, ClusterProcess
from tests.embedded.kubelet.image_support import needs_runc
from tests.embedded.kubelet.streaming_support import kubectl, running_pod, sleeper, terminal
from tests.waiting import eventually


@pytest.fixture(scope="module")
def core(cluster: ClusterProcess) -> Iterator[client.CoreV1Api]:
    api = config.new_client_from_config(str(cluster.kubeconfig))
    yield client.CoreV1Api(api)
    api.close()


@pytest.fixture
def pod(cluster: ClusterProcess, namespace: str) -> str:
    return running_pod(cluster, namespace, sleeper("box"))


def test_kubectl_exec_separates_output_and_returns_the_exit_code(
    cluster: ClusterProcess, namespace: str, pod: str
) -> None:
    done = kubectl(
        cluster, "exec", "-n", namespace, pod, "--", "sh", "-c", "echo out; echo err >&2; exit 3"
    )
    assert done.stdout == b"out\n"
    assert done.stderr == b"err\ncommand terminated with exit code 3\n"
    assert done.returncode == 3
    assert kubectl(cluster, "exec", "-n", namespace, pod, "--", "true").returncode == 0


def test_kubectl_exec_pipes_stdin_to_the_command(
    cluster: ClusterProcess, namespace: str, pod: str
) -> None:
    text = b"".join(b"line %d\n" % i for i in range(20000))  # ~200 KiB: several windows
    done = kubectl(cluster, "exec", "-i", "-n", namespace, pod, "--", "cat", input=text)
    assert done.returncode == 0, done.stderr
    assert done.stdout == text


def test_kubectl_exec_it_runs_on_a_terminal_that_follows_resizes(
    cluster: ClusterProcess, namespace: str, pod: str
) -> None:
    argv = [str(KUBECTL), f"--kubeconfig={cluster.kubeconfig}", "exec", "-it", "-n", namespace]
    with terminal([*argv, pod, "--", "sh"], rows=30, cols=100) as tty:
        tty.write("tty; stty size\r")
        tty.read_until(b"/dev/pts/")
        tty.read_until(b"30 100")
        tty.resize(40, 120)

        def resized() -> bool:  # the resize and the command travel on different streams
            tty.write("stty size\r")
            try:
                tty.read_until(b"40 120", timeout=0.5)
            except AssertionError:
                return False
            return True

        eventually(resized, timeout=20, what="the new size inside the pod")
        tty.write("exit 5\r")
        assert tty.wait() == 5
    assert b"command terminated with exit code 5" in tty.output


@pytest.mark.skipif(os.geteuid() != 0, reason="private mount namespaces need root")
def test_exec_enters_a_host_process_container_s_mount_namespace(
    cluster: ClusterProcess, namespace: str, tmp_path: Path
) -> None:
    target = tmp_path / "mounted"  # created empty on the host, the volume inside
    script = f"echo inside > {target}/marker; sleep 3600"
    manifest = sleeper("mounts", command=["sh", "-c", script])
    manifest["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    manifest["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "scratch", "mountPath": str(target)}
    ]
    name = running_pod(cluster, namespace, manifest)
    argv = ["exec", "-n", namespace, name, "--", "cat", f"{target}/marker"]
    eventually(lambda: kubectl(cluster, *argv).stdout == b"inside\n", what="the marker")
    assert not (target / "marker").exists()  # the host sees its own, empty directory


def test_kubectl_exec_refusals_read_as_kube_s(
    cluster: ClusterProcess, namespace: str, pod: str
) -> None:
    wrong = kubectl(cluster, "exec", "-n", namespace, pod, "-c", "nope", "--", "true")
    assert wrong.returncode == 1
    assert b"container nope is not valid for pod box" in wrong.stderr
    missing = kubectl(cluster, "exec", "-n", namespace, pod, "--", "no-such-program")
    assert missing.returncode == 1
    assert b'exec: "no-such-program": executable file not found' in missing.stderr


def test_an_exec_ends_with_its_container(cluster: ClusterProcess, namespace: str, pod: str) -> None:
    argv = [str(KUBECTL), f"--kubeconfig={cluster.kubeconfig}", "exec", "-n", namespace, pod]
    running = subprocess.Popen(
        [*argv, "--", "sh", "-c", "echo started; exec sleep 1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert running.stdout is not None and running.stdout.readline() == b"started\n"
        cluster.kubectl("delete", "pod", pod, "-n", namespace, "--wait=false")
        _, stderr = running.communicate(timeout=30)
        assert running.returncode == 137  # SIGKILL, as when its PID namespace ends
        assert b"command terminated with exit code 137" in stderr
    finally:
        if running.poll() is None:
            running.kill()
            running.communicate()


def test_the_api_server_wants_an_authenticated_upgrade(
    cluster: ClusterProcess, namespace: str, pod: str
) -> None:
    def post(path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        host, port = cluster.url.removeprefix("https://").rsplit(":", 1)
        context = ssl.create_default_context(cafile=str(cluster.ca))
        conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=10)
        try:
            conn.request("POST", path, headers=headers)  # urllib would say Connection: close
            answer = conn.getresponse()
            return answer.status, json.loads(answer.read())
        finally:
            conn.close()

    exec_path = f"/api/v1/namespaces/{namespace}/pods/{pod}/exec?command=true&stdout=true"
    token = {"Authorization": f"Bearer {cluster.token}"}
    upgrade = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1"}
    code, status = post(exec_path, token)
    assert (code, status["message"]) == (400, "Upgrade request required")
    code, status = post(exec_path, upgrade)
    assert (code, status["reason"]) == (401, "Unauthorized")
    gone = f"/api/v1/namespaces/{namespace}/pods/nope/attach?stdout=true"
    code, status = post(gone, {**token, **upgrade})
    assert (code, status["message"]) == (404, 'pods "nope" not found')


def test_kubectl_cp_copies_both_ways(
    cluster: ClusterProcess, namespace: str, pod: str, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "small.txt").write_text("hello from the test\n")
    payload = bytes(range(256)) * 12_000  # ~3 MiB, far past one SPDY window
    (source / "big.bin").write_bytes(payload)
    inside = tmp_path / "in-the-pod"  # a host process sees the host's filesystem
    to_pod = kubectl(cluster, "cp", "-n", namespace, str(source), f"{pod}:{inside}")
    assert to_pod.returncode == 0, to_pod.stderr
    assert (inside / "big.bin").read_bytes() == payload
    back = tmp_path / "back"
    from_pod = kubectl(cluster, "cp", "-n", namespace, f"{pod}:{inside}", str(back))
    assert from_pod.returncode == 0, from_pod.stderr
    assert (back / "small.txt").read_text() == "hello from the test\n"
    assert (back / "big.bin").read_bytes() == payload


def test_python_client_exec_streams_stdio_and_the_exit_code(
    core: client.CoreV1Api, namespace: str, pod: str
) -> None:
    script = "read line; echo got=$line; echo err >&2; exit 3"
    resp = stream(
        core.connect_get_namespaced_pod_exec,
        pod,
        namespace,
        command=["sh", "-c", script],
        stdin=True,
        stdout=True,
        stderr=True,
        tty=False,
        _preload_content=False,
    )
    assert resp.subprotocol == "v5.channel.k8s.io"
    resp.write_stdin("hello\n")
    resp.run_forever(timeout=20)
    assert resp.read_stdout() == "got=hello\n"
    assert resp.read_stderr() == "err\n"
    assert resp.returncode == 3
    resp.sock.shutdown()  # websocket-client's close() does nothing once the server closed


def test_python_client_closes_stdin_with_v5(
    core: client.CoreV1Api, namespace: str, pod: str
) -> None:
    resp = stream(
        core.connect_get_namespaced_pod_exec,
        pod,
        namespace,
        command=["cat"],
        stdin=True,
        stdout=True,
        stderr=True,
        tty=False,
        _preload_content=False,
    )
    resp.write_stdin("to cat\n")
    resp.close_channel(0)  # cat sees EOF and exits
    resp.run_forever(timeout=20)
    assert resp.read_stdout() == "to cat\n"
    assert resp.returncode == 0
    resp.sock.shutdown()  # (the preloading ``stream()`` never closes its socket: not used here)


def test_websocket_bearer_subprotocol_and_base64_framing(
    cluster: ClusterProcess, namespace: str, pod: str
) -> None:
    """What browsers do: the token as a subprotocol, base64 text frames (v4.base64)."""
    token = base64.urlsafe_b64encode(cluster.token.encode()).decode().rstrip("=")
    url = cluster.url.replace("https://", "wss://")
    path = f"/api/v1/namespaces/{namespace}/pods/{pod}/exec"
    query = "command=sh&command=-c&command=echo%20hi%3B%20exit%202&stdout=true&stderr=true"
    sock = websocket.create_connection(
        f"{url}{path}?{query}",
        subprotocols=[f"base64url.bearer.authorization.k8s.io.{token}", "v4.base64.channel.k8s.io"],
        sslopt={"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": str(cluster.ca)},
    )
    channels: dict[str, bytes] = {}
    try:
        assert sock.subprotocol == "v4.base64.channel.k8s.io"
        while message := sock.recv():  # "" once the server closes
            assert isinstance(message, str)
            channels[message[0]] = channels.get(message[0], b"") + base64.b64decode(message[1:])
    finally:
        sock.shutdown()  # websocket-client's close() does nothing once the server closed
    status: dict[str, Any] = json.loads(channels["3"])
    assert channels["1"] == b"hi\n"
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "2"}]


def test_attach_follows_output_and_feeds_stdin(cluster: ClusterProcess, namespace: str) -> None:
    script = 'while read l; do echo "got $l"; echo "err $l" >&2; done; echo bye'
    manifest = sleeper("talker", command=["sh", "-c", script], stdin=True, stdinOnce=True)
    manifest["spec"]["restartPolicy"] = "Never"
    name = running_pod(cluster, namespace, manifest)
    done = kubectl(cluster, "attach", "-i", "-n", namespace, name, input=b"one\ntwo\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"got one\ngot two\nbye\n"  # stdinOnce: the container saw EOF
    assert b"err one\nerr two\n" in done.stderr


def test_python_client_attach(
    cluster: ClusterProcess, core: client.CoreV1Api, namespace: str
) -> None:
    script = 'while read l; do echo "got $l"; echo "err $l" >&2; done'
    name = running_pod(
        cluster, namespace, sleeper("echoer", command=["sh", "-c", script], stdin=True)
    )
    resp = stream(
        core.connect_get_namespaced_pod_attach,
        name,
        namespace,
        stdin=True,
        stdout=True,
        stderr=True,
        tty=False,
        _preload_content=False,
    )
    try:
        resp.write_stdin("via websocket\n")
        seen = {"out": "", "err": ""}

        def answered() -> bool:
            resp.update(timeout=0.5)
            seen["out"] += resp.read_stdout(timeout=0) if resp.peek_stdout() else ""
            seen["err"] += resp.read_stderr(timeout=0) if resp.peek_stderr() else ""
            return seen["out"] == "got via websocket\n" and seen["err"] == "err via websocket\n"

        eventually(answered, timeout=20, what="the container's answer")
    finally:
        resp.close()
    (status,) = core.read_namespaced_pod(name, namespace).status.container_statuses
    assert status.state.running is not None  # detaching leaves the container be


@needs_runc
def test_exec_into_a_runc_container_sees_its_filesystem(
    cluster: ClusterProcess,
    namespace: str,
    static_image: str,
) -> None:
    manifest = sleeper("boxed", image=static_image, command=["sh", "-c", "sleep 3600"])
    name = running_pod(cluster, namespace, manifest)
    done = kubectl(
        cluster, "exec", "-n", namespace, name, "--", "sh", "-c", "cat /etc/image-marker; exit 4"
    )
    assert done.stdout == b"from-the-image\n"
    assert done.returncode == 4
    argv = [str(KUBECTL), f"--kubeconfig={cluster.kubeconfig}", "exec", "-it", "-n", namespace]
    with terminal([*argv, name, "--", "sh"]) as tty:
        tty.write("tty; stty size; exit 6\r")
        tty.read_until(b"/dev/pts/0")  # the container's own devpts
        tty.read_until(b"30 100")
        assert tty.wait() == 6


def test_kubectl_run_it_gets_a_shell_on_the_containers_own_terminal(
    cluster: ClusterProcess, namespace: str
) -> None:
    """``kubectl run -it --rm``: a ``tty: true`` container runs on a terminal of its own,
    which attach writes to and resizes; leaving the shell ends (and removes) the pod."""
    argv = [
        str(KUBECTL),
        f"--kubeconfig={cluster.kubeconfig}",
        "run",
        "-it",
        "--rm",
        "debug",
        "-n",
        namespace,
        "--image=busybox",
        "--restart=Never",
        "--",
        "sh",
    ]
    with terminal(argv, rows=33, cols=111) as term:
        term.read_until(b"try pressing enter", timeout=60)
        term.write("tty; stty size; echo marker-$((6*7))\r")
        out = term.read_until(b"marker-42\r\n")
        assert b"/dev/pts/" in out and b"33 111" in out
        term.write("exit\r")
        assert term.wait(timeout=30) == 0
    assert "debug" not in cluster.kubectl("get", "pods", "-n", namespace, "-o", "name")
