"""Informers: the indexed cache, consistent delivery on relist, and live delivery from a cluster."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.informers import (
    NAMESPACE_INDEX,
    NODE_NAME_INDEX,
    OWNER_UID_INDEX,
    Cache,
    Informer,
    InformerFactory,
    by_node_name,
    by_owner_uid,
    key_of,
    slim,
    split_key,
)
from atoll.kube.watching import Changed, Listed

Until = Callable[[Callable[[], bool]], Awaitable[None]]  # the ``until`` fixture

CONFIGMAPS = ResourceType("", "v1", "configmaps", "ConfigMap", True)
PODS = ResourceType("", "v1", "pods", "Pod", True)


def obj(name: str, rv: str = "1", namespace: str = "ns", **extra: Any) -> Object:
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "resourceVersion": rv}
    meta.update(extra.pop("meta", {}))
    return {"metadata": meta, **extra}


class Recorder:
    """Handlers that only record keys, as real handlers only enqueue them."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def add(self, new: Object) -> None:
        self.seen.append(("add", key_of(new)))

    def update(self, old: Object, new: Object) -> None:
        self.seen.append(("update", key_of(new)))

    def delete(self, old: Object) -> None:
        self.seen.append(("delete", key_of(old)))

    def attach(self, informer: Informer) -> None:
        informer.add_handler(self.add, self.update, self.delete)


# --- keys and the cache ---------------------------------------------------------------------


def test_keys() -> None:
    assert key_of(obj("a")) == "ns/a"
    assert key_of({"metadata": {"name": "node-1"}}) == "node-1"
    assert split_key("ns/a") == ("ns", "a")
    assert split_key("node-1") == ("", "node-1")


def test_cache_indexes_follow_puts_and_removes() -> None:
    cache = Cache()
    cache.add_indexer(OWNER_UID_INDEX, by_owner_uid)
    cache.add_indexer(NODE_NAME_INDEX, by_node_name)
    owned = {"ownerReferences": [{"uid": "u1"}, {"uid": "u2"}], "labels": {"app": "web"}}
    cache.put(obj("a", meta=owned, spec={"nodeName": "n1"}))
    cache.put(obj("b", namespace="other", meta={"ownerReferences": [{"uid": "u1"}]}))
    assert {key_of(o) for o in cache.by_index(OWNER_UID_INDEX, "u1")} == {"ns/a", "other/b"}
    assert [key_of(o) for o in cache.by_index(NODE_NAME_INDEX, "n1")] == ["ns/a"]
    assert [key_of(o) for o in cache.list(namespace="other")] == ["other/b"]
    assert [key_of(o) for o in cache.list(label_selector="app=web")] == ["ns/a"]

    cache.put(obj("a", rv="2", spec={"nodeName": "n2"}))  # owners and node changed
    assert [key_of(o) for o in cache.by_index(OWNER_UID_INDEX, "u1")] == ["other/b"]
    assert cache.by_index(OWNER_UID_INDEX, "u2") == []
    assert [key_of(o) for o in cache.by_index(NODE_NAME_INDEX, "n2")] == ["ns/a"]
    assert cache.remove("other/b") is not None
    assert cache.by_index(OWNER_UID_INDEX, "u1") == []
    assert cache.list(namespace="other") == []
    assert len(cache) == 1

    cache.add_indexer(OWNER_UID_INDEX, by_owner_uid)  # the same function again: fine
    with pytest.raises(ValueError, match="already named"):
        cache.add_indexer(OWNER_UID_INDEX, by_node_name)
    with pytest.raises(KeyError):
        cache.by_index("nope", "x")


# --- delivery, fed step by step -------------------------------------------------------------


async def test_relist_turns_into_adds_updates_and_deletes() -> None:
    informer = Informer(client=None, rt=CONFIGMAPS)  # type: ignore[arg-type]
    handlers = Recorder()
    handlers.attach(informer)
    await informer.apply(Listed([obj("keep"), obj("change"), obj("vanish")], "10"))
    assert informer.has_synced
    await informer.apply(Changed("MODIFIED", obj("change", rv="11")))
    await informer.apply(Changed("ADDED", obj("new", rv="12")))
    handlers.seen.clear()

    # The watch was down; meanwhile "change" changed again, "vanish" went and "late" came.
    await informer.apply(
        Listed(
            [obj("keep"), obj("change", rv="20"), obj("new", rv="12"), obj("late", rv="21")], "21"
        )
    )
    assert sorted(handlers.seen) == [
        ("add", "ns/late"),
        ("delete", "ns/vanish"),
        ("update", "ns/change"),
    ]
    assert sorted(informer.keys()) == ["ns/change", "ns/keep", "ns/late", "ns/new"]

    handlers.seen.clear()
    await informer.apply(Changed("DELETED", obj("late", rv="22")))
    assert handlers.seen == [("delete", "ns/late")]
    assert informer.get("ns/late") is None


async def test_late_handlers_hear_the_cache_as_adds_and_broken_handlers_are_contained() -> None:
    informer = Informer(client=None, rt=CONFIGMAPS)  # type: ignore[arg-type]

    def broken(new: Object) -> None:
        raise RuntimeError("boom")

    informer.add_handler(on_add=broken)
    await informer.apply(Listed([obj("a"), obj("b")], "3"))
    late = Recorder()
    late.attach(informer)
    assert sorted(late.seen) == [("add", "ns/a"), ("add", "ns/b")]
    informer.resync()
    assert sorted(late.seen)[-2:] == [("update", "ns/a"), ("update", "ns/b")]


