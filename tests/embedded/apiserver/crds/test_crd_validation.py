"""Validation of custom resources against OpenAPI schemas, with kube-apiserver's messages."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.embedded.apiserver.crds.crds_support import (
    CRONTAB_SCHEMA,
    int_or_string_schema,
    messages,
)

from atoll.embedded.apiserver.crds import validate_object
from atoll.errors import Invalid


def check(value: Any, node: dict[str, Any]) -> list[str]:
    """Validate ``{"spec": {"x": value}}`` so paths read like a real resource's."""
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"x": node}}},
    }
    return messages(validate_object({"spec": {"x": value}}, schema))


def crontab(**spec: Any) -> dict[str, Any]:
    return {"spec": {"cronSpec": "*/5 * * * *", "image": "cron:1", **spec}}


def test_a_valid_crontab_passes() -> None:
    assert validate_object(crontab(replicas=3), CRONTAB_SCHEMA) == []


def test_the_crontab_docs_example_fails_like_kube() -> None:
    errors = validate_object(crontab(cronSpec="* * * *", replicas="3"), CRONTAB_SCHEMA)
    assert Invalid.of("CronTab", "stable.example.com", "my-new-cron-object", errors).message == (
        'CronTab.stable.example.com "my-new-cron-object" is invalid: [spec.cronSpec: Invalid '
        'value: "* * * *": spec.cronSpec in body should match '
        "'^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$', spec.replicas: Invalid value: "
        '"string": spec.replicas in body must be of type integer: "string"]'
    )


def test_required_fields() -> None:
    assert messages(validate_object({"spec": {}}, CRONTAB_SCHEMA)) == [
        "spec.cronSpec: Required value",
        "spec.image: Required value",
    ]


@pytest.mark.parametrize(
    ("value", "node", "ok"),
    [
        (1, {"type": "integer"}, True),
        (1.0, {"type": "integer"}, True),
        (1.5, {"type": "integer"}, False),
        (True, {"type": "integer"}, False),
        (2, {"type": "number"}, True),
        (True, {"type": "boolean"}, True),
        (0, {"type": "boolean"}, False),
        ([], {"type": "array", "items": {"type": "string"}}, True),
        ({}, {"type": "array", "items": {"type": "string"}}, False),
        ({"a": 1}, {"type": "object", "x-kubernetes-preserve-unknown-fields": True}, True),
        ({"a": 1}, {"x-kubernetes-preserve-unknown-fields": True}, True),
        ("s", {"x-kubernetes-preserve-unknown-fields": True}, True),
    ],
)
def test_json_types(value: Any, node: dict[str, Any], ok: bool) -> None:
    assert (check(value, node) == []) is ok


def test_type_errors_name_the_actual_type() -> None:
    assert check(True, {"type": "integer"}) == [
        'spec.x: Invalid value: "boolean": spec.x in body must be of type integer: "boolean"'
    ]


def test_null_is_only_valid_where_nullable() -> None:
    assert check(None, {"type": "string", "nullable": True}) == []
    assert check(None, {"type": "string"}) == [
        'spec.x: Invalid value: "null": spec.x in body must be of type string: "null"'
    ]


def test_int_or_string() -> None:
    schema = int_or_string_schema()
    assert validate_object({"spec": {"port": 80, "maxUnavailable": "25%"}}, schema) == []
    assert validate_object({"spec": {"port": "http", "maxUnavailable": 1}}, schema) == []
    assert messages(validate_object({"spec": {"port": True}}, schema)) == [
        'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: '
        '"boolean"'
    ]
    assert messages(validate_object({"spec": {"maxSurge": "lots"}}, schema)) == [
        "spec.maxSurge: Invalid value: \"lots\": spec.maxSurge in body should match '^[0-9]+%?$'",
        'Invalid value: "": "spec.maxSurge" must validate all the schemas (allOf)',
    ]


def test_enum_lists_the_supported_values() -> None:
    assert check("c", {"type": "string", "enum": ["a", "b"]}) == [
        'spec.x: Unsupported value: "c": supported values: "a", "b"'
    ]
    assert check(3, {"type": "integer", "enum": [1, 2]}) == [
        'spec.x: Unsupported value: 3: supported values: "1", "2"'
    ]
    assert check(1.0, {"type": "number", "enum": [1]}) == []
    assert check(True, {"enum": [1], "x-kubernetes-preserve-unknown-fields": True}) != []


