"""``/openapi/v2``: the document kubectl reads before ``apply``, ``create -f`` and ``diff``.

kubectl 1.20 asks for the protobuf form (gnostic's OpenAPIv2 ``Document``) and uses it to
learn which kinds support server-side dry-run: a PATCH operation with a ``dryRun`` query
parameter and an ``x-kubernetes-group-version-kind`` extension. We encode just that, one
path per served kind, by hand — a few length-delimited fields need no protobuf runtime.
Clients that ask for JSON get the same paths as a Swagger 2.0 document.
"""

from __future__ import annotations

from typing import Any

from .resources import Catalog, Resource

__all__ = ["openapi_json", "openapi_protobuf"]

# gnostic OpenAPIv2.proto field numbers
_DOC_SWAGGER, _DOC_INFO, _DOC_PATHS = 1, 2, 8
_INFO_TITLE, _INFO_VERSION = 1, 2
_PATHS_PATH = 2
_NAMED_NAME, _NAMED_VALUE = 1, 2
_PATHITEM_PATCH = 8
_OP_PARAMETERS, _OP_VENDOR_EXTENSION = 8, 13
_PARAMITEM_PARAMETER = 1
_PARAM_NON_BODY = 2
_NONBODY_QUERY = 3
_QUERY_IN, _QUERY_NAME, _QUERY_TYPE = 2, 4, 6
_ANY_YAML = 2


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint((number << 3) | 2) + _varint(len(data)) + data


def _path_of(r: Resource) -> str:
    prefix = f"/apis/{r.group}/{r.version}" if r.group else f"/api/{r.version}"
    scope = "/namespaces/{namespace}" if r.namespaced else ""
    return f"{prefix}{scope}/{r.plural}/{{name}}"


def _gvk_yaml(r: Resource) -> str:
    group = r.group or '""'
    return f"group: {group}\nkind: {r.kind}\nversion: {r.version}\n"


def _patch_operation(r: Resource) -> bytes:
    query = (
        _field(_QUERY_IN, "query") + _field(_QUERY_NAME, "dryRun") + _field(_QUERY_TYPE, "string")
    )
    parameter = _field(_PARAM_NON_BODY, _field(_NONBODY_QUERY, query))
    extension = _field(_NAMED_NAME, "x-kubernetes-group-version-kind") + _field(
        _NAMED_VALUE, _field(_ANY_YAML, _gvk_yaml(r))
    )
    return _field(_OP_PARAMETERS, _field(_PARAMITEM_PARAMETER, parameter)) + _field(
        _OP_VENDOR_EXTENSION, extension
    )


def openapi_protobuf(catalog: Catalog) -> bytes:
    paths = b"".join(
        _field(
            _PATHS_PATH,
            _field(_NAMED_NAME, _path_of(r))
            + _field(_NAMED_VALUE, _field(_PATHITEM_PATCH, _patch_operation(r))),
        )
        for r in sorted(catalog, key=_path_of)
        if "patch" in r.verbs
    )
    info = _field(_INFO_TITLE, "Kubernetes") + _field(_INFO_VERSION, "v1.20.2")
    return _field(_DOC_SWAGGER, "2.0") + _field(_DOC_INFO, info) + _field(_DOC_PATHS, paths)


def openapi_json(catalog: Catalog) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for r in catalog:
        if "patch" not in r.verbs:
            continue
        paths[_path_of(r)] = {
            "patch": {
                "parameters": [
                    {"in": "query", "name": "dryRun", "type": "string", "uniqueItems": True}
                ],
                "x-kubernetes-group-version-kind": {
                    "group": r.group,
                    "kind": r.kind,
                    "version": r.version,
                },
            }
        }
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.20.2"}, "paths": paths}
