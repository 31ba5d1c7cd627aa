"""lightkube's AsyncClient against the embedded API server, as an independent peer client.

lightkube reads no discovery and sends ``Content-Type: application/json`` and ``Accept: */*``
on every request; it applies with ``application/apply-patch+yaml``, watches without a
resourceVersion unless given one, and on an ERROR event raises ``ApiError`` (a 410 resets
its resourceVersion when ``on_error`` asks to retry).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.codecs import from_dict
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap
from lightkube.types import OnErrorAction, OnErrorResult, PatchType, on_error_retry
from tests.conftest import ClusterProcess, start_cluster

DEADLINE = 15.0


@pytest.fixture
async def kube(cluster: ClusterProcess) -> AsyncIterator[AsyncClient]:
    client = AsyncClient(config=KubeConfig.from_file(cluster.kubeconfig))
    yield client
    await client.close()


def _deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1.25", "env": [{"name": "A", "value": "1"}]}
                    ]
                },
            },
        },
    }


async def _collect(
    stream: AsyncIterator[tuple[str, Any]], *, until: str, count: int = 1
) -> list[tuple[str, Any]]:
    """Read watch events until ``count`` events of type ``until`` arrived (deadline-bounded)."""
    seen: list[tuple[str, Any]] = []

    async def read() -> None:
        async for event in stream:
            seen.append(event)
            if sum(1 for t, _ in seen if t == until) == count:
                return

    await asyncio.wait_for(read(), DEADLINE)
    await stream.aclose()  # type: ignore[attr-defined]
    return seen


async def test_create_get_list_delete(kube: AsyncClient, namespace: str) -> None:
    for i in range(3):
        cm = ConfigMap(
            metadata=ObjectMeta(name=f"cm-{i}", labels={"parity": "odd" if i % 2 else "even"}),
            data={"i": str(i)},
        )
        created = await kube.create(cm, namespace=namespace)
        assert created.metadata.uid and created.metadata.namespace == namespace
    got = await kube.get(ConfigMap, "cm-1", namespace=namespace)
    assert got.data == {"i": "1"}
    evens = [
        c.metadata.name
        async for c in kube.list(ConfigMap, namespace=namespace, labels={"parity": "even"})
    ]
    assert evens == ["cm-0", "cm-2"]
    chunked = kube.list(ConfigMap, namespace=namespace, chunk_size=2)
    assert [c.metadata.name async for c in chunked] == ["cm-0", "cm-1", "cm-2"]
    assert int(chunked.resourceVersion) >= int(got.metadata.resourceVersion)
    await kube.delete(ConfigMap, "cm-1", namespace=namespace)
    with pytest.raises(ApiError) as missing:
        await kube.get(ConfigMap, "cm-1", namespace=namespace)
    assert missing.value.status.code == 404
    assert missing.value.status.reason == "NotFound"
    assert missing.value.status.details.name == "cm-1"
    with pytest.raises(ApiError) as again:
        await kube.create(ConfigMap(metadata=ObjectMeta(name="cm-0")), namespace=namespace)
    assert again.value.status.code == 409 and again.value.status.reason == "AlreadyExists"


async def test_every_patch_type(kube: AsyncClient, namespace: str) -> None:
    await kube.create(from_dict(_deployment("web")), namespace=namespace)
    container = {"name": "web", "env": [{"name": "B", "value": "2"}]}
    strategic = await kube.patch(
        Deployment,
        "web",
        {"spec": {"template": {"spec": {"containers": [container]}}}},
        namespace=namespace,
    )
    (web,) = strategic.spec.template.spec.containers
    assert web.image == "nginx:1.25"  # merged into the container named "web"
    # apimachinery's order without $setElementOrder: patched elements first, then the rest.
    assert [(e.name, e.value) for e in web.env] == [("B", "2"), ("A", "1")]
    merged = await kube.patch(
        Deployment,
        "web",
        {"metadata": {"labels": {"tier": "front"}}, "spec": {"replicas": 3}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    assert merged.metadata.labels == {"app": "web", "tier": "front"}
    assert merged.spec.replicas == 3 and merged.metadata.generation == 3
    json_patched = await kube.patch(
        Deployment,
        "web",
        [
            {"op": "test", "path": "/spec/replicas", "value": 3},
            {"op": "remove", "path": "/metadata/labels/tier"},
            {"op": "replace", "path": "/spec/replicas", "value": 2},
        ],
        namespace=namespace,
        patch_type=PatchType.JSON,
    )
    assert json_patched.metadata.labels == {"app": "web"} and json_patched.spec.replicas == 2
    with pytest.raises(ApiError) as failed:
        await kube.patch(
            Deployment,
            "web",
            [{"op": "test", "path": "/spec/replicas", "value": 9}],
            namespace=namespace,
            patch_type=PatchType.JSON,
        )
    assert failed.value.status.code == 422
    live = await kube.get(Deployment, "web", namespace=namespace)
    assert live.metadata.resourceVersion == json_patched.metadata.resourceVersion


async def test_server_side_apply(kube: AsyncClient, namespace: str) -> None:
    cm = ConfigMap(
        metadata=ObjectMeta(name="applied", namespace=namespace, labels={"a": "1"}),
        data={"keep": "1", "drop": "2"},
    )
    first = await kube.apply(cm, field_manager="tester")
    assert first.data == {"keep": "1", "drop": "2"}
    (managed,) = first.metadata.managedFields
    assert (managed.manager, managed.operation) == ("tester", "Apply")
    # Another manager's field survives the first manager's re-apply.
    await kube.patch(
        ConfigMap,
        "applied",
        {"data": {"other": "3"}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
        field_manager="someone-else",
    )
    cm.data = {"keep": "1"}
    cm.metadata.labels = None
    second = await kube.apply(cm, field_manager="tester")
    assert second.data == {"keep": "1", "other": "3"}
    assert not second.metadata.labels
    managers = {m.manager for m in second.metadata.managedFields}
    assert managers == {"tester", "someone-else"}


async def test_watch_from_a_resource_version(kube: AsyncClient, namespace: str) -> None:
    listed = kube.list(ConfigMap, namespace=namespace)
    assert [c async for c in listed] == []
    since = listed.resourceVersion
    await kube.create(ConfigMap(metadata=ObjectMeta(name="w")), namespace=namespace)
    await kube.patch(ConfigMap, "w", {"data": {"x": "1"}}, namespace=namespace)
    await kube.delete(ConfigMap, "w", namespace=namespace)
    stream = kube.watch(ConfigMap, namespace=namespace, resource_version=since)
    events = await _collect(stream, until="DELETED")
    assert [(t, o.metadata.name) for t, o in events] == [
        ("ADDED", "w"),
        ("MODIFIED", "w"),
        ("DELETED", "w"),
    ]
    assert events[1][1].data == {"x": "1"}


async def test_watch_without_a_resource_version_starts_with_the_current_state(
    kube: AsyncClient, namespace: str
) -> None:
    await kube.create(
        ConfigMap(metadata=ObjectMeta(name="old", labels={"w": "1"})), namespace=namespace
    )
    stream = kube.watch(ConfigMap, namespace=namespace, labels={"w": "1"})
    first = await asyncio.wait_for(anext(stream), DEADLINE)  # type: ignore[arg-type]
    assert (first[0], first[1].metadata.name) == ("ADDED", "old")
    await kube.create(
        ConfigMap(metadata=ObjectMeta(name="new", labels={"w": "1"})), namespace=namespace
    )
    await kube.create(ConfigMap(metadata=ObjectMeta(name="unlabelled")), namespace=namespace)
    await kube.delete(ConfigMap, "old", namespace=namespace)
    rest = await _collect(stream, until="DELETED")
    assert [(t, o.metadata.name) for t, o in rest] == [("ADDED", "new"), ("DELETED", "old")]


# -- 410 Gone -------------------------------------------------------------------------------


@pytest.fixture
def private_cluster(tmp_path: Path) -> Iterator[ClusterProcess]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    proc = start_cluster(data_dir)
    yield proc
    if proc.process.poll() is None:
        proc.stop()


def _restart(proc: ClusterProcess) -> ClusterProcess:
    assert proc.stop() == 0
    return start_cluster(proc.data_dir)


async def test_watch_from_a_revision_before_a_restart_is_gone(
    private_cluster: ClusterProcess,
) -> None:
    """The watch history lives in memory: after a restart only the current revision is known,
    so an older one gets 410 Expired (as kube's watch cache answers after a restart)."""
    async with _client(private_cluster) as kube:
        first = await kube.create(ConfigMap(metadata=ObjectMeta(name="one")), namespace="default")
        await kube.create(ConfigMap(metadata=ObjectMeta(name="two")), namespace="default")
    restarted = _restart(private_cluster)
    try:
        async with _client(restarted) as kube:
            await _assert_gone_then_relist(kube, first.metadata.resourceVersion, ["one", "two"])
    finally:
        restarted.stop()


async def test_watch_from_a_revision_outside_a_small_history_is_gone(tmp_path: Path) -> None:
    """Needs ``atoll cluster serve`` to read ``ATOLL_CLUSTER__HISTORY_SIZE`` (settings.py says
    every setting has an ``ATOLL_`` variable); without it the history is 50,000 events."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    proc = start_cluster(data_dir, settings={"HISTORY_SIZE": "5"})
    try:
        async with _client(proc) as kube:
            first = await kube.create(
                ConfigMap(metadata=ObjectMeta(name="one")), namespace="default"
            )
            for i in range(10):
                await kube.patch(ConfigMap, "one", {"data": {"i": str(i)}}, namespace="default")
            await _assert_gone_then_relist(kube, first.metadata.resourceVersion, ["one"])
    finally:
        proc.stop()


@contextlib.asynccontextmanager
async def _client(proc: ClusterProcess) -> AsyncIterator[AsyncClient]:
    client = AsyncClient(config=KubeConfig.from_file(proc.kubeconfig))
    try:
        yield client
    finally:
        await client.close()


async def _assert_gone_then_relist(kube: AsyncClient, too_old: str, names: list[str]) -> None:
    """A watch from ``too_old`` fails with 410; lightkube's retry then relists ``names``."""
    stream = kube.watch(ConfigMap, namespace="default", resource_version=too_old)
    try:
        with pytest.raises(ApiError) as gone:
            await asyncio.wait_for(anext(stream), DEADLINE)  # type: ignore[arg-type]
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    assert gone.value.status.code == 410 and gone.value.status.reason == "Expired"
    assert gone.value.status.message.startswith(f"too old resource version: {too_old} (")
    errors: list[int] = []

    def retry_once(e: Exception, count: int) -> OnErrorResult:
        errors.append(e.status.code if isinstance(e, ApiError) else 0)
        return on_error_retry(e, count) if count == 1 else OnErrorResult(OnErrorAction.RAISE)

    relisted = kube.watch(
        ConfigMap, namespace="default", resource_version=too_old, on_error=retry_once
    )
    events = await _collect(relisted, until="ADDED", count=len(names))
    assert errors == [410]
    assert sorted((t, o.metadata.name) for t, o in events) == [("ADDED", n) for n in names]


# -- custom resources -----------------------------------------------------------------------


def _crd(group: str) -> CustomResourceDefinition:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "size": {"type": "integer", "default": 1},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            }
        },
    }
    return from_dict(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"widgets.{group}"},
            "spec": {
                "group": group,
                "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {"openAPIV3Schema": schema},
                    }
                ],
            },
        }
    )


