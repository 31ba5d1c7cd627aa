"""The roles every workspace and every project gets, and the bindings that grant them.

Per workspace (WorkspaceRoles labelled ``tenant.atoll.io/workspace``, owned by the
Workspace):

- ``<ws>-workspace-admin``: everything in the workspace and all its projects;
- ``<ws>-workspace-regular``: sees the workspace and its members, and creates projects
  (becoming their admin);
- ``<ws>-workspace-viewer``: reads everything in the workspace and its projects.

Per project (Roles in the namespace, labelled ``iam.atoll.io/role-template``):

- ``admin``: everything in the project, members and roles included;
- ``operator``: manages the project's workloads and their configuration; reads members,
  roles, quotas and limits;
- ``viewer``: reads everything in the project.

A member has one role per workspace or project: the binding ``<user>-<role>`` labelled
with the user, replaced when the role changes.
"""

from __future__ import annotations

from typing import Any

from atoll.kube.client import Object

from .crds import GROUP, VERSION

__all__ = [
    "CLUSTER_MEMBER_LABEL",
    "PROJECT_ROLES",
    "ROLE_TEMPLATE_LABEL",
    "USER_LABEL",
    "WORKSPACE_LABEL",
    "WORKSPACE_ROLE_SUFFIXES",
    "cluster_role_binding",
    "project_role",
    "project_role_binding",
    "workspace_role",
    "workspace_role_binding",
]

IAM = "iam.atoll.io"
RBAC = "rbac.authorization.k8s.io"
WORKSPACE_LABEL = "atoll.io/workspace"  # on namespaces
WORKSPACE_OF_ROLE = "tenant.atoll.io/workspace"  # on WorkspaceRoles and their bindings
ROLE_TEMPLATE_LABEL = "iam.atoll.io/role-template"
USER_LABEL = "iam.atoll.io/user"
BUILT_IN_LABEL = "iam.atoll.io/built-in"
CLUSTER_MEMBER_LABEL = "iam.atoll.io/cluster-member"  # on a cluster member's binding

_ALL = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
_READ = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}

WORKSPACE_ROLE_SUFFIXES = ("workspace-admin", "workspace-regular", "workspace-viewer")
_WORKSPACE_RULES: dict[str, list[dict[str, Any]]] = {
    "workspace-admin": [_ALL],
    "workspace-regular": [
        {"apiGroups": [GROUP], "resources": ["workspaces"], "verbs": ["get"]},
        {"apiGroups": [GROUP], "resources": ["clusters"], "verbs": ["list"]},  # to choose from
        {"apiGroups": [IAM], "resources": ["workspacemembers"], "verbs": ["get", "list"]},
        {"apiGroups": [GROUP], "resources": ["namespaces"], "verbs": ["create"]},
    ],
    "workspace-viewer": [_READ],
}

_WORKLOADS = [
    "pods", "pods/log", "pods/exec", "pods/attach", "pods/portforward", "pods/eviction",
    "services", "endpoints", "configmaps", "secrets", "persistentvolumeclaims",
    "serviceaccounts", "replicationcontrollers", "events",
]  # fmt: skip
_WORKLOAD_GROUPS = [
    "apps", "batch", "autoscaling", "networking.k8s.io", "policy", "discovery.k8s.io",
    "events.k8s.io",
]  # fmt: skip
PROJECT_ROLES: dict[str, list[dict[str, Any]]] = {
    "admin": [_ALL],
    "operator": [
        {"apiGroups": [""], "resources": _WORKLOADS, "verbs": ["*"]},
        {
            "apiGroups": [
                "apps",
                "batch",
                "autoscaling",
                "networking.k8s.io",
                "policy",
                "discovery.k8s.io",
                "events.k8s.io",
            ],
            "resources": ["*"],
            "verbs": ["*"],
        },
        {
            "apiGroups": ["", RBAC, IAM],
            "resources": [
                "namespaces",
                "resourcequotas",
                "limitranges",
                "roles",
                "rolebindings",
                "members",
            ],
            "verbs": ["get", "list", "watch"],
        },
        {"apiGroups": ["resources.atoll.io"], "resources": ["*"], "verbs": ["get", "list"]},
    ],
    "viewer": [_READ],
}


def _owner(workspace: Object) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Workspace",
        "name": workspace["metadata"]["name"],
        "uid": workspace["metadata"].get("uid", ""),
        "blockOwnerDeletion": True,
    }


def workspace_role(workspace: Object, suffix: str) -> Object:
    name = str(workspace["metadata"]["name"])
    return {
        "apiVersion": f"{IAM}/v1alpha1",
        "kind": "WorkspaceRole",
        "metadata": {
            "name": f"{name}-{suffix}",
            "labels": {WORKSPACE_OF_ROLE: name, BUILT_IN_LABEL: "true"},
            "ownerReferences": [_owner(workspace)],
        },
        "rules": _WORKSPACE_RULES[suffix],
    }


def workspace_role_binding(workspace: Object, user: str, role: str) -> Object:
    name = str(workspace["metadata"]["name"])
    return {
        "apiVersion": f"{IAM}/v1alpha1",
        "kind": "WorkspaceRoleBinding",
        "metadata": {
            "name": f"{user}-{role}",
            "labels": {WORKSPACE_OF_ROLE: name, USER_LABEL: user},
            "ownerReferences": [_owner(workspace)],
        },
        "roleRef": {"apiGroup": IAM, "kind": "WorkspaceRole", "name": role},
        "subjects": [{"apiGroup": RBAC, "kind": "User", "name": user}],
    }


def project_role(namespace: str, role: str) -> Object:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {
            "name": role,
            "namespace": namespace,
            "labels": {ROLE_TEMPLATE_LABEL: "true", BUILT_IN_LABEL: "true"},
        },
        "rules": PROJECT_ROLES[role],
    }


def project_role_binding(namespace: str, user: str, role: str) -> Object:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "RoleBinding",
        "metadata": {
            "name": f"{user}-{role}",
            "namespace": namespace,
            "labels": {USER_LABEL: user},
        },
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": role},
        "subjects": [{"apiGroup": RBAC, "kind": "User", "name": user}],
    }


def cluster_role_binding(user: str, role: str) -> Object:
    """A cluster member's role: a ClusterRoleBinding in that cluster."""
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {
            "name": f"{user}-{role}",
            "labels": {USER_LABEL: user, CLUSTER_MEMBER_LABEL: "true"},
        },
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": RBAC, "kind": "User", "name": user}],
    }
