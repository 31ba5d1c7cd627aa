"""RBAC validation: rules, role references, subjects and the immutable roleRef."""

from __future__ import annotations

import copy
from typing import Any

from atoll.embedded.apiserver.builtins import default, validate

RBAC = "rbac.authorization.k8s.io"


def _messages(kind: str, obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    default(RBAC, kind, obj)
    namespaced = kind in ("Role", "RoleBinding")
    return [str(e) for e in validate(RBAC, kind, obj, old, namespaced=namespaced)]


def test_roles() -> None:
    role = {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}
    assert _messages("Role", role) == []
    bad = {"rules": [{"apiGroups": [""]}, {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]}
    assert _messages("Role", bad) == [
        "rules[0].verbs: Required value: verbs must contain at least one value",
        "rules[0].resources: Required value: resource rules must supply at least one resource",
        'rules[1].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot '
        "apply to non-resource URLs",
    ]
    cluster = {"rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]}
    assert _messages("ClusterRole", cluster) == []


def test_bindings() -> None:
    binding = {
        "roleRef": {"kind": "Role", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "d"}],
    }
    assert _messages("RoleBinding", binding) == []
    assert _messages(
        "ClusterRoleBinding",
        {
            "roleRef": {"kind": "Role", "name": ""},
            "subjects": [{"kind": "ServiceAccount", "name": "x"}, {"kind": "Robot", "name": "r"}],
        },
    ) == [
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
        "roleRef.name: Required value",
        "subjects[0].namespace: Required value",
        'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", '
        '"User", "Group"',
    ]


def test_role_ref_is_immutable() -> None:
    old = {"roleRef": {"kind": "ClusterRole", "name": "view"}}
    default(RBAC, "RoleBinding", old)
    new = copy.deepcopy(old)
    new["roleRef"]["name"] = "edit"
    assert _messages("RoleBinding", new, old) == [
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", '
        'Kind:"ClusterRole", Name:"edit"}: cannot change roleRef'
    ]
