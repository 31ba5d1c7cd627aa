"""Tables of the cluster-policy kinds: RBAC bindings, Lease, PriorityClass, RuntimeClass,
PodDisruptionBudget and admission webhook configurations (kube-apiserver 1.20).

Roles, ClusterRoles and CustomResourceDefinitions have no printer upstream: the generic
server's default convertor prints them as NAME and CREATED AT, and so do they here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from atoll.embedded.apiserver.tables.ages import age
from atoll.embedded.apiserver.tables.columns import AGE, NAME, Column, Printer, field
from atoll.embedded.apiserver.tables.fields import (
    boolean,
    int_or_string,
    integer,
    items,
    text,
)
from atoll.embedded.apiserver.tables.printers_core import DEFAULT_PRINTER


def _name(obj: Mapping[str, Any]) -> str:
    return text(obj, "metadata", "name")


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return age(text(obj, "metadata", "creationTimestamp"), now)


def subjects(binding: Mapping[str, Any]) -> tuple[str, str, str]:
    """Users, groups and service accounts (``namespace/name``), each joined by ``", "``."""
    users, groups, service_accounts = [], [], []
    for subject in items(binding, "subjects"):
        kind, name = text(subject, "kind"), text(subject, "name")
        if kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
        elif kind == "ServiceAccount":
            service_accounts.append(f"{text(subject, 'namespace')}/{name}")
    return ", ".join(users), ", ".join(groups), ", ".join(service_accounts)


def _binding_cells(binding: Mapping[str, Any], now: datetime) -> list[Any]:
    role = f"{text(binding, 'roleRef', 'kind')}/{text(binding, 'roleRef', 'name')}"
    return [_name(binding), role, _age(binding, now), *subjects(binding)]


def _binding_printer(kind: str) -> Printer:
    noun = kind[0].lower() + kind[1:]
    return Printer(
        (
            NAME,
            field("Role", f"{kind}.roleRef"),
            AGE,
            Column("Users", description=f"Users in the {noun}", priority=1),
            Column("Groups", description=f"Groups in the {noun}", priority=1),
            Column("ServiceAccounts", description=f"ServiceAccounts in the {noun}", priority=1),
        ),
        _binding_cells,
    )


LEASE = Printer(
    (NAME, field("Holder", "LeaseSpec.holderIdentity"), AGE),
    lambda lease, now: [_name(lease), text(lease, "spec", "holderIdentity"), _age(lease, now)],
)

PRIORITY_CLASS = Printer(
    (
        NAME,
        field("Value", "PriorityClass.value", type="integer"),
        field("Global-Default", "PriorityClass.globalDefault", type="boolean"),
        AGE,
    ),
    lambda pc, now: [
        _name(pc),
        integer(pc, "value"),
        boolean(pc, "globalDefault"),
        _age(pc, now),
    ],
)

# Upstream describes Handler with a key ObjectMeta does not have, hence the empty description.
RUNTIME_CLASS = Printer(
    (NAME, Column("Handler"), AGE),
    lambda rc, now: [_name(rc), text(rc, "handler"), _age(rc, now)],
)

POD_DISRUPTION_BUDGET = Printer(
    (
        NAME,
        Column("Min Available", description="The minimum number of pods that must be available."),
        Column(
            "Max Unavailable", description="The maximum number of pods that may be unavailable."
        ),
        Column(
            "Allowed Disruptions",
            "integer",
            "Calculated number of pods that may be disrupted at this time.",
        ),
        AGE,
    ),
    lambda pdb, now: [
        _name(pdb),
        int_or_string(pdb, "spec", "minAvailable") or "N/A",
        int_or_string(pdb, "spec", "maxUnavailable") or "N/A",
        integer(pdb, "status", "disruptionsAllowed"),
        _age(pdb, now),
    ],
)

WEBHOOK_CONFIGURATION = Printer(
    (
        NAME,
        Column(
            "Webhooks",
            "integer",
            "Webhooks indicates the number of webhooks registered in this configuration",
        ),
        AGE,
    ),
    lambda config, now: [_name(config), len(items(config, "webhooks")), _age(config, now)],
)

_RBAC = "rbac.authorization.k8s.io"
_ADMISSION = "admissionregistration.k8s.io"

PRINTERS = {
    (_RBAC, "RoleBinding"): _binding_printer("RoleBinding"),
    (_RBAC, "ClusterRoleBinding"): _binding_printer("ClusterRoleBinding"),
    (_RBAC, "Role"): DEFAULT_PRINTER,
    (_RBAC, "ClusterRole"): DEFAULT_PRINTER,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): DEFAULT_PRINTER,
    ("coordination.k8s.io", "Lease"): LEASE,
    ("scheduling.k8s.io", "PriorityClass"): PRIORITY_CLASS,
    ("node.k8s.io", "RuntimeClass"): RUNTIME_CLASS,
    ("policy", "PodDisruptionBudget"): POD_DISRUPTION_BUDGET,
    (_ADMISSION, "MutatingWebhookConfiguration"): WEBHOOK_CONFIGURATION,
    (_ADMISSION, "ValidatingWebhookConfiguration"): WEBHOOK_CONFIGURATION,
}
