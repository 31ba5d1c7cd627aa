"""Bad input to the embedded API server: every refusal is a Kubernetes ``Status`` with the
code and wording kube-apiserver uses, never a 500, and a refused write stores nothing.

Each case states what real kube-apiserver answers; where the wording is the decoder's own
(malformed JSON or YAML), only the code and reason are compared.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from tests.conftest import ClusterProcess
from tests.embedded.apiserver.http_support import Http, assert_status

Body = dict[str, Any]
JSON = "application/json"
YAML = "application/yaml"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
DNS1123_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
DNS1035_LABEL = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
DNS1123_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


@pytest.fixture
def http(cluster: ClusterProcess) -> Iterator[Http]:
    with Http(cluster) as session:
        yield session


def _cms(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/configmaps"


def _deployments(namespace: str) -> str:
    return f"/apis/apps/v1/namespaces/{namespace}/deployments"


def _deployment(name: str, **spec: Any) -> Body:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
            **spec,
        },
    }


def _existing(http: Http, namespace: str) -> Body:
    """A ConfigMap ``live`` to aim failed writes at; returns it as stored."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "live"}, "data": {"a": "1"}}
    created = http.post(_cms(namespace), json=cm)
    assert created.status_code == 201, created.text
    body: Body = created.json()
    return body


def _unchanged(http: Http, namespace: str, before: Body) -> None:
    now = http.get(f"{_cms(namespace)}/{before['metadata']['name']}").json()
    assert now["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert now == before


def _names(http: Http, path: str) -> list[str]:
    return [i["metadata"]["name"] for i in http.get(path).json()["items"]]


# -- malformed bodies -----------------------------------------------------------------------

MALFORMED = [
    ("POST", "", JSON, b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"'),
    ("POST", "", JSON, b"\xff\xfe{}"),
    ("POST", "", JSON, b"[]"),
    ("POST", "", JSON, b"null"),
    ("POST", "", YAML, b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n"),
    ("POST", "", YAML, b"metadata:\n  name: x\n bad-indent: 1\n"),
    ("POST", "", YAML, b"- just\n- a list\n"),
    ("PUT", "/live", JSON, b'{"metadata":{"name":"live"},"data":{"a":"2"'),
    ("PUT", "/live", YAML, b"metadata: {name: live}\ndata: {a: [2\n"),
    ("PUT", "/live", JSON, b'"a string"'),
    ("PATCH", "/live", JSON_PATCH, b'[{"op":"replace","path":"/data/a","value":"2"}'),
    ("PATCH", "/live", JSON_PATCH, b'{"op":"replace","path":"/data/a","value":"2"}'),
    ("PATCH", "/live", MERGE_PATCH, b'{"data":{"a":"2"}'),
    ("PATCH", "/live", STRATEGIC_PATCH, b'{"data":{"a":"2"}'),
    ("PATCH", "/live?fieldManager=t", APPLY_PATCH, b"data: {a: [2\n"),
]


@pytest.mark.parametrize(
    ("method", "suffix", "content_type", "body"),
    MALFORMED,
    ids=[f"{m}-{c.split('/')[-1]}-{i}" for i, (m, _, c, _) in enumerate(MALFORMED)],
)
def test_malformed_bodies_are_400_and_store_nothing(
    http: Http, namespace: str, method: str, suffix: str, content_type: str, body: bytes
) -> None:
    live = _existing(http, namespace)
    response = http.request(
        method, _cms(namespace) + suffix, data=body, headers={"Content-Type": content_type}
    )
    assert_status(response, 400, "BadRequest")
    _unchanged(http, namespace, live)
    assert _names(http, _cms(namespace)) == ["live"]


def test_body_of_the_wrong_kind_for_the_url(http: Http, namespace: str) -> None:
    live = _existing(http, namespace)
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "live"}}
    assert_status(
        http.post(_cms(namespace), json={**secret, "metadata": {"name": "s"}}), 400, "BadRequest"
    )
    assert_status(http.put(f"{_cms(namespace)}/live", json=secret), 400, "BadRequest")
    bad_version = {"apiVersion": "v2", "kind": "ConfigMap", "metadata": {"name": "v2"}}
    assert_status(http.post(_cms(namespace), json=bad_version), 400, "BadRequest")
    _unchanged(http, namespace, live)
    assert _names(http, _cms(namespace)) == ["live"]
    assert _names(http, f"/api/v1/namespaces/{namespace}/secrets") == []


def test_name_and_namespace_must_match_the_url(http: Http, namespace: str) -> None:
    live = _existing(http, namespace)
    renamed = {**live, "metadata": {**live["metadata"], "name": "other"}}
    status = assert_status(http.put(f"{_cms(namespace)}/live", json=renamed), 400, "BadRequest")
    assert status["message"] == (
        "the name of the object (other) does not match the name on the URL (live)"
    )
    moved = {"metadata": {"name": "moved", "namespace": "default"}}
    status = assert_status(http.post(_cms(namespace), json=moved), 400, "BadRequest")
    assert status["message"] == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )
    _unchanged(http, namespace, live)
    assert _names(http, _cms(namespace)) == ["live"]


