"""Member clusters: added, removed and reached.

- ``POST /kapis/cluster.atoll.io/v1alpha1/clusters`` ``{"name", "kubeconfig"}`` (platform
  administrators): the kubeconfig is checked by connecting (``/version``) before anything
  is stored; then the Cluster object is made and the kubeconfig kept in the Secret
  ``kube-system/atoll-cluster-<name>`` (owned by the Cluster; encrypted at rest as the host
  cluster encrypts Secrets). If the Secret cannot be written the Cluster is taken back.
- ``DELETE /kapis/cluster.atoll.io/v1alpha1/clusters/{name}`` removes both; the host
  cluster cannot be removed.
- ``GET /kapis/cluster.atoll.io/v1alpha1/clusters[/{name}]`` lists them (never the
  kubeconfig).

Every replica follows Cluster objects and their Secrets (``follow_clusters``) and keeps a
client per member cluster in ``ClusterClients``, so the proxy, the caches and the watch
socket reach it by name.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

from atoll.errors import AlreadyExists, ApiError, Conflict, Invalid, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.informers import Informer
from atoll.kube.kubeconfig import ClusterConfig, KubeconfigError
from atoll.server.clusters import HOST, ClusterClients

from .crds import GROUP, VERSION

__all__ = ["CLUSTERS", "SECRETS", "clusters_router", "follow_clusters", "secret_name"]

logger = logging.getLogger(__name__)

CLUSTERS = ResourceType(GROUP, VERSION, "clusters", "Cluster", False)
SECRETS = ResourceType("", "v1", "secrets", "Secret", True)
SECRET_NAMESPACE = "kube-system"
KUBECONFIG_KEY = "kubeconfig"
CLUSTER_LABEL = "cluster.atoll.io/name"
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
PROBE_TIMEOUT = 10.0


def secret_name(cluster: str) -> str:
    return f"atoll-cluster-{cluster}"


class NewCluster(BaseModel):
    name: str = Field(..., min_length=1, max_length=63, description="A DNS label, not host.")
    kubeconfig: str = Field(
        ..., min_length=1, max_length=1 << 20, description="A kubeconfig's text, all embedded."
    )


async def probe(config: ClusterConfig, *, timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    """The cluster's ``/version``, or an ``Invalid`` saying why it cannot be reached."""
    try:
        async with KubeClient(config, request_timeout=timeout, user_agent="atoll-probe") as client:
            version = await client.request("GET", "/version", timeout=timeout)
    except (TimeoutError, ApiError, OSError) as error:
        raise Invalid(f"the cluster cannot be reached with this kubeconfig: {error}") from None
    return version if isinstance(version, dict) else {}


def _public(cluster: Object) -> Object:
    meta = {k: v for k, v in (cluster.get("metadata") or {}).items() if k != "managedFields"}
    return {**cluster, "metadata": meta}


