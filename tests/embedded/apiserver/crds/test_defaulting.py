"""Structural defaulting of custom resources and the checks on a CRD's default values."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.embedded.apiserver.crds.crds_support import CRONTAB_SCHEMA, messages

from atoll.embedded.apiserver.crds import apply_defaults, default_errors

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "default": {},
            "properties": {
                "replicas": {"type": "integer", "default": 1},
                "mode": {"type": "string", "default": "auto"},
                "note": {"type": "string", "nullable": True, "default": "n"},
                "ports": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "default": {"port": 80},
                        "properties": {
                            "port": {"type": "integer"},
                            "protocol": {"type": "string", "default": "TCP"},
                        },
                    },
                },
                "limits": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {"unit": {"type": "string", "default": "Mi"}},
                    },
                },
                "plain": {"type": "string"},
            },
        }
    },
}


def test_absent_fields_get_defaults_recursively() -> None:
    obj: dict[str, Any] = {}
    apply_defaults(obj, SCHEMA)
    assert obj == {"spec": {"replicas": 1, "mode": "auto", "note": "n"}}


def test_defaults_apply_inside_items_and_additional_properties() -> None:
    obj: dict[str, Any] = {
        "spec": {"ports": [{"port": 8080}, None], "limits": {"memory": {}}, "replicas": 3}
    }
    apply_defaults(obj, SCHEMA)
    assert obj["spec"]["ports"] == [
        {"port": 8080, "protocol": "TCP"},
        {"port": 80, "protocol": "TCP"},
    ]
    assert obj["spec"]["limits"] == {"memory": {"unit": "Mi"}}
    assert obj["spec"]["replicas"] == 3


def test_nulls_are_defaulted_dropped_or_kept_by_nullability() -> None:
    obj: dict[str, Any] = {"spec": {"replicas": None, "plain": None, "note": None}}
    apply_defaults(obj, SCHEMA)
    assert obj == {"spec": {"replicas": 1, "mode": "auto", "note": None}}


def test_defaults_are_copied_not_shared() -> None:
    first: dict[str, Any] = {"spec": {"ports": [None]}}
    apply_defaults(first, SCHEMA)
    first["spec"]["ports"][0]["port"] = 1
    assert SCHEMA["properties"]["spec"]["properties"]["ports"]["items"]["default"] == {"port": 80}


def test_defaults_must_be_valid_and_pruned() -> None:
    schema = copy.deepcopy(CRONTAB_SCHEMA)
    props = schema["properties"]["spec"]["properties"]
    props["replicas"]["default"] = "one"
    props["image"]["default"] = {"registry": "x"}
    schema["properties"]["status"]["default"] = {"replicas": 1, "phase": "Pending"}
    root = "spec.validation.openAPIV3Schema"
    assert messages(default_errors(schema, root)) == [
        f"{root}.properties[spec].properties[image].default: Invalid value: "
        'map[string]string{"registry":"x"}: must not have unknown fields',
        f'{root}.properties[spec].properties[image].default: Invalid value: "object": in body '
        'must be of type string: "object"',
        f'{root}.properties[spec].properties[replicas].default: Invalid value: "string": in '
        'body must be of type integer: "string"',
        f'{root}.properties[status].default: Invalid value: map[string]string{{"replicas":1, '
        '"phase":"Pending"}: must not have unknown fields',
    ]
    assert default_errors(CRONTAB_SCHEMA, root) == []


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["replicas", "mode", "note", "plain", "ports"]),
        st.none() | st.integers() | st.text(max_size=3) | st.lists(st.none(), max_size=2),
    )
)
def test_defaulting_is_idempotent(spec: dict[str, Any]) -> None:
    once: dict[str, Any] = {"spec": spec}
    apply_defaults(once, SCHEMA)
    twice = copy.deepcopy(once)
    apply_defaults(twice, SCHEMA)
    assert twice == once
