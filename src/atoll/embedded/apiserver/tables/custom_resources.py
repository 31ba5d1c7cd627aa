"""Tables of custom resources, from a CRD version's ``additionalPrinterColumns``.

The rules are apiextensions-apiserver's (``tableconvertor`` and ``serveDefaultColumnsIfEmpty``):

- the columns are Name followed by exactly the CRD's columns; only a CRD without any gets the
  default ``Age`` column (type ``date`` over ``.metadata.creationTimestamp``);
- a column whose JSONPath does not parse ends the list there: upstream keeps the columns before
  it, serving a shorter table rather than failing;
- a cell is the first value the JSONPath finds. No value gives ``None`` (JSON ``null``, which
  kubectl 1.20 prints as an empty cell, checked against the real binary); a value of the wrong
  kind for the column's type gives ``None`` too; ``date`` values become ages ("5m"),
  ``<unknown>`` for an empty one and ``<invalid>`` for text that is not RFC 3339; ``string``
  columns print any value as text the way Go's JSONPath printer does (``true``, ``1.5``,
  compact JSON for objects, ``<no value>`` for a JSON null).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from atoll.embedded.apiserver.tables.ages import human_duration, parse_timestamp
from atoll.embedded.apiserver.tables.columns import NAME, Column
from atoll.embedded.apiserver.tables.descriptions import doc
from atoll.embedded.apiserver.tables.fields import integer, text
from atoll.embedded.apiserver.tables.jsonpath import JSONPath, JSONPathError, parse_jsonpath

DEFAULT_COLUMNS: tuple[Mapping[str, Any], ...] = (
    {
        "name": "Age",
        "type": "date",
        "description": doc("ObjectMeta.creationTimestamp"),
        "jsonPath": ".metadata.creationTimestamp",
    },
)
# Go's encoding/json escapes these for safe embedding in HTML.
_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028"}


_ColumnKey = tuple[str, str, str, int, str, str]


def compile_columns(
    printer_columns: Sequence[Mapping[str, Any]],
) -> list[tuple[Column, JSONPath | None]]:
    """Name plus the CRD's columns (or the default Age), each with its parsed JSONPath."""
    keys = tuple(
        (
            text(spec, "name"),
            text(spec, "type"),
            text(spec, "jsonPath"),
            integer(spec, "priority"),
            text(spec, "format"),
            text(spec, "description"),
        )
        for spec in printer_columns or DEFAULT_COLUMNS
    )
    return list(_compile(keys))


# Rows of one list share their CRD's columns: parse each JSONPath once, not once per row.
@functools.lru_cache(maxsize=256)
def _compile(keys: tuple[_ColumnKey, ...]) -> tuple[tuple[Column, JSONPath | None], ...]:
    compiled: list[tuple[Column, JSONPath | None]] = [(NAME, None)]
    for name, column_type, json_path, priority, column_format, description in keys:
        try:
            path = parse_jsonpath(json_path)
        except JSONPathError:
            break
        description = description or (
            f"Custom resource definition column (in JSONPath format): {json_path}"
        )
        column = Column(name, column_type, description, priority, column_format)
        compiled.append((column, path))
    return tuple(compiled)


def custom_resource_cells(
    obj: Mapping[str, Any],
    printer_columns: Sequence[Mapping[str, Any]],
    now: datetime,
) -> list[Any]:
    cells: list[Any] = []
    for column, path in compile_columns(printer_columns):
        if path is None:
            cells.append(text(obj, "metadata", "name"))
            continue
        found = path.find(obj)
        cells.append(cell_for_value(column.type, found[0], now) if found else None)
    return cells


def cell_for_value(column_type: str, value: Any, now: datetime) -> Any:
    """One cell from the first value found, converted for the column type."""
    if column_type == "string":
        return go_text(value)
    if value is None or (isinstance(value, bool) and column_type != "boolean"):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON cannot carry it; only a Python caller could pass one
    if column_type == "integer" and isinstance(value, int | float):
        return int(value)
    if column_type == "number" and isinstance(value, int | float):
        return float(value)
    if column_type == "boolean" and isinstance(value, bool):
        return value
    if column_type == "date" and isinstance(value, str):
        return _date_cell(value, now)
    return None


def _date_cell(value: str, now: datetime) -> str:
    if value in ("", "null"):
        return "<unknown>"
    stamp = parse_timestamp(value)
    if stamp is None:
        return "<invalid>"
    aware_now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return human_duration(aware_now - stamp)


def go_text(value: Any) -> str | None:
    """A value printed as Go's JSONPath printer prints it (``fmt.Print`` or JSON).

    ``None`` where Go's printer fails: JSON encoding of a non-finite number.
    """
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
        return _go_float(value, json_style=False)
    if isinstance(value, Mapping | list):
        try:
            return _go_json(value)
        except ValueError:
            return None
    return str(value)


def _go_json(value: Any) -> str:
    """Compact JSON with sorted keys and Go's float and HTML escaping rules."""
    if isinstance(value, Mapping):
        pairs = (f"{_go_json(str(key))}:{_go_json(value[key])}" for key in sorted(value))
        return "{" + ",".join(pairs) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_go_json(item) for item in value) + "]"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("json: unsupported value")
        return _go_float(value, json_style=True)
    encoded = json.dumps(value, ensure_ascii=False)
    for raw, escaped in _HTML_ESCAPES.items():
        encoded = encoded.replace(raw, escaped)
    return encoded


def _go_float(value: float, *, json_style: bool) -> str:
    """Shortest round-trip digits laid out like Go: ``%v`` (``'g'``) or ``encoding/json``."""
    if value == 0:
        return "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    point = len("".join(map(str, digit_tuple))) + exponent  # position of the decimal point
    scientific = point - 1
    magnitude = abs(value)
    if json_style:
        use_e = magnitude < 1e-6 or magnitude >= 1e21
    else:
        # fmt's %v is 'g' with the shortest digits, which switches at an exponent of 6.
        use_e = scientific < -4 or scientific >= 6
    prefix = "-" if sign else ""
    if use_e:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        width = 1 if json_style else 2  # Go's JSON writes e-7 where fmt writes e-07
        return f"{prefix}{mantissa}e{'-' if scientific < 0 else '+'}{abs(scientific):0{width}d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{prefix}{digits}{'0' * (point - len(digits))}"
    return f"{prefix}{digits[:point]}.{digits[point:]}"
