"""Watches and lists as clients use them: resuming, selectors, bookmarks, timeouts, Tables,
metadata-only lists, pagination, deletecollection and the python informer.

Raw HTTP (``requests``) where the wire shape is the point, the official client where a
client's behaviour is. Every watch here is bounded by ``timeoutSeconds`` or by a stop on the
event the test waits for, so nothing waits on a wall clock to synchronise.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client, config, watch
from kubernetes.informer import SharedInformer
from tests.conftest import ClusterProcess
from tests.embedded.apiserver.http_support import Http

Body = dict[str, Any]
TABLE_V1 = "application/json;as=Table;v=v1;g=meta.k8s.io"
TABLE_V1BETA1 = "application/json;as=Table;v=v1beta1;g=meta.k8s.io"
KUBECTL_ACCEPT = f"{TABLE_V1},{TABLE_V1BETA1},application/json"
PARTIAL_LIST = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
PARTIAL = "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io"


@pytest.fixture
def http(cluster: ClusterProcess) -> Iterator[Http]:
    with Http(cluster) as session:
        yield session


@pytest.fixture(scope="module")
def api(cluster: ClusterProcess) -> Iterator[client.ApiClient]:
    api_client = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield api_client
    api_client.close()


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


def _cm(name: str, **labels: str) -> Body:
    return {"metadata": {"name": name, "labels": labels}, "data": {"k": name}}


def _event(name: str, namespace: str, type_: str) -> Body:
    return {
        "metadata": {"name": name},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": namespace},
        "reason": "Testing",
        "message": "m",
        "type": type_,
    }


def _until(predicate: Callable[[], bool], what: str, deadline: float = 15.0) -> None:
    end = time.monotonic() + deadline
    while not predicate():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


# -- python Watch ---------------------------------------------------------------------------


def test_python_watch_resumes_after_its_timeout(core: client.CoreV1Api, namespace: str) -> None:
    """A stream ended by ``timeout_seconds`` resumes from ``Watch.resource_version``: changes
    made while no watch was open arrive on the next stream, none twice."""
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, _cm("a"))
    w = watch.Watch()
    first = [
        (e["type"], e["object"].metadata.name)
        for e in w.stream(
            core.list_namespaced_config_map,
            namespace,
            resource_version=start,
            timeout_seconds=1,
        )
    ]
    assert first == [("ADDED", "a")]
    core.create_namespaced_config_map(namespace, _cm("b"))
    core.delete_namespaced_config_map("a", namespace)
    second = [
        (e["type"], e["object"].metadata.name)
        for e in w.stream(
            core.list_namespaced_config_map,
            namespace,
            resource_version=w.resource_version,
            timeout_seconds=1,
        )
    ]
    assert second == [("ADDED", "b"), ("DELETED", "a")]


# -- selectors ------------------------------------------------------------------------------


def test_label_selector_watch_sees_objects_enter_and_leave(
    core: client.CoreV1Api, http: Http, namespace: str
) -> None:
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, _cm("x", tier="back"))
    core.create_namespaced_config_map(namespace, _cm("y", tier="front"))
    entered = core.patch_namespaced_config_map(
        "x", namespace, {"metadata": {"labels": {"tier": "front"}}}
    )
    core.patch_namespaced_config_map("x", namespace, {"data": {"more": "1"}})
    left = core.patch_namespaced_config_map(
        "x", namespace, {"metadata": {"labels": {"tier": "back"}}}
    )
    core.patch_namespaced_config_map("x", namespace, {"data": {"unseen": "1"}})
    core.delete_namespaced_config_map("y", namespace)
    events = http.watch_lines(
        f"/api/v1/namespaces/{namespace}/configmaps",
        labelSelector="tier=front",
        resourceVersion=start,
        timeoutSeconds=1,
    )
    seen = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert seen == [
        ("ADDED", "y"),
        ("ADDED", "x"),
        ("MODIFIED", "x"),
        ("DELETED", "x"),
        ("DELETED", "y"),
    ]
    assert events[1]["object"]["metadata"]["resourceVersion"] == entered.metadata.resource_version
    # Leaving the selector: the previous state, at the revision of the change that removed it.
    leaving = events[3]["object"]
    assert leaving["metadata"]["labels"] == {"tier": "front"}
    assert leaving["metadata"]["resourceVersion"] == left.metadata.resource_version


def test_field_selector_watch_sees_objects_enter_and_leave(
    core: client.CoreV1Api, http: Http, namespace: str
) -> None:
    start = core.list_namespaced_event(namespace).metadata.resource_version
    core.create_namespaced_event(namespace, _event("e", namespace, "Normal"))
    core.patch_namespaced_event("e", namespace, {"type": "Warning"})
    core.patch_namespaced_event("e", namespace, {"message": "still a warning"})
    core.patch_namespaced_event("e", namespace, {"type": "Normal"})
    core.patch_namespaced_event("e", namespace, {"type": "Warning"})
    core.delete_namespaced_event("e", namespace)
    events = http.watch_lines(
        f"/api/v1/namespaces/{namespace}/events",
        fieldSelector="type=Warning,metadata.name=e",
        resourceVersion=start,
        timeoutSeconds=1,
    )
    assert [(e["type"], e["object"]["type"]) for e in events] == [
        ("ADDED", "Warning"),
        ("MODIFIED", "Warning"),
        ("DELETED", "Warning"),
        ("ADDED", "Warning"),
        ("DELETED", "Warning"),
    ]
    listed = core.list_namespaced_event(namespace, field_selector="type=Warning")
    assert listed.items == []


# -- bookmarks and timeouts -----------------------------------------------------------------


def test_no_bookmark_unless_asked(core: client.CoreV1Api, http: Http, namespace: str) -> None:
    """Only the negative case: this server sends bookmarks after 60 s without events (as kube
    does, roughly once a minute), too slow to wait for here. A bookmark, if any, must carry
    nothing but kind, apiVersion and metadata.resourceVersion."""
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, _cm("a"))
    core.delete_namespaced_config_map("a", namespace)
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    plain = http.watch_lines(path, resourceVersion=start, timeoutSeconds=1)
    assert [e["type"] for e in plain] == ["ADDED", "DELETED"]
    allowed = http.watch_lines(
        path, resourceVersion=start, timeoutSeconds=1, allowWatchBookmarks="true"
    )
    assert [e["type"] for e in allowed if e["type"] != "BOOKMARK"] == ["ADDED", "DELETED"]
    for bookmark in (e["object"] for e in allowed if e["type"] == "BOOKMARK"):
        assert set(bookmark) == {"kind", "apiVersion", "metadata"}
        assert (bookmark["kind"], bookmark["apiVersion"]) == ("ConfigMap", "v1")
        assert set(bookmark["metadata"]) == {"resourceVersion"}


def test_timeout_seconds_ends_the_stream_cleanly(http: Http, namespace: str) -> None:
    began = time.monotonic()
    response = http.get(
        f"/api/v1/namespaces/{namespace}/configmaps",
        params={"watch": "1", "timeoutSeconds": "1"},
        stream=True,
    )
    with response:
        body = response.raw.read()  # completes only when the chunked body is terminated
    elapsed = time.monotonic() - began
    assert response.status_code == 200 and body == b""
    assert 0.9 <= elapsed < 10, elapsed


# -- Tables ---------------------------------------------------------------------------------


POD_COLUMNS = [
    ("Name", 0),
    ("Ready", 0),
    ("Status", 0),
    ("Restarts", 0),
    ("Age", 0),
    ("IP", 1),
    ("Node", 1),
    ("Nominated Node", 1),
    ("Readiness Gates", 1),
]
DEPLOYMENT_COLUMNS = [
    ("Name", 0),
    ("Ready", 0),
    ("Up-to-date", 0),
    ("Available", 0),
    ("Age", 0),
    ("Containers", 1),
    ("Images", 1),
    ("Selector", 1),
]
SERVICE_COLUMNS = [
    ("Name", 0),
    ("Type", 0),
    ("Cluster-IP", 0),
    ("External-IP", 0),
    ("Port(s)", 0),
    ("Age", 0),
    ("Selector", 1),
]


def _columns(table: Body) -> list[tuple[str, int]]:
    return [(c["name"], c["priority"]) for c in table["columnDefinitions"]]


def _make_table_objects(core: client.CoreV1Api, api: client.ApiClient, namespace: str) -> str:
    """A pod, a deployment and a service; returns the service's cluster IP."""
    labels = {"app": "web"}
    container = {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}
    core.create_namespaced_pod(
        namespace,
        {"metadata": {"name": "p", "labels": labels}, "spec": {"containers": [container]}},
    )
    client.AppsV1Api(api).create_namespaced_deployment(
        namespace,
        {
            "metadata": {"name": "d", "labels": labels},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        },
    )
    svc = core.create_namespaced_service(
        namespace,
        {"metadata": {"name": "s"}, "spec": {"selector": labels, "ports": [{"port": 80}]}},
    )
    return str(svc.spec.cluster_ip)


