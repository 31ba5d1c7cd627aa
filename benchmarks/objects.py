"""Realistic objects for the benchmarks: ConfigMaps as apps ship them, Pods as a kubelet sees them.

Sizes matter more than variety here: a ConfigMap is ~0.5 KB of JSON once stored, a Pod
~1.5–2 KB after its status is written (creates reset a Pod's status, as in Kubernetes, so
``pod_status`` is applied through the ``status`` subresource afterwards). A Deployment's
template is that Pod's spec, so the controllers' Pods are the same size.
"""

from __future__ import annotations

from typing import Any

__all__ = ["config_map", "deployment", "namespace", "pod", "pod_status"]

_TIME = "2024-05-01T12:00:00Z"


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def config_map(name: str, *, index: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "labels": {
                "app.kubernetes.io/name": f"shop-{index % 20}",
                "app.kubernetes.io/part-of": "shop",
                "team": f"team-{index % 5}",
            },
            "annotations": {"atoll.dev/owner": f"team-{index % 5}@example.com"},
        },
        "data": {
            "LOG_LEVEL": "info",
            "DATABASE_URL": f"postgres://shop-{index % 20}.db.svc:5432/shop",
            "FEATURE_FLAGS": "checkout-v2,recommendations,dark-mode",
            "app.properties": (
                "server.port=8080\nserver.shutdown=graceful\n"
                f"cache.ttl=300\nworker.threads={4 + index % 4}\n"
            ),
        },
    }


def pod(name: str, *, index: int) -> dict[str, Any]:
    app = f"web-{index % 50}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {
                "app": app,
                "pod-template-hash": f"{index % 50:05d}abcd",
                "tier": ("frontend", "backend", "worker")[index % 3],
            },
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
        },
        "spec": {
            "nodeName": "node-1",
            "containers": [
                {
                    "name": "app",
                    "image": f"registry.example.com/shop/{app}:1.{index % 7}.3",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "env": [
                        {"name": "LOG_LEVEL", "value": "info"},
                        {"name": "APP_NAME", "value": app},
                    ],
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"cpu": "500m", "memory": "256Mi"},
                    },
                    "readinessProbe": {
                        "httpGet": {"path": "/healthz", "port": 8080},
                        "periodSeconds": 10,
                    },
                }
            ],
        },
    }


def deployment(name: str, *, replicas: int, index: int) -> dict[str, Any]:
    """A Deployment of ``replicas`` pods like ``pod``'s (default RollingUpdate, 25 %/25 %)."""
    spec = pod(name, index=index)["spec"]
    del spec["nodeName"]  # the scheduler's to set
    labels = {"app": name, "tier": ("frontend", "backend", "worker")[index % 3]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


def pod_status(*, index: int) -> dict[str, Any]:
    conditions = [
        {"type": kind, "status": "True", "lastProbeTime": None, "lastTransitionTime": _TIME}
        for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
    ]
    return {
        "status": {
            "phase": "Running",
            "conditions": conditions,
            "hostIP": "10.0.0.1",
            "podIP": f"10.244.{index // 250 % 250}.{index % 250 + 2}",
            "podIPs": [{"ip": f"10.244.{index // 250 % 250}.{index % 250 + 2}"}],
            "startTime": _TIME,
            "containerStatuses": [
                {
                    "name": "app",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "image": f"registry.example.com/shop/web-{index % 50}:1.{index % 7}.3",
                    "imageID": "registry.example.com/shop/web@sha256:" + "ab" * 32,
                    "containerID": f"containerd://{index:064x}",
                    "state": {"running": {"startedAt": _TIME}},
                }
            ],
        }
    }
