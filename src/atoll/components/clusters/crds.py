"""The clusters component's CustomResourceDefinition: ``Cluster`` (``cluster.atoll.io``).

One object per cluster Atoll manages, cluster-scoped in the host cluster, as KubeSphere's
``clusters.cluster.kubesphere.io``. The host cluster is the Cluster ``host`` (labelled
``cluster-role.atoll.io/host``); a member cluster's ``spec.connection`` names the Secret
that holds its kubeconfig.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CLUSTER_CRD", "GROUP", "VERSION"]

GROUP = "cluster.atoll.io"
VERSION = "v1alpha1"

_CONDITION = {
    "type": "object",
    "required": ["type", "status"],
    "properties": {
        k: {"type": "string"}
        for k in ("type", "status", "reason", "message", "lastTransitionTime", "lastUpdateTime")
    },
}

CLUSTER_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"clusters.{GROUP}", "labels": {"atoll.io/component": "clusters"}},
    "spec": {
        "group": GROUP,
        "scope": "Cluster",
        "names": {"plural": "clusters", "singular": "cluster", "kind": "Cluster"},
        "versions": [
            {
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Version", "type": "string", "jsonPath": ".status.kubernetesVersion"},
                    {"name": "Nodes", "type": "integer", "jsonPath": ".status.nodeCount"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "provider": {"type": "string"},
                                    "enable": {"type": "boolean"},
                                    "connection": {
                                        "type": "object",
                                        "properties": {
                                            "type": {"type": "string", "enum": ["direct"]},
                                            "kubeconfigSecretRef": {
                                                "type": "object",
                                                "properties": {
                                                    "namespace": {"type": "string"},
                                                    "name": {"type": "string"},
                                                },
                                            },
                                        },
                                    },
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {
                                    "kubernetesVersion": {"type": "string"},
                                    "nodeCount": {"type": "integer"},
                                    "lastProbeTime": {"type": "string"},
                                    "conditions": {"type": "array", "items": _CONDITION},
                                },
                            },
                        },
                    }
                },
            }
        ],
    },
}
