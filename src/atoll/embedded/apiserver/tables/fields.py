"""Tolerant reads of optional fields from decoded JSON objects.

Printers run on whatever is stored: a freshly created object has no status, a client may send
``null`` where a list belongs. Go's printers see typed structs where a missing field is its zero
value; these helpers give the same zero values (``{}``, ``[]``, ``""``, ``0``) instead of raising,
so no cell function ever needs a ``try``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_EMPTY: Mapping[str, Any] = {}


def _walk(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def mapping(obj: Any, *path: str) -> Mapping[str, Any]:
    """The mapping at ``path``, or an empty mapping."""
    value = _walk(obj, path)
    return value if isinstance(value, Mapping) else _EMPTY


def optional_mapping(obj: Any, *path: str) -> Mapping[str, Any] | None:
    """The mapping at ``path``, or ``None`` when absent: Go's nil pointer (``{}`` is not nil)."""
    value = _walk(obj, path)
    return value if isinstance(value, Mapping) else None


def items(obj: Any, *path: str) -> list[Mapping[str, Any]]:
    """The list of mappings at ``path``; entries that are not mappings become empty mappings."""
    value = _walk(obj, path)
    if not isinstance(value, list):
        return []
    return [entry if isinstance(entry, Mapping) else _EMPTY for entry in value]


def strings(obj: Any, *path: str) -> list[str]:
    """The list of strings at ``path``, skipping anything that is not a string."""
    value = _walk(obj, path)
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, str)]


def text(obj: Any, *path: str) -> str:
    """The string at ``path``, or ``""``."""
    value = _walk(obj, path)
    return value if isinstance(value, str) else ""


def integer(obj: Any, *path: str, default: int = 0) -> int:
    """The integer at ``path`` (a whole float counts), or ``default``; booleans are not integers."""
    value = optional_integer(obj, *path)
    return default if value is None else value


def optional_integer(obj: Any, *path: str) -> int | None:
    """The integer at ``path``, or ``None`` when absent (Go's nil ``*int32``)."""
    value = _walk(obj, path)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def boolean(obj: Any, *path: str) -> bool:
    """The boolean at ``path``, or ``False``."""
    return _walk(obj, path) is True


def optional_boolean(obj: Any, *path: str) -> bool | None:
    """The boolean at ``path``, or ``None`` when absent (Go's nil ``*bool``)."""
    value = _walk(obj, path)
    return value if isinstance(value, bool) else None


def present(obj: Any, *path: str) -> bool:
    """Whether ``path`` holds a non-null value (Go: a non-nil pointer, e.g. deletionTimestamp)."""
    value = _walk(obj, path)
    return value is not None and value != ""


def quantity(obj: Any, *path: str) -> str:
    """A resource quantity as text; a missing one is Go's zero ``Quantity``, printed ``0``.

    Quantities are stored in canonical form, so their text is printed as is.
    """
    value = _walk(obj, path)
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return "0"


def int_or_string(obj: Any, *path: str) -> str | None:
    """An IntOrString value as text (``1`` or ``50%``), or ``None`` when absent."""
    value = _walk(obj, path)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        return str(value)
    return None
