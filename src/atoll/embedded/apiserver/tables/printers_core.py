"""Tables of the core (``v1``) kinds other than Pod, Event and the storage kinds.

Each cell follows kube-apiserver 1.20's printer for the kind. Where a spec field would always
have been defaulted by the server before it is stored (a Service's type, a port's protocol, an
RC's replicas) the default is assumed when the field is missing, so an object stored without
defaulting still prints like the real server prints it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from atoll.embedded.apiserver.tables.ages import age, created_at
from atoll.embedded.apiserver.tables.columns import (
    AGE,
    CONTAINERS,
    CREATED_AT,
    IMAGES,
    NAME,
    Column,
    Printer,
    field,
)
from atoll.embedded.apiserver.tables.fields import (
    boolean,
    integer,
    items,
    mapping,
    optional_integer,
    quantity,
    strings,
    text,
)
from atoll.embedded.apiserver.tables.labels import format_labels
from atoll.embedded.apiserver.tables.pods import layout_containers

# Lists longer than this print the first three and "+ N more...".
MAX_LISTED = 3


def _name(obj: Mapping[str, Any]) -> str:
    return text(obj, "metadata", "name")


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return age(text(obj, "metadata", "creationTimestamp"), now)


def created_at_cells(obj: Mapping[str, Any], now: datetime) -> list[Any]:
    """Cells of the generic server's default convertor (kinds without a printer of their own)."""
    return [_name(obj), created_at(text(obj, "metadata", "creationTimestamp"))]


DEFAULT_PRINTER = Printer((NAME, CREATED_AT), created_at_cells)

# --- Namespace, ConfigMap, Secret, ServiceAccount ---------------------------------------------

NAMESPACE = Printer(
    (NAME, Column("Status", description="The status of the namespace"), AGE),
    lambda ns, now: [_name(ns), text(ns, "status", "phase"), _age(ns, now)],
)
CONFIG_MAP = Printer(
    (NAME, field("Data", "ConfigMap.data"), AGE),
    lambda cm, now: [
        _name(cm),
        len(mapping(cm, "data")) + len(mapping(cm, "binaryData")),
        _age(cm, now),
    ],
)
SECRET = Printer(
    (NAME, field("Type", "Secret.type"), field("Data", "Secret.data"), AGE),
    lambda s, now: [_name(s), text(s, "type"), len(mapping(s, "data")), _age(s, now)],
)
SERVICE_ACCOUNT = Printer(
    (NAME, field("Secrets", "ServiceAccount.secrets"), AGE),
    lambda sa, now: [_name(sa), len(items(sa, "secrets")), _age(sa, now)],
)

# --- ReplicationController, PodTemplate ---------------------------------------------------------


def _rc_cells(rc: Mapping[str, Any], now: datetime) -> list[Any]:
    names, images = layout_containers(mapping(rc, "spec", "template", "spec"))
    desired = optional_integer(rc, "spec", "replicas")
    return [
        _name(rc),
        1 if desired is None else desired,
        integer(rc, "status", "replicas"),
        integer(rc, "status", "readyReplicas"),
        _age(rc, now),
        names,
        images,
        format_labels(mapping(rc, "spec", "selector")),
    ]


REPLICATION_CONTROLLER = Printer(
    (
        NAME,
        field("Desired", "ReplicationControllerSpec.replicas", type="integer"),
        field("Current", "ReplicationControllerStatus.replicas", type="integer"),
        field("Ready", "ReplicationControllerStatus.readyReplicas", type="integer"),
        AGE,
        CONTAINERS,
        IMAGES,
        field("Selector", "ReplicationControllerSpec.selector", priority=1),
    ),
    _rc_cells,
)


def _pod_template_cells(template: Mapping[str, Any], now: datetime) -> list[Any]:
    names, images = layout_containers(mapping(template, "template", "spec"))
    labels = format_labels(mapping(template, "template", "metadata", "labels"))
    return [_name(template), names, images, labels]


POD_TEMPLATE = Printer(
    (
        NAME,
        Column("Containers", description="Names of each container in the template."),
        Column("Images", description="Images referenced by each container in the template."),
        Column("Pod Labels", description="The labels for the pod template."),
    ),
    _pod_template_cells,
)