@pytest.mark.parametrize("accept", [KUBECTL_ACCEPT, TABLE_V1BETA1], ids=["v1", "v1beta1"])
def test_tables_for_lists(
    core: client.CoreV1Api, api: client.ApiClient, http: Http, namespace: str, accept: str
) -> None:
    version = "v1beta1" if accept == TABLE_V1BETA1 else "v1"
    cluster_ip = _make_table_objects(core, api, namespace)
    expected = {
        f"/api/v1/namespaces/{namespace}/pods": (
            POD_COLUMNS,
            ["p", "0/1", "Pending", 0, None, "<none>", "<none>", "<none>", "<none>"],
        ),
        f"/apis/apps/v1/namespaces/{namespace}/deployments": (
            DEPLOYMENT_COLUMNS,
            ["d", "0/2", 0, 0, None, "web", "nginx:1.25", "app=web"],
        ),
        f"/api/v1/namespaces/{namespace}/services": (
            SERVICE_COLUMNS,
            ["s", "ClusterIP", cluster_ip, "<none>", "80/TCP", None, "app=web"],
        ),
    }
    for path, (columns, cells) in expected.items():
        table = http.get(path, params={"limit": 500}, headers={"Accept": accept}).json()
        assert (table["kind"], table["apiVersion"]) == ("Table", f"meta.k8s.io/{version}")
        assert int(table["metadata"]["resourceVersion"]) > 0
        assert _columns(table) == columns
        assert table["columnDefinitions"][0]["format"] == "name"
        (row,) = table["rows"]
        age = row["cells"][columns.index(("Age", 0))]
        assert isinstance(age, str) and age.endswith("s")
        assert [None if c == age else c for c in row["cells"]] == cells
        partial = row["object"]
        assert (partial["kind"], partial["apiVersion"]) == (
            "PartialObjectMetadata",
            f"meta.k8s.io/{version}",
        )
        assert partial["metadata"]["namespace"] == namespace
        one = http.get(f"{path}/{cells[0]}", headers={"Accept": accept}).json()
        assert one["kind"] == "Table" and [r["cells"][0] for r in one["rows"]] == [cells[0]]


