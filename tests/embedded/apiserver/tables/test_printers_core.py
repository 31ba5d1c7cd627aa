"""Tables of the core kinds other than Pod and Event."""

from __future__ import annotations

from typing import Any

import pytest
from tests.embedded.apiserver.tables.tables_support import NOW, meta

from atoll.embedded.apiserver.tables import column_definitions, row_cells


def names(kind: str) -> list[str]:
    return [column["name"] for column in column_definitions("", kind)]


def cells(kind: str, obj: dict[str, Any]) -> list[Any]:
    return row_cells("", kind, obj, now=NOW)


def test_namespace() -> None:
    assert names("Namespace") == ["Name", "Status", "Age"]
    ns = {"metadata": meta("team-a"), "status": {"phase": "Active"}}
    assert cells("Namespace", ns) == ["team-a", "Active", "5m"]


def test_config_map_counts_data_and_binary_data() -> None:
    assert names("ConfigMap") == ["Name", "Data", "Age"]
    cm = {"metadata": meta("cfg"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}
    assert cells("ConfigMap", cm) == ["cfg", 3, "5m"]
    assert cells("ConfigMap", {"metadata": meta("empty")}) == ["empty", 0, "5m"]


def test_secret() -> None:
    assert names("Secret") == ["Name", "Type", "Data", "Age"]
    secret = {
        "metadata": meta("tls"),
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "", "tls.key": ""},
    }
    assert cells("Secret", secret) == ["tls", "kubernetes.io/tls", 2, "5m"]


def test_service_account() -> None:
    assert names("ServiceAccount") == ["Name", "Secrets", "Age"]
    sa = {"metadata": meta("default"), "secrets": [{"name": "default-token-abcde"}]}
    assert cells("ServiceAccount", sa) == ["default", 1, "5m"]


def test_replication_controller() -> None:
    columns = column_definitions("", "ReplicationController")
    assert [(c["name"], c["type"], c["priority"]) for c in columns] == [
        ("Name", "string", 0),
        ("Desired", "integer", 0),
        ("Current", "integer", 0),
        ("Ready", "integer", 0),
        ("Age", "string", 0),
        ("Containers", "string", 1),
        ("Images", "string", 1),
        ("Selector", "string", 1),
    ]
    rc = {
        "metadata": meta("frontend"),
        "spec": {
            "replicas": 3,
            "selector": {"app": "guestbook", "tier": "frontend"},
            "template": {
                "spec": {
                    "containers": [
                        {"name": "php", "image": "php:7"},
                        {"name": "log", "image": "fluentd"},
                    ]
                }
            },
        },
        "status": {"replicas": 3, "readyReplicas": 2},
    }
    assert cells("ReplicationController", rc) == [
        "frontend",
        3,
        3,
        2,
        "5m",
        "php,log",
        "php:7,fluentd",
        "app=guestbook,tier=frontend",
    ]
    assert cells("ReplicationController", {"metadata": meta("new")}) == [
        "new",
        1,
        0,
        0,
        "5m",
        "",
        "",
        "<none>",
    ]


def test_pod_template() -> None:
    assert names("PodTemplate") == ["Name", "Containers", "Images", "Pod Labels"]
    template = {
        "metadata": meta("tmpl"),
        "template": {
            "metadata": {"labels": {"b": "2", "a": "1"}},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
        },
    }
    assert cells("PodTemplate", template) == ["tmpl", "c", "i", "a=1,b=2"]
    assert column_definitions("", "PodTemplate")[1]["priority"] == 0


def service(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"metadata": meta("web"), "spec": spec, "status": status or {}}


def test_service_columns() -> None:
    columns = column_definitions("", "Service")
    assert [(c["name"], c["priority"]) for c in columns] == [
        ("Name", 0),
        ("Type", 0),
        ("Cluster-IP", 0),
        ("External-IP", 0),
        ("Port(s)", 0),
        ("Age", 0),
        ("Selector", 1),
    ]


