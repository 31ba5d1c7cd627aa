"""The iam component's CustomResourceDefinitions (group ``iam.atoll.io``, ``v1alpha1``).

Users, GlobalRoles and GlobalRoleBindings are cluster-scoped, as are WorkspaceRoles and
their bindings (named after their workspace, labelled with it), Groups and GroupBindings
(which users are in a group; roles are bound to a group as an RBAC ``Group`` subject) and
LoginRecords (labelled with their user), as in KubeSphere. Rules keep Kubernetes' PolicyRule shape.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CRDS", "GROUP", "VERSION"]

GROUP = "iam.atoll.io"
VERSION = "v1alpha1"

_RULES = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            key: {"type": "array", "items": {"type": "string"}}
            for key in ("apiGroups", "resources", "resourceNames", "verbs", "nonResourceURLs")
        },
    },
}
_ROLE_REF = {
    "type": "object",
    "required": ["apiGroup", "kind", "name"],
    "properties": {k: {"type": "string"} for k in ("apiGroup", "kind", "name")},
}
_SUBJECTS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["kind", "name"],
        "properties": {k: {"type": "string"} for k in ("apiGroup", "kind", "name", "namespace")},
    },
}


def _crd(
    kind: str, plural: str, properties: dict[str, Any], *, status: bool = False, short: str = ""
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    version: dict[str, Any] = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": schema},
    }
    if status:
        version["subresources"] = {"status": {}}
    names: dict[str, Any] = {"plural": plural, "singular": kind.lower(), "kind": kind}
    if short:
        names["shortNames"] = [short]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}", "labels": {"atoll.io/component": "iam"}},
        "spec": {"group": GROUP, "scope": "Cluster", "names": names, "versions": [version]},
    }


CRDS = [
    _crd(
        "User",
        "users",
        {
            "spec": {
                "type": "object",
                "properties": {
                    "email": {"type": "string"},
                    "displayName": {"type": "string"},
                    "description": {"type": "string"},
                    "lang": {"type": "string"},
                    "password": {"type": "string"},
                },
            },
            "status": {
                "type": "object",
                "properties": {
                    "state": {"type": "string", "enum": ["Active", "Disabled"]},
                    "reason": {"type": "string"},
                    "lastTransitionTime": {"type": "string", "format": "date-time"},
                    "lastLoginTime": {"type": "string", "format": "date-time"},
                },
            },
        },
        status=True,
    ),
    _crd("GlobalRole", "globalroles", {"rules": _RULES}),
    _crd("GlobalRoleBinding", "globalrolebindings", {"roleRef": _ROLE_REF, "subjects": _SUBJECTS}),
    _crd("WorkspaceRole", "workspaceroles", {"rules": _RULES}),
    _crd(
        "WorkspaceRoleBinding",
        "workspacerolebindings",
        {"roleRef": _ROLE_REF, "subjects": _SUBJECTS},
    ),
    _crd(
        "Group",
        "groups",
        {
            "spec": {
                "type": "object",
                "properties": {
                    "displayName": {"type": "string"},
                    "description": {"type": "string"},
                    # "<provider>:<group>": members of these provider groups join this one.
                    "providerGroups": {"type": "array", "items": {"type": "string"}},
                },
            }
        },
    ),
    _crd(
        "GroupBinding",
        "groupbindings",
        {
            "groupRef": {
                "type": "object",
                "required": ["name"],
                "properties": {k: {"type": "string"} for k in ("apiGroup", "kind", "name")},
            },
            "users": {"type": "array", "items": {"type": "string"}},
        },
    ),
    _crd(
        "LoginRecord",
        "loginrecords",
        {
            "spec": {
                "type": "object",
                "properties": {
                    k: {"type": "string"}
                    for k in ("type", "provider", "sourceIP", "userAgent", "reason")
                }
                | {"success": {"type": "boolean"}},
            }
        },
    ),
]
