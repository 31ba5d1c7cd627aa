"""Server-side apply and managedFields bookkeeping, as kube-apiserver does them."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atoll.errors import BadRequest, Conflict
from atoll.kube.applying import managed_entries, record_update, server_side_apply
from atoll.kube.fieldsets import json_equal
from atoll.kube.patchmeta import PatchMeta, patch_meta_for

T0, T1, T2, T3 = (f"2021-01-0{d}T00:00:00Z" for d in range(1, 5))


def meta(group: str, kind: str) -> PatchMeta:
    found = patch_meta_for(group, kind)
    assert found is not None
    return found


DEPLOYMENT = meta("apps", "Deployment")
CONFIGMAP = meta("", "ConfigMap")


def deployment(replicas: int = 2, *containers: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": list(containers) or [{"name": "web", "image": "nginx"}]},
            },
        },
    }


def configmap(**data: str) -> dict[str, Any]:
    config: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}
    return config | {"data": data} if data else config


def apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    manager: str = "kubectl",
    *,
    kind_meta: PatchMeta | None = DEPLOYMENT,
    force: bool = False,
    now: str = T1,
) -> dict[str, Any]:
    return server_side_apply(
        live, applied, manager=manager, meta=kind_meta, api_version="apps/v1", now=now, force=force
    )


def owners(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{e['manager']}/{e['operation']}": e["fieldsV1"] for e in obj["metadata"]["managedFields"]
    }


def test_create_by_apply_records_the_applier() -> None:
    created = apply(None, deployment())
    expected = deployment()
    expected["metadata"]["managedFields"] = [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": T1,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {"f:matchLabels": {"f:app": {}}},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"web"}': {".": {}, "f:image": {}, "f:name": {}}
                            }
                        },
                    },
                },
            },
        }
    ]
    assert created == expected


def test_apply_configuration_is_cleaned_and_untouched() -> None:
    config = configmap(a="1")
    config["data"]["b"] = None
    config["metadata"].update(resourceVersion="5", managedFields=[{"manager": "x"}], uid="u")
    before = copy.deepcopy(config)
    created = apply(None, config, kind_meta=CONFIGMAP)
    assert config == before
    assert created["data"] == {"a": "1"}
    assert set(created["metadata"]) == {"name", "managedFields"}


def test_reapply_without_a_field_removes_it() -> None:
    live = apply(None, configmap(a="1", b="2"), kind_meta=CONFIGMAP)
    live["metadata"]["labels"] = {"unowned": "stays"}
    result = apply(live, configmap(a="1"), kind_meta=CONFIGMAP, now=T2)
    assert result["data"] == {"a": "1"}
    assert result["metadata"]["labels"] == {"unowned": "stays"}
    assert owners(result) == {"kubectl/Apply": {"f:data": {"f:a": {}}}}
    assert result["metadata"]["managedFields"][0]["time"] == T2


def test_reapply_without_a_container_removes_it_and_keeps_others() -> None:
    two = deployment(
        2, {"name": "web", "image": "a", "env": [{"name": "X", "value": "1"}]}, {"name": "side"}
    )
    live = apply(None, two)
    result = apply(live, deployment(2, {"name": "web", "image": "a"}))
    assert result["spec"]["template"]["spec"]["containers"] == [{"name": "web", "image": "a"}]


def test_shared_field_survives_until_every_owner_lets_go() -> None:
    live = apply(None, configmap(shared="1", mine="2"), "alice", kind_meta=CONFIGMAP)
    live = apply(live, configmap(shared="1"), "bob", kind_meta=CONFIGMAP)
    assert set(owners(live)) == {"alice/Apply", "bob/Apply"}
    live = apply(live, configmap(mine="2"), "alice", kind_meta=CONFIGMAP)
    assert live["data"] == {"shared": "1", "mine": "2"}
    live = apply(live, configmap(), "bob", kind_meta=CONFIGMAP)
    assert live["data"] == {"mine": "2"}
    assert set(owners(live)) == {"alice/Apply"}


def client_side_created() -> dict[str, Any]:
    """What `kubectl apply` (client-side) leaves: one Update entry owning everything."""
    return record_update(
        None,
        deployment(),
        manager="kubectl-client-side-apply",
        api_version="apps/v1",
        now=T0,
        meta=DEPLOYMENT,
    )


def test_conflict_without_force_uses_kubes_message() -> None:
    live = client_side_created()
    with pytest.raises(Conflict) as caught:
        apply(live, deployment(replicas=3))
    error = caught.value
    assert error.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" '
        "using apps/v1: .spec.replicas"
    )
    assert error.to_status()["details"] == {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
                "field": ".spec.replicas",
            }
        ]
    }


def test_several_conflicts_are_grouped_by_manager() -> None:
    live = client_side_created()
    labelled = copy.deepcopy(live)
    labelled["metadata"]["labels"]["team"] = "a"
    live = record_update(
        live, labelled, manager="kubectl-label", api_version="apps/v1", now=T1, meta=DEPLOYMENT
    )
    changed = deployment(3, {"name": "web", "image": "httpd"})
    changed["metadata"]["labels"]["team"] = "b"
    with pytest.raises(Conflict) as caught:
        apply(live, changed)
    assert caught.value.message == (
        "Apply failed with 3 conflicts: "
        'conflicts with "kubectl-client-side-apply" using apps/v1:\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="web"].image\n'
        'conflicts with "kubectl-label" using apps/v1:\n'
        "- .metadata.labels.team"
    )


def test_same_value_is_shared_not_a_conflict() -> None:
    live = client_side_created()
    result = apply(live, deployment())
    assert set(owners(result)) == {"kubectl/Apply", "kubectl-client-side-apply/Update"}
    assert owners(result)["kubectl-client-side-apply/Update"]["f:spec"]["f:replicas"] == {}


def test_force_transfers_ownership() -> None:
    live = client_side_created()
    result = apply(live, deployment(replicas=3), force=True)
    assert result["spec"]["replicas"] == 3
    entries = {e.manager: e for e in managed_entries(result)}
    assert ("f:spec", "f:replicas") in entries["kubectl"].fields
    assert ("f:spec", "f:replicas") not in entries["kubectl-client-side-apply"].fields
    assert ("f:spec", "f:selector", "f:matchLabels", "f:app") in entries[
        "kubectl-client-side-apply"
    ].fields


def test_conflicts_between_appliers_name_no_version() -> None:
    live = apply(None, configmap(a="1"), "alice", kind_meta=CONFIGMAP)
    with pytest.raises(
        Conflict, match=r'^Apply failed with 1 conflict: conflict with "alice": \.data\.a$'
    ):
        apply(live, configmap(a="2"), "bob", kind_meta=CONFIGMAP)


def test_objects_without_managed_fields_belong_to_before_first_apply() -> None:
    with pytest.raises(
        Conflict, match=r'conflict with "before-first-apply" using apps/v1: \.spec\.replicas'
    ):
        apply(deployment(), deployment(replicas=5))
    result = apply(deployment(), deployment(replicas=5), force=True)
    assert set(owners(result)) == {"kubectl/Apply", "before-first-apply/Update"}


def test_containers_merge_by_name() -> None:
    live = apply(None, deployment(2, {"name": "web", "image": "a"}))
    with_sidecar = copy.deepcopy(live)
    with_sidecar["spec"]["template"]["spec"]["containers"].append(
        {"name": "istio", "image": "proxy"}
    )
    live = record_update(
        live, with_sidecar, manager="injector", api_version="apps/v1", now=T1, meta=DEPLOYMENT
    )
    result = apply(live, deployment(2, {"name": "web", "image": "b", "args": ["-v"]}), now=T2)
    assert result["spec"]["template"]["spec"]["containers"] == [
        {"name": "web", "image": "b", "args": ["-v"]},
        {"name": "istio", "image": "proxy"},
    ]


def test_live_only_elements_keep_their_place() -> None:
    live = deployment(1, {"name": "a"}, {"name": "x"}, {"name": "b"})
    live["metadata"]["managedFields"] = []
    result = apply(live, deployment(1, {"name": "b"}, {"name": "a"}, {"name": "c"}), force=True)
    names = [c["name"] for c in result["spec"]["template"]["spec"]["containers"]]
    assert names == ["b", "a", "x", "c"]


def test_finalizers_apply_as_a_set() -> None:
    live = apply(
        None, {"metadata": {"name": "cm", "finalizers": ["a"]}}, "alice", kind_meta=CONFIGMAP
    )
    live = apply(
        live, {"metadata": {"name": "cm", "finalizers": ["b"]}}, "bob", kind_meta=CONFIGMAP
    )
    assert live["metadata"]["finalizers"] == ["a", "b"]
    live = apply(live, {"metadata": {"name": "cm"}}, "alice", kind_meta=CONFIGMAP)
    assert live["metadata"]["finalizers"] == ["b"]
    assert owners(live) == {"bob/Apply": {"f:metadata": {"f:finalizers": {'v:"b"': {}}}}}


def test_custom_resources_treat_lists_as_atomic() -> None:
    cr = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    live = apply(None, cr | {"spec": {"items": [{"name": "a"}, {"name": "b"}]}}, kind_meta=None)
    result = apply(live, cr | {"spec": {"items": [{"name": "c"}]}}, kind_meta=None)
    assert result["spec"]["items"] == [{"name": "c"}]
    assert owners(result)["kubectl/Apply"] == {"f:spec": {"f:items": {}}}


def test_invalid_apply_requests() -> None:
    with pytest.raises(BadRequest, match="fieldManager"):
        server_side_apply(
            None, configmap(), manager="", meta=CONFIGMAP, api_version="v1", now=T0, force=False
        )
    with pytest.raises(BadRequest, match="must be an object"):
        apply(None, [configmap()])  # type: ignore[arg-type]
    with pytest.raises(BadRequest, match="duplicate entries"):
        apply(None, deployment(1, {"name": "a"}, {"name": "a"}))


def test_record_update_on_create_owns_every_field() -> None:
    created = client_side_created()
    [entry] = created["metadata"]["managedFields"]
    assert {k: v for k, v in entry.items() if k != "fieldsV1"} == {
        "manager": "kubectl-client-side-apply",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": T0,
        "fieldsType": "FieldsV1",
    }
    assert (
        entry["fieldsV1"] == apply(None, deployment())["metadata"]["managedFields"][0]["fieldsV1"]
    )


def test_record_update_moves_changed_fields_and_drops_removed_ones() -> None:
    old = client_side_created()
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    del new["metadata"]["labels"]
    new["status"] = {"replicas": 5}
    result = record_update(
        old, new, manager="kubectl-scale", api_version="apps/v1", now=T2, meta=DEPLOYMENT
    )
    scale, csa = (
        owners(result)["kubectl-scale/Update"],
        owners(result)["kubectl-client-side-apply/Update"],
    )
    assert scale == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in csa["f:spec"]
    assert "f:metadata" not in csa
    assert new["metadata"].get("managedFields") == old["metadata"]["managedFields"]


def test_record_update_without_changes_keeps_entries() -> None:
    old = client_side_created()
    new = copy.deepcopy(old)
    new["status"] = {"observedGeneration": 1}
    result = record_update(
        old, new, manager="controller", api_version="apps/v1", now=T3, meta=DEPLOYMENT
    )
    assert result["metadata"]["managedFields"] == old["metadata"]["managedFields"]


def test_record_update_copies_only_metadata_and_rewrites_only_changed_entries() -> None:
    old = client_side_created()
    labelled = copy.deepcopy(old)
    labelled["metadata"]["labels"]["team"] = "a"
    old = record_update(
        old, labelled, manager="kubectl-label", api_version="apps/v1", now=T1, meta=DEPLOYMENT
    )
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    result = record_update(
        old, new, manager="kubectl-scale", api_version="apps/v1", now=T2, meta=DEPLOYMENT
    )
    assert result["spec"] is new["spec"] and result["metadata"] is not new["metadata"]
    csa, label, scale = result["metadata"]["managedFields"]
    assert label["manager"] == "kubectl-label" and scale["manager"] == "kubectl-scale"
    # The labeller's entry is untouched: its rendering (sent back as stored) is kept.
    assert label["fieldsV1"] is new["metadata"]["managedFields"][1]["fieldsV1"]
    assert csa["fieldsV1"] is not new["metadata"]["managedFields"][0]["fieldsV1"]
    assert "f:replicas" not in csa["fieldsV1"]["f:spec"]


def test_record_update_honours_sent_entries_and_reset() -> None:
    old = client_side_created()
    new = copy.deepcopy(old)
    new["metadata"]["managedFields"] = [{}]
    assert (
        "managedFields"
        not in record_update(old, new, manager="m", api_version="v1", now=T1)["metadata"]
    )
    new["metadata"]["managedFields"] = []
    kept = record_update(old, new, manager="m", api_version="v1", now=T1)
    assert kept["metadata"]["managedFields"] == old["metadata"]["managedFields"]
    sent = {
        "manager": "imported",
        "operation": "Update",
        "apiVersion": "v1",
        "fieldsV1": {"f:data": {}},
    }
    new["metadata"]["managedFields"] = [sent]
    assert owners(record_update(old, new, manager="m", api_version="v1", now=T1)) == {
        "imported/Update": {"f:data": {}}
    }


def test_entries_are_sorted_apply_first_then_by_time() -> None:
    live = client_side_created()
    live = apply(live, configmap(), "zed", kind_meta=DEPLOYMENT, now=T3)
    live = apply(live, deployment(), "amy", now=T2)
    order = [(e["operation"], e["manager"]) for e in live["metadata"]["managedFields"]]
    assert order == [("Apply", "amy"), ("Update", "kubectl-client-side-apply")]


def test_lightkube_apply_sequence() -> None:
    """The data changes lightkube's e2e ``test_apply`` makes through one field manager."""
    live = apply(None, configmap(key1="value1", key2="value2"), "lightkube", kind_meta=CONFIGMAP)
    live = apply(live, configmap(key2="new value", key3="value3"), "lightkube", kind_meta=CONFIGMAP)
    assert live["data"] == {"key2": "new value", "key3": "value3"}
    cleared = apply(live, configmap(), "lightkube", kind_meta=CONFIGMAP)
    assert "data" not in cleared
    assert "managedFields" not in cleared["metadata"]
    emptied = apply(live, configmap() | {"data": {}}, "lightkube", kind_meta=CONFIGMAP)
    assert emptied["data"] == {}
    again = apply(emptied, configmap(key1="new value"), "lightkube", kind_meta=CONFIGMAP)
    assert again["data"] == {"key1": "new value"}