# -- YAML that expands without bound --------------------------------------------------------


def _alias_bomb(levels: int) -> bytes:
    """A few hundred bytes of YAML that expand to 9**levels strings (CVE-2019-11253)."""
    lines = ["  l0: &l0 [" + ",".join(['"lol"'] * 9) + "]"]
    lines += [f"  l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    head = "apiVersion: apps/v1\nkind: ControllerRevision\nmetadata: {name: bomb}\nrevision: 1\n"
    return (head + "data:\n" + "\n".join(lines) + "\n").encode()


def test_yaml_alias_bomb_is_refused(http: Http, namespace: str) -> None:
    """kube's YAML decoder refuses 'excessive aliasing' (go-yaml's fix for CVE-2019-11253):
    ~500 bytes must not become a 30 MB object."""
    body = _alias_bomb(7)
    assert len(body) < 1000
    response = http.post(
        f"/apis/apps/v1/namespaces/{namespace}/controllerrevisions",
        data=body,
        headers={"Content-Type": YAML},
    )
    assert response.status_code in (400, 413), response.status_code
    assert_status(response, response.status_code, response.json()["reason"])
    assert _names(http, f"/apis/apps/v1/namespaces/{namespace}/controllerrevisions") == []


@pytest.mark.parametrize(
    "body",
    [
        b"apiVersion: apps/v1\nkind: ControllerRevision\nmetadata: {name: r}\nrevision: 1\n"
        b"data: &a [*a]\n",
        b"metadata: {name: deep}\ndata: " + b"[" * 5000 + b"\n",
    ],
    ids=["self-referencing-anchor", "deeply-nested"],
)
def test_pathological_yaml_is_400_not_500(http: Http, namespace: str, body: bytes) -> None:
    path = f"/apis/apps/v1/namespaces/{namespace}/controllerrevisions"
    assert_status(http.post(path, data=body, headers={"Content-Type": YAML}), 400, "BadRequest")
    assert _names(http, path) == []


# -- unknown fields and types ---------------------------------------------------------------


def test_unknown_field_strict_is_400(http: Http, namespace: str) -> None:
    body = _deployment("strict", foo=1)
    response = http.post(_deployments(namespace), json=body, params={"fieldValidation": "Strict"})
    status = assert_status(response, 400, "BadRequest")
    assert status["message"] == 'strict decoding error: unknown field "spec.foo"'
    assert _names(http, _deployments(namespace)) == []
    created = http.post(_deployments(namespace), json=_deployment("strict")).json()
    put = http.put(
        f"{_deployments(namespace)}/strict",
        json={**created, "spec": {**created["spec"], "foo": 1}},
        params={"fieldValidation": "Strict"},
    )
    assert assert_status(put, 400, "BadRequest")["message"] == status["message"]
    patched = http.patch(
        f"{_deployments(namespace)}/strict",
        data=json.dumps({"spec": {"foo": 1}}),
        params={"fieldValidation": "Strict"},
        headers={"Content-Type": MERGE_PATCH},
    )
    assert assert_status(patched, 400, "BadRequest")["message"] == status["message"]
    live = http.get(f"{_deployments(namespace)}/strict").json()
    assert live["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_duplicate_field_strict_is_400(http: Http, namespace: str) -> None:
    body = (
        b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},'
        b'"data":{"a":"1"},"data":{"b":"2"}}'
    )
    response = http.post(
        _cms(namespace),
        data=body,
        params={"fieldValidation": "Strict"},
        headers={"Content-Type": JSON},
    )
    status = assert_status(response, 400, "BadRequest")
    assert status["message"] == 'strict decoding error: duplicate field "data"'
    assert _names(http, _cms(namespace)) == []


def test_unknown_field_warn_is_201_with_a_warning(http: Http, namespace: str) -> None:
    response = http.post(
        _deployments(namespace),
        json=_deployment("warned", foo=1),
        params={"fieldValidation": "Warn"},
    )
    assert response.status_code == 201
    assert "foo" not in response.json()["spec"]
    # RFC 7234 warn-text is a quoted-string: inner quotes are escaped (kube's NewWarningHeader).
    assert response.raw.headers.getlist("Warning") == ['299 - "unknown field \\"spec.foo\\""']


def test_unknown_field_by_default_is_dropped_silently(http: Http, namespace: str) -> None:
    response = http.post(_deployments(namespace), json=_deployment("quiet", foo=1))
    assert response.status_code == 201
    assert "foo" not in response.json()["spec"] and "Warning" not in response.headers
    assert "foo" not in http.get(f"{_deployments(namespace)}/quiet").json()["spec"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"spec": {"replicas": "3"}}, "DeploymentSpec.spec.replicas of type int32"),
        ({"spec": {"selector": "app=x"}}, "DeploymentSpec.spec.selector of type v1.LabelSelector"),
        ({"metadata": {"labels": {"a": 1}}}, "ObjectMeta.metadata.labels of type string"),
    ],
)
def test_wrong_json_types_are_400(http: Http, namespace: str, patch: Body, field: str) -> None:
    body = _deployment("typed")
    for key, value in patch.items():
        body[key] = {**body[key], **value}
    response = http.post(_deployments(namespace), json=body)
    status = assert_status(response, 400, "BadRequest")
    assert status["message"].startswith(
        'Deployment in version "v1" cannot be handled as a Deployment: '
    )
    assert field in status["message"]
    assert _names(http, _deployments(namespace)) == []


