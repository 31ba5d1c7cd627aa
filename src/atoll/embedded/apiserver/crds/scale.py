"""The ``/scale`` subresource of custom resources: reading, writing and checking replica paths.

A CRD's ``subresources.scale`` names where a custom resource keeps its replicas
(``specReplicasPath``, ``statusReplicasPath``) and, optionally, its label selector as a string
(``labelSelectorPath``). kube serves those as an ``autoscaling/v1`` Scale, which is what
``kubectl scale`` and the HPA read and write. Absent replica counts read as 0, as in kube.

kube reads the paths with ``unstructured.NestedInt64``, which refuses anything but an integer
(not even ``3.0``); ``scale_path_errors`` reports such values on writes with kube's wording,
so that a stored object always has readable replica counts. If one does not (a schema changed
under it), ``get_scale`` raises ``InternalError`` as kube answers 500.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from atoll.errors import FieldError, InternalError

from ._values import go_float, mapping

__all__ = ["get_scale", "scale_path_errors", "set_replicas"]

_MAX_INT32 = 2**31 - 1
_META_FIELDS = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")


def get_scale(obj: Mapping[str, Any], scale_spec: Mapping[str, Any]) -> dict[str, Any]:
    """The autoscaling/v1 Scale view of ``obj``; ``scale_spec`` is the CRD's ``scale``."""
    spec_replicas = _read_int(obj, scale_spec.get("specReplicasPath"))
    status_replicas = _read_int(obj, scale_spec.get("statusReplicasPath"))
    selector_path = scale_spec.get("labelSelectorPath")
    selector = _read_string(obj, selector_path) if selector_path else ""
    meta = mapping(obj.get("metadata")) or {}
    scale_meta = {k: meta[k] for k in _META_FIELDS if meta.get(k)}
    scale_meta.setdefault("creationTimestamp", None)  # Go writes a zero time as null
    status: dict[str, Any] = {"replicas": status_replicas}
    if selector:
        status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": spec_replicas} if spec_replicas else {},
        "status": status,
    }


def set_replicas(
    obj: Mapping[str, Any], scale_spec: Mapping[str, Any], replicas: int
) -> dict[str, Any]:
    """A copy of ``obj`` with ``replicas`` written at the spec replicas path."""
    updated = copy.deepcopy(dict(obj))
    fields = _fields(scale_spec.get("specReplicasPath"))
    node: dict[str, Any] = updated
    for i, name in enumerate(fields[:-1]):
        value = node.get(name)
        if value is None:
            value = node[name] = {}
        if not isinstance(value, dict):
            raise InternalError(
                f"value cannot be set because {_json_path(fields[: i + 1])} is not a "
                "map[string]interface{}"
            )
        node = value
    if fields:
        node[fields[-1]] = replicas
    return updated


def scale_path_errors(
    obj: Mapping[str, Any], scale_spec: Mapping[str, Any], *, status: bool = False
) -> list[FieldError]:
    """kube's ``ValidateScaleSpec`` (or, with ``status``, ``ValidateScaleStatus``)."""
    if not status:
        return _replica_errors(obj, scale_spec.get("specReplicasPath"))
    errors = _replica_errors(obj, scale_spec.get("statusReplicasPath"))
    selector_path = scale_spec.get("labelSelectorPath")
    if selector_path:
        try:
            _read_string(obj, selector_path)
        except InternalError as error:
            errors.append(FieldError.invalid(selector_path, "", error.message))
    return errors


def _replica_errors(obj: Mapping[str, Any], path: Any) -> list[FieldError]:
    if not isinstance(path, str) or not path:
        return []
    try:
        replicas = _read_int(obj, path)
    except InternalError as error:
        return [FieldError.invalid(path, 0, error.message)]
    if replicas < 0:
        return [FieldError.invalid(path, replicas, "should be a non-negative integer")]
    if replicas > _MAX_INT32:
        detail = f"should be less than or equal to {_MAX_INT32}"
        return [FieldError.invalid(path, replicas, detail)]
    return []


def _fields(path: Any) -> list[str]:
    # kube splits the JSON path on dots after dropping the leading one.
    return path.removeprefix(".").split(".") if isinstance(path, str) and path else []


def _json_path(fields: list[str]) -> str:
    return "." + ".".join(fields)


def _lookup(obj: Mapping[str, Any], fields: list[str]) -> tuple[bool, Any]:
    """``unstructured.NestedFieldNoCopy``: (found, value), raising on a non-map on the way."""
    node: Any = obj
    for i, name in enumerate(fields):
        if not isinstance(node, Mapping):
            raise InternalError(
                f"{_json_path(fields[:i])} accessor error: {_go_value(node)} is of the type "
                f"{_go_type(node)}, expected map[string]interface{{}}"
            )
        if name not in node:
            return False, None
        node = node[name]
    return True, node


def _read_int(obj: Mapping[str, Any], path: Any) -> int:
    fields = _fields(path)
    found, value = _lookup(obj, fields) if fields else (False, None)
    if not found:
        return 0
    if not isinstance(value, int) or isinstance(value, bool):
        raise InternalError(
            f"{_json_path(fields)} accessor error: {_go_value(value)} is of the type "
            f"{_go_type(value)}, expected int64"
        )
    return value


def _read_string(obj: Mapping[str, Any], path: str) -> str:
    fields = _fields(path)
    found, value = _lookup(obj, fields)
    if not found:
        return ""
    if not isinstance(value, str):
        raise InternalError(
            f"{_json_path(fields)} accessor error: {_go_value(value)} is of the type "
            f"{_go_type(value)}, expected string"
        )
    return value


def _go_type(value: Any) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "[]interface {}" if isinstance(value, list) else "map[string]interface {}"


def _go_value(value: Any) -> str:
    """Go's ``%v`` of a decoded JSON value (maps print with sorted keys)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{_go_value(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_value(v) for v in value) + "]"
    return str(value)
