"""Per-kind store rules: what a write through the ``status`` subresource keeps, as kube's
status strategies decide it (``PrepareForUpdate`` / ``ValidateUpdate`` in 1.20)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests
from tests.conftest import ClusterProcess

from atoll.embedded.apiserver import strategies
from atoll.embedded.apiserver.resources import BUILTINS, Resource


def _builtin(api_version: str, kind: str) -> Resource:
    return next(r for r in BUILTINS if r.api_version == api_version and r.kind == kind)


def _custom() -> Resource:
    version = {"name": "v1", "served": True, "storage": True, "subresources": {"status": {}}}
    return Resource("example.com", "v1", "widgets", "Widget", True, custom=version)


def _stored(api_version: str, kind: str) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {
            "name": "x",
            "namespace": "ns",
            "uid": "u-1",
            "labels": {"app": "x"},
            "annotations": {"a": "1"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "O", "name": "o", "uid": "o-1"}],
        },
        "spec": {"replicas": 1},
        "status": {"replicas": 0},
    }


def _sent(stored: dict[str, Any]) -> dict[str, Any]:
    """A status write that also tries to change spec and every kind of metadata."""
    sent = copy.deepcopy(stored)
    sent["metadata"]["labels"] = {"app": "y"}
    sent["metadata"]["annotations"] = {"a": "2"}
    sent["metadata"]["finalizers"] = ["example.com/f"]
    sent["metadata"]["ownerReferences"] = []
    sent["spec"] = {"replicas": 9}
    sent["status"] = {"replicas": 1}
    return sent


@pytest.mark.parametrize(
    ("api_version", "kind", "kept"),
    [
        ("apps/v1", "Deployment", {"labels"}),
        ("apps/v1", "ReplicaSet", set()),
        ("apps/v1", "StatefulSet", set()),
        ("apps/v1", "DaemonSet", set()),
        ("v1", "Pod", {"ownerReferences"}),
        ("v1", "Service", set()),
        ("batch/v1", "Job", set()),
        (
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            {"labels", "annotations", "ownerReferences"},
        ),
    ],
)
def test_status_writes_keep_spec_and_what_the_kind_resets(
    api_version: str, kind: str, kept: set[str]
) -> None:
    stored = _stored(api_version, kind)
    sent = _sent(stored)
    new = strategies.status_update(_builtin(api_version, kind), sent, stored)
    assert new["spec"] == {"replicas": 1} and new["status"] == {"replicas": 1}
    for key in ("labels", "annotations", "ownerReferences"):
        source = stored if key in kept else sent
        assert new["metadata"][key] == source["metadata"][key], key
    assert new["metadata"]["finalizers"] == ["example.com/f"]
    assert list(new) == list(stored), "the stored key order"
    assert stored == _stored(api_version, kind), "the stored object is not changed"


def test_status_writes_drop_labels_the_stored_deployment_lacks() -> None:
    stored = _stored("apps/v1", "Deployment")
    del stored["metadata"]["labels"]
    new = strategies.status_update(_builtin("apps/v1", "Deployment"), _sent(stored), stored)
    assert "labels" not in new["metadata"]


def test_custom_resource_status_writes_change_only_status() -> None:
    stored = _stored("example.com/v1", "Widget")
    sent = _sent(stored)
    new = strategies.status_update(_custom(), sent, stored)
    assert new == {**stored, "status": {"replicas": 1}}
    del sent["status"]
    assert "status" not in strategies.status_update(_custom(), sent, stored)


def test_only_nodes_validate_the_whole_object_on_status_writes() -> None:
    assert strategies.validates_all_on_status(_builtin("v1", "Node"))
    assert not strategies.validates_all_on_status(_builtin("apps/v1", "Deployment"))


# -- over HTTP ---------------------------------------------------------------------------------


class _Api:
    def __init__(self, cluster: ClusterProcess) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {cluster.token}"
        self.ca = str(cluster.ca)  # per request: requests prefers CA env vars over .verify
        self.url = cluster.url

    def send(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        response = self.session.request(
            method, self.url + path, json=body, headers=headers, timeout=30, verify=self.ca
        )
        return response.status_code, response.json()


def _deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }


def test_deployment_status_writes_store_annotations_not_labels_or_spec(
    cluster: ClusterProcess, namespace: str
) -> None:
    api = _Api(cluster)
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"
    code, created = api.send("POST", path.rpartition("/")[0], _deployment("web"))
    assert code == 201
    sent = copy.deepcopy(created)
    sent["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "1"}
    sent["metadata"]["labels"] = {"app": "changed"}
    sent["spec"]["replicas"] = 7
    sent["status"] = {"observedGeneration": 1, "replicas": 0}
    code, written = api.send("PUT", path + "/status", sent)
    assert code == 200, written
    assert written["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}
    assert written["metadata"]["labels"] == {"app": "web"}
    assert written["spec"]["replicas"] == 1 and written["metadata"]["generation"] == 1
    assert written["status"]["observedGeneration"] == 1

    patch = {"metadata": {"annotations": {"note": "x"}}, "status": {"replicas": 1}}
    code, patched = api.send(
        "PATCH", path + "/status", patch, **{"Content-Type": "application/merge-patch+json"}
    )
    assert code == 200, patched
    assert patched["metadata"]["annotations"]["note"] == "x"
    assert patched["status"]["replicas"] == 1


def test_a_status_write_that_changes_nothing_keeps_the_revision(
    cluster: ClusterProcess, namespace: str
) -> None:
    api = _Api(cluster)
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/same"
    code, created = api.send("POST", path.rpartition("/")[0], _deployment("same"))
    assert code == 201
    unconditional = copy.deepcopy(created)
    del unconditional["metadata"]["resourceVersion"]
    for body in (created, unconditional):
        code, written = api.send("PUT", path + "/status", body)
        assert code == 200, written
        assert written["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_status_writes_still_refuse_an_ill_typed_body(
    cluster: ClusterProcess, namespace: str
) -> None:
    """kube decodes the whole body, the spec a status write ignores included."""
    api = _Api(cluster)
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/typed"
    code, created = api.send("POST", path.rpartition("/")[0], _deployment("typed"))
    assert code == 201
    sent = copy.deepcopy(created)
    sent["spec"]["replicas"] = "many"
    code, refused = api.send("PUT", path + "/status", sent)
    assert code == 400 and refused["reason"] == "BadRequest", refused
    sent["spec"]["replicas"] = 1.0  # equal to the stored 1, but not as JSON
    code, refused = api.send("PUT", path + "/status", sent)
    assert code == 400, refused
    code, written = api.send("PUT", path + "/status", created)
    assert code == 200, written


def test_pod_status_writes_keep_owner_references(cluster: ClusterProcess, namespace: str) -> None:
    api = _Api(cluster)
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "o"}}
    code, owned_by = api.send("POST", f"/api/v1/namespaces/{namespace}/configmaps", config_map)
    assert code == 201
    uid = owned_by["metadata"]["uid"]
    owner = {"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": uid}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "ownerReferences": [owner]},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }
    path = f"/api/v1/namespaces/{namespace}/pods"
    code, created = api.send("POST", path, pod)
    assert code == 201
    sent = copy.deepcopy(created)
    sent["metadata"]["ownerReferences"] = []
    sent["metadata"]["labels"] = {"tier": "web"}
    sent["status"]["phase"] = "Running"
    code, written = api.send("PUT", f"{path}/p/status", sent)
    assert code == 200, written
    assert written["metadata"]["ownerReferences"] == [owner]
    assert written["metadata"]["labels"] == {"tier": "web"}
    assert written["status"]["phase"] == "Running"