async def test_the_transform_slims_what_is_cached_and_delivered() -> None:
    informer = Informer(client=None, rt=PODS, transform=slim)  # type: ignore[arg-type]
    delivered: list[Object] = []
    informer.add_handler(on_add=delivered.append)
    managed = [{"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:spec": {}}}]
    phase = "".join(["Run", "ning"])  # a string the interpreter has not interned already
    pod = obj("p", meta={"managedFields": managed}, status={"phase": phase, "ips": ["10.0.0.1"]})
    long_value = "x" * 100
    pod["data"] = {"blob": long_value}
    await informer.apply(Listed([pod], "5"))
    cached = informer.get("ns/p")
    assert cached is not None and delivered == [cached]
    assert "managedFields" not in cached["metadata"]
    assert cached["status"]["phase"] is sys.intern("Running")
    assert cached["status"]["ips"] == ["10.0.0.1"]
    assert cached["data"]["blob"] is long_value  # long strings are left alone

    await informer.apply(Changed("MODIFIED", obj("p", rv="6", meta={"managedFields": managed})))
    updated = informer.get("ns/p")
    assert updated is not None and "managedFields" not in updated["metadata"]


# --- against the embedded cluster -----------------------------------------------------------


async def test_informer_delivers_changes_and_keeps_indexes(
    kube: KubeClient, namespace: str, until: Until
) -> None:
    owner = await kube.create(CONFIGMAPS, {"metadata": {"name": "owner"}}, namespace=namespace)
    uid = owner["metadata"]["uid"]
    informer = Informer(kube, CONFIGMAPS, namespace=namespace)
    informer.add_indexer(OWNER_UID_INDEX, by_owner_uid)
    handlers = Recorder()
    handlers.attach(informer)
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        group.create_task(informer.run(stop))
        await asyncio.wait_for(informer.wait_synced(), 15)
        assert handlers.seen == [("add", f"{namespace}/owner")]
        with pytest.raises(RuntimeError, match="before the informer starts"):
            informer.add_indexer("late", by_node_name)

        ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}
        child = {"metadata": {"name": "child", "ownerReferences": [ref]}}
        await kube.create(CONFIGMAPS, child, namespace=namespace)
        await until(lambda: len(informer.by_index(OWNER_UID_INDEX, uid)) == 1)
        await kube.patch(CONFIGMAPS, "child", {"data": {"a": "1"}}, namespace=namespace)
        await until(lambda: ("update", f"{namespace}/child") in handlers.seen)
        cached = informer.get(f"{namespace}/child")
        assert cached is not None and cached["data"] == {"a": "1"}
        assert cached["kind"] == "ConfigMap"
        await kube.delete(CONFIGMAPS, "owner", namespace=namespace, propagation_policy="Orphan")
        await until(lambda: ("delete", f"{namespace}/owner") in handlers.seen)
        stop.set()
    assert informer.get(f"{namespace}/owner") is None
    assert [key_of(o) for o in informer.list(namespace=namespace)] == [f"{namespace}/child"]


async def test_pods_by_node_name(kube: KubeClient, namespace: str, until: Until) -> None:
    informer = Informer(kube, PODS, namespace=namespace)
    informer.add_indexer(NODE_NAME_INDEX, by_node_name)
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        group.create_task(informer.run(stop))
        for name, node in (("p1", "node-a"), ("p2", "node-b"), ("p3", "node-a")):
            spec = {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}
            await kube.create(PODS, {"metadata": {"name": name}, "spec": spec}, namespace=namespace)
        await until(lambda: len(informer.keys()) == 3)
        stop.set()
    on_a = sorted(o["metadata"]["name"] for o in informer.by_index(NODE_NAME_INDEX, "node-a"))
    assert on_a == ["p1", "p3"]
    assert [o["metadata"]["name"] for o in informer.by_index(NAMESPACE_INDEX, namespace)] != []


async def test_resync_redelivers_updates(kube: KubeClient, namespace: str, until: Until) -> None:
    await kube.create(CONFIGMAPS, {"metadata": {"name": "r"}}, namespace=namespace)
    informer = Informer(kube, CONFIGMAPS, namespace=namespace, resync_period=0.05)
    same: list[bool] = []
    informer.add_handler(on_update=lambda old, new: same.append(old is new))
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        group.create_task(informer.run(stop))
        await until(lambda: len(same) >= 2)
        stop.set()
    assert all(same)


async def test_factory_shares_informers_and_runs_them_in_the_callers_group(
    kube: KubeClient, namespace: str
) -> None:
    factory = InformerFactory(kube)
    first = factory.informer(CONFIGMAPS, namespace=namespace)
    assert factory.informer(CONFIGMAPS, namespace=namespace) is first
    assert factory.informer(CONFIGMAPS, namespace=namespace, label_selector="a=b") is not first
    await kube.create(CONFIGMAPS, {"metadata": {"name": "x"}}, namespace=namespace)
    async with asyncio.TaskGroup() as group:
        factory.start(group)
        await asyncio.wait_for(factory.wait_synced(), 15)
        assert [key_of(o) for o in first.list()] == [f"{namespace}/x"]
        pods = factory.informer(PODS, namespace=namespace)
        factory.start(group)  # starts only the new one
        await asyncio.wait_for(pods.wait_synced(), 15)
        factory.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        factory.start(group)
