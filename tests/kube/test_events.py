"""EventRecorder: Events written for real, repeats folded into a count, failures only logged."""

from __future__ import annotations

import logging
import re
import socket
import time

import pytest

from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.events import EVENTS, EventRecorder, object_reference
from atoll.kube.kubeconfig import ClusterConfig

CONFIGMAPS = ResourceType("", "v1", "configmaps", "ConfigMap", True)
NAMESPACES = ResourceType("", "v1", "namespaces", "Namespace", False)
MINUTE_NS = 60 * 10**9


class Clock:
    def __init__(self) -> None:
        self.now = time.time_ns()

    def __call__(self) -> int:
        return self.now


async def _subject(kube: KubeClient, namespace: str) -> Object:
    body = {"metadata": {"name": "subject"}}
    return await kube.create(CONFIGMAPS, body, namespace=namespace)


async def _events(kube: KubeClient, namespace: str) -> list[Object]:
    listed = await kube.list(EVENTS, namespace=namespace)
    items: list[Object] = listed["items"]
    return sorted(items, key=lambda e: e["metadata"]["name"])


async def test_an_event_about_an_object(kube: KubeClient, namespace: str) -> None:
    subject = await _subject(kube, namespace)
    recorder = EventRecorder(kube, "test-controller", "host-1")
    await recorder.warning(subject, "FailedThing", message="it broke")
    (event,) = await _events(kube, namespace)
    assert re.fullmatch(r"subject\.[0-9a-f]+", event["metadata"]["name"])
    assert event["involvedObject"] == object_reference(subject)
    assert event["involvedObject"]["uid"] == subject["metadata"]["uid"]
    assert (event["type"], event["reason"], event["message"]) == (
        "Warning",
        "FailedThing",
        "it broke",
    )
    assert event["source"] == {"component": "test-controller", "host": "host-1"}
    assert event["count"] == 1
    assert event["firstTimestamp"] == event["lastTimestamp"]


async def test_repeats_within_ten_minutes_patch_the_count(kube: KubeClient, namespace: str) -> None:
    subject = await _subject(kube, namespace)
    clock = Clock()
    recorder = EventRecorder(kube, "test-controller", clock=clock)
    await recorder.normal(subject, "Synced", message="all good")
    clock.now += 2 * MINUTE_NS
    await recorder.normal(subject, "Synced", message="all good")
    (event,) = await _events(kube, namespace)
    assert event["count"] == 2
    assert event["lastTimestamp"] > event["firstTimestamp"]

    await recorder.normal(subject, "Synced", message="something else")  # a different event
    assert [e["count"] for e in await _events(kube, namespace)] == [2, 1]

    clock.now += 11 * MINUTE_NS  # past the window: a fresh Event
    await recorder.normal(subject, "Synced", message="all good")
    assert sorted(e["count"] for e in await _events(kube, namespace)) == [1, 1, 2]


async def test_a_deleted_event_is_created_again(kube: KubeClient, namespace: str) -> None:
    subject = await _subject(kube, namespace)
    clock = Clock()
    recorder = EventRecorder(kube, "test-controller", clock=clock)
    await recorder.normal(subject, "Synced", message="ok")
    (first,) = await _events(kube, namespace)
    await kube.delete(EVENTS, first["metadata"]["name"], namespace=namespace)
    clock.now += 1
    await recorder.normal(subject, "Synced", message="ok")
    (second,) = await _events(kube, namespace)
    assert second["metadata"]["name"] != first["metadata"]["name"]
    assert second["count"] == 1


async def test_cluster_scoped_objects_get_events_in_default(
    kube: KubeClient, namespace: str
) -> None:
    subject = await kube.get(NAMESPACES, namespace)
    recorder = EventRecorder(kube, "test-controller")
    await recorder.normal(subject, "Checked", message=f"namespace {namespace} checked")
    mine = [
        e
        for e in (await kube.list(EVENTS, namespace="default"))["items"]
        if e["involvedObject"].get("name") == namespace
    ]
    assert [(e["involvedObject"]["kind"], e["reason"]) for e in mine] == [("Namespace", "Checked")]


async def test_failures_are_logged_never_raised(
    kube: KubeClient, caplog: pytest.LogCaptureFixture
) -> None:
    meta = {"name": "g", "namespace": "no-such-ns"}
    ghost = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": meta}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    async with KubeClient(ClusterConfig(f"http://127.0.0.1:{closed_port}")) as nowhere:
        with caplog.at_level(logging.WARNING, logger="atoll.kube.events"):
            await EventRecorder(kube, "test").warning(ghost, "Broken", message="no namespace")
            await EventRecorder(nowhere, "test").warning(ghost, "Broken", message="no server")
    assert len(caplog.records) == 2
    assert all(
        r.getMessage().startswith("could not record event Broken for ConfigMap no-such-ns/g")
        for r in caplog.records
    )
