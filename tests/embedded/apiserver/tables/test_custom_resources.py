"""Custom resource tables from additionalPrinterColumns, as apiextensions-apiserver builds them."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.embedded.apiserver.tables.tables_support import NOW, ago

from atoll.embedded.apiserver.tables import column_definitions, row_cells
from atoll.embedded.apiserver.tables.custom_resources import cell_for_value, go_text

COLUMNS: list[dict[str, Any]] = [
    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        "description": "Whether the database is ready",
    },
    {"name": "Engine", "type": "string", "jsonPath": ".spec.engine", "priority": 1},
    {"name": "Ratio", "type": "number", "jsonPath": ".spec.ratio", "format": "double"},
    {"name": "Paused", "type": "boolean", "jsonPath": ".spec.paused"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]

DATABASE: dict[str, Any] = {
    "apiVersion": "example.com/v1",
    "kind": "Database",
    "metadata": {"name": "orders", "creationTimestamp": ago(hours=3)},
    "spec": {"replicas": 3, "engine": "postgres", "ratio": 0.5, "paused": True},
    "status": {"conditions": [{"type": "Ready", "status": "True"}]},
}


def test_columns_are_name_plus_exactly_the_crd_columns() -> None:
    columns = column_definitions("example.com", "Database", COLUMNS)
    assert [(c["name"], c["type"], c["format"], c["priority"]) for c in columns] == [
        ("Name", "string", "name", 0),
        ("Replicas", "integer", "", 0),
        ("Ready", "string", "", 0),
        ("Engine", "string", "", 1),
        ("Ratio", "number", "double", 0),
        ("Paused", "boolean", "", 0),
        ("Age", "date", "", 0),
    ]
    assert columns[1]["description"] == (
        "Custom resource definition column (in JSONPath format): .spec.replicas"
    )
    assert columns[2]["description"] == "Whether the database is ready"


def test_no_age_column_is_added_when_the_crd_has_columns() -> None:
    columns = column_definitions("example.com", "Database", COLUMNS[:1])
    assert [c["name"] for c in columns] == ["Name", "Replicas"]


@pytest.mark.parametrize("printer_columns", [None, []])
def test_default_columns_are_name_and_age(printer_columns: list[dict[str, Any]] | None) -> None:
    columns = column_definitions("example.com", "Database", printer_columns)
    assert [(c["name"], c["type"]) for c in columns] == [("Name", "string"), ("Age", "date")]
    assert row_cells(
        "example.com", "Database", DATABASE, now=NOW, printer_columns=printer_columns
    ) == [
        "orders",
        "3h",
    ]


def test_unknown_kind_without_columns_is_name_and_age() -> None:
    assert [c["name"] for c in column_definitions("example.com", "Widget")] == ["Name", "Age"]
    assert row_cells("example.com", "Widget", {"metadata": {"name": "w"}}, now=NOW) == [
        "w",
        None,  # no creationTimestamp: the JSONPath finds nothing
    ]


def test_row() -> None:
    cells = row_cells("example.com", "Database", DATABASE, now=NOW, printer_columns=COLUMNS)
    assert cells == ["orders", 3, "True", "postgres", 0.5, True, "3h"]


def test_missing_values_are_null() -> None:
    partial = {"metadata": {"name": "fresh"}}
    cells = row_cells("example.com", "Database", partial, now=NOW, printer_columns=COLUMNS)
    assert cells == ["fresh", None, None, None, None, None, None]


def test_an_unparsable_column_ends_the_list() -> None:
    broken = [COLUMNS[0], {"name": "Bad", "type": "string", "jsonPath": ".spec["}, COLUMNS[2]]
    assert [c["name"] for c in column_definitions("g", "K", broken)] == ["Name", "Replicas"]
    assert row_cells("g", "K", DATABASE, now=NOW, printer_columns=broken) == ["orders", 3]


def test_printer_columns_take_precedence_over_a_built_in_name() -> None:
    columns = column_definitions("", "Pod", COLUMNS[:1])
    assert [c["name"] for c in columns] == ["Name", "Replicas"]


@pytest.mark.parametrize(
    ("column_type", "value", "expected"),
    [
        ("integer", 3, 3),
        ("integer", 2.9, 2),
        ("integer", -2.9, -2),
        ("integer", "3", None),
        ("integer", True, None),
        ("number", 3, 3.0),
        ("number", 2.5, 2.5),
        ("number", "2.5", None),
        ("boolean", False, False),
        ("boolean", "true", None),
        ("date", ago(minutes=2), "2m"),
        ("date", "", "<unknown>"),
        ("date", "null", "<unknown>"),
        ("date", "last tuesday", "<invalid>"),
        ("date", 12, None),
        ("object", {"a": 1}, None),
        ("integer", None, None),
    ],
)
def test_typed_cells(column_type: str, value: Any, expected: Any) -> None:
    assert cell_for_value(column_type, value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        (7, "7"),
        (True, "true"),
        (None, "<no value>"),
        (1.5, "1.5"),
        (0.0, "0"),
        (100000.5, "100000.5"),
        (1234567.5, "1.2345675e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.25, "-2.25"),
        ({"b": 1, "a": [1, "x<y"]}, '{"a":[1,"x\\u003cy"],"b":1}'),
        ([0.5, 1e-7, 1e21, 123456789.5], "[0.5,1e-7,1e+21,123456789.5]"),
        ({"k": "é & ü"}, '{"k":"é \\u0026 ü"}'),
    ],
)
def test_string_columns_print_like_go(value: Any, expected: str) -> None:
    assert go_text(value) == expected


@given(
    st.sampled_from(["string", "integer", "number", "boolean", "date", "other"]),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=3), children, max_size=3)
        ),
        max_leaves=10,
    ),
)
def test_any_value_gives_a_plain_cell(column_type: str, value: Any) -> None:
    cell = cell_for_value(column_type, value, NOW)
    assert cell is None or isinstance(cell, str | int | float | bool)
    if isinstance(cell, float):
        assert math.isfinite(cell)


def test_non_finite_numbers() -> None:
    assert go_text(float("inf")) == "+Inf"
    assert go_text([float("nan")]) is None
    assert cell_for_value("integer", float("-inf"), NOW) is None
