"""PATCH requests: JSON, merge, strategic-merge and server-side apply on the generic store.

The patch is applied to the object in the version the client addressed, then the result
goes through the same update path as a PUT (defaulting, validation, status and
generation rules). A patch is conditional only when the patched document carries a
``resourceVersion`` that differs from the live one. Server-side apply creates the object
when it does not exist yet and records field ownership per manager.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import orjson

from atoll.errors import (
    BadRequest,
    Cause,
    Conflict,
    FieldError,
    Invalid,
    NotFound,
    UnsupportedMediaType,
)
from atoll.kube.applying import server_side_apply
from atoll.kube.patches import apply_json_patch, apply_merge_patch
from atoll.kube.strategic import apply_strategic_merge_patch

from . import builtins
from .bodies import APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, decode_document
from .options import WriteOptions
from .registry import Registry, WriteResult
from .resources import Resource

__all__ = ["PATCH_TYPES", "apply_patch_document", "patch"]

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _upgrading_from_client_side_apply(
    live: dict[str, Any] | None, manager: str, conflict: Conflict
) -> bool:
    """kube-apiserver 1.20 lets ``kubectl apply --server-side`` take over the fields that
    client-side apply owned (its last-applied annotation records them) without a conflict."""
    if live is None or manager != "kubectl" or not conflict.causes:
        return False
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    return _LAST_APPLIED in annotations and all(
        '"kubectl-client-side-apply"' in c.message for c in conflict.causes
    )


PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)


def apply_patch_document(
    registry: Registry, resource: Resource, live: dict[str, Any], mime: str, body: bytes
) -> dict[str, Any]:
    """Return ``live`` patched by a JSON, merge or strategic-merge patch document."""
    document = decode_document(body, mime)
    if mime == JSON_PATCH:
        return apply_json_patch(live, document)
    if mime == MERGE_PATCH:
        return apply_merge_patch(live, document)
    meta = registry.schemas.patch_meta(resource)
    if meta is None:
        raise UnsupportedMediaType(
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{JSON_PATCH}, {MERGE_PATCH}, {APPLY_PATCH}"
        )
    return apply_strategic_merge_patch(live, document, meta)


_UNMARSHAL = re.compile(r"cannot unmarshal (\w+) into Go struct field \S+ of type (\S+)")


def _check_restorable(resource: Resource, patched: dict[str, Any], body: bytes) -> None:
    """kube converts a strategic-merge result into the typed object and answers a type
    mismatch with 422 ``cannot restore <go type> from <json type>``, not the decoder's 400."""
    problems = builtins.type_errors(resource.group, resource.version, resource.kind, patched)
    if not problems:
        return
    match = _UNMARSHAL.search(problems[0])
    if match is None:
        raise BadRequest(problems[0])
    json_type, go_type = match.groups()
    go = "map" if go_type.startswith("map") else "slice" if go_type.startswith("[]") else go_type
    json_name = {"number": "float64", "bool": "bool", "object": "map", "array": "slice"}.get(
        json_type, json_type
    )
    raise Invalid(
        f' "" is invalid: patch: Invalid value: "{body.decode(errors="replace")}": '
        f"cannot restore {go} from {json_name}",
        causes=[Cause("FieldValueInvalid", f"cannot restore {go} from {json_name}", "patch")],
    )


async def patch(
    registry: Registry,
    resource: Resource,
    namespace: str,
    name: str,
    *,
    mime: str,
    body: bytes,
    opts: WriteOptions,
    subresource: str = "",
) -> WriteResult:
    if mime not in PATCH_TYPES:
        raise UnsupportedMediaType(
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{', '.join(PATCH_TYPES)}"
        )
    if opts.force_given and mime != APPLY_PATCH:
        raise Invalid.of(
            "PatchOptions",
            "meta.k8s.io",
            "",
            [FieldError.forbidden("force", "may not be specified for non-apply patch")],
        )
    if mime == APPLY_PATCH:
        return await _apply(
            registry, resource, namespace, name, body=body, opts=opts, subresource=subresource
        )
    entry = registry.storage.latest(resource.storage, namespace, name)
    if entry is None:
        raise NotFound.of(resource.plural, resource.group, name)
    live = registry.from_storage(resource, entry.decode())
    patched = apply_patch_document(registry, resource, live, mime, body)
    if not isinstance(patched, dict):
        raise BadRequest("the patched object is not a JSON object")
    if mime == STRATEGIC_PATCH:
        _check_restorable(resource, patched, body)
    return await registry.update(
        resource, namespace, name, patched, opts, subresource=subresource, base=entry
    )


async def _apply(
    registry: Registry,
    resource: Resource,
    namespace: str,
    name: str,
    *,
    body: bytes,
    opts: WriteOptions,
    subresource: str,
) -> WriteResult:
    applied = decode_document(body, APPLY_PATCH)
    if not isinstance(applied, dict):
        raise BadRequest("the body of an apply request must be an object")
    if not opts.explicit_manager:
        raise Invalid.of(
            "PatchOptions",
            "meta.k8s.io",
            "",
            [FieldError.required("fieldManager", "is required for apply patch")],
        )
    applied = orjson.loads(orjson.dumps(applied))  # YAML timestamps etc. become JSON values
    meta = applied.setdefault("metadata", {})
    if meta.get("name", name) != name:
        raise BadRequest(
            f"the name of the object ({meta.get('name')}) does not match the name on the URL "
            f"({name})"
        )
    meta["name"] = name
    if resource.namespaced:
        meta.setdefault("namespace", namespace)
    entry = registry.storage.latest(resource.storage, namespace, name)
    live = registry.from_storage(resource, entry.decode()) if entry is not None else None

    def apply(force: bool) -> dict[str, Any]:
        return server_side_apply(
            live,
            applied,
            manager=opts.field_manager,
            meta=registry.schemas.apply_meta(resource),
            api_version=resource.api_version,
            now=registry.clock(),
            force=force,
        )

    try:
        result = apply(opts.force)
    except Conflict as conflict:
        if not _upgrading_from_client_side_apply(live, opts.field_manager, conflict):
            raise
        result = apply(True)
    apply_opts = dataclasses.replace(opts, applying=True)
    if entry is None:
        result["metadata"].pop("resourceVersion", None)
        return await registry.create(
            resource, namespace if resource.namespaced else None, result, apply_opts
        )
    return await registry.update(
        resource, namespace, name, result, apply_opts, subresource=subresource, base=entry
    )
