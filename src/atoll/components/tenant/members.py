"""Members of a workspace and of a project, each with one role there.

- ``/kapis/iam.atoll.io/v1alpha1/workspaces/{ws}/workspacemembers``: ``GET`` lists
  ``{"username", "roleRef"}``; ``POST`` ``[{"username", "roleRef": "<ws>-workspace-admin"}]``
  gives each user that role (replacing the role it had); ``GET``/``DELETE …/{user}`` read or
  remove one member.
- ``/kapis/iam.atoll.io/v1alpha1/clusters/{cluster}/namespaces/{ns}/members``: the same for
  a project, with its roles (``admin``, ``operator``, ``viewer``, or a custom Role there).
- ``/kapis/iam.atoll.io/v1alpha1/clusters/{cluster}/clustermembers``: the same for a
  cluster, with its ClusterRoles (``cluster-admin``, ``cluster-viewer``, or a custom one).

A role is a binding ``<user>-<role>`` labelled with the user; a member's bindings in the
workspace, project or cluster are all replaced when its role changes. The three answer
alike: each is a ``_Scope``. The user and the role must
exist (404), and a workspace role must be the workspace's own (422). A list is all or
nothing: every entry is checked, and every binding it needs tried in a server-side dry run,
before anything is written (a user named twice gets the role named last).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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


# A POST's body: at least one member (at module level, where FastAPI reads annotations).
Members = Annotated[list[Member], Body(min_length=1)]


def _member(binding: Object) -> dict[str, str]:
    labels = (binding.get("metadata") or {}).get("labels") or {}
    return {"username": str(labels.get(USER_LABEL, "")), "roleRef": binding["roleRef"]["name"]}


def _last_per_user(members: list[Member]) -> list[Member]:
    """One entry per user, the last one given: its bindings are read once, before writing."""
    return list({m.username: m for m in members}.values())


def _listing(bindings: list[Object]) -> JSONResponse:
    members = sorted((_member(b) for b in bindings), key=lambda m: m["username"])
    return JSONResponse({"items": members, "totalItems": len(members)})


@dataclass(frozen=True)
class _Scope:
    """Where one set of members' bindings lives: a workspace, a project or a cluster."""

    what: str  # 'workspace "shop"', for messages
    client: KubeClient  # the cluster that holds the bindings
    bindings: ResourceType
    namespace: str | None
    selector: str  # the labels of this scope's member bindings, the user's aside
    check_role: Callable[[str], Awaitable[None]]  # NotFound or Invalid for a role not here
    binding: Callable[[str, str], Object]  # (user, role) → the binding that grants it


