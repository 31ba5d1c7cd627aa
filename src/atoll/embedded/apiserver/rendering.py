"""Response bodies in the representation a client negotiated: JSON, Table or metadata only.

Lists are rendered as a sequence of chunks of about ``CHUNK_SIZE`` (``list_body``), joined
from the stored bytes: a list of 10,000 pods never exists as one 36 MB ``bytes`` (nor does
any TLS connection's buffer grow to that size), and each byte is copied once on its way
out. Plain JSON in the stored version is the stored bytes as they are. Table rows and
``PartialObjectMetadata`` embed ``metadata`` as a slice of the stored bytes (the storage
records where it lies), and a built-in kind's row cells are computed from the decoded
object once per stored state and kept on the entry, with the Age cell recomputed on every
request; kinds with other time-dependent cells (Events, Jobs, CronJobs) and custom
resources are computed on every request. Single objects and watch events are one document.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from atoll.embedded.storage.store import Entry
from atoll.errors import NotAcceptable

from .resources import Resource
from .tables import age, column_definitions, row_cells
from .tables.kinds import BUILT_IN

__all__ = [
    "CHUNK_SIZE",
    "ListBody",
    "Representation",
    "list_body",
    "negotiate",
    "render_list",
    "render_object",
    "watch_line",
]

CHUNK_SIZE = 256 * 1024
"""Bytes of a list body rendered (and sent, and encrypted) at a time."""


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


@dataclass(frozen=True, slots=True)
class ListBody:
    """A list response body: its chunks, in order, and its length when known in advance."""

    chunks: Iterator[bytes]
    length: int | None


def _chunks(head: bytes, items: Iterable[bytes], tail: bytes) -> Iterator[bytes]:
    """``head``, the items separated by commas, then ``tail``, in chunks of about
    ``CHUNK_SIZE`` (an item is never split)."""
    chunk = [head]
    size = len(head)
    separator = b""
    for item in items:
        chunk.append(separator)
        chunk.append(item)
        separator = b","
        size += len(item)
        if size >= CHUNK_SIZE:
            yield b"".join(chunk)
            chunk = []
            size = 0
    chunk.append(tail)
    yield b"".join(chunk)


def _length(head: bytes, items: Sequence[bytes], tail: bytes) -> int:
    return len(head) + sum(map(len, items)) + max(len(items) - 1, 0) + len(tail)


def _head(document: dict[str, Any], key: str) -> bytes:
    """The JSON of ``document`` up to the opening bracket of a last member ``key``."""
    return orjson.dumps(document)[:-1] + b',"' + key.encode() + b'":['


def _served_as_stored(resource: Resource) -> bool:
    return resource.stored_api_version == resource.api_version


def list_body(
    resource: Resource,
    entries: Sequence[Entry],
    rep: Representation,
    *,
    rv: int,
    encode: Encode,
    decode: Callable[[Entry], dict[str, Any]],
    continue_token: str = "",
    remaining: int | None = None,
) -> ListBody:
    """The body of a list response, byte for byte what ``orjson.dumps`` of the whole
    document would give, as chunks rendered on demand. Conversions to the served version
    happen here, before the first chunk, so that an error is still the response."""
    meta = _list_meta(rv, continue_token, remaining)
    if rep.form == "table":
        table: dict[str, Any] = {
            "kind": "Table",
            "apiVersion": f"meta.k8s.io/{rep.meta_version}",
            "metadata": meta,
            "columnDefinitions": column_definitions(
                resource.group, resource.kind, _printer_columns(resource)
            ),
        }
        rows: Iterable[bytes] = _TableRows(resource, rep, encode, decode).rows(entries)
        if not _served_as_stored(resource):
            rows = list(rows)
        return ListBody(_chunks(_head(table, "rows"), rows, b"]}"), None)
    if rep.form == "partial":
        head = _head(
            {
                "kind": "PartialObjectMetadataList",
                "apiVersion": f"meta.k8s.io/{rep.meta_version}",
                "metadata": meta,
            },
            "items",
        )
        prefix = _partial_prefix(rep.meta_version)
        slice_meta = _served_as_stored(resource)
        items = [b"".join((prefix, _metadata(e, decode, slice_meta), b"}")) for e in entries]
        return ListBody(_chunks(head, items, b"]}"), _length(head, items, b"]}"))
    head = _head(
        {"kind": resource.list_kind, "apiVersion": resource.api_version, "metadata": meta},
        "items",
    )
    raws = [encode(e) for e in entries]
    return ListBody(_chunks(head, raws, b"]}"), _length(head, raws, b"]}"))


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
    """The body of a list response in one piece (``list_body`` joined)."""
    body = list_body(
        resource,
        entries,
        rep,
        rv=rv,
        encode=encode,
        decode=decode,
        continue_token=continue_token,
        remaining=remaining,
    )
    return b"".join(body.chunks)


def _partial_prefix(version: str) -> bytes:
    """``_partial(obj, version)`` as JSON, up to the value of ``metadata``."""
    return (
        b'{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/'
        + version.encode()
        + b'","metadata":'
    )


def _metadata(
    entry: Entry,
    decode: Callable[[Entry], dict[str, Any]],
    slice_meta: bool,
    obj: dict[str, Any] | None = None,
) -> bytes:
    """The JSON of the served object's ``metadata``: a slice of the stored bytes when they
    are the served version and the storage recorded where it lies."""
    if slice_meta and entry.meta_end:
        return entry.raw[entry.meta_start : entry.meta_end]
    if obj is None:
        obj = decode(entry)
    return orjson.dumps(obj.get("metadata", {}))


# Built-in kinds whose cells depend on the clock through more than the Age column.
_CLOCKED_KINDS = frozenset({"Event", "Job", "CronJob"})


class _Cells:
    """A Table row's cells for one stored state in one served version, as JSON pieces:
    ``head`` and ``tail`` around the Age cell, which is computed per request from
    ``created``; without an Age column ``head`` is all of it."""

    __slots__ = ("api_version", "created", "head", "tail")

    def __init__(self, api_version: str, head: bytes, tail: bytes | None, created: str) -> None:
        self.api_version = api_version
        self.head = head
        self.tail = tail
        self.created = created


def _creation_timestamp(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata")
    stamp = meta.get("creationTimestamp") if isinstance(meta, dict) else None
    return stamp if isinstance(stamp, str) else ""


class _TableRows:
    """Renders the rows of one Table response (one ``now`` for all of them)."""

    def __init__(
        self,
        resource: Resource,
        rep: Representation,
        encode: Encode,
        decode: Callable[[Entry], dict[str, Any]],
    ) -> None:
        self.resource = resource
        self.encode = encode
        self.decode = decode
        self.now = datetime.now(UTC)
        self.columns = _printer_columns(resource)
        self.ages: dict[str, bytes] = {}
        self.age_index: int | None = None
        self.cacheable = (
            self.columns is None
            and (resource.group, resource.kind) in BUILT_IN
            and resource.kind not in _CLOCKED_KINDS
        )
        if self.cacheable:
            names = [c["name"] for c in column_definitions(resource.group, resource.kind)]
            self.age_index = names.index("Age") if "Age" in names else None
        self.include = rep.include_object
        if self.include not in ("Object", "None"):
            self.include = "Metadata"
        self.object_prefix = b',"object":' + _partial_prefix(rep.meta_version)
        self.slice_meta = _served_as_stored(resource)

    def _age(self, created: str) -> bytes:
        cell = self.ages.get(created)
        if cell is None:
            cell = self.ages[created] = orjson.dumps(age(created, self.now))
        return cell

    def _cells(self, cells: list[Any], obj: dict[str, Any]) -> _Cells | None:
        """What to keep of ``cells`` on the entry; None when the Age cell is not one that
        can be recomputed from ``creationTimestamp``."""
        api_version = self.resource.api_version
        i = self.age_index
        if i is None:
            return _Cells(api_version, orjson.dumps(cells), None, "")
        created = _creation_timestamp(obj)
        if not isinstance(cells[i], str) or orjson.dumps(cells[i]) != self._age(created):
            return None
        head = orjson.dumps(cells[:i])[:-1] + (b"," if i else b"")
        tail = (b"," if i + 1 < len(cells) else b"") + orjson.dumps(cells[i + 1 :])[1:]
        return _Cells(api_version, head, tail, sys.intern(created))

    def rows(self, entries: Iterable[Entry]) -> Iterator[bytes]:
        resource, include = self.resource, self.include
        api_version = resource.api_version
        for entry in entries:
            obj: dict[str, Any] | None = None
            cells: list[Any] = []
            cached = entry.cache if self.cacheable else None
            if not isinstance(cached, _Cells) or cached.api_version != api_version:
                obj = self.decode(entry)
                cells = row_cells(
                    resource.group, resource.kind, obj, now=self.now, printer_columns=self.columns
                )
                cached = entry.cache = self._cells(cells, obj) if self.cacheable else None
            if cached is None:
                pieces = [b'{"cells":', orjson.dumps(cells)]
            elif cached.tail is None:
                pieces = [b'{"cells":', cached.head]
            else:
                pieces = [b'{"cells":', cached.head, self._age(cached.created), cached.tail]
            if include == "Metadata":
                pieces += (
                    self.object_prefix,
                    _metadata(entry, self.decode, self.slice_meta, obj),
                    b"}}",
                )
            elif include == "Object":
                pieces += (b',"object":', self.encode(entry), b"}")
            else:
                pieces.append(b"}")
            yield b"".join(pieces)


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
