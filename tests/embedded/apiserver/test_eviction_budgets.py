"""PodDisruptionBudgets end to end: the disruption controller's status, and evictions that the
API server refuses with 429 while a budget allows no disruption."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from tests.conftest import ClusterProcess, start_cluster
from tests.embedded.controllers.batch_support import Api, eventually, mark_running

MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget."


@pytest.fixture(scope="module")
def wired(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    data_dir = tmp_path_factory.mktemp("budgets") / "data"
    data_dir.mkdir()
    cluster = start_cluster(data_dir)  # every controller, the kubelet off
    yield cluster
    cluster.stop()


@pytest.fixture
def ns(wired: ClusterProcess) -> str:
    name = f"b-{uuid.uuid4().hex[:8]}"
    wired.kubectl("create", "namespace", name)
    return name


def _ready_pods(api: Api, ns: str, *names: str, owner: dict[str, Any] | None = None) -> None:
    for name in names:
        meta: dict[str, Any] = {"name": name, "labels": {"app": "web"}}
        if owner is not None:
            meta["ownerReferences"] = [owner]
        api.post(
            f"/api/v1/namespaces/{ns}/pods",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": meta,
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        )
        mark_running(api, ns, name)


def _budget(api: Api, ns: str, name: str = "web", **spec: Any) -> str:
    body = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec},
    }
    api.post(f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets", body)
    return f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/{name}"


def _status_when(api: Api, path: str, **wanted: int) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        status: dict[str, Any] = api.get(path).get("status") or {}
        return status if all(status.get(k) == v for k, v in wanted.items()) else None

    return eventually(probe)


def _evict(api: Api, ns: str, pod: str) -> tuple[int, Any]:
    body = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": pod, "namespace": ns},
    }
    return api.status_of("POST", f"/api/v1/namespaces/{ns}/pods/{pod}/eviction", body)


def test_status_counts_healthy_pods(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _ready_pods(api, ns, "a", "b", "c")
    path = _budget(api, ns, minAvailable=2)
    status = _status_when(api, path, currentHealthy=3)
    assert status["desiredHealthy"] == 2 and status["expectedPods"] == 3
    assert status["disruptionsAllowed"] == 1 and status["observedGeneration"] == 1
    (condition,) = status["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == (
        "DisruptionAllowed",
        "True",
        "SufficientPods",
    )
    described = wired.kubectl("get", "pdb", "-n", ns)
    assert "web" in described and "2" in described


def test_eviction_is_refused_when_no_disruption_is_allowed(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _ready_pods(api, ns, "a", "b", "c")
    path = _budget(api, ns, minAvailable=2)
    _status_when(api, path, disruptionsAllowed=1)
    code, _ = _evict(api, ns, "a")
    assert code == 201
    assert api.get_or_none(f"/api/v1/namespaces/{ns}/pods/a") is None
    status = _status_when(api, path, currentHealthy=2, disruptionsAllowed=0)
    assert status["conditions"][0]["reason"] == "InsufficientPods"
    code, body = _evict(api, ns, "b")
    assert code == 429
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": MESSAGE,
        "reason": "TooManyRequests",
        "details": {
            "causes": [
                {
                    "reason": "DisruptionBudget",
                    "message": "The disruption budget web needs 2 healthy pods and has 2 currently",
                }
            ]
        },
        "code": 429,
    }
    assert api.get_or_none(f"/api/v1/namespaces/{ns}/pods/b") is not None


def test_racing_evictions_take_one_allowance(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    names = [f"p{i}" for i in range(5)]
    _ready_pods(api, ns, *names)
    path = _budget(api, ns, maxUnavailable=1, selector={"matchLabels": {"app": "web"}})
    # Controller-less pods: maxUnavailable needs the controllers' scale, so the budget fails safe.
    status = _status_when(api, path, disruptionsAllowed=0)
    condition = eventually(lambda: (c := api.get(path)["status"].get("conditions")) and c[0])
    assert (condition["reason"], condition["message"]) == (
        "SyncFailed",
        'found no controller ref for pod "p0"',
    )
    api.patch(path, {"spec": {"maxUnavailable": None, "minAvailable": 3}})
    status = _status_when(api, path, disruptionsAllowed=2, observedGeneration=2)
    assert status["currentHealthy"] == 5
    with ThreadPoolExecutor(5) as pool:
        codes = sorted(pool.map(lambda pod: _evict(Api(wired), ns, pod)[0], names))
    assert codes == [201, 201, 429, 429, 429]


def test_budget_of_a_controller_uses_its_scale(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    deployment = api.post(
        f"/apis/apps/v1/namespaces/{ns}/deployments",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 4,
                "paused": True,
                "selector": {"matchLabels": {"app": "other"}},
                "template": {
                    "metadata": {"labels": {"app": "other"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                },
            },
        },
    )
    owner = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
        "uid": deployment["metadata"]["uid"],
        "controller": True,
    }
    _ready_pods(api, ns, "a", "b", "c", owner=owner)
    path = _budget(api, ns, maxUnavailable=1)
    status = _status_when(api, path, expectedPods=4, currentHealthy=3)
    assert status["desiredHealthy"] == 3 and status["disruptionsAllowed"] == 0
    api.patch(path, {"spec": {"maxUnavailable": None, "minAvailable": "50%"}})
    status = _status_when(api, path, desiredHealthy=2, observedGeneration=2)
    assert status["expectedPods"] == 4 and status["disruptionsAllowed"] == 1


def test_pending_pods_and_single_budgets(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    api.post(
        f"/api/v1/namespaces/{ns}/pods",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "waiting", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        },
    )
    _ready_pods(api, ns, "running")
    _budget(api, ns, "strict", minAvailable=5)
    _budget(api, ns, "second", minAvailable=5)
    assert _evict(api, ns, "waiting")[0] == 201, "a pending pod is evicted regardless"
    code, body = _evict(api, ns, "running")
    assert (code, body["message"]) == (
        500,
        "Internal error occurred: This pod has more than one PodDisruptionBudget, which the "
        "eviction subresource does not support.",
    )
