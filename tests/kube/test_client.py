"""KubeClient against the embedded cluster: CRUD, every patch type, errors, watches, discovery."""

from __future__ import annotations

import contextlib
import logging
import socket
from typing import Any

import pytest
from tests.conftest import ClusterProcess

from atoll.errors import (
    AlreadyExists,
    BadRequest,
    Conflict,
    Expired,
    InternalError,
    Invalid,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from atoll.kube.client import (
    ConnectionFailed,
    KubeClient,
    ResourceType,
    error_from_response,
    error_from_status,
)
from atoll.kube.kubeconfig import ClusterConfig

CONFIGMAPS = ResourceType("", "v1", "configmaps", "ConfigMap", True)
DEPLOYMENTS = ResourceType("apps", "v1", "deployments", "Deployment", True)
NAMESPACES = ResourceType("", "v1", "namespaces", "Namespace", False)


def configmap(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}, "data": {"a": "1"}}


def deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    container = {"name": "web", "image": "nginx:1.25", "env": [{"name": "A", "value": "1"}]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


# --- addressing -----------------------------------------------------------------------------


def test_resource_type_paths() -> None:
    assert CONFIGMAPS.api_version == "v1"
    assert DEPLOYMENTS.api_version == "apps/v1"
    assert CONFIGMAPS.path() == "/api/v1/configmaps"
    assert CONFIGMAPS.path(namespace="ns") == "/api/v1/namespaces/ns/configmaps"
    assert (
        DEPLOYMENTS.path(namespace="ns", name="web", subresource="scale")
        == "/apis/apps/v1/namespaces/ns/deployments/web/scale"
    )
    assert NAMESPACES.path(namespace="ignored", name="a b") == "/api/v1/namespaces/a%20b"


# --- CRUD -----------------------------------------------------------------------------------


async def test_create_get_list_replace_delete(kube: KubeClient, namespace: str) -> None:
    created = await kube.create(CONFIGMAPS, configmap("one", app="x"), namespace=namespace)
    assert created["metadata"]["namespace"] == namespace
    await kube.create(
        CONFIGMAPS, {**configmap("two"), "metadata": {"name": "two", "namespace": namespace}}
    )
    got = await kube.get(CONFIGMAPS, "one", namespace=namespace)
    assert got["data"] == {"a": "1"}

    listed = await kube.list(CONFIGMAPS, namespace=namespace, label_selector="app=x")
    assert [o["metadata"]["name"] for o in listed["items"]] == ["one"]
    assert listed["metadata"]["resourceVersion"]

    got["data"]["a"] = "2"
    replaced = await kube.replace(CONFIGMAPS, got, field_manager="tests")
    assert replaced["data"]["a"] == "2"
    with pytest.raises(Conflict) as stale:
        await kube.replace(CONFIGMAPS, got)  # got's resourceVersion is now stale
    assert stale.value.name == "one"

    status = await kube.delete(CONFIGMAPS, "one", namespace=namespace)
    assert status["status"] == "Success"
    with pytest.raises(NotFound):
        await kube.get(CONFIGMAPS, "one", namespace=namespace)


async def test_paged_list(kube: KubeClient, namespace: str) -> None:
    for i in range(5):
        await kube.create(CONFIGMAPS, configmap(f"cm-{i}"), namespace=namespace)
    names: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = await kube.list(CONFIGMAPS, namespace=namespace, limit=2, continue_=token)
        names += [o["metadata"]["name"] for o in page["items"]]
        pages += 1
        token = page["metadata"].get("continue")
        if not token:
            break
    assert names == [f"cm-{i}" for i in range(5)]
    assert pages == 3


async def test_dry_run_and_delete_collection(kube: KubeClient, namespace: str) -> None:
    await kube.create(CONFIGMAPS, configmap("dry"), namespace=namespace, dry_run=True)
    with pytest.raises(NotFound):
        await kube.get(CONFIGMAPS, "dry", namespace=namespace)
    for name in ("a", "b", "c"):
        await kube.create(
            CONFIGMAPS, configmap(name, tier="x" if name != "c" else "y"), namespace=namespace
        )
    await kube.delete_collection(CONFIGMAPS, namespace=namespace, label_selector="tier=x")
    left = await kube.list(CONFIGMAPS, namespace=namespace)
    assert [o["metadata"]["name"] for o in left["items"]] == ["c"]


async def test_delete_preconditions(kube: KubeClient, namespace: str) -> None:
    created = await kube.create(CONFIGMAPS, configmap("p"), namespace=namespace)
    with pytest.raises(Conflict):
        await kube.delete(CONFIGMAPS, "p", namespace=namespace, preconditions={"uid": "other"})
    uid = created["metadata"]["uid"]
    await kube.delete(
        CONFIGMAPS, "p", namespace=namespace, preconditions={"uid": uid}, grace_period_seconds=0
    )


async def test_replace_status(kube: KubeClient, namespace: str) -> None:
    created = await kube.create(DEPLOYMENTS, deployment("web"), namespace=namespace)
    created["status"] = {"observedGeneration": 1, "replicas": 0}
    created["spec"]["replicas"] = 5  # ignored by the status subresource
    updated = await kube.replace_status(DEPLOYMENTS, created)
    assert updated["status"]["observedGeneration"] == 1
    assert updated["spec"]["replicas"] == 1


# --- patches --------------------------------------------------------------------------------


async def test_merge_and_json_patches(kube: KubeClient, namespace: str) -> None:
    await kube.create(CONFIGMAPS, configmap("m"), namespace=namespace)
    merged = await kube.patch(CONFIGMAPS, "m", {"data": {"b": "2", "a": None}}, namespace=namespace)
    assert merged["data"] == {"b": "2"}
    ops = [{"op": "add", "path": "/data/c", "value": "3"}, {"op": "remove", "path": "/data/b"}]
    patched = await kube.patch(CONFIGMAPS, "m", ops, namespace=namespace, patch_type="json")
    assert patched["data"] == {"c": "3"}
    with pytest.raises(Invalid):  # kube answers 422 for a failed test operation
        bad = [{"op": "test", "path": "/data/c", "value": "nope"}]
        await kube.patch(CONFIGMAPS, "m", bad, namespace=namespace, patch_type="json")


async def test_strategic_merge_patch_merges_lists_by_key(kube: KubeClient, namespace: str) -> None:
    await kube.create(DEPLOYMENTS, deployment("s"), namespace=namespace)
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "web", "env": [{"name": "B", "value": "2"}]}]}
            }
        }
    }
    patched = await kube.patch(DEPLOYMENTS, "s", patch, namespace=namespace, patch_type="strategic")
    (container,) = patched["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "nginx:1.25"
    assert {e["name"] for e in container["env"]} == {"A", "B"}


async def test_server_side_apply_conflicts_and_force(kube: KubeClient, namespace: str) -> None:
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ap"}, "data": {"k": "1"}}
    applied = await kube.patch(
        CONFIGMAPS, "ap", doc, namespace=namespace, patch_type="apply", field_manager="one"
    )
    assert applied["data"] == {"k": "1"}
    doc["data"] = {"k": "2"}
    with pytest.raises(Conflict):
        await kube.patch(
            CONFIGMAPS, "ap", doc, namespace=namespace, patch_type="apply", field_manager="two"
        )
    forced = await kube.patch(
        CONFIGMAPS,
        "ap",
        doc,
        namespace=namespace,
        patch_type="apply",
        field_manager="two",
        force=True,
    )
    assert forced["data"] == {"k": "2"}
    with pytest.raises(ValueError, match="field_manager"):
        await kube.patch(CONFIGMAPS, "ap", doc, namespace=namespace, patch_type="apply")


# --- errors ---------------------------------------------------------------------------------


async def test_errors_map_to_classes(kube: KubeClient, namespace: str) -> None:
    with pytest.raises(NotFound) as missing:
        await kube.get(CONFIGMAPS, "absent", namespace=namespace)
    assert missing.value.code == 404
    assert missing.value.message == 'configmaps "absent" not found'
    assert (missing.value.name, missing.value.kind) == ("absent", "configmaps")

    await kube.create(CONFIGMAPS, configmap("dup"), namespace=namespace)
    with pytest.raises(AlreadyExists):
        await kube.create(CONFIGMAPS, configmap("dup"), namespace=namespace)

    with pytest.raises(Invalid) as invalid:
        await kube.create(CONFIGMAPS, configmap("Not_Valid"), namespace=namespace)
    assert invalid.value.causes and invalid.value.causes[0].field == "metadata.name"

    with pytest.raises(BadRequest):
        await kube.list(CONFIGMAPS, namespace=namespace, label_selector="a in (")

    with pytest.raises(ValueError, match="namespaced"):
        await kube.get(CONFIGMAPS, "x")


async def test_bad_token_is_unauthorized(cluster: ClusterProcess) -> None:
    config = ClusterConfig.from_kubeconfig(cluster.kubeconfig)
    wrong = ClusterConfig(config.server, token="wrong", ca_data=config.ca_data)
    async with KubeClient(wrong) as client:
        with pytest.raises(Unauthorized):
            await client.list(CONFIGMAPS, namespace="default")


async def test_unreachable_server_is_a_retryable_connection_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when we connect
    async with KubeClient(ClusterConfig(f"http://127.0.0.1:{port}"), request_timeout=5) as client:
        with pytest.raises(ConnectionFailed) as failed:
            await client.get(NAMESPACES, "default")
        assert isinstance(failed.value, ServiceUnavailable)
        with pytest.raises(ConnectionFailed):
            async for _ in client.watch_stream(NAMESPACES, timeout_seconds=1):
                pass


async def test_tokens_are_never_logged(
    kube: KubeClient, cluster: ClusterProcess, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await kube.get(NAMESPACES, "default")
        with pytest.raises(NotFound):
            await kube.get(NAMESPACES, "absent-namespace")
    assert caplog.records  # requests are logged at debug level
    assert cluster.token not in caplog.text


def test_status_bodies_map_to_classes_preserving_everything() -> None:
    status = {
        "kind": "Status",
        "status": "Failure",
        "message": "too old resource version: 1 (5)",
        "reason": "Expired",
        "code": 410,
    }
    assert type(error_from_status(status)) is Expired

    gone = error_from_status({**status, "reason": "Gone"})
    assert isinstance(gone, Expired)
    assert (gone.reason, gone.code, gone.message) == ("Gone", 410, status["message"])

    timeout = error_from_status({"reason": "Timeout", "code": 504, "message": "slow"})
    assert isinstance(timeout, ServiceUnavailable)
    assert (timeout.reason, timeout.code) == ("Timeout", 504)

    teapot = error_from_status({"reason": "Teapot", "code": 418})
    assert isinstance(teapot, BadRequest) and teapot.reason == "Teapot"
    assert type(error_from_status({"reason": "Teapot", "code": 418})) is type(teapot)

    details = {
        "name": "web",
        "group": "apps",
        "kind": "deployments",
        "causes": [{"reason": "FieldValueInvalid", "message": "bad", "field": "spec.replicas"}],
    }
    invalid = error_from_status({"reason": "Invalid", "code": 422, "details": details})
    assert isinstance(invalid, Invalid)
    assert invalid.details() == details


def test_error_responses_without_status_bodies() -> None:
    throttled = error_from_response(429, b"slow down", retry_after="7")
    assert isinstance(throttled, TooManyRequests)
    assert throttled.retry_after == 7
    assert throttled.message == "slow down"
    status = (
        b'{"kind":"Status","reason":"TooManyRequests","code":429,"details":{"retryAfterSeconds":3}}'
    )
    assert error_from_response(429, status, retry_after="9").retry_after == 3
    assert isinstance(error_from_response(502, b"<html>bad gateway</html>"), ServiceUnavailable)
    assert isinstance(error_from_response(500, b""), InternalError)
    assert isinstance(error_from_response(404, b"not json"), NotFound)


# --- watch and discovery --------------------------------------------------------------------


async def test_watch_stream_events(kube: KubeClient, namespace: str) -> None:
    listed = await kube.list(CONFIGMAPS, namespace=namespace)
    rv = listed["metadata"]["resourceVersion"]
    await kube.create(CONFIGMAPS, configmap("w"), namespace=namespace)
    await kube.patch(CONFIGMAPS, "w", {"data": {"a": "2"}}, namespace=namespace)
    await kube.delete(CONFIGMAPS, "w", namespace=namespace)
    seen: list[tuple[str, str]] = []
    stream = kube.watch_stream(
        CONFIGMAPS, namespace=namespace, resource_version=rv, timeout_seconds=5
    )
    async with contextlib.aclosing(stream):
        async for event in stream:
            seen.append((event["type"], event["object"]["data"]["a"]))
            if event["type"] == "DELETED":
                break
    assert seen == [("ADDED", "1"), ("MODIFIED", "2"), ("DELETED", "2")]


async def test_watch_stream_ends_with_the_server_timeout(kube: KubeClient, namespace: str) -> None:
    events = [
        e async for e in kube.watch_stream(CONFIGMAPS, namespace=namespace, timeout_seconds=1)
    ]
    assert all(e["type"] in ("ADDED", "BOOKMARK") for e in events)


async def test_discovery_and_lookup(kube: KubeClient) -> None:
    types = await kube.discover()
    assert CONFIGMAPS in types
    assert all("/" not in rt.plural for rt in types)
    assert await kube.resource_type("deployments.apps") == DEPLOYMENTS
    assert await kube.resource_type("Deployment") == DEPLOYMENTS
    assert await kube.resource_type(("apps", "v1", "Deployment")) == DEPLOYMENTS
    assert await kube.resource_type("namespaces") == NAMESPACES
    with pytest.raises(NotFound):
        await kube.resource_type("nothings.example.com")


async def test_request_escape_hatch(kube: KubeClient) -> None:
    version = await kube.request("GET", "/version")
    assert "gitVersion" in version
    assert isinstance(await kube.request("GET", "/healthz", accept="*/*"), str)