@pytest.mark.parametrize(
    ("spec", "status", "expected"),
    [
        (
            {
                "type": "ClusterIP",
                "clusterIP": "10.96.0.10",
                "clusterIPs": ["10.96.0.10"],
                "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}],
                "selector": {"app": "web"},
            },
            {},
            ["web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "5m", "app=web"],
        ),
        (
            {
                "type": "NodePort",
                "clusterIP": "10.96.0.11",
                "ports": [
                    {"port": 80, "nodePort": 30080, "protocol": "TCP"},
                    {"port": 53, "protocol": "UDP"},
                ],
            },
            {},
            ["web", "NodePort", "10.96.0.11", "<none>", "80:30080/TCP,53/UDP", "5m", "<none>"],
        ),
        (
            {
                "type": "LoadBalancer",
                "clusterIP": "10.96.0.12",
                "ports": [{"port": 443, "nodePort": 31443}],
            },
            {},
            ["web", "LoadBalancer", "10.96.0.12", "<pending>", "443:31443/TCP", "5m", "<none>"],
        ),
        (
            {"type": "LoadBalancer", "clusterIP": "10.96.0.12", "ports": [{"port": 443}]},
            {
                "loadBalancer": {
                    "ingress": [
                        {"ip": "203.0.113.9"},
                        {"hostname": "lb.example.com"},
                        {"ip": "203.0.113.1"},
                    ]
                }
            },
            [
                "web",
                "LoadBalancer",
                "10.96.0.12",
                "203.0.113.1,203.0.113.9,lb.example.com",
                "443/TCP",
                "5m",
                "<none>",
            ],
        ),
        (
            {"type": "LoadBalancer", "clusterIP": "10.96.0.12", "externalIPs": ["198.51.100.7"]},
            {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}]}},
            [
                "web",
                "LoadBalancer",
                "10.96.0.12",
                "203.0.113.9,198.51.100.7",
                "<none>",
                "5m",
                "<none>",
            ],
        ),
        (
            {
                "type": "ClusterIP",
                "clusterIP": "10.96.0.13",
                "externalIPs": ["198.51.100.7", "198.51.100.8"],
            },
            {},
            [
                "web",
                "ClusterIP",
                "10.96.0.13",
                "198.51.100.7,198.51.100.8",
                "<none>",
                "5m",
                "<none>",
            ],
        ),
        (
            {"type": "ExternalName", "externalName": "db.example.com"},
            {},
            ["web", "ExternalName", "<none>", "db.example.com", "<none>", "5m", "<none>"],
        ),
        (
            {"clusterIP": "None", "ports": [{"port": 5432}]},
            {},
            ["web", "ClusterIP", "None", "<none>", "5432/TCP", "5m", "<none>"],
        ),
        (
            {"type": "Weird"},
            {},
            ["web", "Weird", "<none>", "<unknown>", "<none>", "5m", "<none>"],
        ),
    ],
)
def test_service_rows(spec: dict[str, Any], status: dict[str, Any], expected: list[Any]) -> None:
    assert cells("Service", service(spec, status)) == expected


def endpoints(*subsets: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": meta("web"), "subsets": list(subsets)}


def addresses(*ips: str) -> list[dict[str, str]]:
    return [{"ip": ip} for ip in ips]


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"metadata": meta("web")}, "<none>"),
        (endpoints({"addresses": addresses("10.1.0.1"), "ports": [{"port": 80}]}), "10.1.0.1:80"),
        (
            endpoints(
                {
                    "addresses": addresses("10.1.0.1", "10.1.0.2"),
                    "ports": [{"port": 80}, {"port": 443}],
                }
            ),
            "10.1.0.1:80,10.1.0.2:80,10.1.0.1:443 + 1 more...",
        ),
        (
            endpoints(
                {"addresses": addresses("10.1.0.1", "10.1.0.2"), "ports": [{"port": 80}]},
                {
                    "addresses": addresses("10.1.0.3", "10.1.0.4", "10.1.0.5"),
                    "ports": [{"port": 80}],
                },
            ),
            "10.1.0.1:80,10.1.0.2:80,10.1.0.3:80 + 2 more...",
        ),
        (endpoints({"addresses": addresses("10.1.0.1", "10.1.0.2")}), "10.1.0.1,10.1.0.2"),
        (endpoints({"addresses": addresses("fd00::1"), "ports": [{"port": 80}]}), "[fd00::1]:80"),
        # Not-ready addresses are not listed; a subset without ready ones prints nothing.
        (endpoints({"notReadyAddresses": addresses("10.1.0.9"), "ports": [{"port": 80}]}), ""),
    ],
)
def test_endpoints(obj: dict[str, Any], expected: str) -> None:
    assert names("Endpoints") == ["Name", "Endpoints", "Age"]
    assert cells("Endpoints", obj) == ["web", expected, "5m"]


