"""ResourceQuota admission and status: kube's 403 ``exceeded quota`` and ``must specify``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from tests.conftest import ClusterProcess, start_cluster
from tests.embedded.controllers.batch_support import Api, eventually, finish_pod


@pytest.fixture(scope="module")
def wired(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    data_dir = tmp_path_factory.mktemp("quota") / "data"
    data_dir.mkdir()
    cluster = start_cluster(data_dir)  # every controller, the kubelet off
    yield cluster
    cluster.stop()


@pytest.fixture
def ns(wired: ClusterProcess) -> str:
    name = f"q-{uuid.uuid4().hex[:8]}"
    wired.kubectl("create", "namespace", name)
    return name


def _quota(api: Api, ns: str, name: str, hard: dict[str, str], **spec: Any) -> None:
    body = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name}}
    body["spec"] = {"hard": hard, **spec}
    api.post(f"/api/v1/namespaces/{ns}/resourcequotas", body)


def _pod(name: str, **resources: dict[str, str]) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": "nginx"}
    if resources:
        container["resources"] = resources
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [container]},
    }


def _create_pod(api: Api, ns: str, pod: dict[str, Any]) -> tuple[int, Any]:
    return api.status_of("POST", f"/api/v1/namespaces/{ns}/pods", pod)


def test_pod_count_is_enforced_with_kubes_message(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _quota(api, ns, "counts", {"pods": "2"})
    for name in ("a", "b"):
        assert _create_pod(api, ns, _pod(name))[0] == 201
    code, status = _create_pod(api, ns, _pod("c"))
    assert code == 403
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "c" is forbidden: exceeded quota: counts, requested: pods=1, '
        "used: pods=2, limited: pods=2",
        "reason": "Forbidden",
        "details": {"name": "c", "kind": "pods"},
        "code": 403,
    }
    out = wired.kubectl("run", "d", "-n", ns, "--image=nginx", check=False)
    assert 'Error from server (Forbidden): pods "d" is forbidden: exceeded quota: counts' in out


def test_compute_resources_must_be_given_and_fit(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _quota(api, ns, "compute", {"requests.cpu": "1", "limits.memory": "1Gi"})
    code, status = _create_pod(api, ns, _pod("bare"))
    assert code == 403
    assert status["message"] == (
        'pods "bare" is forbidden: failed quota: compute: must specify limits.memory,requests.cpu'
    )
    sized = {"requests": {"cpu": "600m"}, "limits": {"memory": "512Mi"}}
    assert _create_pod(api, ns, _pod("one", **sized))[0] == 201
    code, status = _create_pod(api, ns, _pod("two", **sized))
    assert code == 403
    assert status["message"] == (
        'pods "two" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, '
        "used: requests.cpu=600m, limited: requests.cpu=1"
    )
    small = {"requests": {"cpu": "400m"}, "limits": {"memory": "512Mi"}}
    assert _create_pod(api, ns, _pod("three", **small))[0] == 201
    code, status = _create_pod(
        api, ns, _pod("four", **{"requests": {"cpu": "0"}, "limits": {"memory": "1Mi"}})
    )
    assert code == 403
    assert (
        "requested: limits.memory=1Mi, used: limits.memory=1Gi, limited: limits.memory=1Gi"
        in (status["message"])
    )


def test_object_counts(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _quota(
        api,
        ns,
        "objects",
        {"configmaps": "1", "count/deployments.apps": "0", "services.nodeports": "1"},
    )
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}
    assert api.status_of("POST", f"/api/v1/namespaces/{ns}/configmaps", cm)[0] == 201
    code, status = api.status_of(
        "POST", f"/api/v1/namespaces/{ns}/configmaps", {**cm, "metadata": {"name": "b"}}
    )
    assert (code, status["message"]) == (
        403,
        'configmaps "b" is forbidden: exceeded quota: objects, requested: configmaps=1, '
        "used: configmaps=1, limited: configmaps=1",
    )
    out = wired.kubectl("create", "deployment", "web", "-n", ns, "--image=nginx", check=False)
    assert (
        'deployments.apps "web" is forbidden: exceeded quota: objects, requested: '
        "count/deployments.apps=1, used: count/deployments.apps=0, limited: "
        "count/deployments.apps=0"
    ) in out
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "np"},
        "spec": {
            "type": "NodePort",
            "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 81}],
        },
    }
    code, status = api.status_of("POST", f"/api/v1/namespaces/{ns}/services", svc)
    assert code == 403 and "requested: services.nodeports=2" in status["message"]


def test_finished_pods_free_their_share(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _quota(api, ns, "one", {"pods": "1"})
    assert _create_pod(api, ns, _pod("first"))[0] == 201
    assert _create_pod(api, ns, _pod("second"))[0] == 403
    finish_pod(api, api.get(f"/api/v1/namespaces/{ns}/pods/first"), "Succeeded")
    assert _create_pod(api, ns, _pod("second"))[0] == 201


def test_scoped_quota_counts_only_its_pods(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _quota(api, ns, "besteffort", {"pods": "1"}, scopes=["BestEffort"])
    assert _create_pod(api, ns, _pod("free"))[0] == 201
    assert _create_pod(api, ns, _pod("free2"))[0] == 403
    sized = {"requests": {"cpu": "10m"}}
    assert _create_pod(api, ns, _pod("sized", **sized))[0] == 201
    assert _create_pod(api, ns, _pod("sized2", **sized))[0] == 201


def test_racing_creates_do_not_overshoot(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _quota(api, ns, "race", {"count/configmaps": "3"})

    def create(i: int) -> int:
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm{i}"}}
        return Api(wired).status_of("POST", f"/api/v1/namespaces/{ns}/configmaps", cm)[0]

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(create, range(12)))
    assert sorted(codes) == [201] * 3 + [403] * 9


def test_status_shows_hard_and_used(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _quota(api, ns, "shown", {"pods": "5", "requests.memory": "1Gi", "configmaps": "10"})
    _create_pod(api, ns, _pod("m", requests={"memory": "256Mi"}))
    _create_pod(api, ns, _pod("n", requests={"memory": "256Mi"}))
    path = f"/api/v1/namespaces/{ns}/resourcequotas/shown"
    status = eventually(
        lambda: (s := api.get(path).get("status") or {}).get("used", {}).get("pods") == "2" and s
    )
    assert status["hard"] == {"pods": "5", "requests.memory": "1Gi", "configmaps": "10"}
    assert status["used"]["requests.memory"] == "512Mi"
    configmaps = api.get(f"/api/v1/namespaces/{ns}/configmaps")["items"]
    assert status["used"]["configmaps"] == str(len(configmaps))
    described = wired.kubectl("describe", "quota", "shown", "-n", ns)
    assert "requests.memory" in described and "512Mi" in described
    listed = json.loads(wired.kubectl("get", "quota", "-n", ns, "-o", "json"))
    assert listed["items"][0]["status"]["used"]["pods"] == "2"
