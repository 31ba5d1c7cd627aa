"""A member cluster added to Atoll: checked before it is stored, reached through the proxy
and the caches, probed (Ready turns False when it goes, True when it is back), removed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml
from tests.conftest import ClusterProcess, start_cluster
from tests.server.atoll_process import (
    Atoll,
    admin_password,
    as_user,
    login,
    start_atoll,
    user_session,
)
from tests.waiting import eventually

CLUSTERS = "/kapis/cluster.atoll.io/v1alpha1/clusters"


@dataclass
class Two:
    atoll: Atoll
    sandbox: ClusterProcess
    admin: requests.Session


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Two]:
    root = tmp_path_factory.mktemp("members")
    sandbox = start_cluster(root / "sandbox")
    atoll = start_atoll(root / "atoll")
    both = Two(atoll, sandbox, as_user(login(atoll)))
    try:
        yield both
    finally:
        atoll.stop()
        if both.sandbox.process.poll() is None:  # the one restarted by the test, maybe
            both.sandbox.stop()


def _kubeconfig(cluster: ClusterProcess) -> str:
    return cluster.kubeconfig.read_text()


def _cluster(two: Two, name: str) -> dict[str, object] | None:
    answer = two.admin.get(f"{two.atoll.url}{CLUSTERS}/{name}", timeout=10)
    return answer.json() if answer.status_code == 200 else None


def _ready(two: Two, name: str) -> str | None:
    found = _cluster(two, name) or {}
    conditions = (found.get("status") or {}).get("conditions") or []  # type: ignore[union-attr]
    return next((c["status"] for c in conditions if c["type"] == "Ready"), None)


def test_bad_clusters_are_refused_before_anything_is_stored(two: Two, tmp_path: Path) -> None:
    url = f"{two.atoll.url}{CLUSTERS}"
    garbage = two.admin.post(url, json={"name": "junk", "kubeconfig": "::: not yaml"}, timeout=10)
    assert garbage.status_code == 422, garbage.text
    closed = yaml.safe_load(_kubeconfig(two.sandbox))
    closed["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:9"  # nothing listens
    away = two.admin.post(
        url, json={"name": "away", "kubeconfig": yaml.safe_dump(closed)}, timeout=30
    )
    assert away.status_code == 422 and "cannot be reached" in away.json()["detail"], away.text
    host = two.admin.post(url, json={"name": "host", "kubeconfig": _kubeconfig(two.sandbox)})
    assert host.status_code == 422
    for name in ("junk", "away", "host-2"):
        assert _cluster(two, name) is None
    secrets = two.atoll.kubectl("get", "secrets", "-n", "kube-system", "-o", "name")
    assert "atoll-cluster-away" not in secrets
    regular = user_session(two.atoll, "not-an-admin")
    refused = regular.post(url, json={"name": "mine", "kubeconfig": _kubeconfig(two.sandbox)})
    assert refused.status_code == 403


def test_a_member_cluster_is_reached_probed_and_removed(two: Two) -> None:
    url = f"{two.atoll.url}{CLUSTERS}"
    added = two.admin.post(
        url, json={"name": "sandbox", "kubeconfig": _kubeconfig(two.sandbox)}, timeout=30
    )
    assert added.status_code == 201, added.text
    again = two.admin.post(url, json={"name": "sandbox", "kubeconfig": _kubeconfig(two.sandbox)})
    assert again.status_code == 409
    secret = json.loads(
        two.atoll.kubectl(
            "get", "secret", "atoll-cluster-sandbox", "-n", "kube-system", "-o", "json"
        )
    )
    assert secret["type"] == "atoll.io/kubeconfig"
    assert two.sandbox.token not in json.dumps(_cluster(two, "sandbox"))  # never shown
    eventually(lambda: _ready(two, "sandbox") == "True", timeout=30)
    status = (_cluster(two, "sandbox") or {})["status"]
    assert isinstance(status, dict) and status["kubernetesVersion"] and status["nodeCount"] == 1

    # The proxy and the caches reach it by name; the host's stay the host's.
    two.sandbox.kubectl("create", "namespace", "only-in-sandbox")
    base = two.atoll.url
    names = eventually(
        lambda: (
            (
                a := two.admin.get(f"{base}/clusters/sandbox/api/v1/namespaces", timeout=10)
            ).status_code
            == 200
            and [n["metadata"]["name"] for n in a.json()["items"]]
        )
    )
    assert "only-in-sandbox" in names
    host = [
        n["metadata"]["name"] for n in two.admin.get(f"{base}/api/v1/namespaces").json()["items"]
    ]
    assert "only-in-sandbox" not in host
    cached = eventually(
        lambda: (
            (
                a := two.admin.get(
                    f"{base}/kapis/resources.atoll.io/v1alpha1/clusters/sandbox/namespaces",
                    timeout=30,
                )
            ).status_code
            == 200
            and [n["metadata"]["name"] for n in a.json()["items"]]
        )
    )
    assert "only-in-sandbox" in cached
    assert two.admin.get(f"{base}/clusters/nowhere/api/v1/namespaces").status_code == 404

    # Gone: not Ready within 30 s, with an Event; the host's pages carry on.
    port = two.sandbox.url.rsplit(":", 1)[1]
    assert two.sandbox.stop(signal.SIGTERM) == 0
    eventually(lambda: _ready(two, "sandbox") == "False", timeout=30)
    events = two.atoll.kubectl(
        "get", "events", "-A", "--field-selector", "involvedObject.name=sandbox"
    )
    assert "ClusterUnreachable" in events
    assert two.admin.get(f"{base}/api/v1/namespaces", timeout=10).status_code == 200
    unreachable = two.admin.get(f"{base}/clusters/sandbox/api/v1/namespaces", timeout=30)
    assert unreachable.status_code >= 500 and unreachable.json()["kind"] == "Status"

    # Back on its port: Ready again by itself.
    two.sandbox = start_cluster(two.sandbox.data_dir, "--port", port)
    eventually(lambda: _ready(two, "sandbox") == "True", timeout=40)

    removed = two.admin.delete(f"{url}/sandbox", timeout=10)
    assert removed.status_code == 200, removed.text
    assert _cluster(two, "sandbox") is None
    eventually(
        lambda: two.admin.get(f"{base}/clusters/sandbox/api/v1/namespaces").status_code == 404
    )
    secrets = two.atoll.kubectl("get", "secrets", "-n", "kube-system", "-o", "name")
    assert "atoll-cluster-sandbox" not in secrets
    assert two.admin.delete(f"{url}/host", timeout=10).status_code == 409


def test_the_command_line_adds_and_removes_a_cluster(two: Two) -> None:
    env = {
        **os.environ,
        "ATOLL_SERVER": two.atoll.url,
        "ATOLL_PASSWORD": admin_password(two.atoll),
    }
    atoll = [sys.executable, "-m", "atoll", "cluster"]
    kubeconfig = str(two.sandbox.kubeconfig)
    added = subprocess.run(
        [*atoll, "add", "from-cli", "--kubeconfig", kubeconfig],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "Cluster from-cli added" in added.stderr
    assert _cluster(two, "from-cli") is not None
    again = subprocess.run(
        [*atoll, "add", "from-cli", "--kubeconfig", kubeconfig],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert again.returncode == 1 and "409" in again.stderr and "Traceback" not in again.stderr
    wrong = subprocess.run(
        [*atoll, "add", "nope", "--kubeconfig", kubeconfig],
        capture_output=True, text=True, env={**env, "ATOLL_PASSWORD": "wrong"}, timeout=60,
    )  # fmt: skip
    assert wrong.returncode == 1 and "logging in failed" in wrong.stderr
    removed = subprocess.run(
        [*atoll, "remove", "from-cli"], capture_output=True, text=True, env=env, timeout=60
    )
    assert removed.returncode == 0, removed.stderr
    assert _cluster(two, "from-cli") is None
