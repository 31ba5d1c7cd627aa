"""What the embedded API server serves: every resource, version and subresource, in one table.

A ``Resource`` is one (group, version, plural) as clients see it in discovery. Several
served versions may share one stored version (``storage``/``storage_version``): batch/v1beta1
CronJobs are stored as batch/v1, core and events.k8s.io Events share one store, and so on —
reads and writes convert through ``conversions``. Custom resources join the same table when
their CRD becomes Established (``Catalog.add_custom``), so discovery, routing and storage
treat built-in and custom kinds alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BUILTINS", "Catalog", "Resource", "api_version_of"]

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
NO_COLLECTION_WRITE = ("create", "delete", "get", "list", "patch", "update", "watch")


def api_version_of(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


@dataclass(frozen=True, slots=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    storage_group: str | None = None  # defaults to ``group``
    storage_version: str = ""  # defaults to ``version``
    custom: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    """For custom resources: the CRD version entry (schema, subresources, printer columns)."""

    @property
    def api_version(self) -> str:
        return api_version_of(self.group, self.version)

    @property
    def storage(self) -> tuple[str, str]:
        """The storage key: (group, plural) of the stored representation."""
        return (self.group if self.storage_group is None else self.storage_group, self.plural)

    @property
    def stored_api_version(self) -> str:
        group = self.group if self.storage_group is None else self.storage_group
        return api_version_of(group, self.storage_version or self.version)

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def storage_version_hash(self) -> str:
        digest = hashlib.sha256(f"{self.stored_api_version}/{self.kind}".encode()).digest()
        import base64

        return base64.b64encode(digest[:8]).decode()

    def has(self, subresource: str) -> bool:
        return subresource in self.subresources


def _r(
    gv: str,
    plural: str,
    kind: str,
    *,
    ns: bool = True,
    short: Iterable[str] = (),
    cats: Iterable[str] = (),
    subs: Iterable[str] = (),
    verbs: tuple[str, ...] = ALL_VERBS,
    stored: str = "",
) -> Resource:
    group, _, version = gv.rpartition("/")
    storage_group, storage_version = None, ""
    if stored:
        sg, _, sv = stored.rpartition("/")
        storage_group, storage_version = sg, sv
    return Resource(
        group=group,
        version=version,
        plural=plural,
        kind=kind,
        namespaced=ns,
        singular=kind.lower(),
        short_names=tuple(short),
        categories=tuple(cats),
        subresources=tuple(subs),
        verbs=verbs,
        storage_group=storage_group,
        storage_version=storage_version,
    )


_ALL = ("all",)
_WORKLOAD_SUBS = ("status", "scale")

BUILTINS: tuple[Resource, ...] = (
    # core/v1
    _r("v1", "bindings", "Binding", verbs=("create",)),
    _r(
        "v1", "componentstatuses", "ComponentStatus", ns=False, short=("cs",), verbs=("get", "list")
    ),
    _r("v1", "configmaps", "ConfigMap", short=("cm",)),
    _r("v1", "endpoints", "Endpoints", short=("ep",)),
    _r("v1", "events", "Event", short=("ev",)),
    _r("v1", "limitranges", "LimitRange", short=("limits",)),
    _r(
        "v1",
        "namespaces",
        "Namespace",
        ns=False,
        short=("ns",),
        subs=("status", "finalize"),
        verbs=NO_COLLECTION_WRITE,
    ),
    _r("v1", "nodes", "Node", ns=False, short=("no",), subs=("status", "proxy")),
    _r("v1", "persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",), subs=("status",)),
    _r("v1", "persistentvolumes", "PersistentVolume", ns=False, short=("pv",), subs=("status",)),
    _r(
        "v1",
        "pods",
        "Pod",
        short=("po",),
        cats=_ALL,
        subs=(
            "status",
            "log",
            "exec",
            "attach",
            "portforward",
            "binding",
            "eviction",
            "proxy",
            "ephemeralcontainers",
        ),
    ),
    _r("v1", "podtemplates", "PodTemplate"),
    _r(
        "v1",
        "replicationcontrollers",
        "ReplicationController",
        short=("rc",),
        cats=_ALL,
        subs=_WORKLOAD_SUBS,
    ),
    _r("v1", "resourcequotas", "ResourceQuota", short=("quota",), subs=("status",)),
    _r("v1", "secrets", "Secret"),
    _r("v1", "serviceaccounts", "ServiceAccount", short=("sa",), subs=("token",)),
    _r(
        "v1",
        "services",
        "Service",
        short=("svc",),
        cats=_ALL,
        subs=("status", "proxy"),
        verbs=NO_COLLECTION_WRITE,
    ),
    # apps/v1
    _r("apps/v1", "controllerrevisions", "ControllerRevision"),
    _r("apps/v1", "daemonsets", "DaemonSet", short=("ds",), cats=_ALL, subs=("status",)),
    _r("apps/v1", "deployments", "Deployment", short=("deploy",), cats=_ALL, subs=_WORKLOAD_SUBS),
    _r("apps/v1", "replicasets", "ReplicaSet", short=("rs",), cats=_ALL, subs=_WORKLOAD_SUBS),
    _r("apps/v1", "statefulsets", "StatefulSet", short=("sts",), cats=_ALL, subs=_WORKLOAD_SUBS),
    # batch
    _r("batch/v1", "jobs", "Job", cats=_ALL, subs=("status",)),
    _r("batch/v1", "cronjobs", "CronJob", short=("cj",), cats=_ALL, subs=("status",)),
    _r(
        "batch/v1beta1",
        "cronjobs",
        "CronJob",
        short=("cj",),
        cats=_ALL,
        subs=("status",),
        stored="batch/v1",
    ),
    # autoscaling
    _r(
        "autoscaling/v1",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        short=("hpa",),
        cats=_ALL,
        subs=("status",),
        stored="autoscaling/v2",
    ),
    _r(
        "autoscaling/v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        short=("hpa",),
        cats=_ALL,
        subs=("status",),
    ),
    _r(
        "autoscaling/v2beta2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        short=("hpa",),
        cats=_ALL,
        subs=("status",),
        stored="autoscaling/v2",
    ),
    # policy
    _r(
        "policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", short=("pdb",), subs=("status",)
    ),
    _r(
        "policy/v1beta1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        short=("pdb",),
        subs=("status",),
        stored="policy/v1",
    ),
    # rbac
    _r("rbac.authorization.k8s.io/v1", "clusterrolebindings", "ClusterRoleBinding", ns=False),
    _r("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", ns=False),
    _r("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding"),
    _r("rbac.authorization.k8s.io/v1", "roles", "Role"),
    # networking
    _r("networking.k8s.io/v1", "ingresses", "Ingress", short=("ing",), subs=("status",)),
    _r("networking.k8s.io/v1", "ingressclasses", "IngressClass", ns=False),
    _r(
        "networking.k8s.io/v1beta1",
        "ingresses",
        "Ingress",
        short=("ing",),
        subs=("status",),
        stored="networking.k8s.io/v1",
    ),
    _r(
        "extensions/v1beta1",
        "ingresses",
        "Ingress",
        short=("ing",),
        subs=("status",),
        stored="networking.k8s.io/v1",
    ),
    _r("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", short=("netpol",)),
    # the rest
    _r("coordination.k8s.io/v1", "leases", "Lease"),
    _r("events.k8s.io/v1", "events", "Event", short=("ev",), stored="/v1"),
    _r("storage.k8s.io/v1", "storageclasses", "StorageClass", ns=False, short=("sc",)),
    _r("discovery.k8s.io/v1", "endpointslices", "EndpointSlice"),
    _r("discovery.k8s.io/v1beta1", "endpointslices", "EndpointSlice", stored="discovery.k8s.io/v1"),
    _r(
        "apiextensions.k8s.io/v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        ns=False,
        short=("crd", "crds"),
        subs=("status",),
    ),
    _r(
        "apiextensions.k8s.io/v1beta1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        ns=False,
        short=("crd", "crds"),
        subs=("status",),
        stored="apiextensions.k8s.io/v1",
    ),
    _r("scheduling.k8s.io/v1", "priorityclasses", "PriorityClass", ns=False, short=("pc",)),
)

# Preferred version per group, as kube-apiserver 1.20 advertises them.
PREFERRED = {
    "": "v1",
    # kubectl 1.20 knows CronJobs only as batch/v1beta1 (`create job --from=cronjob/x`
    # type-checks it); clients that want batch/v1 name it explicitly.
    "batch": "v1beta1",
    "extensions": "v1beta1",
    "networking.k8s.io": "v1",
    "autoscaling": "v1",
    "policy": "v1",
    "apiextensions.k8s.io": "v1",
    "discovery.k8s.io": "v1",
}
# Discovery lists groups in this order (kubectl's RESTMapper prefers earlier groups).
GROUP_ORDER = (
    "",
    "apiregistration.k8s.io",
    "extensions",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
)
VERSION_ORDER = ("v1", "v2", "v2beta2", "v2beta1", "v1beta2", "v1beta1", "v1alpha1")


def _version_rank(version: str) -> int:
    return VERSION_ORDER.index(version) if version in VERSION_ORDER else len(VERSION_ORDER)


class Catalog:
    """The resources served right now: built-ins plus Established custom resources."""

    def __init__(self, resources: Iterable[Resource] = BUILTINS) -> None:
        self._by_gvr: dict[tuple[str, str, str], Resource] = {}
        self._custom: dict[str, list[Resource]] = {}  # CRD name -> its served resources
        self._preferred_custom: dict[str, str] = {}
        for r in resources:
            self._by_gvr[(r.group, r.version, r.plural)] = r
        self.generation = 0

    def get(self, group: str, version: str, plural: str) -> Resource | None:
        return self._by_gvr.get((group, version, plural))

    def __iter__(self) -> Iterator[Resource]:
        return iter(self._by_gvr.values())

    def groups(self) -> list[str]:
        present = {r.group for r in self}
        ordered = [g for g in GROUP_ORDER if g in present]
        return ordered + sorted(present - set(ordered))

    def versions(self, group: str) -> list[str]:
        found = {r.version for r in self if r.group == group}
        preferred = self.preferred_version(group)
        rest = sorted(found - {preferred}, key=_version_rank)
        return [preferred, *rest] if preferred in found else rest

    def preferred_version(self, group: str) -> str:
        if group in self._preferred_custom:
            return self._preferred_custom[group]
        if group in PREFERRED:
            return PREFERRED[group]
        found = sorted({r.version for r in self if r.group == group}, key=_version_rank)
        return found[0] if found else ""

    def in_version(self, group: str, version: str) -> list[Resource]:
        return [r for r in self if r.group == group and r.version == version]

    def versions_of(self, storage: tuple[str, str]) -> list[Resource]:
        """Every served version of one stored resource."""
        return [r for r in self if r.storage == storage]

    def add_custom(self, crd_name: str, resources: list[Resource], preferred: str) -> None:
        """Serve a CRD's versions (replacing what it served before)."""
        self.remove_custom(crd_name)
        for r in resources:
            self._by_gvr[(r.group, r.version, r.plural)] = r
        self._custom[crd_name] = resources
        if resources:
            self._preferred_custom[resources[0].group] = preferred
        self.generation += 1

    def remove_custom(self, crd_name: str) -> None:
        for r in self._custom.pop(crd_name, []):
            self._by_gvr.pop((r.group, r.version, r.plural), None)
            if not any(x.group == r.group for x in self):
                self._preferred_custom.pop(r.group, None)
        self.generation += 1

    def custom_names(self) -> list[str]:
        return list(self._custom)
