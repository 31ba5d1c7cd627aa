"""The HPA controller: without a metrics API as a real cluster reports it; with metrics, scaling.

Scaling on usage runs the controller in process on a ManualClock with a stand-in metrics
source, against a cluster whose own ``horizontalpodautoscaling`` controller is off.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ClusterProcess

from atoll.controllers.clocks import ManualClock
from atoll.controllers.runtime import Controller
from atoll.embedded.controllers import ControllerOptions
from atoll.embedded.controllers.hpa import HorizontalController

from .batch_support import (
    Api,
    eventually,
    eventually_async,
    in_process,
    mark_running,
    start_cluster_without,
)

NO_METRICS = (
    "unable to get metrics for resource cpu: unable to fetch metrics from resource metrics "
    "API: the server could not find the requested resource (get pods.metrics.k8s.io)"
)


def _deployment(name: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }


def _hpa(name: str, *, minimum: int = 1, maximum: int = 10, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": minimum,
            "maxReplicas": maximum,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 50},
                    },
                }
            ],
            **extra,
        },
    }


def _conditions(hpa: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {
        c["type"]: (c["status"], c["reason"], c["message"])
        for c in (hpa.get("status") or {}).get("conditions") or []
    }


def test_without_metrics_api_scaling_is_inactive(cluster: ClusterProcess, namespace: str) -> None:
    api = Api(cluster)
    api.post(f"/apis/apps/v1/namespaces/{namespace}/deployments", _deployment("web", 1))
    api.post(f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers", _hpa("web"))
    path = f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/web"
    conditions = eventually(
        lambda: _conditions(api.get(path)).get("ScalingActive") and _conditions(api.get(path))
    )
    assert conditions["AbleToScale"] == (
        "True",
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
    )
    assert conditions["ScalingActive"] == (
        "False",
        "FailedGetResourceMetric",
        f"the HPA was unable to compute the replica count: {NO_METRICS}",
    )
    status = api.get(path)["status"]
    assert status["currentReplicas"] == 1 and status["desiredReplicas"] == 0
    events = eventually(
        lambda: len(api.events(namespace, "web")) >= 2 and api.events(namespace, "web")
    )
    assert ("Warning", "FailedGetResourceMetric", NO_METRICS) in events
    assert (
        "Warning",
        "FailedComputeMetricsReplicas",
        f"invalid metrics (1 invalid out of 1), first error is: failed to get cpu utilization: "
        f"{NO_METRICS}",
    ) in events
    described = cluster.kubectl("describe", "hpa", "web", "-n", namespace)
    assert "FailedGetResourceMetric" in described


def test_min_replicas_apply_without_metrics(cluster: ClusterProcess, namespace: str) -> None:
    api = Api(cluster)
    api.post(f"/apis/apps/v1/namespaces/{namespace}/deployments", _deployment("small", 1))
    cluster.kubectl(
        "autoscale",
        "deployment",
        "small",
        "-n",
        namespace,
        "--min=2",
        "--max=4",
        "--cpu-percent=60",
    )
    deployment = f"/apis/apps/v1/namespaces/{namespace}/deployments/small"
    eventually(lambda: api.get(deployment)["spec"]["replicas"] == 2)
    message = "New size: 2; reason: Current number of replicas below Spec.MinReplicas"
    eventually(lambda: ("Normal", "SuccessfulRescale", message) in api.events(namespace, "small"))
    hpa = api.get(f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/small")
    assert hpa["status"]["desiredReplicas"] == 2 and hpa["status"]["lastScaleTime"]
    assert _conditions(hpa)["AbleToScale"][1] == "SucceededRescale"


def test_missing_target_is_reported(cluster: ClusterProcess, namespace: str) -> None:
    api = Api(cluster)
    api.post(f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers", _hpa("ghost"))
    path = f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/ghost"
    condition = eventually(lambda: _conditions(api.get(path)).get("AbleToScale"))
    assert condition == (
        "False",
        "FailedGetScale",
        "the HPA controller was unable to get the target's current scale: "
        'deployments.apps "ghost" not found',
    )


# -- with metrics ---------------------------------------------------------------------------


class FakeMetrics:
    """A metrics source the test sets: pod name → resource → milli-units."""

    def __init__(self) -> None:
        self.usage: dict[str, dict[str, int]] = {}

    async def pod_metrics(self, namespace: str, selector: str) -> dict[str, dict[str, int]]:
        return {pod: dict(values) for pod, values in self.usage.items()}


@pytest.fixture(scope="module")
def quiet_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterProcess]:
    data_dir: Path = tmp_path_factory.mktemp("hpa") / "data"
    data_dir.mkdir()
    proc = start_cluster_without(data_dir, "horizontalpodautoscaling")
    yield proc
    proc.stop()


def _ready_pod(api: Api, namespace: str, name: str, app: str) -> None:
    """A pod of ``app`` (requests 100m CPU), marked Running and Ready as a kubelet would."""
    api.post(
        f"/api/v1/namespaces/{namespace}/pods",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": app}},
            "spec": {
                "containers": [
                    {"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "100m"}}}
                ]
            },
        },
    )
    mark_running(api, namespace, name)


async def test_scales_on_cpu_utilization(quiet_cluster: ClusterProcess) -> None:
    api, ns, metrics = Api(quiet_cluster), "hpa-cpu", FakeMetrics()
    quiet_cluster.kubectl("create", "namespace", ns)
    # The pods are the test's own; the paused Deployment is only the scale target (its
    # controller starts no pods of its own that the calculation would have to count).
    target = _deployment("api", 2)
    target["spec"]["paused"] = True
    api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", target)
    for name in ("a", "b"):
        _ready_pod(api, ns, name, "api")
    metrics.usage = {"a": {"cpu": 100}, "b": {"cpu": 100}}  # 100 % of the request, target 50 %

    def controller(clock: ManualClock) -> Controller:
        return HorizontalController(ControllerOptions(clock=clock), metrics=metrics)

    hpas = f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers"
    deployment = f"/apis/apps/v1/namespaces/{ns}/deployments/api"
    async with in_process(quiet_cluster, [controller]) as clock:
        api.post(hpas, _hpa("api"))
        await eventually_async(lambda: api.get(deployment)["spec"]["replicas"] == 4)
        hpa = await eventually_async(
            lambda: (h := api.get(f"{hpas}/api"))["status"].get("desiredReplicas") == 4 and h
        )
        assert hpa["status"]["currentMetrics"] == [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "current": {"averageValue": "100m", "averageUtilization": 100},
                },
            }
        ]
        assert _conditions(hpa)["ScalingActive"][:2] == ("True", "ValidMetricFound")
        reason = "cpu resource utilization (percentage of request) above target"
        assert ("Normal", "SuccessfulRescale", f"New size: 4; reason: {reason}") in api.events(
            ns, "api"
        )

        metrics.usage = {"a": {"cpu": 10}, "b": {"cpu": 10}}  # 10 %: one replica would do

        def stabilized() -> dict[str, Any] | None:
            h = api.get(f"{hpas}/api")
            return h if _conditions(h)["AbleToScale"][1] == "ScaleDownStabilized" else None

        # Under load the controller may schedule its next sync only after a first advance
        # (15 s on from then): advance by a sync period again, well within the 300 s window.
        for _ in range(5):
            clock.advance(16)
            with contextlib.suppress(AssertionError):
                hpa = await eventually_async(stabilized, nudge=clock, timeout=4)
                break
        else:
            raise AssertionError("the HPA never reported ScaleDownStabilized")
        assert api.get(deployment)["spec"]["replicas"] == 4, "held for the stabilisation window"
        clock.advance(300)
        await eventually_async(lambda: api.get(deployment)["spec"]["replicas"] == 1, nudge=clock)
        message = "New size: 1; reason: All metrics below target"
        assert ("Normal", "SuccessfulRescale", message) in api.events(ns, "api")
