"""Definitions of custom resources, published from their CRDs as kube-apiserver 1.20 does.

kube's ``apiextensions-apiserver/pkg/controller/openapi`` turns each served version's
structural schema into a Swagger 2.0 definition (``builder.BuildSwagger`` with ``V2: true``,
then ``v2.ToStructuralOpenAPIV2``):

- a schema with ``x-kubernetes-preserve-unknown-fields`` at the root, or none at all, is
  published as a bare ``type: object``, which kubectl accepts with any fields;
- otherwise v3-only keywords go (``allOf``, ``anyOf``, ``oneOf``, ``not``, ``nullable``); a
  nullable schema loses its type, items and properties, and is no longer required by its
  parent; a schema preserving unknown fields loses its items and properties (and its
  ``object`` type); an array left without items loses its type;
- ``apiVersion``, ``kind`` and ``metadata`` (a ``$ref`` to ObjectMeta) are set at the root
  and on every ``x-kubernetes-embedded-resource``.

Definitions are named after the reversed group: ``com.example.stable.v1.CronTab``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..resources import Resource
from .builtin import GVK, object_metadata, type_meta_properties

__all__ = ["custom_definition", "custom_definition_name"]

_PRESERVE = "x-kubernetes-preserve-unknown-fields"
_EMBEDDED = "x-kubernetes-embedded-resource"
# What a structural schema keeps (besides items, properties, additionalProperties, type).
_VALUE_KEYS = (
    "description",
    "title",
    "default",
    "format",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "enum",
    "maxProperties",
    "minProperties",
)
_EXTENSIONS = (
    _PRESERVE,
    _EMBEDDED,
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type",
    "x-kubernetes-map-type",
)
_TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean"})


def custom_definition_name(r: Resource, kind: str | None = None) -> str:
    """kube-openapi's ``ToRESTFriendlyName("<group>/<version>.<Kind>")``."""
    group = ".".join(reversed(r.group.split(".")))
    return f"{group}.{r.version}.{kind or r.kind}"


def _nullable(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get("nullable") is True


def _v2(schema: Mapping[str, Any]) -> dict[str, Any]:
    """One structural schema node as kube publishes it in Swagger 2.0."""
    # go-openapi omits a null value and a false flag (exclusiveMaximum, uniqueItems…)
    out: dict[str, Any] = {
        k: schema[k]
        for k in _VALUE_KEYS
        if schema.get(k) is not None and (schema[k] is not False or k == "default")
    }
    nullable = schema.get("nullable") is True
    preserve = schema.get(_PRESERVE) is True
    required = [r for r in schema.get("required") or () if isinstance(r, str)]

    properties = schema.get("properties")
    if isinstance(properties, Mapping) and properties and not (nullable or preserve):
        out["properties"] = {
            str(name): _v2(sub) for name, sub in properties.items() if isinstance(sub, Mapping)
        }
        required = [r for r in required if not _nullable(properties.get(r))]
    items = schema.get("items")
    if isinstance(items, list) and len(items) == 1:
        items = items[0]
    if isinstance(items, Mapping) and not (nullable or preserve):
        out["items"] = _v2(items)
    additional = schema.get("additionalProperties")
    if isinstance(additional, bool):
        out["additionalProperties"] = additional
    elif isinstance(additional, Mapping):
        out["additionalProperties"] = _v2(additional)
        if _nullable(additional):
            required = []

    kind = schema.get("type")
    if (
        isinstance(kind, str)
        and kind in _TYPES
        and not nullable
        and not (kind == "array" and "items" not in out)
        and not (kind == "object" and preserve)
    ):
        out["type"] = kind
    if required:
        out["required"] = required
    for key in _EXTENSIONS:
        if schema.get(key) is not None:
            out[key] = schema[key]
    if schema.get(_EMBEDDED) is True and not preserve:
        _add_type_meta(out, with_required=True)
    return out


def _add_type_meta(out: dict[str, Any], *, with_required: bool) -> None:
    props = dict(out.get("properties") or {})
    props.update(type_meta_properties())
    props["metadata"] = object_metadata()
    out["properties"] = props
    if with_required:
        required = list(out.get("required") or [])
        required += [k for k in ("kind", "apiVersion") if k not in required]
        out["required"] = required


def custom_definition(r: Resource) -> dict[str, Any]:
    """The definition of a custom resource version (``r.custom`` is its CRD version entry)."""
    custom = r.custom or {}
    schema = (custom.get("schema") or {}).get("openAPIV3Schema")
    gvk = [{"group": r.group, "kind": r.kind, "version": r.version}]
    if (
        not isinstance(schema, Mapping)
        or schema.get(_PRESERVE) is True
        or custom.get("preserveUnknownFields") is True
    ):
        return {"type": "object", GVK: gvk}
    out = _v2(schema)
    _add_type_meta(out, with_required=False)
    out[GVK] = gvk
    return out
