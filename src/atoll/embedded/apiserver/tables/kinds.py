"""Which printer serves which kind, and the two lookups the API server calls.

Built-in kinds are keyed by (API group, kind); a kind served by several groups (Ingress in
``extensions`` and ``networking.k8s.io``) is listed under each. Passing ``printer_columns``
marks the kind as a custom resource, whose table comes from its CRD instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from atoll.embedded.apiserver.tables import (
    events,
    hpa,
    pods,
    printers_cluster,
    printers_core,
    printers_networking,
    printers_storage,
    printers_workloads,
)
from atoll.embedded.apiserver.tables.columns import Printer
from atoll.embedded.apiserver.tables.custom_resources import compile_columns, custom_resource_cells

BUILT_IN: Mapping[tuple[str, str], Printer] = {
    **pods.PRINTERS,
    **printers_core.PRINTERS,
    **events.PRINTERS,
    **printers_storage.PRINTERS,
    **printers_workloads.PRINTERS,
    **hpa.PRINTERS,
    **printers_networking.PRINTERS,
    **printers_cluster.PRINTERS,
}


def column_definitions(
    group: str,
    kind: str,
    printer_columns: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The ``columnDefinitions`` kube-apiserver 1.20 serves for ``kind`` in ``group``.

    ``group`` is ``""`` for the core API. With ``printer_columns`` (a CRD version's
    ``additionalPrinterColumns``, possibly empty) the kind is a custom resource: Name plus those
    columns, or Name and Age when there are none. A kind that is neither built in nor given
    columns is treated as a custom resource without columns.
    """
    if printer_columns is None and (group, kind) in BUILT_IN:
        return [column.as_dict() for column in BUILT_IN[group, kind].columns]
    return [column.as_dict() for column, _ in compile_columns(printer_columns or ())]


def row_cells(
    group: str,
    kind: str,
    obj: Mapping[str, Any],
    *,
    now: datetime,
    printer_columns: Sequence[Mapping[str, Any]] | None = None,
) -> list[Any]:
    """The cells of ``obj``'s row, in the order of ``column_definitions``.

    Cells are strings and integers (custom resource columns may also give floats, booleans and
    ``None``, which is JSON null and kubectl prints as an empty cell). Never raises on a partial
    object.
    """
    if printer_columns is None and (group, kind) in BUILT_IN:
        return BUILT_IN[group, kind].cells(obj, now)
    return custom_resource_cells(obj, printer_columns or (), now)
