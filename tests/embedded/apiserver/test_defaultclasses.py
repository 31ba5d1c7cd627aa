"""Default-class admission: claims and Ingresses without a class get the default one, at
creation."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import ClusterProcess
from tests.embedded.controllers.lifecycle_support import Api

Obj = dict[str, Any]


def _claim(name: str, annotations: dict[str, str] | None = None, **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            **spec,
        },
    }


def _created_class(api: Api, namespace: str, claim: Obj) -> Any:
    created = api.create(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims", claim)
    return created["spec"].get("storageClassName", "<unset>")


def test_the_bootstrap_class_is_the_default(cluster: ClusterProcess) -> None:
    row = cluster.kubectl("get", "storageclass", "local-path", "--no-headers").split()
    assert row[:5] == ["local-path", "(default)", "atoll.io/local-path", "Delete", "Immediate"]


def test_only_claims_that_name_no_class_get_it(cluster: ClusterProcess, namespace: str) -> None:
    api = Api(cluster)
    assert _created_class(api, namespace, _claim("plain")) == "local-path"
    assert _created_class(api, namespace, _claim("null", storageClassName=None)) == "local-path"
    assert _created_class(api, namespace, _claim("none", storageClassName="")) == ""
    assert _created_class(api, namespace, _claim("fast", storageClassName="fast")) == "fast"
    beta = {"volume.beta.kubernetes.io/storage-class": "slow"}
    assert _created_class(api, namespace, _claim("beta", beta)) == "<unset>"

    path = f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/none"
    api.merge_patch(path, {"metadata": {"labels": {"touched": "yes"}}})
    stored = api.get(path)
    assert stored is not None and stored["spec"]["storageClassName"] == ""  # updates keep it


def test_of_several_defaults_the_newest_wins(cluster: ClusterProcess, namespace: str) -> None:
    api = Api(cluster)
    # Created after local-path, or in the same second and first by name: it wins either way.
    name = f"aa-{uuid.uuid4().hex[:8]}"
    storage_class = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": name,
            "annotations": {"storageclass.beta.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "example.com/disks",
    }
    api.create("/apis/storage.k8s.io/v1/storageclasses", storage_class)
    try:
        assert _created_class(api, namespace, _claim("data")) == name
    finally:
        cluster.kubectl("delete", "storageclass", name)
    assert _created_class(api, namespace, _claim("later")) == "local-path"


def _ingress(name: str, annotations: dict[str, str] | None = None, **spec: Any) -> Obj:
    backend = {"service": {"name": "web", "port": {"number": 80}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"defaultBackend": backend, **spec},
    }


def test_the_atoll_ingress_class_is_the_default(cluster: ClusterProcess) -> None:
    row = cluster.kubectl("get", "ingressclass", "atoll", "--no-headers").split()
    assert row[:2] == ["atoll", "atoll.io/ingress-controller"]
    shown = cluster.kubectl("describe", "ingressclass", "atoll")
    assert "ingressclass.kubernetes.io/is-default-class: true" in shown


def test_only_ingresses_that_name_no_class_get_it(cluster: ClusterProcess, namespace: str) -> None:
    api = Api(cluster)
    path = f"/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses"

    def created(ingress: Obj) -> Any:
        return api.create(path, ingress)["spec"].get("ingressClassName", "<unset>")

    assert created(_ingress("plain")) == "atoll"
    assert created(_ingress("other", ingressClassName="nginx")) == "nginx"
    legacy = _ingress("legacy", {"kubernetes.io/ingress.class": "nginx"})
    assert created(legacy) == "<unset>"
    updated = api.get(f"{path}/plain")
    assert updated is not None
    updated["spec"]["ingressClassName"] = None  # an update is never defaulted
    assert api.put(f"{path}/plain", updated)["spec"].get("ingressClassName") is None
