"""Strategic-merge metadata of built-in kinds, and the CRD-schema reader for server-side apply."""

from __future__ import annotations

import pytest

from atoll.kube.patchmeta import (
    CUSTOM_RESOURCE_META,
    LEAF,
    PatchMeta,
    meta_from_openapi_schema,
    patch_meta_for,
)


def walk(meta: PatchMeta | None, *path: str) -> PatchMeta:
    assert meta is not None
    for name in path:
        meta = meta.element if name == "[]" else meta.child(name)
    return meta


POD_SPEC_PATHS = {
    "Deployment": ("apps", ("spec", "template", "spec")),
    "ReplicaSet": ("apps", ("spec", "template", "spec")),
    "StatefulSet": ("apps", ("spec", "template", "spec")),
    "DaemonSet": ("apps", ("spec", "template", "spec")),
    "Job": ("batch", ("spec", "template", "spec")),
    "CronJob": ("batch", ("spec", "jobTemplate", "spec", "template", "spec")),
    "ReplicationController": ("", ("spec", "template", "spec")),
    "PodTemplate": ("", ("template", "spec")),
    "Pod": ("", ("spec",)),
}


@pytest.mark.parametrize("kind", sorted(POD_SPEC_PATHS))
def test_every_workload_reaches_the_pod_spec(kind: str) -> None:
    group, path = POD_SPEC_PATHS[kind]
    spec = walk(patch_meta_for(group, kind), *path)
    for name in ("containers", "initContainers", "ephemeralContainers", "volumes"):
        assert (spec.child(name).list_strategy, spec.child(name).merge_key) == ("merge", "name")
    assert spec.child("imagePullSecrets").merge_key == "name"
    assert spec.child("hostAliases").merge_key == "ip"
    assert spec.child("topologySpreadConstraints").merge_key == "topologyKey"
    assert spec.child("tolerations").smp_merges is False
    assert spec.child("volumes").element.retain_keys is True


def test_container_lists() -> None:
    container = walk(
        patch_meta_for("apps", "Deployment"), "spec", "template", "spec", "containers", "[]"
    )
    assert container.child("ports").merge_key == "containerPort"
    assert container.child("env").merge_key == "name"
    assert container.child("volumeMounts").merge_key == "mountPath"
    assert container.child("volumeDevices").merge_key == "devicePath"
    for replaced in ("args", "command", "envFrom"):
        assert container.child(replaced).smp_merges is False
        assert container.child(replaced).ssa_list_type == "atomic"


def test_ports_are_keyed_by_port_and_protocol_for_apply() -> None:
    ports = walk(patch_meta_for("", "Pod"), "spec", "containers", "[]", "ports")
    assert ports.ssa_list_type == "map"
    assert ports.ssa_keys == ("containerPort", "protocol")
    assert ports.key_defaults == {"protocol": "TCP"}
    service_ports = walk(patch_meta_for("", "Service"), "spec", "ports")
    assert (service_ports.merge_key, service_ports.ssa_keys) == ("port", ("port", "protocol"))


def test_object_meta_on_every_kind() -> None:
    for group, kind in [
        ("", "ConfigMap"),
        ("", "Secret"),
        ("", "Namespace"),
        ("apps", "Deployment"),
    ]:
        metadata = walk(patch_meta_for(group, kind), "metadata")
        assert metadata.child("finalizers").ssa_list_type == "set"
        assert metadata.child("finalizers").merge_key is None
        assert metadata.child("ownerReferences").merge_key == "uid"
        assert metadata.child("labels").child("app") is LEAF


@pytest.mark.parametrize(
    ("group", "kind"),
    [("", "Pod"), ("", "Node"), ("apps", "Deployment"), ("batch", "Job"), ("", "Namespace")],
)
def test_status_conditions_merge_by_type(group: str, kind: str) -> None:
    assert walk(patch_meta_for(group, kind), "status", "conditions").merge_key == "type"


def test_specific_kinds() -> None:
    assert walk(patch_meta_for("", "Node"), "status", "addresses").merge_key == "type"
    assert walk(patch_meta_for("", "Node"), "spec", "podCIDRs").ssa_list_type == "set"
    assert walk(patch_meta_for("apps", "Deployment"), "spec", "strategy").retain_keys is True
    assert walk(patch_meta_for("", "Endpoints"), "subsets").smp_merges is False
    assert walk(patch_meta_for("", "ServiceAccount"), "secrets").merge_key == "name"
    assert walk(patch_meta_for("", "ConfigMap"), "data", "key") is LEAF


def test_ssa_only_map_lists_do_not_merge_in_smp() -> None:
    conditions = walk(
        patch_meta_for("apiextensions.k8s.io", "CustomResourceDefinition"), "status", "conditions"
    )
    assert conditions.smp_merges is False
    assert (conditions.ssa_list_type, conditions.ssa_keys) == ("map", ("type",))


def test_unknown_kinds_are_not_built_in() -> None:
    assert patch_meta_for("example.com", "Widget") is None
    assert patch_meta_for("", "Widget") is None
    assert patch_meta_for("apps", "Pod") is None


def test_custom_resource_default_meta() -> None:
    assert CUSTOM_RESOURCE_META.child("spec").child("items").ssa_list_type == "atomic"
    assert walk(CUSTOM_RESOURCE_META, "metadata", "finalizers").ssa_list_type == "set"


def test_meta_from_openapi_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "ports": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["port", "protocol"],
                        "items": {
                            "type": "object",
                            "properties": {
                                "port": {"type": "integer"},
                                "protocol": {"type": "string", "default": "TCP"},
                            },
                        },
                    },
                    "tags": {"type": "array", "x-kubernetes-list-type": "set"},
                    "args": {"type": "array", "items": {"type": "string"}},
                    "byName": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "array",
                            "x-kubernetes-patch-strategy": "merge",
                            "x-kubernetes-patch-merge-key": "id",
                        },
                    },
                },
            }
        },
    }
    meta = meta_from_openapi_schema(schema)
    ports = walk(meta, "spec", "ports")
    assert (ports.ssa_list_type, ports.ssa_keys) == ("map", ("port", "protocol"))
    assert ports.key_defaults == {"protocol": "TCP"}
    assert walk(meta, "spec", "tags").ssa_list_type == "set"
    assert walk(meta, "spec", "args").ssa_list_type == "atomic"
    by_name = walk(meta, "spec", "byName", "anything")
    assert (by_name.ssa_list_type, by_name.ssa_keys) == ("map", ("id",))
    assert walk(meta, "metadata", "ownerReferences").merge_key == "uid"
