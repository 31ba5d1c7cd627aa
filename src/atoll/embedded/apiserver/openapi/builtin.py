"""Definitions of the built-in kinds, named as kube-apiserver names them.

:func:`~atoll.embedded.apiserver.builtins.schema_of` expands a kind into one ``$ref``-free
tree. kube publishes one definition per Go type instead (``io.k8s.api.core.v1.PodSpec``,
``io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta``…) and kubectl's validator reports errors
under those names (``invalid type for io.k8s.api.core.v1.Container.args``). So we walk each
tree alongside the type tree it was rendered from (its properties mirror the model's fields),
and hoist every struct into a definition of its own, leaving a ``$ref`` behind. The result is
also about six times smaller than the expanded trees.

Two adjustments keep kubectl's parser (kube-openapi ``pkg/util/proto``) permissive where kube
is: a free-form value (``object`` in the models: RawExtension, JSON, IntOrString fields the
type tree does not know) is published without a type, which kubectl accepts whatever it holds;
and a struct the models lack is published as a free-form object rather than as an object
without fields, which would reject every field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from atoll.embedded.apiserver.builtins import schema_of
from atoll.embedded.apiserver.builtins.type_tree import (
    TypeNode,
    model_for,
    struct_descriptions,
    struct_fields,
)
from atoll.kube.patchmeta import PatchMeta, patch_meta_for

from ..resources import Resource

__all__ = [
    "GVK",
    "META",
    "BuiltinDefinitions",
    "list_definition",
    "object_metadata",
    "package_of",
    "ref",
    "type_meta_properties",
]

META = "io.k8s.apimachinery.pkg.apis.meta"
GVK = "x-kubernetes-group-version-kind"
_PATCH_STRATEGY = "x-kubernetes-patch-strategy"
_PATCH_MERGE_KEY = "x-kubernetes-patch-merge-key"

_MODEL = re.compile(r"^([A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$")
# Go types of k8s.io/apimachinery/pkg/apis/meta/v1 the models name without a group prefix.
_META_STRUCTS = frozenset(
    {
        "APIGroup",
        "APIResource",
        "APIResourceList",
        "APIVersions",
        "Condition",
        "DeleteOptions",
        "GroupVersionForDiscovery",
        "LabelSelector",
        "LabelSelectorRequirement",
        "ListMeta",
        "ManagedFieldsEntry",
        "ObjectMeta",
        "OwnerReference",
        "Preconditions",
        "ServerAddressByClientCIDR",
        "Status",
        "StatusCause",
        "StatusDetails",
        "WatchEvent",
    }
)
_PACKAGES = {
    "core": "io.k8s.api.core",
    "meta": META,
    "apiextensions": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions",
    "apiregistration": "io.k8s.kube-aggregator.pkg.apis.apiregistration",
}


def package_of(group: str) -> str:
    """``apps`` → ``io.k8s.api.apps``; ``""`` → ``io.k8s.api.core``."""
    label = group.split(".", 1)[0] if group else "core"
    return _PACKAGES.get(label, f"io.k8s.api.{label}")


def ref(name: str, description: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description} if description else {}
    out["$ref"] = f"#/definitions/{name}"
    return out


class BuiltinDefinitions:
    """Collects definitions: kinds first (core first), then the structs they reach."""

    def __init__(self) -> None:
        self.definitions: dict[str, dict[str, Any]] = {}
        self._names: dict[str, str] = {}  # model -> definition name
        self._owners: dict[str, str] = {}  # definition name -> model

    def kind_name(self, r: Resource) -> str:
        return f"{package_of(r.group)}.{r.version}.{r.kind}"

    def add_kind(self, r: Resource) -> str:
        """Define ``r``'s kind (and the structs it uses); return the definition's name."""
        name = self.kind_name(r)
        gvk = [{"group": r.group, "kind": r.kind, "version": r.version}]
        if name in self.definitions:  # already reached as another kind's field
            self.definitions[name].setdefault(GVK, gvk)
            return name
        schema = schema_of(r.group, r.version, r.kind)
        model = model_for(r.group, r.version, r.kind)
        if schema is None or model is None:
            self.definitions[name] = {"type": "object", GVK: gvk}
            return name
        self._names.setdefault(model, name)
        self._owners.setdefault(name, model)
        self.definitions[name] = {}  # reserve the name while its fields are walked
        body = self._struct(schema, model, r.group)
        if r.group != "apiextensions.k8s.io" and "spec" in body.get("required", ()):
            # Newer models require a workload's spec; kube 1.20 requires only a CRD's.
            body["required"] = [n for n in body["required"] if n != "spec"]
            if not body["required"]:
                del body["required"]
        body[GVK] = gvk
        self.definitions[name] = body
        return name

    def add_list(self, r: Resource, item: str) -> str:
        """Define ``<Kind>List`` whose ``items`` refer to definition ``item``.

        Built by hand (a list is apiVersion, kind, metadata and items): expanding the list
        model with ``schema_of`` would render the whole item tree a second time.
        """
        name = f"{item}List"
        if name not in self.definitions:
            body = list_definition(r.kind, r.plural, item)
            model = model_for(r.group, r.version, r.list_kind)
            described = struct_descriptions(model).get("items") if model else None
            if described:
                items = body["properties"]["items"]
                body["properties"]["items"] = {**items, "description": described}
            body[GVK] = [{"group": r.group, "kind": r.list_kind, "version": r.version}]
            self.definitions[name] = body
        return name

    def add_meta(self, struct: str) -> str:
        """Define a meta/v1 type (``ObjectMeta``, ``ListMeta``, ``Status``…)."""
        model = model_for("meta.k8s.io", "v1", struct)
        schema = schema_of("meta.k8s.io", "v1", struct)
        if model is None or schema is None:  # pragma: no cover - the models always have them
            name = f"{META}.v1.{struct}"
            self.definitions.setdefault(name, {"type": "object"})
            return name
        schema.pop(GVK, None)
        return self._hoist(schema, model, "")

    def annotate(self, r: Resource, name: str) -> None:
        """Add kube's strategic-merge extensions along the kind's fields.

        kubectl 1.20's ``apply`` computes its patch from these when the document has the
        kind (``x-kubernetes-patch-strategy``, ``x-kubernetes-patch-merge-key``); without
        them every list would be replaced whole rather than merged by key.
        """
        meta = patch_meta_for(r.group, r.kind)
        if meta is not None:
            self._annotate(name, meta, set())

    def _annotate(self, name: str, meta: PatchMeta, seen: set[tuple[str, int]]) -> None:
        if (name, id(meta)) in seen:
            return
        seen.add((name, id(meta)))
        properties = self.definitions.get(name, {}).get("properties") or {}
        for field_name, child in meta.fields.items():
            prop = properties.get(field_name)
            if prop is None:
                continue
            is_list = prop.get("type") == "array"
            element = child.element if is_list else child
            # kube tags merge lists (and retainKeys); "replace" is SMP's default, left untagged
            strategies: list[str] = ["merge"] if is_list and child.list_strategy == "merge" else []
            if child.retain_keys or (is_list and element.retain_keys):
                strategies.append("retainKeys")
            if strategies:
                prop.setdefault(_PATCH_STRATEGY, ",".join(strategies))
            if is_list and child.merge_key:
                prop.setdefault(_PATCH_MERGE_KEY, child.merge_key)
            target = prop.get("items", {}) if is_list else prop
            reference = target.get("$ref", "")
            if reference and element.fields:
                self._annotate(reference.rsplit("/", 1)[-1], element, seen)

    def _name(self, model: str, group: str) -> str:
        known = self._names.get(model)
        if known is not None:
            return known
        match = _MODEL.match(model)
        prefix, version, struct = (
            (match.group(1) or "", match.group(2).lower(), match.group(3))
            if match
            else ("", "v1", model)
        )
        if prefix:
            package = package_of(prefix.lower())
        elif struct in _META_STRUCTS:
            package = META
        else:
            package = package_of(group)
        name = f"{package}.{version}.{struct}"
        if self._owners.get(name, model) != model:
            name = f"{package}.{version}.{model}"  # two models, one Go name: keep both
        self._names[model] = name
        self._owners[name] = model
        return name

    def _struct(self, schema: Mapping[str, Any], model: str, group: str) -> dict[str, Any]:
        """A struct's own definition body: its fields, hoisted."""
        body = {k: v for k, v in schema.items() if k not in ("description", "properties")}
        fields = struct_fields(model)
        body["properties"] = {
            name: self._node(sub, fields.get(name), group)
            for name, sub in (schema.get("properties") or {}).items()
        }
        metadata = body["properties"].get("metadata", {})
        if "$ref" in metadata and "description" not in metadata:
            listed = metadata["$ref"].endswith(".ListMeta")
            text = _LIST_METADATA if listed else _OBJECT_METADATA
            body["properties"]["metadata"] = {"description": text, **metadata}
        # A free-form value is never required in kube (JSONSchemaProps.default, .example).
        required = [n for n in body.get("required", ()) if _kind_of(fields.get(n)) != "any"]
        if required:
            body["required"] = required
        else:
            body.pop("required", None)
        return body

    def _hoist(self, schema: Mapping[str, Any], model: str, group: str) -> str:
        """Define the struct ``model`` (once) from its expanded ``schema``; return the name."""
        name = self._name(model, group)
        if name not in self.definitions:
            self.definitions[name] = {}  # reserve: recursive types refer to themselves
            self.definitions[name] = self._struct(schema, model, group)
        return name

    def _node(self, schema: Mapping[str, Any], node: TypeNode | None, group: str) -> dict[str, Any]:
        if node is None:
            return dict(schema)
        if node.kind == "struct":
            if not struct_fields(node.model):
                free = {k: v for k, v in schema.items() if k != "properties"}
                return {**free, "type": "object"}
            return ref(self._hoist(schema, node.model, group), schema.get("description"))
        if node.kind == "array" and "items" in schema:
            return {**schema, "items": self._node(schema["items"], node.item, group)}
        if node.kind == "map" and isinstance(schema.get("additionalProperties"), Mapping):
            sub = self._node(schema["additionalProperties"], node.item, group)
            return {**schema, "additionalProperties": sub}
        if node.kind == "any":
            return {k: v for k, v in schema.items() if k != "type"}
        if node.kind in _NAMED_PRIMITIVES:
            name, body = _NAMED_PRIMITIVES[node.kind]
            self.definitions.setdefault(name, dict(body))
            return ref(name, schema.get("description"))
        return dict(schema)


