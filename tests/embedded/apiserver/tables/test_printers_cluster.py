"""Tables of RBAC, Lease, PriorityClass, RuntimeClass, PDB, webhook configurations and CRDs."""

from __future__ import annotations

from typing import Any

import pytest
from tests.embedded.apiserver.tables.tables_support import NOW, meta

from atoll.embedded.apiserver.tables import column_definitions, row_cells

RBAC = "rbac.authorization.k8s.io"


@pytest.mark.parametrize("kind", ["RoleBinding", "ClusterRoleBinding"])
def test_bindings(kind: str) -> None:
    columns = column_definitions(RBAC, kind)
    assert [(c["name"], c["priority"]) for c in columns] == [
        ("Name", 0),
        ("Role", 0),
        ("Age", 0),
        ("Users", 1),
        ("Groups", 1),
        ("ServiceAccounts", 1),
    ]
    noun = kind[0].lower() + kind[1:]
    assert columns[3]["description"] == f"Users in the {noun}"
    binding = {
        "metadata": meta("admins"),
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "admin"},
        "subjects": [
            {"kind": "User", "name": "alice", "apiGroup": RBAC},
            {"kind": "User", "name": "bob", "apiGroup": RBAC},
            {"kind": "Group", "name": "ops", "apiGroup": RBAC},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "build"},
            {"kind": "Robot", "name": "r2"},
        ],
    }
    assert row_cells(RBAC, kind, binding, now=NOW) == [
        "admins",
        "ClusterRole/admin",
        "5m",
        "alice, bob",
        "ops",
        "build/ci",
    ]
    assert row_cells(RBAC, kind, {"metadata": meta("b")}, now=NOW) == ["b", "/", "5m", "", "", ""]


@pytest.mark.parametrize(
    ("group", "kind"),
    [(RBAC, "Role"), (RBAC, "ClusterRole"), ("apiextensions.k8s.io", "CustomResourceDefinition")],
)
def test_kinds_without_a_printer_use_name_and_created_at(group: str, kind: str) -> None:
    columns = column_definitions(group, kind)
    assert [(c["name"], c["type"], c["format"]) for c in columns] == [
        ("Name", "string", "name"),
        ("Created At", "date", ""),
    ]
    obj = {"metadata": {"name": "view", "creationTimestamp": "2020-12-24T10:00:00Z"}}
    assert row_cells(group, kind, obj, now=NOW) == ["view", "2020-12-24T10:00:00Z"]


def test_lease() -> None:
    group = "coordination.k8s.io"
    assert [c["name"] for c in column_definitions(group, "Lease")] == ["Name", "Holder", "Age"]
    lease = {
        "metadata": meta("kube-scheduler"),
        "spec": {"holderIdentity": "node-a_1234", "leaseDurationSeconds": 15},
    }
    assert row_cells(group, "Lease", lease, now=NOW) == ["kube-scheduler", "node-a_1234", "5m"]
    assert row_cells(group, "Lease", {"metadata": meta("free")}, now=NOW) == ["free", "", "5m"]


def test_priority_class() -> None:
    group = "scheduling.k8s.io"
    columns = column_definitions(group, "PriorityClass")
    assert [(c["name"], c["type"]) for c in columns] == [
        ("Name", "string"),
        ("Value", "integer"),
        ("Global-Default", "boolean"),
        ("Age", "string"),
    ]
    pc = {
        "metadata": meta("system-node-critical"),
        "value": 2000001000,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    assert row_cells(group, "PriorityClass", pc, now=NOW) == [
        "system-node-critical",
        2000001000,
        False,
        "5m",
    ]
    default = {"metadata": meta("d"), "value": 10, "globalDefault": True}
    assert row_cells(group, "PriorityClass", default, now=NOW)[2] is True


def test_runtime_class() -> None:
    group = "node.k8s.io"
    assert [c["name"] for c in column_definitions(group, "RuntimeClass")] == [
        "Name",
        "Handler",
        "Age",
    ]
    assert row_cells(
        group, "RuntimeClass", {"metadata": meta("gvisor"), "handler": "runsc"}, now=NOW
    ) == ["gvisor", "runsc", "5m"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"minAvailable": 2}, ["2", "N/A"]),
        ({"maxUnavailable": "25%"}, ["N/A", "25%"]),
        ({"minAvailable": 0}, ["0", "N/A"]),
        ({}, ["N/A", "N/A"]),
    ],
)
def test_pod_disruption_budget(spec: dict[str, Any], expected: list[str]) -> None:
    columns = column_definitions("policy", "PodDisruptionBudget")
    assert [(c["name"], c["type"]) for c in columns] == [
        ("Name", "string"),
        ("Min Available", "string"),
        ("Max Unavailable", "string"),
        ("Allowed Disruptions", "integer"),
        ("Age", "string"),
    ]
    pdb = {"metadata": meta("web"), "spec": spec, "status": {"disruptionsAllowed": 1}}
    assert row_cells("policy", "PodDisruptionBudget", pdb, now=NOW) == ["web", *expected, 1, "5m"]


@pytest.mark.parametrize("kind", ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"])
def test_webhook_configurations(kind: str) -> None:
    group = "admissionregistration.k8s.io"
    assert [c["name"] for c in column_definitions(group, kind)] == ["Name", "Webhooks", "Age"]
    config = {
        "metadata": meta("policy"),
        "webhooks": [{"name": "a.example.com"}, {"name": "b.example.com"}],
    }
    assert row_cells(group, kind, config, now=NOW) == ["policy", 2, "5m"]
