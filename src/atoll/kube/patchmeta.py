"""Strategic-merge and list-type metadata of the built-in Kubernetes kinds, written as data.

A strategic merge patch (SMP) and server-side apply (SSA) both need to know, for every list in
an object, whether it is replaced whole or merged element by element, and by which key. In
Kubernetes that knowledge lives in Go struct tags (``patchStrategy``/``patchMergeKey``) and in
the OpenAPI extensions derived from them (``x-kubernetes-patch-strategy``,
``x-kubernetes-patch-merge-key``, ``x-kubernetes-list-type``, ``x-kubernetes-list-map-keys``).
Here it is a small tree of ``PatchMeta`` nodes, hand-written from the v1.20 API.

A node describes one value. Objects list their notable fields in ``fields``; any field not
listed behaves as the default: a map merges key by key, a list is replaced whole (SMP) or
atomic (SSA). ``items`` describes list elements, or the values of a map with free-form keys.

``patch_meta_for(group, kind)`` answers ``None`` for kinds that are not built in: kube-apiserver
refuses strategic merge patches on custom resources (415), and server-side apply on them uses
``meta_from_openapi_schema`` on the CRD's schema instead (or plain object metadata when absent).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "CUSTOM_RESOURCE_META",
    "LEAF",
    "OBJECT_META",
    "ListStrategy",
    "ListType",
    "PatchMeta",
    "meta_from_openapi_schema",
    "patch_meta_for",
]

ListStrategy = Literal["merge", "replace"]
ListType = Literal["atomic", "set", "map"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True, eq=False)
class PatchMeta:
    """How one value of an object is patched and applied.

    ``list_strategy``/``merge_key``/``retain_keys`` are the SMP view (``retain_keys`` marks a
    map whose patches may carry ``$retainKeys``). ``list_type``/``list_map_keys``/
    ``key_defaults`` refine the SSA view where it differs from what the SMP tags imply: kube's
    schema converter treats a merge key as the list-map key unless the schema names its own
    keys (container ports are keyed by ``containerPort`` *and* ``protocol``, which defaults to
    TCP when omitted).
    """

    fields: Mapping[str, PatchMeta] = field(default_factory=lambda: _EMPTY)
    list_strategy: ListStrategy | None = None
    merge_key: str | None = None
    retain_keys: bool = False
    items: PatchMeta | None = None
    list_type: ListType | None = None
    list_map_keys: tuple[str, ...] = ()
    key_defaults: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def child(self, name: str) -> PatchMeta:
        """The node of field ``name`` of this object (or of a value of this free-form map)."""
        found = self.fields.get(name)
        if found is not None:
            return found
        return self.items if self.items is not None else LEAF

    @property
    def element(self) -> PatchMeta:
        """The node of this list's elements."""
        return self.items if self.items is not None else LEAF

    @property
    def smp_merges(self) -> bool:
        """Whether a strategic merge patch merges this list rather than replacing it."""
        return self.list_strategy == "merge"

    @property
    def ssa_list_type(self) -> ListType:
        """This list's type for server-side apply: ``atomic``, ``set`` or ``map``."""
        if self.list_type is not None:
            return self.list_type
        if self.list_strategy == "merge":
            return "map" if self.merge_key else "set"
        return "atomic"

    @property
    def ssa_keys(self) -> tuple[str, ...]:
        """The key fields of an associative (``map``) list for server-side apply."""
        if self.list_map_keys:
            return self.list_map_keys
        return (self.merge_key,) if self.merge_key else ()


LEAF = PatchMeta()


def _struct(**fields: PatchMeta) -> PatchMeta:
    return PatchMeta(fields=MappingProxyType(fields))


def _retaining(**fields: PatchMeta) -> PatchMeta:
    """A one-of map whose patches carry ``$retainKeys`` (``patchStrategy:"retainKeys"``)."""
    return PatchMeta(fields=MappingProxyType(fields), retain_keys=True)


def _merge_list(
    key: str,
    item: PatchMeta = LEAF,
    *,
    keys: tuple[str, ...] = (),
    defaults: Mapping[str, Any] = _EMPTY,
) -> PatchMeta:
    return PatchMeta(
        list_strategy="merge",
        merge_key=key,
        items=item,
        list_map_keys=keys,
        key_defaults=MappingProxyType(dict(defaults)),
    )


def _map_list_ssa_only(*keys: str) -> PatchMeta:
    """A list SMP replaces (no patch tags) but SSA keys (``+listType=map``)."""
    return PatchMeta(list_type="map", list_map_keys=keys)


_SET = PatchMeta(list_strategy="merge")
_REPLACE = PatchMeta(list_strategy="replace")
_CONDITIONS = _merge_list("type")
_STATUS_WITH_CONDITIONS = _struct(conditions=_CONDITIONS)

OBJECT_META = _struct(finalizers=_SET, ownerReferences=_merge_list("uid"))

