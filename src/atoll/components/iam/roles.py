"""The built-in platform and cluster roles, and a user's platform role.

Platform roles are GlobalRoles: ``platform-admin`` (everything, everywhere) and
``platform-regular`` (a user who sees the platform and the workspaces it is invited to).
Cluster roles are ClusterRoles labelled as Atoll's: ``cluster-admin`` (Kubernetes' own,
created if the cluster lacks it) and ``cluster-viewer`` (reads everything in a cluster).
Workspace and project roles are made per workspace and per project by the tenant component.

A user's platform role is the label ``iam.atoll.io/globalrole`` on its User (KubeSphere
keeps it the same way); the users controller keeps one GlobalRoleBinding ``<user>-<role>``
for it, labelled with the user. Built-in roles are made at start and put back if edited.
"""

from __future__ import annotations

import contextlib
from typing import Any

from atoll.errors import AlreadyExists, Conflict, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType

from .authorizing import CLUSTER_ROLES, GLOBAL_ROLES
from .crds import GROUP, VERSION
from .labels import USER_LABEL, label_value

__all__ = [
    "BUILT_IN_LABEL",
    "DEFAULT_GLOBAL_ROLE",
    "GLOBAL_ROLE_LABEL",
    "USER_LABEL",
    "ensure_builtin_roles",
    "ensure_cluster_roles",
    "global_role_binding",
]

BUILT_IN_LABEL = "iam.atoll.io/built-in"
ROLE_SCOPE_LABEL = "iam.atoll.io/role-scope"
GLOBAL_ROLE_LABEL = "iam.atoll.io/globalrole"
DEFAULT_GLOBAL_ROLE = "platform-regular"

_EVERYTHING = [
    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
    {"nonResourceURLs": ["*"], "verbs": ["*"]},
]
_READ = ["get", "list", "watch"]

GLOBAL_ROLE_RULES: dict[str, list[dict[str, Any]]] = {
    "platform-admin": _EVERYTHING,
    "platform-regular": [
        # Lists of workspaces and users are filtered to what the caller may see.
        {"apiGroups": ["tenant.atoll.io"], "resources": ["workspaces"], "verbs": ["list"]},
        {"apiGroups": ["config.atoll.io"], "resources": ["*"], "verbs": ["get", "list"]},
        {"apiGroups": ["cluster.atoll.io"], "resources": ["clusters"], "verbs": ["list"]},
    ],
}
CLUSTER_ROLE_RULES: dict[str, list[dict[str, Any]]] = {
    "cluster-admin": _EVERYTHING,
    "cluster-viewer": [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": _READ},
        {"nonResourceURLs": ["*"], "verbs": ["get"]},
    ],
}


def _labels(scope: str) -> dict[str, str]:
    return {BUILT_IN_LABEL: "true", ROLE_SCOPE_LABEL: scope}


async def _ensure(client: KubeClient, rt: ResourceType, wanted: Object, *, own: bool) -> None:
    """Create ``wanted``; put its rules back if an existing one of ours differs."""
    name = wanted["metadata"]["name"]
    try:
        await client.create(rt, wanted)
        return
    except AlreadyExists:
        pass
    with contextlib.suppress(NotFound, Conflict):  # another replica is at it: theirs stands
        found = await client.get(rt, name)
        labels = (found.get("metadata") or {}).get("labels") or {}
        if not own and labels.get(BUILT_IN_LABEL) != "true":
            return  # the cluster's own (Kubernetes' cluster-admin): never ours to change
        if found.get("rules") != wanted["rules"]:
            await client.replace(rt, {**found, "rules": wanted["rules"]})


async def ensure_builtin_roles(client: KubeClient) -> None:
    for name, rules in GLOBAL_ROLE_RULES.items():
        role = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "GlobalRole",
            "metadata": {"name": name, "labels": _labels("platform")},
            "rules": rules,
        }
        await _ensure(client, GLOBAL_ROLES, role, own=True)
    await ensure_cluster_roles(client)


async def ensure_cluster_roles(client: KubeClient) -> None:
    """The built-in cluster roles in a cluster (the host's at start, a member's as it comes)."""
    for name, rules in CLUSTER_ROLE_RULES.items():
        role = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name, "labels": _labels("cluster")},
            "rules": rules,
        }
        await _ensure(client, CLUSTER_ROLES, role, own=False)


def global_role_binding(user: Object, role: str) -> Object:
    """The binding of ``user`` to the GlobalRole ``role``, owned by the User (so it goes
    when the user goes)."""
    meta = user["metadata"]
    name = str(meta["name"])
    owner = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "User",
        "name": name,
        "uid": meta.get("uid", ""),
        "blockOwnerDeletion": True,
    }
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "GlobalRoleBinding",
        "metadata": {
            "name": f"{name}-{role}",
            "labels": {USER_LABEL: label_value(name)},
            "ownerReferences": [owner],
        },
        "roleRef": {"apiGroup": GROUP, "kind": "GlobalRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}],
    }
