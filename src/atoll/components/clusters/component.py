"""The clusters component's declaration (entry point ``clusters`` in ``atoll.components``).

It registers the host cluster as the Cluster ``host`` (its Kubernetes version, node count
and a ``Ready`` condition, refreshed at every start), serves the Kubernetes proxy, and the
console's multiplexed watch socket (``watchmux``), which any logged-in user may open: each
of its subscriptions is authorized on its own.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from atoll.errors import AlreadyExists, Conflict, NotFound
from atoll.kube.client import KubeClient, ResourceType
from atoll.server.access import Pipeline
from atoll.server.components import Component, ComponentContext, Later

from .crds import CLUSTER_CRD, GROUP, VERSION
from .proxy import proxy_router
from .watchmux import PATH as WATCHES_PATH
from .watchmux import watches_router

__all__ = ["CLUSTERS", "HOST", "component"]

CLUSTERS = ResourceType(GROUP, VERSION, "clusters", "Cluster", False)
NODES = ResourceType("", "v1", "nodes", "Node", False)
HOST = "host"
HOST_LABEL = "cluster-role.atoll.io/host"


async def register_host(client: KubeClient) -> None:
    cluster = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Cluster",
        "metadata": {"name": HOST, "labels": {HOST_LABEL: ""}},
        "spec": {"provider": "atoll", "enable": True, "connection": {"type": "direct"}},
    }
    with contextlib.suppress(AlreadyExists):
        await client.create(CLUSTERS, cluster)
    version = await client.request("GET", "/version")
    nodes = await client.list(NODES)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    status = {
        "kubernetesVersion": str((version or {}).get("gitVersion", "")),
        "nodeCount": len(nodes.get("items") or []),
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Connected",
                "message": "Atoll serves this cluster",
                "lastTransitionTime": now,
                "lastUpdateTime": now,
            }
        ],
    }
    with contextlib.suppress(Conflict, NotFound):  # another replica wrote it meanwhile
        found = await client.get(CLUSTERS, HOST)
        await client.replace_status(CLUSTERS, {**found, "status": status})


def component() -> Component:
    client, pipeline = Later[KubeClient](), Later[Pipeline]()

    async def start(context: ComponentContext) -> None:
        await register_host(context.client)
        client.set(context.client)
        pipeline.set(context.pipeline)
        # The socket itself is open to any logged-in user; each subscription is authorized.
        context.pipeline.filtering.append(lambda info: info.path == WATCHES_PATH)

    return Component(
        name="clusters",
        description="The clusters Atoll manages (the host for now) and the Kubernetes proxy.",
        routers=(
            proxy_router(client, pipeline),
            watches_router(client, pipeline),
        ),
        crds=(CLUSTER_CRD,),
        start=start,
        required=True,
    )
