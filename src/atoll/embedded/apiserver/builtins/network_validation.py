"""Validation of networking kinds: Service, Endpoints, Ingress and NetworkPolicy (kube 1.20).

Cluster IP and node port *allocation* is the caller's; this checks shape and, on update, that
an assigned ``spec.clusterIP`` does not change. As in kube, where the Service REST handler
copies allocated values into an update that omits them before validating, the caller should
carry ``clusterIP`` and ``nodePort`` over from the old object first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from atoll.embedded.apiserver.builtins.checks import (
    GoValue,
    as_int,
    as_list,
    as_map,
    as_str,
    immutable,
    label_selector_errors,
    labels_errors,
)
from atoll.embedded.apiserver.builtins.names import (
    dns1035_label_errors,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    port_name_errors,
    port_number_errors,
    wildcard_dns1123_subdomain_errors,
)
from atoll.errors import FieldError

__all__ = ["endpoints_errors", "ingress_errors", "network_policy_errors", "service_errors"]

Obj = Mapping[str, Any]
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
_BAD_PATH_PARTS = ("//", "/./", "/../", "%2f", "%2F")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _protocol_errors(path: str, protocol: Any) -> list[FieldError]:
    if not protocol:
        return [FieldError.required(path)]
    return [] if protocol in _PROTOCOLS else [FieldError.not_supported(path, protocol, _PROTOCOLS)]


def port_or_name_errors(path: str, port: Any) -> list[FieldError]:
    """ValidatePortNumOrName: an int in 1–65535 or an IANA service name."""
    if isinstance(port, str):
        return [FieldError.invalid(path, port, m) for m in port_name_errors(port)]
    number = as_int(port)
    return [FieldError.invalid(path, number, m) for m in port_number_errors(number)]


def _service_port_errors(
    port: Obj, where: str, *, need_name: bool, names: set[str]
) -> list[FieldError]:
    errors: list[FieldError] = []
    name = as_str(port.get("name"))
    if need_name and not name:
        errors.append(FieldError.required(f"{where}.name"))
    elif name:
        errors += [FieldError.invalid(f"{where}.name", name, m) for m in dns1123_label_errors(name)]
        if name in names:
            errors.append(FieldError.duplicate(f"{where}.name", name))
        names.add(name)
    number = as_int(port.get("port"))
    errors += [FieldError.invalid(f"{where}.port", number, m) for m in port_number_errors(number)]
    errors += _protocol_errors(f"{where}.protocol", port.get("protocol"))
    return errors + port_or_name_errors(f"{where}.targetPort", port.get("targetPort"))


def _service_ports_errors(spec: Obj) -> list[FieldError]:
    ports = [as_map(p) for p in as_list(spec.get("ports"))]
    errors: list[FieldError] = []
    names: set[str] = set()
    seen: set[tuple[str, int]] = set()
    seen_node_ports: set[tuple[str, int]] = set()
    for i, port in enumerate(ports):
        where = f"spec.ports[{i}]"
        errors += _service_port_errors(port, where, need_name=len(ports) > 1, names=names)
        protocol, number = as_str(port.get("protocol")), as_int(port.get("port"))
        node_port = as_int(port.get("nodePort"))
        if node_port and spec.get("type") == "ClusterIP":
            errors.append(
                FieldError.forbidden(
                    f"{where}.nodePort", "may not be used when `type` is 'ClusterIP'"
                )
            )
        if node_port and (protocol, node_port) in seen_node_ports:
            errors.append(FieldError.duplicate(f"{where}.nodePort", node_port))
        seen_node_ports.add((protocol, node_port))
        if (protocol, number) in seen:
            shown = GoValue(f'core.ServicePort{{Name:"", Protocol:"{protocol}", Port:{number}}}')
            errors.append(FieldError.duplicate(where, shown))
        seen.add((protocol, number))
    return errors


def _service_type_errors(spec: Obj) -> list[FieldError]:
    kind, cluster_ip = spec.get("type"), as_str(spec.get("clusterIP"))
    errors: list[FieldError] = []
    if not kind:
        errors.append(FieldError.required("spec.type"))
    elif kind not in _SERVICE_TYPES:
        errors.append(FieldError.not_supported("spec.type", kind, _SERVICE_TYPES))
    if kind in ("LoadBalancer", "NodePort") and cluster_ip == "None":
        errors.append(
            FieldError.invalid(
                "spec.clusterIP", cluster_ip, f"may not be set to 'None' for {kind} services"
            )
        )
    if kind == "ExternalName":
        cname = as_str(spec.get("externalName")).removesuffix(".")
        if not cname:
            errors.append(FieldError.required("spec.externalName"))
        errors += (
            [
                FieldError.invalid("spec.externalName", cname, m)
                for m in dns1123_subdomain_errors(cname)
            ]
            if cname
            else []
        )
    elif cluster_ip and cluster_ip != "None" and not _is_ip(cluster_ip):
        errors.append(
            FieldError.invalid(
                "spec.clusterIP", cluster_ip, "must be empty, 'None', or a valid IP address"
            )
        )
    return errors


def _affinity_errors(spec: Obj) -> list[FieldError]:
    affinity = spec.get("sessionAffinity")
    if not affinity:
        return [FieldError.required("spec.sessionAffinity")]
    if affinity not in ("ClientIP", "None"):
        return [FieldError.not_supported("spec.sessionAffinity", affinity, ("ClientIP", "None"))]
    if affinity == "None" and spec.get("sessionAffinityConfig") is not None:
        return [
            FieldError.forbidden(
                "spec.sessionAffinityConfig", "must not be set when session affinity is None"
            )
        ]
    timeout = as_map(as_map(spec.get("sessionAffinityConfig")).get("clientIP")).get(
        "timeoutSeconds"
    )
    if affinity == "ClientIP" and isinstance(timeout, int) and not 0 < timeout <= 86400:
        return [
            FieldError.invalid(
                "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                timeout,
                "must be greater than 0 and less than 86400",
            )
        ]
    return []


def service_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = as_map(obj.get("spec"))
    errors: list[FieldError] = []
    headless = spec.get("clusterIP") == "None"
    if not as_list(spec.get("ports")) and not headless and spec.get("type") != "ExternalName":
        errors.append(FieldError.required("spec.ports"))
    errors += _service_type_errors(spec)
    errors += _service_ports_errors(spec)
    errors += labels_errors("spec.selector", spec.get("selector"))
    errors += _affinity_errors(spec)
    for i, ip in enumerate(map(as_str, as_list(spec.get("externalIPs")))):
        if not _is_ip(ip):
            errors.append(
                FieldError.invalid(
                    f"spec.externalIPs[{i}]", ip, "must be a valid IP address, (e.g. 10.9.8.7)"
                )
            )
    if old is not None:
        before = as_map(old.get("spec"))
        assigned = as_str(before.get("clusterIP"))
        if spec.get("type") != "ExternalName" and before.get("type") != "ExternalName" and assigned:
            errors += immutable("spec.clusterIP", as_str(spec.get("clusterIP")), old=assigned)
            wanted = as_str(spec.get("clusterIP"))
            if wanted and wanted != assigned:
                # clusterIPs[0] mirrors clusterIP; 1.20's dual-stack check reports it too
                errors.append(
                    FieldError.invalid("spec.clusterIPs[0]", wanted, "may not change once set")
                )
    return errors


def endpoints_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, subset in enumerate(map(as_map, as_list(obj.get("subsets")))):
        where = f"subsets[{i}]"
        addresses = as_list(subset.get("addresses")) or as_list(subset.get("notReadyAddresses"))
        if not addresses:
            errors.append(
                FieldError.required(where, "must specify `addresses` or `notReadyAddresses`")
            )
        for key in ("addresses", "notReadyAddresses"):
            for j, address in enumerate(map(as_map, as_list(subset.get(key)))):
                ip = as_str(address.get("ip"))
                if not _is_ip(ip):
                    errors.append(
                        FieldError.invalid(
                            f"{where}.{key}[{j}].ip",
                            ip,
                            "must be a valid IP address, (e.g. 10.9.8.7)",
                        )
                    )
        ports = [as_map(p) for p in as_list(subset.get("ports"))]
        for j, port in enumerate(ports):
            name = as_str(port.get("name"))
            if len(ports) > 1 and not name:
                errors.append(FieldError.required(f"{where}.ports[{j}].name"))
            elif name:
                errors += [
                    FieldError.invalid(f"{where}.ports[{j}].name", name, m)
                    for m in dns1123_label_errors(name)
                ]
            number = as_int(port.get("port"))
            errors += [
                FieldError.invalid(f"{where}.ports[{j}].port", number, m)
                for m in port_number_errors(number)
            ]
            errors += _protocol_errors(f"{where}.ports[{j}].protocol", port.get("protocol"))
    return errors


def _backend_v1(backend: Obj) -> Obj:
    """A v1beta1 backend (serviceName/servicePort) in v1's shape, which kube validates."""
    if "serviceName" not in backend and "servicePort" not in backend:
        return backend
    port = backend.get("servicePort")
    shaped_port = {"name": port} if isinstance(port, str) else {"number": port or 0}
    return {"service": {"name": backend.get("serviceName") or "", "port": shaped_port}}


