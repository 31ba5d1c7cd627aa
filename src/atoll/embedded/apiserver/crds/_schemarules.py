"""The OpenAPI-level rules a CRD schema must follow, node by node.

This is kube's ``ValidateCustomResourceDefinitionOpenAPISchema``.

These are the rules on single schema nodes and their Kubernetes extensions: keywords v1 does
not support (``$ref``, ``definitions``, ``uniqueItems: true``…), ``properties`` next to
``additionalProperties``, ``x-kubernetes-list-type``/``-list-map-keys``/``-map-type``, and
where ``default`` may appear. The structural invariants (types everywhere, what value
validations may contain) live in ``structural.py``, which calls this module.

Go decodes a CRD into typed structs before any of this runs, so a value of the wrong JSON
type (``minimum: "3"``) never reaches kube's rules; here such values are reported as Invalid
and then treated as absent, so nothing below ever raises on malformed input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from atoll.errors import FieldError

from ._values import child, index, is_number, key, mapping

__all__ = ["schema_rule_errors"]

_VALID_TYPES = ("array", "boolean", "integer", "number", "object", "string")
_META_FIELDS = ("apiVersion", "kind", "metadata")
_VALIDATION_REASONS = (
    "FieldValueDuplicate",
    "FieldValueForbidden",
    "FieldValueInvalid",
    "FieldValueRequired",
)

# The JSON type each keyword must have (what decoding into JSONSchemaProps would accept).
_STRINGS = [
    "type",
    "format",
    "title",
    "description",
    "pattern",
    "id",
    "$ref",
    "$schema",
    "x-kubernetes-list-type",
    "x-kubernetes-map-type",
]
_NUMBERS = ("maximum", "minimum", "multipleOf")
_BOOLS = [
    "exclusiveMaximum",
    "exclusiveMinimum",
    "uniqueItems",
    "nullable",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
]
_INTEGERS = ["maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties"]
_STRING_LISTS = ("required", "x-kubernetes-list-map-keys")
_LISTS = ("enum", "allOf", "anyOf", "oneOf", "x-kubernetes-validations")
_OBJECTS = ("properties", "not", "definitions", "patternProperties", "dependencies")


@dataclass(frozen=True, slots=True)
class _Context:
    """What the enclosing schema allows here (kube's specStandardValidatorV3 options)."""

    allow_defaults: bool = True
    defaults_reason: str = ""
    inside_meta: bool = False
    valid_types: bool = True

    def forbid_defaults(self, reason: str) -> _Context:
        return replace(self, allow_defaults=False, defaults_reason=reason)


def schema_rule_errors(
    schema: Any, path: str, *, allow_defaults: bool = True, valid_types: bool = True
) -> list[FieldError]:
    """All node-level rule violations in ``schema`` (the root ``openAPIV3Schema``).

    Through apiextensions.k8s.io/v1beta1, kube forbids ``default`` (``allow_defaults``) and
    lets unknown ``type`` names through (``valid_types``), unless the stored CRD already had
    them; see ``definitions.validate_crd``.
    """
    return _node(
        schema, path, _Context(allow_defaults=allow_defaults, valid_types=valid_types), is_root=True
    )


def _node(s: Any, path: str, ctx: _Context, *, is_root: bool) -> list[FieldError]:
    if not isinstance(s, Mapping):
        return [FieldError.invalid(path, s, "must be a JSON object")]
    errors = _shape_errors(s, path)
    errors += _unsupported_keywords(s, path, ctx)
    if s.get("uniqueItems") is True:
        errors.append(
            FieldError.forbidden(
                child(path, "uniqueItems"),
                "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
            )
        )
    additional = s.get("additionalProperties")
    if _properties(s) and (additional is False or mapping(additional) is not None):
        errors.append(
            FieldError.forbidden(
                child(path, "additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            )
        )
    errors += _children(s, path, ctx, is_root=is_root)
    errors += _extension_errors(s, path)
    errors += _list_type_errors(s, path)
    errors += _list_key_errors(s, path)
    errors += _rule_errors(s, path)
    return errors


def _shape_errors(s: Mapping[str, Any], path: str) -> list[FieldError]:
    errors = []
    for name, value in s.items():
        expected = _expected_shape(name, value)
        if expected:
            errors.append(FieldError.invalid(child(path, name), value, f"must be {expected}"))
    return errors


def _expected_shape(name: str, value: Any) -> str:
    """The JSON type ``name`` needs if ``value`` does not have it, else ``""``."""
    if value is None:
        return ""
    checks: list[tuple[tuple[str, ...] | list[str], bool, str]] = [
        (_STRINGS, isinstance(value, str), "a string"),
        (_NUMBERS, is_number(value), "a number"),
        (_BOOLS, isinstance(value, bool), "a boolean"),
        (_INTEGERS, isinstance(value, int) and not isinstance(value, bool), "an integer"),
        (
            _STRING_LISTS,
            isinstance(value, list) and all(isinstance(v, str) for v in value),
            "a list of strings",
        ),
        (_LISTS, isinstance(value, list), "a list"),
        (_OBJECTS, isinstance(value, Mapping), "a JSON object"),
        (
            ("additionalProperties", "additionalItems"),
            isinstance(value, bool | Mapping),
            "a boolean or a JSON object",
        ),
        (("items",), isinstance(value, list | Mapping), "a JSON object or a list"),
    ]
    for names, ok, description in checks:
        if name in names:
            return "" if ok else description
    return ""


def _unsupported_keywords(s: Mapping[str, Any], path: str, ctx: _Context) -> list[FieldError]:
    errors = []
    kind = _str(s, "type")
    if kind and kind not in _VALID_TYPES and ctx.valid_types:
        errors.append(FieldError.not_supported(child(path, "type"), kind, _VALID_TYPES))
    if s.get("default") is not None and not ctx.allow_defaults:
        reason = f" {ctx.defaults_reason}" if ctx.defaults_reason else ""
        errors.append(FieldError.forbidden(child(path, "default"), f"must not be set{reason}"))
    unsupported = [
        ("id", bool(_str(s, "id"))),
        ("additionalItems", s.get("additionalItems") is not None),
        ("patternProperties", bool(mapping(s.get("patternProperties")))),
        ("definitions", bool(mapping(s.get("definitions")))),
        ("dependencies", mapping(s.get("dependencies")) is not None),
        ("$ref", s.get("$ref") is not None),
    ]
    for name, present in unsupported:
        if present:
            errors.append(FieldError.forbidden(child(path, name), f"{name} is not supported"))
    if kind == "null":
        errors.append(
            FieldError.forbidden(
                child(path, "type"), "type cannot be set to null, use nullable as an alternative"
            )
        )
    if isinstance(s.get("items"), list) and s["items"]:
        errors.append(
            FieldError.forbidden(
                child(path, "items"), "items must be a schema object and not an array"
            )
        )
    if ctx.inside_meta and s.get("x-kubernetes-embedded-resource") is True:
        errors.append(
            FieldError.forbidden(
                child(path, "x-kubernetes-embedded-resource"),
                "must not be used inside of resource meta",
            )
        )
    return errors


def _children(s: Mapping[str, Any], path: str, ctx: _Context, *, is_root: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    additional = mapping(s.get("additionalProperties"))
    if additional is not None:
        # Pruning cannot tell which default belongs to which unknown metadata key.
        sub = (
            ctx.forbid_defaults("inside additionalProperties applying to object metadata")
            if ctx.inside_meta
            else ctx
        )
        errors += _node(additional, child(path, "additionalProperties"), sub, is_root=False)
    embedded = s.get("x-kubernetes-embedded-resource") is True
    for name, prop in _properties(s).items():
        sub = ctx
        if (is_root or embedded) and name in _META_FIELDS:
            sub = replace(sub, inside_meta=True)
            if is_root:
                sub = sub.forbid_defaults(f"in top-level {name}")
        errors += _node(prop, key(child(path, "properties"), name), sub, is_root=False)
    if mapping(s.get("not")) is not None:
        errors += _node(s["not"], child(path, "not"), ctx, is_root=False)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for i, sub_schema in enumerate(_list(s, keyword)):
            errors += _node(sub_schema, index(child(path, keyword), i), ctx, is_root=False)
    for name, sub_schema in (mapping(s.get("definitions")) or {}).items():
        errors += _node(sub_schema, key(child(path, "definitions"), name), ctx, is_root=False)
    errors += _items_children(s, path, ctx)
    for name, dep in (mapping(s.get("dependencies")) or {}).items():
        if isinstance(dep, Mapping):
            errors += _node(dep, key(child(path, "dependencies"), name), ctx, is_root=False)
    return errors


def _items_children(s: Mapping[str, Any], path: str, ctx: _Context) -> list[FieldError]:
    items = s.get("items")
    if isinstance(items, Mapping):
        return _node(items, child(path, "items"), ctx, is_root=False)
    errors = []
    if isinstance(items, list):
        for i, sub_schema in enumerate(items):
            errors += _node(sub_schema, index(child(path, "items"), i), ctx, is_root=False)
    return errors


def _extension_errors(s: Mapping[str, Any], path: str) -> list[FieldError]:
    errors = []
    if s.get("x-kubernetes-preserve-unknown-fields") is False:
        errors.append(
            FieldError.invalid(
                child(path, "x-kubernetes-preserve-unknown-fields"),
                False,
                "must be true or undefined",
            )
        )
    map_type = s.get("x-kubernetes-map-type")
    if map_type is not None:
        errors += _type_must_be(s, path, "object", "x-kubernetes-map-type")
        if map_type not in ("atomic", "granular"):
            errors.append(
                FieldError.not_supported(
                    child(path, "x-kubernetes-map-type"), map_type, ("atomic", "granular")
                )
            )
    return errors


def _type_must_be(s: Mapping[str, Any], path: str, wanted: str, because: str) -> list[FieldError]:
    kind = _str(s, "type")
    if kind == wanted:
        return []
    detail = f"must be {wanted} if {because} is specified"
    if not kind:
        return [FieldError.required(child(path, "type"), detail)]
    return [FieldError.invalid(child(path, "type"), kind, detail)]


def _list_type_errors(s: Mapping[str, Any], path: str) -> list[FieldError]:
    list_type = s.get("x-kubernetes-list-type")
    if list_type is None:
        return []
    errors = _type_must_be(s, path, "array", "x-kubernetes-list-type")
    items = mapping(s.get("items"))
    if not errors and list_type == "set" and items is not None:
        errors += _set_items_errors(items, path)
    if list_type not in ("atomic", "set", "map"):
        errors.append(
            FieldError.not_supported(
                child(path, "x-kubernetes-list-type"), list_type, ("atomic", "set", "map")
            )
        )
    return errors


def _set_items_errors(items: Mapping[str, Any], path: str) -> list[FieldError]:
    detail = "must be atomic as item of a list with x-kubernetes-list-type=set"
    item_list_type = items.get("x-kubernetes-list-type")
    items_path = child(path, "items")
    kind = _str(items, "type")
    if kind == "array" and item_list_type is not None and item_list_type != "atomic":
        return [
            FieldError.invalid(child(items_path, "x-kubernetes-list-type"), item_list_type, detail)
        ]
    if kind == "object" and items.get("x-kubernetes-map-type") != "atomic":
        # kube reports the items' list type here (a slip in its code); so do we.
        return [
            FieldError.invalid(child(items_path, "x-kubernetes-map-type"), item_list_type, detail)
        ]
    return []


def _list_key_errors(s: Mapping[str, Any], path: str) -> list[FieldError]:
    list_type = s.get("x-kubernetes-list-type")
    keys = [k for k in _list(s, "x-kubernetes-list-map-keys") if isinstance(k, str)]
    errors = []
    if keys and list_type != "map":
        detail = "must be map if x-kubernetes-list-map-keys is non-empty"
        if list_type is None:
            errors.append(FieldError.required(child(path, "x-kubernetes-list-type"), detail))
        else:
            errors.append(
                FieldError.invalid(child(path, "x-kubernetes-list-type"), list_type, detail)
            )
    if list_type == "map":
        errors += _map_list_errors(s, path, keys)
    if list_type in ("set", "map"):
        errors += _map_set_item_errors(s, path, keys)
    return errors


def _map_list_errors(s: Mapping[str, Any], path: str, keys: list[str]) -> list[FieldError]:
    keys_path = child(path, "x-kubernetes-list-map-keys")
    items_path = child(path, "items")
    if not keys:
        errors = [
            FieldError.required(keys_path, "must not be empty if x-kubernetes-list-type is map")
        ]
    else:
        errors = []
    items = s.get("items")
    if items is None:
        return [
            *errors,
            FieldError.required(items_path, "must have a schema if x-kubernetes-list-type is map"),
        ]
    if not isinstance(items, Mapping):
        detail = "must only have a single schema if x-kubernetes-list-type is map"
        return [*errors, FieldError.invalid(items_path, items, detail)]
    item_type = _str(items, "type")
    if item_type != "object":
        detail = "must be object if parent array's x-kubernetes-list-type is map"
        return [*errors, FieldError.invalid(child(items_path, "type"), item_type, detail)]
    props = _properties(items)
    seen: set[str] = set()
    for name in keys:
        if name not in props:
            detail = "entries must all be names of item properties"
            errors.append(FieldError.invalid(keys_path, keys, detail))
        elif _str(props[name], "type") in ("array", "object"):
            prop_path = key(child(items_path, "properties"), name)
            detail = "must be a scalar type if parent array's x-kubernetes-list-type is map"
            errors.append(FieldError.invalid(child(prop_path, "type"), item_type, detail))
        if name in seen:
            errors.append(FieldError.invalid(keys_path, keys, "must not contain duplicate entries"))
        seen.add(name)
    return errors


def _map_set_item_errors(s: Mapping[str, Any], path: str, keys: list[str]) -> list[FieldError]:
    items = mapping(s.get("items"))
    if items is None:
        return []
    items_path = child(path, "items")
    list_type = s["x-kubernetes-list-type"]
    errors = []
    if items.get("nullable") is True:
        detail = f"cannot be nullable when x-kubernetes-list-type is {list_type}"
        errors.append(FieldError.forbidden(child(items_path, "nullable"), detail))
    if list_type != "map":
        return errors
    required = set(_list(items, "required"))
    props = _properties(items)
    for name in keys:
        prop = mapping(props.get(name))
        if prop is None:
            continue  # reported by _map_list_errors
        prop_path = key(child(items_path, "properties"), name)
        if name not in required and prop.get("default") is None:
            detail = (
                "this property is in x-kubernetes-list-map-keys, so it must have a default or "
                "be a required property"
            )
            errors.append(FieldError.required(child(prop_path, "default"), detail))
        if prop.get("nullable") is True:
            detail = "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"
            errors.append(FieldError.forbidden(child(prop_path, "nullable"), detail))
    return errors


def _rule_errors(s: Mapping[str, Any], path: str) -> list[FieldError]:
    """Shape checks of ``x-kubernetes-validations``; Atoll does not evaluate CEL rules."""
    errors = []
    for i, rule in enumerate(_list(s, "x-kubernetes-validations")):
        rule_path = index(child(path, "x-kubernetes-validations"), i)
        if not isinstance(rule, Mapping):
            errors.append(FieldError.invalid(rule_path, rule, "must be a JSON object"))
            continue
        text = rule.get("rule")
        if not isinstance(text, str) or not text.strip():
            errors.append(FieldError.required(child(rule_path, "rule"), "rule is not specified"))
        reason = rule.get("reason")
        if reason is not None and reason not in _VALIDATION_REASONS:
            errors.append(
                FieldError.not_supported(child(rule_path, "reason"), reason, _VALIDATION_REASONS)
            )
    return errors


def _str(s: Mapping[str, Any], name: str) -> str:
    value = s.get(name)
    return value if isinstance(value, str) else ""


def _list(s: Mapping[str, Any], name: str) -> list[Any]:
    value = s.get(name)
    return value if isinstance(value, list) else []


def _properties(s: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(s.get("properties")) or {}
