"""``metrics.k8s.io/v1beta1`` (``atoll.embedded.apiserver.metricsapi``): ``kubectl top``, the
Python client and the HPA against a cluster whose kubelet runs pods as host processes.

Burning pods load a shared two-core machine: CPU bounds are loose, the HPA's pods burn a
quarter of a core each (enough for 250 % of a 100m request), and everything a test starts
is deleted when it ends. Nothing sleeps to synchronise: waits are deadlines (``eventually``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config
from kubernetes.utils import parse_quantity
from tests.conftest import ClusterProcess, start_cluster
from tests.embedded.apiserver.http_support import Http, assert_status
from tests.waiting import eventually

from atoll.embedded.apiserver.metricsapi import SummaryCache, node_metrics, pod_metrics
from atoll.errors import ServiceUnavailable

METRICS = "/apis/metrics.k8s.io/v1beta1"
BURN = "while True: pass"
# A quarter of a core: 100 ms busy in every 400 ms.
BURN_A_QUARTER = (
    "import time\n"
    "while True:\n"
    "    end = time.monotonic() + 0.1\n"
    "    while time.monotonic() < end:\n"
    "        pass\n"
    "    time.sleep(0.3)\n"
)
IDLE = "import time; time.sleep(1e9)"


def top_rows(cluster: ClusterProcess, *args: str) -> dict[str, list[str]]:
    """``kubectl top …`` as {name: cells}; {} while metrics are not available yet."""
    out = cluster.kubectl("top", *args, check=False)
    lines = out.strip().splitlines()
    if not lines or not lines[0].startswith("NAME"):
        return {}
    return {line.split()[0]: line.split()[1:] for line in lines[1:]}


def millicores(cell: str) -> int:
    match = re.fullmatch(r"(\d+)m", cell)
    assert match, cell
    return int(match.group(1))


@contextlib.contextmanager
def custom_objects(cluster: ClusterProcess) -> Iterator[client.CustomObjectsApi]:
    """The official client's CustomObjectsApi, its connections closed afterwards."""
    with config.new_client_from_config(config_file=str(cluster.kubeconfig)) as api_client:
        yield client.CustomObjectsApi(api_client)


# -- discovery ------------------------------------------------------------------------------


def test_discovery_lists_the_group_as_metrics_server_registers_it(cluster: ClusterProcess) -> None:
    http = Http(cluster)
    groups = http.get("/apis").json()["groups"]
    version = {"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"}
    assert groups[-1] == {
        "name": "metrics.k8s.io",
        "versions": [version],
        "preferredVersion": version,
    }
    assert http.get("/apis/metrics.k8s.io/").json() == {
        "kind": "APIGroup",
        "apiVersion": "v1",
        **groups[-1],
    }
    resources = http.get(METRICS).json()
    assert resources["groupVersion"] == "metrics.k8s.io/v1beta1"
    assert resources["resources"] == [
        {
            "name": "nodes",
            "singularName": "",
            "namespaced": False,
            "kind": "NodeMetrics",
            "verbs": ["get", "list"],
        },
        {
            "name": "pods",
            "singularName": "",
            "namespaced": True,
            "kind": "PodMetrics",
            "verbs": ["get", "list"],
        },
    ]


# -- kubectl top and the Python client ------------------------------------------------------


def test_a_burning_pod_shows_in_kubectl_top_and_the_python_client(
    cluster: ClusterProcess, namespace: str
) -> None:
    cluster.kubectl("run", "burn", "-n", namespace, "--image=python", "--", "python3", "-c", BURN)
    try:
        _check_top(cluster, namespace)
        _check_python_client(cluster, namespace)
        _check_tables(cluster, namespace)
    finally:
        cluster.kubectl("delete", "pod", "burn", "-n", namespace, "--wait=false", check=False)


def _check_top(cluster: ClusterProcess, namespace: str) -> None:
    seen: list[int] = []

    def busy() -> list[str] | None:
        row = top_rows(cluster, "pod", "-n", namespace).get("burn")
        if row is None:
            return None
        seen.append(millicores(row[0]))
        return row if seen[-1] >= 300 else None

    _, memory = eventually(busy, timeout=60, what="burn at 300m or more in kubectl top")
    assert all(value <= 1200 for value in seen), seen  # one thread: at most about one core
    assert re.fullmatch(r"[1-9]\d*Mi", memory), memory
    labelled = top_rows(cluster, "pod", "-n", namespace, "-l", "run=burn")
    assert set(labelled) == {"burn"}
    assert top_rows(cluster, "pod", "-n", namespace, "-l", "run=other") == {}
    nodes = eventually(lambda: top_rows(cluster, "node"), timeout=30)
    (node,) = nodes.values()
    assert millicores(node[0]) > 0 and node[1].endswith("%") and node[2].endswith("Mi")


