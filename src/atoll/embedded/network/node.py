"""This node's network services, in the cluster's process: what kube-proxy, CoreDNS and an
ingress controller are on a real node.

They share one ``ServiceCatalog`` (one watch of Services and one of EndpointSlices) and run
side by side; one failing (the ingress port already taken, say) is logged and leaves the
others serving — the pods and the API do not depend on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from atoll.kube.client import KubeClient
from atoll.kube.events import EventRecorder
from atoll.kube.informers import InformerFactory

from .catalog import ServiceCatalog
from .dns import ClusterDns
from .ingress import IngressProxy
from .serviceproxy import ServiceProxy

__all__ = ["DNS_PORT", "NetworkOptions", "NodeNetwork"]

logger = logging.getLogger(__name__)

DNS_PORT = 53


@dataclass(frozen=True, slots=True)
class NetworkOptions:
    node_name: str
    node_address: str = "127.0.0.1"  # where NodePorts and the ingress proxy listen
    cluster_domain: str = "cluster.local"
    dns_address: str | None = None  # the pods' gateway; None: no cluster DNS on this node
    reverse_networks: tuple[str, ...] = ()  # Service and pod ranges, for PTR answers
    ingress_http_port: int = 8880
    ingress_https_port: int = 8443


class NodeNetwork:
    """Runs the Service proxy, cluster DNS and the ingress proxy until cancelled."""

    def __init__(self, client: KubeClient, options: NetworkOptions) -> None:
        self.options = options
        self.informers = InformerFactory(client)
        self.catalog = ServiceCatalog(self.informers)
        self.proxy = ServiceProxy(
            self.catalog,
            client=client,
            events=EventRecorder(client, "kube-proxy", options.node_name),
            node_address=options.node_address,
        )
        self.ingress = IngressProxy(
            self.catalog,
            self.informers,
            client=client,
            events=EventRecorder(client, "atoll-ingress-controller", options.node_name),
            host=options.node_address,
            http_port=options.ingress_http_port,
            https_port=options.ingress_https_port,
            status_address=options.node_address,
        )
        self.dns = ClusterDns(
            self.catalog,
            domain=options.cluster_domain,
            reverse_networks=options.reverse_networks,
        )

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                self.informers.start(group)
                group.create_task(_guarded("the Service proxy", self.proxy.run()))
                group.create_task(_guarded("the ingress proxy", self.ingress.run()))
                if self.options.dns_address is not None:
                    address = (self.options.dns_address, DNS_PORT)
                    group.create_task(_guarded("cluster DNS", self.dns.serve([address])))
        finally:
            self.informers.stop()


async def _guarded(what: str, work: Awaitable[None]) -> None:
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("%s stopped; the rest of the cluster goes on without it", what)
