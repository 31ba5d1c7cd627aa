"""Objects every cluster has from its first start, created when missing.

The four system namespaces, the ``kubernetes`` Service in ``default`` pointing at the API
server, and kube-apiserver's bootstrap ClusterRoles and ClusterRoleBindings (the user-facing
``cluster-admin``, ``admin``, ``edit`` and ``view`` and the ``system:`` roles clients and
tools expect to find). Rules are abridged where a role's full upstream list only matters
to an authorizer the embedded cluster does not run: it authorizes by bearer token alone.

And the default StorageClass ``local-path`` of the ``atoll.io/local-path`` provisioner, as
k3s ships one (kind's is ``standard``): claims that name no class get it, and a directory
under the data directory (``controllers.persistentvolumes_provisioning``). Its binding mode
is ``Immediate``, where k3s's is ``WaitForFirstConsumer``: that mode needs the scheduler to
write ``volume.kubernetes.io/selected-node`` on a pod's claims as it places the pod, which
the embedded scheduler does not do; on one node it would choose nothing anyway.
"""

from __future__ import annotations

import copy
from typing import Any

from .network.ingress_rules import CONTROLLER as INGRESS_CONTROLLER

__all__ = [
    "DEFAULT_INGRESS_CLASS",
    "DEFAULT_STORAGE_CLASS",
    "SYSTEM_NAMESPACES",
    "bootstrap_objects",
]

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_RBAC = "rbac.authorization.k8s.io/v1"
_BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
_ANNOTATIONS = {"rbac.authorization.kubernetes.io/autoupdate": "true"}

DEFAULT_STORAGE_CLASS = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "metadata": {
        "name": "local-path",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
    },
    "provisioner": "atoll.io/local-path",
    "reclaimPolicy": "Delete",
    "volumeBindingMode": "Immediate",
}

DEFAULT_INGRESS_CLASS = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "IngressClass",
    "metadata": {
        "name": "atoll",
        "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"},
    },
    "spec": {"controller": INGRESS_CONTROLLER},  # the built-in ingress proxy's
}

_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]
_WORKLOADS = [
    {
        "apiGroups": [""],
        "resources": [
            "pods",
            "pods/attach",
            "pods/exec",
            "pods/portforward",
            "pods/proxy",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "services",
            "services/proxy",
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "secrets",
            "serviceaccounts",
            "events",
        ],
        "verbs": _READ + _WRITE,
    },
    {
        "apiGroups": ["apps"],
        "resources": [
            "deployments",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
            "daemonsets",
            "controllerrevisions",
        ],
        "verbs": _READ + _WRITE,
    },
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": _READ + _WRITE},
    {
        "apiGroups": ["autoscaling"],
        "resources": ["horizontalpodautoscalers"],
        "verbs": _READ + _WRITE,
    },
    {
        "apiGroups": ["networking.k8s.io"],
        "resources": ["ingresses", "networkpolicies"],
        "verbs": _READ + _WRITE,
    },
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": _READ + _WRITE},
]
_VIEW = [{**rule, "verbs": _READ} for rule in _WORKLOADS]