# -- invalid objects ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind", "group", "body", "rule"),
    [
        ("/api/v1/namespaces/{ns}/configmaps", "ConfigMap", "", {}, DNS1123_SUBDOMAIN),
        (
            "/api/v1/namespaces/{ns}/services",
            "Service",
            "",
            {"spec": {"ports": [{"port": 80}]}},
            DNS1035_LABEL,
        ),
        ("/api/v1/namespaces", "Namespace", "", {}, DNS1123_LABEL),
        (
            "/apis/apps/v1/namespaces/{ns}/deployments",
            "Deployment",
            "apps",
            {k: v for k, v in _deployment("x").items() if k == "spec"},
            DNS1123_SUBDOMAIN,
        ),
    ],
    ids=["configmap", "service", "namespace", "deployment"],
)
def test_invalid_names_are_422_with_causes(
    http: Http, namespace: str, path: str, kind: str, group: str, body: Body, rule: str
) -> None:
    collection = path.format(ns=namespace)
    response = http.post(collection, json={"metadata": {"name": "Bad_Name"}, **body})
    status = assert_status(response, 422, "Invalid")
    qualified = f"{kind}.{group}" if group else kind
    cause = f'Invalid value: "Bad_Name": {rule}'
    assert status["message"] == f'{qualified} "Bad_Name" is invalid: metadata.name: {cause}'
    details: Body = {"name": "Bad_Name", "group": group, "kind": kind}
    details = {k: v for k, v in details.items() if v}
    details["causes"] = [
        {"reason": "FieldValueInvalid", "message": cause, "field": "metadata.name"}
    ]
    assert status["details"] == details
    assert http.get(f"{collection}/Bad_Name").status_code == 404


def test_a_spec_validation_error_on_update_stores_nothing(http: Http, namespace: str) -> None:
    created = http.post(_deployments(namespace), json=_deployment("valid")).json()
    path = f"{_deployments(namespace)}/valid"
    patched = http.patch(
        path, data='{"spec":{"replicas":-1}}', headers={"Content-Type": MERGE_PATCH}
    )
    status = assert_status(patched, 422, "Invalid")
    assert status["message"] == (
        'Deployment.apps "valid" is invalid: spec.replicas: Invalid value: -1: '
        "must be greater than or equal to 0"
    )
    assert (
        http.get(path).json()["metadata"]["resourceVersion"]
        == created["metadata"]["resourceVersion"]
    )


