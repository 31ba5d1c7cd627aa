"""Strategic merge patch: apimachinery's semantics, directives, errors and the two-way diff."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atoll.errors import BadRequest
from atoll.kube.fieldsets import json_equal
from atoll.kube.patchmeta import PatchMeta, patch_meta_for
from atoll.kube.strategic import apply_strategic_merge_patch, create_two_way_patch


def meta(group: str, kind: str) -> PatchMeta:
    found = patch_meta_for(group, kind)
    assert found is not None
    return found


POD = meta("", "Pod")
DEPLOYMENT = meta("apps", "Deployment")
SERVICE = meta("", "Service")


def deployment(*containers: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": list(containers) or [{"name": "web", "image": "nginx"}]},
            },
        },
    }


def containers_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = doc["spec"]["template"]["spec"]["containers"]
    return result


def dollar_keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [k for k in value if k.startswith("$")]
        return own + [k for v in value.values() for k in dollar_keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in dollar_keys(v)]
    return []


def test_maps_merge_and_null_deletes() -> None:
    doc = deployment()
    patch = {"metadata": {"labels": {"tier": "x", "app": None}, "annotations": {"gone": None}}}
    result = apply_strategic_merge_patch(doc, patch, DEPLOYMENT)
    # As apimachinery: a map the patch creates keeps its non-null keys, here none.
    assert result["metadata"] == {"name": "web", "labels": {"tier": "x"}, "annotations": {}}
    assert doc == deployment()


def test_rollout_restart_patch() -> None:
    stamp = {"kubectl.kubernetes.io/restartedAt": "2021-01-02T03:04:05Z"}
    patch = {"spec": {"template": {"metadata": {"annotations": stamp}}}}
    result = apply_strategic_merge_patch(deployment(), patch, DEPLOYMENT)
    assert result["spec"]["template"]["metadata"] == {
        "labels": {"app": "web"},
        "annotations": stamp,
    }


def test_input_is_never_modified_nor_shared() -> None:
    doc, patch = deployment(), {"spec": {"template": {"spec": {"containers": [{"name": "x"}]}}}}
    before_doc, before_patch = copy.deepcopy(doc), copy.deepcopy(patch)
    result = apply_strategic_merge_patch(doc, patch, DEPLOYMENT)
    containers_of(result)[0]["image"] = "mutated"
    containers_of(result)[1]["image"] = "mutated"
    assert (doc, patch) == (before_doc, before_patch)


def test_new_merge_list_element_goes_first_like_apimachinery() -> None:
    # The kubectl "update API objects in place" tutorial shows the patched-in container first.
    doc = deployment({"name": "patch-demo-ctr", "image": "nginx"})
    patch = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "patch-demo-ctr-2", "image": "redis"}]}}
        }
    }
    result = apply_strategic_merge_patch(doc, patch, DEPLOYMENT)
    assert [c["name"] for c in containers_of(result)] == ["patch-demo-ctr-2", "patch-demo-ctr"]


def test_merge_by_name_keeps_other_fields_and_elements() -> None:
    doc = deployment(
        {"name": "web", "image": "nginx", "env": [{"name": "A", "value": "1"}]},
        {"name": "side", "image": "busybox"},
    )
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "web", "env": [{"name": "B", "value": "2"}]}]}
            }
        }
    }
    result = containers_of(apply_strategic_merge_patch(doc, patch, DEPLOYMENT))
    assert result == [
        {
            "name": "web",
            "image": "nginx",
            "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
        },
        {"name": "side", "image": "busybox"},
    ]


def test_kubectl_apply_patch_with_set_element_order() -> None:
    doc = deployment(
        {
            "name": "web",
            "image": "nginx",
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        },
        {"name": "side", "image": "busybox"},
    )
    # What kubectl 1.20 apply sends when a container is added last and env A is dropped.
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [
                        {"name": "web"},
                        {"name": "side"},
                        {"name": "new"},
                    ],
                    "containers": [
                        {
                            "name": "web",
                            "$setElementOrder/env": [{"name": "B"}],
                            "env": [{"$patch": "delete", "name": "A"}],
                        },
                        {"name": "new", "image": "redis"},
                    ],
                }
            }
        }
    }
    result = apply_strategic_merge_patch(doc, patch, DEPLOYMENT)
    assert [c["name"] for c in containers_of(result)] == ["web", "side", "new"]
    assert containers_of(result)[0]["env"] == [{"name": "B", "value": "2"}]
    assert dollar_keys(result) == []


def test_set_element_order_alone_reorders() -> None:
    doc = deployment({"name": "a"}, {"name": "b"}, {"name": "c"})
    order = [{"name": "c"}, {"name": "a"}, {"name": "b"}]
    patch = {"spec": {"template": {"spec": {"$setElementOrder/containers": order}}}}
    result = apply_strategic_merge_patch(doc, patch, DEPLOYMENT)
    assert [c["name"] for c in containers_of(result)] == ["c", "a", "b"]


def test_server_only_elements_keep_their_place() -> None:
    doc = deployment({"name": "a"}, {"name": "b"}, {"name": "c"})
    order = [{"name": "a"}, {"name": "c"}]  # b was added by someone else
    patch = {"spec": {"template": {"spec": {"$setElementOrder/containers": order}}}}
    result = apply_strategic_merge_patch(doc, patch, DEPLOYMENT)
    assert [c["name"] for c in containers_of(result)] == ["a", "b", "c"]


def test_finalizers_merge_as_a_set() -> None:
    doc = {"metadata": {"name": "x", "finalizers": ["a", "b"]}}
    result = apply_strategic_merge_patch(doc, {"metadata": {"finalizers": ["b", "c"]}}, POD)
    assert sorted(result["metadata"]["finalizers"]) == ["a", "b", "c"]
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}
    assert apply_strategic_merge_patch(doc, patch, POD)["metadata"]["finalizers"] == ["b"]
    patch = {"metadata": {"$setElementOrder/finalizers": ["b", "a"]}}
    assert apply_strategic_merge_patch(doc, patch, POD)["metadata"]["finalizers"] == ["b", "a"]


def test_lists_without_merge_strategy_are_replaced() -> None:
    pod = {
        "spec": {
            "tolerations": [{"key": "a"}, {"key": "b"}],
            "containers": [{"name": "c", "args": ["1", "2"]}],
        }
    }
    patch = {"spec": {"tolerations": [{"key": "z"}], "containers": [{"name": "c", "args": ["3"]}]}}
    result = apply_strategic_merge_patch(pod, patch, POD)
    assert result["spec"] == {
        "tolerations": [{"key": "z"}],
        "containers": [{"name": "c", "args": ["3"]}],
    }


def test_service_ports_merge_by_port() -> None:
    service = {"spec": {"ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"}]}}
    patch = {"spec": {"ports": [{"port": 8080, "targetPort": 8080}]}}
    assert len(apply_strategic_merge_patch(service, patch, SERVICE)["spec"]["ports"]) == 2


def test_endpoints_subsets_are_replaced() -> None:
    endpoints = {"subsets": [{"addresses": [{"ip": "10.0.0.1"}]}]}
    patch = {"subsets": [{"addresses": [{"ip": "10.0.0.2"}]}]}
    result = apply_strategic_merge_patch(endpoints, patch, meta("", "Endpoints"))
    assert result["subsets"] == [{"addresses": [{"ip": "10.0.0.2"}]}]


def test_patch_replace_directive_on_a_map() -> None:
    patch = {"spec": {"strategy": {"$patch": "replace", "type": "Recreate"}}}
    result = apply_strategic_merge_patch(deployment(), patch, DEPLOYMENT)
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_patch_delete_directive_on_a_map() -> None:
    patch = {"spec": {"strategy": {"$patch": "delete"}}}
    result = apply_strategic_merge_patch(deployment(), patch, DEPLOYMENT)
    assert "strategy" not in result["spec"]
    assert apply_strategic_merge_patch(deployment(), {"$patch": "delete"}, DEPLOYMENT) == {}


def test_patch_merge_directive_is_the_default() -> None:
    patch = {"metadata": {"$patch": "merge", "labels": {"x": "y"}}}
    result = apply_strategic_merge_patch(deployment(), patch, DEPLOYMENT)
    assert result["metadata"]["labels"] == {"app": "web", "x": "y"}


def test_patch_replace_directive_in_a_list() -> None:
    doc = deployment({"name": "a", "image": "1"}, {"name": "b"})
    patch = {"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "c"}]}}}}
    result = apply_strategic_merge_patch(doc, patch, DEPLOYMENT)
    assert containers_of(result) == [{"name": "c"}]


def test_patch_delete_element_of_merge_list() -> None:
    doc = deployment({"name": "a"}, {"name": "b"})
    patch = {"spec": {"template": {"spec": {"containers": [{"$patch": "delete", "name": "a"}]}}}}
    assert containers_of(apply_strategic_merge_patch(doc, patch, DEPLOYMENT)) == [{"name": "b"}]


def test_retain_keys_switches_deployment_strategy() -> None:
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    result = apply_strategic_merge_patch(deployment(), patch, DEPLOYMENT)
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_switches_volume_source() -> None:
    pod = {"spec": {"volumes": [{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}]}}
    volume = {"$retainKeys": ["configMap", "name"], "name": "v", "configMap": {"name": "cm"}}
    result = apply_strategic_merge_patch(pod, {"spec": {"volumes": [volume]}}, POD)
    assert result["spec"]["volumes"] == [
        {"name": "v", "configMap": {"name": "cm"}},
        {"name": "w", "emptyDir": {}},
    ]


def test_new_values_are_cleaned_of_nulls_and_directives() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "new", "image": None, "env": [{"$patch": "delete", "name": "Z"}]}
                    ]
                }
            }
        },
        "status": {"$patch": "replace", "conditions": [{"type": "Ready", "reason": None}]},
    }
    result = apply_strategic_merge_patch(deployment(), patch, DEPLOYMENT)
    assert containers_of(result)[0] == {"name": "new", "env": []}
    assert result["status"] == {"conditions": [{"type": "Ready"}]}
    assert dollar_keys(result) == []


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ([{"op": "add"}], "must be a JSON object, not an array"),
        ("x", "must be a JSON object, not a string"),
        ({"spec": {"$patch": "explode"}}, 'Unknown patch directive "explode" at spec'),
        (
            {"spec": {"template": {"spec": {"containers": [{"$patch": "nope", "name": "a"}]}}}},
            'Unknown patch directive "nope" in list spec.template.spec.containers',
        ),
        (
            {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}},
            "does not contain declared merge key: name",
        ),
        (
            {"spec": {"template": {"spec": {"containers": [{"$patch": "delete"}]}}}},
            "does not contain declared merge key: name",
        ),
        ({"spec": {"template": {"spec": {"containers": ["web"]}}}}, "merge key 'name'"),
        ({"spec": {"strategy": {"$retainKeys": "type"}}}, "must be a list of strings"),
        (
            {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}},
            "does not list patched field 'rollingUpdate'",
        ),
        ({"spec": {"template": {"spec": {"$setElementOrder/containers": "x"}}}}, "must be a list"),
        ({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}, "must be a list"),
        ({"metadata": {"finalizers": [{"a": 1}]}}, "merge list of values"),
    ],
)
def test_malformed_patches_are_bad_requests(patch: Any, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        apply_strategic_merge_patch(deployment(), patch, DEPLOYMENT)
    assert message in caught.value.message


def test_two_way_patch_shape() -> None:
    before = deployment({"name": "a", "image": "1"}, {"name": "b", "image": "1"})
    after = deployment({"name": "c", "image": "3"}, {"name": "a", "image": "2"})
    after["metadata"]["finalizers"] = ["f"]
    del after["spec"]["replicas"]
    patch = create_two_way_patch(before, after, DEPLOYMENT)
    assert patch == {
        "metadata": {"finalizers": ["f"]},
        "spec": {
            "replicas": None,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "c", "image": "3"},
                        {"image": "2", "name": "a"},
                        {"$patch": "delete", "name": "b"},
                    ],
                    "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}],
                }
            },
        },
    }
    assert apply_strategic_merge_patch(before, patch, DEPLOYMENT) == after


def test_two_way_patch_of_primitive_set() -> None:
    before = {"metadata": {"finalizers": ["a", "b", "c"]}}
    after = {"metadata": {"finalizers": ["c", "d", "a"]}}
    patch = create_two_way_patch(before, after, POD)
    assert patch == {
        "metadata": {
            "finalizers": ["d"],
            "$deleteFromPrimitiveList/finalizers": ["b"],
            "$setElementOrder/finalizers": ["c", "d", "a"],
        }
    }
    assert apply_strategic_merge_patch(before, patch, POD) == after


def test_two_way_patch_falls_back_to_replace_for_unkeyed_lists() -> None:
    before = {"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}
    after = {"spec": {"containers": [{"image": "x"}]}}
    patch = create_two_way_patch(before, after, POD)
    assert patch == {"spec": {"containers": [{"$patch": "replace"}, {"image": "x"}]}}
    assert apply_strategic_merge_patch(before, patch, POD) == after


# --- property: apply(a, diff(a, b)) == b ------------------------------------------------------

NAMES = st.sampled_from(["a", "b", "c", "d", "e"])
SHORT = st.text(alphabet="xyz", max_size=2)
SCALARS = st.one_of(st.integers(-2, 2), st.booleans(), SHORT, st.floats(0, 1, allow_nan=False))
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=6,
)
ENV = st.lists(
    st.fixed_dictionaries({"name": NAMES, "value": SHORT}),
    max_size=4,
    unique_by=lambda e: e["name"],
)
PORTS = st.lists(
    st.fixed_dictionaries(
        {"containerPort": st.integers(1, 4)}, optional={"protocol": st.sampled_from(["TCP", "UDP"])}
    ),
    max_size=3,
    unique_by=lambda p: p["containerPort"],
)
CONTAINER = st.fixed_dictionaries(
    {"name": NAMES},
    optional={
        "image": SHORT,
        "args": st.lists(SHORT, max_size=3),
        "env": ENV,
        "ports": PORTS,
        "resources": st.dictionaries(st.sampled_from(["cpu", "memory"]), SHORT, max_size=2),
        "extra": JSON,
    },
)
POD_DOCS = st.fixed_dictionaries(
    {},
    optional={
        "metadata": st.fixed_dictionaries(
            {},
            optional={
                "labels": st.dictionaries(NAMES, SHORT, max_size=3),
                "finalizers": st.lists(NAMES, max_size=4, unique=True),
            },
        ),
        "spec": st.fixed_dictionaries(
            {},
            optional={
                "containers": st.lists(CONTAINER, max_size=4, unique_by=lambda c: str(c["name"])),
                "volumes": st.lists(
                    st.fixed_dictionaries(
                        {"name": NAMES}, optional={"emptyDir": JSON, "secret": JSON}
                    ),
                    max_size=3,
                    unique_by=lambda v: str(v["name"]),
                ),
                "tolerations": st.lists(st.dictionaries(NAMES, SHORT, max_size=2), max_size=3),
                "priority": JSON,
            },
        ),
    },
)


@settings(max_examples=300, deadline=None)
@given(POD_DOCS, POD_DOCS)
def test_two_way_patch_round_trips(a: dict[str, Any], b: dict[str, Any]) -> None:
    a_before = copy.deepcopy(a)
    patch = create_two_way_patch(a, b, POD)
    json.dumps(patch)  # a patch is plain JSON
    assert json_equal(apply_strategic_merge_patch(a, patch, POD), b)
    assert json_equal(a, a_before)


@given(POD_DOCS)
def test_two_way_patch_of_identical_docs_is_empty(a: dict[str, Any]) -> None:
    assert create_two_way_patch(a, copy.deepcopy(a), POD) == {}
