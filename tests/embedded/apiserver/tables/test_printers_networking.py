"""Tables of Ingress, IngressClass, NetworkPolicy and EndpointSlice."""

from __future__ import annotations

from typing import Any

import pytest
from tests.embedded.apiserver.tables.tables_support import NOW, meta

from atoll.embedded.apiserver.tables import column_definitions, row_cells

NET = "networking.k8s.io"


def rules(*hosts: str) -> list[dict[str, Any]]:
    return [{"host": host} if host else {"http": {"paths": []}} for host in hosts]


@pytest.mark.parametrize("group", [NET, "extensions"])
def test_ingress_row(group: str) -> None:
    assert [c["name"] for c in column_definitions(group, "Ingress")] == [
        "Name",
        "Class",
        "Hosts",
        "Address",
        "Ports",
        "Age",
    ]
    ingress = {
        "metadata": meta("shop"),
        "spec": {
            "ingressClassName": "nginx",
            "rules": rules("shop.example.com", "api.example.com"),
            "tls": [{"hosts": ["shop.example.com"]}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "192.168.1.10"}, {"hostname": "lb.local"}]}},
    }
    assert row_cells(group, "Ingress", ingress, now=NOW) == [
        "shop",
        "nginx",
        "shop.example.com,api.example.com",
        "192.168.1.10,lb.local",
        "80, 443",
        "5m",
    ]


@pytest.mark.parametrize(
    ("hosts", "expected"),
    [
        ((), "*"),
        (("",), "*"),
        (("a", "", "b"), "a,b"),
        (("", "a", "b", "c"), "a,b,c"),
        (("a", "b", "c", "d"), "a,b,c + 1 more..."),
        (("a", "b", "c", ""), "a,b,c + 1 more..."),
        (("a", "", "b", "c", "d"), "a,b,c + 2 more..."),
    ],
)
def test_ingress_hosts(hosts: tuple[str, ...], expected: str) -> None:
    ingress = {"metadata": meta("i"), "spec": {"rules": rules(*hosts)}}
    cells = row_cells(NET, "Ingress", ingress, now=NOW)
    assert cells[1:5] == ["<none>", expected, "", "80"]


def test_ingress_class() -> None:
    assert [c["name"] for c in column_definitions(NET, "IngressClass")] == [
        "Name",
        "Controller",
        "Parameters",
        "Age",
    ]
    ic = {
        "metadata": meta("nginx"),
        "spec": {
            "controller": "k8s.io/ingress-nginx",
            "parameters": {
                "apiGroup": "k8s.example.com",
                "kind": "IngressParameters",
                "name": "external-lb",
            },
        },
    }
    assert row_cells(NET, "IngressClass", ic, now=NOW) == [
        "nginx",
        "k8s.io/ingress-nginx",
        "IngressParameters.k8s.example.com/external-lb",
        "5m",
    ]
    core_params = {
        "metadata": meta("c"),
        "spec": {"parameters": {"kind": "ConfigMap", "name": "cfg"}},
    }
    assert row_cells(NET, "IngressClass", core_params, now=NOW)[2] == "ConfigMap/cfg"
    assert row_cells(NET, "IngressClass", {"metadata": meta("n")}, now=NOW)[1:3] == ["", "<none>"]


def test_network_policy() -> None:
    assert [c["name"] for c in column_definitions(NET, "NetworkPolicy")] == [
        "Name",
        "Pod-Selector",
        "Age",
    ]
    policy = {"metadata": meta("deny"), "spec": {"podSelector": {"matchLabels": {"role": "db"}}}}
    assert row_cells(NET, "NetworkPolicy", policy, now=NOW) == ["deny", "role=db", "5m"]
    all_pods = {"metadata": meta("all"), "spec": {"podSelector": {}}}
    assert row_cells(NET, "NetworkPolicy", all_pods, now=NOW)[1] == "<none>"


def test_endpoint_slice() -> None:
    group = "discovery.k8s.io"
    assert [c["name"] for c in column_definitions(group, "EndpointSlice")] == [
        "Name",
        "AddressType",
        "Ports",
        "Endpoints",
        "Age",
    ]
    endpoint_slice = {
        "metadata": meta("web-abc12"),
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "metrics"}, {}],
        "endpoints": [
            {"addresses": ["10.1.0.1"], "conditions": {"ready": True}},
            {"addresses": ["10.1.0.2", "10.1.0.3"]},
            {"addresses": ["10.1.0.4"]},
        ],
    }
    assert row_cells(group, "EndpointSlice", endpoint_slice, now=NOW) == [
        "web-abc12",
        "IPv4",
        "80,metrics,*",
        "10.1.0.1,10.1.0.2,10.1.0.3 + 1 more...",
        "5m",
    ]
    empty = {"metadata": meta("e"), "addressType": "IPv6"}
    assert row_cells(group, "EndpointSlice", empty, now=NOW) == [
        "e",
        "IPv6",
        "<unset>",
        "<unset>",
        "5m",
    ]
