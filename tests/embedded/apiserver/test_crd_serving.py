"""Serving CRDs and their custom resources over HTTP, as kubectl 1.20's own tests use them.

test/cmd/crd.sh and apply.sh create CRDs through apiextensions.k8s.io/v1beta1 without a
schema or with a non-structural one, then expect the resources to be served at once, their
objects to keep every field, merge patches and watches to work, and dry runs to store nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import ClusterProcess
from tests.embedded.apiserver.http_support import Http, assert_status

CRDS_V1 = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
CRDS_V1BETA1 = "/apis/apiextensions.k8s.io/v1beta1/customresourcedefinitions"
MERGE_PATCH = "application/merge-patch+json"


@pytest.fixture
def http(cluster: ClusterProcess) -> Iterator[Http]:
    with Http(cluster) as session:
        yield session


@pytest.fixture
def group(http: Http) -> Iterator[str]:
    """A fresh API group; its CRDs are deleted afterwards."""
    name = f"g{uuid.uuid4().hex[:8]}.example.com"
    yield name
    for crd in http.get(CRDS_V1).json()["items"]:
        if crd["spec"]["group"] == name:
            http.delete(f"{CRDS_V1}/{crd['metadata']['name']}")


def beta_crd(group: str, plural: str = "foos", kind: str = "Foo", **spec: Any) -> dict[str, Any]:
    """A CRD as crd.sh:27 writes it: v1beta1, one version, no schema unless given."""
    return {
        "kind": "CustomResourceDefinition",
        "apiVersion": "apiextensions.k8s.io/v1beta1",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "version": "v1",
            "scope": "Namespaced",
            "names": {"plural": plural, "kind": kind},
            **spec,
        },
    }


def create(http: Http, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(path, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_a_v1beta1_crd_without_schema_is_served_at_once(http: Http, group: str) -> None:
    created = create(http, CRDS_V1BETA1, beta_crd(group))
    assert created["apiVersion"] == "apiextensions.k8s.io/v1beta1"
    assert created["spec"]["preserveUnknownFields"] is True
    resources = http.get(f"/apis/{group}/v1").json()["resources"]
    assert [(r["name"], r["singularName"], r["kind"]) for r in resources] == [
        ("foos", "foo", "Foo")
    ]
    as_v1 = http.get(f"{CRDS_V1}/foos.{group}")
    assert as_v1.status_code == 200, as_v1.text
    crd = as_v1.json()
    assert crd["spec"]["preserveUnknownFields"] is True
    assert crd["spec"]["versions"] == [{"name": "v1", "served": True, "storage": True}]
    conditions = {c["type"]: c for c in crd["status"]["conditions"]}
    assert conditions["Established"]["status"] == "True"
    assert conditions["NonStructuralSchema"]["status"] == "True"
    assert conditions["NonStructuralSchema"]["reason"] == "Violations"
    # An update through v1 keeps what the v1beta1 CRD got away with.
    crd["spec"]["names"]["shortNames"] = ["fo"]
    replaced = http.put(f"{CRDS_V1}/foos.{group}", json=crd)
    assert replaced.status_code == 200, replaced.text


def test_v1_refuses_what_v1beta1_accepts(http: Http, group: str) -> None:
    crd = beta_crd(group)
    crd["apiVersion"] = "apiextensions.k8s.io/v1"
    spec = crd["spec"]
    spec["versions"] = [{"name": spec.pop("version"), "served": True, "storage": True}]
    spec["preserveUnknownFields"] = True
    body = assert_status(http.post(CRDS_V1, json=crd), 422, "Invalid")
    assert [c["message"] for c in body["details"]["causes"]] == [
        "Required value: schemas are required",
        "Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to "
        "true in spec.versions[*].schema instead",
    ]


def test_objects_of_a_crd_without_schema_keep_every_field(
    http: Http, group: str, namespace: str
) -> None:
    create(http, CRDS_V1BETA1, beta_crd(group))
    path = f"/apis/{group}/v1/namespaces/{namespace}/foos"
    foo = {
        "apiVersion": f"{group}/v1",
        "kind": "Foo",
        "metadata": {"name": "test"},
        "someField": "field1",
        "nestedField": {"someSubfield": "subfield1", "otherSubfield": "subfield2"},
    }
    created = create(http, path, foo)
    assert created["nestedField"] == foo["nestedField"]
    # crd.sh:205: a merge patch sets fields, and null deletes them.
    for patch, expected in (({"patched": "value1"}, "value1"), ({"patched": None}, None)):
        response = http.patch(
            f"{path}/test", data=json.dumps(patch), headers={"Content-Type": MERGE_PATCH}
        )
        assert response.status_code == 200, response.text
        assert response.json().get("patched") == expected
        assert response.json()["someField"] == "field1"


def test_a_non_structural_schema_still_validates_but_does_not_prune(
    http: Http, group: str, namespace: str
) -> None:
    schema = {"properties": {"spec": {"type": "array", "items": {"type": "number"}}}}
    crd = beta_crd(
        group, "validfoos", "ValidFoo", validation={"openAPIV3Schema": schema}
    )  # crd.sh:99
    created = create(http, CRDS_V1BETA1, crd)
    assert created["spec"]["validation"]["openAPIV3Schema"] == schema
    path = f"/apis/{group}/v1/namespaces/{namespace}/validfoos"
    good = {"kind": "ValidFoo", "metadata": {"name": "good"}, "spec": [1, 2.5], "extra": {"x": 1}}
    assert create(http, path, {"apiVersion": f"{group}/v1", **good})["extra"] == {"x": 1}
    bad = {"apiVersion": f"{group}/v1", "kind": "ValidFoo", "metadata": {"name": "bad"}}
    response = http.post(path, json={**bad, "spec": ["x"]})
    body = assert_status(response, 422, "Invalid")
    assert body["message"] == (
        'ValidFoo.company.com "bad" is invalid: spec[0]: Invalid value: "string": spec[0] in '
        'body must be of type number: "string"'.replace("company.com", group)
    )


def test_server_dry_run_of_a_custom_resource_stores_nothing(
    http: Http, group: str, namespace: str
) -> None:
    create(http, CRDS_V1BETA1, beta_crd(group, "resources", "Kind"))
    path = f"/apis/{group}/v1/namespaces/{namespace}/resources"
    body = {"apiVersion": f"{group}/v1", "kind": "Kind", "metadata": {"name": "myobj"}}
    response = http.post(path, params={"dryRun": "All"}, json=body)
    assert response.status_code == 201, response.text
    assert_status(http.get(f"{path}/myobj"), 404, "NotFound")


def test_a_watch_sees_patches_of_a_custom_resource(http: Http, group: str, namespace: str) -> None:
    create(http, CRDS_V1BETA1, beta_crd(group, "bars", "Bar"))
    path = f"/apis/{group}/v1/namespaces/{namespace}/bars"
    bar = create(
        http, path, {"apiVersion": f"{group}/v1", "kind": "Bar", "metadata": {"name": "t"}}
    )
    response = http.patch(
        f"{path}/t", data='{"patched":"1"}', headers={"Content-Type": MERGE_PATCH}
    )
    assert response.status_code == 200, response.text
    since = bar["metadata"]["resourceVersion"]
    params = {"watch": "true", "resourceVersion": since, "timeoutSeconds": "30"}
    with http.get(path, params=params, stream=True) as watch:
        assert watch.status_code == 200, watch.text
        event = json.loads(next(watch.iter_lines()))
    assert event["type"] == "MODIFIED"
    assert (event["object"]["metadata"]["name"], event["object"]["patched"]) == ("t", "1")


def test_an_orphaning_delete_of_a_custom_resource_completes(
    http: Http, group: str, namespace: str
) -> None:
    create(http, CRDS_V1BETA1, beta_crd(group, "bars", "Bar"))
    path = f"/apis/{group}/v1/namespaces/{namespace}/bars"
    create(http, path, {"apiVersion": f"{group}/v1", "kind": "Bar", "metadata": {"name": "t"}})
    response = http.delete(f"{path}/t", json={"propagationPolicy": "Orphan"})
    assert response.status_code == 200, response.text
    deleting = response.json()
    if deleting.get("kind") == "Status":  # already gone
        return
    # kube's garbage collector drops the orphan finalizer, asynchronously; the watch waits.
    assert deleting["metadata"]["finalizers"] == ["orphan"]
    since = deleting["metadata"]["resourceVersion"]
    params = {"watch": "true", "resourceVersion": since, "timeoutSeconds": "30"}
    with http.get(path, params=params, stream=True) as watch:
        types = []
        for line in watch.iter_lines():
            types.append(json.loads(line)["type"])
            if types[-1] == "DELETED":
                break
    assert types[-1] == "DELETED", types
    assert http.get(path).json()["items"] == []