async def test_custom_resources(kube: AsyncClient, namespace: str) -> None:
    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    await kube.create(_crd(group))
    Widget = create_namespaced_resource(group, "v1", "Widget", "widgets")
    body = Widget(metadata=ObjectMeta(name="w1"), spec={"tags": ["a"]})
    created = await _create_when_served(kube, body, namespace)
    assert created.spec == {"tags": ["a"], "size": 1}
    got = await kube.get(Widget, "w1", namespace=namespace)
    assert got.metadata.uid == created.metadata.uid
    assert [w.metadata.name async for w in kube.list(Widget, namespace=namespace)] == ["w1"]
    merged = await kube.patch(
        Widget, "w1", {"spec": {"size": 3}}, namespace=namespace, patch_type=PatchType.MERGE
    )
    assert merged.spec == {"tags": ["a"], "size": 3}
    with pytest.raises(ApiError) as strategic:
        await kube.patch(Widget, "w1", {"spec": {"size": 4}}, namespace=namespace)
    assert strategic.value.status.code == 415
    applied = await kube.apply(
        Widget(metadata=ObjectMeta(name="w2", namespace=namespace), spec={"size": 2}),
        field_manager="tester",
    )
    assert applied.spec == {"size": 2} and applied.metadata.managedFields[0].manager == "tester"
    await kube.delete(Widget, "w1", namespace=namespace)
    assert [w.metadata.name async for w in kube.list(Widget, namespace=namespace)] == ["w2"]
    await kube.delete(CustomResourceDefinition, f"widgets.{group}")


async def _create_when_served(kube: AsyncClient, obj: Any, namespace: str) -> Any:
    """A new CRD's resource is served once Established; poll its creation with a deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        try:
            return await kube.create(obj, namespace=namespace)
        except ApiError as e:
            if e.status.code != 404 or loop.time() > deadline:
                raise
        await asyncio.sleep(0.05)