# -- selectors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "selector",
    ["a in (b", "a=b,", "a b", "!", "a=b=c", "x/y/z=1", "a=" + "x" * 64],
)
@pytest.mark.parametrize("watch", [False, True], ids=["list", "watch"])
def test_invalid_label_selectors_are_400(
    http: Http, namespace: str, selector: str, watch: bool
) -> None:
    params = {
        "labelSelector": selector,
        **({"watch": "true", "timeoutSeconds": "1"} if watch else {}),
    }
    assert_status(http.get(_cms(namespace), params=params), 400, "BadRequest")


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("spec.nope=1", "field label not supported: spec.nope"),
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("metadata.name in (a)", None),
    ],
)
@pytest.mark.parametrize("watch", [False, True], ids=["list", "watch"])
def test_invalid_field_selectors_are_400(
    http: Http, namespace: str, selector: str, message: str | None, watch: bool
) -> None:
    params = {
        "fieldSelector": selector,
        **({"watch": "true", "timeoutSeconds": "1"} if watch else {}),
    }
    status = assert_status(http.get(_cms(namespace), params=params), 400, "BadRequest")
    if message is not None:
        assert status["message"] == message


# -- limits, auth and media types -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "content_type"),
    [("POST", "", JSON), ("PUT", "/live", JSON), ("PATCH", "/live", MERGE_PATCH)],
)
def test_oversize_bodies_are_413(
    http: Http, namespace: str, method: str, suffix: str, content_type: str
) -> None:
    live = _existing(http, namespace)
    big = {
        "metadata": {"name": "live" if suffix else "big"},
        "data": {"k": "x" * (3 * 1024 * 1024)},
    }
    response = http.request(
        method,
        _cms(namespace) + suffix,
        data=json.dumps(big),
        headers={"Content-Type": content_type},
    )
    status = assert_status(response, 413, "RequestEntityTooLarge")
    assert status["message"] == "Request entity too large: limit is 3145728"
    _unchanged(http, namespace, live)
    assert _names(http, _cms(namespace)) == ["live"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", "Basic YWRtaW46YWRtaW4=", "Bearer"],
    ids=["missing", "wrong", "basic", "empty"],
)
def test_writes_without_a_valid_token_are_401(
    cluster: ClusterProcess, http: Http, namespace: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    cm = {"metadata": {"name": "unauthorized"}}
    response = requests.post(
        cluster.url + _cms(namespace), json=cm, headers=headers, verify=str(cluster.ca), timeout=30
    )
    assert response.content == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        b'"message":"Unauthorized","reason":"Unauthorized","code":401}\n'
    )
    assert _names(http, _cms(namespace)) == []


def test_the_token_scheme_is_case_insensitive(cluster: ClusterProcess) -> None:
    response = requests.get(
        cluster.url + "/api/v1/namespaces/default",
        headers={"Authorization": f"bearer {cluster.token}"},
        verify=str(cluster.ca),
        timeout=30,
    )
    assert response.status_code == 200


def test_unsupported_patch_content_type_is_415(http: Http, namespace: str) -> None:
    live = _existing(http, namespace)
    for content_type in (JSON, "text/plain", YAML):
        response = http.patch(
            f"{_cms(namespace)}/live",
            data='{"data":{"a":"2"}}',
            headers={"Content-Type": content_type},
        )
        status = assert_status(response, 415, "UnsupportedMediaType")
        assert status["message"] == (
            "the body of the request was in an unknown format - accepted media types include: "
            f"{JSON_PATCH}, {MERGE_PATCH}, {STRATEGIC_PATCH}, {APPLY_PATCH}"
        )
    response = http.post(_cms(namespace), data="name: x", headers={"Content-Type": "text/plain"})
    status = assert_status(response, 415, "UnsupportedMediaType")
    assert status["message"].startswith(
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml"
    )
    _unchanged(http, namespace, live)


