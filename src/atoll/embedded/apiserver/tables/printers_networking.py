"""Tables of Ingress, IngressClass, NetworkPolicy and EndpointSlice (kube-apiserver 1.20)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from atoll.embedded.apiserver.tables.ages import age
from atoll.embedded.apiserver.tables.columns import AGE, NAME, Column, Printer, field
from atoll.embedded.apiserver.tables.fields import (
    items,
    mapping,
    optional_integer,
    optional_mapping,
    text,
)
from atoll.embedded.apiserver.tables.labels import format_label_selector

MAX_LISTED = 3


def _name(obj: Mapping[str, Any]) -> str:
    return text(obj, "metadata", "name")


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return age(text(obj, "metadata", "creationTimestamp"), now)


def _listed(values: list[str]) -> str:
    """At most three values, then ``+ N more...``; ``<unset>`` when there are none."""
    shown = ",".join(values[:MAX_LISTED])
    if len(values) > MAX_LISTED:
        return f"{shown} + {len(values) - MAX_LISTED} more..."
    return shown or "<unset>"


# --- Ingress, IngressClass ----------------------------------------------------------------------


def ingress_hosts(ingress: Mapping[str, Any]) -> str:
    rules = items(ingress, "spec", "rules")
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == MAX_LISTED:
            more = True
            break
        if text(rule, "host"):
            hosts.append(text(rule, "host"))
    if not hosts:
        return "*"
    # Upstream counts every rule, host or not, in "+ N more...".
    return f"{','.join(hosts)} + {len(rules) - MAX_LISTED} more..." if more else ",".join(hosts)


def _ingress_address(ingress: Mapping[str, Any]) -> str:
    found = {
        text(entry, "ip") or text(entry, "hostname")
        for entry in items(ingress, "status", "loadBalancer", "ingress")
    }
    return ",".join(sorted(found - {""}))


def _ingress_cells(ingress: Mapping[str, Any], now: datetime) -> list[Any]:
    return [
        _name(ingress),
        text(ingress, "spec", "ingressClassName") or "<none>",
        ingress_hosts(ingress),
        _ingress_address(ingress),
        "80, 443" if items(ingress, "spec", "tls") else "80",
        _age(ingress, now),
    ]


INGRESS = Printer(
    (
        NAME,
        Column(
            "Class",
            description="The name of the IngressClass resource that should be used for "
            "additional configuration",
        ),
        Column(
            "Hosts",
            description="Hosts that incoming requests are matched against before the ingress rule",
        ),
        Column(
            "Address",
            description="Address is a list containing ingress points for the load-balancer",
        ),
        Column("Ports", description="Ports of TLS configurations that open"),
        AGE,
    ),
    _ingress_cells,
)


def _ingress_class_parameters(ingress_class: Mapping[str, Any]) -> str:
    parameters = optional_mapping(ingress_class, "spec", "parameters")
    if parameters is None:
        return "<none>"
    kind = text(parameters, "kind")
    group = parameters.get("apiGroup")
    if isinstance(group, str):
        kind = f"{kind}.{group}"
    return f"{kind}/{text(parameters, 'name')}"


INGRESS_CLASS = Printer(
    (
        NAME,
        Column("Controller", description="Controller that is responsible for handling this class"),
        Column("Parameters", description="A reference to a resource with additional parameters"),
        AGE,
    ),
    lambda ic, now: [
        _name(ic),
        text(ic, "spec", "controller"),
        _ingress_class_parameters(ic),
        _age(ic, now),
    ],
)

# --- NetworkPolicy, EndpointSlice ---------------------------------------------------------------

NETWORK_POLICY = Printer(
    (NAME, field("Pod-Selector", "NetworkPolicySpec.podSelector"), AGE),
    lambda policy, now: [
        _name(policy),
        # podSelector is a struct, not a pointer, in Go: a missing one is the empty selector.
        format_label_selector(mapping(policy, "spec", "podSelector")),
        _age(policy, now),
    ],
)


def _slice_port(port: Mapping[str, Any]) -> str:
    number = optional_integer(port, "port")
    if number is not None:
        return str(number)
    name = port.get("name")
    return name if isinstance(name, str) else "*"


def _slice_cells(endpoint_slice: Mapping[str, Any], now: datetime) -> list[Any]:
    addresses = [
        address
        for endpoint in items(endpoint_slice, "endpoints")
        for address in endpoint.get("addresses") or []
        if isinstance(address, str)
    ]
    return [
        _name(endpoint_slice),
        text(endpoint_slice, "addressType"),
        _listed([_slice_port(port) for port in items(endpoint_slice, "ports")]),
        _listed(addresses),
        _age(endpoint_slice, now),
    ]


ENDPOINT_SLICE = Printer(
    (
        NAME,
        field("AddressType", "EndpointSlice.addressType"),
        field("Ports", "EndpointSlice.ports"),
        field("Endpoints", "EndpointSlice.endpoints"),
        AGE,
    ),
    _slice_cells,
)

PRINTERS = {
    ("networking.k8s.io", "Ingress"): INGRESS,
    ("extensions", "Ingress"): INGRESS,
    ("networking.k8s.io", "IngressClass"): INGRESS_CLASS,
    ("networking.k8s.io", "NetworkPolicy"): NETWORK_POLICY,
    ("extensions", "NetworkPolicy"): NETWORK_POLICY,
    ("discovery.k8s.io", "EndpointSlice"): ENDPOINT_SLICE,
}