def _check_python_client(cluster: ClusterProcess, namespace: str) -> None:
    with custom_objects(cluster) as api:
        _check_custom_objects(api, namespace)


def _check_custom_objects(api: client.CustomObjectsApi, namespace: str) -> None:
    listed = api.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", namespace, "pods")
    assert (listed["kind"], listed["apiVersion"]) == ("PodMetricsList", "metrics.k8s.io/v1beta1")
    (item,) = listed["items"]
    assert item["metadata"]["name"] == "burn" and item["metadata"]["labels"] == {"run": "burn"}
    assert item["window"] == "10s"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["timestamp"])
    (container,) = item["containers"]
    assert container["name"] == "burn"
    assert re.fullmatch(r"\d+n|\d+m|\d+", container["usage"]["cpu"])
    assert Decimal("0.1") < parse_quantity(container["usage"]["cpu"]) <= Decimal("1.2")
    assert parse_quantity(container["usage"]["memory"]) > 0
    one = api.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", namespace, "pods", "burn")
    assert (one["kind"], one["metadata"]["namespace"]) == ("PodMetrics", namespace)
    everywhere = api.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "pods")
    assert any(i["metadata"]["namespace"] == namespace for i in everywhere["items"])
    selected = api.list_cluster_custom_object(
        "metrics.k8s.io", "v1beta1", "pods", field_selector=f"metadata.namespace={namespace}"
    )
    assert [i["metadata"]["name"] for i in selected["items"]] == ["burn"]
    nodes = api.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")["items"]
    assert [n["metadata"]["name"] for n in nodes] and all(n["usage"]["cpu"] for n in nodes)


def _check_tables(cluster: ClusterProcess, namespace: str) -> None:
    """``kubectl get podmetrics`` asks for a Table; its columns are metrics-server's."""
    out = cluster.kubectl("get", "podmetrics.metrics.k8s.io", "-n", namespace)
    header, row = out.strip().splitlines()
    assert header.split() == ["NAME", "CPU", "MEMORY", "WINDOW"]
    assert row.split()[0] == "burn" and row.split()[3] == "10s"


# -- errors ---------------------------------------------------------------------------------


def test_missing_objects_wrong_verbs_and_bad_selectors_are_statuses(
    cluster: ClusterProcess, namespace: str
) -> None:
    http = Http(cluster)
    pods = f"{METRICS}/namespaces/{namespace}/pods"
    body = assert_status(http.get(f"{pods}/nope"), 404, "NotFound")
    assert body["message"] == 'pods "nope" not found'
    # A pod that exists but does not run has no metrics: metrics-server's own NotFound.
    pending = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "pending"},
        "spec": {
            "nodeSelector": {"no-such-label": "x"},
            "containers": [{"name": "main", "image": "python", "command": ["true"]}],
        },
    }
    assert http.post(f"/api/v1/namespaces/{namespace}/pods", json=pending).status_code == 201
    body = assert_status(http.get(f"{pods}/pending"), 404, "NotFound")
    assert body["message"] == f'podmetrics.metrics.k8s.io "{namespace}/pending" not found'
    assert body["details"] == {
        "name": f"{namespace}/pending",
        "group": "metrics.k8s.io",
        "kind": "podmetrics",
    }
    assert http.get(pods).json()["items"] == []
    body = assert_status(http.get(f"{METRICS}/nodes/nope"), 404, "NotFound")
    assert body["message"] == 'nodes "nope" not found'
    for path in (
        f"{METRICS}/pods/pending",
        f"{METRICS}/namespaces/{namespace}/nodes",
        f"{pods}/x/y",
    ):
        assert_status(http.get(path), 404, "NotFound")
    assert_status(http.post(pods, json={}), 405, "MethodNotAllowed")
    assert_status(http.delete(f"{pods}/pending"), 405, "MethodNotAllowed")
    assert_status(http.put(f"{METRICS}/nodes/x", json={}), 405, "MethodNotAllowed")
    assert_status(http.get(pods, params={"watch": "true"}), 405, "MethodNotAllowed")
    assert_status(http.get(f"{METRICS}/watch/nodes"), 405, "MethodNotAllowed")
    assert_status(http.get(pods, params={"labelSelector": "a b"}), 400, "BadRequest")
    body = assert_status(
        http.get(pods, params={"fieldSelector": "spec.nodeName=x"}), 400, "BadRequest"
    )
    assert body["message"] == "field label not supported: spec.nodeName"
    assert_status(http.get(pods, params={"watch": "maybe"}), 400, "BadRequest")