def _backend_errors(backend: Obj, where: str) -> list[FieldError]:
    backend = _backend_v1(backend)
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        return [FieldError.invalid(where, "", "cannot set both resource and service backends")]
    if service is None:
        return (
            []
            if resource is not None
            else [FieldError.invalid(where, "", "resource or service backend is required")]
        )
    service = as_map(service)
    name = as_str(service.get("name"))
    errors = (
        [FieldError.required(f"{where}.service.name")]
        if not name
        else [
            FieldError.invalid(f"{where}.service.name", name, m) for m in dns1035_label_errors(name)
        ]
    )
    port = as_map(service.get("port"))
    port_name, port_number = as_str(port.get("name")), as_int(port.get("number"))
    if port_name and port_number:
        errors.append(FieldError.invalid(where, "", "cannot set both port name & port number"))
    elif port_name:
        errors += [
            FieldError.invalid(f"{where}.service.port.name", port_name, m)
            for m in port_name_errors(port_name)
        ]
    elif port_number:
        errors += [
            FieldError.invalid(f"{where}.service.port.number", port_number, m)
            for m in port_number_errors(port_number)
        ]
    else:
        errors.append(FieldError.required(where, "port name or number is required"))
    return errors


def _ingress_path_errors(path: Obj, where: str) -> list[FieldError]:
    kind, value = path.get("pathType"), as_str(path.get("path"))
    errors: list[FieldError] = []
    if kind is None:
        return [FieldError.required(f"{where}.pathType", "pathType must be specified")]
    if kind not in _PATH_TYPES:
        errors.append(FieldError.not_supported(f"{where}.pathType", kind, _PATH_TYPES))
    elif (kind != "ImplementationSpecific" or value) and not value.startswith("/"):
        errors.append(FieldError.invalid(f"{where}.path", value, "must be an absolute path"))
    elif kind != "ImplementationSpecific":
        errors += [
            FieldError.invalid(f"{where}.path", value, f"must not contain '{bad}'")
            for bad in _BAD_PATH_PARTS
            if bad in value
        ]
        errors += [
            FieldError.invalid(f"{where}.path", value, f"cannot end with '{end}'")
            for end in ("/..", "/.")
            if value.endswith(end)
        ]
    return errors + _backend_errors(as_map(path.get("backend")), f"{where}.backend")


