"""Pod validation: containers, ports, env, volumes and mounts, policies, updates."""

from __future__ import annotations

import copy
from typing import Any

from atoll.embedded.apiserver.builtins import default, validate


def _pod(**spec: Any) -> dict[str, Any]:
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "nginx"}], **spec},
    }
    default("", "Pod", pod)
    return pod


def _messages(pod: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    return [str(e) for e in validate("", "Pod", pod, old, namespaced=True)]


def test_valid_pod() -> None:
    assert _messages(_pod()) == []


def test_containers_required() -> None:
    pod = _pod()
    pod["spec"]["containers"] = []
    assert _messages(pod) == ["spec.containers: Required value"]


def test_container_names_and_images() -> None:
    pod = _pod(
        initContainers=[{"name": "app", "image": "busybox"}],
        containers=[{"name": "Bad_Name", "image": ""}, {"name": "", "image": " x"}],
    )
    messages = _messages(pod)
    assert messages[0].startswith(
        'spec.containers[0].name: Invalid value: "Bad_Name": a lowercase RFC 1123 label'
    )
    assert messages[1:] == [
        "spec.containers[0].image: Required value",
        "spec.containers[1].name: Required value",
        'spec.containers[1].image: Invalid value: " x": must not have leading or trailing '
        "whitespace",
    ]


def test_duplicate_container_names() -> None:
    pod = _pod(initContainers=[{"name": "app", "image": "busybox"}])
    assert _messages(pod) == ['spec.initContainers[0].name: Duplicate value: "app"']


def test_ports() -> None:
    pod = _pod(
        containers=[
            {
                "name": "app",
                "image": "nginx",
                "ports": [
                    {"containerPort": 70000, "protocol": "ICMP", "name": "http"},
                    {"name": "http"},
                ],
            }
        ]
    )
    assert _messages(pod) == [
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and "
        "65535, inclusive",
        'spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: '
        '"SCTP", "TCP", "UDP"',
        'spec.containers[0].ports[1].name: Duplicate value: "http"',
        "spec.containers[0].ports[1].containerPort: Required value",
    ]


def test_env() -> None:
    env = [
        {"name": "1BAD"},
        {"name": "OK", "valueFrom": {}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "spec.hostname"}}},
        {"name": "LABEL", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
    ]
    pod = _pod(containers=[{"name": "app", "image": "nginx", "env": env}])
    messages = _messages(pod)
    assert messages[0].startswith(
        'spec.containers[0].env[0].name: Invalid value: "1BAD": a valid environment'
    )
    assert messages[1] == (
        'spec.containers[0].env[1].valueFrom: Invalid value: "": must specify one of: '
        "`fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"
    )
    assert messages[2].startswith(
        'spec.containers[0].env[2].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.hostname"'
    )
    assert len(messages) == 3


def test_volumes_and_mounts() -> None:
    pod = _pod(
        volumes=[{"name": "data", "emptyDir": {}}, {"name": "data", "configMap": {}}],
        containers=[
            {
                "name": "app",
                "image": "nginx",
                "volumeMounts": [
                    {"name": "data", "mountPath": "/data"},
                    {"name": "missing", "mountPath": "/data"},
                ],
            }
        ],
    )
    assert _messages(pod) == [
        "spec.volumes[1].configMap.name: Required value",
        'spec.volumes[1].name: Duplicate value: "data"',
        # atoll.errors renders NotFound like Invalid until it learns kube's "Not found" body
        "spec.containers[0].volumeMounts[1].name: " + _not_found("missing"),
        'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique',
    ]


def _not_found(value: str) -> str:
    from atoll.errors import FieldError

    return FieldError("NotFound", "", value).body()


def test_two_volume_sources() -> None:
    pod = _pod(volumes=[{"name": "v", "emptyDir": {}, "hostPath": {"path": "/x"}}])
    assert _messages(pod) == [
        "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"
    ]


def test_policies() -> None:
    pod = _pod(restartPolicy="Sometimes", dnsPolicy="Google")
    assert _messages(pod) == [
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
        '"OnFailure", "Never"',
        'spec.dnsPolicy: Unsupported value: "Google": supported values: '
        '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    ]


def test_probes_and_resources() -> None:
    container = {
        "name": "app",
        "image": "nginx",
        "livenessProbe": {"successThreshold": 2, "exec": {"command": ["true"]}},
        "readinessProbe": {},
        "resources": {"limits": {"cpu": "1"}, "requests": {"cpu": "2", "gpu": "1"}},
    }
    assert _messages(_pod(containers=[container])) == [
        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
        "spec.containers[0].readinessProbe: Required value: must specify a handler type",
        'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard '
        "resource for containers",
        'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal '
        "to cpu limit",
    ]


def test_tolerations() -> None:
    pod = _pod(
        tolerations=[
            {
                "key": "k",
                "operator": "Exists",
                "value": "v",
                "tolerationSeconds": 5,
                "effect": "NoSchedule",
            }
        ]
    )
    assert _messages(pod) == [
        'spec.tolerations[0].operator: Invalid value: "v": value must be empty when `operator` '
        "is 'Exists'",
        "spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' "
        "when "
        "`tolerationSeconds` is set",
    ]


def test_pod_updates() -> None:
    old = _pod()
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "nginx:1.20"
    new["spec"]["activeDeadlineSeconds"] = 30
    assert _messages(new, old) == []
    new["spec"]["restartPolicy"] = "Never"
    assert _messages(new, old) == [
        "spec: Forbidden: pod updates may not change fields other than "
        "`spec.containers[*].image`, `spec.initContainers[*].image`, "
        "`spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to existing "
        "tolerations)"
    ]
    new = copy.deepcopy(old)
    new["spec"]["containers"].append({"name": "b", "image": "b"})
    default("", "Pod", new)
    assert _messages(new, old) == [
        "spec.containers: Forbidden: pod updates may not add or remove containers"
    ]


def test_pod_template() -> None:
    template = {
        "metadata": {"name": "t", "namespace": "d"},
        "template": {"metadata": {"labels": {"a": "-"}}, "spec": {"containers": []}},
    }
    default("", "PodTemplate", template)
    messages = [str(e) for e in validate("", "PodTemplate", template, None, namespaced=True)]
    assert messages[0].startswith('template.metadata.labels: Invalid value: "-"')
    assert messages[1] == "template.spec.containers: Required value"
