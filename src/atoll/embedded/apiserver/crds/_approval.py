"""The ``api-approved.kubernetes.io`` policy for CRDs in Kubernetes' own API groups.

Groups under ``k8s.io`` and ``kubernetes.io`` belong to the Kubernetes project, so kube only
accepts CRDs there with an annotation linking the approving pull request (or a reason starting
with ``unapproved``), and reports the state as a status condition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._values import mapping

__all__ = ["APPROVAL_ANNOTATION", "annotations_of", "approval_state", "protected_group"]

APPROVAL_ANNOTATION = "api-approved.kubernetes.io"
_HELP = "see https://github.com/kubernetes/enhancements/pull/1111"


def protected_group(group: str) -> bool:
    return group in ("k8s.io", "kubernetes.io") or group.endswith((".k8s.io", ".kubernetes.io"))


def approval_state(crd: Mapping[str, Any]) -> tuple[str, str]:
    """The ``api-approved.kubernetes.io`` state (Missing/Bypassed/Approved/Invalid) and why."""
    value = annotations_of(crd).get(APPROVAL_ANNOTATION) or ""
    if not isinstance(value, str) or not value:
        return (
            "Missing",
            f'protected groups must have approval annotation "{APPROVAL_ANNOTATION}", {_HELP}',
        )
    if value.startswith("unapproved"):
        return "Bypassed", f'not approved: "{value}"'
    scheme, sep, rest = value.partition("://")
    if sep and scheme and rest.split("/")[0] and " " not in value:
        return "Approved", f"approved in {value}"
    return "Invalid", (
        f'protected groups must have approval annotation "{APPROVAL_ANNOTATION}" with either a '
        f'URL or a reason starting with "unapproved", {_HELP}'
    )


def annotations_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping((mapping(obj.get("metadata")) or {}).get("annotations")) or {}
