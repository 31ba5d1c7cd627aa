"""Structural-schema rules, with kube-apiserver's field paths and messages."""

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

from atoll.embedded.apiserver.crds import structural_errors

ROOT = "spec.validation.openAPIV3Schema"


def errors_of(schema: Any) -> list[str]:
    return messages(structural_errors(schema, ROOT))


def obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


def test_the_crontab_schema_is_structural() -> None:
    assert errors_of(CRONTAB_SCHEMA) == []


def test_int_or_string_shapes_are_structural() -> None:
    assert errors_of(int_or_string_schema()) == []


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (
            obj(spec={"properties": {"a": {"type": "string"}}}),
            f"{ROOT}.properties[spec].type: Required value: must not be empty for specified "
            "object fields",
        ),
        (
            obj(tags={"type": "array", "items": {}}),
            f"{ROOT}.properties[tags].items.type: Required value: must not be empty for "
            "specified array items",
        ),
        (
            {"properties": {"a": {"type": "string"}}},
            f"{ROOT}.type: Required value: must not be empty at the root",
        ),
        (
            obj(tags={"type": "array"}),
            f"{ROOT}.properties[tags].items: Required value: must be specified",
        ),
        (
            {"type": "array", "items": {"type": "string"}},
            f'{ROOT}.type: Invalid value: "array": must be object at the root',
        ),
    ],
)
def test_every_node_needs_a_type(schema: dict[str, Any], expected: str) -> None:
    assert errors_of(schema) == [expected]


def test_additional_properties_are_forbidden_at_the_root() -> None:
    schema = {"type": "object", "additionalProperties": {"type": "string"}}
    assert errors_of(schema) == [
        f"{ROOT}.additionalProperties: Forbidden: must not be used at the root"
    ]


def test_properties_and_additional_properties_are_mutually_exclusive() -> None:
    schema = obj(
        labels={
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "additionalProperties": {"type": "string"},
        }
    )
    assert errors_of(schema) == [
        f"{ROOT}.properties[labels].additionalProperties: Forbidden: additionalProperties and "
        "properties are mutual exclusive"
    ]


def test_int_or_string_cannot_also_preserve_unknown_fields() -> None:
    schema = obj(
        port={"x-kubernetes-int-or-string": True, "x-kubernetes-preserve-unknown-fields": True}
    )
    assert errors_of(schema) == [
        f"{ROOT}.properties[port].x-kubernetes-preserve-unknown-fields: Invalid value: true: "
        "must be false if x-kubernetes-int-or-string is true"
    ]


def test_types_in_an_any_of_are_not_structural_outside_the_int_or_string_pattern() -> None:
    schema = obj(
        port={
            "x-kubernetes-int-or-string": True,
            "anyOf": [{"type": "integer"}, {"type": "boolean"}],
        }
    )
    assert errors_of(schema) == [
        f"{ROOT}.properties[port].anyOf[0].type: Forbidden: must be empty to be structural",
        f"{ROOT}.properties[port].anyOf[1].type: Forbidden: must be empty to be structural",
    ]


def test_value_validations_may_not_declare_anything() -> None:
    schema = obj(
        spec={
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "allOf": [
                {
                    "description": "x",
                    "default": 0,
                    "nullable": True,
                    "title": "t",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {"a": {"maxLength": 3}},
                }
            ],
        }
    )
    path = f"{ROOT}.properties[spec].allOf[0]"
    assert errors_of(schema) == [
        f"{path}.default: Forbidden: must be undefined to be structural",
        f"{path}.description: Forbidden: must be empty to be structural",
        f"{path}.nullable: Forbidden: must be false to be structural",
        f"{path}.title: Forbidden: must be empty to be structural",
        f"{path}.x-kubernetes-embedded-resource: Forbidden: must be false to be structural",
    ]


def test_fields_named_in_value_validations_must_be_declared() -> None:
    schema = {
        "type": "object",
        "properties": {"foo": {"type": "string"}},
        "anyOf": [{"properties": {"bar": {"minimum": 42}}, "required": ["bar"]}],
    }
    assert errors_of(schema) == [
        f"{ROOT}.properties[bar]: Required value: because it is defined in "
        f"{ROOT}.anyOf[0].properties[bar]"
    ]


def test_metadata_may_only_restrict_name_and_generate_name() -> None:
    ok = obj(
        metadata={"type": "object", "properties": {"name": {"type": "string", "maxLength": 8}}}
    )
    assert errors_of(ok) == []
    bad = obj(metadata={"type": "object", "properties": {"labels": {"type": "object"}}})
    assert errors_of(bad) == [
        f"{ROOT}.properties[metadata]: Forbidden: must not specify anything other than name and "
        "generateName, but metadata is implicitly specified"
    ]
    assert errors_of(obj(kind={"type": "integer"})) == [
        f'{ROOT}.properties[kind].type: Invalid value: "integer": must be string'
    ]


def test_defaults_are_forbidden_in_top_level_metadata() -> None:
    schema = obj(metadata={"type": "object", "default": {"name": "x"}})
    assert errors_of(schema) == [
        f"{ROOT}.properties[metadata].default: Forbidden: must not be set in top-level metadata"
    ]


