"""The namespace controller: a deleted namespace is emptied — built-in kinds, kinds without
``deletecollection`` and custom resources alike — explains what holds it in its conditions,
and goes once it is empty; plus kubectl's own ``namespace`` and ``delete --all-namespaces``
command tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import ClusterProcess
from tests.embedded.controllers.lifecycle_support import Api, eventually, namespaced_crd
from tests.embedded.test_kubectl_cmd import embedded_cluster, kubectl_cmd_harness

__all__ = ["embedded_cluster", "kubectl_cmd_harness"]  # fixtures used below

HOLD = "example.com/hold"


@pytest.fixture
def api(cluster: ClusterProcess) -> Api:
    return Api(cluster)


@pytest.fixture
def gadget_crd(cluster: ClusterProcess) -> Iterator[str]:
    with namespaced_crd(cluster, plural="gadgets", kind="Gadget") as group:
        yield group


def _fill(api: Api, namespace: str, group: str) -> None:
    core = f"/api/v1/namespaces/{namespace}"
    api.create(f"{core}/configmaps", {"metadata": {"name": "cm"}, "data": {"a": "b"}})
    api.create(f"{core}/secrets", {"metadata": {"name": "secret"}, "stringData": {"a": "b"}})
    service = {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}}
    api.create(f"{core}/services", service)  # services allow no deletecollection
    pod = {"metadata": {"name": "pod"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    api.create(f"{core}/pods", pod)
    gadget = {"apiVersion": f"{group}/v1", "kind": "Gadget", "metadata": {"name": "g"}}
    api.create(f"/apis/{group}/v1/namespaces/{namespace}/gadgets", gadget)
    held = {
        "apiVersion": f"{group}/v1",
        "kind": "Gadget",
        "metadata": {"name": "held", "finalizers": [HOLD]},
    }
    api.create(f"/apis/{group}/v1/namespaces/{namespace}/gadgets", held)


def _conditions(namespace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in namespace.get("status", {}).get("conditions") or ()}


def test_a_deleted_namespace_is_emptied_then_removed(
    cluster: ClusterProcess, api: Api, gadget_crd: str
) -> None:
    name = f"t-{uuid.uuid4().hex[:10]}"
    cluster.kubectl("create", "namespace", name)
    _fill(api, name, gadget_crd)
    gadgets = f"/apis/{gadget_crd}/v1/namespaces/{name}/gadgets"

    cluster.kubectl("delete", "namespace", name, "--wait=false")

    def held_by_the_finalizer() -> dict[str, Any] | None:
        namespace = api.get(f"/api/v1/namespaces/{name}")
        assert namespace is not None
        remaining = _conditions(namespace).get("NamespaceFinalizersRemaining") or {}
        return namespace if remaining.get("status") == "True" else None

    namespace = eventually(held_by_the_finalizer)
    assert namespace["status"]["phase"] == "Terminating"
    conditions = _conditions(namespace)
    assert conditions["NamespaceFinalizersRemaining"]["message"] == (
        f"Some content in the namespace has finalizers remaining: {HOLD} in 1 resource instances"
    )
    remaining = conditions["NamespaceContentRemaining"]
    assert remaining["reason"] == "SomeResourcesRemain"
    assert remaining["message"].startswith("Some resources are remaining: ")
    assert f"gadgets.{gadget_crd} has 1 resource instances" in remaining["message"]
    assert conditions["NamespaceDeletionDiscoveryFailure"]["status"] == "False"
    assert conditions["NamespaceDeletionContentFailure"]["status"] == "False"
    core = f"/api/v1/namespaces/{name}"
    for kind in ("configmaps", "secrets", "services", "pods", "serviceaccounts"):
        assert api.items(f"{core}/{kind}") == [], f"{kind} remain beside the held gadget"
    assert [g["metadata"]["name"] for g in api.items(gadgets)] == ["held"]

    api.merge_patch(f"{gadgets}/held", {"metadata": {"finalizers": None}})

    eventually(lambda: api.get(f"/api/v1/namespaces/{name}") is None)


def test_kubectl_waits_for_the_namespace_to_go(cluster: ClusterProcess, api: Api) -> None:
    name = f"t-{uuid.uuid4().hex[:10]}"
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("create", "configmap", "cm", "-n", name)

    out = cluster.kubectl("delete", "namespace", name)  # waits until it is gone

    assert f'namespace "{name}" deleted' in out
    assert api.get(f"/api/v1/namespaces/{name}") is None


def test_an_empty_namespace_is_finalized_with_its_conditions_clean(
    cluster: ClusterProcess, api: Api
) -> None:
    name = f"t-{uuid.uuid4().hex[:10]}"
    cluster.kubectl("create", "namespace", name)
    # A finalizer of someone else keeps the namespace after ours is gone, so its last
    # status can be read.
    api.merge_patch(f"/api/v1/namespaces/{name}", {"metadata": {"finalizers": [HOLD]}})

    cluster.kubectl("delete", "namespace", name, "--wait=false")

    def finalized_by_us() -> dict[str, Any] | None:
        namespace = api.get(f"/api/v1/namespaces/{name}")
        assert namespace is not None
        return namespace if not namespace["spec"].get("finalizers") else None

    namespace = eventually(finalized_by_us)
    conditions = _conditions(namespace)
    assert {c["status"] for c in conditions.values()} <= {"False"}
    assert conditions.get("NamespaceContentRemaining", {}).get("reason") in (None, "ContentRemoved")
    api.merge_patch(f"/api/v1/namespaces/{name}", {"metadata": {"finalizers": None}})
    eventually(lambda: api.get(f"/api/v1/namespaces/{name}") is None)