def test_noop_reapply_changes_nothing_not_even_the_time() -> None:
    live = apply(None, deployment(), now=T1)
    assert apply(live, deployment(), now=T3) == live
    changed = apply(live, deployment(replicas=4), now=T3)
    assert changed["metadata"]["managedFields"][0]["time"] == T3


NAMES = st.sampled_from(["a", "b", "c", "d"])
LEAVES = st.one_of(st.integers(0, 3), st.booleans(), st.text(alphabet="xy", max_size=2))
CONTAINERS = st.lists(
    st.fixed_dictionaries(
        {"name": NAMES},
        optional={
            "image": LEAVES,
            "args": st.lists(LEAVES, max_size=2),
            "env": st.lists(
                st.fixed_dictionaries({"name": NAMES}, optional={"value": LEAVES}),
                unique_by=lambda e: str(e["name"]),
                max_size=3,
            ),
            "resources": st.dictionaries(NAMES, LEAVES, max_size=2),
        },
    ),
    unique_by=lambda c: str(c["name"]),
    max_size=3,
)
CONFIGS = st.fixed_dictionaries(
    {
        "metadata": st.fixed_dictionaries(
            {"name": st.just("web")},
            optional={
                "labels": st.dictionaries(NAMES, LEAVES, max_size=3),
                "finalizers": st.lists(NAMES, unique=True, max_size=3),
            },
        )
    },
    optional={
        "spec": st.fixed_dictionaries(
            {},
            optional={
                "replicas": LEAVES,
                "template": st.fixed_dictionaries(
                    {},
                    optional={
                        "spec": st.fixed_dictionaries({}, optional={"containers": CONTAINERS})
                    },
                ),
            },
        )
    },
)


@settings(max_examples=200, deadline=None)
@given(CONFIGS, CONFIGS)
def test_sole_applier_gets_exactly_its_configuration(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    live = apply(None, first)
    result = apply(live, second, now=T2)
    result["metadata"].pop("managedFields", None)
    assert json_equal(result, second)
