"""What an object counts towards its workspace's quota."""

from __future__ import annotations

from decimal import Decimal

from atoll.components.tenant.quotas import object_usage, pod_usage


def _container(cpu: str, memory: str = "", limit_cpu: str = "") -> dict[str, object]:
    resources: dict[str, dict[str, str]] = {"requests": {"cpu": cpu}}
    if memory:
        resources["requests"]["memory"] = memory
    if limit_cpu:
        resources["limits"] = {"cpu": limit_cpu}
    return {"name": "c", "image": "x", "resources": resources}


def test_a_pod_counts_its_containers_or_its_largest_init_container() -> None:
    spec = {
        "containers": [_container("100m", "64Mi", "1"), _container("200m")],
        "initContainers": [_container("250m"), _container("50m")],
    }
    usage = pod_usage(spec)
    assert usage["requests.cpu"] == Decimal("0.3")
    assert usage["requests.memory"] == Decimal(64 * 1024 * 1024)
    assert usage["limits.cpu"] == Decimal(1)
    assert usage["pods"] == 1
    bigger_init = {"containers": [_container("100m")], "initContainers": [_container("2")]}
    assert pod_usage(bigger_init)["requests.cpu"] == Decimal(2)


def test_workloads_count_their_copies_and_owned_objects_nothing() -> None:
    template = {"template": {"spec": {"containers": [_container("250m")]}}}
    deployment = {"metadata": {"name": "d"}, "spec": {"replicas": 3, **template}}
    assert object_usage("deployments", deployment)["requests.cpu"] == Decimal("0.75")
    assert object_usage("deployments", deployment)["pods"] == 3
    job = {"metadata": {"name": "j"}, "spec": {"parallelism": 2, **template}}
    assert object_usage("jobs", job)["pods"] == 2
    owned = {"metadata": {"name": "rs", "ownerReferences": [{"controller": True}]}, "spec": {}}
    assert object_usage("replicasets", owned) == {}
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [_container("1")]}}
    assert object_usage("pods", pod)["requests.cpu"] == 1
    assert object_usage("pods", {**pod, "status": {"phase": "Succeeded"}}) == {}
    assert object_usage("configmaps", {"metadata": {"name": "c"}}) == {}
