"""Validation of RBAC kinds: Role, ClusterRole, RoleBinding, ClusterRoleBinding (kube 1.20).

Rules need verbs, and either API groups plus resources or (cluster roles only) non-resource
URLs. Bindings need a ``roleRef`` to a Role or ClusterRole in ``rbac.authorization.k8s.io``,
which can never change afterwards (``roleRef: Invalid value: …: cannot change roleRef``), and
well-formed subjects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atoll.embedded.apiserver.builtins.checks import GoValue, as_list, as_map, as_str
from atoll.embedded.apiserver.builtins.names import (
    dns1123_subdomain_errors,
    path_segment_errors,
)
from atoll.errors import FieldError

__all__ = ["binding_errors", "role_errors"]

Obj = Mapping[str, Any]
RBAC_GROUP = "rbac.authorization.k8s.io"


def _rule_errors(rule: Obj, where: str, *, namespaced: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    if not as_list(rule.get("verbs")):
        errors.append(
            FieldError.required(f"{where}.verbs", "verbs must contain at least one value")
        )
    urls = as_list(rule.get("nonResourceURLs"))
    if urls:
        shown = GoValue("[]string{" + ", ".join(f'"{u}"' for u in urls) + "}")
        if namespaced:
            errors.append(
                FieldError.invalid(
                    f"{where}.nonResourceURLs",
                    shown,
                    "namespaced rules cannot apply to non-resource URLs",
                )
            )
        if any(as_list(rule.get(k)) for k in ("apiGroups", "resources", "resourceNames")):
            errors.append(
                FieldError.invalid(
                    f"{where}.nonResourceURLs",
                    shown,
                    "rules cannot apply to both regular resources and non-resource URLs",
                )
            )
        return errors
    if not as_list(rule.get("apiGroups")):
        errors.append(
            FieldError.required(
                f"{where}.apiGroups", "resource rules must supply at least one api group"
            )
        )
    if not as_list(rule.get("resources")):
        errors.append(
            FieldError.required(
                f"{where}.resources", "resource rules must supply at least one resource"
            )
        )
    return errors


def role_errors(obj: Obj, old: Obj | None, *, namespaced: bool) -> list[FieldError]:
    if (
        not namespaced
        and obj.get("aggregationRule") is not None
        and not as_list(as_map(obj.get("aggregationRule")).get("clusterRoleSelectors"))
    ):
        return [
            FieldError.required(
                "aggregationRule.clusterRoleSelectors",
                "at least one clusterRoleSelector required if aggregationRule is non-nil",
            )
        ]
    errors: list[FieldError] = []
    for i, rule in enumerate(map(as_map, as_list(obj.get("rules")))):
        errors += _rule_errors(rule, f"rules[{i}]", namespaced=namespaced)
    return errors


def _go_role_ref(ref: Obj) -> GoValue:
    return GoValue(
        f'rbac.RoleRef{{APIGroup:"{as_str(ref.get("apiGroup"))}", '
        f'Kind:"{as_str(ref.get("kind"))}", Name:"{as_str(ref.get("name"))}"}}'
    )


def _role_ref_errors(ref: Obj, *, namespaced: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    if as_str(ref.get("apiGroup")) != RBAC_GROUP:
        errors.append(
            FieldError.not_supported("roleRef.apiGroup", as_str(ref.get("apiGroup")), (RBAC_GROUP,))
        )
    kinds = ("Role", "ClusterRole") if namespaced else ("ClusterRole",)
    if ref.get("kind") not in kinds:
        errors.append(FieldError.not_supported("roleRef.kind", as_str(ref.get("kind")), kinds))
    name = as_str(ref.get("name"))
    if not name:
        errors.append(FieldError.required("roleRef.name"))
    else:
        errors += [FieldError.invalid("roleRef.name", name, m) for m in path_segment_errors(name)]
    return errors


def _subject_errors(subject: Obj, where: str, *, namespaced: bool) -> list[FieldError]:
    kind, name, group = (
        as_str(subject.get("kind")),
        as_str(subject.get("name")),
        as_str(subject.get("apiGroup")),
    )
    errors = [FieldError.required(f"{where}.name")] if not name else []
    if kind == "ServiceAccount":
        if name:
            errors += [
                FieldError.invalid(f"{where}.name", name, m) for m in dns1123_subdomain_errors(name)
            ]
        if group:
            errors.append(FieldError.not_supported(f"{where}.apiGroup", group, ("",)))
        if not namespaced and not as_str(subject.get("namespace")):
            errors.append(FieldError.required(f"{where}.namespace"))
    elif kind in ("User", "Group"):
        if group != RBAC_GROUP:
            errors.append(FieldError.not_supported(f"{where}.apiGroup", group, (RBAC_GROUP,)))
    else:
        errors.append(
            FieldError.not_supported(f"{where}.kind", kind, ("ServiceAccount", "User", "Group"))
        )
    return errors


def binding_errors(obj: Obj, old: Obj | None, *, namespaced: bool) -> list[FieldError]:
    ref = as_map(obj.get("roleRef"))
    errors = _role_ref_errors(ref, namespaced=namespaced)
    for i, subject in enumerate(map(as_map, as_list(obj.get("subjects")))):
        errors += _subject_errors(subject, f"subjects[{i}]", namespaced=namespaced)
    if old is not None and as_map(old.get("roleRef")) != ref:
        errors.append(FieldError.invalid("roleRef", _go_role_ref(ref), "cannot change roleRef"))
    return errors
