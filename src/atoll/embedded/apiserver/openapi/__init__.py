"""``/openapi/v2``: a Swagger 2.0 document of every served kind, as JSON or gnostic protobuf.

kubectl 1.20 fetches it (as protobuf) before ``apply``, ``create -f``, ``replace``, ``edit``
and ``diff``, and uses it three ways:

- client-side validation: it finds a kind's definition by its
  ``x-kubernetes-group-version-kind`` extension and checks the object against it, following
  ``$ref`` s (``ValidationError(…): unknown field``, ``unknown object type "nil"``);
- ``kubectl explain``, from the same definitions;
- server-side dry-run support, from the ``dryRun`` parameter of each kind's PATCH operation.

Built-in definitions come from the models (:mod:`.builtin`), custom resources' from their
CRDs (:mod:`.custom`), paths from :mod:`.paths`; :mod:`.gnostic` encodes the protobuf. The
built-in half never changes, so it is built and encoded once; the document as a whole is
cached per catalog and rebuilt only when ``Catalog.generation`` moves (a CRD changed).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..resources import Catalog, Resource
from . import gnostic
from .builtin import GVK, BuiltinDefinitions, list_definition
from .custom import custom_definition, custom_definition_name
from .paths import PATCH, SCALE, resource_paths

__all__ = ["openapi_json", "openapi_protobuf"]

INFO = {"title": "Kubernetes", "version": "v1.20.2"}
_PATCH_DEFINITION = {
    "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH "
    "request body.",
    "type": "object",
}


@dataclass(frozen=True, slots=True)
class _Part:
    """Paths and definitions, decoded and encoded (protobuf repeated entries)."""

    paths: dict[str, dict[str, Any]]
    definitions: dict[str, dict[str, Any]]
    paths_pb: bytes
    definitions_pb: bytes

    @classmethod
    def of(cls, paths: dict[str, dict[str, Any]], definitions: dict[str, dict[str, Any]]) -> _Part:
        return cls(
            paths, definitions, gnostic.encode_paths(paths), gnostic.encode_definitions(definitions)
        )


@dataclass(frozen=True, slots=True)
class _Document:
    generation: int
    json: dict[str, Any]
    protobuf: bytes


def _core_first(r: Resource) -> tuple[bool, str, str, str]:
    return (r.group != "", r.group, r.version, r.kind)


@cache
def _builtin_part(resources: tuple[Resource, ...]) -> _Part:
    defs = BuiltinDefinitions()
    for struct in ("ObjectMeta", "ListMeta", "Status", "DeleteOptions"):
        defs.add_meta(struct)
    defs.definitions[PATCH] = dict(_PATCH_DEFINITION)
    paths: dict[str, dict[str, Any]] = {}
    ordered = sorted(resources, key=_core_first)
    kind_names = {r: defs.add_kind(r) for r in ordered}
    for r in ordered:
        defs.annotate(r, kind_names[r])
    scale = Resource("autoscaling", "v1", "scale", "Scale", namespaced=True)
    if defs.add_kind(scale) != SCALE:  # pragma: no cover - names are fixed
        raise AssertionError(SCALE)
    for r in ordered:
        list_name = defs.add_list(r, kind_names[r]) if "list" in r.verbs else None
        paths.update(resource_paths(r, kind_names[r], list_name))
    return _Part.of(paths, dict(sorted(defs.definitions.items())))


def _custom_part(resources: list[Resource]) -> _Part:
    definitions: dict[str, dict[str, Any]] = {}
    paths: dict[str, dict[str, Any]] = {}
    for r in sorted(resources, key=lambda r: (r.group, r.version, r.kind)):
        name = custom_definition_name(r)
        definitions[name] = custom_definition(r)
        list_name = None
        if "list" in r.verbs:
            list_name = custom_definition_name(r, r.list_kind)
            definition = list_definition(r.kind, r.plural, name)
            definition[GVK] = [{"group": r.group, "kind": r.list_kind, "version": r.version}]
            definitions[list_name] = definition
        paths.update(resource_paths(r, name, list_name))
    return _Part.of(paths, definitions)


_DOCUMENTS: weakref.WeakKeyDictionary[Catalog, _Document] = weakref.WeakKeyDictionary()


def _document(catalog: Catalog) -> _Document:
    cached = _DOCUMENTS.get(catalog)
    if cached is not None and cached.generation == catalog.generation:
        return cached
    generation = catalog.generation
    builtin = _builtin_part(tuple(r for r in catalog if r.custom is None))
    custom = _custom_part([r for r in catalog if r.custom is not None])
    doc = {
        "swagger": "2.0",
        "info": dict(INFO),
        "paths": {**builtin.paths, **custom.paths},
        "definitions": {**builtin.definitions, **custom.definitions},
    }
    protobuf = gnostic.encode_document(
        INFO,
        builtin.paths_pb + custom.paths_pb,
        builtin.definitions_pb + custom.definitions_pb,
    )
    document = _Document(generation, doc, protobuf)
    _DOCUMENTS[catalog] = document
    return document


def openapi_protobuf(catalog: Catalog) -> bytes:
    """The document as gnostic's ``openapi.v2.Document`` (what kubectl asks for)."""
    return _document(catalog).protobuf


def openapi_json(catalog: Catalog) -> dict[str, Any]:
    """The document as Swagger 2.0 JSON. Shared and cached: callers must not change it."""
    return _document(catalog).json