# --- Service ------------------------------------------------------------------------------------


def _load_balancer_addresses(status: Mapping[str, Any]) -> str:
    # A sorted set, as Go's sets.String; never clipped, since the server prints wide.
    found = {
        text(entry, "ip") or text(entry, "hostname")
        for entry in items(status, "loadBalancer", "ingress")
    }
    return ",".join(sorted(found - {""}))


def service_external_ip(service: Mapping[str, Any]) -> str:
    spec = mapping(service, "spec")
    external_ips = strings(spec, "externalIPs")
    service_type = text(spec, "type") or "ClusterIP"
    if service_type in ("ClusterIP", "NodePort"):
        return ",".join(external_ips) or "<none>"
    if service_type == "LoadBalancer":
        lb_ips = _load_balancer_addresses(mapping(service, "status"))
        if external_ips:
            return ",".join([*(lb_ips.split(",") if lb_ips else []), *external_ips])
        return lb_ips or "<pending>"
    if service_type == "ExternalName":
        return text(spec, "externalName")
    return "<unknown>"


def service_ports(service: Mapping[str, Any]) -> str:
    pieces = []
    for port in items(service, "spec", "ports"):
        protocol = text(port, "protocol") or "TCP"
        node_port = integer(port, "nodePort")
        number = integer(port, "port")
        pieces.append(
            f"{number}:{node_port}/{protocol}" if node_port > 0 else f"{number}/{protocol}"
        )
    return ",".join(pieces) or "<none>"


def _service_cells(service: Mapping[str, Any], now: datetime) -> list[Any]:
    spec = mapping(service, "spec")
    # As in the v1 → internal conversion, clusterIP wins over clusterIPs[0].
    cluster_ips = strings(spec, "clusterIPs")
    cluster_ip = text(spec, "clusterIP") or (cluster_ips[0] if cluster_ips else "") or "<none>"
    return [
        _name(service),
        text(spec, "type") or "ClusterIP",
        cluster_ip,
        service_external_ip(service),
        service_ports(service),
        _age(service, now),
        format_labels(mapping(spec, "selector")),
    ]


SERVICE = Printer(
    (
        NAME,
        field("Type", "ServiceSpec.type"),
        field("Cluster-IP", "ServiceSpec.clusterIP"),
        field("External-IP", "ServiceSpec.externalIPs"),
        field("Port(s)", "ServiceSpec.ports"),
        AGE,
        field("Selector", "ServiceSpec.selector", priority=1),
    ),
    _service_cells,
)

# --- Endpoints ----------------------------------------------------------------------------------


def _host_port(ip: str, port: int) -> str:
    # net.JoinHostPort brackets any host containing a colon (IPv6).
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def format_endpoints(endpoints: Mapping[str, Any]) -> str:
    """``ip:port`` of ready addresses, at most three, then ``+ N more...``."""
    subsets = items(endpoints, "subsets")
    if not subsets:
        return "<none>"
    listed: list[str] = []
    count = 0
    for subset in subsets:
        addresses = [text(address, "ip") for address in items(subset, "addresses")]
        # Headless services may have no ports: then the bare IPs are listed.
        numbers: list[int | None] = [integer(port, "port") for port in items(subset, "ports")]
        for number in numbers or [None]:
            count += len(addresses)
            for ip in addresses[: max(MAX_LISTED - len(listed), 0)]:
                listed.append(ip if number is None else _host_port(ip, number))
    joined = ",".join(listed)
    return f"{joined} + {count - MAX_LISTED} more..." if count > MAX_LISTED else joined


ENDPOINTS = Printer(
    (NAME, field("Endpoints", "Endpoints.subsets"), AGE),
    lambda ep, now: [_name(ep), format_endpoints(ep), _age(ep, now)],
)

# --- Node ---------------------------------------------------------------------------------------

NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
NODE_ROLE_LABEL = "kubernetes.io/role"


def node_status(node: Mapping[str, Any]) -> str:
    # Only the Ready condition is shown; a later duplicate wins, as in the Go map it fills.
    ready = None
    for condition in items(node, "status", "conditions"):
        if text(condition, "type") == "Ready":
            ready = condition
    status = ["Unknown" if ready is None else _ready_word(ready)]
    if boolean(node, "spec", "unschedulable"):
        status.append("SchedulingDisabled")
    return ",".join(status)


