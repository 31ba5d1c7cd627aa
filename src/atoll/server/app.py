"""``create_app``: Atoll's ASGI application, its parts chosen by the caller.

The request pipeline (request info → authentication → authorization → audit → route)
grows here issue by issue; so far the app serves its own health, readiness and metrics,
answers errors as problem+json, and mounts each component's routes under ``/kapis``.
The host cluster is reached through one ``KubeClient``, opened and closed by the app's
lifespan.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

from fastapi import FastAPI

from atoll.errors import ApiError
from atoll.kube.client import KubeClient
from atoll.kube.kubeconfig import ClusterConfig

from .components import Component
from .observing import observe
from .problems import install_problem_handlers

__all__ = ["create_app"]


def create_app(cluster: ClusterConfig, components: Sequence[Component]) -> FastAPI:
    """The server for the host cluster at ``cluster``, with ``components`` switched on."""
    state: dict[str, KubeClient] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with KubeClient(cluster, user_agent="atoll-server") as client:
            state["host"] = client
            yield
        state.clear()

    app = FastAPI(
        title="Atoll",
        version="v1alpha1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/kapis/openapi.json",
    )
    install_problem_handlers(app)

    async def cluster_ready() -> str | None:
        client = state.get("host")
        if client is None:
            return "not connected yet"
        try:
            await client.request("GET", "/readyz", accept="text/plain", timeout=5)
        except (ApiError, OSError) as error:
            return str(error) or type(error).__name__
        return None

    observe(app, components, cluster_ready)
    for component in components:
        for router in component.routers:
            app.include_router(router, prefix="/kapis")
    return app
