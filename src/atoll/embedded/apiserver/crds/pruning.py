"""Pruning of unknown fields from custom resources, as kube-apiserver does before storing them.

v1 CRDs prune: a field the structural schema does not declare is dropped, unless a node
says ``x-kubernetes-preserve-unknown-fields: true``. The dropped paths are returned, sorted,
because ``fieldValidation=Strict`` turns them into errors and ``Warn`` into warnings
(``unknown field "spec.foo"``). Pruning follows kube's algorithm exactly, including its
less obvious corners:

- ``apiVersion``, ``kind`` and ``metadata`` are never pruned at the root or in embedded
  resources (trimming metadata to ObjectMeta's fields is the API server's job);
- under a preserving node, declared properties are still pruned by their own schemas;
- ``additionalProperties: true`` or ``false`` (no schema) keeps the keys but prunes every
  field of their object values, since there is no schema saying what those may contain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._values import child, index, mapping

__all__ = ["prune"]

_META_FIELDS = frozenset({"apiVersion", "kind", "metadata"})
_PRESERVE = "x-kubernetes-preserve-unknown-fields"
_EMBEDDED = "x-kubernetes-embedded-resource"


def prune(
    obj: dict[str, Any], schema: Mapping[str, Any] | None, *, is_root: bool = True
) -> list[str]:
    """Remove the fields of ``obj`` that ``schema`` does not declare; return their paths."""
    node: Mapping[str, Any] | None = schema if isinstance(schema, Mapping) else None
    if is_root:
        # The root of a resource keeps its type and object metadata, like an embedded one.
        node = {**(node or {}), _EMBEDDED: True}
    pruned: list[str] = []
    _prune(obj, node, "", pruned)
    return sorted(pruned)


def _prune(value: Any, s: Mapping[str, Any] | None, path: str, pruned: list[str]) -> None:
    if s is not None and s.get(_PRESERVE) is True:
        _keep_unknown(value, s, path, pruned)
    elif isinstance(value, dict):
        _prune_object(value, s, path, pruned)
    elif isinstance(value, list):
        items = mapping(s.get("items")) if s is not None else None
        for i, item in enumerate(value):
            _prune(item, items, index(path, i), pruned)


def _prune_object(
    obj: dict[str, Any], s: Mapping[str, Any] | None, path: str, pruned: list[str]
) -> None:
    if s is None:
        pruned.extend(child(path, name) for name in obj)
        obj.clear()
        return
    embedded = s.get(_EMBEDDED) is True
    properties = mapping(s.get("properties")) or {}
    has_additional = s.get("additionalProperties") is not None
    additional = mapping(s.get("additionalProperties"))
    for name in list(obj):
        if embedded and name in _META_FIELDS:
            continue
        if name in properties:
            _prune(obj[name], mapping(properties[name]), child(path, name), pruned)
        elif has_additional:
            _prune(obj[name], additional, child(path, name), pruned)
        else:
            del obj[name]
            pruned.append(child(path, name))


def _keep_unknown(value: Any, s: Mapping[str, Any], path: str, pruned: list[str]) -> None:
    """Under ``x-kubernetes-preserve-unknown-fields``: keep unknown keys, prune known ones."""
    if isinstance(value, dict):
        embedded = s.get(_EMBEDDED) is True
        properties = mapping(s.get("properties")) or {}
        has_additional = s.get("additionalProperties") is not None
        additional = mapping(s.get("additionalProperties"))
        for name, sub in value.items():
            if embedded and name in _META_FIELDS:
                continue
            if name in properties:
                _prune(sub, mapping(properties[name]), child(path, name), pruned)
            elif has_additional:
                _prune(sub, additional, child(path, name), pruned)
    elif isinstance(value, list):
        items = mapping(s.get("items"))
        if items is not None:
            for i, item in enumerate(value):
                _keep_unknown(item, items, index(path, i), pruned)
