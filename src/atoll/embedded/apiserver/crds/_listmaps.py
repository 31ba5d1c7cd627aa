"""Uniqueness of ``x-kubernetes-list-type: set`` items and ``map`` keys (kube's listtype checks).

Server-side apply merges such lists by identity, so a set may not repeat an item and a map
list may not repeat a key tuple. Like kube, only the second occurrence of a value is reported,
and a missing key counts as its own value (two items both lacking the key collide).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atoll.errors import FieldError

from ._values import as_list, child, index, json_key, key, mapping

__all__ = ["list_type_errors"]

_UNSPECIFIED = ("unspecified",)  # stands for an absent key; never equal to a JSON value


def list_type_errors(obj: Any, schema: Mapping[str, Any], path: str) -> list[FieldError]:
    if not isinstance(obj, Mapping) or not isinstance(schema, Mapping):
        return []
    return _object(obj, schema, path)


def _object(obj: Mapping[str, Any], s: Mapping[str, Any], path: str) -> list[FieldError]:
    errors = []
    additional = mapping(s.get("additionalProperties"))
    properties = mapping(s.get("properties")) or {}
    for name, value in obj.items():
        if additional is not None:
            errors += _value(value, additional, key(path, name))
        prop = mapping(properties.get(name))
        if prop is not None:
            errors += _value(value, prop, child(path, name))
    return errors


def _value(value: Any, s: Mapping[str, Any], path: str) -> list[FieldError]:
    if isinstance(value, list):
        return _array(value, s, path)
    if isinstance(value, Mapping):
        return _object(value, s, path)
    return []


def _array(items: list[Any], s: Mapping[str, Any], path: str) -> list[FieldError]:
    errors = []
    list_type = s.get("x-kubernetes-list-type")
    if list_type == "set":
        errors += [FieldError.duplicate(index(path, i), items[i]) for i in _repeats(items)]
    elif list_type == "map":
        errors += _map_errors(items, s, path)
    item_schema = mapping(s.get("items"))
    if item_schema is not None:
        for i, item in enumerate(items):
            errors += _value(item, item_schema, index(path, i))
    return errors


def _repeats(values: list[Any]) -> list[int]:
    """Indices of the second occurrence of each repeated value."""
    seen: dict[Any, int] = {}
    repeats = []
    for i, value in enumerate(values):
        marker = value if value is _UNSPECIFIED else json_key(value)
        seen[marker] = seen.get(marker, 0) + 1
        if seen[marker] == 2:
            repeats.append(i)
    return repeats


def _map_errors(items: list[Any], s: Mapping[str, Any], path: str) -> list[FieldError]:
    for i, item in enumerate(items):
        if item is not None and not isinstance(item, Mapping):
            detail = "must be an object for an array of list-type map"
            return [FieldError.invalid(index(path, i), item, detail)]
    names = [k for k in as_list(s.get("x-kubernetes-list-map-keys")) if isinstance(k, str)]
    if len(items) <= 1 or not names:
        return []
    if len(names) == 1:
        name = names[0]
        keys: list[Any] = [
            item[name] if isinstance(item, Mapping) and name in item else _UNSPECIFIED
            for item in items
        ]
        return [
            FieldError.duplicate(index(path, i), {} if keys[i] is _UNSPECIFIED else {name: keys[i]})
            for i in _repeats(keys)
        ]
    tuples = [
        {n: item[n] for n in names if n in item} if isinstance(item, Mapping) else {}
        for item in items
    ]
    return [FieldError.duplicate(index(path, i), tuples[i]) for i in _repeats(tuples)]
