"""Members of a workspace and of a project, each with one role there.

- ``/kapis/iam.atoll.io/v1alpha1/workspaces/{ws}/workspacemembers``: ``GET`` lists
  ``{"username", "roleRef"}``; ``POST`` ``[{"username", "roleRef": "<ws>-workspace-admin"}]``
  gives each user that role (replacing the role it had); ``GET``/``DELETE …/{user}`` read or
  remove one member.
- ``/kapis/iam.atoll.io/v1alpha1/clusters/{cluster}/namespaces/{ns}/members``: the same for
  a project, with its roles (``admin``, ``operator``, ``viewer``, or a custom Role there).

A role is a binding ``<user>-<role>`` labelled with the user; a member's bindings in the
workspace or project are all replaced when its role changes. The user and the role must
exist (404), and a workspace role must be the workspace's own (422). A list is all or
nothing: every entry is checked, and every binding it needs tried in a server-side dry run,
before anything is written (a user named twice gets the role named last).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

from atoll.errors import AlreadyExists, Invalid, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.server.clusters import HOST, ClusterClients

from .controllers import (
    CLUSTER_ROLE_BINDINGS,
    CLUSTER_ROLES,
    NAMESPACES,
    ROLE_BINDINGS,
    ROLES,
    USERS,
    WORKSPACE_ROLE_BINDINGS,
    WORKSPACE_ROLES,
    WORKSPACES,
)
from .templates import (
    CLUSTER_MEMBER_LABEL,
    USER_LABEL,
    WORKSPACE_LABEL,
    WORKSPACE_OF_ROLE,
    cluster_role_binding,
    project_role_binding,
    workspace_role_binding,
)

__all__ = ["Member", "members_router"]

PREFIX = "/kapis/iam.atoll.io/v1alpha1"


class Member(BaseModel):
    username: str = Field(..., min_length=1, max_length=253)
    roleRef: str = Field(..., min_length=1, max_length=253)


def _member(binding: Object) -> dict[str, str]:
    labels = (binding.get("metadata") or {}).get("labels") or {}
    return {"username": str(labels.get(USER_LABEL, "")), "roleRef": binding["roleRef"]["name"]}


def _last_per_user(members: list[Member]) -> list[Member]:
    """One entry per user, the last one given: its bindings are read once, before writing."""
    return list({m.username: m for m in members}.values())


def _listing(bindings: list[Object]) -> JSONResponse:
    members = sorted((_member(b) for b in bindings), key=lambda m: m["username"])
    return JSONResponse({"items": members, "totalItems": len(members)})


def members_router(clusters: Callable[[], ClusterClients]) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["members"])

    def client() -> KubeClient:
        """The host cluster's: where users, workspaces and their roles live."""
        return clusters().client(HOST)

    async def user_exists(name: str) -> None:
        try:
            await client().get(USERS, name)
        except NotFound:
            raise NotFound(f'user "{name}" not found', name=name) from None

    async def try_binding(
        rt: ResourceType, wanted: Object, target: KubeClient | None = None
    ) -> None:
        """Refuse now what the cluster would refuse when written (a name or label too long)."""
        with contextlib.suppress(AlreadyExists):  # the member has this role already
            await (target or client()).create(rt, wanted, dry_run=True)

    async def replace_bindings(
        rt: ResourceType,
        have: list[Object],
        wanted: Object,
        namespace: str | None,
        target: KubeClient | None = None,
    ) -> None:
        # The new role first, then the old ones go: never a moment without a role.
        where = target or client()
        if not any(b["metadata"]["name"] == wanted["metadata"]["name"] for b in have):
            with contextlib.suppress(AlreadyExists):
                await where.create(rt, wanted)
        for binding in have:
            if binding["metadata"]["name"] != wanted["metadata"]["name"]:
                with contextlib.suppress(NotFound):
                    await where.delete(rt, binding["metadata"]["name"], namespace=namespace)

    # -- workspaces ----------------------------------------------------------------------

    async def workspace_named(name: str) -> Object:
        try:
            return await client().get(WORKSPACES, name)
        except NotFound:
            raise NotFound(f'workspace "{name}" not found', name=name) from None

    async def workspace_bindings(workspace: str, user: str | None = None) -> list[Object]:
        selector = f"{WORKSPACE_OF_ROLE}={workspace},{USER_LABEL}" + (f"={user}" if user else "")
        found = await client().list(WORKSPACE_ROLE_BINDINGS, label_selector=selector)
        return list(found.get("items") or [])

    @router.get("/workspaces/{workspace}/workspacemembers", summary="The workspace's members")
    async def list_workspace_members(workspace: str) -> JSONResponse:
        await workspace_named(workspace)
        return _listing(await workspace_bindings(workspace))

    @router.get("/workspaces/{workspace}/workspacemembers/{user}", summary="One member")
    async def get_workspace_member(workspace: str, user: str) -> JSONResponse:
        await workspace_named(workspace)
        found = await workspace_bindings(workspace, user)
        if not found:
            raise NotFound(f'"{user}" is not a member of workspace "{workspace}"', name=user)
        return JSONResponse(_member(found[0]))

    @router.post(
        "/workspaces/{workspace}/workspacemembers",
        summary="Invite users to the workspace, or change their roles",
        status_code=200,
    )
    async def add_workspace_members(
        workspace: str, members: Annotated[list[Member], Body(min_length=1)]
    ) -> JSONResponse:
        found = await workspace_named(workspace)
        changes = []
        for member in _last_per_user(members):  # all checked before any is written
            await user_exists(member.username)
            try:
                role = await client().get(WORKSPACE_ROLES, member.roleRef)
            except NotFound:
                raise NotFound(f'workspace role "{member.roleRef}" not found') from None
            if (role["metadata"].get("labels") or {}).get(WORKSPACE_OF_ROLE) != workspace:
                raise Invalid(f'"{member.roleRef}" is not a role of workspace "{workspace}"')
            wanted = workspace_role_binding(found, member.username, member.roleRef)
            await try_binding(WORKSPACE_ROLE_BINDINGS, wanted)
            changes.append((await workspace_bindings(workspace, member.username), wanted))
        for have, wanted in changes:
            await replace_bindings(WORKSPACE_ROLE_BINDINGS, have, wanted, None)
        return JSONResponse([m.model_dump() for m in members])

    @router.delete("/workspaces/{workspace}/workspacemembers/{user}", summary="Remove a member")
    async def remove_workspace_member(workspace: str, user: str) -> JSONResponse:
        await workspace_named(workspace)
        found = await workspace_bindings(workspace, user)
        if not found:
            raise NotFound(f'"{user}" is not a member of workspace "{workspace}"', name=user)
        for binding in found:
            with contextlib.suppress(NotFound):
                await client().delete(WORKSPACE_ROLE_BINDINGS, binding["metadata"]["name"])
        return JSONResponse({"username": user})

    # -- projects ------------------------------------------------------------------------

    async def project_named(cluster: str, namespace: str) -> Object:
        try:
            found = await clusters().client(cluster).get(NAMESPACES, namespace)
        except NotFound:
            raise NotFound(f'project "{namespace}" not found', name=namespace) from None
        if not (found["metadata"].get("labels") or {}).get(WORKSPACE_LABEL):
            raise NotFound(f'"{namespace}" is not a project of any workspace', name=namespace)
        return found

    async def project_bindings(
        cluster: str, namespace: str, user: str | None = None
    ) -> list[Object]:
        selector = USER_LABEL + (f"={user}" if user else "")
        found = (
            await clusters()
            .client(cluster)
            .list(ROLE_BINDINGS, namespace=namespace, label_selector=selector)
        )
        return list(found.get("items") or [])

    base = "/clusters/{cluster}/namespaces/{namespace}/members"

    @router.get(base, summary="The project's members")
    async def list_project_members(cluster: str, namespace: str) -> JSONResponse:
        await project_named(cluster, namespace)
        return _listing(await project_bindings(cluster, namespace))

    @router.get(base + "/{user}", summary="One member of the project")
    async def get_project_member(cluster: str, namespace: str, user: str) -> JSONResponse:
        await project_named(cluster, namespace)
        found = await project_bindings(cluster, namespace, user)
        if not found:
            raise NotFound(f'"{user}" is not a member of project "{namespace}"', name=user)
        return JSONResponse(_member(found[0]))

    @router.post(base, summary="Add users to the project, or change their roles")
    async def add_project_members(
        cluster: str, namespace: str, members: Annotated[list[Member], Body(min_length=1)]
    ) -> JSONResponse:
        await project_named(cluster, namespace)
        target = clusters().client(cluster)
        changes = []
        for member in _last_per_user(members):  # all checked before any is written
            await user_exists(member.username)
            try:
                await target.get(ROLES, member.roleRef, namespace=namespace)
            except NotFound:
                raise NotFound(f'role "{member.roleRef}" not found in "{namespace}"') from None
            wanted = project_role_binding(namespace, member.username, member.roleRef)
            await try_binding(ROLE_BINDINGS, wanted, target)
            changes.append((await project_bindings(cluster, namespace, member.username), wanted))
        for have, wanted in changes:
            await replace_bindings(ROLE_BINDINGS, have, wanted, namespace, target)
        return JSONResponse([m.model_dump() for m in members])

    @router.delete(base + "/{user}", summary="Remove a member from the project")
    async def remove_project_member(cluster: str, namespace: str, user: str) -> JSONResponse:
        await project_named(cluster, namespace)
        found = await project_bindings(cluster, namespace, user)
        if not found:
            raise NotFound(f'"{user}" is not a member of project "{namespace}"', name=user)
        for binding in found:
            with contextlib.suppress(NotFound):
                await (
                    clusters()
                    .client(cluster)
                    .delete(ROLE_BINDINGS, binding["metadata"]["name"], namespace=namespace)
                )
        return JSONResponse({"username": user})

    # -- clusters ------------------------------------------------------------------------

    async def cluster_bindings(cluster: str, user: str | None = None) -> list[Object]:
        selector = f"{CLUSTER_MEMBER_LABEL}=true,{USER_LABEL}" + (f"={user}" if user else "")
        found = (
            await clusters().client(cluster).list(CLUSTER_ROLE_BINDINGS, label_selector=selector)
        )
        return list(found.get("items") or [])

    cluster_base = "/clusters/{cluster}/clustermembers"

    @router.get(cluster_base, summary="The cluster's members")
    async def list_cluster_members(cluster: str) -> JSONResponse:
        return _listing(await cluster_bindings(cluster))

    @router.get(cluster_base + "/{user}", summary="One member of the cluster")
    async def get_cluster_member(cluster: str, user: str) -> JSONResponse:
        found = await cluster_bindings(cluster, user)
        if not found:
            raise NotFound(f'"{user}" is not a member of cluster "{cluster}"', name=user)
        return JSONResponse(_member(found[0]))

    @router.post(cluster_base, summary="Give users a role in the cluster, or change it")
    async def add_cluster_members(
        cluster: str, members: Annotated[list[Member], Body(min_length=1)]
    ) -> JSONResponse:
        target = clusters().client(cluster)
        changes = []
        for member in _last_per_user(members):  # all checked before any is written
            await user_exists(member.username)
            try:
                await target.get(CLUSTER_ROLES, member.roleRef)
            except NotFound:
                raise NotFound(
                    f'cluster role "{member.roleRef}" not found in cluster "{cluster}"'
                ) from None
            wanted = cluster_role_binding(member.username, member.roleRef)
            await try_binding(CLUSTER_ROLE_BINDINGS, wanted, target)
            changes.append((await cluster_bindings(cluster, member.username), wanted))
        for have, wanted in changes:
            await replace_bindings(CLUSTER_ROLE_BINDINGS, have, wanted, None, target)
        return JSONResponse([m.model_dump() for m in members])

    @router.delete(cluster_base + "/{user}", summary="Take a user's role in the cluster away")
    async def remove_cluster_member(cluster: str, user: str) -> JSONResponse:
        found = await cluster_bindings(cluster, user)
        if not found:
            raise NotFound(f'"{user}" is not a member of cluster "{cluster}"', name=user)
        for binding in found:
            with contextlib.suppress(NotFound):
                await (
                    clusters()
                    .client(cluster)
                    .delete(CLUSTER_ROLE_BINDINGS, binding["metadata"]["name"])
                )
        return JSONResponse({"username": user})

    return router
