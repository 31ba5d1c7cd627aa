"""What kube-apiserver 1.20 knows about its built-in kinds, for the embedded API server.

The generic store calls these for every built-in kind; objects are plain decoded-JSON dicts:

- :func:`type_errors` / :func:`unknown_fields`: what kube's decoder refuses (400 BadRequest)
  or, under ``fieldValidation=Strict``, reports as ``strict decoding error: unknown field``;
  the schemas come from the ``kubernetes`` package's models (:func:`schema_of`).
- :func:`default`: API defaulting, in place, on every create and update.
- :func:`validate_object_meta` (with :func:`name_rule_for`) and :func:`validate`: create
  validation (``old is None``) or update validation of metadata and of the kind's own rules,
  returning :class:`~atoll.errors.FieldError` s worded like kube's, for ``Invalid.of(...)``.
- :func:`field_attrs`: the field-selector attributes of an object.

Order on a write, as in kube: decode checks, then :func:`default`, then :func:`validate`.
The caller sets ``metadata.uid`` before defaulting (a Job's generated selector uses it),
generates ``name`` from ``generateName`` and clears ``namespace`` on cluster-scoped kinds
before validating, and checks on update that name, namespace, uid and creationTimestamp are
unchanged. Unknown kinds are left alone by every function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from atoll.embedded.apiserver.builtins.access_validation import binding_errors, role_errors
from atoll.embedded.apiserver.builtins.checks import labels_errors
from atoll.embedded.apiserver.builtins.core_validation import (
    config_map_errors,
    event_errors,
    lease_errors,
    limit_range_errors,
    namespace_errors,
    node_errors,
    priority_class_errors,
    resource_quota_errors,
    secret_errors,
)
from atoll.embedded.apiserver.builtins.defaults import DEFAULTERS
from atoll.embedded.apiserver.builtins.field_selectors import field_attrs
from atoll.embedded.apiserver.builtins.names import (
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    label_value_errors,
    name_errors,
    qualified_name_errors,
)
from atoll.embedded.apiserver.builtins.network_validation import (
    endpoints_errors,
    ingress_errors,
    network_policy_errors,
    service_errors,
)
from atoll.embedded.apiserver.builtins.object_meta import (
    annotations_errors,
    name_rule_for,
    validate_object_meta,
    validate_object_meta_update,
)
from atoll.embedded.apiserver.builtins.pod_validation import (
    pod_spec_errors,
    pod_template_errors,
    pod_update_errors,
)
from atoll.embedded.apiserver.builtins.scaling_validation import (
    autoscaler_errors,
    disruption_budget_errors,
)
from atoll.embedded.apiserver.builtins.schemas import (
    normalize_quantities,
    schema_of,
    type_errors,
    unknown_fields,
)
from atoll.embedded.apiserver.builtins.storage_validation import (
    persistent_volume_claim_errors,
    persistent_volume_errors,
    storage_class_errors,
)
from atoll.embedded.apiserver.builtins.workload_validation import (
    cron_job_errors,
    daemon_set_errors,
    deployment_errors,
    job_errors,
    replica_set_errors,
    replication_controller_errors,
    stateful_set_errors,
)
from atoll.errors import FieldError

__all__ = [
    "annotations_errors",
    "default",
    "field_attrs",
    "is_dns1035_label",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "label_value_errors",
    "labels_errors",
    "name_errors",
    "name_rule_for",
    "qualified_name_errors",
    "schema_of",
    "type_errors",
    "unknown_fields",
    "validate",
    "validate_object_meta",
]

Obj = Mapping[str, Any]
Validator = Callable[[Obj, Obj | None], list[FieldError]]


def _pod(obj: Obj, old: Obj | None) -> list[FieldError]:
    return pod_spec_errors(obj.get("spec")) if old is None else pod_update_errors(obj, old)


def _pod_template(obj: Obj, old: Obj | None) -> list[FieldError]:
    return pod_template_errors(obj.get("template"), "template")


def _namespaced_role(obj: Obj, old: Obj | None) -> list[FieldError]:
    return role_errors(obj, old, namespaced=True)


def _cluster_role(obj: Obj, old: Obj | None) -> list[FieldError]:
    return role_errors(obj, old, namespaced=False)


def _role_binding(obj: Obj, old: Obj | None) -> list[FieldError]:
    return binding_errors(obj, old, namespaced=True)


def _cluster_role_binding(obj: Obj, old: Obj | None) -> list[FieldError]:
    return binding_errors(obj, old, namespaced=False)


_RBAC = "rbac.authorization.k8s.io"
_VALIDATORS: dict[tuple[str, str], Validator] = {
    ("", "Pod"): _pod,
    ("", "PodTemplate"): _pod_template,
    ("", "ReplicationController"): replication_controller_errors,
    ("", "Service"): service_errors,
    ("", "Endpoints"): endpoints_errors,
    ("", "ConfigMap"): config_map_errors,
    ("", "Secret"): secret_errors,
    ("", "Namespace"): namespace_errors,
    ("", "ResourceQuota"): resource_quota_errors,
    ("", "LimitRange"): limit_range_errors,
    ("", "PersistentVolume"): persistent_volume_errors,
    ("", "PersistentVolumeClaim"): persistent_volume_claim_errors,
    ("", "Event"): event_errors,
    ("", "Node"): node_errors,
    ("events.k8s.io", "Event"): event_errors,
    ("apps", "Deployment"): deployment_errors,
    ("apps", "ReplicaSet"): replica_set_errors,
    ("apps", "StatefulSet"): stateful_set_errors,
    ("apps", "DaemonSet"): daemon_set_errors,
    ("batch", "Job"): job_errors,
    ("batch", "CronJob"): cron_job_errors,
    ("autoscaling", "HorizontalPodAutoscaler"): autoscaler_errors,
    ("policy", "PodDisruptionBudget"): disruption_budget_errors,
    ("networking.k8s.io", "Ingress"): ingress_errors,
    ("extensions", "Ingress"): ingress_errors,
    ("networking.k8s.io", "NetworkPolicy"): network_policy_errors,
    ("storage.k8s.io", "StorageClass"): storage_class_errors,
    ("scheduling.k8s.io", "PriorityClass"): priority_class_errors,
    ("coordination.k8s.io", "Lease"): lease_errors,
    (_RBAC, "Role"): _namespaced_role,
    (_RBAC, "ClusterRole"): _cluster_role,
    (_RBAC, "RoleBinding"): _role_binding,
    (_RBAC, "ClusterRoleBinding"): _cluster_role_binding,
}


def default(group: str, kind: str, obj: dict[str, Any]) -> None:
    """Apply kube 1.20's API defaults for ``group``/``kind`` to ``obj`` in place.

    Idempotent; a no-op for unknown kinds. Needs ``metadata.uid`` for a Job's generated
    selector. Quantities come out in kube's canonical form (``cpu: 0.5`` → ``"500m"``).
    """
    if not isinstance(obj, dict):
        return
    defaulter = DEFAULTERS.get((group, kind))
    if defaulter is not None:
        defaulter(obj)
    version = str(obj.get("apiVersion") or "v1").rsplit("/", 1)[-1]
    normalize_quantities(group, version, kind, obj)


def validate(
    group: str, kind: str, obj: Obj, old: Obj | None, *, namespaced: bool
) -> list[FieldError]:
    """Create (``old is None``) or update validation of a built-in object's own rules.

    ``metadata`` is the caller's, with :func:`validate_object_meta` and the kind's
    :func:`name_rule_for`; this adds only the kind's rules (spec, data, immutable fields) and,
    on update, the one metadata rule that needs the old object: no new finalizers once
    deletion has started. An empty list means valid; kinds without rules always pass.
    ``namespaced`` is accepted for symmetry with :func:`validate_object_meta`.
    """
    errors: list[FieldError] = []
    if old is not None:
        meta, old_meta = obj.get("metadata"), old.get("metadata")
        errors += validate_object_meta_update(
            meta if isinstance(meta, Mapping) else {},
            old_meta if isinstance(old_meta, Mapping) else {},
        )
    validator = _VALIDATORS.get((group, kind))
    if validator is not None:
        errors += validator(obj, old)
    return errors