def test_table_watch(core: client.CoreV1Api, http: Http, namespace: str) -> None:
    start = core.list_namespaced_pod(namespace).metadata.resource_version
    container = {"name": "c", "image": "busybox"}
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "p1"}, "spec": {"containers": [container]}}
    )
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "p2"}, "spec": {"containers": [container]}}
    )
    core.delete_namespaced_pod("p1", namespace)
    path = f"/api/v1/namespaces/{namespace}/pods"
    events = _watch_with_accept(http, path, start, KUBECTL_ACCEPT)
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "DELETED"]
    for event in events:
        table = event["object"]
        assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
        (row,) = table["rows"]
        assert row["object"]["kind"] == "PartialObjectMetadata"
    assert _columns(events[0]["object"]) == POD_COLUMNS
    assert [e["object"]["rows"][0]["cells"][0] for e in events] == ["p1", "p2", "p1"]


def _watch_with_accept(http: Http, path: str, since: str, accept: str) -> list[Body]:
    response = http.get(
        path,
        params={"watch": "true", "resourceVersion": since, "timeoutSeconds": "1"},
        headers={"Accept": accept},
        stream=True,
    )
    assert response.status_code == 200
    with response:
        return [json.loads(line) for line in response.iter_lines()]


@pytest.mark.parametrize("include", ["Object", "None", "Metadata"])
def test_table_include_object(
    core: client.CoreV1Api, http: Http, namespace: str, include: str
) -> None:
    core.create_namespaced_config_map(namespace, _cm("c", a="b"))
    table = http.get(
        f"/api/v1/namespaces/{namespace}/configmaps",
        params={"includeObject": include},
        headers={"Accept": TABLE_V1},
    ).json()
    (row,) = table["rows"]
    assert row["cells"][:2] == ["c", 1]
    obj = row.get("object")
    if include == "None":
        assert obj is None
    elif include == "Object":
        assert (obj["kind"], obj["apiVersion"]) == ("ConfigMap", "v1")
        assert obj["data"] == {"k": "c"}
    else:
        assert obj["kind"] == "PartialObjectMetadata" and "data" not in obj
        assert obj["metadata"]["labels"] == {"a": "b"}


