"""A small Atoll app serving only the resources router, on the worker's embedded cluster.

The app runs in the test client's own thread and event loop (its lifespan opens the cluster
client and runs the store registry), so tests stay synchronous and ``eventually`` may poll
while the stores keep watching. Objects are written through the same cluster client, on the
app's loop (``Api.kube``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from tests.components.resources.resources_support import Api, visible_by_header
from tests.conftest import ClusterProcess

from atoll.components.resources.registry import StoreRegistry
from atoll.components.resources.routes import resources_router
from atoll.kube.client import KubeClient
from atoll.kube.kubeconfig import ClusterConfig


@pytest.fixture(scope="module")
def api(cluster: ClusterProcess) -> Iterator[Api]:
    config = ClusterConfig.from_kubeconfig(cluster.kubeconfig)
    opened: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with KubeClient(config) as client, asyncio.TaskGroup() as group:
            registry = StoreRegistry({"host": client}, sync_timeout=15)
            opened.update(client=client, registry=registry)
            group.create_task(registry.run())
            yield
            registry.stop()

    asked: list[tuple[str, str, str]] = []
    app = FastAPI(lifespan=lifespan)
    visible = visible_by_header(asked)
    app.include_router(resources_router(lambda: opened.get("registry"), visible=visible))
    with TestClient(app) as http:
        yield Api(http, opened["client"], opened["registry"], asked)