def test_strategic_merge_patch_on_a_custom_resource_is_415(http: Http, namespace: str) -> None:
    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gadgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }
    assert (
        http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd).status_code
        == 201
    )
    path = f"/apis/{group}/v1/namespaces/{namespace}/gadgets"
    gadget = {
        "apiVersion": f"{group}/v1",
        "kind": "Gadget",
        "metadata": {"name": "g"},
        "spec": {"a": 1},
    }
    created = _post_when_served(http, path, gadget)
    response = http.patch(
        f"{path}/g", data='{"spec":{"a":2}}', headers={"Content-Type": STRATEGIC_PATCH}
    )
    status = assert_status(response, 415, "UnsupportedMediaType")
    assert status["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        f"{JSON_PATCH}, {MERGE_PATCH}, {APPLY_PATCH}"
    )
    live = http.get(f"{path}/g").json()
    assert live["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    http.delete(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.{group}")


def _post_when_served(http: Http, path: str, body: Body) -> Body:
    """A new CRD's resource is served once Established; poll its creation with a deadline."""
    deadline = time.monotonic() + 15
    while (response := http.post(path, json=body)).status_code == 404:
        assert time.monotonic() < deadline, "the custom resource was never served"
        time.sleep(0.05)
    assert response.status_code == 201, response.text
    created: Body = response.json()
    return created


# -- patches --------------------------------------------------------------------------------


def test_json_patch_test_failure_is_422(http: Http, namespace: str) -> None:
    live = _existing(http, namespace)
    patch = [
        {"op": "replace", "path": "/data/a", "value": "2"},
        {"op": "test", "path": "/data/a", "value": "9"},
    ]
    response = http.patch(
        f"{_cms(namespace)}/live", data=json.dumps(patch), headers={"Content-Type": JSON_PATCH}
    )
    status = assert_status(response, 422, "Invalid")
    assert status["message"] == "the server rejected our request due to an error in our request"
    _unchanged(http, namespace, live)


def test_json_patch_on_a_missing_path_is_422(http: Http, namespace: str) -> None:
    live = _existing(http, namespace)
    patch = [{"op": "replace", "path": "/data/missing/deeper", "value": "2"}]
    response = http.patch(
        f"{_cms(namespace)}/live", data=json.dumps(patch), headers={"Content-Type": JSON_PATCH}
    )
    assert_status(response, 422, "Invalid")
    _unchanged(http, namespace, live)


def test_apply_without_a_field_manager_is_422(http: Http, namespace: str) -> None:
    """kube's ValidatePatchOptions: apply needs an explicit fieldManager (no User-Agent default)."""
    live = _existing(http, namespace)
    body = json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "live"}, "data": {"a": "2"}}
    )
    response = http.patch(
        f"{_cms(namespace)}/live", data=body, headers={"Content-Type": APPLY_PATCH}
    )
    status = assert_status(response, 422, "Invalid")
    assert status["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: '
        "fieldManager: Required value: is required for apply patch"
    )
    assert status["details"] == {
        "group": "meta.k8s.io",
        "kind": "PatchOptions",
        "causes": [
            {
                "reason": "FieldValueRequired",
                "message": "Required value: is required for apply patch",
                "field": "fieldManager",
            }
        ],
    }
    _unchanged(http, namespace, live)
    response = http.patch(
        f"{_cms(namespace)}/fresh",
        data=body.replace('"live"', '"fresh"'),
        headers={"Content-Type": APPLY_PATCH},
    )
    assert_status(response, 422, "Invalid")
    assert _names(http, _cms(namespace)) == ["live"]


def test_force_on_a_non_apply_patch_is_422(http: Http, namespace: str) -> None:
    live = _existing(http, namespace)
    response = http.patch(
        f"{_cms(namespace)}/live",
        data='{"data":{"a":"2"}}',
        params={"force": "true"},
        headers={"Content-Type": MERGE_PATCH},
    )
    status = assert_status(response, 422, "Invalid")
    assert status["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: '
        "force: Forbidden: may not be specified for non-apply patch"
    )
    _unchanged(http, namespace, live)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"dryRun": "Bogus"}, "dryRun"), ({"fieldManager": "m" * 129}, "fieldManager")],
    ids=["dry-run", "field-manager"],
)
def test_invalid_write_options_are_422(
    http: Http, namespace: str, params: dict[str, str], field: str
) -> None:
    """kube validates CreateOptions/PatchOptions as objects of meta.k8s.io (NewInvalid)."""
    live = _existing(http, namespace)
    created = http.post(_cms(namespace), json={"metadata": {"name": "opt"}}, params=params)
    status = assert_status(created, 422, "Invalid")
    assert (status["details"]["group"], status["details"]["kind"]) == (
        "meta.k8s.io",
        "CreateOptions",
    )
    assert [c["field"] for c in status["details"]["causes"]] == [field]
    patched = http.patch(
        f"{_cms(namespace)}/live",
        data='{"data":{"a":"2"}}',
        params=params,
        headers={"Content-Type": MERGE_PATCH},
    )
    status = assert_status(patched, 422, "Invalid")
    assert status["details"]["kind"] == "PatchOptions"
    _unchanged(http, namespace, live)
    assert _names(http, _cms(namespace)) == ["live"]


