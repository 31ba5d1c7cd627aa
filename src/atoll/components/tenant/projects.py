"""Workspaces and projects through Atoll's own API.

- ``GET /kapis/tenant.atoll.io/v1alpha1/workspaces``: the workspaces the caller may see
  (all of them for platform administrators; otherwise those it has a role in, or a project
  of). Workspaces themselves are created, changed and deleted through the Kubernetes proxy
  (``/apis/tenant.atoll.io/v1alpha1/workspaces``), by platform administrators.
- ``GET …/workspaces/{ws}/clusters``: the clusters the workspace may use.
- ``GET …/workspaces/{ws}/clusters/{cluster}/namespaces``: the workspace's projects the
  caller may see.
- ``POST …/workspaces/{ws}/clusters/{cluster}/namespaces`` (a Namespace): a project in the
  workspace, in one of the clusters the workspace may use; its creator becomes its admin.
  A body that is not a Namespace with a DNS-label name and string labels and annotations is
  a 422 problem (``ProjectBody``, which the OpenAPI document shows), before anything is made.
- ``DELETE …/workspaces/{ws}/clusters/{cluster}/namespaces/{ns}``: a project of the
  workspace, with everything in it.

Lists are ``{"items", "totalItems"}``, sorted by name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from atoll.errors import AlreadyExists, NotFound
from atoll.kube.client import KubeClient, Object
from atoll.server.access import Pipeline, RequestInfo, principal_of
from atoll.server.clusters import HOST, ClusterClients

from .controllers import CLUSTERS, NAMESPACES, ROLE_BINDINGS, ROLES, WORKSPACES
from .templates import PROJECT_ROLES, WORKSPACE_LABEL, project_role, project_role_binding

__all__ = ["HOST", "projects_router", "workspace_clusters"]

PREFIX = "/kapis/tenant.atoll.io/v1alpha1"
CREATOR_ANNOTATION = "atoll.io/creator"
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class ProjectMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(
        pattern=_DNS_LABEL,
        description="A DNS label: lower-case letters, digits and '-', at most 63 characters",
    )
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class ProjectBody(BaseModel):
    """A Namespace; of its metadata, the project keeps the name, labels and annotations."""

    model_config = ConfigDict(extra="allow")

    metadata: ProjectMetadata


def workspace_clusters(workspace: Object) -> list[str]:
    """The clusters a workspace's projects may live in (empty ``spec.clusters``: the host)."""
    return list((workspace.get("spec") or {}).get("clusters") or []) or [HOST]


def _page(items: list[Object]) -> JSONResponse:
    items.sort(key=lambda o: str(o["metadata"]["name"]))
    return JSONResponse({"items": items, "totalItems": len(items)})


