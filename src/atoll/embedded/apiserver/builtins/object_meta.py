"""``metadata`` validation (kube's ValidateObjectMeta) and each built-in kind's name rule.

Names are checked by the rule of their kind: most are DNS-1123 subdomains; Namespaces are
DNS-1123 labels; Services are DNS-1035 labels (they become DNS names and env var prefixes);
RBAC objects only need to be valid URL path segments (``system:controller:foo`` is fine).

The caller generates ``name`` from ``generateName`` before validating, as kube-apiserver does,
so a missing name is reported even when ``generateName`` is set. It also clears
``namespace`` on cluster-scoped kinds first (kube's BeforeCreate does), and checks the
immutability of name, namespace, uid and creationTimestamp on update itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atoll.embedded.apiserver.builtins.checks import (
    GoValue,
    as_list,
    as_map,
    as_str,
    labels_errors,
    non_negative,
)
from atoll.embedded.apiserver.builtins.names import (
    dns1123_label_errors,
    name_errors,
    qualified_name_errors,
)
from atoll.errors import FieldError

__all__ = [
    "TOTAL_ANNOTATION_SIZE",
    "annotations_errors",
    "finalizer_errors",
    "name_rule_for",
    "validate_object_meta",
    "validate_object_meta_update",
]

TOTAL_ANNOTATION_SIZE = 256 * 1024
_STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})

_LABEL_NAMED = frozenset({("", "Namespace")})
_DNS1035_NAMED = frozenset({("", "Service")})
_PATH_SEGMENT_NAMED = frozenset(
    {
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "RoleBinding"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    }
)


def name_rule_for(group: str, kind: str) -> str:
    """The name rule kube 1.20 applies to ``kind``: subdomain, label, dns1035 or path_segment."""
    key = (group, kind)
    if key in _LABEL_NAMED:
        return "label"
    if key in _DNS1035_NAMED:
        return "dns1035"
    if key in _PATH_SEGMENT_NAMED:
        return "path_segment"
    return "subdomain"


def annotations_errors(path: str, annotations: Any) -> list[FieldError]:
    """ValidateAnnotations: keys are qualified names; keys + values total ≤ 256 KiB."""
    errors: list[FieldError] = []
    total = 0
    for key, value in as_map(annotations).items():
        errors += [FieldError.invalid(path, key, m) for m in qualified_name_errors(key.lower())]
        total += len(key.encode()) + len(as_str(value).encode())
    if total > TOTAL_ANNOTATION_SIZE:
        errors.append(FieldError.too_long(path, "", TOTAL_ANNOTATION_SIZE))
    return errors


def finalizer_errors(path: str, finalizers: Any, *, core: bool = True) -> list[FieldError]:
    """Core's validateFinalizerName: qualified, and standard if unprefixed; no duplicates.

    ``core=False`` is apimachinery's rule (qualified names only), which the
    apiextensions server applies to CRDs and custom resources."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for value in map(as_str, as_list(finalizers)):
        problems = qualified_name_errors(value)
        errors += [FieldError.invalid(path, value, m) for m in problems]
        if core and not problems and "/" not in value and value not in _STANDARD_FINALIZERS:
            errors.append(
                FieldError.invalid(
                    path,
                    value,
                    "name is neither a standard finalizer name nor is it fully qualified",
                )
            )
        if value in seen:
            errors.append(FieldError.duplicate(path, value))
        seen.add(value)
    return errors


def _owner_reference_errors(path: str, refs: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    controllers: list[str] = []
    for ref in map(as_map, as_list(refs)):
        api_version = as_str(ref.get("apiVersion"))
        checks = (
            ("apiVersion", api_version.rsplit("/", 1)[-1], "version must not be empty"),
            ("kind", as_str(ref.get("kind")), "kind must not be empty"),
            ("name", as_str(ref.get("name")), "name must not be empty"),
            ("uid", as_str(ref.get("uid")), "uid must not be empty"),
        )
        for child, value, message in checks:
            if not value:
                shown = api_version if child == "apiVersion" else value
                errors.append(FieldError.invalid(f"{path}.{child}", shown, message))
        if ref.get("controller") is True:
            controllers.append(f"{ref.get('kind')}/{ref.get('name')}")
    if len(controllers) > 1:
        errors.append(
            FieldError.invalid(
                path,
                GoValue("[]v1.OwnerReference{...}"),
                'Only one reference can have Controller set to true. Found "true" in '
                f"references for {' and '.join(controllers)}",
            )
        )
    return errors


def validate_object_meta(
    meta: Mapping[str, Any],
    *,
    namespaced: bool,
    name_rule: str = "subdomain",
    core_finalizers: bool = True,
) -> list[FieldError]:
    """ValidateObjectMeta: name/generateName by ``name_rule``, namespace, labels, annotations,
    ownerReferences and finalizers, at paths under ``metadata.``."""
    errors: list[FieldError] = []
    generate_name = as_str(meta.get("generateName"))
    if generate_name:
        errors += [
            FieldError.invalid("metadata.generateName", generate_name, m)
            for m in name_errors(generate_name, name_rule, prefix=True)
        ]
    name = as_str(meta.get("name"))
    if not name:
        errors.append(FieldError.required("metadata.name", "name or generateName is required"))
    else:
        errors += [
            FieldError.invalid("metadata.name", name, m) for m in name_errors(name, name_rule)
        ]
    errors += _namespace_errors(as_str(meta.get("namespace")), namespaced=namespaced)
    errors += non_negative("metadata.generation", meta.get("generation"))
    errors += labels_errors("metadata.labels", meta.get("labels"))
    errors += annotations_errors("metadata.annotations", meta.get("annotations"))
    errors += _owner_reference_errors("metadata.ownerReferences", meta.get("ownerReferences"))
    errors += finalizer_errors("metadata.finalizers", meta.get("finalizers"), core=core_finalizers)
    return errors


def _namespace_errors(namespace: str, *, namespaced: bool) -> list[FieldError]:
    if not namespaced:
        if namespace:
            return [FieldError.forbidden("metadata.namespace", "not allowed on this type")]
        return []
    if not namespace:
        return [FieldError.required("metadata.namespace")]
    return [
        FieldError.invalid("metadata.namespace", namespace, m)
        for m in dns1123_label_errors(namespace)
    ]


def validate_object_meta_update(
    meta: Mapping[str, Any], old: Mapping[str, Any]
) -> list[FieldError]:
    """The part of ValidateObjectMetaUpdate the caller does not do: no new finalizers once
    the object is being deleted."""
    if not old.get("deletionTimestamp"):
        return []
    before = set(map(as_str, as_list(old.get("finalizers"))))
    if set(map(as_str, as_list(meta.get("finalizers")))) - before:
        return [
            FieldError.forbidden(
                "metadata.finalizers",
                "no new finalizers can be added if the object is being deleted",
            )
        ]
    return []