def clusters_router(client: Callable[[], KubeClient]) -> APIRouter:
    router = APIRouter(prefix=f"/kapis/{GROUP}/{VERSION}", tags=["clusters"])

    @router.get("/clusters", summary="The clusters Atoll manages")
    async def list_clusters() -> JSONResponse:
        found = (await client().list(CLUSTERS)).get("items") or []
        items = sorted((_public(c) for c in found), key=lambda c: str(c["metadata"]["name"]))
        return JSONResponse({"items": items, "totalItems": len(items)})

    @router.get("/clusters/{name}", summary="One cluster")
    async def get_cluster(name: str) -> JSONResponse:
        return JSONResponse(_public(await client().get(CLUSTERS, name)))

    @router.post("/clusters", summary="Add a member cluster", status_code=201)
    async def add_cluster(new: NewCluster) -> JSONResponse:
        if not _NAME.match(new.name) or new.name == HOST:
            raise Invalid(f"the cluster name {new.name!r} must be a DNS label other than host")
        try:
            config = ClusterConfig.from_kubeconfig_text(new.kubeconfig)
        except KubeconfigError as why:
            raise Invalid(str(why)) from None
        with contextlib.suppress(NotFound):
            await client().get(CLUSTERS, new.name)
            raise AlreadyExists(f'cluster "{new.name}" already exists', name=new.name)
        version = await probe(config)
        cluster = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "Cluster",
            "metadata": {"name": new.name},
            "spec": {
                "provider": "kubeconfig",
                "enable": True,
                "connection": {
                    "type": "direct",
                    "kubeconfigSecretRef": {
                        "namespace": SECRET_NAMESPACE,
                        "name": secret_name(new.name),
                    },
                },
            },
        }
        made = await client().create(CLUSTERS, cluster)
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": secret_name(new.name),
                "namespace": SECRET_NAMESPACE,
                "labels": {CLUSTER_LABEL: new.name},
                "ownerReferences": [
                    {
                        "apiVersion": f"{GROUP}/{VERSION}",
                        "kind": "Cluster",
                        "name": new.name,
                        "uid": made["metadata"]["uid"],
                    }
                ],
            },
            "type": "atoll.io/kubeconfig",
            "data": {KUBECONFIG_KEY: base64.b64encode(new.kubeconfig.encode()).decode()},
        }
        try:
            await client().create(SECRETS, secret)
        except ApiError:
            with contextlib.suppress(NotFound):  # no Cluster without its kubeconfig
                await client().delete(CLUSTERS, new.name)
            raise
        logger.info("cluster %s added (Kubernetes %s)", new.name, version.get("gitVersion"))
        return JSONResponse(_public(made), status_code=201)

    @router.delete("/clusters/{name}", summary="Remove a member cluster")
    async def remove_cluster(name: str) -> JSONResponse:
        if name == HOST:
            raise Conflict("the host cluster cannot be removed", name=name)
        gone = await client().delete(CLUSTERS, name)
        with contextlib.suppress(NotFound):
            await client().delete(SECRETS, secret_name(name), namespace=SECRET_NAMESPACE)
        return JSONResponse(_public(gone) if gone.get("kind") == "Cluster" else gone)

    return router


async def follow_clusters(
    host: KubeClient, clients: ClusterClients, stop: asyncio.Event | None = None
) -> None:
    """Keep a client in ``clients`` for every member cluster with its kubeconfig Secret."""
    clusters = Informer(host, CLUSTERS)
    secrets = Informer(host, SECRETS, namespace=SECRET_NAMESPACE, label_selector=CLUSTER_LABEL)
    changed = asyncio.Event()
    for informer in (clusters, secrets):
        informer.add_handler(
            on_add=lambda _o: changed.set(),
            on_update=lambda _o, _n: changed.set(),
            on_delete=lambda _o: changed.set(),
        )
    stop = stop or asyncio.Event()
    known: dict[str, str] = {}  # cluster → the kubeconfig its client was made from
    async with asyncio.TaskGroup() as group:
        group.create_task(clusters.run(stop))
        group.create_task(secrets.run(stop))
        try:
            while True:
                await changed.wait()
                changed.clear()
                await _converge(clusters, secrets, clients, known)
        finally:
            stop.set()
            await clients.close()


async def _converge(
    clusters: Informer, secrets: Informer, clients: ClusterClients, known: dict[str, str]
) -> None:
    wanted: dict[str, str] = {}
    for cluster in clusters.list():
        name = str(cluster["metadata"]["name"])
        secret = secrets.get(f"{SECRET_NAMESPACE}/{secret_name(name)}")
        data = ((secret or {}).get("data") or {}).get(KUBECONFIG_KEY)
        if name != HOST and data:
            wanted[name] = base64.b64decode(data).decode("utf-8", "replace")
    for name in list(known):
        if name not in wanted or wanted[name] != known[name]:
            await clients.remove(name)
            del known[name]
    for name, text in wanted.items():
        if name in known:
            continue
        try:
            config = ClusterConfig.from_kubeconfig_text(text)
        except KubeconfigError as why:
            logger.warning("cluster %s: its kubeconfig cannot be used: %s", name, why)
            continue
        clients.add(name, KubeClient(config, user_agent="atoll-server"))
        known[name] = text
        logger.info("reaching cluster %s", name)