def projects_router(
    clusters: Callable[[], ClusterClients], pipeline: Callable[[], Pipeline]
) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["tenant"])

    def client() -> KubeClient:
        """The host cluster's, where workspaces live."""
        return clusters().client(HOST)

    async def workspace_named(name: str) -> Object:
        try:
            return await client().get(WORKSPACES, name)
        except NotFound:
            raise NotFound(f'workspace "{name}" not found', name=name) from None

    async def check_cluster(workspace: Object, cluster: str) -> None:
        if cluster not in workspace_clusters(workspace):
            name = workspace["metadata"]["name"]
            raise NotFound(f'workspace "{name}" may not use cluster "{cluster}"', name=cluster)

    @router.get("/workspaces", summary="The workspaces you may see")
    async def list_workspaces(request: Request) -> JSONResponse:
        who = principal_of(request)
        info = RequestInfo(
            verb="get", path=request.url.path, resource_request=True, prefix="kapis",
            api_group="tenant.atoll.io", api_version="v1alpha1", resource="workspaces",
        )  # fmt: skip
        visible = pipeline().visible_workspaces(who, info)
        found = (await client().list(WORKSPACES)).get("items") or []
        return _page([w for w in found if visible is None or w["metadata"]["name"] in visible])

    @router.get(
        "/workspaces/{workspace}/clusters",
        summary="The clusters the workspace's projects may live in",
    )
    async def list_workspace_clusters(workspace: str) -> JSONResponse:
        names = set(workspace_clusters(await workspace_named(workspace)))
        found = (await client().list(CLUSTERS)).get("items") or []
        items = []
        for cluster in found:
            if cluster["metadata"]["name"] in names:
                meta = {k: v for k, v in cluster["metadata"].items() if k != "managedFields"}
                items.append({**cluster, "metadata": meta})
        return _page(items)

    @router.get(
        "/workspaces/{workspace}/clusters/{cluster}/namespaces",
        summary="The workspace's projects you may see",
    )
    async def list_projects(workspace: str, cluster: str, request: Request) -> JSONResponse:
        await check_cluster(await workspace_named(workspace), cluster)
        who = principal_of(request)
        info = RequestInfo(
            verb="get", path=request.url.path, resource_request=True, prefix="api",
            api_version="v1", resource="namespaces", cluster=cluster,
        )  # fmt: skip
        visible = pipeline().visible_namespaces(who, info)
        selector = f"{WORKSPACE_LABEL}={workspace}"
        listed = await clusters().client(cluster).list(NAMESPACES, label_selector=selector)
        found = listed.get("items") or []
        return _page([n for n in found if visible is None or n["metadata"]["name"] in visible])

    @router.post(
        "/workspaces/{workspace}/clusters/{cluster}/namespaces",
        summary="Create a project in the workspace",
        status_code=201,
    )
    async def create_project(
        workspace: str,
        cluster: str,
        request: Request,
        namespace: Annotated[ProjectBody, Body(description="A Namespace")],
    ) -> JSONResponse:
        found = await workspace_named(workspace)
        await check_cluster(found, cluster)
        meta, who = namespace.metadata, principal_of(request)
        name = meta.name
        labels = {**meta.labels, WORKSPACE_LABEL: workspace}
        annotations = {**meta.annotations, CREATOR_ANNOTATION: who.name}
        owner = {
            "apiVersion": "tenant.atoll.io/v1alpha1",
            "kind": "Workspace",
            "name": workspace,
            "uid": found["metadata"].get("uid", ""),
        }
        metadata: dict[str, Any] = {"name": name, "labels": labels, "annotations": annotations}
        if cluster == HOST:  # a member cluster has no Workspace to be owned by
            metadata["ownerReferences"] = [owner]
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}
        target = clusters().client(cluster)
        created = await target.create(NAMESPACES, body)
        # The project's roles at once (the host's controller keeps them there), then its
        # creator as its admin.
        for role in PROJECT_ROLES:
            with contextlib.suppress(AlreadyExists):
                await target.create(ROLES, project_role(name, role))
        with contextlib.suppress(AlreadyExists):
            await target.create(ROLE_BINDINGS, project_role_binding(name, who.name, "admin"))
        return JSONResponse(created, status_code=201)

    @router.delete(
        "/workspaces/{workspace}/clusters/{cluster}/namespaces/{namespace}",
        summary="Delete a project of the workspace, with everything in it",
    )
    async def delete_project(
        workspace: str,
        cluster: str,
        namespace: str,
        dry_run: Annotated[
            Literal["All"] | None,
            Query(alias="dryRun", description="All: check everything, delete nothing."),
        ] = None,
    ) -> JSONResponse:
        await check_cluster(await workspace_named(workspace), cluster)
        target = clusters().client(cluster)
        found = await target.get(NAMESPACES, namespace)
        if (found["metadata"].get("labels") or {}).get(WORKSPACE_LABEL) != workspace:
            raise NotFound(f'project "{namespace}" not found in workspace "{workspace}"')
        answer = await target.delete(NAMESPACES, namespace, dry_run=dry_run == "All")
        return JSONResponse(answer)

    return router