def test_embedded_resources_must_be_objects_with_properties() -> None:
    schema = obj(template={"x-kubernetes-embedded-resource": True})
    assert errors_of(schema) == [
        f"{ROOT}.properties[template].properties: Required value: must not be empty if "
        "x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        f"{ROOT}.properties[template].type: Required value: must be object if "
        "x-kubernetes-embedded-resource is true",
    ]
    ok = obj(
        template={
            "type": "object",
            "x-kubernetes-embedded-resource": True,
            "x-kubernetes-preserve-unknown-fields": True,
        }
    )
    assert errors_of(ok) == []


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (
            {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "uniqueItems: "
            "Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes "
            "quadratic",
        ),
        ({"$ref": "#/definitions/a"}, "$ref: Forbidden: $ref is not supported"),
        ({"type": "string", "id": "x"}, "id: Forbidden: id is not supported"),
        (
            {"type": "array", "items": {"type": "string"}, "additionalItems": False},
            "additionalItems: Forbidden: additionalItems is not supported",
        ),
        (
            {"type": "object", "patternProperties": {"^a": {"type": "string"}}},
            "patternProperties: Forbidden: patternProperties is not supported",
        ),
        (
            {"type": "object", "dependencies": {"a": ["b"]}},
            "dependencies: Forbidden: dependencies is not supported",
        ),
        (
            {"type": "string", "x-kubernetes-preserve-unknown-fields": False},
            "x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined",
        ),
        (
            {"type": "string", "pattern": "^(?=a)"},
            'pattern: Invalid value: "^(?=a)": must be a valid regular expression, but isn\'t: '
            "error parsing regexp: invalid or unsupported Perl syntax: `(?=`",
        ),
    ],
)
def test_openapi_features_v1_does_not_support(node: dict[str, Any], expected: str) -> None:
    assert f"{ROOT}.properties[x].{expected}" in errors_of(obj(x=node))


def test_type_null_points_to_nullable() -> None:
    assert errors_of(obj(x={"type": "null"})) == [
        f'{ROOT}.properties[x].type: Unsupported value: "null": supported values: "array", '
        '"boolean", "integer", "number", "object", "string"',
        f"{ROOT}.properties[x].type: Forbidden: type cannot be set to null, use nullable as an "
        "alternative",
    ]


def test_nullable_is_forbidden_at_the_root() -> None:
    schema = {"type": "object", "nullable": True}
    assert errors_of(schema) == [f"{ROOT}.nullable: Forbidden: nullable cannot be true at the root"]


def list_of(**extra: Any) -> dict[str, Any]:
    item = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
    }
    return obj(ports={"type": "array", "items": item, **extra})


def test_list_map_keys_must_be_required_or_defaulted_item_properties() -> None:
    path = f"{ROOT}.properties[ports]"
    assert errors_of(list_of(**{"x-kubernetes-list-type": "map"})) == [
        f"{path}.x-kubernetes-list-map-keys: Required value: must not be empty if "
        "x-kubernetes-list-type is map"
    ]
    assert errors_of(
        list_of(**{"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]})
    ) == [
        f"{path}.items.properties[name].default: Required value: this property is in "
        "x-kubernetes-list-map-keys, so it must have a default or be a required property"
    ]
    assert errors_of(
        list_of(**{"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["nope"]})
    ) == [
        f'{path}.x-kubernetes-list-map-keys: Invalid value: []string{{"nope"}}: entries must all '
        "be names of item properties"
    ]
    assert errors_of(list_of(**{"x-kubernetes-list-map-keys": ["name"]})) == [
        f"{path}.x-kubernetes-list-type: Required value: must be map if "
        "x-kubernetes-list-map-keys is non-empty"
    ]


def test_list_types_are_checked() -> None:
    path = f"{ROOT}.properties[ports]"
    assert errors_of(list_of(**{"x-kubernetes-list-type": "bag"})) == [
        f'{path}.x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", '
        '"set", "map"'
    ]
    assert errors_of(list_of(**{"x-kubernetes-list-type": "set"})) == [
        f"{path}.items.x-kubernetes-map-type: Invalid value: null: must be atomic as item of a "
        "list with x-kubernetes-list-type=set"
    ]
    assert errors_of(obj(n={"type": "string", "x-kubernetes-list-type": "atomic"})) == [
        f'{ROOT}.properties[n].type: Invalid value: "string": must be array if '
        "x-kubernetes-list-type is specified"
    ]
    assert errors_of(obj(n={"type": "object", "x-kubernetes-map-type": "flat"})) == [
        f'{ROOT}.properties[n].x-kubernetes-map-type: Unsupported value: "flat": supported '
        'values: "atomic", "granular"'
    ]


@pytest.mark.parametrize(
    "schema",
    [
        [],
        "object",
        {"type": 5},
        {"type": "object", "properties": []},
        {"type": "object", "properties": {"a": "string"}},
        {"type": "array", "items": "string"},
        {"type": "array", "items": [{"type": "string"}]},
        {"type": "object", "anyOf": {"a": 1}, "required": "a", "minimum": "3"},
        {"type": "object", "properties": {"a": {"x-kubernetes-int-or-string": "yes"}}},
    ],
)
def test_malformed_schemas_give_errors_not_exceptions(schema: Any) -> None:
    assert errors_of(schema)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=20,
)
keywords = st.sampled_from(
    [
        "type",
        "properties",
        "items",
        "additionalProperties",
        "anyOf",
        "allOf",
        "oneOf",
        "not",
        "x-kubernetes-int-or-string",
        "x-kubernetes-preserve-unknown-fields",
        "metadata",
        "x-kubernetes-embedded-resource",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "required",
        "default",
        "pattern",
        "nullable",
        "enum",
    ]
)
schemas = st.recursive(
    st.dictionaries(keywords, json_values, max_size=4),
    lambda inner: st.dictionaries(keywords, inner | st.lists(inner, max_size=2), max_size=4),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(schemas)
def test_structural_errors_never_raise(schema: dict[str, Any]) -> None:
    structural_errors(schema, ROOT)
