"""Sandbox and production in one Atoll: one workspace over both, a project in each; a
developer deploys to sandbox and is refused in production until granted; losing
production leaves sandbox's pages whole."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from tests.conftest import ClusterProcess, start_cluster
from tests.server.atoll_process import (
    IAM,
    TENANT,
    Atoll,
    as_user,
    login,
    start_atoll,
    user_session,
)
from tests.server.test_watchmux import opened
from tests.waiting import eventually

CLUSTERS = "/kapis/cluster.atoll.io/v1alpha1/clusters"


@dataclass
class Three:
    atoll: Atoll
    sandbox: ClusterProcess
    production: ClusterProcess
    admin: requests.Session


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Three]:
    root = tmp_path_factory.mktemp("two-clusters")
    sandbox = start_cluster(root / "sandbox")
    production = start_cluster(root / "production")
    atoll = start_atoll(root / "atoll")
    found = Three(atoll, sandbox, production, as_user(login(atoll)))
    try:
        for name, cluster in (("sandbox", sandbox), ("production", production)):
            body = {"name": name, "kubeconfig": cluster.kubeconfig.read_text()}
            added = found.admin.post(f"{atoll.url}{CLUSTERS}", json=body, timeout=30)
            assert added.status_code == 201, added.text
        yield found
    finally:
        atoll.stop()
        for cluster in (sandbox, production):
            if cluster.process.poll() is None:
                cluster.stop()


def deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "busybox"}]},
            },
        },
    }


def test_a_developer_on_sandbox_and_production(three: Three) -> None:
    url, admin = three.atoll.url, three.admin
    workspace = {
        "apiVersion": "tenant.atoll.io/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": "shop"},
        "spec": {"manager": "admin", "clusters": ["sandbox", "production"]},
    }
    made = admin.post(f"{url}/apis/tenant.atoll.io/v1alpha1/workspaces", json=workspace)
    assert made.status_code == 201, made.text
    for cluster, project in (("sandbox", "shop-dev"), ("production", "shop-prod")):
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": project}}
        path = f"{url}{TENANT}/workspaces/shop/clusters/{cluster}/namespaces"
        created = eventually(lambda path=path, body=body: admin.post(path, json=body, timeout=30))
        assert created.status_code == 201, created.text
    usable = admin.get(f"{url}{TENANT}/workspaces/shop/clusters").json()
    assert [c["metadata"]["name"] for c in usable["items"]] == ["production", "sandbox"]
    # Each project lives in its own cluster only.
    assert "shop-dev" in three.sandbox.kubectl("get", "namespaces", "-o", "name")
    assert "shop-dev" not in three.production.kubectl("get", "namespaces", "-o", "name")
    not_here = admin.post(
        f"{url}{TENANT}/workspaces/shop/clusters/host/namespaces",
        json={"metadata": {"name": "shop-host"}},
    )
    assert not_here.status_code == 404  # the workspace may not use the host

    dev = user_session(three.atoll, "developer")
    members = f"{url}{IAM}/clusters/sandbox/namespaces/shop-dev/members"
    joined = admin.post(members, json=[{"username": "developer", "roleRef": "operator"}])
    assert joined.status_code == 200, joined.text
    sandbox = f"{url}/clusters/sandbox/apis/apps/v1/namespaces/shop-dev/deployments"
    production = f"{url}/clusters/production/apis/apps/v1/namespaces/shop-prod/deployments"
    eventually(lambda: dev.post(sandbox, json=deployment("web"), timeout=10).status_code == 201)
    refused = dev.post(production, json=deployment("web"), timeout=10)
    assert refused.status_code == 403
    assert "of cluster production" in refused.json()["message"]
    assert "web" in three.sandbox.kubectl("get", "deployments", "-n", "shop-dev", "-o", "name")
    # The projects list shows what the developer may see, cluster by cluster.
    listed = dev.get(f"{url}{TENANT}/workspaces/shop/clusters/sandbox/namespaces").json()
    assert [n["metadata"]["name"] for n in listed["items"]] == ["shop-dev"]
    listed = dev.get(f"{url}{TENANT}/workspaces/shop/clusters/production/namespaces").json()
    assert listed["items"] == []

    # Granted in production: allowed there too.
    prod_members = f"{url}{IAM}/clusters/production/namespaces/shop-prod/members"
    granted = admin.post(prod_members, json=[{"username": "developer", "roleRef": "operator"}])
    assert granted.status_code == 200, granted.text
    eventually(lambda: dev.post(production, json=deployment("web"), timeout=10).status_code == 201)

    # A cluster member: a viewer of production's nodes, not of sandbox's.
    viewers = f"{url}{IAM}/clusters/production/clustermembers"
    eventually(
        lambda: (
            admin.post(
                viewers, json=[{"username": "developer", "roleRef": "cluster-viewer"}], timeout=10
            ).status_code
            == 200
        )
    )
    eventually(lambda: dev.get(f"{url}/clusters/production/api/v1/nodes").status_code == 200)
    assert dev.get(f"{url}/clusters/sandbox/api/v1/nodes").status_code == 403
    assert admin.get(viewers).json()["items"] == [
        {"username": "developer", "roleRef": "cluster-viewer"}
    ]

    # Production goes away: sandbox's pages carry on.
    assert three.production.stop(signal.SIGTERM) == 0
    assert dev.get(f"{url}/clusters/sandbox/apis/apps/v1/namespaces/shop-dev/deployments").ok
    cached = (
        f"{url}/kapis/resources.atoll.io/v1alpha1/clusters/sandbox/namespaces/shop-dev/deployments"
    )
    assert eventually(lambda: dev.get(cached, timeout=30).ok)


async def test_the_watch_socket_watches_a_member_cluster(three: Three) -> None:
    bearer = str(three.admin.headers["Authorization"]).removeprefix("Bearer ")
    async with opened(three.atoll, bearer) as socket:
        await socket.subscribe(
            "maps", "configmaps", cluster="sandbox", namespace="default", labelSelector="mux=yes"
        )
        await socket.until("maps", "SUBSCRIBED")
        three.sandbox.kubectl(
            "create", "configmap", "in-sandbox", "--from-literal=a=b", "-n", "default"
        )
        three.sandbox.kubectl("label", "configmap", "in-sandbox", "mux=yes", "-n", "default")
        frames = await socket.until("maps", "ADDED")
        assert frames[-1]["object"]["metadata"]["name"] == "in-sandbox"
        await socket.subscribe("gone", "configmaps", cluster="nowhere")
        (refused,) = [f for f in await socket.until("gone", "ERROR") if f["id"] == "gone"]
        assert refused["status"]["code"] == 404


def test_a_deleted_workspace_takes_its_member_projects(three: Three) -> None:
    url, admin = three.atoll.url, three.admin
    workspace = {
        "apiVersion": "tenant.atoll.io/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": "brief"},
        "spec": {"manager": "admin", "clusters": ["sandbox"]},
    }
    assert admin.post(f"{url}/apis/tenant.atoll.io/v1alpha1/workspaces", json=workspace).ok
    path = f"{url}{TENANT}/workspaces/brief/clusters/sandbox/namespaces"
    body = {"metadata": {"name": "brief-dev"}}
    eventually(lambda: admin.post(path, json=body, timeout=30).status_code == 201)
    deleted = admin.delete(f"{url}/apis/tenant.atoll.io/v1alpha1/workspaces/brief", timeout=10)
    assert deleted.status_code == 200

    def gone() -> bool:
        out = three.sandbox.kubectl("get", "namespace", "brief-dev", "-o", "json", check=False)
        return not out.startswith("{") or '"Terminating"' in out

    eventually(gone, timeout=30)