@pytest.mark.parametrize(
    ("value", "node", "expected"),
    [
        (0, {"type": "integer", "minimum": 1}, "should be greater than or equal to 1"),
        (
            1,
            {"type": "integer", "minimum": 1, "exclusiveMinimum": True},
            "should be greater than 1",
        ),
        (11, {"type": "integer", "maximum": 10}, "should be less than or equal to 10"),
        (
            2.5,
            {"type": "number", "maximum": 2.5, "exclusiveMaximum": True},
            "should be less than 2.5",
        ),
        (2000000, {"type": "integer", "maximum": 1000000}, "should be less than or equal to 1e+06"),
        (7, {"type": "integer", "multipleOf": 5}, "should be a multiple of 5"),
        (0.3, {"type": "number", "multipleOf": 0.25}, "should be a multiple of 0.25"),
        ("ab", {"type": "string", "minLength": 3}, "should be at least 3 chars long"),
        ("abc", {"type": "string", "pattern": "^a+$"}, "should match '^a+$'"),
    ],
)
def test_value_bounds(value: Any, node: dict[str, Any], expected: str) -> None:
    from atoll.errors import FieldError

    rendered = FieldError.invalid("spec.x", value, f"spec.x in body {expected}")
    assert check(value, node) == [str(rendered)]


def test_counts() -> None:
    assert check("abcd", {"type": "string", "maxLength": 3}) == [
        "spec.x: Too long: must have at most 3 bytes"
    ]
    items = {"type": "array", "items": {"type": "integer"}}
    assert check([1, 2, 3], {**items, "maxItems": 2}) == [
        "spec.x: Too many: must have at most 2 items"
    ]
    assert check([], {**items, "minItems": 1}) == [
        "spec.x: Invalid value: 0: spec.x in body should have at least 1 items"
    ]
    props = {"type": "object", "additionalProperties": {"type": "string"}}
    assert check({}, {**props, "minProperties": 1}) == [
        "spec.x: Invalid value: 0: spec.x in body should have at least 1 properties"
    ]
    assert check({"a": "1", "b": "2"}, {**props, "maxProperties": 1}) == [
        "spec.x: Too many: must have at most 1 item"
    ]


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("date-time", "2024-05-01T10:00:00Z", "yesterday"),
        ("date", "2024-02-29", "2023-02-29"),
        ("email", "a@example.com", "not-an-email"),
        ("ipv4", "10.0.0.1", "10.0.0"),
        ("ipv6", "fe80::1", "10.0.0.1"),
        ("cidr", "10.0.0.0/8", "10.0.0.0"),
        ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123"),
        ("hostname", "example.com", "-bad-.com"),
        ("byte", "aGVsbG8=", "***"),
        ("duration", "1h30m", "soon"),
    ],
)
def test_formats_kube_checks(fmt: str, good: str, bad: str) -> None:
    node = {"type": "string", "format": fmt}
    assert check(good, node) == []
    assert check(bad, node) == [
        f'spec.x: Invalid value: "{bad}": spec.x in body must be of type {fmt}: "{bad}"'
    ]


def test_formats_kube_ignores() -> None:
    assert check(2**40, {"type": "integer", "format": "int32"}) == []
    assert check("x", {"type": "string", "format": "my-own-format"}) == []


def test_logical_junctors() -> None:
    one_of = {"type": "integer", "oneOf": [{"minimum": 0}, {"minimum": 5}]}
    assert check(7, one_of) == [
        'Invalid value: "": "spec.x" must validate one and only one schema (oneOf). '
        "Found 2 valid alternatives"
    ]
    any_of = {"type": "integer", "anyOf": [{"minimum": 10}, {"maximum": 0}]}
    assert check(5, any_of) == [
        'Invalid value: "": "spec.x" must validate at least one schema (anyOf)',
        "spec.x: Invalid value: 5: spec.x in body should be greater than or equal to 10",
    ]
    not_ = {"type": "string", "not": {"enum": ["root"]}}
    assert check("root", not_) == ['Invalid value: "": "spec.x" must not validate the schema (not)']
    assert check("user", not_) == []


def test_additional_properties() -> None:
    labels = {"type": "object", "additionalProperties": {"type": "string"}}
    assert check({"a": "1", "b": 2}, labels) == [
        'spec.x.b: Invalid value: "integer": spec.x.b in body must be of type string: "integer"'
    ]