# -- the HPA --------------------------------------------------------------------------------


def _workload(command: str) -> list[dict[str, Any]]:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "busy"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "busy"}},
            "template": {
                "metadata": {"labels": {"app": "busy"}},
                "spec": {
                    "terminationGracePeriodSeconds": 2,
                    "containers": [
                        {
                            "name": "main",
                            "image": "python",
                            "command": ["python3", "-c", command],
                            "resources": {"requests": {"cpu": "100m"}},
                        }
                    ],
                },
            },
        },
    }
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "busy"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "busy"},
            "minReplicas": 1,
            "maxReplicas": 3,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 50},
                    },
                }
            ],
            "behavior": {
                "scaleUp": {"stabilizationWindowSeconds": 0},
                "scaleDown": {"stabilizationWindowSeconds": 0},
            },
        },
    }
    return [deployment, hpa]


def replicas(cluster: ClusterProcess, namespace: str) -> int:
    out = cluster.kubectl("get", "deployment", "busy", "-n", namespace, "-o", "json")
    return int(json.loads(out)["spec"]["replicas"])


def hpa_status(cluster: ClusterProcess, namespace: str) -> dict[str, Any]:
    """The autoscaling/v2 status (kubectl 1.20 would read v1, conditions in an annotation)."""
    path = f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/busy"
    return dict(Http(cluster).get(path).json().get("status") or {})


def test_the_hpa_scales_a_deployment_up_under_load_and_back_down(
    cluster: ClusterProcess, namespace: str
) -> None:
    # The controller syncs every 15 s and a pod has metrics 5–10 s after it starts: up and
    # down take a sync or two each; the deadlines leave room for a loaded machine.
    manifest = yaml.safe_dump_all(_workload(BURN_A_QUARTER))
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=manifest)
    try:
        eventually(lambda: replicas(cluster, namespace) > 1, timeout=120, what="scaled up")
        # The status is written just after the scale: wait for it too.
        status = eventually(
            lambda: (h := hpa_status(cluster, namespace)).get("desiredReplicas", 0) > 1 and h
        )
        conditions = {c["type"]: c for c in status["conditions"]}
        assert conditions["ScalingActive"]["reason"] == "ValidMetricFound", conditions
        assert status["currentMetrics"][0]["resource"]["current"]["averageUtilization"] > 50
        idle = [{"op": "replace", "path": "/spec/template/spec/containers/0/command",
                 "value": ["python3", "-c", IDLE]}]  # fmt: skip
        cluster.kubectl(
            "patch", "deployment", "busy", "-n", namespace, "--type=json", "-p", json.dumps(idle)
        )
        eventually(lambda: replicas(cluster, namespace) == 1, timeout=120, what="scaled down")
    finally:
        cluster.kubectl(
            "delete", "hpa,deployment", "busy", "-n", namespace, "--wait=false", check=False
        )


# -- without a kubelet ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def kubeletless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    """A cluster with the kubelet off (the default): no metrics-server either."""
    data_dir: Path = tmp_path_factory.mktemp("no-kubelet") / "data"
    data_dir.mkdir()
    proc = start_cluster(data_dir)
    yield proc
    if proc.process.poll() is None:
        proc.stop()


def test_without_a_kubelet_the_group_is_not_served(kubeletless: ClusterProcess) -> None:
    http = Http(kubeletless)
    names = [group["name"] for group in http.get("/apis").json()["groups"]]
    assert "metrics.k8s.io" not in names
    for path in ("/apis/metrics.k8s.io", METRICS, f"{METRICS}/nodes", f"{METRICS}/pods"):
        body = assert_status(http.get(path), 404, "NotFound")
        assert body["message"] == "the server could not find the requested resource"
    out = kubeletless.kubectl("top", "node", check=False)
    assert "Metrics API not available" in out


