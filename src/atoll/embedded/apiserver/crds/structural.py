"""Whether a CRD schema is *structural*, with kube-apiserver's field paths and messages.

apiextensions.k8s.io/v1 only accepts structural schemas, because pruning, defaulting and
server-side apply all walk the object and the schema side by side and need to know, at every
node, what the value's type is. The rules (kube's ``ValidateStructural``) are:

- every node has a non-empty ``type``, except where ``x-kubernetes-int-or-string`` or
  ``x-kubernetes-preserve-unknown-fields`` make a node deliberately open; arrays have
  ``items``; the root is an object and has no ``additionalProperties``;
- ``allOf``/``anyOf``/``oneOf``/``not`` only *validate*: they may not declare types,
  defaults, descriptions or extensions, with one exception, the int-or-string pattern
  ``anyOf: [{type: integer}, {type: string}]`` (directly or as ``allOf[0]``);
- every field or item named inside the root's value validations is also declared outside;
- at the root, ``metadata`` may only restrict ``name`` and ``generateName``; ``kind`` and
  ``apiVersion`` are strings; an embedded resource is an object with properties or
  ``x-kubernetes-preserve-unknown-fields``.

On top of these, ``_schemarules`` adds the node-level rules of kube's OpenAPI schema
validation (no ``$ref``, no ``uniqueItems``, list-type/map-type consistency, where defaults
may be). Malformed input (a list where a schema should be) yields a FieldError, never an
exception: kube-apiserver once crashed on int-or-string schemas, and this must not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from atoll.errors import FieldError

from ._schemarules import schema_rule_errors
from ._values import child, index, key, mapping

__all__ = ["go_regex_error", "structural_errors", "structural_violations"]

_ROOT, _ITEM, _FIELD = "root", "item", "field"
_EMPTY_TYPE = {
    _ROOT: "must not be empty at the root",
    _ITEM: "must not be empty for specified array items",
    _FIELD: "must not be empty for specified object fields",
}
_NAME_FIELDS = {"name", "generateName"}
_INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]
_PRESERVE = "x-kubernetes-preserve-unknown-fields"
_EMBEDDED = "x-kubernetes-embedded-resource"
_INT_OR_STRING_KEY = "x-kubernetes-int-or-string"
_JUNCTORS = ("allOf", "anyOf", "oneOf")

# Keywords a value validation (inside allOf/anyOf/oneOf/not) may not use, with kube's wording.
_NESTED_FORBIDDEN = (
    ("type", "must be empty to be structural"),
    ("additionalProperties", "must be undefined to be structural"),
    ("default", "must be undefined to be structural"),
    ("title", "must be empty to be structural"),
    ("description", "must be empty to be structural"),
    ("nullable", "must be false to be structural"),
    (_PRESERVE, "must be false to be structural"),
    (_EMBEDDED, "must be false to be structural"),
    (_INT_OR_STRING_KEY, "must be false to be structural"),
    ("x-kubernetes-list-map-keys", "must be empty to be structural"),
    ("x-kubernetes-list-type", "must be undefined to be structural"),
    ("x-kubernetes-map-type", "must be undefined to be structural"),
    ("x-kubernetes-validations", "must be empty to be structural"),
)

# Everything kube's Structural type keeps; the rest (example, externalDocs…) is dropped.
_STRUCTURAL_KEYWORDS = frozenset(
    [
        "items",
        "properties",
        "description",
        "type",
        "title",
        "default",
        "additionalProperties",
        "nullable",
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
        "required",
        "allOf",
        "oneOf",
        "anyOf",
        "not",
        "x-kubernetes-validations",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-list-type",
        "x-kubernetes-map-type",
    ]
) | {_PRESERVE, _EMBEDDED, _INT_OR_STRING_KEY}

# Go's RE2 has no look-around and no back-references; Python's re would accept them.
_UNSUPPORTED_REGEX = re.compile(r"\(\?<?[=!]|\(\?P?<\w+>|\(\?P=|\\[1-9]")


def structural_errors(
    schema: Mapping[str, Any],
    path: str,
    *,
    structural: bool = True,
    allow_defaults: bool = True,
    valid_types: bool = True,
) -> list[FieldError]:
    """Why ``schema`` (a version's ``openAPIV3Schema``) is not acceptable, at ``path``.

    With ``structural=False`` (CRDs written through v1beta1 that keep unknown fields), only
    kube's OpenAPI-level rules apply and a non-structural schema is accepted; the CRD then
    reports it in its ``NonStructuralSchema`` condition (``structural_violations``).
    """
    if not isinstance(schema, Mapping):
        return [FieldError.invalid(path, schema, "must be a JSON object")]
    errors = []
    if schema.get("nullable") is True:
        errors.append(
            FieldError.forbidden(child(path, "nullable"), "nullable cannot be true at the root")
        )
    if structural:
        errors += structural_violations(schema, path)
    return errors + schema_rule_errors(
        schema, path, allow_defaults=allow_defaults, valid_types=valid_types
    )


def structural_violations(schema: Any, path: str) -> list[FieldError]:
    """kube's ``ValidateStructural``: the structural rules alone, sorted as kube sorts them."""
    if not isinstance(schema, Mapping):
        return [FieldError.invalid(path, schema, "must be a JSON object")]
    found = _invariants(schema, _ROOT, path) + _completeness(schema, schema, path, path)
    # kube sorts these by message so that map iteration order never changes the answer.
    found.sort(key=str)
    return found


def go_regex_error(pattern: str) -> str | None:
    """Why Go's regexp would reject ``pattern``, or None if both Go and Python accept it."""
    unsupported = _UNSUPPORTED_REGEX.search(pattern)
    if unsupported:
        return f"error parsing regexp: invalid or unsupported Perl syntax: `{unsupported.group(0)}`"
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as error:
        return f"error parsing regexp: {error}"
    return None


def _invariants(s: Mapping[str, Any], level: str, path: str) -> list[FieldError]:
    errors = []
    kind = _type(s)
    items = mapping(s.get("items"))
    if kind == "array" and items is None:
        errors.append(FieldError.required(child(path, "items"), "must be specified"))
    if items is not None:
        errors += _invariants(items, _ITEM, child(path, "items"))
    for name, prop in _properties(s).items():
        if isinstance(prop, Mapping):
            errors += _invariants(prop, _FIELD, key(child(path, "properties"), name))
    errors += _additional_properties_invariants(s, level, path)
    errors += _extension_invariants(s, path)
    errors += _value_validation(
        s,
        skip_any_of=_list(s, "anyOf") == _INT_OR_STRING,
        skip_first_all_of_any_of=_is_int_or_string_all_of(s),
        level=level,
        path=path,
    )
    errors += _type_invariants(s, level, path)
    errors += _meta_invariants(s, level, path)
    return errors


def _is_int_or_string_all_of(s: Mapping[str, Any]) -> bool:
    all_of = _list(s, "allOf")
    first = mapping(all_of[0]) if all_of else None
    return first is not None and _list(first, "anyOf") == _INT_OR_STRING


def _additional_properties_invariants(
    s: Mapping[str, Any], level: str, path: str
) -> list[FieldError]:
    additional = s.get("additionalProperties")
    if additional is None:
        return []
    errors = []
    if level == _ROOT:
        errors.append(
            FieldError.forbidden(
                child(path, "additionalProperties"), "must not be used at the root"
            )
        )
    if isinstance(additional, Mapping):
        errors += _invariants(additional, _FIELD, child(path, "additionalProperties"))
    return errors


def _extension_invariants(s: Mapping[str, Any], path: str) -> list[FieldError]:
    if s.get(_INT_OR_STRING_KEY) is not True:
        return []
    detail = f"must be false if {_INT_OR_STRING_KEY} is true"
    return [
        FieldError.invalid(child(path, name), True, detail)
        for name in (_PRESERVE, _EMBEDDED)
        if s.get(name) is True
    ]


def _type_invariants(s: Mapping[str, Any], level: str, path: str) -> list[FieldError]:
    errors = []
    kind = _type(s)
    embedded = s.get(_EMBEDDED) is True
    if embedded and kind != "object":
        detail = f"must be object if {_EMBEDDED} is true"
        if kind:
            errors.append(FieldError.invalid(child(path, "type"), kind, detail))
        else:
            errors.append(FieldError.required(child(path, "type"), detail))
    elif not kind and s.get(_INT_OR_STRING_KEY) is not True and s.get(_PRESERVE) is not True:
        errors.append(FieldError.required(child(path, "type"), _EMPTY_TYPE[level]))
    if embedded and s.get("additionalProperties") is not None:
        errors.append(
            FieldError.forbidden(
                child(path, "additionalProperties"), f"must not be used if {_EMBEDDED} is set"
            )
        )
    if level == _ROOT and kind and kind != "object":
        errors.append(FieldError.invalid(child(path, "type"), kind, "must be object at the root"))
    return errors


def _meta_invariants(s: Mapping[str, Any], level: str, path: str) -> list[FieldError]:
    errors = []
    embedded = s.get(_EMBEDDED) is True
    check_meta = level == _ROOT or embedded
    props = _properties(s)
    props_path = child(path, "properties")
    for name in ("kind", "apiVersion"):
        prop = mapping(props.get(name))
        if check_meta and prop is not None and _type(prop) != "string":
            type_path = child(key(props_path, name), "type")
            errors.append(FieldError.invalid(type_path, _type(prop), "must be string"))
    metadata = mapping(props.get("metadata"))
    if metadata is not None:
        meta_path = key(props_path, "metadata")
        if check_meta and _type(metadata) != "object":
            errors.append(
                FieldError.invalid(child(meta_path, "type"), _type(metadata), "must be object")
            )
        if level == _ROOT and _restricts_more_than_names(metadata):
            errors.append(
                FieldError.forbidden(
                    meta_path,
                    "must not specify anything other than name and generateName, but metadata "
                    "is implicitly specified",
                )
            )
    if embedded and s.get(_PRESERVE) is not True and not props:
        errors.append(
            FieldError.required(
                props_path,
                f"must not be empty if {_EMBEDDED} is true without {_PRESERVE}",
            )
        )
    return errors


def _restricts_more_than_names(metadata: Mapping[str, Any]) -> bool:
    """True if the root's metadata schema says more than its type and name/generateName."""
    for name, value in metadata.items():
        if name in ("type", "default") or name not in _STRUCTURAL_KEYWORDS:
            continue
        if name == "properties" and isinstance(value, Mapping) and set(value) <= _NAME_FIELDS:
            continue
        if not _unset(value):
            return True
    return False


def _unset(value: Any) -> bool:
    """Go's zero value after decoding: absent, null, false, "" or an empty list/map.

    Numbers are pointers in kube's types, so ``0`` counts as set.
    """
    if value is None or value is False:
        return True
    return isinstance(value, str | list | Mapping) and not value


def _value_validation(
    v: Mapping[str, Any],
    *,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    level: str,
    path: str,
) -> list[FieldError]:
    errors: list[FieldError] = []
    for keyword in ("anyOf", "allOf", "oneOf"):
        if keyword == "anyOf" and skip_any_of:
            continue
        for i, sub in enumerate(_list(v, keyword)):
            if isinstance(sub, Mapping):
                skip = keyword == "allOf" and i == 0 and skip_first_all_of_any_of
                errors += _nested(sub, level, index(child(path, keyword), i), skip_any_of=skip)
    not_schema = mapping(v.get("not"))
    if not_schema is not None:
        errors += _nested(not_schema, level, child(path, "not"), skip_any_of=False)
    pattern = v.get("pattern")
    if isinstance(pattern, str) and pattern:
        problem = go_regex_error(pattern)
        if problem:
            detail = f"must be a valid regular expression, but isn't: {problem}"
            errors.append(FieldError.invalid(child(path, "pattern"), pattern, detail))
    return errors


def _nested(v: Mapping[str, Any], level: str, path: str, *, skip_any_of: bool) -> list[FieldError]:
    """A value validation under a logical junctor: may constrain values, never declare them."""
    errors = _value_validation(
        v, skip_any_of=skip_any_of, skip_first_all_of_any_of=False, level=level, path=path
    )
    items = mapping(v.get("items"))
    if items is not None:
        errors += _nested(items, level, child(path, "items"), skip_any_of=False)
    props = _properties(v)
    for name, prop in props.items():
        if isinstance(prop, Mapping):
            prop_path = key(child(path, "properties"), name)
            errors += _nested(prop, _FIELD, prop_path, skip_any_of=False)
    for name, detail in _NESTED_FORBIDDEN:
        value = v.get(name)
        # A default of false or 0 is still a default; for the rest Go's zero values are unset.
        if value is not None if name == "default" else not _unset(value):
            errors.append(FieldError.forbidden(child(path, name), detail))
    if "metadata" in props:
        # Restricting metadata from inside a junctor could hide it from the metadata rules.
        errors.append(
            FieldError.forbidden(
                key(child(path, "properties"), "metadata"),
                "must not be specified in a nested context",
            )
        )
    return errors


def _completeness(
    v: Mapping[str, Any], s: Mapping[str, Any] | None, s_path: str, v_path: str
) -> list[FieldError]:
    """Fields and items named in value validations must be declared structurally too.

    Like kube, this starts from the root's value validations only.
    """
    errors: list[FieldError] = []
    not_schema = mapping(v.get("not"))
    if not_schema is not None:
        errors += _nested_completeness(not_schema, s, s_path, child(v_path, "not"))
    for keyword in _JUNCTORS:
        for i, sub in enumerate(_list(v, keyword)):
            if isinstance(sub, Mapping):
                sub_path = index(child(v_path, keyword), i)
                errors += _nested_completeness(sub, s, s_path, sub_path)
    return errors


def _nested_completeness(
    v: Mapping[str, Any], s: Mapping[str, Any] | None, s_path: str, v_path: str
) -> list[FieldError]:
    if s is None:
        return [FieldError.required(s_path, f"because it is defined in {v_path}")]
    errors = _completeness(v, s, s_path, v_path)
    items = mapping(v.get("items"))
    if items is not None:
        errors += _nested_completeness(
            items, mapping(s.get("items")), child(s_path, "items"), child(v_path, "items")
        )
    declared = _properties(s)
    for name, prop in _properties(v).items():
        if not isinstance(prop, Mapping):
            continue
        prop_s_path = key(child(s_path, "properties"), name)
        prop_v_path = key(child(v_path, "properties"), name)
        errors += _nested_completeness(prop, mapping(declared.get(name)), prop_s_path, prop_v_path)
    return errors


def _type(s: Mapping[str, Any]) -> str:
    value = s.get("type")
    return value if isinstance(value, str) else ""


def _list(s: Mapping[str, Any], name: str) -> list[Any]:
    value = s.get(name)
    return value if isinstance(value, list) else []


def _properties(s: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(s.get("properties")) or {}
