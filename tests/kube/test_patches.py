"""JSON patch and JSON merge patch: RFC examples, kube-apiserver's errors, and properties."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import jsonpatch
import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.errors import ApiError, BadRequest, Invalid, RequestEntityTooLarge
from atoll.kube.patches import (
    MAX_JSON_PATCH_OPERATIONS,
    apply_json_patch,
    apply_merge_patch,
    create_merge_patch,
)

REJECTED = "the server rejected our request due to an error in our request"


def deployment() -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "args": []}]}}},
    }


# --- JSON patch --------------------------------------------------------------------------------


def test_every_operation() -> None:
    patched = apply_json_patch(
        deployment(),
        [
            {"op": "test", "path": "/spec/replicas", "value": 2},
            {"op": "replace", "path": "/spec/replicas", "value": 3},
            {"op": "add", "path": "/metadata/labels/tier", "value": "front"},
            {"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "--v=2"},
            {"op": "copy", "from": "/metadata/labels", "path": "/metadata/annotations"},
            {"op": "move", "from": "/metadata/annotations/tier", "path": "/metadata/tier"},
            {"op": "remove", "path": "/metadata/labels/app"},
        ],
    )
    assert patched["spec"]["replicas"] == 3
    assert patched["metadata"] == {
        "name": "web",
        "labels": {"tier": "front"},
        "annotations": {"app": "web"},
        "tier": "front",
    }
    assert patched["spec"]["template"]["spec"]["containers"][0]["args"] == ["--v=2"]


def test_kubectl_rollout_undo_shape() -> None:
    template = {"metadata": {"creationTimestamp": None}, "spec": {"containers": []}}
    live = deployment()
    live["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "2"}
    patched = apply_json_patch(
        live,
        [
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": {"a": "b"}},
        ],
    )
    assert patched["spec"]["template"] == template
    assert patched["metadata"]["annotations"] == {"a": "b"}


def test_inputs_are_neither_mutated_nor_shared() -> None:
    doc, value = deployment(), {"x": [1]}
    patch = [{"op": "add", "path": "/spec/extra", "value": value}]
    patched = apply_json_patch(doc, patch)
    assert doc == deployment()
    patched["spec"]["extra"]["x"].append(2)
    patched["metadata"]["labels"]["new"] = "y"
    assert value == {"x": [1]} and doc == deployment()


@pytest.mark.parametrize(
    "patch",
    [
        [{"op": "test", "path": "/spec/replicas", "value": 5}],
        [{"op": "test", "path": "/spec/replicas", "value": "2"}],
        [{"op": "remove", "path": "/spec/missing"}],
        # As evanphx/json-patch in kube-apiserver: replace is not an upsert.
        [{"op": "replace", "path": "/metadata/annotations", "value": {}}],
        [{"op": "add", "path": "/no/such/parent", "value": 1}],
        [{"op": "add", "path": "spec", "value": 1}],
        [{"op": "add", "path": "/spec/template/spec/containers/9", "value": {}}],
        [{"op": "explode", "path": "/spec"}],
        [{"path": "/spec"}],
        [{"op": "add", "path": "/spec/x"}],
        [{"op": "move", "path": "/spec/x"}],
        [{"op": "move", "from": "/spec", "path": "/spec/inner"}],
        [{"op": "remove", "path": ""}],
        [None],
    ],
)
def test_operations_that_cannot_apply_are_invalid(patch: list[Any]) -> None:
    with pytest.raises(Invalid) as caught:
        apply_json_patch(deployment(), patch)
    assert caught.value.code == 422
    assert caught.value.message == REJECTED
    assert caught.value.__cause__ is not None  # the library's detail, kept for logs


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"op": "add"}, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        ("add", "json: cannot unmarshal string into Go value of type jsonpatch.Patch"),
        (3, "json: cannot unmarshal number into Go value of type jsonpatch.Patch"),
        (["add"], "json: cannot unmarshal string into Go value of type jsonpatch.Operation"),
        ([[]], "json: cannot unmarshal array into Go value of type jsonpatch.Operation"),
        ([True], "json: cannot unmarshal bool into Go value of type jsonpatch.Operation"),
    ],
)
def test_malformed_patch_documents_are_bad_requests(patch: Any, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        apply_json_patch(deployment(), patch)
    assert caught.value.message == message


def test_null_and_empty_patches_change_nothing() -> None:
    assert apply_json_patch(deployment(), None) == deployment()
    assert apply_json_patch(deployment(), []) == deployment()


def test_too_many_operations() -> None:
    patch = [{"op": "test", "path": "/spec/replicas", "value": 2}] * (MAX_JSON_PATCH_OPERATIONS + 1)
    with pytest.raises(RequestEntityTooLarge) as caught:
        apply_json_patch(deployment(), patch)
    assert caught.value.message == (
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, "
        "got 10001"
    )


def test_replacing_the_root_with_a_non_object_is_refused() -> None:
    assert apply_json_patch(deployment(), [{"op": "replace", "path": "", "value": {"a": 1}}]) == {
        "a": 1
    }
    with pytest.raises(BadRequest):
        apply_json_patch(deployment(), [{"op": "replace", "path": "", "value": [1]}])


# --- merge patch -------------------------------------------------------------------------------

# RFC 7386, appendix A, minus the cases whose target or patch is not an object.
RFC_7386_EXAMPLES: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ({"a": "foo"}, {"a": {"b": "c", "d": None}}, {"a": {"b": "c"}}),
    ({"a": [1, 2]}, {"a": [None, 3]}, {"a": [None, 3]}),
]


@pytest.mark.parametrize(("target", "patch", "result"), RFC_7386_EXAMPLES)
def test_rfc_7386_examples(target: dict[str, Any], patch: dict[str, Any], result: Any) -> None:
    assert apply_merge_patch(target, patch) == result


def test_kubectl_label_and_scale_patches() -> None:
    labelled = apply_merge_patch(deployment(), {"metadata": {"labels": {"tier": "x"}}})
    assert labelled["metadata"]["labels"] == {"app": "web", "tier": "x"}
    assert apply_merge_patch(deployment(), {"spec": {"replicas": 3}})["spec"]["replicas"] == 3


@pytest.mark.parametrize("patch", [None, [], [{"op": "add"}], "x", 1, True])
def test_merge_patch_must_be_an_object(patch: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        apply_merge_patch(deployment(), patch)
    assert caught.value.message == "Invalid JSON Patch"


def test_merge_patch_neither_mutates_nor_shares() -> None:
    doc, patch = deployment(), {"spec": {"extra": {"list": [1]}}, "metadata": {"labels": None}}
    patched = apply_merge_patch(doc, patch)
    assert doc == deployment()
    patched["spec"]["extra"]["list"].append(2)
    patched["spec"]["template"]["spec"]["containers"].clear()
    assert patch["spec"] == {"extra": {"list": [1]}} and doc == deployment()


def test_create_merge_patch_is_minimal() -> None:
    original = deployment()
    modified = deployment()
    modified["spec"]["replicas"] = 4
    modified["metadata"]["labels"] = {"app": "web", "tier": "x"}
    del modified["metadata"]["name"]
    assert create_merge_patch(original, modified) == {
        "spec": {"replicas": 4},
        "metadata": {"name": None, "labels": {"tier": "x"}},
    }
    assert create_merge_patch(original, deployment()) == {}


def test_create_merge_patch_tells_json_types_apart() -> None:
    assert create_merge_patch({"a": 1}, {"a": True}) == {"a": True}
    assert create_merge_patch({"a": 1}, {"a": 1.0}) == {"a": 1.0}
    assert create_merge_patch({"a": [1]}, {"a": [True]}) == {"a": [True]}


# --- properties --------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False), st.text(max_size=3)
)
KEYS = st.sampled_from(["a", "b", "c", "metadata", "spec"])


def json_values(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
        max_leaves=12,
    )


WITH_NULLS = st.dictionaries(KEYS, json_values(st.none() | SCALARS), max_size=4)
WITHOUT_NULLS = st.dictionaries(KEYS, json_values(SCALARS), max_size=4)


def canonical(value: Any) -> str:
    """JSON text that tells true from 1 and 1 from 1.0, unlike ``==``."""
    return json.dumps(value, sort_keys=True)


@given(WITH_NULLS, WITHOUT_NULLS)
def test_created_merge_patch_turns_original_into_modified(
    a: dict[str, Any], b: dict[str, Any]
) -> None:
    before = canonical(a)
    assert canonical(apply_merge_patch(a, create_merge_patch(a, b))) == canonical(b)
    assert canonical(a) == before


@given(WITH_NULLS)
def test_empty_merge_patch_is_identity(a: dict[str, Any]) -> None:
    patched = apply_merge_patch(a, {})
    assert canonical(patched) == canonical(a)
    assert patched is not a


@given(WITH_NULLS, WITH_NULLS)
def test_json_patch_replays_a_generated_diff(a: dict[str, Any], b: dict[str, Any]) -> None:
    before = canonical(a)
    assert apply_json_patch(a, jsonpatch.make_patch(a, b).patch) == b
    assert canonical(a) == before


OPERATIONS = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "x"])},
    optional={
        "path": st.sampled_from(["", "/", "/a", "/a/0", "/a/-", "/b/c", "a", "/~2"]) | SCALARS,
        "from": st.sampled_from(["", "/a", "/b", "/a/0"]) | SCALARS,
        "value": json_values(st.none() | SCALARS),
    },
)


@given(WITH_NULLS, st.lists(OPERATIONS | json_values(SCALARS), max_size=4))
def test_json_patch_only_ever_raises_api_errors(doc: dict[str, Any], patch: list[Any]) -> None:
    with contextlib.suppress(ApiError):
        assert isinstance(apply_json_patch(doc, patch), dict)
