"""A compact, lazily built type tree of the built-in kinds, with Go's view of each type.

The ``kubernetes`` package's models say ``int``, ``str``, ``object``, ``List[V1Container]``;
kube-apiserver's decoder thinks in Go types (``int32``, ``intstr.IntOrString``,
``resource.Quantity``, ``[]v1.Container``) and names them in its error messages. This module
turns the former into :class:`TypeNode` values that know both, resolving a struct's fields only
when something first looks inside it, and caching them for the life of the process.

What the models cannot tell is patched in by name: which ``object`` fields are IntOrString
(``port``, ``targetPort``, ``maxSurge``…), which ``str`` fields are Quantities (resource lists,
capacities, metric targets…) and which integers are ``int64`` rather than ``int32``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from atoll.embedded.apiserver.builtins.model_source import load_model, model_names

__all__ = ["TypeNode", "go_struct_name", "model_for", "struct_fields", "struct_required"]

_INT_OR_STRING_FIELDS = frozenset(
    {"port", "targetPort", "maxSurge", "maxUnavailable", "minAvailable"}
)
_INT64_FIELDS = frozenset(
    {
        "generation",
        "observedGeneration",
        "deletionGracePeriodSeconds",
        "terminationGracePeriodSeconds",
        "activeDeadlineSeconds",
        "startingDeadlineSeconds",
        "expirationSeconds",
        "tolerationSeconds",
        "runAsUser",
        "runAsGroup",
        "fsGroup",
        "supplementalGroups",
        "gracePeriodSeconds",
        "seconds",
    }
)
# (Go struct name, JSON field) pairs typed resource.Quantity (or a map of them) in Go.
_QUANTITY_FIELDS = frozenset(
    {
        ("ResourceRequirements", "limits"),
        ("ResourceRequirements", "requests"),
        ("VolumeResourceRequirements", "limits"),
        ("VolumeResourceRequirements", "requests"),
        ("ResourceQuotaSpec", "hard"),
        ("ResourceQuotaStatus", "hard"),
        ("ResourceQuotaStatus", "used"),
        ("LimitRangeItem", "max"),
        ("LimitRangeItem", "min"),
        ("LimitRangeItem", "default"),
        ("LimitRangeItem", "defaultRequest"),
        ("LimitRangeItem", "maxLimitRequestRatio"),
        ("NodeStatus", "capacity"),
        ("NodeStatus", "allocatable"),
        ("PersistentVolumeSpec", "capacity"),
        ("PersistentVolumeClaimStatus", "capacity"),
        ("PersistentVolumeClaimStatus", "allocatedResources"),
        ("ContainerStatus", "allocatedResources"),
        ("EmptyDirVolumeSource", "sizeLimit"),
        ("PodSpec", "overhead"),
        ("Overhead", "podFixed"),
        ("MetricTarget", "value"),
        ("MetricTarget", "averageValue"),
        ("MetricValueStatus", "value"),
        ("MetricValueStatus", "averageValue"),
        ("ResourceFieldSelector", "divisor"),
        ("CSIStorageCapacity", "capacity"),
        ("CSIStorageCapacity", "maximumVolumeSize"),
    }
)
# Fields kube-apiserver 1.20 accepts that newer models dropped: (Go struct, JSON field) → type.
_LEGACY_FIELDS = {
    "ObjectMeta": {"clusterName": "str"},
    "ServiceSpec": {"topologyKeys": "List[str]"},
    "EventSeries": {"state": "str"},
}

# Kinds whose old versions have another shape than the model the package keeps: no schema.
_DIFFERENT_SHAPES = frozenset(
    {
        ("networking.k8s.io", "v1beta1", "Ingress"),
        ("extensions", "v1beta1", "Ingress"),
        ("autoscaling", "v2beta1", "HorizontalPodAutoscaler"),
        ("discovery.k8s.io", "v1beta1", "EndpointSlice"),
        ("apiextensions.k8s.io", "v1beta1", "CustomResourceDefinition"),
    }
)
_FALLBACK_VERSIONS = {"v2beta2": ("v2", "v1"), "v2beta1": ("v2", "v1")}

_MODEL_NAME = re.compile(r"^(?:[A-Z][a-z]+)*?(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$")
_LIST = re.compile(r"^(?:List|list)\[(.+)\]$")
_DICT = re.compile(r"^(?:Dict\[|dict\()str, (.+)[\])]$")


@dataclass(frozen=True, slots=True)
class TypeNode:
    """One JSON type: ``kind`` is string, integer, number, boolean, time, bytes, any,
    int-or-string, quantity, array, map or struct (``model`` names the model class)."""

    kind: str
    item: TypeNode | None = None
    model: str = ""
    bits: int = 32

    @property
    def go(self) -> str:
        """The Go type as kube's decoder names it (``int32``, ``[]v1.Container``)."""
        match self.kind:
            case "integer":
                return f"int{self.bits}"
            case "number":
                return "float64"
            case "boolean":
                return "bool"
            case "bytes":
                return "[]uint8"
            case "int-or-string":
                return "intstr.IntOrString"
            case "quantity":
                return "resource.Quantity"
            case "time":
                return "v1.Time"
            case "any":
                return "runtime.RawExtension"
            case "array":
                return "[]" + (self.item.go if self.item else "interface {}")
            case "map":
                return "map[string]" + (self.item.go if self.item else "interface {}")
            case "struct":
                return go_qualified_name(self.model)
        return "string"


