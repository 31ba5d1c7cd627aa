"""The tenant controllers: every workspace has its roles and its manager, every project its
roles.

- ``tenant-workspaces``: for each Workspace, the three WorkspaceRoles of ``templates.py``
  (put back if deleted or edited) and, when ``spec.manager`` is set, that user bound as the
  workspace's admin unless it already has a role there. All are owned by the Workspace,
  so they go with it.
- ``tenant-projects``: for each namespace labelled ``atoll.io/workspace``, the project Roles
  ``admin``, ``operator`` and ``viewer`` (put back if deleted or edited): the host's as
  they change, the member clusters' in a round every minute.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from atoll.controllers.results import Result
from atoll.controllers.runtime import ControllerContext
from atoll.errors import AlreadyExists, ApiError, Conflict, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.informers import Informer, split_key
from atoll.server.clusters import HOST, ClusterClients

from .crds import GROUP, VERSION
from .templates import (
    PROJECT_ROLES,
    ROLE_TEMPLATE_LABEL,
    USER_LABEL,
    WORKSPACE_LABEL,
    WORKSPACE_OF_ROLE,
    WORKSPACE_ROLE_SUFFIXES,
    project_role,
    workspace_role,
    workspace_role_binding,
)

__all__ = [
    "CLUSTERS",
    "CLUSTER_ROLES",
    "CLUSTER_ROLE_BINDINGS",
    "NAMESPACES",
    "ROLES",
    "ROLE_BINDINGS",
    "USERS",
    "WORKSPACES",
    "WORKSPACE_ROLES",
    "WORKSPACE_ROLE_BINDINGS",
    "ProjectController",
    "WorkspaceController",
]

logger = logging.getLogger(__name__)

WORKSPACES = ResourceType(GROUP, VERSION, "workspaces", "Workspace", False)
WORKSPACE_ROLES = ResourceType("iam.atoll.io", "v1alpha1", "workspaceroles", "WorkspaceRole", False)
WORKSPACE_ROLE_BINDINGS = ResourceType(
    "iam.atoll.io", "v1alpha1", "workspacerolebindings", "WorkspaceRoleBinding", False
)
NAMESPACES = ResourceType("", "v1", "namespaces", "Namespace", False)
ROLES = ResourceType("rbac.authorization.k8s.io", "v1", "roles", "Role", True)
ROLE_BINDINGS = ResourceType("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True)
USERS = ResourceType("iam.atoll.io", "v1alpha1", "users", "User", False)
CLUSTERS = ResourceType("cluster.atoll.io", "v1alpha1", "clusters", "Cluster", False)
CLUSTER_ROLES = ResourceType(
    "rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False
)
CLUSTER_ROLE_BINDINGS = ResourceType(
    "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False
)


def _label(obj: Object, name: str) -> str:
    return str(((obj.get("metadata") or {}).get("labels") or {}).get(name, ""))


class WorkspaceController:
    name = "tenant-workspaces"

    def __init__(self, clusters: Callable[[], ClusterClients] | None = None) -> None:
        self._clusters = clusters

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        self._workspaces: Informer = ctx.informers.informer(WORKSPACES)
        self._workspaces.add_handler(
            on_add=ctx.enqueue,
            on_update=lambda _old, new: ctx.enqueue(new),
            on_delete=ctx.enqueue,
        )
        self._roles: Informer = ctx.informers.informer(WORKSPACE_ROLES)
        self._bindings: Informer = ctx.informers.informer(WORKSPACE_ROLE_BINDINGS)
        for informer in (self._roles, self._bindings):
            informer.add_handler(
                on_update=lambda _old, new: self._workspace_of(new),
                on_delete=self._workspace_of,
            )

    def _workspace_of(self, obj: Object) -> None:
        workspace = _label(obj, WORKSPACE_OF_ROLE)
        if workspace:
            self._ctx.queue.add(workspace)

    async def reconcile(self, key: str) -> Result:
        workspace = self._workspaces.get(key)
        if workspace is None:
            return await self._delete_member_projects(key)
        if (workspace.get("metadata") or {}).get("deletionTimestamp"):
            return Result()
        try:
            for suffix in WORKSPACE_ROLE_SUFFIXES:
                wanted = workspace_role(workspace, suffix)
                found = self._roles.get(wanted["metadata"]["name"])
                await _put_back(self._ctx.client, WORKSPACE_ROLES, wanted, found)
            manager = str((workspace.get("spec") or {}).get("manager") or "")
            if manager and not any(
                _label(b, WORKSPACE_OF_ROLE) == key
                for b in self._bindings.list()
                if _label(b, USER_LABEL) == manager
            ):
                binding = workspace_role_binding(workspace, manager, f"{key}-workspace-admin")
                with contextlib.suppress(AlreadyExists):
                    await self._ctx.client.create(WORKSPACE_ROLE_BINDINGS, binding)
        except Conflict:
            return Result(requeue=True)
        except NotFound:
            return Result()
        return Result()

    async def _delete_member_projects(self, workspace: str) -> Result:
        """A deleted workspace takes its projects with it: the host's go by their owner
        reference, the member clusters' (which cannot name a Workspace as owner) here."""
        if self._clusters is None:
            return Result()
        clusters = self._clusters()
        unreachable = False
        for name in clusters.names():
            client = clusters.get(name)
            if name == HOST or client is None:
                continue
            try:
                found = await client.list(
                    NAMESPACES, label_selector=f"{WORKSPACE_LABEL}={workspace}"
                )
                for namespace in found.get("items") or ():
                    with contextlib.suppress(NotFound):
                        await client.delete(NAMESPACES, namespace["metadata"]["name"])
            except (ApiError, OSError):
                unreachable = True  # it is away: try again later
        return Result(requeue_after=30.0) if unreachable else Result()


