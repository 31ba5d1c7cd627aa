"""The official ``kubernetes`` client against the embedded API server: CRUD, patches, watch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException
from tests.conftest import ClusterProcess


@pytest.fixture(scope="module")
def api(cluster: ClusterProcess) -> Iterator[client.ApiClient]:
    api_client = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield api_client
    api_client.close()


def _deployment(name: str, image: str = "nginx:1.25", replicas: int = 2) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {"name": "web", "image": image, "ports": [{"containerPort": 80}]}
                    ]
                },
            },
        },
    }


def test_crud_and_defaults(api: client.ApiClient, namespace: str) -> None:
    apps = client.AppsV1Api(api)
    created = apps.create_namespaced_deployment(namespace, _deployment("web"))
    assert created.metadata.uid and created.metadata.generation == 1
    assert created.spec.revision_history_limit == 10
    assert created.spec.strategy.rolling_update.max_surge == "25%"
    container = created.spec.template.spec.containers[0]
    assert container.image_pull_policy == "IfNotPresent"
    assert container.ports[0].protocol == "TCP"
    created.spec.replicas = 3
    updated = apps.replace_namespaced_deployment("web", namespace, created)
    assert updated.metadata.generation == 2
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)
    stale = created
    stale.spec.replicas = 5
    with pytest.raises(ApiException) as conflict:
        apps.replace_namespaced_deployment("web", namespace, stale)
    assert conflict.value.status == 409
    apps.delete_namespaced_deployment("web", namespace)
    with pytest.raises(ApiException) as gone:
        apps.read_namespaced_deployment("web", namespace)
    assert gone.value.status == 404


def test_every_patch_type(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "svc"},
        "spec": {"selector": {"app": "x"}, "ports": [{"port": 80, "name": "http"}]},
    }
    core.create_namespaced_service(namespace, svc)
    patched = core.patch_namespaced_service(
        "svc", namespace, {"spec": {"ports": [{"port": 443, "name": "https"}]}}
    )
    assert sorted(p.port for p in patched.spec.ports) == [80, 443]  # strategic: merged by port
    merged = core.patch_namespaced_service(
        "svc",
        namespace,
        {"metadata": {"labels": {"tier": "front"}}},
        _content_type="application/merge-patch+json",
    )
    assert merged.metadata.labels == {"tier": "front"}
    json_patched = core.patch_namespaced_service(
        "svc", namespace, [{"op": "replace", "path": "/metadata/labels/tier", "value": "back"}]
    )
    assert json_patched.metadata.labels == {"tier": "back"}
    with pytest.raises(ApiException) as failed:
        core.patch_namespaced_service(
            "svc", namespace, [{"op": "test", "path": "/metadata/labels/tier", "value": "no"}]
        )
    assert failed.value.status == 422


def test_server_side_apply_removes_fields_it_no_longer_applies(
    api: client.ApiClient, namespace: str
) -> None:
    dyn = dynamic.DynamicClient(api)
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "applied", "namespace": namespace},
        "data": {"a": "1", "b": "2"},
    }
    first = cms.server_side_apply(body=body, field_manager="tester")
    assert first.metadata.managedFields[0].manager == "tester"
    body["data"] = {"a": "1"}
    second = cms.server_side_apply(body=body, field_manager="tester")
    assert dict(second.data) == {"a": "1"}


def test_list_pagination_and_selectors(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    for i in range(7):
        core.create_namespaced_config_map(
            namespace,
            {
                "metadata": {
                    "name": f"cm-{i}",
                    "labels": {"parity": "even" if i % 2 == 0 else "odd"},
                },
                "data": {"i": str(i)},
            },
        )
    names: list[str] = []
    token = None
    while True:
        page = core.list_namespaced_config_map(namespace, limit=3, _continue=token)
        names += [c.metadata.name for c in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == [f"cm-{i}" for i in range(7)]
    even = core.list_namespaced_config_map(namespace, label_selector="parity=even")
    assert [c.metadata.name for c in even.items] == ["cm-0", "cm-2", "cm-4", "cm-6"]
    by_name = core.list_namespaced_config_map(namespace, field_selector="metadata.name=cm-3")
    assert [c.metadata.name for c in by_name.items] == ["cm-3"]
    core.delete_collection_namespaced_config_map(namespace, label_selector="parity=odd")
    rest = core.list_namespaced_config_map(namespace)
    assert [c.metadata.name for c in rest.items] == ["cm-0", "cm-2", "cm-4", "cm-6"]


def test_watch_replays_from_a_list_revision(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    listed = core.list_namespaced_config_map(namespace)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "w"}})
    core.patch_namespaced_config_map("w", namespace, {"data": {"x": "1"}})
    core.delete_namespaced_config_map("w", namespace)
    events = [
        (e["type"], e["object"].metadata.name)
        for e in watch.Watch().stream(
            core.list_namespaced_config_map,
            namespace,
            resource_version=listed.metadata.resource_version,
            timeout_seconds=1,
        )
    ]
    assert events == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_dry_run_stores_nothing(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    obj = core.create_namespaced_config_map(namespace, {"metadata": {"name": "dry"}}, dry_run="All")
    assert obj.metadata.name == "dry"
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("dry", namespace)
    assert missing.value.status == 404


def test_custom_resources(api: client.ApiClient, namespace: str) -> None:
    group = f"g{uuid.uuid4().hex[:6]}.example.com"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"crontabs.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {
                "plural": "crontabs",
                "singular": "crontab",
                "kind": "CronTab",
                "shortNames": ["ct"],
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {
                                        "cronSpec": {"type": "string"},
                                        "replicas": {"type": "integer", "minimum": 1, "default": 1},
                                        "port": {"x-kubernetes-int-or-string": True},
                                    },
                                    "required": ["cronSpec"],
                                }
                            },
                        }
                    },
                    "subresources": {"status": {}},
                }
            ],
        },
    }
    ext = client.ApiextensionsV1Api(api)
    created = ext.create_custom_resource_definition(crd)
    established = {c.type: c.status for c in created.status.conditions}
    assert established["Established"] == "True"
    custom = client.CustomObjectsApi(api)
    obj = custom.create_namespaced_custom_object(
        group,
        "v1",
        namespace,
        "crontabs",
        {
            "apiVersion": f"{group}/v1",
            "kind": "CronTab",
            "metadata": {"name": "ct1"},
            "spec": {"cronSpec": "* * * * */5", "port": "http", "unknown": "dropped"},
        },
    )
    assert obj["spec"]["replicas"] == 1 and "unknown" not in obj["spec"]
    with pytest.raises(ApiException) as invalid:
        custom.create_namespaced_custom_object(
            group,
            "v1",
            namespace,
            "crontabs",
            {
                "apiVersion": f"{group}/v1",
                "kind": "CronTab",
                "metadata": {"name": "ct2"},
                "spec": {"replicas": 0},
            },
        )
    assert invalid.value.status == 422
    ext.delete_custom_resource_definition(f"crontabs.{group}")