def _ready_word(condition: Mapping[str, Any]) -> str:
    return "Ready" if text(condition, "status") == "True" else "NotReady"


def node_roles(node: Mapping[str, Any]) -> str:
    roles = set()
    for key, value in mapping(node, "metadata", "labels").items():
        if key.startswith(NODE_ROLE_PREFIX) and key[len(NODE_ROLE_PREFIX) :]:
            roles.add(key[len(NODE_ROLE_PREFIX) :])
        elif key == NODE_ROLE_LABEL and isinstance(value, str) and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _node_address(node: Mapping[str, Any], address_type: str) -> str:
    for address in items(node, "status", "addresses"):
        if text(address, "type") == address_type:
            return text(address, "address")
    return "<none>"


def _node_cells(node: Mapping[str, Any], now: datetime) -> list[Any]:
    info = mapping(node, "status", "nodeInfo")
    return [
        _name(node),
        node_status(node),
        node_roles(node),
        _age(node, now),
        text(info, "kubeletVersion"),
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        text(info, "osImage") or "<unknown>",
        text(info, "kernelVersion") or "<unknown>",
        text(info, "containerRuntimeVersion") or "<unknown>",
    ]


NODE = Printer(
    (
        NAME,
        Column("Status", description="The status of the node"),
        Column("Roles", description="The roles of the node"),
        AGE,
        field("Version", "NodeSystemInfo.kubeletVersion"),
        field("Internal-IP", "NodeStatus.addresses", priority=1),
        field("External-IP", "NodeStatus.addresses", priority=1),
        field("OS-Image", "NodeSystemInfo.osImage", priority=1),
        field("Kernel-Version", "NodeSystemInfo.kernelVersion", priority=1),
        field("Container-Runtime", "NodeSystemInfo.containerRuntimeVersion", priority=1),
    ),
    _node_cells,
)

# --- ResourceQuota, ComponentStatus -------------------------------------------------------------


def _quota_cells(quota: Mapping[str, Any], now: datetime) -> list[Any]:
    hard, used = mapping(quota, "status", "hard"), mapping(quota, "status", "used")
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        column = limits if resource.split(".")[0] == "limits" and "." in resource else requests
        column.append(f"{resource}: {quantity(used, resource)}/{quantity(hard, resource)}")
    return [_name(quota), ", ".join(requests), ", ".join(limits), _age(quota, now)]


RESOURCE_QUOTA = Printer(
    (
        NAME,
        Column(
            "Request",
            description="Request represents a minimum amount of cpu/memory that a container may "
            "consume.",
        ),
        Column(
            "Limit",
            description="Limits control the maximum amount of cpu/memory that a container may use "
            "independent of contention on the node.",
        ),
        AGE,
    ),
    _quota_cells,
)


def _component_status_cells(component: Mapping[str, Any], now: datetime) -> list[Any]:
    for condition in items(component, "conditions"):
        if text(condition, "type") == "Healthy":
            healthy = text(condition, "status") == "True"
            return [
                _name(component),
                "Healthy" if healthy else "Unhealthy",
                text(condition, "message"),
                text(condition, "error"),
            ]
    return [_name(component), "Unknown", "", ""]


COMPONENT_STATUS = Printer(
    (
        NAME,
        Column("Status", description="Status of the component conditions"),
        Column("Message", description="Message of the component conditions"),
        Column("Error", description="Error of the component conditions"),
    ),
    _component_status_cells,
)

PRINTERS = {
    ("", "Namespace"): NAMESPACE,
    ("", "ConfigMap"): CONFIG_MAP,
    ("", "Secret"): SECRET,
    ("", "ServiceAccount"): SERVICE_ACCOUNT,
    ("", "ReplicationController"): REPLICATION_CONTROLLER,
    ("", "PodTemplate"): POD_TEMPLATE,
    ("", "Service"): SERVICE,
    ("", "Endpoints"): ENDPOINTS,
    ("", "Node"): NODE,
    ("", "ResourceQuota"): RESOURCE_QUOTA,
    ("", "ComponentStatus"): COMPONENT_STATUS,
    ("", "LimitRange"): DEFAULT_PRINTER,
}
