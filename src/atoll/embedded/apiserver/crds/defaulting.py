"""Structural defaulting of custom resources, and the checks a CRD's ``default`` values must pass.

kube-apiserver defaults custom resources while decoding them, right after pruning, so that
a default can never reintroduce an unknown field (which is also why defaults must themselves
be pruned and valid, see ``default_errors``). The algorithm, applied recursively to
properties, array items and ``additionalProperties`` values:

1. a ``null`` where the schema does not allow one (``nullable`` unset) and has no default is
   dropped, as if the client had not sent it;
2. an absent property with a ``default`` gets a deep copy of it, and so does a ``null`` in a
   non-nullable property or item that has one.

Defaults inside the defaulted values are applied too, because the walk continues into them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from atoll.errors import FieldError

from ._values import child, json_equal, key, mapping
from .pruning import prune
from .validation import validate_object

__all__ = ["apply_defaults", "default_errors"]

_EMBEDDED = "x-kubernetes-embedded-resource"
_META_FIELDS = frozenset({"apiVersion", "kind", "metadata"})


def apply_defaults(obj: dict[str, Any], schema: Mapping[str, Any]) -> None:
    """Default ``obj`` in place from ``schema`` (call after ``prune``, before validation)."""
    if not isinstance(schema, Mapping):
        return
    _drop_undefaultable_nulls(obj, schema)
    _default(obj, schema)


def _non_nullable_null(value: Any, s: Mapping[str, Any] | None) -> bool:
    return value is None and s is not None and s.get("nullable") is not True


def _field_schema(s: Mapping[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    if s is None:
        return None
    prop = mapping((mapping(s.get("properties")) or {}).get(name))
    return prop if prop is not None else mapping(s.get("additionalProperties"))


def _drop_undefaultable_nulls(value: Any, s: Mapping[str, Any] | None) -> None:
    if isinstance(value, dict):
        for name in list(value):
            sub = _field_schema(s, name)
            if (
                _non_nullable_null(value[name], sub)
                and sub is not None
                and sub.get("default") is None
            ):
                del value[name]
            else:
                _drop_undefaultable_nulls(value[name], sub)
    elif isinstance(value, list):
        items = mapping(s.get("items")) if s is not None else None
        for item in value:
            _drop_undefaultable_nulls(item, items)


def _default(value: Any, s: Mapping[str, Any] | None) -> None:
    if s is None:
        return
    if isinstance(value, dict):
        properties = mapping(s.get("properties")) or {}
        for name, prop in properties.items():
            prop = mapping(prop)
            if prop is None or prop.get("default") is None:
                continue
            if name not in value or _non_nullable_null(value[name], prop):
                value[name] = copy.deepcopy(prop["default"])
        additional = mapping(s.get("additionalProperties"))
        for name in value:
            if name in properties:
                _default(value[name], mapping(properties[name]))
            elif additional is not None:
                if _non_nullable_null(value[name], additional):
                    value[name] = copy.deepcopy(additional.get("default"))
                _default(value[name], additional)
    elif isinstance(value, list):
        items = mapping(s.get("items"))
        for i, item in enumerate(value):
            if items is not None and _non_nullable_null(item, items):
                value[i] = copy.deepcopy(items.get("default"))
            _default(value[i], items)


def default_errors(schema: Mapping[str, Any], path: str) -> list[FieldError]:
    """Defaults in a CRD schema that are unpruned or invalid (kube's ``ValidateDefaults``).

    ``schema`` is the root ``openAPIV3Schema`` at ``path``; only properties and items are
    walked, since defaults are forbidden under ``additionalProperties``.
    """
    if not isinstance(schema, Mapping):
        return []
    return _default_errors({**schema, _EMBEDDED: True}, path, inside_meta=False)


def _default_errors(s: Mapping[str, Any], path: str, *, inside_meta: bool) -> list[FieldError]:
    embedded = s.get(_EMBEDDED) is True
    if embedded:
        inside_meta = False
    errors = []
    if s.get("default") is not None:
        errors += _one_default(s, child(path, "default"), inside_meta=inside_meta)
    items = mapping(s.get("items"))
    if items is not None:
        errors += _default_errors(items, child(path, "items"), inside_meta=inside_meta)
    for name, prop in (mapping(s.get("properties")) or {}).items():
        if isinstance(prop, Mapping):
            sub_meta = inside_meta or (embedded and name in _META_FIELDS)
            prop_path = key(child(path, "properties"), name)
            errors += _default_errors(prop, prop_path, inside_meta=sub_meta)
    return errors


def _one_default(s: Mapping[str, Any], path: str, *, inside_meta: bool) -> list[FieldError]:
    value = s["default"]
    errors = []
    if not inside_meta:
        pruned = copy.deepcopy(value)
        if isinstance(pruned, dict):
            prune(pruned, s, is_root=s.get(_EMBEDDED) is True)
        elif isinstance(pruned, list):
            prune({"v": pruned}, {"properties": {"v": s}}, is_root=False)
        if not json_equal(pruned, value):
            errors.append(FieldError.invalid(path, value, "must not have unknown fields"))
    node = {k: v for k, v in s.items() if k != _EMBEDDED}
    return errors + validate_object(value, node, path=path)