def members_router(clusters: Callable[[], ClusterClients]) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["members"])

    def host() -> KubeClient:
        """Where users, workspaces and their roles live."""
        return clusters().client(HOST)

    # -- the scopes ----------------------------------------------------------------------

    async def workspace_scope(workspace: str) -> _Scope:
        try:
            found = await host().get(WORKSPACES, workspace)
        except NotFound:
            raise NotFound(f'workspace "{workspace}" not found', name=workspace) from None

        async def check_role(name: str) -> None:
            try:
                role = await host().get(WORKSPACE_ROLES, name)
            except NotFound:
                raise NotFound(f'workspace role "{name}" not found') from None
            if (role["metadata"].get("labels") or {}).get(WORKSPACE_OF_ROLE) != workspace:
                raise Invalid(f'"{name}" is not a role of workspace "{workspace}"')

        return _Scope(
            what=f'workspace "{workspace}"',
            client=host(),
            bindings=WORKSPACE_ROLE_BINDINGS,
            namespace=None,
            selector=f"{WORKSPACE_OF_ROLE}={workspace}",
            check_role=check_role,
            binding=lambda user, role: workspace_role_binding(found, user, role),
        )

    async def project_scope(cluster: str, namespace: str) -> _Scope:
        target = clusters().client(cluster)
        try:
            found = await target.get(NAMESPACES, namespace)
        except NotFound:
            raise NotFound(f'project "{namespace}" not found', name=namespace) from None
        if not (found["metadata"].get("labels") or {}).get(WORKSPACE_LABEL):
            raise NotFound(f'"{namespace}" is not a project of any workspace', name=namespace)

        async def check_role(name: str) -> None:
            try:
                await target.get(ROLES, name, namespace=namespace)
            except NotFound:
                raise NotFound(f'role "{name}" not found in "{namespace}"') from None

        return _Scope(
            what=f'project "{namespace}"',
            client=target,
            bindings=ROLE_BINDINGS,
            namespace=namespace,
            selector="",
            check_role=check_role,
            binding=lambda user, role: project_role_binding(namespace, user, role),
        )

    def cluster_scope(cluster: str) -> _Scope:
        target = clusters().client(cluster)

        async def check_role(name: str) -> None:
            try:
                await target.get(CLUSTER_ROLES, name)
            except NotFound:
                raise NotFound(f'cluster role "{name}" not found in cluster "{cluster}"') from None

        return _Scope(
            what=f'cluster "{cluster}"',
            client=target,
            bindings=CLUSTER_ROLE_BINDINGS,
            namespace=None,
            selector=f"{CLUSTER_MEMBER_LABEL}=true",
            check_role=check_role,
            binding=cluster_role_binding,
        )

    # -- what every scope answers ----------------------------------------------------------

    async def bindings_of(scope: _Scope, user: str | None = None) -> list[Object]:
        labels = [scope.selector] if scope.selector else []
        labels.append(USER_LABEL + (f"={user}" if user else ""))
        found = await scope.client.list(
            scope.bindings, namespace=scope.namespace, label_selector=",".join(labels)
        )
        return list(found.get("items") or [])

    async def listed(scope: _Scope) -> JSONResponse:
        return _listing(await bindings_of(scope))

    async def one(scope: _Scope, user: str) -> JSONResponse:
        found = await bindings_of(scope, user)
        if not found:
            raise NotFound(f'"{user}" is not a member of {scope.what}', name=user)
        return JSONResponse(_member(found[0]))

    async def added(scope: _Scope, members: list[Member]) -> JSONResponse:
        changes = []
        for member in _last_per_user(members):  # all checked before any is written
            try:
                await host().get(USERS, member.username)
            except NotFound:
                raise NotFound(
                    f'user "{member.username}" not found', name=member.username
                ) from None
            await scope.check_role(member.roleRef)
            wanted = scope.binding(member.username, member.roleRef)
            # Refuse now what the cluster would refuse when written (a name too long).
            with contextlib.suppress(AlreadyExists):  # the member has this role already
                await scope.client.create(scope.bindings, wanted, dry_run=True)
            changes.append((await bindings_of(scope, member.username), wanted))
        for have, wanted in changes:
            # The new role first, then the old ones go: never a moment without a role.
            name = wanted["metadata"]["name"]
            if not any(b["metadata"]["name"] == name for b in have):
                with contextlib.suppress(AlreadyExists):
                    await scope.client.create(scope.bindings, wanted)
            for binding in have:
                if binding["metadata"]["name"] != name:
                    with contextlib.suppress(NotFound):
                        await scope.client.delete(
                            scope.bindings, binding["metadata"]["name"], namespace=scope.namespace
                        )
        return JSONResponse([m.model_dump() for m in members])

    async def removed(scope: _Scope, user: str) -> JSONResponse:
        found = await bindings_of(scope, user)
        if not found:
            raise NotFound(f'"{user}" is not a member of {scope.what}', name=user)
        for binding in found:
            with contextlib.suppress(NotFound):
                await scope.client.delete(
                    scope.bindings, binding["metadata"]["name"], namespace=scope.namespace
                )
        return JSONResponse({"username": user})

    # -- workspaces ----------------------------------------------------------------------

    workspace = "/workspaces/{workspace}/workspacemembers"

    @router.get(workspace, summary="The workspace's members")
    async def list_workspace_members(workspace: str) -> JSONResponse:
        return await listed(await workspace_scope(workspace))

    @router.get(workspace + "/{user}", summary="One member")
    async def get_workspace_member(workspace: str, user: str) -> JSONResponse:
        return await one(await workspace_scope(workspace), user)

    @router.post(workspace, summary="Invite users to the workspace, or change their roles")
    async def add_workspace_members(workspace: str, members: Members) -> JSONResponse:
        return await added(await workspace_scope(workspace), members)

    @router.delete(workspace + "/{user}", summary="Remove a member")
    async def remove_workspace_member(workspace: str, user: str) -> JSONResponse:
        return await removed(await workspace_scope(workspace), user)

    # -- projects ------------------------------------------------------------------------

    project = "/clusters/{cluster}/namespaces/{namespace}/members"

    @router.get(project, summary="The project's members")
    async def list_project_members(cluster: str, namespace: str) -> JSONResponse:
        return await listed(await project_scope(cluster, namespace))

    @router.get(project + "/{user}", summary="One member of the project")
    async def get_project_member(cluster: str, namespace: str, user: str) -> JSONResponse:
        return await one(await project_scope(cluster, namespace), user)

    @router.post(project, summary="Add users to the project, or change their roles")
    async def add_project_members(cluster: str, namespace: str, members: Members) -> JSONResponse:
        return await added(await project_scope(cluster, namespace), members)

    @router.delete(project + "/{user}", summary="Remove a member from the project")
    async def remove_project_member(cluster: str, namespace: str, user: str) -> JSONResponse:
        return await removed(await project_scope(cluster, namespace), user)

    # -- clusters ------------------------------------------------------------------------

    cluster_members = "/clusters/{cluster}/clustermembers"

    @router.get(cluster_members, summary="The cluster's members")
    async def list_cluster_members(cluster: str) -> JSONResponse:
        return await listed(cluster_scope(cluster))

    @router.get(cluster_members + "/{user}", summary="One member of the cluster")
    async def get_cluster_member(cluster: str, user: str) -> JSONResponse:
        return await one(cluster_scope(cluster), user)

    @router.post(cluster_members, summary="Give users a role in the cluster, or change it")
    async def add_cluster_members(cluster: str, members: Members) -> JSONResponse:
        return await added(cluster_scope(cluster), members)

    @router.delete(cluster_members + "/{user}", summary="Take a user's role in the cluster away")
    async def remove_cluster_member(cluster: str, user: str) -> JSONResponse:
        return await removed(cluster_scope(cluster), user)

    return router
