"""Schema-driven checks of request bodies: types, unknown fields, CR schemas, managed fields.

One seam between the generic store and the three places schemas come from: the built-in
kinds' models (``builtins``), CRDs' structural schemas (``crds``) and strategic-merge
metadata (``atoll.kube.patchmeta``, which also tells server-side apply which lists are
associative). Unknown fields are always dropped, as decoding into Go structs does; with
``fieldValidation=Strict`` they are an error and with ``Warn`` a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from atoll.errors import BadRequest, FieldError
from atoll.kube import applying
from atoll.kube.patchmeta import PatchMeta, meta_from_openapi_schema, patch_meta_for

from . import builtins, crds
from .resources import Resource

__all__ = ["SchemaCheck", "remove_path"]

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def remove_path(obj: Any, path: str) -> None:
    """Delete the field at a dotted path such as ``spec.containers[0].imagee``."""
    parts: list[str | int] = [
        name if name else int(index) for name, index in _SEGMENT.findall(path)
    ]
    node = obj
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    last = parts[-1] if parts else None
    if isinstance(node, dict) and isinstance(last, str):
        node.pop(last, None)


def _unchecked(obj: dict[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """What of ``obj`` must be checked: what differs from ``stored``, and its type."""
    body = _changed_part(obj, stored)
    for key in ("apiVersion", "kind"):
        if key in obj:
            body[key] = obj[key]
    return body


def _changed_part(obj: dict[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` without what is exactly (JSON types included) as in ``stored``.

    Objects are compared field by field, so the paths of what is left stay those of ``obj``;
    lists only as a whole (an element's index is part of its path).
    """
    changed: dict[str, Any] = {}
    for key, value in obj.items():
        if key not in stored:
            changed[key] = value
        elif not _same_json(value, stored[key]):
            before = stored[key]
            both = isinstance(value, dict) and isinstance(before, Mapping)
            changed[key] = _changed_part(value, before) if both else value
    return changed


def _same_json(value: Any, stored: Any) -> bool:
    """Equal as JSON: ``==`` lets ``1``, ``1.0`` and ``true`` pass, the serialisation not."""
    if value is stored:
        return True
    if value != stored:
        return False
    try:
        return orjson.dumps(value) == orjson.dumps(stored)
    except TypeError:  # not JSON (a YAML body's big integer): check it
        return False


def _schema_of(resource: Resource) -> Mapping[str, Any]:
    custom = resource.custom or {}
    schema = (custom.get("schema") or {}).get("openAPIV3Schema") or {}
    return schema if isinstance(schema, Mapping) else {}


def _preserves_unknown(resource: Resource) -> bool:
    """A CRD with ``spec.preserveUnknownFields`` (v1beta1's default): no pruning, no defaults.

    Its schema, if any, may be non-structural; kube still validates objects against it.
    """
    return (resource.custom or {}).get("preserveUnknownFields") is True


class SchemaCheck:
    """Checks and normalises bodies against the kind's schema."""

    def check(
        self,
        resource: Resource,
        obj: dict[str, Any],
        *,
        validation: str,
        stored: Mapping[str, Any] | None = None,
    ) -> tuple[str, ...]:
        """Reject ill-typed bodies; drop unknown fields; return warnings for ``Warn``.

        ``stored`` is the object as stored, in the body's version, when the body repeats
        most of it (a status write sends the whole object back): the top-level fields of a
        built-in kind's body that are exactly the stored ones passed these checks when they
        were stored and are not walked again.
        """
        if resource.custom is None:
            body = obj if stored is None else _unchecked(obj, stored)
            types = builtins.type_errors(resource.group, resource.version, resource.kind, body)
            if types:
                raise BadRequest(types[0])
            unknown = builtins.unknown_fields(resource.group, resource.version, resource.kind, body)
            for path in unknown:
                remove_path(obj, path)
        elif _preserves_unknown(resource):
            unknown = []
        else:
            unknown = crds.prune(obj, _schema_of(resource), is_root=True)
        unknown = [p for p in unknown if p not in ("status",)]
        if not unknown or validation == "Ignore":
            return ()
        messages = [f'unknown field "{p}"' for p in unknown]
        if validation == "Strict":
            raise BadRequest("strict decoding error: " + ", ".join(messages))
        return tuple(messages)

    def default_custom(self, resource: Resource, obj: dict[str, Any]) -> None:
        if not _preserves_unknown(resource):
            crds.apply_defaults(obj, _schema_of(resource))

    def validate_custom(self, resource: Resource, obj: dict[str, Any]) -> list[FieldError]:
        body = {k: v for k, v in obj.items() if k != "metadata"}
        schema = dict(_schema_of(resource))
        props = dict(schema.get("properties") or {})
        props.pop("metadata", None)
        schema["properties"] = props
        return crds.validate_object(body, schema)

    def patch_meta(self, resource: Resource) -> PatchMeta | None:
        if resource.custom is not None:
            return None
        return patch_meta_for(resource.storage[0], resource.kind)

    def apply_meta(self, resource: Resource) -> PatchMeta | None:
        """List semantics for server-side apply: built-in merge keys, or a CRD's list types."""
        if resource.custom is None:
            return patch_meta_for(resource.storage[0], resource.kind)
        return meta_from_openapi_schema(_schema_of(resource))

    def record_update(
        self,
        resource: Resource,
        old: Mapping[str, Any] | None,
        new: dict[str, Any],
        *,
        manager: str,
        now: str,
    ) -> None:
        updated = applying.record_update(
            dict(old) if old is not None else None,
            new,
            manager=manager,
            api_version=resource.api_version,
            now=now,
            meta=self.apply_meta(resource),
        )
        new["metadata"]["managedFields"] = updated["metadata"].get("managedFields", [])
        if not new["metadata"]["managedFields"]:
            del new["metadata"]["managedFields"]