# -- optimistic concurrency -----------------------------------------------------------------


def test_a_stale_resource_version_on_put_is_409(http: Http, namespace: str) -> None:
    live = _existing(http, namespace)
    newer = http.patch(
        f"{_cms(namespace)}/live", data='{"data":{"a":"2"}}', headers={"Content-Type": MERGE_PATCH}
    ).json()
    stale = {**live, "data": {"a": "stale"}}
    response = http.put(f"{_cms(namespace)}/live", json=stale)
    assert response.status_code == 409
    assert response.content == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
        b'"message":"Operation cannot be fulfilled on configmaps \\"live\\": the object has been '
        b'modified; please apply your changes to the latest version and try again",'
        b'"reason":"Conflict","details":{"name":"live","kind":"configmaps"},"code":409}\n'
    )
    _unchanged(http, namespace, newer)
    deployment = http.post(_deployments(namespace), json=_deployment("web")).json()
    http.patch(
        f"{_deployments(namespace)}/web",
        data='{"spec":{"replicas":2}}',
        headers={"Content-Type": MERGE_PATCH},
    )
    status = assert_status(
        http.put(f"{_deployments(namespace)}/web", json=deployment), 409, "Conflict"
    )
    assert status["message"] == (
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert status["details"] == {"name": "web", "group": "apps", "kind": "deployments"}


def test_a_patch_carrying_a_stale_resource_version_is_409(http: Http, namespace: str) -> None:
    live = _existing(http, namespace)
    newer = http.patch(
        f"{_cms(namespace)}/live", data='{"data":{"a":"2"}}', headers={"Content-Type": MERGE_PATCH}
    ).json()
    stale = json.dumps(
        {"metadata": {"resourceVersion": live["metadata"]["resourceVersion"]}, "data": {"a": "3"}}
    )
    response = http.patch(
        f"{_cms(namespace)}/live", data=stale, headers={"Content-Type": MERGE_PATCH}
    )
    assert_status(response, 409, "Conflict")
    _unchanged(http, namespace, newer)


@pytest.mark.parametrize("precondition", ["uid", "resourceVersion"])
def test_delete_preconditions_mismatch_is_409(
    http: Http, namespace: str, precondition: str
) -> None:
    live = _existing(http, namespace)
    meta = live["metadata"]
    wrong = {"uid": str(uuid.uuid4()), "resourceVersion": "1"}[precondition]
    options = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {precondition: wrong}}
    response = http.delete(f"{_cms(namespace)}/live", json=options)
    status = assert_status(response, 409, "Conflict")
    label = {"uid": "UID", "resourceVersion": "ResourceVersion"}[precondition]
    assert status["message"] == (
        f"Precondition failed: {label} in precondition: {wrong}, "
        f"{label} in object meta: {meta[precondition]}"
    )
    _unchanged(http, namespace, live)
    matching = {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "preconditions": {precondition: meta[precondition]},
    }
    assert http.delete(f"{_cms(namespace)}/live", json=matching).status_code == 200
    assert _names(http, _cms(namespace)) == []


def test_missing_objects_are_404_for_every_write(http: Http, namespace: str) -> None:
    path = f"{_cms(namespace)}/absent"
    body = {"metadata": {"name": "absent"}}
    for response in (
        http.put(path, json=body),
        http.patch(path, data="{}", headers={"Content-Type": MERGE_PATCH}),
        http.patch(path, data="[]", headers={"Content-Type": JSON_PATCH}),
        http.patch(path, data="{}", headers={"Content-Type": STRATEGIC_PATCH}),
        http.delete(path),
    ):
        status = assert_status(response, 404, "NotFound")
        assert status["message"] == 'configmaps "absent" not found'
    assert _names(http, _cms(namespace)) == []
