"""Server-side Table printing (``Accept: application/json;as=Table;g=meta.k8s.io``).

kubectl 1.20 has no printers for built-in kinds: for ``kubectl get`` it asks the server for a
``meta.k8s.io`` Table and prints the columns it is sent. Without them it shows only NAME and AGE.
This package computes, as kube-apiserver 1.20 does, the ``columnDefinitions`` of a kind and the
``cells`` of one object's row; wrapping rows into a Table (``rows[].object``, list metadata,
watch events) is the API server's job.

It is pure: no I/O and no clock of its own (callers pass ``now``), and it never raises on a
partial object: a freshly created object without status prints with zero values, as in Go.

Public API::

    column_definitions(group, kind, printer_columns=None) -> list[dict]
    row_cells(group, kind, obj, *, now, printer_columns=None) -> list
    human_duration(timedelta) -> str        # duration.HumanDuration
    age(timestamp, now) -> str              # "<unknown>" for an unset timestamp
    parse_jsonpath(expression) -> JSONPath  # JSONPath.find(data) -> list
    find_results(expression, data) -> list
"""

from __future__ import annotations

from atoll.embedded.apiserver.tables.ages import age, human_duration
from atoll.embedded.apiserver.tables.jsonpath import (
    JSONPath,
    JSONPathError,
    find_results,
    parse_jsonpath,
)
from atoll.embedded.apiserver.tables.kinds import column_definitions, row_cells

__all__ = [
    "JSONPath",
    "JSONPathError",
    "age",
    "column_definitions",
    "find_results",
    "human_duration",
    "parse_jsonpath",
    "row_cells",
]