def test_array_items_have_indexed_paths() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "items": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"name": {"type": "string"}},
                            "required": ["name"],
                        },
                    }
                },
            }
        },
    }
    obj = {"spec": {"items": [{"name": "a"}, {"name": "b"}, {"name": 3}, {}]}}
    assert messages(validate_object(obj, schema)) == [
        'spec.items[2].name: Invalid value: "integer": spec.items[2].name in body must be of type '
        'string: "integer"',
        "spec.items[3].name: Required value",
    ]


def test_a_path_prefix_is_prepended() -> None:
    errors = validate_object("x", {"type": "integer"}, path="spec.validation.default")
    assert messages(errors) == [
        'spec.validation.default: Invalid value: "string": in body must be of type integer: '
        '"string"'
    ]


def test_embedded_resources_need_api_version_and_kind() -> None:
    node = {
        "type": "object",
        "x-kubernetes-embedded-resource": True,
        "x-kubernetes-preserve-unknown-fields": True,
    }
    assert check({"metadata": {"name": "a/b"}, "kind": "pod pod"}, node) == [
        "spec.x.apiVersion: Required value",
        'spec.x.kind: Invalid value: "pod pod": may have mixed case, but should otherwise match: '
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
        "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
        "spec.x.metadata.name: Invalid value: \"a/b\": may not contain '/'",
    ]
    assert check({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}}, node) == []


def test_list_type_set_items_are_unique() -> None:
    node = {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}
    assert check(["a", "b", "a", "a"], node) == ['spec.x[2]: Duplicate value: "a"']
    assert check([1, 1.0, True], {**node, "items": {"x-kubernetes-int-or-string": True}}) != []


def test_list_type_map_keys_are_unique() -> None:
    item = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
    }
    single = {
        "type": "array",
        "items": item,
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
    }
    assert check([{"name": "a"}, {"name": "b"}, {"name": "a", "port": 2}], single) == [
        'spec.x[2]: Duplicate value: map[string]string{"name":"a"}'
    ]
    assert check([{"port": 1}, {"port": 2}], single) == [
        "spec.x[1]: Duplicate value: map[string]string{}"
    ]
    double = {**single, "x-kubernetes-list-map-keys": ["name", "port"]}
    assert check([{"name": "a", "port": 1}, {"name": "a", "port": 2}], double) == []
    assert check([{"name": "a", "port": 1}, {"port": 1, "name": "a"}], double) == [
        'spec.x[1]: Duplicate value: map[string]string{"name":"a", "port":1}'
    ]
    assert check(["a"], single)[-1] == (
        'spec.x[0]: Invalid value: "a": must be an object for an array of list-type map'
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=20,
)
scalar_schemas = st.fixed_dictionaries(
    {"type": st.sampled_from(["string", "integer", "number", "boolean"])},
    optional={
        "nullable": st.booleans(),
        "enum": st.lists(json_values, min_size=1, max_size=3),
        "minimum": st.integers(-5, 5),
        "maxLength": st.integers(0, 4),
        "pattern": st.sampled_from(["^a", "[0-9]+", "x$"]),
        "format": st.sampled_from(["date-time", "int32", "email", "uuid"]),
        "multipleOf": st.sampled_from([1, 2, 0.5]),
    },
)


def object_schemas(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.fixed_dictionaries(
            {
                "type": st.just("object"),
                "properties": st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
            },
            optional={"required": st.lists(st.sampled_from("abcd"), max_size=2)},
        ),
        st.fixed_dictionaries(
            {"type": st.just("array"), "items": inner},
            optional={
                "x-kubernetes-list-type": st.sampled_from(["atomic", "set"]),
                "maxItems": st.integers(0, 3),
            },
        ),
        st.fixed_dictionaries({"type": st.just("object"), "additionalProperties": inner}),
        st.just({"x-kubernetes-int-or-string": True}),
        st.just({"x-kubernetes-preserve-unknown-fields": True}),
        st.fixed_dictionaries(
            {"type": st.just("integer"), "anyOf": st.lists(inner, min_size=1, max_size=2)}
        ),
    )


structural_schemas = st.recursive(scalar_schemas, object_schemas, max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(json_values, structural_schemas)
def test_validation_never_raises(value: Any, schema: dict[str, Any]) -> None:
    for error in validate_object(
        {"spec": value}, {"type": "object", "properties": {"spec": schema}}
    ):
        assert str(error)
