"""``create_app``: Atoll's ASGI application, its parts chosen by the caller.

Every request passes the request pipeline (``pipeline.py``: request info → authentication
→ authorization → route → audit), whose hooks the components fill at start. The app serves
its own health, readiness and metrics, answers errors as problem+json, and mounts each
component's routes (under ``/kapis``, ``/api``, ``/apis`` or ``/oauth``, as each says).
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
from .pipeline import RequestPipeline
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
        context = ComponentContext(client, admin_password, tell, data_dir, pipeline)
        try:
            await install_crds(client, [crd for c in components for crd in c.crds])
            for component in components:
                if component.start is not None:
                    await component.start(context)
        except Exception as error:  # told by /readyz and the log; the process stays up
            logger.exception("starting Atoll's components failed")
            failed.append(str(error) or type(error).__name__)
            return
        started.set()
        async with asyncio.TaskGroup() as group:
            for component in components:
                if component.run is not None:
                    group.create_task(component.run(context), name=f"component {component.name}")
            group.create_task(run_controllers(client, components), name="controllers")

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
                for component in reversed(components):
                    if component.stop is not None:
                        try:
                            await component.stop()
                        except Exception:
                            logger.exception("stopping component %s failed", component.name)
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
    pipeline.public += ["/healthz", "/readyz", "/metrics", "/oauth/", "/kapis/openapi.json"]
    app.add_middleware(RequestPipeline, pipeline=pipeline)  # inside observe's: 401s counted

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
