"""LimitRange admission: container defaults (and the annotation), min/max/ratio, claims."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import ClusterProcess, start_cluster
from tests.embedded.controllers.batch_support import Api


@pytest.fixture(scope="module")
def wired(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    data_dir = tmp_path_factory.mktemp("limits") / "data"
    data_dir.mkdir()
    cluster = start_cluster(data_dir)  # every controller, the kubelet off
    yield cluster
    cluster.stop()


@pytest.fixture
def ns(wired: ClusterProcess) -> str:
    name = f"l-{uuid.uuid4().hex[:8]}"
    wired.kubectl("create", "namespace", name)
    return name


def _limits(api: Api, ns: str, *items: dict[str, Any]) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "limits"},
        "spec": {"limits": list(items)},
    }
    api.post(f"/api/v1/namespaces/{ns}/limitranges", body)


def _pod(name: str, *containers: dict[str, Any]) -> dict[str, Any]:
    listed = list(containers) or [{"name": "c", "image": "nginx"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": listed},
    }


def _container(name: str = "c", **resources: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "image": "nginx", "resources": resources}


def _post(api: Api, ns: str, pod: dict[str, Any]) -> tuple[int, Any]:
    return api.status_of("POST", f"/api/v1/namespaces/{ns}/pods", pod)


def test_defaults_fill_containers_and_annotate(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _limits(
        api,
        ns,
        {
            "type": "Container",
            "default": {"cpu": "500m", "memory": "256Mi"},
            "defaultRequest": {"cpu": "100m"},
        },
    )
    code, pod = _post(api, ns, _pod("web"))
    assert code == 201
    (container,) = pod["spec"]["containers"]
    assert container["resources"] == {
        "limits": {"cpu": "500m", "memory": "256Mi"},
        "requests": {"cpu": "100m", "memory": "256Mi"},
    }
    assert pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for "
        "container c"
    )
    assert pod["status"]["qosClass"] == "Burstable"
    # What a container sets itself stays.
    code, pod = _post(api, ns, _pod("own", _container(limits={"cpu": "200m"})))
    assert code == 201
    resources = pod["spec"]["containers"][0]["resources"]
    assert resources["limits"] == {"cpu": "200m", "memory": "256Mi"}
    assert resources["requests"]["cpu"] == "200m"  # the pod's own defaulting: request = limit


def test_container_min_max_and_ratio(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _limits(
        api,
        ns,
        {
            "type": "Container",
            "max": {"cpu": "1"},
            "min": {"memory": "100Mi"},
            "maxLimitRequestRatio": {"cpu": "2"},
        },
    )
    code, status = _post(api, ns, _pod("big", _container(limits={"cpu": "2", "memory": "1Gi"})))
    assert (code, status["reason"]) == (403, "Forbidden")
    assert status["message"] == (
        'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2'
    )
    code, status = _post(
        api,
        ns,
        _pod(
            "tiny", _container(requests={"cpu": "100m", "memory": "50Mi"}, limits={"cpu": "150m"})
        ),
    )
    assert status["message"] == (
        'pods "tiny" is forbidden: minimum memory usage per Container is 100Mi, but request is 50Mi'
    )
    code, status = _post(
        api,
        ns,
        _pod(
            "spiky", _container(requests={"cpu": "100m", "memory": "1Gi"}, limits={"cpu": "500m"})
        ),
    )
    assert status["message"] == (
        'pods "spiky" is forbidden: cpu max limit to request ratio per Container is 2, but '
        "provided ratio is 5.000000"
    )
    code, status = _post(
        api, ns, _pod("both", _container(requests={"memory": "1Mi"}, limits={"cpu": "3"}))
    )
    assert (code, status["message"]) == (
        403,
        'pods "both" is forbidden: [minimum memory usage per Container is 100Mi, but request is '
        "1Mi, maximum cpu usage per Container is 1, but limit is 3]",
    )
    code, _ = _post(api, ns, _pod("fine", _container(requests={"cpu": "500m", "memory": "200Mi"})))
    assert code == 201


def test_pod_totals(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _limits(api, ns, {"type": "Pod", "max": {"cpu": "1"}})
    pair = _pod(
        "pair",
        _container("a", limits={"cpu": "600m"}),
        _container("b", limits={"cpu": "600m"}),
    )
    code, status = _post(api, ns, pair)
    assert (code, status["message"]) == (
        403,
        'pods "pair" is forbidden: maximum cpu usage per Pod is 1, but limit is 1200m',
    )


def test_claim_storage_bounds(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _limits(
        api,
        ns,
        {"type": "PersistentVolumeClaim", "max": {"storage": "1Gi"}, "min": {"storage": "1Mi"}},
    )
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}},
    }
    code, status = api.status_of("POST", f"/api/v1/namespaces/{ns}/persistentvolumeclaims", claim)
    assert (code, status["message"]) == (
        403,
        'persistentvolumeclaims "data" is forbidden: maximum storage usage per '
        "PersistentVolumeClaim is 1Gi, but request is 2Gi",
    )


def test_defaults_come_before_quota(wired: ClusterProcess, ns: str) -> None:
    api = Api(wired)
    _limits(
        api,
        ns,
        {"type": "Container", "defaultRequest": {"cpu": "300m"}, "default": {"cpu": "300m"}},
    )
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "cpu"},
        "spec": {"hard": {"requests.cpu": "500m"}},
    }
    api.post(f"/api/v1/namespaces/{ns}/resourcequotas", quota)
    assert _post(api, ns, _pod("first"))[0] == 201  # no "must specify": the default counts
    code, status = _post(api, ns, _pod("second"))
    assert (
        code == 403 and "requested: requests.cpu=300m, used: requests.cpu=300m" in status["message"]
    )