def test_partial_object_metadata(core: client.CoreV1Api, http: Http, namespace: str) -> None:
    for name in ("m1", "m2"):
        core.create_namespaced_config_map(namespace, _cm(name, a=name))
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    listed = http.get(path, headers={"Accept": f"{PARTIAL_LIST},application/json"}).json()
    assert (listed["kind"], listed["apiVersion"]) == ("PartialObjectMetadataList", "meta.k8s.io/v1")
    assert int(listed["metadata"]["resourceVersion"]) > 0
    for item, name in zip(listed["items"], ("m1", "m2"), strict=True):
        assert (item["kind"], item["apiVersion"]) == ("PartialObjectMetadata", "meta.k8s.io/v1")
        assert item["metadata"]["name"] == name and item["metadata"]["labels"] == {"a": name}
        assert set(item) == {"kind", "apiVersion", "metadata"}
    one = http.get(f"{path}/m1", headers={"Accept": PARTIAL}).json()
    assert one["kind"] == "PartialObjectMetadata" and "data" not in one
    watched = _watch_with_accept(http, path, listed["metadata"]["resourceVersion"], PARTIAL)
    assert watched == []
    core.delete_namespaced_config_map("m2", namespace)
    watched = _watch_with_accept(http, path, listed["metadata"]["resourceVersion"], PARTIAL)
    assert [(e["type"], e["object"]["kind"]) for e in watched] == [
        ("DELETED", "PartialObjectMetadata")
    ]


# -- pagination -----------------------------------------------------------------------------


def test_limit_and_continue(core: client.CoreV1Api, namespace: str) -> None:
    for i in range(7):
        core.create_namespaced_config_map(
            namespace, _cm(f"cm-{i}", parity="odd" if i % 2 else "even")
        )
    pages: list[tuple[list[str], int | None, bool]] = []
    token = None
    while True:
        page = core.list_namespaced_config_map(namespace, limit=3, _continue=token)
        token = page.metadata._continue
        pages.append(
            ([c.metadata.name for c in page.items], page.metadata.remaining_item_count, bool(token))
        )
        if not token:
            break
    assert pages == [
        (["cm-0", "cm-1", "cm-2"], 4, True),
        (["cm-3", "cm-4", "cm-5"], 1, True),
        (["cm-6"], None, False),
    ]
    # With a selector kube does not count what is left (remainingItemCount stays unset).
    even = core.list_namespaced_config_map(namespace, limit=2, label_selector="parity=even")
    assert [c.metadata.name for c in even.items] == ["cm-0", "cm-2"]
    assert even.metadata._continue and even.metadata.remaining_item_count is None
    rest = core.list_namespaced_config_map(
        namespace, limit=2, label_selector="parity=even", _continue=even.metadata._continue
    )
    assert [c.metadata.name for c in rest.items] == ["cm-4", "cm-6"]


def test_continue_pages_are_one_snapshot(core: client.CoreV1Api, namespace: str) -> None:
    """Every page of a paginated list shows the collection at the first page's revision, as
    etcd's MVCC read gives it: later writes are neither seen nor missing."""
    for i in range(6):
        core.create_namespaced_config_map(namespace, _cm(f"cm-{i}"))
    first = core.list_namespaced_config_map(namespace, limit=3)
    at = first.metadata.resource_version
    core.delete_namespaced_config_map("cm-4", namespace)
    core.patch_namespaced_config_map("cm-5", namespace, {"data": {"k": "changed"}})
    core.create_namespaced_config_map(namespace, _cm("cm-9"))
    rest = core.list_namespaced_config_map(namespace, limit=10, _continue=first.metadata._continue)
    assert rest.metadata.resource_version == at
    assert [c.metadata.name for c in rest.items] == ["cm-3", "cm-4", "cm-5"]
    assert rest.items[2].data == {"k": "cm-5"}
    assert all(int(c.metadata.resource_version) <= int(at) for c in rest.items)


