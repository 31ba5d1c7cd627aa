"""The ReplicaSet and ReplicationController controllers, against the embedded cluster.

Pods are created from the template (named ``<owner>-<5 chars>``, labelled, controlled),
orphans adopted and mismatching Pods released, surplus Pods deleted least useful first,
status counted (ready, available after minReadySeconds), no over-creation under a burst of
watch events; a failing create is reported (Events and the ReplicaFailure condition), tested
on a fake client because nothing in the embedded cluster refuses a Pod yet.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.conftest import ClusterProcess
from tests.embedded.controllers.rollout_support import Api, Watcher, eventually, mark_pod_ready

from atoll.controllers import ManualClock, WorkQueue
from atoll.controllers.runtime import ControllerContext, ControllerSettings
from atoll.embedded.controllers import ControllerOptions
from atoll.embedded.controllers.replicasets import REPLICASET_KIND, ReplicaSetController
from atoll.errors import Forbidden
from atoll.kube.client import ResourceType
from atoll.kube.events import EventRecorder
from atoll.kube.informers import InformerFactory
from atoll.kube.watching import Listed

SUFFIX = re.compile(r"^[bcdfghjklmnpqrstvwxz2456789]{5}$")


@pytest.fixture
def api(cluster: ClusterProcess) -> Api:
    return Api(cluster)


def _replicaset(name: str, replicas: int, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, "tier": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
            },
            **spec,
        },
    }


def _rs_path(namespace: str, name: str = "") -> str:
    return f"/apis/apps/v1/namespaces/{namespace}/replicasets" + (f"/{name}" if name else "")


def _pods(api: Api, namespace: str, selector: str = "") -> list[dict[str, Any]]:
    items = api.items(f"/api/v1/namespaces/{namespace}/pods", labelSelector=selector)
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def _status(api: Api, namespace: str, name: str) -> dict[str, Any]:
    status: dict[str, Any] = api.get(_rs_path(namespace, name)).get("status") or {}
    return status


def test_creates_pods_from_the_template(cluster: ClusterProcess, api: Api, namespace: str) -> None:
    rs = api.create(_rs_path(namespace), _replicaset("front", 3))

    pods = eventually(
        lambda: len(_pods(api, namespace, "app=front")) == 3 and _pods(api, namespace)
    )
    for pod in pods:
        meta = pod["metadata"]
        assert meta["name"].startswith("front-") and SUFFIX.match(meta["name"][len("front-") :])
        assert meta["labels"] == {"app": "front", "tier": "web"}
        assert meta["ownerReferences"] == [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "front",
                "uid": rs["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        assert pod["spec"]["containers"][0]["image"] == "nginx:1"
    status = eventually(
        lambda: (
            _status(api, namespace, "front").get("replicas") == 3
            and _status(api, namespace, "front")
        )
    )
    assert status == {"replicas": 3, "fullyLabeledReplicas": 3, "observedGeneration": 1}
    events = cluster.kubectl(
        "get", "events", "-n", namespace, "--field-selector=reason=SuccessfulCreate"
    )
    assert events.count("Created pod: front-") == 3
    described = cluster.kubectl("describe", "pod", "-n", namespace, pods[0]["metadata"]["name"])
    assert "Controlled By:  ReplicaSet/front" in described


def test_counts_ready_and_available_pods(api: Api, namespace: str) -> None:
    api.create(_rs_path(namespace), _replicaset("avail", 2, minReadySeconds=6))
    pods = eventually(lambda: len(ps := _pods(api, namespace, "app=avail")) == 2 and ps)
    now = datetime.now(UTC)
    mark_pod_ready(api, pods[0], ready_since=now - timedelta(minutes=5))
    mark_pod_ready(api, pods[1], ready_since=now)

    def counts() -> tuple[int, int]:
        status = _status(api, namespace, "avail")
        return status.get("readyReplicas", 0), status.get("availableReplicas", 0)

    eventually(lambda: counts() == (2, 1), what="one pod ready long enough")
    # The other becomes available 6 s after it turned ready: the controller comes back by itself.
    eventually(lambda: counts() == (2, 2), timeout=15, what="both available")


def test_scaling_down_deletes_the_least_useful_pods_first(api: Api, namespace: str) -> None:
    api.create(_rs_path(namespace), _replicaset("down", 4))
    pods = eventually(lambda: len(ps := _pods(api, namespace, "app=down")) == 4 and ps)
    old, recent, _, _ = pods
    now = datetime.now(UTC)
    mark_pod_ready(api, old, ready_since=now - timedelta(hours=1))
    mark_pod_ready(api, recent, ready_since=now - timedelta(minutes=1))
    eventually(lambda: _status(api, namespace, "down").get("readyReplicas") == 2)

    def names() -> set[str]:
        return {p["metadata"]["name"] for p in _pods(api, namespace, "app=down")}

    keep = {old["metadata"]["name"], recent["metadata"]["name"]}
    api.merge_patch(_rs_path(namespace, "down"), {"spec": {"replicas": 2}})
    eventually(lambda: names() == keep, what="the two pending pods deleted")
    api.merge_patch(_rs_path(namespace, "down"), {"spec": {"replicas": 1}})
    eventually(lambda: names() == {old["metadata"]["name"]}, what="the newest-ready pod deleted")


def test_adopts_orphans_and_releases_pods_it_no_longer_selects(api: Api, namespace: str) -> None:
    orphan = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "stray", "labels": {"app": "adopt"}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
    }
    api.create(f"/api/v1/namespaces/{namespace}/pods", orphan)
    rs = api.create(_rs_path(namespace), _replicaset("adopt", 2))

    def owners() -> dict[str, str]:
        return {
            p["metadata"]["name"]: (p["metadata"].get("ownerReferences") or [{}])[0].get("uid", "")
            for p in _pods(api, namespace)
        }

    adopted = eventually(lambda: len(o := owners()) == 2 and o)
    assert adopted["stray"] == rs["metadata"]["uid"], "the orphan is adopted, not duplicated"

    path = f"/api/v1/namespaces/{namespace}/pods/stray"
    api.merge_patch(path, {"metadata": {"labels": {"app": "elsewhere"}}})
    eventually(lambda: not api.get(path)["metadata"].get("ownerReferences"), what="released")
    eventually(lambda: len(_pods(api, namespace, "app=adopt")) == 2, what="replaced")


def test_a_burst_of_events_does_not_over_create(api: Api, namespace: str) -> None:
    with Watcher(api, f"/api/v1/namespaces/{namespace}/pods") as pods:
        api.create(_rs_path(namespace), _replicaset("burst", 60))
        eventually(lambda: _status(api, namespace, "burst").get("replicas") == 60, timeout=60)
        # Churn the owner while its pods arrive: every update queues it again.
        for n in range(5):
            api.merge_patch(_rs_path(namespace, "burst"), {"metadata": {"labels": {"n": str(n)}}})
        eventually(lambda: _status(api, namespace, "burst").get("observedGeneration") == 1)
        created = [obj for kind, obj in pods.events if kind == "ADDED"]
    assert len(created) == 60


def test_replication_controller(cluster: ClusterProcess, api: Api, namespace: str) -> None:
    rc = {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "legacy"},
        "spec": {
            "replicas": 2,
            "selector": {"app": "legacy"},
            "template": {
                "metadata": {"labels": {"app": "legacy"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
            },
        },
    }
    api.create(f"/api/v1/namespaces/{namespace}/replicationcontrollers", rc)
    pods = eventually(lambda: len(ps := _pods(api, namespace, "app=legacy")) == 2 and ps)
    assert {p["metadata"]["ownerReferences"][0]["kind"] for p in pods} == {"ReplicationController"}
    cluster.kubectl("scale", "rc", "legacy", "--replicas=3", "-n", namespace)
    eventually(lambda: len(_pods(api, namespace, "app=legacy")) == 3)
    path = f"/api/v1/namespaces/{namespace}/replicationcontrollers/legacy"
    eventually(lambda: (api.get(path).get("status") or {}).get("replicas") == 3)


def test_delete_with_each_cascade_policy(cluster: ClusterProcess, api: Api, namespace: str) -> None:
    for name in ("orphaned", "background", "foreground"):
        api.create(_rs_path(namespace), _replicaset(name, 2))
        eventually(lambda n=name: len(_pods(api, namespace, f"app={n}")) == 2)  # type: ignore[misc]
    cluster.kubectl("delete", "rs", "orphaned", "-n", namespace, "--cascade=orphan")
    kept = _pods(api, namespace, "app=orphaned")
    assert len(kept) == 2 and all(not p["metadata"].get("ownerReferences") for p in kept)
    cluster.kubectl("delete", "rs", "foreground", "-n", namespace, "--cascade=foreground")
    eventually(lambda: not _pods(api, namespace, "app=foreground"), what="foreground")
    cluster.kubectl("delete", "rs", "background", "-n", namespace)
    eventually(lambda: not _pods(api, namespace, "app=background"), what="background")


# -- on a fake client: what happens when the API refuses Pods ------------------------------


class _RefusingClient:
    """Answers the calls the controller makes; refuses every Pod."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.pod_creates = 0

    async def create(self, rt: ResourceType, obj: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        if rt.kind == "Event":
            self.events.append(dict(obj))
            return dict(obj)
        self.pod_creates += 1
        raise Forbidden('pods "web-" is forbidden: exceeded quota: q, requested: pods=1')

    async def replace_status(self, rt: ResourceType, obj: Mapping[str, Any], **_: Any) -> Any:
        self.statuses.append(dict(obj["status"]))
        return dict(obj)

    async def patch(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("nothing to patch")


async def test_failed_creates_are_reported_and_backed_off() -> None:
    client = _RefusingClient()
    clock = ManualClock()
    informers = InformerFactory(client)  # type: ignore[arg-type]
    ctx = ControllerContext(
        name="replicaset",
        client=client,  # type: ignore[arg-type]
        informers=informers,
        queue=WorkQueue("replicaset", clock=clock),
        events=EventRecorder(client, "replicaset-controller"),  # type: ignore[arg-type]
        clock=clock,
        settings=ControllerSettings(),
        logger=logging.getLogger("test"),
    )
    controller = ReplicaSetController(REPLICASET_KIND, ControllerOptions(clock=clock))
    await controller.setup(ctx)
    rs = _replicaset("web", 5)
    rs["metadata"].update(namespace="ns", uid="u-1", generation=1, resourceVersion="7")
    rs["status"] = {"replicas": 0}
    await informers.informer(REPLICASET_KIND.rt).apply(Listed([rs], "7"))

    result = await controller.reconcile("ns/web")

    assert result.requeue, "a refused create is retried with back-off"
    assert client.pod_creates == 1, "slow start: one refusal, not five"
    [event] = client.events
    assert (event["type"], event["reason"]) == ("Warning", "FailedCreate")
    assert event["message"].startswith('Error creating: pods "web-" is forbidden: exceeded quota')
    [status] = client.statuses
    [condition] = status["conditions"]
    assert condition["type"] == "ReplicaFailure" and condition["reason"] == "FailedCreate"
    assert condition["message"].startswith('pods "web-" is forbidden')
    assert controller._expectations.satisfied("ns/web"), "the skipped creates are not awaited"
