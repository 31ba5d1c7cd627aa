"""One cached object: its JSON bytes, and the few fields lists filter and sort by.

Memory decides the shape. A decoded pod costs five to ten times its JSON in Python objects,
and a cache may hold 50,000 of them; so an object is kept as the orjson bytes that answers
are made of, beside the fields every list reads: namespace, name, creationTimestamp,
labels, ``status.phase`` and ``spec.nodeName``. Strings that repeat across objects
(namespaces, timestamps, phases, node names, label keys and values) are interned, so each
copy is one pointer. Any other field path a field selector names is read by decoding the
bytes — the slow path, which lists take only after every cheap filter.

``metadata.managedFields`` are dropped before serializing: no list shows them, a client that
needs them reads the object from the cluster, and they are often a third of its JSON.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import orjson

from atoll.kube.client import Object, ResourceType

__all__ = ["COMMON_FIELDS", "Entry", "entry_of", "field_value"]

_INTERN_MAX = 64  # longer strings rarely repeat
_NO_LABELS: Mapping[str, str] = {}  # shared by every object without labels; never changed


@dataclass(frozen=True, slots=True)
class Entry:
    """A cached object: ``raw`` is its JSON; the rest is read from it once, when stored."""

    raw: bytes
    namespace: str  # "" for cluster-scoped objects
    name: str
    created: str  # metadata.creationTimestamp, RFC 3339 in UTC: sorts as text
    status: str  # status.phase, "" when it has none (sortBy=status)
    node: str  # spec.nodeName, "" when it has none
    labels: Mapping[str, str]


def _intern(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return sys.intern(value) if len(value) <= _INTERN_MAX else value


def _labels(meta: Mapping[str, Any]) -> Mapping[str, str]:
    labels = meta.get("labels")
    if not isinstance(labels, dict) or not labels:
        return _NO_LABELS
    return {sys.intern(str(k)): _intern(v) for k, v in labels.items()}


def entry_of(obj: Object, rt: ResourceType) -> Entry:
    """The entry of a freshly decoded object (changed in place: managedFields go).

    Items of a List come without kind and apiVersion; the entry's JSON carries both, first,
    as a single GET's does.
    """
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    meta.pop("managedFields", None)
    if "kind" not in obj or "apiVersion" not in obj:
        obj = {"kind": rt.kind, "apiVersion": rt.api_version, **obj}
    spec, status = obj.get("spec"), obj.get("status")
    return Entry(
        # A copy of exact size: orjson's own buffer is over-allocated, and kept as it is it
        # costs more than twice the JSON's length in resident memory.
        raw=bytes(memoryview(orjson.dumps(obj))),
        namespace=_intern(meta.get("namespace")),
        name=str(meta.get("name") or ""),
        created=_intern(meta.get("creationTimestamp")),
        status=_intern(status.get("phase")) if isinstance(status, dict) else "",
        node=_intern(spec.get("nodeName")) if isinstance(spec, dict) else "",
        labels=_labels(meta),
    )


COMMON_FIELDS: dict[str, Callable[[Entry], str]] = {
    "metadata.name": attrgetter("name"),
    "metadata.namespace": attrgetter("namespace"),
    "status.phase": attrgetter("status"),
    "spec.nodeName": attrgetter("node"),
}
"""Field-selector paths answered without decoding the object."""


def field_value(entry: Entry, path: str) -> str:
    """The text a field selector compares for ``path`` ("" when absent, as upstream)."""
    common = COMMON_FIELDS.get(path)
    if common is not None:
        return common(entry)
    node: Any = orjson.loads(entry.raw)
    for part in path.split("."):
        if not isinstance(node, dict):
            return ""
        node = node.get(part)
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, str | int | float):
        return str(node)
    return ""
