"""Service, Endpoints, Ingress and NetworkPolicy validation."""

from __future__ import annotations

import copy
from typing import Any

from atoll.embedded.apiserver.builtins import default, validate


def _messages(
    group: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None = None
) -> list[str]:
    default(group, kind, obj)
    return [str(e) for e in validate(group, kind, obj, old, namespaced=True)]


def _service(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "d"},
        "spec": {"ports": [{"port": 80}], **spec},
    }


def test_valid_services() -> None:
    assert _messages("", "Service", _service(selector={"app": "web"})) == []
    assert _messages("", "Service", _service(ports=[], clusterIP="None")) == []
    external = {"spec": {"type": "ExternalName", "externalName": "example.com."}}
    assert _messages("", "Service", external) == []


def test_service_ports() -> None:
    svc = _service(
        ports=[{"port": 0, "protocol": "ICMP"}, {"port": 80, "name": "http", "targetPort": "Web"}]
    )
    assert _messages("", "Service", svc) == [
        "spec.ports[0].name: Required value",
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[1].targetPort: Invalid value: "Web": must contain only alpha-numeric '
        "characters (a-z, 0-9), and hyphens (-)",
    ]
    assert _messages("", "Service", _service(ports=[])) == ["spec.ports: Required value"]


def test_duplicate_service_ports() -> None:
    svc = _service(ports=[{"port": 80, "name": "a"}, {"port": 80, "name": "b"}])
    assert _messages("", "Service", svc) == [
        'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", Port:80}'
    ]


def test_service_type_and_node_ports() -> None:
    assert _messages("", "Service", _service(type="Magic")) == [
        'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", '
        '"LoadBalancer", "NodePort"'
    ]
    svc = _service(ports=[{"port": 80, "nodePort": 30080}])
    assert _messages("", "Service", svc) == [
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
    ]
    assert _messages("", "Service", _service(type="NodePort", clusterIP="None")) == [
        "spec.clusterIP: Invalid value: \"None\": may not be set to 'None' for NodePort services"
    ]
    assert _messages("", "Service", {"spec": {"type": "ExternalName"}}) == [
        "spec.externalName: Required value"
    ]


def test_cluster_ip_is_immutable() -> None:
    old = _service(clusterIP="10.0.0.10")
    default("", "Service", old)
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"app": "x"}
    assert _messages("", "Service", new, old) == []
    new["spec"]["clusterIP"] = "10.0.0.11"
    assert _messages("", "Service", new, old) == [
        'spec.clusterIP: Invalid value: "10.0.0.11": field is immutable',
        'spec.clusterIPs[0]: Invalid value: "10.0.0.11": may not change once set',
    ]
    assert _messages("", "Service", _service(clusterIP="300.1.1.1")) == [
        "spec.clusterIP: Invalid value: \"300.1.1.1\": must be empty, 'None', or a valid IP address"
    ]


def test_endpoints() -> None:
    ep = {"subsets": [{"addresses": [{"ip": "10.1.0.4"}], "ports": [{"port": 8080}]}]}
    assert _messages("", "Endpoints", ep) == []
    bad = {"subsets": [{"addresses": [{"ip": "nope"}], "ports": [{"port": 80}, {"port": 81}]}]}
    assert _messages("", "Endpoints", bad) == [
        'subsets[0].addresses[0].ip: Invalid value: "nope": must be a valid IP address, '
        "(e.g. 10.9.8.7)",
        "subsets[0].ports[0].name: Required value",
        "subsets[0].ports[1].name: Required value",
    ]


def _ingress(paths: list[dict[str, Any]], **rule: Any) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "metadata": {"name": "i", "namespace": "d"},
        "spec": {"rules": [{"http": {"paths": paths}, **rule}]},
    }


BACKEND = {"service": {"name": "web", "port": {"number": 80}}}


def test_valid_ingress() -> None:
    ingress = _ingress(
        [{"path": "/", "pathType": "Prefix", "backend": BACKEND}], host="a.example.com"
    )
    assert _messages("networking.k8s.io", "Ingress", ingress) == []
    beta = {
        "apiVersion": "networking.k8s.io/v1beta1",
        "spec": {
            "rules": [
                {
                    "http": {
                        "paths": [
                            {"path": "/", "backend": {"serviceName": "web", "servicePort": 80}}
                        ]
                    }
                }
            ]
        },
    }
    assert _messages("networking.k8s.io", "Ingress", beta) == []


def test_ingress_paths_and_backends() -> None:
    ingress = _ingress(
        [
            {"path": "/", "backend": BACKEND},
            {
                "path": "api",
                "pathType": "Prefix",
                "backend": {"service": {"name": "web", "port": {}}},
            },
            {"path": "/a//b", "pathType": "Exact", "backend": {}},
        ],
        host="10.0.0.1",
    )
    assert _messages("networking.k8s.io", "Ingress", ingress) == [
        'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
        "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
        'spec.rules[0].http.paths[1].path: Invalid value: "api": must be an absolute path',
        "spec.rules[0].http.paths[1].backend: Required value: port name or number is required",
        "spec.rules[0].http.paths[2].path: Invalid value: \"/a//b\": must not contain '//'",
        'spec.rules[0].http.paths[2].backend: Invalid value: "": resource or service backend is '
        "required",
    ]
    empty = {"apiVersion": "networking.k8s.io/v1", "spec": {}}
    assert _messages("networking.k8s.io", "Ingress", empty) == [
        "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` "
        "must be specified"
    ]


def test_network_policy() -> None:
    policy = {
        "spec": {
            "podSelector": {"matchLabels": {"app": "db"}},
            "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}],
        }
    }
    assert _messages("networking.k8s.io", "NetworkPolicy", policy) == []
    bad = {
        "spec": {
            "ingress": [
                {
                    "from": [
                        {},
                        {
                            "ipBlock": {"cidr": "10.0.0.0/16", "except": ["192.168.0.0/24"]},
                            "podSelector": {},
                        },
                    ],
                    "ports": [{"protocol": "ICMP", "port": 0}],
                }
            ],
            "policyTypes": ["Sideways"],
        }
    }
    assert _messages("networking.k8s.io", "NetworkPolicy", bad) == [
        'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", '
        '"UDP", "SCTP"',
        "spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        "spec.ingress[0].from[0]: Required value: must specify a peer",
        'spec.ingress[0].from[1].ipBlock.except[0]: Invalid value: "192.168.0.0/24": must be a '
        "strict subset of `cidr`",
        "spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer",
        'spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"',
    ]
