"""Checks of embedded resources (``x-kubernetes-embedded-resource: true``) inside custom resources.

An embedded resource is a whole Kubernetes object inside another (a Pod template, say): kube
requires its ``apiVersion`` and ``kind`` and checks the names in its ``metadata``. The root
object's own type and metadata are the API server's business, so only nested embedded
resources are checked here. Labels and annotations are only checked for their JSON types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atoll.errors import FieldError

from ._names import dns1035_label_errors, group_version_error
from ._values import child, index, key, mapping

__all__ = ["embedded_resource_errors"]


def embedded_resource_errors(obj: Any, schema: Mapping[str, Any], path: str) -> list[FieldError]:
    if not isinstance(schema, Mapping):
        return []
    # The root is the caller's; start below it even if the root schema is marked embedded.
    return _children(obj, schema, path)


def _walk(value: Any, s: Mapping[str, Any], path: str) -> list[FieldError]:
    errors = []
    if isinstance(value, Mapping) and s.get("x-kubernetes-embedded-resource") is True:
        errors += _resource(value, path)
    return errors + _children(value, s, path)


def _children(value: Any, s: Mapping[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if isinstance(value, Mapping):
        properties = mapping(s.get("properties")) or {}
        additional = mapping(s.get("additionalProperties"))
        for name, sub in value.items():
            prop = mapping(properties.get(name))
            if prop is not None:
                errors += _walk(sub, prop, child(path, name))
            elif additional is not None:
                errors += _walk(sub, additional, key(path, name))
    elif isinstance(value, list):
        items = mapping(s.get("items"))
        if items is not None:
            for i, item in enumerate(value):
                errors += _walk(item, items, index(path, i))
    return errors


def _resource(obj: Mapping[str, Any], path: str) -> list[FieldError]:
    errors = [
        FieldError.required(child(path, name)) for name in ("apiVersion", "kind") if name not in obj
    ]
    if "apiVersion" in obj:
        errors += _api_version(obj["apiVersion"], child(path, "apiVersion"))
    if "kind" in obj:
        errors += _kind(obj["kind"], child(path, "kind"))
    if "metadata" in obj:
        errors += _metadata(obj["metadata"], child(path, "metadata"))
    return errors


def _api_version(value: Any, path: str) -> list[FieldError]:
    if not isinstance(value, str):
        return [FieldError.invalid(path, value, "must be a string")]
    if not value:
        return [FieldError.invalid(path, value, "must not be empty")]
    problem = group_version_error(value)
    return [FieldError.invalid(path, value, problem)] if problem else []


def _kind(value: Any, path: str) -> list[FieldError]:
    if not isinstance(value, str):
        return [FieldError.invalid(path, value, "must be a string")]
    if not value:
        return [FieldError.invalid(path, value, "must not be empty")]
    problems = dns1035_label_errors(value.lower())
    if problems:
        detail = "may have mixed case, but should otherwise match: " + ",".join(problems)
        return [FieldError.invalid(path, value, detail)]
    return []


def _metadata(value: Any, path: str) -> list[FieldError]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [FieldError.invalid(path, value, "must be a JSON object")]
    errors = []
    for name in ("name", "generateName", "namespace"):
        if value.get(name) is not None and not isinstance(value[name], str):
            errors.append(FieldError.invalid(child(path, name), value[name], "must be a string"))
    object_name = value.get("name")
    if isinstance(object_name, str):
        errors += [
            FieldError.invalid(child(path, "name"), object_name, problem)
            for problem in _path_segment_errors(object_name)
        ]
    for name in ("labels", "annotations"):
        entries = value.get(name)
        if entries is not None and not _string_map(entries):
            errors.append(
                FieldError.invalid(child(path, name), entries, "must be a map of strings")
            )
    return errors


def _path_segment_errors(name: str) -> list[str]:
    """apimachinery's ``IsValidPathSegmentName``: an embedded name must fit in a URL path."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def _string_map(value: Any) -> bool:
    return isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values())
