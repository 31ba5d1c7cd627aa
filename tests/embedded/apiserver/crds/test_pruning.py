"""Pruning of unknown fields from custom resources."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.embedded.apiserver.crds.crds_support import CRONTAB_SCHEMA

from atoll.embedded.apiserver.crds import prune


def test_unknown_fields_are_dropped_and_reported_sorted() -> None:
    obj = {
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": "c", "anything": {"goes": 1}},
        "spec": {"cronSpec": "* * * * *", "imagee": "typo", "image": "x"},
        "extra": True,
    }
    assert prune(obj, CRONTAB_SCHEMA) == ["extra", "spec.imagee"]
    assert obj == {
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": "c", "anything": {"goes": 1}},
        "spec": {"cronSpec": "* * * * *", "image": "x"},
    }


def test_meta_fields_survive_only_at_the_root() -> None:
    obj = {"apiVersion": "v1", "kind": "X", "metadata": {}}
    assert prune(obj, {"type": "object"}) == []
    nested = {"spec": {"kind": "k"}}
    schema = {"type": "object", "properties": {"spec": {"type": "object"}}}
    assert prune(nested, schema) == ["spec.kind"]
    assert prune({"kind": "k"}, {"type": "object"}, is_root=False) == ["kind"]


def test_preserve_unknown_fields_keeps_unknown_but_prunes_known() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
                "properties": {
                    "known": {"type": "object", "properties": {"a": {"type": "string"}}}
                },
            }
        },
    }
    obj = {"spec": {"free": {"form": [1, {"x": 2}]}, "known": {"a": "1", "b": "2"}}}
    assert prune(obj, schema) == ["spec.known.b"]
    assert obj == {"spec": {"free": {"form": [1, {"x": 2}]}, "known": {"a": "1"}}}


def test_array_items_and_maps_are_pruned_with_indexed_paths() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "ports": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"port": {"type": "integer"}}},
                    },
                    "labels": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "properties": {"v": {"type": "string"}},
                        },
                    },
                },
            }
        },
    }
    obj = {
        "spec": {
            "ports": [{"port": 1}, {"port": 2, "protocol": "TCP"}],
            "labels": {"a": {"v": "x", "w": "y"}},
        }
    }
    assert prune(obj, schema) == ["spec.labels.a.w", "spec.ports[1].protocol"]


def test_embedded_resources_keep_their_meta_fields() -> None:
    schema = {
        "type": "object",
        "properties": {
            "template": {
                "type": "object",
                "x-kubernetes-embedded-resource": True,
                "properties": {"spec": {"type": "object", "properties": {}}},
            }
        },
    }
    obj = {
        "template": {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"labels": {"a": "b"}},
            "spec": {"containers": []},
        }
    }
    assert prune(obj, schema) == ["template.spec.containers"]
    assert obj["template"]["metadata"] == {"labels": {"a": "b"}}


def test_additional_properties_true_keeps_keys_but_not_their_object_fields() -> None:
    schema = {
        "type": "object",
        "properties": {"m": {"type": "object", "additionalProperties": True}},
    }
    obj = {"m": {"a": 1, "b": {"c": 2}}}
    assert prune(obj, schema) == ["m.b.c"]
    assert obj == {"m": {"a": 1, "b": {}}}


def test_no_schema_prunes_everything_but_meta() -> None:
    obj: dict[str, Any] = {"apiVersion": "v", "kind": "K", "metadata": {}, "spec": {}}
    assert prune(obj, None) == ["spec"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["spec", "image", "replicas", "x", "kind"]), inner, max_size=3
        )
    ),
    max_leaves=15,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["spec", "status", "junk", "kind"]), json_values))
def test_pruning_is_idempotent(obj: dict[str, Any]) -> None:
    once = copy.deepcopy(obj)
    prune(once, CRONTAB_SCHEMA)
    again = copy.deepcopy(once)
    assert prune(again, CRONTAB_SCHEMA) == []
    assert again == once
