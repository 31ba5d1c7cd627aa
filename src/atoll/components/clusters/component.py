"""The clusters component's declaration (entry point ``clusters`` in ``atoll.components``).

It registers the host cluster as the Cluster ``host``; adds and removes member clusters
(``members``) and reaches each of them from every replica; probes them all (``health``);
serves the Kubernetes proxy of each cluster, and the console's multiplexed watch socket
(``watchmux``), which any logged-in user may open: each of its subscriptions is authorized
on its own.
"""

from __future__ import annotations

import contextlib

from atoll.errors import AlreadyExists
from atoll.kube.client import KubeClient
from atoll.server.access import Pipeline
from atoll.server.clusters import HOST, ClusterClients
from atoll.server.components import Component, ComponentContext, Later

from .crds import CLUSTER_CRD, GROUP, VERSION
from .health import ClusterHealthController
from .members import CLUSTERS, clusters_router, follow_clusters
from .proxy import proxy_router
from .watchmux import PATH as WATCHES_PATH
from .watchmux import watches_router

__all__ = ["CLUSTERS", "HOST", "component"]

HOST_LABEL = "cluster-role.atoll.io/host"


async def register_host(client: KubeClient) -> None:
    """The host cluster as the Cluster ``host``; the health controller keeps its status."""
    cluster = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Cluster",
        "metadata": {"name": HOST, "labels": {HOST_LABEL: ""}},
        "spec": {"provider": "atoll", "enable": True, "connection": {"type": "direct"}},
    }
    with contextlib.suppress(AlreadyExists):
        await client.create(CLUSTERS, cluster)


def component() -> Component:
    client, pipeline = Later[KubeClient](), Later[Pipeline]()
    clusters = Later[ClusterClients]()

    async def start(context: ComponentContext) -> None:
        await register_host(context.client)
        client.set(context.client)
        pipeline.set(context.pipeline)
        assert context.clusters is not None
        clusters.set(context.clusters)
        # The socket itself is open to any logged-in user; each subscription is authorized.
        context.pipeline.filtering.append(lambda info: info.path == WATCHES_PATH)

    return Component(
        name="clusters",
        description="The clusters Atoll manages (the host and members) and their proxies.",
        routers=(
            proxy_router(clusters, pipeline),
            watches_router(lambda: clusters().client, pipeline),
            clusters_router(client),
        ),
        crds=(CLUSTER_CRD,),
        start=start,
        run=lambda context: follow_clusters(context.client, clusters()),
        controllers=(lambda: ClusterHealthController(clusters),),
        required=True,
    )