_CONTAINER = _struct(
    ports=_merge_list(
        "containerPort", keys=("containerPort", "protocol"), defaults={"protocol": "TCP"}
    ),
    env=_merge_list("name"),
    volumeMounts=_merge_list("mountPath"),
    volumeDevices=_merge_list("devicePath"),
)
# Volume sources are a one-of: $retainKeys lets `kubectl apply` switch a volume from one
# source to another without the old source's fields lingering.
_VOLUME = _retaining()

_POD_SPEC = _struct(
    containers=_merge_list("name", _CONTAINER),
    initContainers=_merge_list("name", _CONTAINER),
    ephemeralContainers=_merge_list("name", _CONTAINER),
    volumes=_merge_list("name", _VOLUME),
    imagePullSecrets=_merge_list("name"),
    hostAliases=_merge_list("ip"),
    topologySpreadConstraints=_merge_list("topologyKey", keys=("topologyKey", "whenUnsatisfiable")),
    tolerations=_REPLACE,
)
_POD_TEMPLATE = _struct(metadata=OBJECT_META, spec=_POD_SPEC)
_POD_STATUS = _struct(conditions=_CONDITIONS, podIPs=_merge_list("ip"))


def _kind(**fields: PatchMeta) -> PatchMeta:
    """A top-level kind: ObjectMeta plus the given fields."""
    return _struct(metadata=OBJECT_META, **fields)


def _workload(**spec: PatchMeta) -> PatchMeta:
    """A controller whose ``spec.template`` is a pod template and whose status has conditions."""
    return _kind(spec=_struct(template=_POD_TEMPLATE, **spec), status=_STATUS_WITH_CONDITIONS)


_PLAIN = _kind()
_DEPLOYMENT = _workload(strategy=_retaining())
_REPLICA_SET = _workload()
_DAEMON_SET = _workload()
_STATEFUL_SET = _workload()
_JOB = _workload()
_CRON_JOB = _kind(spec=_struct(jobTemplate=_struct(spec=_struct(template=_POD_TEMPLATE))))
_POD = _kind(spec=_POD_SPEC, status=_POD_STATUS)
_SERVICE = _kind(
    spec=_struct(
        ports=_merge_list("port", keys=("port", "protocol"), defaults={"protocol": "TCP"})
    ),
    status=_STATUS_WITH_CONDITIONS,
)
_NODE = _kind(
    spec=_struct(podCIDRs=_SET),
    status=_struct(conditions=_CONDITIONS, addresses=_merge_list("type")),
)
_WEBHOOKS = _kind(webhooks=_merge_list("name"))

_CORE: dict[str, PatchMeta] = {
    "Pod": _POD,
    "PodTemplate": _kind(template=_POD_TEMPLATE),
    "ReplicationController": _workload(),
    "Service": _SERVICE,
    "Node": _NODE,
    "Namespace": _kind(status=_STATUS_WITH_CONDITIONS),
    "PersistentVolumeClaim": _kind(status=_STATUS_WITH_CONDITIONS),
    "ServiceAccount": _kind(secrets=_merge_list("name")),
    "ComponentStatus": _kind(conditions=_CONDITIONS),
    "EphemeralContainers": _kind(ephemeralContainers=_merge_list("name", _CONTAINER)),
    # Endpoints.subsets carries no patch tags: it is replaced whole.
    **dict.fromkeys(
        [
            "Binding",
            "ConfigMap",
            "Endpoints",
            "Event",
            "LimitRange",
            "PersistentVolume",
            "ResourceQuota",
            "Secret",
        ],
        _PLAIN,
    ),
}
_APPS: dict[str, PatchMeta] = {
    "Deployment": _DEPLOYMENT,
    "ReplicaSet": _REPLICA_SET,
    "DaemonSet": _DAEMON_SET,
    "StatefulSet": _STATEFUL_SET,
    "ControllerRevision": _PLAIN,
}

