"""Encode a Swagger 2.0 document (decoded JSON) as gnostic's ``openapi.v2.Document`` protobuf.

kubectl 1.20 fetches ``/openapi/v2`` as protobuf and decodes it with gnostic's generated Go
types (``github.com/googleapis/gnostic/openapiv2/OpenAPIv2.proto``, vendored by Kubernetes
1.20.2). We write the few messages a Kubernetes document uses by hand: every field is a
varint (bools, int64s), a 64-bit double or a length-delimited string or message, so a
protobuf runtime is not needed. Field numbers below are copied from that ``.proto``; keys
the protobuf has no field for are left out (the JSON form keeps them).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["encode_definitions", "encode_document", "encode_paths", "field", "shared"]

_VARINT, _FIXED64, _LEN = 0, 1, 2
_UINT64 = (1 << 64) - 1

# Document
_DOC_SWAGGER, _DOC_INFO, _DOC_PATHS, _DOC_DEFINITIONS = 1, 2, 8, 9
# Info
_INFO_TITLE, _INFO_VERSION, _INFO_DESCRIPTION = 1, 2, 3
# Paths.path (NamedPathItem); Definitions.additional_properties (NamedSchema);
# Properties.additional_properties (NamedSchema); every Named*: name = 1, value = 2
_PATHS_PATH = 2
_DEFINITIONS_ENTRY = 1
_NAME, _VALUE = 1, 2
# PathItem
_PATH_ITEM_OPS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}
_PATH_ITEM_PARAMETERS, _PATH_ITEM_EXTENSION = 9, 10
# Operation
_OP_TAGS, _OP_SUMMARY, _OP_DESCRIPTION, _OP_ID = 1, 2, 3, 5
_OP_PRODUCES, _OP_CONSUMES, _OP_PARAMETERS, _OP_RESPONSES = 6, 7, 8, 9
_OP_SCHEMES, _OP_DEPRECATED, _OP_EXTENSION = 10, 11, 13
# ParametersItem.parameter -> Parameter.{body_parameter, non_body_parameter}
_PARAMETERS_ITEM_PARAMETER = 1
_PARAMETER_BODY, _PARAMETER_NON_BODY = 1, 2
# BodyParameter
_BODY_DESCRIPTION, _BODY_NAME, _BODY_IN, _BODY_REQUIRED, _BODY_SCHEMA = 1, 2, 3, 4, 5
# NonBodyParameter oneof, and the fields of its sub-schemas
_NON_BODY_HEADER, _NON_BODY_QUERY, _NON_BODY_PATH = 1, 3, 4
_QUERY_FIELDS = {"required": 1, "in": 2, "description": 3, "name": 4, "type": 6, "format": 7}
_QUERY_UNIQUE_ITEMS = 20
_PATH_FIELDS = {"required": 1, "in": 2, "description": 3, "name": 4, "type": 5, "format": 6}
_PATH_UNIQUE_ITEMS = 19
_HEADER_FIELDS = _PATH_FIELDS
_HEADER_UNIQUE_ITEMS = 19
# Responses.response_code (NamedResponseValue) -> ResponseValue.response -> Response
_RESPONSES_CODE = 1
_RESPONSE_VALUE_RESPONSE = 1
_RESPONSE_DESCRIPTION, _RESPONSE_SCHEMA = 1, 2
_SCHEMA_ITEM_SCHEMA = 1
# Any
_ANY_YAML = 2

# Schema: (JSON key, field number, how to encode), in field-number order.
_SCHEMA_FIELDS: tuple[tuple[str, int, str], ...] = (
    ("$ref", 1, "string"),
    ("format", 2, "string"),
    ("title", 3, "string"),
    ("description", 4, "string"),
    ("default", 5, "any"),
    ("multipleOf", 6, "double"),
    ("maximum", 7, "double"),
    ("exclusiveMaximum", 8, "bool"),
    ("minimum", 9, "double"),
    ("exclusiveMinimum", 10, "bool"),
    ("maxLength", 11, "int"),
    ("minLength", 12, "int"),
    ("pattern", 13, "string"),
    ("maxItems", 14, "int"),
    ("minItems", 15, "int"),
    ("uniqueItems", 16, "bool"),
    ("maxProperties", 17, "int"),
    ("minProperties", 18, "int"),
    ("required", 19, "strings"),
    ("enum", 20, "anys"),
    ("additionalProperties", 21, "additional"),
    ("type", 22, "type"),
    ("items", 23, "items"),
    ("allOf", 24, "schemas"),
    ("properties", 25, "properties"),
    ("discriminator", 26, "string"),
    ("readOnly", 27, "bool"),
    ("example", 30, "any"),
)
_SCHEMA_EXTENSION = 31
_ADDITIONAL_SCHEMA, _ADDITIONAL_BOOLEAN = 1, 2  # AdditionalPropertiesItem oneof
_TYPE_VALUE = 1  # TypeItem.value (repeated string)
_ITEMS_SCHEMA = 1  # ItemsItem.schema (repeated Schema)
_PROPERTIES_ENTRY = 1  # Properties.additional_properties (repeated NamedSchema)


def _varint(n: int) -> bytes:
    n &= _UINT64  # negative int64s are ten bytes of two's complement
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field(number: int, payload: bytes | str) -> bytes:
    """A length-delimited field: a string, bytes, or an embedded message."""
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint((number << 3) | _LEN) + _varint(len(data)) + data


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3 | _VARINT) + _varint(value)


def _double_field(number: int, value: float) -> bytes:
    return _varint(number << 3 | _FIXED64) + struct.pack("<d", value)


def _strings(number: int, values: Iterable[str]) -> bytes:
    return b"".join(field(number, v) for v in values)


def _yaml(value: Any) -> str:
    # JSON is YAML: gnostic's Any carries YAML text, which kubectl reads with yaml.v2.
    return json.dumps(value, sort_keys=True)


def _any(value: Any) -> bytes:
    return field(_ANY_YAML, _yaml(value))


def _named(number: int, name: str, value: bytes) -> bytes:
    return field(number, field(_NAME, name) + field(_VALUE, value))


def _extensions(number: int, obj: Mapping[str, Any]) -> bytes:
    return b"".join(
        _named(number, key, _any(value)) for key, value in obj.items() if key.startswith("x-")
    )


def encode_schema(schema: Mapping[str, Any]) -> bytes:
    """An ``openapi.v2.Schema`` message."""
    out = bytearray()
    for key, number, how in _SCHEMA_FIELDS:
        value = schema.get(key)
        if value is None:
            continue
        if how == "string":
            out += field(number, str(value))
        elif how == "any":
            out += field(number, _any(value))
        elif how == "double":
            out += _double_field(number, float(value))
        elif how == "bool":
            if value is True:
                out += _int_field(number, 1)
        elif how == "int":
            out += _int_field(number, int(value))
        elif how == "strings":
            out += _strings(number, value)
        elif how == "anys":
            out += b"".join(field(number, _any(v)) for v in value)
        elif how == "additional":
            inner = (
                _int_field(_ADDITIONAL_BOOLEAN, int(value))
                if isinstance(value, bool)
                else field(_ADDITIONAL_SCHEMA, encode_schema(value))
            )
            out += field(number, inner)
        elif how == "type":
            out += field(
                number, _strings(_TYPE_VALUE, [value] if isinstance(value, str) else value)
            )
        elif how == "items":
            items = value if isinstance(value, list) else [value]
            out += field(number, b"".join(field(_ITEMS_SCHEMA, encode_schema(s)) for s in items))
        elif how == "schemas":
            out += b"".join(field(number, encode_schema(s)) for s in value)
        elif how == "properties":
            out += field(
                number,
                b"".join(
                    _named(_PROPERTIES_ENTRY, name, encode_schema(sub))
                    for name, sub in value.items()
                ),
            )
    out += _extensions(_SCHEMA_EXTENSION, schema)
    return bytes(out)


def _simple_fields(
    param: Mapping[str, Any], numbers: Mapping[str, int], unique_items: int
) -> bytes:
    out = bytearray()
    for key, number in numbers.items():
        value = param.get(key)
        if key == "required":
            out += _int_field(number, 1) if value is True else b""
        elif value is not None:
            out += field(number, str(value))
    if param.get("uniqueItems") is True:
        out += _int_field(unique_items, 1)
    return bytes(out)


_SHARED: dict[int, tuple[Mapping[str, Any], bytes]] = {}


def shared(param: dict[str, Any]) -> dict[str, Any]:
    """Mark a module-level parameter used by many operations: it is encoded only once."""
    _SHARED[id(param)] = (param, _encode_parameter(param))  # holds it: its id stays unique
    return param


def _parameter(param: Mapping[str, Any]) -> bytes:
    """A ``ParametersItem`` holding a ``Parameter``."""
    cached = _SHARED.get(id(param))
    if cached is not None and cached[0] is param:
        return cached[1]
    return _encode_parameter(param)


def _encode_parameter(param: Mapping[str, Any]) -> bytes:
    where = param.get("in")
    if where == "body":
        body = bytearray()
        if "description" in param:
            body += field(_BODY_DESCRIPTION, param["description"])
        body += field(_BODY_NAME, param["name"]) + field(_BODY_IN, "body")
        if param.get("required") is True:
            body += _int_field(_BODY_REQUIRED, 1)
        if "schema" in param:
            body += field(_BODY_SCHEMA, encode_schema(param["schema"]))
        parameter = field(_PARAMETER_BODY, bytes(body))
    else:
        if where == "path":
            sub = field(_NON_BODY_PATH, _simple_fields(param, _PATH_FIELDS, _PATH_UNIQUE_ITEMS))
        elif where == "header":
            sub = field(
                _NON_BODY_HEADER, _simple_fields(param, _HEADER_FIELDS, _HEADER_UNIQUE_ITEMS)
            )
        else:
            sub = field(_NON_BODY_QUERY, _simple_fields(param, _QUERY_FIELDS, _QUERY_UNIQUE_ITEMS))
        parameter = field(_PARAMETER_NON_BODY, sub)
    return field(_PARAMETERS_ITEM_PARAMETER, parameter)


def _responses(responses: Mapping[str, Mapping[str, Any]]) -> bytes:
    out = bytearray()
    for code, response in responses.items():
        body = field(_RESPONSE_DESCRIPTION, response.get("description", ""))
        if "schema" in response:
            body += field(
                _RESPONSE_SCHEMA, field(_SCHEMA_ITEM_SCHEMA, encode_schema(response["schema"]))
            )
        out += _named(_RESPONSES_CODE, code, field(_RESPONSE_VALUE_RESPONSE, body))
    return bytes(out)


def _operation(op: Mapping[str, Any]) -> bytes:
    out = bytearray(_strings(_OP_TAGS, op.get("tags", ())))
    for key, number in (("summary", _OP_SUMMARY), ("description", _OP_DESCRIPTION)):
        if key in op:
            out += field(number, op[key])
    if "operationId" in op:
        out += field(_OP_ID, op["operationId"])
    out += _strings(_OP_PRODUCES, op.get("produces", ()))
    out += _strings(_OP_CONSUMES, op.get("consumes", ()))
    out += b"".join(field(_OP_PARAMETERS, _parameter(p)) for p in op.get("parameters", ()))
    if "responses" in op:
        out += field(_OP_RESPONSES, _responses(op["responses"]))
    out += _strings(_OP_SCHEMES, op.get("schemes", ()))
    if op.get("deprecated") is True:
        out += _int_field(_OP_DEPRECATED, 1)
    out += _extensions(_OP_EXTENSION, op)
    return bytes(out)


def _path_item(item: Mapping[str, Any]) -> bytes:
    out = bytearray()
    for method, number in _PATH_ITEM_OPS.items():
        if method in item:
            out += field(number, _operation(item[method]))
    out += b"".join(field(_PATH_ITEM_PARAMETERS, _parameter(p)) for p in item.get("parameters", ()))
    out += _extensions(_PATH_ITEM_EXTENSION, item)
    return bytes(out)


def encode_paths(paths: Mapping[str, Mapping[str, Any]]) -> bytes:
    """The repeated ``path`` entries of a ``Paths`` message (concatenations stay valid)."""
    return b"".join(_named(_PATHS_PATH, name, _path_item(item)) for name, item in paths.items())


def encode_definitions(definitions: Mapping[str, Mapping[str, Any]]) -> bytes:
    """The repeated entries of a ``Definitions`` message (concatenations stay valid)."""
    return b"".join(
        _named(_DEFINITIONS_ENTRY, name, encode_schema(schema))
        for name, schema in definitions.items()
    )


def encode_document(
    info: Mapping[str, str], paths: bytes, definitions: bytes, *, swagger: str = "2.0"
) -> bytes:
    """A ``Document`` from already encoded path and definition entries."""
    info_bytes = field(_INFO_TITLE, info.get("title", "")) + field(
        _INFO_VERSION, info.get("version", "")
    )
    if "description" in info:
        info_bytes += field(_INFO_DESCRIPTION, info["description"])
    return (
        field(_DOC_SWAGGER, swagger)
        + field(_DOC_INFO, info_bytes)
        + field(_DOC_PATHS, paths)
        + field(_DOC_DEFINITIONS, definitions)
    )