# -- in process: the cache and the conversion -----------------------------------------------


class _Kubelet:
    def __init__(self) -> None:
        self.calls = 0
        self.fail = False
        self.started = asyncio.Event()
        self.gate = asyncio.Event()

    async def summary(self, node: Any, *, timeout: float) -> dict[str, Any]:
        self.calls += 1
        self.started.set()
        await self.gate.wait()
        if self.fail:
            raise ServiceUnavailable("the kubelet at 127.0.0.1:1 did not answer")
        return {"node": {}, "pods": [], "call": self.calls}


async def test_a_burst_costs_one_fetch_and_the_summary_is_kept_briefly() -> None:
    kubelet, now = _Kubelet(), [100.0]
    cache = SummaryCache(kubelet, ttl=1.5, timeout=1.0, clock=lambda: now[0])
    node = {"metadata": {"name": "n1"}}
    burst = [asyncio.ensure_future(cache.of(node)) for _ in range(5)]
    await kubelet.started.wait()  # the first fetch is under way; the others queue behind it
    kubelet.gate.set()
    assert [s and s["call"] for s in await asyncio.gather(*burst)] == [1] * 5
    now[0] += 1.4
    assert (await cache.of(node) or {})["call"] == 1
    now[0] += 0.2
    assert (await cache.of(node) or {})["call"] == 2
    kubelet.fail, now[0] = True, now[0] + 2
    assert await cache.of(node) is None  # no metrics from that node, as a failed scrape
    assert await cache.of(node) is None and kubelet.calls == 3  # the failure is kept too


def test_conversion_formats_quantities_as_metrics_server_and_skips_pods_without_a_rate() -> None:
    pod = {"metadata": {"name": "web", "namespace": "ns", "uid": "u1", "labels": {"a": "b"}}}

    def stats(nano: int | None, working: int, time: str) -> dict[str, Any]:
        cpu: dict[str, Any] = {"time": time, "usageCoreNanoSeconds": 5}
        if nano is not None:
            cpu["usageNanoCores"] = nano
        return {"cpu": cpu, "memory": {"time": time, "workingSetBytes": working}}

    entry = {
        "podRef": {"name": "web", "namespace": "ns", "uid": "u1"},
        "containers": [
            {"name": "a", **stats(1_500_000_000, 2 << 20, "2024-01-01T00:00:07Z")},
            {"name": "b", **stats(1_234_567, 1536 * 1024 + 1, "2024-01-01T00:00:05Z")},
        ],
    }
    found = pod_metrics(pod, entry, "2024-01-01T00:00:09Z")
    assert found == {
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": "web",
            "namespace": "ns",
            "creationTimestamp": "2024-01-01T00:00:09Z",
            "labels": {"a": "b"},
        },
        "timestamp": "2024-01-01T00:00:05Z",
        "window": "10s",
        "containers": [
            {"name": "a", "usage": {"cpu": "1500m", "memory": "2Mi"}},
            {"name": "b", "usage": {"cpu": "1234567n", "memory": "1572865"}},
        ],
    }
    entry["containers"][1] = {"name": "b", **stats(None, 1024, "2024-01-01T00:00:05Z")}
    assert pod_metrics(pod, entry, "2024-01-01T00:00:09Z") is None
    assert pod_metrics(pod, {"containers": []}, "2024-01-01T00:00:09Z") is None
    node = {"metadata": {"name": "n1", "labels": {"kubernetes.io/os": "linux"}}}
    summary = {"node": stats(0, 3 << 30, "2024-01-01T00:00:06Z")}
    assert node_metrics(node, summary, "2024-01-01T00:00:09Z") == {
        "kind": "NodeMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": "n1",
            "creationTimestamp": "2024-01-01T00:00:09Z",
            "labels": {"kubernetes.io/os": "linux"},
        },
        "timestamp": "2024-01-01T00:00:06Z",
        "window": "10s",
        "usage": {"cpu": "0", "memory": "3Gi"},
    }
    assert node_metrics(node, {"node": stats(None, 1, "x")}, "x") is None
    # A malformed summary gives no metrics (and never a 500).
    assert node_metrics(node, {"node": {"cpu": "1", "memory": []}}, "x") is None
    assert pod_metrics(pod, {"containers": [{"cpu": 1}, "x"]}, "x") is None
    assert pod_metrics(pod, {"containers": 7}, "x") is None
