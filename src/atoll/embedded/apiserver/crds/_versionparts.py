"""Validation of the per-version parts of a CRD: schemas, subresources and printer columns.

kube validates CRDs in its internal form, where settings shared by every version are lifted
to the top (``spec.validation``, ``spec.subresources``, ``spec.additionalPrinterColumns``).
A v1 CRD whose versions all carry the same schema, which includes every single-version CRD,
therefore gets errors at ``spec.validation.openAPIV3Schema…``, and only a CRD whose versions
differ gets ``spec.versions[0].schema.openAPIV3Schema…``. ``internal_parts`` reproduces that
lifting so that paths match what kubectl users see from a real cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from atoll.errors import FieldError

from ._values import as_list, child, index, json_equal, mapping
from .defaulting import default_errors
from .structural import structural_errors

__all__ = ["Part", "column_errors", "internal_parts", "schema_errors", "subresource_errors"]

_COLUMN_TYPES = ("boolean", "date", "integer", "number", "string")
_COLUMN_FORMATS = ("byte", "date", "date-time", "double", "float", "int32", "int64", "password")
# Fields kube allows at a schema's root when /status is a subresource, in JSONSchemaProps order.
_ROOT_ORDER = [
    "id",
    "$schema",
    "$ref",
    "description",
    "type",
    "format",
    "title",
    "default",
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
    "required",
    "items",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "properties",
    "additionalProperties",
    "patternProperties",
    "dependencies",
    "additionalItems",
    "definitions",
    "externalDocs",
    "example",
    "nullable",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
]
_ROOT_ALLOWED = frozenset(
    [
        "description",
        "type",
        "format",
        "title",
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
        "required",
        "items",
        "properties",
        "externalDocs",
        "example",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-validations",
    ]
)
_ROOT_ALLOWED_GO = (
    "[Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength "
    "MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties "
    "ExternalDocs Example XPreserveUnknownFields XValidations]"
)


@dataclass(frozen=True, slots=True)
class Part:
    """One schema, subresources or columns setting and the path kube reports it at."""

    value: Any
    path: str


def _empty(value: Any) -> bool:
    # apimachinery's semantic equality treats nil and empty slices and maps alike.
    return value is None or (isinstance(value, list | Mapping) and not value)


def internal_parts(spec: Mapping[str, Any], field: str, top: str) -> list[Part]:
    """Where kube validates ``versions[*].<field>``: once at ``spec.<top>`` if all are equal."""
    values = [
        v.get(field) if isinstance(v, Mapping) else None for v in as_list(spec.get("versions"))
    ]
    if not values:
        return []
    first = values[0]
    same = all((_empty(v) and _empty(first)) or json_equal(v, first) for v in values)
    if same:
        return [] if _empty(first) else [Part(first, child("spec", top))]
    return [
        Part(value, child(index("spec.versions", i), field))
        for i, value in enumerate(values)
        if not _empty(value)
    ]


def schema_errors(
    part: Part,
    *,
    status_enabled: bool,
    structural: bool = True,
    allow_defaults: bool = True,
    valid_types: bool = True,
) -> list[FieldError]:
    """A version's schema errors; the keywords relax kube's v1 rules as v1beta1 requests do."""
    validation = mapping(part.value)
    if validation is None:
        return [FieldError.invalid(part.path, part.value, "must be a JSON object")]
    schema = validation.get("openAPIV3Schema")
    if schema is None:
        return []
    path = child(part.path, "openAPIV3Schema")
    errors = _status_root_errors(schema, path) if status_enabled else []
    problems = structural_errors(
        schema,
        path,
        structural=structural,
        allow_defaults=allow_defaults,
        valid_types=valid_types,
    )
    if not problems and structural and isinstance(schema, Mapping):
        problems = default_errors(schema, path)
    return errors + problems


def _status_root_errors(schema: Any, path: str) -> list[FieldError]:
    """With /status, the root schema may only hold what survives splitting off ``status``."""
    if not isinstance(schema, Mapping):
        return []
    # kube stops at the first offending field (in its struct order) and prints the whole
    # schema struct as the value; the offending keyword is more useful, so that is the value.
    for name in _ROOT_ORDER:
        value = schema.get(name)
        if value is None or value is False or value == "" or value == [] or value == {}:
            continue
        if name == "type":
            if value != "object":
                detail = (
                    'only "object" is allowed as the type at the root of the schema if the '
                    "status subresource is enabled"
                )
                return [FieldError.invalid(child(path, "type"), value, detail)]
            continue
        if name not in _ROOT_ALLOWED:
            detail = (
                f"only {_ROOT_ALLOWED_GO} fields are allowed at the root of the schema if the "
                "status subresource is enabled"
            )
            return [FieldError.invalid(path, name, detail)]
    return []


def subresource_errors(part: Part) -> list[FieldError]:
    subresources = mapping(part.value)
    if subresources is None:
        return [FieldError.invalid(part.path, part.value, "must be a JSON object")]
    errors = []
    for name in ("status", "scale"):
        if subresources.get(name) is not None and mapping(subresources[name]) is None:
            detail = "must be a JSON object"
            errors.append(FieldError.invalid(child(part.path, name), subresources[name], detail))
    scale = mapping(subresources.get("scale"))
    if scale is None:
        return errors
    for name, under in (("specReplicasPath", (".spec.",)), ("statusReplicasPath", (".status.",))):
        errors += _replicas_path_errors(scale.get(name), f"{part.path}.scale.{name}", under)
    selector = scale.get("labelSelectorPath")
    if selector:
        errors += _replicas_path_errors(
            selector, f"{part.path}.scale.labelSelectorPath", (".spec.", ".status.")
        )
    return errors


def _replicas_path_errors(value: Any, path: str, under: Sequence[str]) -> list[FieldError]:
    if value is None or value == "":
        return [FieldError.required(path)]
    if not isinstance(value, str):
        return [FieldError.invalid(path, value, "must be a string")]
    problems = simple_json_path_errors(value, path)
    if problems or any(value.startswith(prefix) for prefix in under):
        return problems
    places = " or ".join(prefix.rstrip(".") for prefix in under)
    where = f"either {places}" if len(under) > 1 else places
    return [FieldError.invalid(path, value, f"should be a json path under {where}")]


def simple_json_path_errors(value: str, path: str) -> list[FieldError]:
    if not value:
        return [FieldError.invalid(path, value, "must not be empty")]
    if not value.startswith("."):
        return [FieldError.invalid(path, value, "must be a simple json path starting with .")]
    return []


def column_errors(part: Part) -> list[FieldError]:
    if not isinstance(part.value, list):
        return [FieldError.invalid(part.path, part.value, "must be a list")]
    errors = []
    for i, column in enumerate(part.value):
        column_path = index(part.path, i)
        if not isinstance(column, Mapping):
            errors.append(FieldError.invalid(column_path, column, "must be a JSON object"))
            continue
        errors += _column_errors(column, column_path)
    return errors


def _column_errors(column: Mapping[str, Any], path: str) -> list[FieldError]:
    errors = []
    if not column.get("name"):
        errors.append(FieldError.required(child(path, "name")))
    kind = column.get("type")
    types_detail = f"must be one of {','.join(_COLUMN_TYPES)}"
    if not kind:
        errors.append(FieldError.required(child(path, "type"), types_detail))
    elif kind not in _COLUMN_TYPES:
        errors.append(FieldError.invalid(child(path, "type"), kind, types_detail))
    fmt = column.get("format")
    if fmt and fmt not in _COLUMN_FORMATS:
        detail = f"must be one of {','.join(_COLUMN_FORMATS)}"
        errors.append(FieldError.invalid(child(path, "format"), fmt, detail))
    # kube validates the internal type, whose field is named JSONPath.
    json_path = column.get("jsonPath")
    if not json_path:
        errors.append(FieldError.required(child(path, "JSONPath")))
    elif not isinstance(json_path, str):
        errors.append(FieldError.invalid(child(path, "JSONPath"), json_path, "must be a string"))
    else:
        errors += simple_json_path_errors(json_path, child(path, "JSONPath"))
    return errors