def test_bad_continue_token_is_400(http: Http, namespace: str) -> None:
    response = http.get(
        f"/api/v1/namespaces/{namespace}/configmaps", params={"limit": 1, "continue": "%%%"}
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "BadRequest"


# -- deletecollection -----------------------------------------------------------------------


def test_deletecollection_with_a_label_selector(
    core: client.CoreV1Api, http: Http, namespace: str
) -> None:
    for i in range(5):
        core.create_namespaced_config_map(
            namespace, _cm(f"cm-{i}", parity="odd" if i % 2 else "even")
        )
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    response = http.delete(
        f"/api/v1/namespaces/{namespace}/configmaps", params={"labelSelector": "parity=even"}
    )
    assert response.status_code == 200
    left = core.list_namespaced_config_map(namespace)
    assert [c.metadata.name for c in left.items] == ["cm-1", "cm-3"]
    deleted = http.watch_lines(
        f"/api/v1/namespaces/{namespace}/configmaps", resourceVersion=start, timeoutSeconds=1
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in deleted] == [
        ("DELETED", "cm-0"),
        ("DELETED", "cm-2"),
        ("DELETED", "cm-4"),
    ]
    # kube's generic store answers a deletecollection with the list of what it deleted.
    body = response.json()
    assert (body["kind"], body["apiVersion"]) == ("ConfigMapList", "v1")
    assert [i["metadata"]["name"] for i in body["items"]] == ["cm-0", "cm-2", "cm-4"]


def test_deletecollection_refused_where_kube_refuses_it(http: Http, namespace: str) -> None:
    """Services and namespaces have no deletecollection verb: 405 and nothing deleted."""
    response = http.delete(f"/api/v1/namespaces/{namespace}/services")
    assert response.status_code == 405
    assert response.json()["reason"] == "MethodNotAllowed"


# -- informer -------------------------------------------------------------------------------


def test_python_informer(core: client.CoreV1Api, namespace: str) -> None:
    """kubernetes.informer.SharedInformer lists, then watches from the list's revision."""
    core.create_namespaced_config_map(namespace, _cm("before"))
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def record(kind: str) -> Callable[[Any], None]:
        def handler(obj: Any) -> None:
            with lock:
                seen.append((kind, obj.metadata.name))

        return handler

    informer = SharedInformer(core.list_namespaced_config_map, namespace=namespace)
    for kind in ("ADDED", "MODIFIED", "DELETED"):
        informer.add_event_handler(kind, record(kind))
    informer.start()
    try:
        _until(lambda: informer.cache.list_keys() == [f"{namespace}/before"], "the initial list")
        core.create_namespaced_config_map(namespace, _cm("after"))
        core.patch_namespaced_config_map("before", namespace, {"data": {"k": "changed"}})
        core.delete_namespaced_config_map("after", namespace)

        def settled() -> bool:
            cached = informer.cache.get_by_key(f"{namespace}/before")
            return (
                informer.cache.list_keys() == [f"{namespace}/before"]
                and cached is not None
                and cached.data == {"k": "changed"}
            )

        _until(settled, "the informer cache to follow the writes")
    finally:
        _stop(informer, core, namespace)
    with lock:
        assert seen[:4] == [
            ("ADDED", "before"),
            ("ADDED", "after"),
            ("MODIFIED", "before"),
            ("DELETED", "after"),
        ]


def _stop(informer: SharedInformer, core: client.CoreV1Api, namespace: str) -> None:
    """The informer's thread notices ``stop()`` only on its watch's next event (its watch has
    no timeout): write until the stopping thread returns, with a deadline."""
    stopper = threading.Thread(target=informer.stop)
    stopper.start()
    end = time.monotonic() + 15
    for i in range(10_000):
        stopper.join(timeout=0.05)
        if not stopper.is_alive():
            return
        assert time.monotonic() < end, "the informer did not stop"
        core.create_namespaced_config_map(namespace, _cm(f"wake-{i}"))


def test_watch_rejects_a_malformed_resource_version(http: Http, namespace: str) -> None:
    response = http.get(
        f"/api/v1/namespaces/{namespace}/configmaps",
        params={"watch": "true", "resourceVersion": "abc", "timeoutSeconds": "1"},
    )
    body = response.json()
    assert response.status_code in (400, 422)  # kube: 400 from etcd3, 422 from its cacher
    assert (body["kind"], body["code"]) == ("Status", response.status_code)
