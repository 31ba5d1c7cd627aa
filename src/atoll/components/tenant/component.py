"""The tenant component's declaration (entry point ``tenant`` in ``atoll.components``):
workspaces, projects and their members; the roles each workspace and project gets; the
workspace quotas the cluster proxy enforces."""

from __future__ import annotations

from atoll.kube.informers import InformerFactory
from atoll.server.access import Pipeline, RequestInfo
from atoll.server.clusters import ClusterClients
from atoll.server.components import Component, ComponentContext, Later

from .controllers import WORKSPACES, ProjectController, WorkspaceController
from .crds import WORKSPACE_CRD
from .members import members_router
from .projects import projects_router
from .quotas import WorkspaceQuota

__all__ = ["component"]


def _filtered(info: RequestInfo) -> bool:
    """The lists of workspaces and of a workspace's projects, which answer what the caller
    may see instead of being refused whole."""
    return (
        info.prefix == "kapis"
        and info.api_group == "tenant.atoll.io"
        and info.verb == "list"
        and info.resource in ("workspaces", "namespaces")
    )


def component() -> Component:
    pipeline = Later[Pipeline]()
    clusters = Later[ClusterClients]()
    caches = Later[InformerFactory]()  # per replica: the workspaces quotas are read from

    async def start(context: ComponentContext) -> None:
        assert context.clusters is not None
        clusters.set(context.clusters)
        pipeline.set(context.pipeline)
        # Lists of workspaces and projects answer what the caller may see, never 403.
        context.pipeline.filtering.append(_filtered)
        factory = InformerFactory(context.client)
        caches.set(factory)
        context.pipeline.admission.append(WorkspaceQuota(clusters, factory.informer(WORKSPACES)))

    async def run(context: ComponentContext) -> None:
        await caches().run()

    return Component(
        name="tenant",
        description="Workspaces, their projects and members, and the roles they come with.",
        routers=(
            projects_router(clusters, pipeline),
            members_router(clusters),
        ),
        crds=(WORKSPACE_CRD,),
        start=start,
        run=run,
        ready=lambda: caches.value is not None and caches.value.synced,
        controllers=(lambda: WorkspaceController(clusters), lambda: ProjectController(clusters)),
    )