def _ingress_rule_errors(rule: Obj, where: str) -> list[FieldError]:
    host = as_str(rule.get("host"))
    errors: list[FieldError] = []
    if host and _is_ip(host):
        errors.append(
            FieldError.invalid(f"{where}.host", host, "must be a DNS name, not an IP address")
        )
    check = wildcard_dns1123_subdomain_errors if "*" in host else dns1123_subdomain_errors
    errors += [FieldError.invalid(f"{where}.host", host, m) for m in check(host)] if host else []
    http = rule.get("http")
    if http is not None:
        paths = as_list(as_map(http).get("paths"))
        if not paths:
            errors.append(FieldError.required(f"{where}.http.paths"))
        for i, path in enumerate(map(as_map, paths)):
            errors += _ingress_path_errors(path, f"{where}.http.paths[{i}]")
    return errors


def ingress_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = as_map(obj.get("spec"))
    v1 = str(obj.get("apiVersion", "")).endswith("/v1")
    default_key = "defaultBackend" if v1 else "backend"
    rules = as_list(spec.get("rules"))
    errors: list[FieldError] = []
    if not rules and spec.get(default_key) is None:
        errors.append(
            FieldError.invalid(
                "spec",
                GoValue("[]networking.IngressRule(nil)"),
                f"either `{default_key}` or `rules` must be specified",
            )
        )
    if spec.get(default_key) is not None:
        errors += _backend_errors(as_map(spec.get(default_key)), f"spec.{default_key}")
    for i, rule in enumerate(map(as_map, rules)):
        errors += _ingress_rule_errors(rule, f"spec.rules[{i}]")
    class_name = as_str(spec.get("ingressClassName"))
    if class_name:
        errors += [
            FieldError.invalid("spec.ingressClassName", class_name, m)
            for m in dns1123_subdomain_errors(class_name)
        ]
    return errors


