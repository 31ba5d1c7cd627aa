"""Response bodies in the representation a client negotiated: JSON, Table or metadata only.

Lists are assembled from the stored bytes without decoding them when the client wants
plain JSON in the stored version — the common and the large case. Tables
(``as=Table;g=meta.k8s.io;v=v1|v1beta1``) and ``PartialObjectMetadata`` need the decoded
object and are built per row. Watch events are one compact JSON document per line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from atoll.embedded.storage.store import Entry
from atoll.errors import NotAcceptable

from .resources import Resource
from .tables import column_definitions, row_cells

__all__ = ["Representation", "negotiate", "render_list", "render_object", "watch_line"]


@dataclass(frozen=True, slots=True)
class Representation:
    """What the client accepts: ``json``, ``table`` or ``partial`` (PartialObjectMetadata)."""

    form: str = "json"
    meta_version: str = "v1"  # meta.k8s.io version of Table/PartialObjectMetadata
    include_object: str = "Metadata"  # for tables: None, Metadata or Object


def _params(media: str) -> tuple[str, dict[str, str]]:
    parts = [p.strip() for p in media.split(";")]
    params = {}
    for p in parts[1:]:
        key, _, value = p.partition("=")
        params[key.strip()] = value.strip()
    return parts[0].lower(), params


def negotiate(accept: str, *, include_object: str = "") -> Representation:
    """Pick the first acceptable media range of an Accept header, as kube does."""
    if not accept.strip():
        return Representation()
    for media in accept.split(","):
        mime, params = _params(media)
        if mime not in ("application/json", "*/*", "application/*", "application/yaml"):
            continue
        as_ = params.get("as")
        if as_ is None:
            return Representation()
        if params.get("g") != "meta.k8s.io" or params.get("v") not in ("v1", "v1beta1"):
            continue
        version = params["v"]
        if as_ == "Table":
            return Representation("table", version, include_object or "Metadata")
        if as_ in ("PartialObjectMetadata", "PartialObjectMetadataList"):
            return Representation("partial", version)
    raise NotAcceptable(
        "only the following media types are accepted: application/json, application/yaml, "
        "application/vnd.kubernetes.protobuf"
    )


Encode = Callable[[Entry], bytes]


def _partial(obj: dict[str, Any], version: str) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": obj.get("metadata", {}),
    }


def _list_meta(rv: int, continue_token: str, remaining: int | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if continue_token:
        meta["continue"] = continue_token
    if remaining:
        meta["remainingItemCount"] = remaining
    return meta


def _table(
    resource: Resource,
    objects: Sequence[dict[str, Any]],
    rep: Representation,
    list_meta: dict[str, Any],
    *,
    with_columns: bool = True,
) -> dict[str, Any]:
    columns = _printer_columns(resource)
    now = datetime.now(UTC)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {
            "cells": row_cells(
                resource.group, resource.kind, obj, now=now, printer_columns=columns
            ),
        }
        if rep.include_object == "Object":
            row["object"] = obj
        elif rep.include_object != "None":
            row["object"] = _partial(obj, rep.meta_version)
        rows.append(row)
    table: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{rep.meta_version}",
        "metadata": list_meta,
    }
    if with_columns:
        table["columnDefinitions"] = column_definitions(resource.group, resource.kind, columns)
    table["rows"] = rows
    return table


def _printer_columns(resource: Resource) -> list[dict[str, Any]] | None:
    if resource.custom is None:
        return None
    columns = resource.custom.get("additionalPrinterColumns")
    return list(columns) if columns else None


def render_list(
    resource: Resource,
    entries: Sequence[Entry],
    rep: Representation,
    *,
    rv: int,
    encode: Encode,
    decode: Callable[[Entry], dict[str, Any]],
    continue_token: str = "",
    remaining: int | None = None,
) -> bytes:
    meta = _list_meta(rv, continue_token, remaining)
    if rep.form == "table":
        return orjson.dumps(_table(resource, [decode(e) for e in entries], rep, meta))
    if rep.form == "partial":
        return orjson.dumps(
            {
                "kind": "PartialObjectMetadataList",
                "apiVersion": f"meta.k8s.io/{rep.meta_version}",
                "metadata": meta,
                "items": [_partial(decode(e), rep.meta_version) for e in entries],
            }
        )
    head = orjson.dumps(
        {
            "kind": resource.list_kind,
            "apiVersion": resource.api_version,
            "metadata": meta,
        }
    )
    return head[:-1] + b',"items":[' + b",".join(encode(e) for e in entries) + b"]}"


def render_object(
    resource: Resource, obj_bytes: bytes, rep: Representation, *, rv: int = 0
) -> bytes:
    if rep.form == "json":
        return obj_bytes
    obj = orjson.loads(obj_bytes)
    if rep.form == "partial":
        return orjson.dumps(_partial(obj, rep.meta_version))
    meta = {"resourceVersion": obj.get("metadata", {}).get("resourceVersion", str(rv))}
    return orjson.dumps(_table(resource, [obj], rep, meta))


def watch_line(
    event_type: str,
    resource: Resource,
    obj_bytes: bytes,
    rep: Representation,
    *,
    first: bool = False,
) -> bytes:
    if rep.form == "json":
        return b'{"type":"' + event_type.encode() + b'","object":' + obj_bytes + b"}\n"
    obj = orjson.loads(obj_bytes)
    if rep.form == "partial":
        body: dict[str, Any] = _partial(obj, rep.meta_version)
    else:
        meta = {"resourceVersion": obj.get("metadata", {}).get("resourceVersion", "")}
        body = _table(resource, [obj], rep, meta, with_columns=first)
    return orjson.dumps({"type": event_type, "object": body}) + b"\n"
