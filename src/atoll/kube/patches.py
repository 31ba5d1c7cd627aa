"""JSON patch (RFC 6902) and JSON merge patch (RFC 7386) on decoded objects.

The API server applies ``application/json-patch+json`` and ``application/merge-patch+json``
bodies with these functions, and controllers and tests build merge patches with
``create_merge_patch``. Inputs are never mutated and results never share structure with them.

Errors follow kube-apiserver (``staging/.../endpoints/handlers/patch.go``): a JSON patch that is
not a list of operation objects is a 400 BadRequest with Go's decoding message; an operation
that cannot be applied (failed ``test``, missing path, unknown op, missing member) is a 422
Invalid whose message is the generic one kube-apiserver sends — it drops the library's detail,
so the detail only travels as the exception's ``__cause__`` for logs. A merge patch must be a
JSON object; anything else is a 400 with upstream's "Invalid JSON Patch".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonpatch
import jsonpointer

from atoll.errors import BadRequest, Invalid, RequestEntityTooLarge

__all__ = [
    "MAX_JSON_PATCH_OPERATIONS",
    "apply_json_patch",
    "apply_merge_patch",
    "create_merge_patch",
]

MAX_JSON_PATCH_OPERATIONS = 10000
"""kube-apiserver's cap on operations in one JSON patch (``maxJSONPatchOperations``)."""

_REJECTED = "the server rejected our request due to an error in our request"
_APPLY_ERRORS = (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException)


def apply_json_patch(doc: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Apply an RFC 6902 patch (decoded JSON) to a copy of ``doc`` and return the copy.

    ``null`` is an empty patch, as Go decodes it. The operations are add, remove, replace,
    move, copy and test.
    """
    operations = _operations(patch)
    try:
        patched = jsonpatch.JsonPatch(operations).apply(_clone(doc), in_place=True)
    except _APPLY_ERRORS as exc:
        raise Invalid(_REJECTED) from exc
    if not isinstance(patched, dict):
        # Only a replace of the root ("path": "") gets here; the result must stay an object.
        raise BadRequest("the patched object is not a JSON object")
    return patched


def _operations(patch: Any) -> list[Any]:
    """The operation list, checked the way Go's ``jsonpatch.DecodePatch`` checks it."""
    if patch is None:
        return []
    if not isinstance(patch, list):
        raise BadRequest(
            f"json: cannot unmarshal {_json_type(patch)} into Go value of type jsonpatch.Patch"
        )
    for operation in patch:
        # A null operation decodes to an empty one in Go and fails later, as a 422.
        if operation is not None and not isinstance(operation, dict):
            raise BadRequest(
                f"json: cannot unmarshal {_json_type(operation)} into Go value of type "
                "jsonpatch.Operation"
            )
    if len(patch) > MAX_JSON_PATCH_OPERATIONS:
        raise RequestEntityTooLarge(
            "Request entity too large: The allowed maximum operations in a JSON patch is "
            f"{MAX_JSON_PATCH_OPERATIONS}, got {len(patch)}"
        )
    # The library inserts "value" members by reference; copying keeps the result unshared.
    return [_clone(operation) for operation in patch]


def _json_type(value: Any) -> str:
    """The JSON type name Go's ``encoding/json`` uses in ``UnmarshalTypeError`` messages."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def apply_merge_patch(doc: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Apply an RFC 7386 merge patch to a copy of ``doc`` and return the copy.

    ``null`` deletes a key, an object merges recursively into the value it meets (replacing a
    non-object there), anything else replaces the value, lists included.
    """
    if not isinstance(patch, dict):
        raise BadRequest("Invalid JSON Patch")
    result: dict[str, Any] = _clone(doc)
    _merge_into(result, patch)
    return result


def _merge_into(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            if not isinstance(current, dict):
                current = target[key] = {}
            _merge_into(current, value)
        else:
            target[key] = _clone(value)


def create_merge_patch(original: Mapping[str, Any], modified: Mapping[str, Any]) -> dict[str, Any]:
    """The smallest merge patch that turns ``original`` into ``modified``.

    A ``None`` object member in ``modified`` cannot be expressed (``null`` means delete in a
    merge patch), so applying the result drops such members.
    """
    patch: dict[str, Any] = {key: None for key in original if key not in modified}
    for key, value in modified.items():
        if key not in original:
            patch[key] = _clone(value)
        elif isinstance(value, dict) and isinstance(original[key], dict):
            nested = create_merge_patch(original[key], value)
            if nested:
                patch[key] = nested
        elif not _json_equal(original[key], value):
            patch[key] = _clone(value)
    return patch


def _json_equal(left: Any, right: Any) -> bool:
    """Equality of JSON values; unlike ``==``, ``true`` is not ``1`` and ``1`` is not ``1.0``."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    return bool(left == right)


def _clone(value: Any) -> Any:
    """A deep copy of decoded JSON; several times faster than ``copy.deepcopy`` on it."""
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    return value
