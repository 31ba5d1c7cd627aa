"""Discovery documents: ``/version``, ``/api``, ``/apis``, ``/apis/<g>`` and resource lists.

Built from the ``Catalog`` on every request (a few hundred microseconds), so custom
resources appear the moment their CRD is Established. Shapes follow kube-apiserver 1.20,
including the fields the Python client's models require (see research/k8s-api.md §1).
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from typing import Any

from .resources import Catalog, Resource

__all__ = ["api_group", "api_group_list", "api_resource_list", "api_versions", "version_info"]

KUBE_VERSION = "v1.20.2"

_SUBRESOURCE_VERBS = {
    "status": ("get", "patch", "update"),
    "scale": ("get", "patch", "update"),
    "log": ("get",),
    "exec": ("create", "get"),
    "attach": ("create", "get"),
    "portforward": ("create", "get"),
    "proxy": ("create", "delete", "get", "patch", "update"),
    "binding": ("create",),
    "eviction": ("create",),
    "finalize": ("update",),
    "ephemeralcontainers": ("get", "patch", "update"),
    "token": ("create",),
}
_SUBRESOURCE_KIND = {
    "scale": ("autoscaling", "v1", "Scale"),
    "eviction": ("policy", "v1beta1", "Eviction"),
    "binding": ("", "", "Binding"),
    "log": ("", "", "Pod"),
    "exec": ("", "", "PodExecOptions"),
    "attach": ("", "", "PodAttachOptions"),
    "portforward": ("", "", "PodPortForwardOptions"),
    "proxy": ("", "", "PodProxyOptions"),
    "token": ("authentication.k8s.io", "v1", "TokenRequest"),
}


def version_info() -> dict[str, str]:
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return {
        "major": "1",
        "minor": "20",
        "gitVersion": KUBE_VERSION,
        "gitCommit": "faecb196815e248d3ecfb03c680a4507229c2a56",
        "gitTreeState": "clean",
        "buildDate": "2021-01-13T13:20:00Z",
        "goVersion": "go1.15.5",
        "compiler": "gc",
        "platform": f"linux/{machine}",
    }


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group_versions(catalog: Catalog, group: str) -> dict[str, Any]:
    versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in catalog.versions(group)]
    preferred = catalog.preferred_version(group)
    return {
        "name": group,
        "versions": versions,
        "preferredVersion": {"groupVersion": f"{group}/{preferred}", "version": preferred},
    }


def api_group(catalog: Catalog, group: str) -> dict[str, Any] | None:
    if group not in catalog.groups() or not group:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_versions(catalog, group)}


def api_group_list(catalog: Catalog, extra: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The served groups; ``extra`` ones (served outside the Catalog, as ``metrics.k8s.io``)
    come last, where kube-apiserver lists aggregated APIs."""
    groups = [_group_versions(catalog, g) for g in catalog.groups() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [*groups, *extra]}


def _entry(r: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": r.plural,
        "singularName": r.singular if r.custom is not None else "",
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": list(r.verbs),
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    entry["storageVersionHash"] = r.storage_version_hash
    return entry


def _sub_entry(r: Resource, sub: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": f"{r.plural}/{sub}",
        "singularName": "",
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": list(_SUBRESOURCE_VERBS.get(sub, ("get",))),
    }
    if sub in _SUBRESOURCE_KIND:
        group, version, kind = _SUBRESOURCE_KIND[sub]
        if group or version:
            entry["group"], entry["version"] = group, version
        entry["kind"] = kind
    return entry


def api_resource_list(catalog: Catalog, group: str, version: str) -> dict[str, Any] | None:
    resources = sorted(catalog.in_version(group, version), key=lambda r: r.plural)
    if not resources:
        return None
    entries: list[dict[str, Any]] = []
    for r in resources:
        entries.append(_entry(r))
        entries.extend(_sub_entry(r, sub) for sub in r.subresources)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": entries,
    }
