"""Installing components' CRDs on the host cluster, and waiting until they are served.

Each CRD is created, or replaced when it exists (an upgrade brings new schemas); Atoll's
start waits, with a deadline, until the API server lists each kind in its group's
discovery — what clients need before they can use it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from atoll.errors import AlreadyExists, ApiError
from atoll.kube.client import KubeClient, ResourceType

__all__ = ["CRDS", "install_crds"]

logger = logging.getLogger(__name__)

CRDS = ResourceType(
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False
)


async def _put(client: KubeClient, crd: dict[str, Any]) -> None:
    try:
        await client.create(CRDS, crd)
    except AlreadyExists:
        current = await client.get(CRDS, crd["metadata"]["name"])
        version = current["metadata"]["resourceVersion"]
        wanted = {**crd, "metadata": {**crd["metadata"], "resourceVersion": version}}
        await client.replace(CRDS, wanted)


async def _served(client: KubeClient, crd: dict[str, Any]) -> bool:
    spec = crd["spec"]
    version = spec["versions"][0]["name"]
    try:
        found = await client.request("GET", f"/apis/{spec['group']}/{version}")
    except ApiError:
        return False
    plurals = {r.get("name") for r in (found or {}).get("resources") or ()}
    return bool(spec["names"]["plural"] in plurals)


async def install_crds(
    client: KubeClient, crds: Sequence[dict[str, Any]], *, timeout: float = 60.0
) -> None:
    for crd in crds:
        await _put(client, crd)
    deadline = asyncio.get_running_loop().time() + timeout
    for crd in crds:
        while not await _served(client, crd):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"CRD {crd['metadata']['name']} not served in {timeout:.0f} s")
            await asyncio.sleep(0.05)
    logger.info("installed %d CRDs", len(crds))
