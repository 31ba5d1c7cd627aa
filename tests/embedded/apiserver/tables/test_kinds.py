"""Properties every printer keeps: one cell per column, cell types, and no exception ever."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.embedded.apiserver.tables.tables_support import NOW

from atoll.embedded.apiserver.tables import column_definitions, row_cells
from atoll.embedded.apiserver.tables.kinds import BUILT_IN

KINDS = sorted(BUILT_IN)

# Field names the printers read, so generated objects reach deep paths with wrong shapes.
FIELD_NAMES = [
    "metadata",
    "spec",
    "status",
    "name",
    "creationTimestamp",
    "deletionTimestamp",
    "labels",
    "annotations",
    "ownerReferences",
    "controller",
    "containers",
    "initContainers",
    "state",
    "waiting",
    "terminated",
    "running",
    "reason",
    "exitCode",
    "signal",
    "ready",
    "restartCount",
    "containerStatuses",
    "initContainerStatuses",
    "conditions",
    "type",
    "phase",
    "podIPs",
    "ip",
    "replicas",
    "readyReplicas",
    "selector",
    "matchLabels",
    "matchExpressions",
    "operator",
    "values",
    "template",
    "ports",
    "port",
    "nodePort",
    "protocol",
    "clusterIPs",
    "externalIPs",
    "loadBalancer",
    "ingress",
    "subsets",
    "addresses",
    "nodeInfo",
    "metrics",
    "resource",
    "target",
    "current",
    "currentMetrics",
    "averageUtilization",
    "averageValue",
    "subjects",
    "roleRef",
    "kind",
    "rules",
    "host",
    "tls",
    "endpoints",
    "capacity",
    "storage",
    "claimRef",
    "accessModes",
    "hard",
    "used",
    "series",
    "count",
    "involvedObject",
    "regarding",
    "source",
    "jobTemplate",
    "completions",
    "parallelism",
    "startTime",
    "completionTime",
    "active",
    "minAvailable",
    "webhooks",
    "data",
    "secrets",
    "parameters",
    "apiGroup",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(FIELD_NAMES), children, max_size=4)
    ),
    max_leaves=25,
)
objects = st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=6)


@pytest.mark.parametrize(("group", "kind"), KINDS)
def test_column_definitions_are_well_formed(group: str, kind: str) -> None:
    columns = column_definitions(group, kind)
    assert columns, kind
    for column in columns:
        assert set(column) == {"name", "type", "format", "description", "priority"}
        assert column["type"] in {"string", "integer", "number", "boolean", "date"}
        assert column["priority"] in (0, 1)
    names = [column["name"] for column in columns]
    assert "Name" in names
    assert columns[names.index("Name")]["format"] == "name"
    assert len(set(names)) == len(names)


@pytest.mark.parametrize(("group", "kind"), KINDS)
def test_an_empty_object_prints(group: str, kind: str) -> None:
    cells = row_cells(group, kind, {}, now=NOW)
    assert len(cells) == len(column_definitions(group, kind))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(KINDS), objects)
def test_any_object_prints_one_plain_cell_per_column(
    key: tuple[str, str], obj: dict[str, Any]
) -> None:
    group, kind = key
    cells = row_cells(group, kind, obj, now=NOW)
    assert len(cells) == len(column_definitions(group, kind))
    assert all(isinstance(cell, str | int) for cell in cells)


@settings(max_examples=200)
@given(
    objects,
    st.lists(
        st.fixed_dictionaries(
            {
                "name": st.text(max_size=5),
                "type": st.sampled_from(
                    ["string", "integer", "number", "boolean", "date", "object"]
                ),
                "jsonPath": st.sampled_from(
                    [".spec", ".status.conditions[0].type", ".metadata.name", "..count", ".spec[*]"]
                ),
            }
        ),
        max_size=4,
    ),
)
def test_any_custom_resource_prints(
    obj: dict[str, Any], printer_columns: list[dict[str, Any]]
) -> None:
    cells = row_cells("example.com", "Thing", obj, now=NOW, printer_columns=printer_columns)
    assert len(cells) == len(column_definitions("example.com", "Thing", printer_columns))
