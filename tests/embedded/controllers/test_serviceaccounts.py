"""The service account controller: every namespace has a ``default`` ServiceAccount, made
again when deleted, and no token Secret comes with it (as in kubectl's test set-up)."""

from __future__ import annotations

import uuid

import pytest
from tests.conftest import ClusterProcess
from tests.embedded.controllers.lifecycle_support import Api, eventually


@pytest.fixture
def api(cluster: ClusterProcess) -> Api:
    return Api(cluster)


def test_a_new_namespace_gets_a_default_service_account(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    account = eventually(lambda: api.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default"))

    assert account["metadata"]["namespace"] == namespace
    assert "secrets" not in account
    assert api.items(f"/api/v1/namespaces/{namespace}/secrets") == []


def test_the_system_namespaces_have_one(api: Api) -> None:
    for namespace in ("default", "kube-system", "kube-public", "kube-node-lease"):
        eventually(lambda: api.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default"))  # noqa: B023


def test_a_deleted_default_service_account_comes_back(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts/default"
    first = eventually(lambda: api.get(path))

    cluster.kubectl("delete", "serviceaccount", "default", "-n", namespace)

    def replaced() -> bool:
        account = api.get(path)
        return account is not None and account["metadata"]["uid"] != first["metadata"]["uid"]

    eventually(replaced)


def test_other_service_accounts_are_left_alone(
    cluster: ClusterProcess, api: Api, namespace: str
) -> None:
    eventually(lambda: api.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default"))
    cluster.kubectl("create", "serviceaccount", "robot", "-n", namespace)
    cluster.kubectl("delete", "serviceaccount", "robot", "-n", namespace)
    # A namespace made after the deletion proves the controller has moved past it.
    later = f"t-{uuid.uuid4().hex[:10]}"
    cluster.kubectl("create", "namespace", later)
    eventually(lambda: api.get(f"/api/v1/namespaces/{later}/serviceaccounts/default"))

    names = [
        a["metadata"]["name"] for a in api.items(f"/api/v1/namespaces/{namespace}/serviceaccounts")
    ]
    assert names == ["default"]