_SCALARS = {
    "str": TypeNode("string"),
    "bool": TypeNode("boolean"),
    "float": TypeNode("number"),
    "datetime": TypeNode("time"),
    "date": TypeNode("time"),
    "bytes": TypeNode("bytes"),
    "object": TypeNode("any"),
}


def _split_model_name(model: str) -> tuple[str, str]:
    match = _MODEL_NAME.match(model)
    return (match.group(1).lower(), match.group(2)) if match else ("v1", model)


def go_struct_name(model: str) -> str:
    """``V1DeploymentSpec`` → ``DeploymentSpec``; ``CoreV1Event`` → ``Event``."""
    return _split_model_name(model)[1]


def go_qualified_name(model: str) -> str:
    """``V1DeploymentSpec`` → ``v1.DeploymentSpec`` (Go's package-qualified type name)."""
    version, name = _split_model_name(model)
    return f"{version}.{name}"


def _parse(text: str, *, struct: str, field: str) -> TypeNode:
    text = text.strip()
    if (inner := _LIST.match(text)) is not None:
        return TypeNode("array", item=_parse(inner.group(1), struct=struct, field=field))
    if (inner := _DICT.match(text)) is not None:
        return TypeNode("map", item=_parse(inner.group(1), struct=struct, field=field))
    if text == "int":
        return TypeNode("integer", bits=64 if field in _INT64_FIELDS else 32)
    if text == "str" and (struct, field) in _QUANTITY_FIELDS:
        return TypeNode("quantity")
    if text == "object" and field in _INT_OR_STRING_FIELDS:
        return TypeNode("int-or-string")
    if text in _SCALARS:
        return _SCALARS[text]
    return TypeNode("struct", model=text)


@cache
def struct_fields(model: str) -> dict[str, TypeNode]:
    """JSON field name → type of model class ``model`` (empty if the package lacks it)."""
    table = load_model(model)
    if table is None:
        return {}
    struct = go_struct_name(model)
    types = dict(table.types)
    types.update(_LEGACY_FIELDS.get(struct, {}))
    return {name: _parse(text, struct=struct, field=name) for name, text in types.items()}


def struct_required(model: str) -> frozenset[str]:
    table = load_model(model)
    return table.required if table else frozenset()


def struct_descriptions(model: str) -> dict[str, str]:
    table = load_model(model)
    return table.descriptions if table else {}


def _group_prefix(group: str) -> str:
    return "Core" if not group else group.split(".", 1)[0].capitalize()


@cache
def model_for(group: str, version: str, kind: str) -> str | None:
    """The model class describing ``group/version`` ``kind``, or None when there is none.

    ``("apps", "v1", "Deployment")`` → ``V1Deployment``; core ``Event`` → ``CoreV1Event``;
    versions the package no longer has fall back to the stable model of the same shape
    (``batch/v1beta1`` CronJob → ``V1CronJob``).
    """
    if (group, version, kind) in _DIFFERENT_SHAPES:
        return None
    names = model_names()
    versions: tuple[str, ...] = (version, *_FALLBACK_VERSIONS.get(version, ("v1",)))
    for candidate_version in versions:
        stem: str = candidate_version.capitalize() + kind
        for name in (stem, _group_prefix(group) + stem):
            if name in names:
                return name
    return None
