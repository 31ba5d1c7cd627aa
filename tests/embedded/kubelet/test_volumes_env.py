"""What a container sees: its environment and its volumes, built as a kubelet builds them."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import ClusterProcess
from tests.waiting import eventually


def apply(cluster: ClusterProcess, namespace: str, *objects: dict[str, Any]) -> None:
    body = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(body))


def finished_logs(cluster: ClusterProcess, namespace: str, name: str, container: str) -> str:
    def done() -> bool:
        out = cluster.kubectl("get", "pod", name, "-n", namespace, "-o", "json")
        return json.loads(out)["status"].get("phase") in ("Succeeded", "Failed")

    eventually(done, timeout=60)
    return cluster.kubectl("logs", name, "-n", namespace, "-c", container)


def test_environment_sources(cluster: ClusterProcess, namespace: str) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cfg"},
        "data": {"COLOR": "blue", "size": "L", "bad-key": "x"},
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds"},
        "stringData": {"password": "s3cret"},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "backend-api"},
        "spec": {"ports": [{"name": "http", "port": 8080}]},
    }
    script = (
        'echo "COLOR=$COLOR CFG_size=$CFG_size PASSWORD=$PASSWORD MEM=$MEM CPU=$CPU NODE=$NODE '
        "EXPANDED=$EXPANDED ESCAPED=$ESCAPED OPTIONAL=${OPTIONAL-unset} "
        'SVC=$BACKEND_API_SERVICE_PORT_HTTP KUBE=${KUBERNETES_SERVICE_HOST:+set}"'
    )
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "env", "labels": {"app": "env"}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "main",
                    "image": "busybox",
                    "command": ["sh", "-c", script],
                    "resources": {"limits": {"memory": "64Mi", "cpu": "250m"}},
                    "envFrom": [
                        {"configMapRef": {"name": "cfg"}},
                        {"configMapRef": {"name": "cfg"}, "prefix": "CFG_"},
                    ],
                    "env": [
                        {
                            "name": "PASSWORD",
                            "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}},
                        },
                        {
                            "name": "MEM",
                            "valueFrom": {
                                "resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}
                            },
                        },
                        {
                            "name": "CPU",
                            "valueFrom": {
                                "resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}
                            },
                        },
                        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                        {"name": "EXPANDED", "value": "$(COLOR)-$(size)-$(NOPE)"},
                        {"name": "ESCAPED", "value": "$$(COLOR)"},
                        {
                            "name": "OPTIONAL",
                            "valueFrom": {
                                "configMapKeyRef": {"name": "absent", "key": "k", "optional": True}
                            },
                        },
                    ],
                }
            ],
        },
    }
    apply(cluster, namespace, config, secret, service)
    apply(cluster, namespace, pod)
    line = finished_logs(cluster, namespace, "env", "main").strip()
    node = json.loads(cluster.kubectl("get", "pod", "env", "-n", namespace, "-o", "json"))
    assert line == (
        f"COLOR=blue CFG_size=L PASSWORD=s3cret MEM=64 CPU=250 NODE={node['spec']['nodeName']} "
        "EXPANDED=blue-L-$(NOPE) ESCAPED=$(COLOR) OPTIONAL=unset SVC=8080 KUBE=set"
    )


def test_missing_config_map_is_a_config_error(cluster: ClusterProcess, namespace: str) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "noconf"},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "busybox",
                    "command": ["sh", "-c", "true"],
                    "env": [
                        {
                            "name": "X",
                            "valueFrom": {"configMapKeyRef": {"name": "nowhere", "key": "k"}},
                        }
                    ],
                }
            ]
        },
    }
    apply(cluster, namespace, pod)

    def waiting() -> dict[str, Any] | None:
        out = cluster.kubectl("get", "pod", "noconf", "-n", namespace, "-o", "json")
        statuses = json.loads(out)["status"].get("containerStatuses") or []
        return (statuses[0]["state"].get("waiting") if statuses else None) or None

    state = eventually(
        lambda: (w := waiting()) and w.get("reason") == "CreateContainerConfigError" and w,
        timeout=30,
    )
    assert state["message"] == 'configmap "nowhere" not found'


def test_volumes(cluster: ClusterProcess, namespace: str) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "tls"},
        "stringData": {"tls.crt": "CERT", "tls.key": "KEY"},
    }
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "app"},
        "data": {"app.conf": "port=80\n"},
    }
    base = f"/tmp/atoll-vol-{namespace}"
    reader = (
        f"cat {base}/secret/cert.pem; echo; stat -c %a {base}/secret/..data/cert.pem; "
        f"cat {base}/info/labels; echo; cat {base}/info/name; echo; "
        f"cat {base}/all/app.conf {base}/all/tls.key; echo; "
        f"cat {base}/scratch/from-init; ls {base}/secret"
    )
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "vols", "labels": {"tier": "web"}},
        "spec": {
            "restartPolicy": "Never",
            "volumes": [
                {
                    "name": "secret",
                    "secret": {
                        "secretName": "tls",
                        "items": [{"key": "tls.crt", "path": "cert.pem"}],
                        "defaultMode": 0o400,
                    },
                },
                {
                    "name": "info",
                    "downwardAPI": {
                        "items": [
                            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                            {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
                        ]
                    },
                },
                {
                    "name": "all",
                    "projected": {
                        "sources": [
                            {"configMap": {"name": "app"}},
                            {
                                "secret": {
                                    "name": "tls",
                                    "items": [{"key": "tls.key", "path": "tls.key"}],
                                }
                            },
                        ]
                    },
                },
                {"name": "scratch", "emptyDir": {}},
            ],
            "initContainers": [
                {
                    "name": "init",
                    "image": "busybox",
                    "command": ["sh", "-c", f"echo shared > {base}/scratch/from-init"],
                    "volumeMounts": [{"name": "scratch", "mountPath": f"{base}/scratch"}],
                }
            ],
            "containers": [
                {
                    "name": "main",
                    "image": "busybox",
                    "command": ["sh", "-c", reader],
                    "volumeMounts": [
                        {"name": "secret", "mountPath": f"{base}/secret", "readOnly": True},
                        {"name": "info", "mountPath": f"{base}/info"},
                        {"name": "all", "mountPath": f"{base}/all"},
                        {"name": "scratch", "mountPath": f"{base}/scratch"},
                    ],
                }
            ],
        },
    }
    apply(cluster, namespace, secret, config)
    apply(cluster, namespace, pod)
    lines = finished_logs(cluster, namespace, "vols", "main").splitlines()
    assert lines == [
        "CERT",
        "400",
        'tier="web"',
        "vols",
        "port=80",
        "KEY",
        "shared",
        "cert.pem",
    ]