def node(**overrides: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "metadata": meta(
            "node-a",
            labels={
                "kubernetes.io/hostname": "node-a",
                "node-role.kubernetes.io/master": "",
                "node-role.kubernetes.io/control-plane": "",
            },
        ),
        "spec": {},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
            "addresses": [
                {"type": "InternalIP", "address": "192.168.1.10"},
                {"type": "Hostname", "address": "node-a"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.20.2",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0-18-amd64",
                "containerRuntimeVersion": "containerd://1.6.20",
            },
        },
    }
    obj.update(overrides)
    return obj


def test_node_row() -> None:
    assert names("Node") == [
        "Name",
        "Status",
        "Roles",
        "Age",
        "Version",
        "Internal-IP",
        "External-IP",
        "OS-Image",
        "Kernel-Version",
        "Container-Runtime",
    ]
    assert [c["priority"] for c in column_definitions("", "Node")] == [0] * 5 + [1] * 5
    assert cells("Node", node()) == [
        "node-a",
        "Ready",
        "control-plane,master",
        "5m",
        "v1.20.2",
        "192.168.1.10",
        "<none>",
        "Debian GNU/Linux 12 (bookworm)",
        "6.1.0-18-amd64",
        "containerd://1.6.20",
    ]


def test_node_status_variants() -> None:
    cordoned = node(spec={"unschedulable": True})
    assert cells("Node", cordoned)[1] == "Ready,SchedulingDisabled"
    not_ready = node()
    not_ready["status"]["conditions"] = [{"type": "Ready", "status": "Unknown"}]
    assert cells("Node", not_ready)[1] == "NotReady"
    fresh = {"metadata": {"name": "n", "labels": {"kubernetes.io/role": "worker"}}}
    assert cells("Node", fresh) == [
        "n",
        "Unknown",
        "worker",
        "<unknown>",
        "",
        "<none>",
        "<none>",
        "<unknown>",
        "<unknown>",
        "<unknown>",
    ]
    unschedulable_unknown = {"metadata": {"name": "n"}, "spec": {"unschedulable": True}}
    assert cells("Node", unschedulable_unknown)[1:3] == ["Unknown,SchedulingDisabled", "<none>"]


def test_resource_quota() -> None:
    assert names("ResourceQuota") == ["Name", "Request", "Limit", "Age"]
    quota = {
        "metadata": meta("compute"),
        "status": {
            "hard": {"requests.cpu": "2", "pods": "10", "limits.memory": "4Gi", "limits.cpu": "4"},
            "used": {"requests.cpu": "500m", "pods": "3", "limits.cpu": "1"},
        },
    }
    assert cells("ResourceQuota", quota) == [
        "compute",
        "pods: 3/10, requests.cpu: 500m/2",
        "limits.cpu: 1/4, limits.memory: 0/4Gi",
        "5m",
    ]
    assert cells("ResourceQuota", {"metadata": meta("new")}) == ["new", "", "", "5m"]


def test_component_status() -> None:
    assert names("ComponentStatus") == ["Name", "Status", "Message", "Error"]
    healthy = {
        "metadata": {"name": "etcd-0"},
        "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}],
    }
    assert cells("ComponentStatus", healthy) == ["etcd-0", "Healthy", "ok", ""]
    assert cells("ComponentStatus", {"metadata": {"name": "s"}}) == ["s", "Unknown", "", ""]


def test_limit_range_uses_the_default_convertor() -> None:
    columns = column_definitions("", "LimitRange")
    assert [(c["name"], c["type"]) for c in columns] == [("Name", "string"), ("Created At", "date")]
    obj = {"metadata": {"name": "limits", "creationTimestamp": "2021-01-02T02:59:05Z"}}
    assert cells("LimitRange", obj) == ["limits", "2021-01-02T02:59:05Z"]
