"""The tenant component's CustomResourceDefinition: ``Workspace`` (``tenant.atoll.io``).

A workspace groups projects (namespaces labelled ``atoll.io/workspace=<ws>``) and the people
who work on them, as KubeSphere's workspaces do. It is cluster-scoped in the host cluster.
``spec.manager`` is its first administrator; ``spec.clusters`` the clusters its projects
may live in (empty: the host cluster); ``spec.quotas`` per cluster the most its projects may
request together (``pods``, ``requests.cpu``, ``limits.memory``, …, as a ResourceQuota's
``hard``), which Atoll enforces on what is created or changed through it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["GROUP", "VERSION", "WORKSPACE_CRD"]

GROUP = "tenant.atoll.io"
VERSION = "v1alpha1"

_QUANTITIES = {"type": "object", "additionalProperties": {"x-kubernetes-int-or-string": True}}

WORKSPACE_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"workspaces.{GROUP}", "labels": {"atoll.io/component": "tenant"}},
    "spec": {
        "group": GROUP,
        "scope": "Cluster",
        "names": {
            "plural": "workspaces",
            "singular": "workspace",
            "kind": "Workspace",
            "shortNames": ["ws"],
        },
        "versions": [
            {
                "name": VERSION,
                "served": True,
                "storage": True,
                "additionalPrinterColumns": [
                    {"name": "Manager", "type": "string", "jsonPath": ".spec.manager"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "manager": {"type": "string"},
                                    "description": {"type": "string"},
                                    "clusters": {"type": "array", "items": {"type": "string"}},
                                    "quotas": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["cluster", "hard"],
                                            "properties": {
                                                "cluster": {"type": "string"},
                                                "hard": _QUANTITIES,
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    }
                },
            }
        ],
    },
}
