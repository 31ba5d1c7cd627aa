"""``create_app``: Atoll's ASGI application, its parts chosen by the caller.

Every request passes the request pipeline (``pipeline.py``: request info → authentication
→ authorization → route → audit), whose hooks the components fill at start. The app serves
its own health, readiness and metrics, answers errors as problem+json, and mounts each
component's routes (under ``/kapis``, ``/api``, ``/apis`` or ``/oauth``, as each says), the
cluster proxy's catch-alls (``/apis/{rest:path}``) after all others, so that Atoll answers
some Kubernetes requests itself (SelfSubjectAccessReviews). Every other path is the web
console's (``console.py``), open to anyone; so a component route outside the API, which
would be open too, is refused. The host cluster is reached through one ``KubeClient``,
opened and closed by the app's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException

from atoll.errors import ApiError
from atoll.kube.client import KubeClient
from atoll.kube.kubeconfig import ClusterConfig
from atoll.settings import IdentityProvider

from .access import Pipeline, in_cluster
from .clusters import ClusterClients
from .components import Component, ComponentContext, SecureEndpoint
from .console import ConsoleFiles, console_path
from .controlling import Managers, run_controllers
from .installing import install_crds
from .observing import observe
from .pipeline import RequestPipeline
from .problems import document_problems, install_problem_handlers
from .switchboard import PLATFORM_CONFIG_CRD, Switchboard

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

_BEARER = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
_REFUSALS = {
    "401": {"description": "Not logged in, or the token is not valid (any more)"},
    "403": {"description": "The caller may not do this"},
}


def _documenting(app: FastAPI, pipeline: Pipeline) -> Callable[[], dict[str, Any]]:
    """``app.openapi`` with what FastAPI cannot see: the request pipeline wants a bearer token
    on every path it does not leave public (and may refuse with 401 or 403), and errors are
    problem+json. Added to each document FastAPI makes (once, unless the routes change)."""
    generate = app.openapi
    described: dict[str, Any] | None = None

    def openapi() -> dict[str, Any]:
        nonlocal described
        document = generate()
        if document is not described:
            document.setdefault("components", {})["securitySchemes"] = {"bearer": _BEARER}
            document["security"] = [{"bearer": []}]
            for path, operations in document.get("paths", {}).items():
                for operation in operations.values():
                    if pipeline.is_public(path):
                        operation["security"] = []
                    else:
                        refusals = {code: dict(answer) for code, answer in _REFUSALS.items()}
                        operation.setdefault("responses", {}).update(refusals)
            document_problems(document)
            described = document
        return document

    return openapi


def create_app(
    cluster: ClusterConfig,
    components: Sequence[Component],
    *,
    data_dir: Path,
    admin_password: str | None = None,
    tell: Callable[[str], None] = print,
    secure_endpoint: SecureEndpoint | None = None,
    identity_providers: Sequence[IdentityProvider] = (),
    console_dir: Path | None = None,
) -> FastAPI:
    """The server for the host cluster at ``cluster``, with ``components`` switched on, and
    the web console built into ``console_dir`` at ``/`` (without it, a page saying so).

    At start, in the background (``/healthz`` answers at once, ``/readyz`` once done), every
    component's CRDs are installed and served, then each component's ``start`` runs."""
    state: dict[str, KubeClient] = {}
    pipeline = Pipeline()
    switchboard = Switchboard(components)
    managers = Managers()
    started = asyncio.Event()
    failed: list[str] = []

    async def start_components(client: KubeClient) -> None:
        clusters = ClusterClients(client)
        context = ComponentContext(
            client,
            admin_password,
            tell,
            data_dir,
            pipeline,
            secure_endpoint,
            identity_providers,
            clusters,
        )
        try:
            crds = [PLATFORM_CONFIG_CRD, *(crd for c in components for crd in c.crds)]
            await install_crds(client, crds)
            for component in components:
                if component.start is not None:
                    sinks, admissions = len(pipeline.audit_sinks), len(pipeline.admission)
                    await component.start(context)
                    _guard_hooks(pipeline, switchboard, component.name, sinks, admissions)
        except Exception as error:  # told by /readyz and the log; the process stays up
            logger.exception("starting Atoll's components failed")
            failed.append(str(error) or type(error).__name__)
            return
        started.set()
        async with asyncio.TaskGroup() as group:
            group.create_task(switchboard.run(client), name="switchboard")
            for component in components:
                if component.run is not None:
                    group.create_task(component.run(context), name=f"component {component.name}")
            group.create_task(run_controllers(client, switchboard, managers), name="controllers")

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
    app.openapi = _documenting(app, pipeline)  # type: ignore[method-assign]
    pipeline.public += ["/healthz", "/readyz", "/metrics", "/oauth/", "/kapis/openapi.json"]
    pipeline.public_tests.append(console_path)
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
        if not switchboard.synced:
            return "reading which components are on"
        return None

    observe(app, components, cluster_ready, managers.stats)
    app.include_router(switchboard.router(lambda: _connected(state)))
    for component, router in _proxies_last(components):
        _refuse_strays(component.name, router.routes)
        guard = [Depends(switchboard.guard(component.name))]
        app.include_router(router, dependencies=guard)  # each names its prefix (/kapis/…)
    app.router.default = ConsoleFiles(console_dir, app.router.default)
    return app


def _refuse_strays(component: str, routes: Sequence[Any]) -> None:
    """A route outside the API would be public, as the console's pages are: refuse it."""
    strays = sorted(r.path for r in routes if console_path(getattr(r, "path", "/api")))
    if strays:
        raise ValueError(f"component {component}: routes outside the API: {', '.join(strays)}")


def _proxies_last(components: Sequence[Component]) -> list[tuple[Component, APIRouter]]:
    """Every component's routers, in component order, except that those passing whole
    Kubernetes APIs on (a catch-all under ``/api`` or ``/apis``, of any cluster: the cluster
    proxy) come after the rest: so the iam component answers SelfSubjectAccessReviews
    itself, though the clusters component comes first by name. Other catch-alls keep their
    place (the watch socket's under ``/kapis`` is there to come before the resources API)."""
    routers = [(c, router) for c in components for router in c.routers]
    return sorted(routers, key=lambda pair: _proxying(pair[1]))


def _proxying(router: APIRouter) -> bool:
    for route in router.routes:
        path = str(getattr(route, "path", ""))
        if ":path}" in path and in_cluster(path)[1].startswith(("/api/", "/apis/")):
            return True
    return False


def _connected(state: dict[str, KubeClient]) -> KubeClient:
    client = state.get("host")
    if client is None:
        raise HTTPException(503, "Atoll is starting; try again in a moment")
    return client


def _guard_hooks(
    pipeline: Pipeline, switchboard: Switchboard, name: str, sinks: int, admissions: int
) -> None:
    """The audit sinks and admissions ``name`` just registered act only while it is on."""
    for i in range(sinks, len(pipeline.audit_sinks)):
        pipeline.audit_sinks[i] = switchboard.only_when_on(name, pipeline.audit_sinks[i])
    for i in range(admissions, len(pipeline.admission)):
        pipeline.admission[i] = switchboard.only_when_on(name, pipeline.admission[i])