_BY_GROUP: dict[str, dict[str, PatchMeta]] = {
    "": _CORE,
    "apps": _APPS,
    # extensions/v1beta1 still serves the old workload kinds and Ingress in 1.20.
    "extensions": {
        **_APPS,
        "Ingress": _PLAIN,
        "NetworkPolicy": _PLAIN,
        "PodSecurityPolicy": _PLAIN,
    },
    "batch": {"Job": _JOB, "CronJob": _CRON_JOB},
    "autoscaling": {
        "HorizontalPodAutoscaler": _kind(status=_STATUS_WITH_CONDITIONS),
        "Scale": _PLAIN,
    },
    "policy": {
        "PodDisruptionBudget": _kind(status=_STATUS_WITH_CONDITIONS),
        "PodSecurityPolicy": _PLAIN,
        "Eviction": _PLAIN,
    },
    "networking.k8s.io": dict.fromkeys(["Ingress", "IngressClass", "NetworkPolicy"], _PLAIN),
    "rbac.authorization.k8s.io": dict.fromkeys(
        ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"], _PLAIN
    ),
    "storage.k8s.io": {
        "StorageClass": _PLAIN,
        "VolumeAttachment": _PLAIN,
        "CSIDriver": _PLAIN,
        "CSINode": _kind(spec=_struct(drivers=_merge_list("name"))),
    },
    "admissionregistration.k8s.io": {
        "MutatingWebhookConfiguration": _WEBHOOKS,
        "ValidatingWebhookConfiguration": _WEBHOOKS,
    },
    "apiextensions.k8s.io": {
        "CustomResourceDefinition": _kind(status=_struct(conditions=_map_list_ssa_only("type"))),
    },
    "apiregistration.k8s.io": {"APIService": _kind(status=_STATUS_WITH_CONDITIONS)},
    "certificates.k8s.io": {
        "CertificateSigningRequest": _kind(status=_struct(conditions=_map_list_ssa_only("type")))
    },
    "coordination.k8s.io": {"Lease": _PLAIN},
    "discovery.k8s.io": {"EndpointSlice": _PLAIN},
    "events.k8s.io": {"Event": _PLAIN},
    "scheduling.k8s.io": {"PriorityClass": _PLAIN},
    "node.k8s.io": {"RuntimeClass": _PLAIN},
    "flowcontrol.apiserver.k8s.io": dict.fromkeys(
        ["FlowSchema", "PriorityLevelConfiguration"], _PLAIN
    ),
    "authentication.k8s.io": {"TokenReview": _PLAIN, "TokenRequest": _PLAIN},
    "authorization.k8s.io": dict.fromkeys(
        [
            "SubjectAccessReview",
            "SelfSubjectAccessReview",
            "LocalSubjectAccessReview",
            "SelfSubjectRulesReview",
        ],
        _PLAIN,
    ),
}

CUSTOM_RESOURCE_META = _kind()
"""Custom resources without a schema: built-in object metadata, every other list atomic."""


def patch_meta_for(group: str, kind: str) -> PatchMeta | None:
    """The metadata of built-in ``kind`` in API ``group`` (``""`` is core); None if not built in."""
    return _BY_GROUP.get(group, {}).get(kind)


def meta_from_openapi_schema(schema: Mapping[str, Any]) -> PatchMeta:
    """Build a node tree from a CRD's ``openAPIV3Schema`` for server-side apply.

    Reads ``x-kubernetes-list-type``/``x-kubernetes-list-map-keys`` (and the patch extensions,
    which CRD schemas may also carry). ``metadata`` is always the built-in ObjectMeta.
    """
    root = _from_schema(schema)
    return PatchMeta(
        fields=MappingProxyType({**root.fields, "metadata": OBJECT_META}),
        items=root.items,
    )


def _from_schema(schema: Mapping[str, Any]) -> PatchMeta:
    properties = schema.get("properties")
    fields: dict[str, PatchMeta] = {}
    if isinstance(properties, Mapping):
        fields = {
            name: _from_schema(sub) for name, sub in properties.items() if isinstance(sub, Mapping)
        }
    items: PatchMeta | None = None
    sub_schema = schema.get("items")
    if not isinstance(sub_schema, Mapping):
        sub_schema = schema.get("additionalProperties")
    if isinstance(sub_schema, Mapping):
        items = _from_schema(sub_schema)
    return PatchMeta(
        fields=MappingProxyType(fields),
        items=items,
        **_list_settings(schema),
    )


def _list_settings(schema: Mapping[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    strategy = str(schema.get("x-kubernetes-patch-strategy", ""))
    if "merge" in strategy.split(","):
        settings["list_strategy"] = "merge"
    merge_key = schema.get("x-kubernetes-patch-merge-key")
    if isinstance(merge_key, str):
        settings["merge_key"] = merge_key
    list_type = schema.get("x-kubernetes-list-type")
    if list_type in ("atomic", "set", "map"):
        settings["list_type"] = list_type
    keys = schema.get("x-kubernetes-list-map-keys")
    if isinstance(keys, list) and all(isinstance(k, str) for k in keys):
        settings["list_map_keys"] = tuple(keys)
        settings["key_defaults"] = MappingProxyType(_key_defaults(schema, keys))
    return settings


def _key_defaults(schema: Mapping[str, Any], keys: list[str]) -> dict[str, Any]:
    """Defaults of list-map key fields, which SSA uses when an element omits a key."""
    items = schema.get("items")
    properties = items.get("properties") if isinstance(items, Mapping) else None
    if not isinstance(properties, Mapping):
        return {}
    defaults: dict[str, Any] = {}
    for key in keys:
        prop = properties.get(key)
        if isinstance(prop, Mapping) and "default" in prop:
            defaults[key] = prop["default"]
    return defaults
