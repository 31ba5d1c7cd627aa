"""Helpers for the object-lifecycle controllers' tests: polling with a deadline, raw API access.

The garbage collector, namespace, service account and endpoints tests drive the embedded
cluster with kubectl (as a user would) and read the outcome through the API, polling until
a controller has acted or the deadline passes — never sleeping a fixed time.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any, TypeVar

import requests
from tests.conftest import ClusterProcess
from tests.waiting import eventually

__all__ = ["Api", "eventually", "namespaced_crd", "owner_ref"]

T = TypeVar("T")


class Api:
    """Plain HTTP to the cluster's API (what kubectl cannot do briefly: status writes)."""

    def __init__(self, cluster: ClusterProcess) -> None:
        self.base = cluster.url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {cluster.token}"
        self.http.verify = str(cluster.ca)
        self.http.trust_env = False  # else requests prefers REQUESTS_CA_BUNDLE over .verify

    def get(self, path: str) -> dict[str, Any] | None:
        """The object at ``path``, or None when it does not exist."""
        response = self.http.get(self.base + path, timeout=30)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    def items(self, path: str, **params: str) -> list[dict[str, Any]]:
        response = self.http.get(self.base + path, params=params, timeout=30)
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def create(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(self.base + path, data=json.dumps(obj), timeout=30)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def put(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        response = self.http.put(self.base + path, data=json.dumps(obj), timeout=30)
        assert response.status_code == 200, response.text
        stored: dict[str, Any] = response.json()
        return stored

    def merge_patch(self, path: str, patch: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/merge-patch+json"}
        response = self.http.patch(
            self.base + path, data=json.dumps(patch), headers=headers, timeout=30
        )
        assert response.status_code == 200, response.text
        patched: dict[str, Any] = response.json()
        return patched


def owner_ref(owner: dict[str, Any], *, block: bool = True) -> dict[str, Any]:
    """An ownerReference to ``owner`` (as controllers write them, ``controller`` aside)."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "blockOwnerDeletion": block,
    }


@contextlib.contextmanager
def namespaced_crd(cluster: ClusterProcess, *, plural: str, kind: str) -> Iterator[str]:
    """A namespaced CRD of ``kind`` in a group of its own, served at ``v1`` with any fields;
    yields the group once it is served, deletes the CRD afterwards."""
    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}],
        },
    }
    api = Api(cluster)
    api.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    eventually(lambda: api.get(f"/apis/{group}/v1") is not None)
    yield group
    cluster.kubectl("delete", "crd", f"{plural}.{group}", "--wait=false")