MEMBERS_KEY = "\x00member-clusters"  # not a namespace name: the member clusters' round
MEMBERS_PERIOD = 60.0


class ProjectController:
    """Every project's roles: the host's as their objects change, the member clusters'
    (which this controller does not watch) in a round every minute."""

    name = "tenant-projects"

    def __init__(self, clusters: Callable[[], ClusterClients] | None = None) -> None:
        self._clusters = clusters

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        if self._clusters is not None:
            ctx.queue.add(MEMBERS_KEY)
        self._namespaces: Informer = ctx.informers.informer(
            NAMESPACES, label_selector=WORKSPACE_LABEL
        )
        self._namespaces.add_handler(
            on_add=ctx.enqueue, on_update=lambda _old, new: ctx.enqueue(new)
        )
        self._roles: Informer = ctx.informers.informer(
            ROLES, label_selector=f"{ROLE_TEMPLATE_LABEL}=true"
        )
        self._roles.add_handler(
            on_update=lambda _old, new: self._namespace_of(new), on_delete=self._namespace_of
        )

    def _namespace_of(self, role: Object) -> None:
        namespace = (role.get("metadata") or {}).get("namespace")
        if namespace:
            self._ctx.queue.add(str(namespace))

    async def reconcile(self, key: str) -> Result:
        if key == MEMBERS_KEY:
            await self.member_round()
            return Result(requeue_after=MEMBERS_PERIOD)
        namespace = self._namespaces.get(key)
        if namespace is None or (namespace.get("metadata") or {}).get("deletionTimestamp"):
            return Result()
        _, name = split_key(key)
        try:
            for role in PROJECT_ROLES:
                found = self._roles.get(f"{name}/{role}")
                await _put_back(self._ctx.client, ROLES, project_role(name, role), found)
        except Conflict:
            return Result(requeue=True)
        except NotFound:
            return Result()  # the namespace is going
        return Result()

    async def member_round(self) -> None:
        """Put back the roles of every project in every member cluster that answers."""
        assert self._clusters is not None
        clusters = self._clusters()
        for cluster in clusters.names():
            client = clusters.get(cluster)
            if cluster == HOST or client is None:
                continue
            try:
                projects = await client.list(NAMESPACES, label_selector=WORKSPACE_LABEL)
                for project in projects.get("items") or ():
                    if (project.get("metadata") or {}).get("deletionTimestamp"):
                        continue
                    await _ensure_project_roles(client, str(project["metadata"]["name"]))
            except (ApiError, OSError) as error:  # away or refusing: next round
                logger.info("project roles of cluster %s wait: %s", cluster, error)


async def _ensure_project_roles(client: KubeClient, namespace: str) -> None:
    found = await client.list(
        ROLES, namespace=namespace, label_selector=f"{ROLE_TEMPLATE_LABEL}=true"
    )
    have = {r["metadata"]["name"]: r for r in found.get("items") or ()}
    for role in PROJECT_ROLES:
        with contextlib.suppress(Conflict, NotFound):  # changing meanwhile: next round
            await _put_back(client, ROLES, project_role(namespace, role), have.get(role))


async def _put_back(
    client: KubeClient, rt: ResourceType, wanted: Object, found: Object | None
) -> None:
    """Make the role ``wanted``, or put its rules back on ``found`` if they were edited."""
    if found is None:
        with contextlib.suppress(AlreadyExists):
            await client.create(rt, wanted)
    elif found.get("rules") != wanted["rules"]:
        await client.replace(rt, {**found, "rules": wanted["rules"]})
