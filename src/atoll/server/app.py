"""``create_app``: Atoll's ASGI application, its parts chosen by the caller.

The request pipeline (request info → authentication → authorization → audit → route)
grows here issue by issue; so far the app serves its own health, readiness and metrics,
answers errors as problem+json, and mounts each component's routes (under ``/kapis`` or
``/oauth``, as each router says).
The host cluster is reached through one ``KubeClient``, opened and closed by the app's
lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from fastapi import FastAPI

from atoll.errors import ApiError
from atoll.kube.client import KubeClient
from atoll.kube.kubeconfig import ClusterConfig

from .access import Pipeline
from .components import Component, ComponentContext
from .controlling import run_controllers
from .installing import install_crds
from .observing import observe
from .problems import install_problem_handlers

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(
    cluster: ClusterConfig,
    components: Sequence[Component],
    *,
    data_dir: Path,
    admin_password: str | None = None,
    tell: Callable[[str], None] = print,
) -> FastAPI:
    """The server for the host cluster at ``cluster``, with ``components`` switched on.

    At start, in the background (``/healthz`` answers at once, ``/readyz`` once done), every
    component's CRDs are installed and served, then each component's ``start`` runs."""
    state: dict[str, KubeClient] = {}
    pipeline = Pipeline()
    started = asyncio.Event()
    failed: list[str] = []

    async def start_components(client: KubeClient) -> None:
        try:
            await install_crds(client, [crd for c in components for crd in c.crds])
            context = ComponentContext(client, admin_password, tell, data_dir, pipeline)
            for component in components:
                if component.start is not None:
                    await component.start(context)
        except Exception as error:  # told by /readyz and the log; the process stays up
            logger.exception("starting Atoll's components failed")
            failed.append(str(error) or type(error).__name__)
            return
        started.set()
        await run_controllers(client, components)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with KubeClient(cluster, user_agent="atoll-server") as client:
            state["host"] = client
            starting = asyncio.create_task(start_components(client))
            try:
                yield
            finally:
                starting.cancel()
                await asyncio.gather(starting, return_exceptions=True)
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
        if failed:
            return f"starting components failed: {failed[0]}"
        if not started.is_set():
            return "components are starting (CRDs, the admin user)"
        return None

    observe(app, components, cluster_ready)
    for component in components:
        for router in component.routers:  # each names its own prefix (/kapis/…, /oauth)
            app.include_router(router)
    return app