def _ip_block_errors(block: Obj, where: str) -> list[FieldError]:
    cidr = as_str(block.get("cidr"))
    if not cidr:
        return [FieldError.required(f"{where}.cidr")]
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return [FieldError.invalid(f"{where}.cidr", cidr, "not a valid CIDR")]
    for i, text in enumerate(map(as_str, as_list(block.get("except")))):
        try:
            inner = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return [FieldError.invalid(f"{where}.except[{i}]", text, "not a valid CIDR")]
        if (
            inner.version != network.version
            or inner.network_address not in network
            or network.prefixlen >= inner.prefixlen
        ):
            return [
                FieldError.invalid(
                    f"{where}.except[{i}]", text, "must be a strict subset of `cidr`"
                )
            ]
    return []


def _peer_errors(peer: Obj, where: str) -> list[FieldError]:
    errors: list[FieldError] = []
    present = [
        key for key in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(key) is not None
    ]
    for key in present:
        if key == "ipBlock":
            errors += _ip_block_errors(as_map(peer.get(key)), f"{where}.ipBlock")
        else:
            errors += label_selector_errors(f"{where}.{key}", peer.get(key))
    if not present:
        errors.append(FieldError.required(where, "must specify a peer"))
    elif len(present) > 1 and "ipBlock" in present:
        errors.append(FieldError.forbidden(where, "may not specify both ipBlock and another peer"))
    return errors


def network_policy_errors(obj: Obj, old: Obj | None) -> list[FieldError]:
    spec = as_map(obj.get("spec"))
    errors = label_selector_errors("spec.podSelector", spec.get("podSelector"))
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(map(as_map, as_list(spec.get(direction)))):
            where = f"spec.{direction}[{i}]"
            for j, port in enumerate(map(as_map, as_list(rule.get("ports")))):
                protocol = port.get("protocol")
                if protocol is not None and protocol not in ("TCP", "UDP", "SCTP"):
                    errors.append(
                        FieldError.not_supported(
                            f"{where}.ports[{j}].protocol", protocol, ("TCP", "UDP", "SCTP")
                        )
                    )
                if port.get("port") is not None:
                    errors += port_or_name_errors(f"{where}.ports[{j}].port", port.get("port"))
            for j, peer in enumerate(map(as_map, as_list(rule.get(peers)))):
                errors += _peer_errors(peer, f"{where}.{peers}[{j}]")
    types = as_list(spec.get("policyTypes"))
    if len(types) > 2:
        return [
            *errors,
            FieldError.invalid(
                "spec.policyTypes", GoValue(str(types)), "may not specify more than two policyTypes"
            ),
        ]
    for i, kind in enumerate(types):
        if kind not in ("Ingress", "Egress"):
            errors.append(
                FieldError.not_supported(f"spec.policyTypes[{i}]", kind, ("Ingress", "Egress"))
            )
    return errors
