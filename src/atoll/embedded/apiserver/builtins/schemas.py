"""Check a built-in object against its schema the way kube-apiserver's JSON decoder does.

kube-apiserver decodes a request body into Go structs before anything else runs, so two kinds
of mistake never reach validation:

- a value of the wrong JSON type (``replicas: "3"``) is a 400 BadRequest, worded
  ``Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string
  into Go struct field DeploymentSpec.spec.replicas of type int32`` (:func:`type_errors`), and
  so is an unparseable quantity or bad base64 in a Secret;
- a field the struct lacks is dropped silently, or, with ``fieldValidation=Strict``, rejected
  as ``strict decoding error: unknown field "spec.foo"`` (:func:`unknown_fields`).

:func:`schema_of` renders the same type tree as an OpenAPI v2 style definition (no ``$ref``)
for ``/openapi/v2``, ``kubectl explain`` and the console's YAML editor.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from atoll.embedded.apiserver.builtins.type_tree import (
    TypeNode,
    go_struct_name,
    model_for,
    struct_descriptions,
    struct_fields,
    struct_required,
)
from atoll.kube.quantities import canonical_quantity, quantity_error

__all__ = ["normalize_quantities", "schema_of", "type_errors", "unknown_fields"]

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_INT_BOUNDS = {32: 2**31, 64: 2**63}


@dataclass(slots=True)
class _Findings:
    unknown: list[str] = field(default_factory=list)
    decode: list[str] = field(default_factory=list)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return f"number {value}" if isinstance(value, float) else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"


class _Where:
    """Where a value sits: the Go struct holding it and the steps that lead to it.

    Built for every field of every write and read only when something is wrong, so the paths
    are put together on demand: a step is a field name (which extends the Go path too) or
    an index or key (which only the strict path shows). A plain slotted class: a frozen
    dataclass's ``__init__`` costs several times as much, for every field of every write.
    """

    __slots__ = ("is_field", "parent", "step", "struct")

    def __init__(
        self,
        struct: str,
        parent: _Where | None = None,
        step: str | int = "",
        is_field: bool = False,
    ) -> None:
        self.struct = struct
        self.parent = parent
        self.step = step
        self.is_field = is_field

    def field(self, name: str, struct: str | None = None) -> _Where:
        return _Where(struct or self.struct, self, name, True)

    def index(self, i: int) -> _Where:
        return _Where(self.struct, self, i, False)

    def key(self, k: str) -> _Where:
        return _Where(self.struct, self, k, False)

    def _steps(self) -> list[_Where]:
        steps: list[_Where] = []
        where: _Where | None = self
        while where is not None and where.parent is not None:
            steps.append(where)
            where = where.parent
        return steps[::-1]

    @property
    def go_path(self) -> str:
        return ".".join(str(w.step) for w in self._steps() if w.is_field)

    @property
    def strict_path(self) -> str:
        path = ""
        for where in self._steps():
            if where.is_field:
                path = f"{path}.{where.step}" if path else str(where.step)
            else:
                path = f"{path}[{where.step}]"
        return path


def _mismatch(value: Any, node: TypeNode, *, where: _Where) -> str:
    return (
        f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
        f"{where.struct}.{where.go_path} of type {node.go}"
    )


def _check_scalar(value: Any, node: TypeNode, *, where: _Where) -> str | None:
    """The decode error for a scalar ``value`` of type ``node``, if any."""
    match node.kind:
        case "string":
            ok = isinstance(value, str)
        case "boolean":
            ok = isinstance(value, bool)
        case "number":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        case "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
            if ok and not -_INT_BOUNDS[node.bits] <= value < _INT_BOUNDS[node.bits]:
                return f"json: cannot unmarshal number {value} into Go struct field " + (
                    f"{where.struct}.{where.go_path} of type {node.go}"
                )
        case "int-or-string":
            if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
                return None
            return f"json: cannot unmarshal {_json_kind(value)} into Go value of type int32"
        case "quantity":
            return quantity_error(value)
        case "time":
            return _time_error(value)
        case "bytes":
            return _bytes_error(value, node, where=where)
        case _:
            return None
    return None if ok else _mismatch(value, node, where=where)


def _time_error(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"json: cannot unmarshal {_json_kind(value)} into Go value of type string"
    if _RFC3339.match(value):
        return None
    return f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": cannot parse "{value}"'


def _bytes_error(value: Any, node: TypeNode, *, where: _Where) -> str | None:
    if not isinstance(value, str):
        return _mismatch(value, node, where=where)
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return f"illegal base64 data at input byte {_bad_base64_offset(value)}"
    return None


def _bad_base64_offset(text: str) -> int:
    alphabet = re.compile(r"[A-Za-z0-9+/=]")
    for offset, char in enumerate(text):
        if not alphabet.match(char):
            return offset
    return max(len(text) - len(text) % 4, 0) if len(text) % 4 else len(text)


def _visit(value: Any, node: TypeNode, *, where: _Where, found: _Findings) -> None:
    if value is None:
        return  # JSON null leaves the Go zero value
    if node.kind == "struct":
        if not isinstance(value, Mapping):
            found.decode.append(_mismatch(value, node, where=where))
            return
        _visit_struct(value, node.model, where=where, found=found)
    elif node.kind in ("array", "map"):
        _visit_collection(value, node, where=where, found=found)
    else:
        error = _check_scalar(value, node, where=where)
        if error is not None:
            found.decode.append(error)


def _visit_collection(value: Any, node: TypeNode, *, where: _Where, found: _Findings) -> None:
    assert node.item is not None
    if node.kind == "array":
        if not isinstance(value, list | tuple):
            found.decode.append(_mismatch(value, node, where=where))
            return
        for i, item in enumerate(value):
            _visit(item, node.item, where=where.index(i), found=found)
        return
    if not isinstance(value, Mapping):
        found.decode.append(_mismatch(value, node, where=where))
        return
    for key, item in value.items():
        _visit(item, node.item, where=where.key(str(key)), found=found)


def _visit_struct(value: Mapping[str, Any], model: str, *, where: _Where, found: _Findings) -> None:
    fields = struct_fields(model)
    if not fields:
        return  # a model the package lacks: nothing to say
    struct = go_struct_name(model)
    for name, item in value.items():
        node = fields.get(name)
        if node is None:
            found.unknown.append(where.field(name).strict_path)
            continue
        _visit(item, node, where=where.field(name, struct), found=found)


def _inspect(group: str, version: str, kind: str, obj: Mapping[str, Any]) -> _Findings:
    found = _Findings()
    model = model_for(group, version, kind)
    if model is not None:
        _visit_struct(obj, model, where=_Where(go_struct_name(model)), found=found)
    return found


def unknown_fields(group: str, version: str, kind: str, obj: Mapping[str, Any]) -> list[str]:
    """Paths of fields the kind does not define (``spec.template.spec.containers[0].imagee``).

    kube's strict decoding reports each as ``unknown field "<path>"``. Kinds without a model
    in the installed ``kubernetes`` package have no unknown fields.
    """
    return _inspect(group, version, kind, obj).unknown


def type_errors(group: str, version: str, kind: str, obj: Mapping[str, Any]) -> list[str]:
    """kube's 400 messages for values of the wrong type, in document order.

    Each is complete: ``Deployment in version "v1" cannot be handled as a Deployment: json:
    cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32``.
    kube-apiserver reports only the first.
    """
    prefix = f'{kind} in version "{version}" cannot be handled as a {kind}: '
    return [prefix + text for text in _inspect(group, version, kind, obj).decode]


@cache
def _may_hold_quantities(model: str, visiting: frozenset[str] = frozenset()) -> bool:
    """Whether a struct can contain a quantity anywhere below it (recursion ends in False)."""
    return any(
        _node_holds_quantities(node, visiting | {model}) for node in struct_fields(model).values()
    )


def _node_holds_quantities(node: TypeNode, visiting: frozenset[str]) -> bool:
    while node.item is not None:
        node = node.item
    if node.kind == "quantity":
        return True
    return (
        node.kind == "struct"
        and node.model not in visiting
        and _may_hold_quantities(node.model, visiting)
    )


def _normalized(value: Any, node: TypeNode, *, milli: bool = False) -> Any:
    """``value`` with every quantity in canonical form (containers are changed in place)."""
    if node.kind == "quantity":
        return canonical_quantity(value, milli=milli) if quantity_error(value) is None else value
    if node.kind == "struct" and isinstance(value, dict) and _may_hold_quantities(node.model):
        fields = struct_fields(node.model)
        for name, item in value.items():
            if (child := fields.get(name)) is not None:
                value[name] = _normalized(item, child)
    elif node.kind == "array" and isinstance(value, list) and node.item is not None:
        for i, item in enumerate(value):
            value[i] = _normalized(item, node.item)
    elif node.kind == "map" and isinstance(value, dict) and node.item is not None:
        resource_list = node.item.kind == "quantity"  # kube rounds ResourceLists to milli
        for key, item in value.items():
            value[key] = _normalized(item, node.item, milli=resource_list)
    return value


def normalize_quantities(group: str, version: str, kind: str, obj: dict[str, Any]) -> None:
    """Rewrite every quantity in ``obj`` as kube-apiserver returns it, in place.

    ``cpu: 0.5`` becomes ``"500m"``, ``memory: "1.5Gi"`` ``"1536Mi"``; values in resource
    lists (limits, requests, quota, capacity…) are rounded up to milli units, as kube's
    defaulting does. Unparseable values are left for :func:`type_errors` to report.
    """
    model = model_for(group, version, kind)
    if model is not None:
        _normalized(obj, TypeNode("struct", model=model))


_PRIMITIVE_SCHEMAS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "number": {"type": "number", "format": "double"},
    "time": {"type": "string", "format": "date-time"},
    "bytes": {"type": "string", "format": "byte"},
    "any": {"type": "object"},
    "int-or-string": {"type": "string", "format": "int-or-string"},
    "quantity": {"type": "string"},
}


def _node_schema(node: TypeNode, stack: tuple[str, ...]) -> dict[str, Any]:
    if node.kind == "integer":
        return {"type": "integer", "format": f"int{node.bits}"}
    if node.kind == "array" and node.item is not None:
        return {"type": "array", "items": _node_schema(node.item, stack)}
    if node.kind == "map" and node.item is not None:
        return {"type": "object", "additionalProperties": _node_schema(node.item, stack)}
    if node.kind == "struct":
        if node.model in stack:  # recursive types (JSONSchemaProps) end in a free-form object
            return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        return _struct_schema(node.model, (*stack, node.model))
    return dict(_PRIMITIVE_SCHEMAS.get(node.kind, {"type": "string"}))


def _struct_schema(model: str, stack: tuple[str, ...]) -> dict[str, Any]:
    descriptions = struct_descriptions(model)
    properties: dict[str, Any] = {}
    for name, node in sorted(struct_fields(model).items()):
        prop = _node_schema(node, stack)
        if name in descriptions:
            prop = {"description": descriptions[name], **prop}
        properties[name] = prop
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required = struct_required(model)
    if required:
        schema["required"] = sorted(required)
    return schema


@cache
def _cached_schema(group: str, version: str, kind: str) -> dict[str, Any] | None:
    model = model_for(group, version, kind)
    if model is None:
        return None
    schema = _struct_schema(model, (model,))
    schema["x-kubernetes-group-version-kind"] = [{"group": group, "kind": kind, "version": version}]
    return schema


def schema_of(group: str, version: str, kind: str) -> dict[str, Any] | None:
    """An OpenAPI v2 style, ``$ref``-free definition of the kind, or None if unknown.

    Objects carry ``properties`` (with ``description`` where the package has one) and
    ``required``; maps use ``additionalProperties``; IntOrString is ``format: int-or-string``.
    The result is a fresh copy the caller may change.
    """
    schema = _cached_schema(group, version, kind)
    return copy.deepcopy(schema) if schema is not None else None
