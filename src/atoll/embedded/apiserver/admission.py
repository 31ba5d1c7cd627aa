"""Admission steps of the embedded API server that need cluster state.

- ``ServiceIPs``: allocates Service ClusterIPs from a range inside 127.0.0.0/8 (reachable on
  this machine without privileges) and NodePorts from 30000–32767, as kube-apiserver's
  service REST does at create time; refuses addresses and ports already taken.
- ``NamespaceDefaults``: a Pod's ServiceAccount defaults to ``default`` (the ServiceAccount
  admission plugin's job in a real cluster).

Each keeps its allocation table in memory, rebuilt from storage on first use and kept
current through the registry's after-write hook.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from atoll.errors import FieldError, Invalid

from .registry import Registry, WriteResult
from .resources import Resource

__all__ = ["ServiceIPs"]

_SERVICES = ("", "services")


def _ips_of(svc: Mapping[str, Any]) -> set[str]:
    spec = svc.get("spec") or {}
    ips = set(spec.get("clusterIPs") or [])
    if spec.get("clusterIP"):
        ips.add(spec["clusterIP"])
    return {ip for ip in ips if ip and ip != "None"}


def _ports_of(svc: Mapping[str, Any]) -> set[int]:
    return {
        int(p["nodePort"])
        for p in (svc.get("spec") or {}).get("ports") or []
        if isinstance(p, Mapping) and isinstance(p.get("nodePort"), int)
    }


def _keep_allocations(spec: dict[str, Any], old: Mapping[str, Any]) -> None:
    """An update that omits what the server allocated keeps it, as kube's service REST does."""
    if spec.get("clusterIP") and not spec.get("clusterIPs"):
        spec["clusterIPs"] = [spec["clusterIP"]]
    if spec.get("type") != "ExternalName" and old.get("type") != "ExternalName":
        for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if not spec.get(key) and old.get(key):
                spec[key] = old[key]
    old_ports = {
        (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
        for p in old.get("ports") or []
        if isinstance(p, Mapping)
    }
    for port in spec.get("ports") or []:
        if isinstance(port, dict) and not port.get("nodePort"):
            kept = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
            if kept:
                port["nodePort"] = kept


class ServiceIPs:
    """ClusterIP and NodePort allocation for Services."""

    def __init__(
        self,
        registry: Registry,
        *,
        cidr: str = "127.96.0.0/12",
        node_ports: tuple[int, int] = (30000, 32767),
    ) -> None:
        self._registry = registry
        self._network = ipaddress.ip_network(cidr)
        self._node_ports = node_ports
        self._ips: dict[str, str] | None = None  # ip -> "ns/name"
        self._ports: dict[int, str] = {}
        self._next_ip = 10
        registry.admission.append(self)
        registry.after_write.append(self._written)

    def _load(self) -> dict[str, str]:
        if self._ips is None:
            self._ips = {}
            for entry in self._registry.storage.iter(_SERVICES):
                self._track(entry.decode())
        return self._ips

    def _track(self, svc: Mapping[str, Any], *, remove: bool = False) -> None:
        assert self._ips is not None
        meta = svc.get("metadata") or {}
        owner = f"{meta.get('namespace')}/{meta.get('name')}"
        for ip in _ips_of(svc):
            if remove:
                self._ips.pop(ip, None)
            else:
                self._ips[ip] = owner
        for port in _ports_of(svc):
            if remove:
                self._ports.pop(port, None)
            else:
                self._ports[port] = owner

    def _written(self, resource: Resource, result: WriteResult) -> None:
        if resource.storage != _SERVICES or self._ips is None or result.entry is None:
            return
        self._track(result.obj, remove=result.deleted)

    def admit(
        self, op: str, resource: Resource, obj: dict[str, Any], old: Mapping[str, Any] | None
    ) -> None:
        if resource.storage != _SERVICES:
            return
        ips = self._load()
        spec = obj.setdefault("spec", {})
        meta = obj["metadata"]
        owner = f"{meta.get('namespace')}/{meta.get('name')}"
        errors: list[FieldError] = []
        if op == "CREATE" and spec.get("type") != "ExternalName":
            self._assign_ip(spec, ips, owner, errors)
        elif old is not None:
            _keep_allocations(spec, old.get("spec") or {})
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            self._assign_node_ports(spec, owner, errors)
        else:
            for port in spec.get("ports") or []:
                if isinstance(port, dict):
                    port.pop("nodePort", None)
        if errors:
            raise Invalid.of("Service", "", meta.get("name", ""), errors)

    def _assign_ip(
        self, spec: dict[str, Any], ips: dict[str, str], owner: str, errors: list[FieldError]
    ) -> None:
        wanted = spec.get("clusterIP") or ""
        if wanted == "None":
            spec["clusterIPs"] = ["None"]
            return
        if wanted:
            try:
                inside = ipaddress.ip_address(wanted) in self._network
            except ValueError:
                inside = False
            if not inside:
                errors.append(
                    FieldError.invalid(
                        "spec.clusterIP",
                        wanted,
                        f"provided IP is not in the valid range. The range of valid IPs is "
                        f"{self._network}",
                    )
                )
                return
            if ips.get(wanted, owner) != owner:
                errors.append(
                    FieldError.invalid("spec.clusterIP", wanted, "provided IP is already allocated")
                )
                return
        else:
            wanted = self._free_ip(ips)
        spec["clusterIP"] = wanted
        spec["clusterIPs"] = [wanted]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")

    def _free_ip(self, ips: Mapping[str, str]) -> str:
        size = self._network.num_addresses
        for _ in range(size):
            candidate = str(self._network.network_address + self._next_ip)
            self._next_ip = (self._next_ip + 1) % (size - 1) or 1
            if candidate not in ips:
                return candidate
        raise Invalid("Internal error occurred: failed to allocate a serviceIP: range is full")

    def _assign_node_ports(
        self, spec: dict[str, Any], owner: str, errors: list[FieldError]
    ) -> None:
        self._load()
        low, high = self._node_ports
        for i, port in enumerate(spec.get("ports") or []):
            if not isinstance(port, dict):
                continue
            wanted = port.get("nodePort")
            if isinstance(wanted, int) and wanted:
                if not low <= wanted <= high:
                    errors.append(
                        FieldError.invalid(
                            f"spec.ports[{i}].nodePort",
                            wanted,
                            f"provided port is not in the valid range. The range of valid ports "
                            f"is {low}-{high}",
                        )
                    )
                elif self._ports.get(wanted, owner) != owner:
                    errors.append(
                        FieldError.invalid(
                            f"spec.ports[{i}].nodePort",
                            wanted,
                            "provided port is already allocated",
                        )
                    )
                else:
                    self._ports[wanted] = owner
                continue
            free = next((p for p in range(low, high + 1) if p not in self._ports), None)
            if free is None:
                errors.append(FieldError.invalid(f"spec.ports[{i}].nodePort", 0, "range is full"))
                continue
            self._ports[free] = owner
            port["nodePort"] = free
