"""JSON-value helpers shared by the CRD modules: field paths, type names, equality, Go printing.

kube-apiserver's messages are built by Go code, so the wording depends on Go details: field
paths print as ``a.b[0][key]``, floats print with ``%v``, and JSON values compare with
``reflect.DeepEqual`` on decoded values (where ``true`` is never ``1``). Python's ``True == 1``
and ``1 == 1.0`` would blur those, so every comparison here goes through ``json_key``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeGuard

__all__ = [
    "as_list",
    "child",
    "go_float",
    "go_json",
    "index",
    "is_number",
    "json_equal",
    "json_key",
    "json_type",
    "key",
    "mapping",
]


def child(path: str, name: str) -> str:
    """``path.name``, or just ``name`` at the root (Go's ``field.Path.Child``)."""
    return f"{path}.{name}" if path else name


def key(path: str, name: str) -> str:
    """``path[name]`` (Go's ``field.Path.Key``), used for schema property names."""
    return f"{path}[{name}]"


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def as_list(value: Any) -> list[Any]:
    """The value if it is a JSON array, else an empty list (malformed input never crashes)."""
    return value if isinstance(value, list) else []


def mapping(value: Any) -> Mapping[str, Any] | None:
    """The value if it is a JSON object, else None: schemas may be malformed, never crash."""
    return value if isinstance(value, Mapping) else None


def is_number(value: Any) -> TypeGuard[int | float]:
    """JSON numbers only: Python's bool is an int, JSON's is not."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_type(value: Any) -> str:
    """The JSON/OpenAPI type name of a decoded value, as go-openapi names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "unknown"


def json_key(value: Any) -> Any:
    """A hashable key equal for equal JSON values and different across JSON types.

    Go decodes ``1`` to int64 and ``1.0`` to float64, which never compare equal in a map, so
    the type name is part of the key; booleans never collide with numbers.
    """
    if isinstance(value, Mapping):
        return ("object", tuple(sorted((str(k), json_key(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("array", tuple(json_key(v) for v in value))
    return (json_type(value), value)


def json_equal(a: Any, b: Any) -> bool:
    """Semantic JSON equality where numbers compare by value but never equal booleans."""
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return json_type(a) == json_type(b) and bool(a == b)


def go_float(value: float | int) -> str:
    """Print a number like Go's ``%v`` of a float64 (``1``, ``0.5``, ``1e+06``, ``1e-05``).

    kube-openapi keeps every bound (``minimum``, ``multipleOf``) as a float64, so even
    ``minimum: 1`` prints as ``1`` and ``maximum: 1000000`` as ``1e+06``.
    """
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        return {True: "+Inf", False: "-Inf"}[number > 0] if number == number else "NaN"
    if number == 0:
        return "0"
    digits = Decimal(repr(number)).normalize()
    sign, mantissa, exponent = digits.as_tuple()
    assert isinstance(exponent, int)
    text = "".join(str(d) for d in mantissa)
    decimal_exp = exponent + len(text) - 1  # exponent of the leading digit
    prefix = "-" if sign else ""
    # Go's shortest %g uses exponent form below 1e-4 and from 1e6 up.
    if decimal_exp < -4 or decimal_exp >= 6:
        frac = text[1:]
        body = text[0] + ("." + frac if frac else "")
        return f"{prefix}{body}e{'-' if decimal_exp < 0 else '+'}{abs(decimal_exp):02d}"
    if decimal_exp >= len(text) - 1:
        return prefix + text + "0" * (decimal_exp - len(text) + 1)
    if decimal_exp >= 0:
        return prefix + text[: decimal_exp + 1] + "." + text[decimal_exp + 1 :]
    return prefix + "0." + "0" * (-decimal_exp - 1) + text


def go_json(value: Any) -> str:
    """``json.Marshal`` of a value (kube prints non-string enum values this way)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
