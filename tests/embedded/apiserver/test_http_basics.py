"""The embedded API server over HTTP: auth, discovery, Status bodies, bad input, limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from tests.conftest import ClusterProcess


class _Client(requests.Session):
    """A session bound to one server, so tests write paths, not URLs."""

    def __init__(self, base_url: str, token: str, ca: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.verify = ca
        self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("verify", self.verify)  # requests prefers CA env vars over .verify
        if "content" in kwargs:
            kwargs["data"] = kwargs.pop("content")
        return super().request(method, self.base_url + url, *args, **kwargs)


def _client(cluster: ClusterProcess, token: str | None = None) -> _Client:
    return _Client(cluster.url, token or cluster.token, str(cluster.ca))


def test_health_needs_no_token_everything_else_does(cluster: ClusterProcess) -> None:
    for path in ("/healthz", "/livez", "/readyz"):
        assert requests.get(cluster.url + path, verify=str(cluster.ca)).text == "ok"
    response = requests.get(cluster.url + "/api/v1/namespaces", verify=str(cluster.ca))
    assert response.status_code == 401
    assert response.json()["reason"] == "Unauthorized"
    assert _client(cluster, "wrong").get("/api/v1/namespaces").status_code == 401


def test_discovery_shapes(cluster: ClusterProcess) -> None:
    with _client(cluster) as c:
        version = c.get("/version/").json()
        assert version["gitVersion"].startswith("v1.") and len(version) == 9
        core = c.get("/api/").json()
        assert core["versions"] == ["v1"] and core["serverAddressByClientCIDRs"]
        groups = {g["name"]: g for g in c.get("/apis").json()["groups"]}
        assert groups["apps"]["preferredVersion"]["version"] == "v1"
        assert {v["version"] for v in groups["batch"]["versions"]} == {"v1", "v1beta1"}
        pods = {r["name"]: r for r in c.get("/api/v1").json()["resources"]}
        assert pods["pods"]["shortNames"] == ["po"] and pods["pods"]["categories"] == ["all"]
        assert "storageVersionHash" in pods["pods"] and "pods/log" in pods
        apps = {r["name"]: r for r in c.get("/apis/apps/v1").json()["resources"]}
        scale = apps["deployments/scale"]
        assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")


def test_bootstrap_objects_exist(cluster: ClusterProcess) -> None:
    with _client(cluster) as c:
        names = {n["metadata"]["name"] for n in c.get("/api/v1/namespaces").json()["items"]}
        assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
        svc = c.get("/api/v1/namespaces/default/services/kubernetes").json()
        assert svc["spec"]["clusterIP"].startswith("127.")


def _status(response: requests.Response) -> dict[str, Any]:
    body = response.json()
    assert body["kind"] == "Status" and body["apiVersion"] == "v1"
    assert body["code"] == response.status_code
    return body


def test_status_bodies_are_byte_compatible(cluster: ClusterProcess, namespace: str) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dup"}}
    with _client(cluster) as c:
        assert c.post(f"/api/v1/namespaces/{namespace}/configmaps", json=cm).status_code == 201
        again = c.post(f"/api/v1/namespaces/{namespace}/configmaps", json=cm)
        assert again.status_code == 409
        assert again.content == (
            b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
            b'"message":"configmaps \\"dup\\" already exists","reason":"AlreadyExists",'
            b'"details":{"name":"dup","kind":"configmaps"},"code":409}\n'
        )
        missing = c.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/nope")
        assert _status(missing)["message"] == 'deployments.apps "nope" not found'
        assert missing.json()["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"{not json", "application/json", 400),
        (b"", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}', "application/json", 400),
        (b"kind: [unclosed", "application/yaml", 400),
        (b"\x00\x01", "application/vnd.kubernetes.protobuf", 415),
    ],
)
def test_bad_bodies_get_4xx(
    cluster: ClusterProcess, namespace: str, body: bytes, content_type: str, code: int
) -> None:
    with _client(cluster) as c:
        response = c.post(
            f"/api/v1/namespaces/{namespace}/configmaps",
            content=body,
            headers={"Content-Type": content_type},
        )
        assert _status(response)["code"] == code
        assert c.get(f"/api/v1/namespaces/{namespace}/configmaps").json()["items"] == []


def test_oversize_body_is_413(cluster: ClusterProcess, namespace: str) -> None:
    big = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "big"},
        "data": {"k": "x" * (3 * 1024 * 1024 + 10)},
    }
    with _client(cluster) as c:
        response = c.post(f"/api/v1/namespaces/{namespace}/configmaps", content=json.dumps(big))
        assert _status(response)["reason"] == "RequestEntityTooLarge"
        assert c.get(f"/api/v1/namespaces/{namespace}/configmaps/big").status_code == 404


def test_invalid_names_and_unknown_paths(cluster: ClusterProcess, namespace: str) -> None:
    with _client(cluster) as c:
        bad = c.post(
            f"/api/v1/namespaces/{namespace}/configmaps",
            json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}},
        )
        status = _status(bad)
        assert status["reason"] == "Invalid"
        assert status["details"]["causes"][0]["field"] == "metadata.name"
        assert c.get("/apis/nope.example.com/v1/things").status_code == 404
        assert c.get("/api/v2/pods").status_code == 404
        assert c.post(
            "/api/v1/namespaces/missing-ns-x/configmaps",
            json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
        ).json()["message"] == ('namespaces "missing-ns-x" not found')


def test_bad_selectors_are_400(cluster: ClusterProcess) -> None:
    with _client(cluster) as c:
        assert c.get("/api/v1/pods", params={"labelSelector": "a in (b"}).status_code == 400
        response = c.get("/api/v1/pods", params={"fieldSelector": "spec.nope=1"})
        assert _status(response)["message"] == "field label not supported: spec.nope"
