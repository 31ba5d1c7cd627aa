"""The roles of projects in member clusters are put back by the projects controller's round."""

from __future__ import annotations

import json

from tests.conftest import ClusterProcess

from atoll.components.tenant.controllers import ProjectController
from atoll.kube.client import KubeClient
from atoll.kube.kubeconfig import ClusterConfig
from atoll.server.clusters import ClusterClients


def _roles(cluster: ClusterProcess, namespace: str) -> dict[str, list[object]]:
    out = cluster.kubectl("get", "roles", "-n", namespace, "-o", "json")
    return {r["metadata"]["name"]: r["rules"] for r in json.loads(out)["items"]}


async def test_amember_round_puts_back_deleted_and_edited_roles(
    cluster: ClusterProcess, namespace: str
) -> None:
    cluster.kubectl("label", "namespace", namespace, "atoll.io/workspace=somewhere")
    config = ClusterConfig.from_kubeconfig(cluster.kubeconfig)
    async with KubeClient(config) as host, KubeClient(config) as member:
        clusters = ClusterClients(host)
        clusters.add("member", member)
        controller = ProjectController(lambda: clusters)
        await controller.member_round()  # what the controller runs every minute
        made = _roles(cluster, namespace)
        assert set(made) >= {"admin", "operator", "viewer"}
        cluster.kubectl("delete", "role", "viewer", "-n", namespace)
        edited = {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}]}
        cluster.kubectl(
            "patch", "role", "operator", "-n", namespace, "--type=merge", "-p", json.dumps(edited)
        )
        await controller.member_round()
        again = _roles(cluster, namespace)
        assert again["viewer"] == made["viewer"] and again["operator"] == made["operator"]
