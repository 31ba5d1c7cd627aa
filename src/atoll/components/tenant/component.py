"""The tenant component's declaration (entry point ``tenant`` in ``atoll.components``):
workspaces, projects and their members; the roles each workspace and project gets; the
workspace quotas the cluster proxy enforces."""

from __future__ import annotations

from atoll.kube.client import KubeClient
from atoll.server.access import Pipeline, RequestInfo
from atoll.server.components import Component, ComponentContext, Later

from .controllers import ProjectController, WorkspaceController
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
    client, pipeline = Later[KubeClient](), Later[Pipeline]()

    async def start(context: ComponentContext) -> None:
        client.set(context.client)
        pipeline.set(context.pipeline)
        # Lists of workspaces and projects answer what the caller may see, never 403.
        context.pipeline.filtering.append(_filtered)
        context.pipeline.admission.append(WorkspaceQuota(client))

    return Component(
        name="tenant",
        description="Workspaces, their projects and members, and the roles they come with.",
        routers=(
            projects_router(client, pipeline),
            members_router(client),
        ),
        crds=(WORKSPACE_CRD,),
        start=start,
        controllers=(WorkspaceController, ProjectController),
    )