_ROLES: dict[str, list[dict[str, Any]]] = {
    "cluster-admin": [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
        {"nonResourceURLs": ["*"], "verbs": ["*"]},
    ],
    "admin": [
        *_WORKLOADS,
        {
            "apiGroups": ["rbac.authorization.k8s.io"],
            "resources": ["roles", "rolebindings"],
            "verbs": _READ + _WRITE,
        },
    ],
    "edit": _WORKLOADS,
    "view": _VIEW,
    "system:discovery": [
        {
            "nonResourceURLs": [
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/healthz",
                "/livez",
                "/openapi",
                "/openapi/*",
                "/readyz",
                "/version",
                "/version/",
            ],
            "verbs": ["get"],
        }
    ],
    "system:basic-user": [
        {
            "apiGroups": ["authorization.k8s.io"],
            "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            "verbs": ["create"],
        }
    ],
    "system:public-info-viewer": [
        {
            "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"],
            "verbs": ["get"],
        }
    ],
    "system:node": [
        {
            "apiGroups": [""],
            "resources": ["nodes", "nodes/status", "pods", "pods/status", "events"],
            "verbs": _READ + _WRITE,
        }
    ],
    "system:kube-scheduler": [
        {"apiGroups": [""], "resources": ["pods/binding", "bindings"], "verbs": ["create"]},
        {"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": _READ},
    ],
    "system:kube-controller-manager": [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": _READ + _WRITE}
    ],
    "system:auth-delegator": [
        {
            "apiGroups": ["authentication.k8s.io"],
            "resources": ["tokenreviews"],
            "verbs": ["create"],
        },
        {
            "apiGroups": ["authorization.k8s.io"],
            "resources": ["subjectaccessreviews"],
            "verbs": ["create"],
        },
    ],
    "system:monitoring": [
        {
            "nonResourceURLs": [
                "/healthz",
                "/healthz/*",
                "/livez",
                "/livez/*",
                "/metrics",
                "/readyz",
                "/readyz/*",
            ],
            "verbs": ["get"],
        }
    ],
    "system:heapster": [
        {"apiGroups": [""], "resources": ["events", "namespaces", "nodes", "pods"], "verbs": _READ}
    ],
    "system:aggregate-to-view": _VIEW,
}
_BINDINGS = {
    "cluster-admin": {"kind": "Group", "name": "system:masters"},
    "system:discovery": {"kind": "Group", "name": "system:authenticated"},
    "system:basic-user": {"kind": "Group", "name": "system:authenticated"},
    "system:public-info-viewer": {"kind": "Group", "name": "system:unauthenticated"},
    "system:kube-scheduler": {"kind": "User", "name": "system:kube-scheduler"},
    "system:kube-controller-manager": {"kind": "User", "name": "system:kube-controller-manager"},
    "system:monitoring": {"kind": "Group", "name": "system:monitoring"},
}


def _meta(name: str) -> dict[str, Any]:
    return {"name": name, "labels": dict(_BOOTSTRAP_LABELS), "annotations": dict(_ANNOTATIONS)}


def bootstrap_objects(api_port: int) -> list[tuple[str, str, str, str | None, dict[str, Any]]]:
    """(group, version, plural, namespace, object) for everything created at first start."""
    objects: list[tuple[str, str, str, str | None, dict[str, Any]]] = [
        (
            "",
            "v1",
            "namespaces",
            None,
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        )
        for name in SYSTEM_NAMESPACES
    ]
    objects.append(
        (
            "",
            "v1",
            "services",
            "default",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {"ports": [{"name": "https", "port": 443, "targetPort": api_port}]},
            },
        )
    )
    objects.append(
        ("storage.k8s.io", "v1", "storageclasses", None, copy.deepcopy(DEFAULT_STORAGE_CLASS))
    )
    objects.append(
        ("networking.k8s.io", "v1", "ingressclasses", None, copy.deepcopy(DEFAULT_INGRESS_CLASS))
    )
    for name, rules in _ROLES.items():
        objects.append(
            (
                "rbac.authorization.k8s.io",
                "v1",
                "clusterroles",
                None,
                {
                    "apiVersion": _RBAC,
                    "kind": "ClusterRole",
                    "metadata": _meta(name),
                    "rules": rules,
                },
            )
        )
    for name, subject in _BINDINGS.items():
        objects.append(
            (
                "rbac.authorization.k8s.io",
                "v1",
                "clusterrolebindings",
                None,
                {
                    "apiVersion": _RBAC,
                    "kind": "ClusterRoleBinding",
                    "metadata": _meta(name),
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "ClusterRole",
                        "name": name,
                    },
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", **subject}],
                },
            )
        )
    return objects