# Primitives kube publishes as definitions of their own, referred to (as it does) rather than
# spelt out in place: a client tells a quantity (which takes ``cpu: 1`` as well as ``"1"``)
# from any string only by its definition's name.
_NAMED_PRIMITIVES: dict[str, tuple[str, dict[str, Any]]] = {
    "quantity": (
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        {
            "description": "A fixed-point number with an optional suffix: a binary (Ki, Mi, "
            "Gi…) or decimal (m, k, M, G…) multiple, or an exponent (1e3). Written as a string "
            'or a number: "500m", "1Gi", 2.',
            "type": "string",
        },
    ),
    "int-or-string": (
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        {
            "description": "An integer or a string: a port number or a port name, a count or "
            'a percentage ("25%").',
            "type": "string",
            "format": "int-or-string",
        },
    ),
}


def _kind_of(node: TypeNode | None) -> str:
    return node.kind if node is not None else ""


_API_VERSION = (
    "APIVersion defines the versioned schema of this representation of an object. Servers "
    "should convert recognized schemas to the latest internal value, and may reject "
    "unrecognized values. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
)
_KIND = (
    "Kind is a string value representing the REST resource this object represents. Servers "
    "may infer this from the endpoint the client submits requests to. Cannot be updated. In "
    "CamelCase. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)
_OBJECT_METADATA = (
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_LIST_METADATA = (
    "Standard list metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)


def type_meta_properties() -> dict[str, dict[str, Any]]:
    return {
        "apiVersion": {"description": _API_VERSION, "type": "string"},
        "kind": {"description": _KIND, "type": "string"},
    }


def object_metadata() -> dict[str, Any]:
    return ref(f"{META}.v1.ObjectMeta", _OBJECT_METADATA)


def list_definition(kind: str, plural: str, item: str) -> dict[str, Any]:
    """A list kind's definition as kube's CRD builder writes it."""
    props = type_meta_properties()
    return {
        "description": f"{kind}List is a list of {kind}",
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": props["apiVersion"],
            "items": {
                "description": f"List of {plural}. More info: "
                "https://git.k8s.io/community/contributors/devel/sig-architecture/"
                "api-conventions.md",
                "type": "array",
                "items": ref(item),
            },
            "kind": props["kind"],
            "metadata": ref(f"{META}.v1.ListMeta", _LIST_METADATA),
        },
    }
