"""kubectl's own command tests (test/cmd of Kubernetes 1.20.2) against the embedded cluster.

Each test function of test/cmd (``run_<name>_tests``) is one pytest test. Every
test starts its own ``atoll cluster serve`` (one server per function, not per
worker): several functions assert cluster-wide state that another function
changes, for example

- ``service`` lists Services in ``default`` and expects exactly ``kubernetes``;
- ``kubectl_all_namespace`` expects the Node list to be exactly ``127.0.0.1``;
- ``kubectl_apply`` expects no CRD at all, while ``crd`` and ``kubectl_apply``
  create CRDs and namespaces (``nsb``) of their own;
- ``pod`` and ``kubectl_all_namespace`` create cluster-scoped objects with
  fixed names (Node ``node-v1-test``, PriorityClass, namespaces
  ``all-ns-test-1``/``-2``).

The harness (kubectl 1.20.2 and the test sources, from Debian) is fetched by
``scripts/kubectl-cmd-tests.sh fetch`` into ``.tools/`` on first use; the
script runs one function per bash process and scores it (non-zero exit,
``FAIL!`` or ``+++ exit code: N`` in its log).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "kubectl-cmd-tests.sh"

# test/cmd functions, by name without "run_" and "_tests".
FUNCTIONS = [
    "kubectl_get",
    "kubectl_apply",
    "kubectl_create_error",
    "kubectl_sort_by",
    "kubectl_all_namespace",
    "kubectl_diff",
    "configmap",
    "secrets",
    "service",
    "pod",
    "save_config",
    "multi_resources",
    "recursive_resources",
    "lists",
    "template_output",
    "assert_short_name",
    "assert_categories",
    "RESTMapper_evaluation",
    "crd",
    # issue 3: controllers, scheduler and node
    "namespace",
    "kubectl_delete_allnamespaces",
    "daemonset",
    "stateful_set",
    "daemonset_history",
    "statefulset_history",
    "deployment",
    "rs",
    "job",
    "wait",
    "kubectl_apply_deployments",
    "kubectl_run",
]

SERVER_START_TIMEOUT = 60.0  # seconds until DIR/kubeconfig must exist
SERVER_STOP_TIMEOUT = 15.0
FETCH_TIMEOUT = 900.0
FUNCTION_TIMEOUT = int(os.environ.get("KUBECTL_CMD_TIMEOUT", "300"))  # per function, in the script
LOG_TAIL_LINES = 60
SERVER_LOG_TAIL_LINES = 20

pytestmark = pytest.mark.kubectl_cmd


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no {path})"
    return "\n".join(text.splitlines()[-lines:])


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds.

    Children share pytest's process group (no new session), so a runner that kills
    the group on a time-out (`timeout`, CI) takes the servers down with it.
    """
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


@pytest.fixture(scope="session")
def kubectl_cmd_harness() -> Path:
    """kubectl 1.20.2 and test/cmd under .tools/ (idempotent: ~10 ms when present;
    concurrent xdist workers wait on the script's lock)."""
    proc = subprocess.run(
        ["bash", str(SCRIPT), "fetch"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=FETCH_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{SCRIPT.name} fetch failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}",
            pytrace=False,
        )
    return SCRIPT


def _read_kubeconfig(path: Path) -> bool:
    """True once the file is complete: a cluster server and a current context."""
    try:
        config = yaml.safe_load(path.read_text())
    except (FileNotFoundError, yaml.YAMLError, UnicodeDecodeError):
        return False
    if not isinstance(config, dict) or not config.get("current-context"):
        return False
    clusters = config.get("clusters") or []
    return any(isinstance(c, dict) and (c.get("cluster") or {}).get("server") for c in clusters)


@pytest.fixture
def embedded_cluster(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A fresh `atoll cluster serve`; yields (kubeconfig, server log)."""
    data_dir = tmp_path / "cluster"
    data_dir.mkdir()
    kubeconfig = data_dir / "kubeconfig"
    server_log = tmp_path / "server.log"
    cmd = [sys.executable, "-m", "atoll", "cluster", "serve"]
    cmd += ["--data-dir", str(data_dir), "--port", "0"]
    # The kubelet runs (the node is Ready and serves logs), but, as in upstream's
    # test-cmd.sh, no scheduler binds pods: several functions `kubectl replace` a pod from a
    # manifest without nodeName, which the API rightly refuses once a pod is bound.
    cmd += ["--kubelet", "on", "--controllers", "*,-scheduler"]
    with server_log.open("wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # kubectl's test set-up serves Services from 10.0.0.0/24 (test-cmd.sh), and
            # apply.sh asks for 10.0.0.12 by address.
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "ATOLL_CLUSTER__SERVICE_CIDR": "10.0.0.0/24",
                "ATOLL_CLUSTER__NODE_NAME": "127.0.0.1",
            },
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _read_kubeconfig(kubeconfig):
            if proc.poll() is not None:
                pytest.fail(
                    f"`{' '.join(cmd[1:])}` exited with {proc.returncode} before writing "
                    f"{kubeconfig.name}; its output:\n{_tail(server_log, 40)}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"no complete {kubeconfig} after {SERVER_START_TIMEOUT:.0f}s; server output:\n"
                    f"{_tail(server_log, 40)}",
                    pytrace=False,
                )
            time.sleep(0.05)
        yield kubeconfig, server_log
    finally:
        _stop(proc, SERVER_STOP_TIMEOUT)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_kubectl_cmd(
    function: str,
    kubectl_cmd_harness: Path,
    embedded_cluster: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    kubeconfig, server_log = embedded_cluster
    results = tmp_path / "results"
    cmd = [
        "bash",
        str(kubectl_cmd_harness),
        "run",
        "--kubeconfig",
        str(kubeconfig),
        "--results",
        str(results),
        "--timeout",
        str(FUNCTION_TIMEOUT),
        function,
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # The script bounds the function itself (timeout(1) on its process group);
        # this is only a backstop.
        out, _ = proc.communicate(timeout=FUNCTION_TIMEOUT + 120)
    except subprocess.TimeoutExpired:
        _stop(proc, 5)
        out, _ = proc.communicate()
        out += b"\n(pytest: the harness outlived its time limit and was stopped)\n"
    summary = out.decode(errors="replace").strip()
    if proc.returncode == 0:
        return
    log = results / function / "output.log"
    pytest.fail(
        f"kubectl test/cmd run_{function}_tests failed\n"
        f"{summary}\n"
        f"--- last {LOG_TAIL_LINES} lines of {log} ---\n"
        f"{_tail(log, LOG_TAIL_LINES)}\n"
        f"--- last {SERVER_LOG_TAIL_LINES} lines of the server log {server_log} ---\n"
        f"{_tail(server_log, SERVER_LOG_TAIL_LINES)}",
        pytrace=False,
    )
