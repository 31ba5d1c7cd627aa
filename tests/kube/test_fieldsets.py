"""Field sets: FieldsV1 rendering and parsing, diffs, removal and kube's path notation."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.errors import BadRequest
from atoll.kube.fieldsets import (
    changed_fields,
    field_set,
    from_fields_v1,
    json_equal,
    path_string,
    prefixes,
    remove_field,
    to_fields_v1,
)
from atoll.kube.patchmeta import CUSTOM_RESOURCE_META, PatchMeta, patch_meta_for


def meta(group: str, kind: str) -> PatchMeta:
    found = patch_meta_for(group, kind)
    assert found is not None
    return found


POD = meta("", "Pod")
WEB = 'k:{"name":"web"}'


def pod(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "namespace": "default",
            "uid": "u",
            "resourceVersion": "7",
            "creationTimestamp": "2021-01-01T00:00:00Z",
            "labels": {"app": "web"},
            "finalizers": ["example.com/x"],
        },
        "spec": spec
        or {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]},
        "status": {"phase": "Running"},
    }


def test_fields_v1_of_a_pod_matches_kube_shape() -> None:
    assert to_fields_v1(field_set(pod(), POD)) == {
        "f:metadata": {"f:finalizers": {'v:"example.com/x"': {}}, "f:labels": {"f:app": {}}},
        "f:spec": {
            "f:containers": {
                WEB: {
                    ".": {},
                    "f:image": {},
                    "f:name": {},
                    "f:ports": {
                        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}
                    },
                }
            }
        },
    }


def test_empty_maps_and_lists_are_leaves_and_nulls_are_skipped() -> None:
    doc: dict[str, Any] = {"spec": {"resources": {}, "containers": [], "args": None}}
    assert field_set(doc, POD) == {("f:spec", "f:resources"), ("f:spec", "f:containers")}


def test_atomic_lists_are_single_leaves() -> None:
    doc = pod(tolerations=[{"key": "a"}], containers=[{"name": "web", "args": ["x", "y"]}])
    fields = field_set(doc, POD)
    assert ("f:spec", "f:tolerations") in fields
    assert ("f:spec", "f:containers", WEB, "f:args") in fields


def test_strict_rejects_unkeyed_or_duplicate_elements() -> None:
    missing = pod(containers=[{"image": "x"}])
    with pytest.raises(BadRequest, match='omits key field "name"'):
        field_set(missing, POD, strict=True)
    duplicate = pod(containers=[{"name": "a"}, {"name": "a"}])
    with pytest.raises(
        BadRequest, match=r'\.spec\.containers: duplicate entries for key \[name="a"\]'
    ):
        field_set(duplicate, POD, strict=True)
    assert ("f:spec", "f:containers") in field_set(missing, POD)


def test_custom_resource_lists_are_atomic() -> None:
    doc = {"spec": {"items": [{"name": "a"}]}, "metadata": {"finalizers": ["f"]}}
    assert field_set(doc, CUSTOM_RESOURCE_META) == {
        ("f:spec", "f:items"),
        ("f:metadata", "f:finalizers", 'v:"f"'),
    }


def test_from_fields_v1_inverts_rendering_and_skips_junk() -> None:
    fields = field_set(pod(), POD)
    assert from_fields_v1(to_fields_v1(fields)) == fields
    assert from_fields_v1({"f:a": 3, "f:b": {}, ".": {}}) == {("f:b",)}
    assert from_fields_v1(None) == frozenset()


def test_rendering_sorts_keys_and_marks_owned_inner_nodes_first() -> None:
    rendered = to_fields_v1(
        [("f:spec", "f:b"), ("f:spec",), ("f:a",), ("f:spec", "f:a", "f:x"), ()]
    )
    assert rendered == {"f:a": {}, "f:spec": {".": {}, "f:a": {"f:x": {}}, "f:b": {}}}
    assert [list(rendered), list(rendered["f:spec"])] == [["f:a", "f:spec"], [".", "f:a", "f:b"]]
    odd = to_fields_v1([("f:x",), ("f:x", "-y"), ("f:x", "f:z")])  # "-y" sorts before "."
    assert list(odd["f:x"]) == ["-y", ".", "f:z"]


def test_path_string() -> None:
    assert path_string(("f:spec", "f:replicas")) == ".spec.replicas"
    assert (
        path_string(("f:spec", "f:containers", WEB, "f:image"))
        == '.spec.containers[name="web"].image'
    )
    port = 'k:{"containerPort":80,"protocol":"TCP"}'
    assert path_string(("f:ports", port)) == '.ports[containerPort=80,protocol="TCP"]'
    assert path_string(("f:metadata", "f:finalizers", 'v:"x"')) == '.metadata.finalizers[="x"]'


def test_changed_fields() -> None:
    old = pod(containers=[{"name": "web", "image": "a"}, {"name": "side", "image": "b"}])
    new = copy.deepcopy(old)
    new["spec"]["containers"] = [{"name": "web", "image": "c"}]
    new["metadata"]["labels"]["tier"] = "x"
    new["status"] = {"phase": "Failed"}
    changed, removed = changed_fields(old, new, POD)
    assert changed == {
        ("f:spec", "f:containers", WEB, "f:image"),
        ("f:metadata", "f:labels", "f:tier"),
    }
    side = ("f:spec", "f:containers", 'k:{"name":"side"}')
    assert removed == {side, (*side, "f:name"), (*side, "f:image")}


def test_changed_fields_sees_type_changes_and_container_swaps() -> None:
    old = {"spec": {"x": 1, "y": {}, "z": {"a": 1}}}
    new = {"spec": {"x": True, "y": {"b": 1}, "z": "flat"}}
    changed, removed = changed_fields(old, new, POD)
    assert changed == {("f:spec", "f:x"), ("f:spec", "f:y", "f:b"), ("f:spec", "f:z")}
    assert removed == {("f:spec", "f:y"), ("f:spec", "f:z", "f:a")}


def test_remove_field() -> None:
    doc = pod(containers=[{"name": "web", "image": "a"}, {"name": "side"}])
    remove_field(doc, ("f:spec", "f:containers", WEB, "f:image"), POD)
    remove_field(doc, ("f:spec", "f:containers", 'k:{"name":"side"}'), POD)
    remove_field(doc, ("f:metadata", "f:finalizers", 'v:"example.com/x"'), POD)
    remove_field(doc, ("f:metadata", "f:nothing", "f:here"), POD)
    remove_field(doc, ("f:spec", "f:containers", 'k:{"name":"ghost"}', "f:image"), POD)
    assert doc["spec"]["containers"] == [{"name": "web"}]
    assert doc["metadata"]["finalizers"] == []


def test_prefixes() -> None:
    assert prefixes([("a", "b"), ("c",)]) == {("a",), ("a", "b"), ("c",)}


def test_json_equal_distinguishes_types() -> None:
    assert json_equal({"a": [1, "x"]}, {"a": [1, "x"]})
    assert not json_equal(1, True)
    assert not json_equal(1, 1.0)
    assert not json_equal([1], [1, 2])
    assert not json_equal({"a": 1}, {"b": 1})
    shared = {"a": [1, {"b": 2.0}]}
    assert json_equal(shared, shared)


NAMES = st.sampled_from(["a", "b", "c"])
LEAVES = st.one_of(st.integers(0, 3), st.text(alphabet="xy", max_size=2), st.booleans())
CONTAINERS = st.lists(
    st.fixed_dictionaries(
        {"name": NAMES},
        optional={
            "image": LEAVES,
            "env": st.lists(
                st.fixed_dictionaries({"name": NAMES, "value": LEAVES}),
                unique_by=lambda e: e["name"],
                max_size=2,
            ),
        },
    ),
    unique_by=lambda c: str(c["name"]),
    max_size=3,
)
DOCS = st.fixed_dictionaries(
    {},
    optional={
        "metadata": st.fixed_dictionaries(
            {},
            optional={
                "labels": st.dictionaries(NAMES, LEAVES),
                "finalizers": st.lists(NAMES, unique=True),
            },
        ),
        "spec": st.fixed_dictionaries({}, optional={"containers": CONTAINERS, "x": LEAVES}),
    },
)


@given(DOCS)
def test_fields_v1_round_trips(doc: dict[str, Any]) -> None:
    fields = field_set(doc, POD, strict=True)
    assert from_fields_v1(to_fields_v1(fields)) == fields


@given(DOCS, DOCS)
def test_changed_fields_agree_with_whole_sets(old: dict[str, Any], new: dict[str, Any]) -> None:
    changed, removed = changed_fields(old, new, POD)
    before, after = field_set(old, POD), field_set(new, POD)
    assert removed == before - after
    assert after - before <= changed <= after
