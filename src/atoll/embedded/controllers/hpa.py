"""HorizontalPodAutoscalers: scale a workload on its pods' CPU and memory (autoscaling/v2).

Every 15 seconds (kube's sync period) and whenever the HPA changes, the controller reads the
target's ``/scale`` subresource, keeps replicas within ``minReplicas``/``maxReplicas``, and
otherwise asks each ``Resource`` metric for a replica count: usage comes from the resource
metrics API (``metrics.k8s.io/v1beta1`` PodMetrics), requests from the pods themselves,
and ``hpa_replicas`` turns them into a proposal (tolerance, missing and unready pods,
stabilisation, rate limits). The highest proposal wins; a change is written to ``/scale``
(``SuccessfulRescale``). Status carries ``currentReplicas``, ``desiredReplicas``,
``currentMetrics``, ``lastScaleTime`` and the ``AbleToScale``, ``ScalingActive`` and
``ScalingLimited`` conditions, with kube's reasons and messages.

Until something serves ``metrics.k8s.io`` (the kubelet, in a later issue) every Resource
metric fails as it does on a real cluster without metrics-server: ScalingActive False,
reason ``FailedGetResourceMetric``, message ``the HPA was unable to compute the replica
count: unable to get metrics for resource cpu: unable to fetch metrics from resource
metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)``,
and the Events ``FailedGetResourceMetric`` and ``FailedComputeMetricsReplicas``. Metrics
from the custom and external metrics APIs are not served at all.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from atoll.controllers.results import Result
from atoll.controllers.runtime import Controller, ControllerContext
from atoll.errors import ApiError, Conflict, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.events import EventType
from atoll.kube.informers import Informer, key_of, split_key
from atoll.kube.quantities import QuantityError, canonical_quantity, parse_quantity
from atoll.kube.selectors import LabelSelector

from . import ControllerOptions
from .hpa_replicas import (
    Condition,
    MetricError,
    Normaliser,
    PodInfo,
    Proposal,
    average_value_proposal,
    utilization_proposal,
)
from .jobs import rfc3339
from .workload_pods import PODS, is_ready, is_terminating

__all__ = ["CONTROLLERS", "HPAS", "ApiPodMetrics", "HorizontalController", "PodMetricsSource"]

HPAS = ResourceType("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler")
SYNC_PERIOD = 15.0  # --horizontal-pod-autoscaler-sync-period
_NO_METRICS_API = "the server could not find the requested resource (get pods.metrics.k8s.io)"
_NO_CUSTOM_METRICS = "no custom metrics API (custom.metrics.k8s.io) registered"
# An autoscaling/v1 HPA without targetCPUUtilizationPercentage scales on 80 % CPU.
_DEFAULT_METRIC = {
    "type": "Resource",
    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
}


class PodMetricsSource(Protocol):
    """Usage of the pods of a namespace that match a selector: pod → resource → milli-units."""

    async def pod_metrics(self, namespace: str, selector: str) -> dict[str, dict[str, int]]: ...


class ApiPodMetrics:
    """PodMetrics from ``/apis/metrics.k8s.io/v1beta1``, as metrics-server serves them."""

    def __init__(self, client: KubeClient) -> None:
        self._client = client

    async def pod_metrics(self, namespace: str, selector: str) -> dict[str, dict[str, int]]:
        path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"
        try:
            listed = await self._client.request("GET", path, params={"labelSelector": selector})
        except NotFound:
            raise MetricError(_NO_METRICS_API) from None
        except ApiError as exc:
            raise MetricError(str(exc)) from None
        usage: dict[str, dict[str, int]] = {}
        for item in (listed or {}).get("items") or ():
            totals: dict[str, Decimal] = {}
            for container in item.get("containers") or ():
                for resource, value in (container.get("usage") or {}).items():
                    totals[resource] = totals.get(resource, Decimal(0)) + _milli(value)
            usage[item["metadata"]["name"]] = {r: int(v) for r, v in totals.items()}
        return usage


def _milli(value: object) -> Decimal:
    if not isinstance(value, str | int | float):
        return Decimal(0)
    try:
        return (parse_quantity(value) * 1000).to_integral_value()
    except QuantityError:
        return Decimal(0)


def _pod_info(pod: Mapping[str, Any]) -> PodInfo:
    """A pod's phase, readiness and summed container requests (None when one lacks it)."""
    requests: dict[str, int | None] = {}
    for resource in ("cpu", "memory"):
        total: int | None = 0
        for container in (pod.get("spec") or {}).get("containers") or ():
            value = ((container.get("resources") or {}).get("requests") or {}).get(resource)
            if value is None or total is None:
                total = None
                continue
            total += int(_milli(value))
        requests[resource] = total
    status = pod.get("status") or {}
    return PodInfo(
        name=pod["metadata"]["name"],
        phase=str(status.get("phase") or "Pending"),
        ready=is_ready(pod),
        deleting=is_terminating(pod),
        requests=requests,
    )


@dataclass(slots=True)
class _Sync:
    """One pass over one HPA: its status being built and the Events to record."""

    hpa: Object
    status: dict[str, Any]
    now: datetime
    events: list[tuple[EventType, str, str]]

    def condition(self, kind: str, state: str, reason: str, message: str) -> None:
        """kube's setCondition: lastTransitionTime moves only when the status changes."""
        conditions: list[dict[str, Any]] = self.status.setdefault("conditions", [])
        found = next((c for c in conditions if c.get("type") == kind), None)
        if found is None:
            found = {"type": kind}
            conditions.append(found)
        if found.get("status") != state:
            found["lastTransitionTime"] = rfc3339(self.now)
        found.update(status=state, reason=reason, message=message)

    def warn(self, reason: str, message: str) -> None:
        self.events.append(("Warning", reason, message))


class HorizontalController:
    """Kube's horizontal pod autoscaler controller; see the module docstring."""

    name = "horizontalpodautoscaling"

    def __init__(
        self, options: ControllerOptions, *, metrics: PodMetricsSource | None = None
    ) -> None:
        self._options = options
        self._metrics = metrics
        self._normaliser = Normaliser()

    async def setup(self, ctx: ControllerContext) -> None:
        self._ctx = ctx
        if self._metrics is None:
            self._metrics = ApiPodMetrics(ctx.client)
        self._hpas: Informer = ctx.informers.informer(HPAS)
        self._pods: Informer = ctx.informers.informer(PODS)
        self._hpas.add_handler(ctx.enqueue, self._changed, self._gone)

    def _changed(self, old: Object, new: Object) -> None:
        if (old.get("metadata") or {}).get("generation") != new["metadata"].get("generation"):
            self._ctx.enqueue(new)

    def _gone(self, hpa: Object) -> None:
        self._normaliser.forget(key_of(hpa))

    async def reconcile(self, key: str) -> Result:
        hpa = self._hpas.get(key)
        if hpa is None:
            return Result()
        sync = _Sync(hpa, copy.deepcopy(hpa.get("status") or {}), self._ctx.clock.now(), [])
        await self._autoscale(key, sync)
        sync.status["observedGeneration"] = hpa["metadata"].get("generation", 1)
        if sync.status != (hpa.get("status") or {}):
            try:
                await self._ctx.client.replace_status(HPAS, {**hpa, "status": sync.status})
            except (Conflict, NotFound):
                return Result(requeue=True)
        for kind, reason, message in sync.events:
            await self._ctx.events.record(hpa, reason, message=message, type=kind)
        return Result(requeue_after=SYNC_PERIOD)

    async def _autoscale(self, key: str, sync: _Sync) -> None:
        spec = sync.hpa.get("spec") or {}
        target = await self._scale(sync)
        if target is None:
            return
        rt, scale = target
        current = int((scale.get("spec") or {}).get("replicas") or 0)
        minimum, maximum = int(spec.get("minReplicas") or 1), int(spec.get("maxReplicas") or 1)
        metrics: list[dict[str, Any]] | None = None
        if current == 0 and minimum != 0:
            desired, reason = 0, ""
            sync.condition(
                "ScalingActive",
                "False",
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
            )
        elif current > maximum:
            desired, reason = maximum, "Current number of replicas above Spec.MaxReplicas"
        elif current < minimum:
            desired, reason = minimum, "Current number of replicas below Spec.MinReplicas"
        else:
            computed = await self._from_metrics(key, sync, scale, current)
            if computed is None:
                sync.status["currentReplicas"] = current
                sync.status.setdefault("desiredReplicas", 0)
                return
            desired, reason, metrics = computed
        if desired != current and not await self._rescale(sync, rt, scale, desired, reason):
            desired = current
        elif desired != current:
            self._normaliser.record_scale(
                key, before=current, after=desired, now=self._ctx.clock.monotonic()
            )
        sync.status["currentReplicas"] = current
        sync.status["desiredReplicas"] = desired
        if metrics is not None:
            sync.status["currentMetrics"] = metrics

    async def _scale(self, sync: _Sync) -> tuple[ResourceType, Object] | None:
        """The target's Scale; a condition and an Event when it cannot be read."""
        ref = (sync.hpa.get("spec") or {}).get("scaleTargetRef") or {}
        group, _, version = str(ref.get("apiVersion") or "").rpartition("/")
        namespace = sync.hpa["metadata"]["namespace"]
        try:
            rt = await self._ctx.client.resource_type((group, version, str(ref.get("kind"))))
            scale = await self._ctx.client.get(
                rt, str(ref.get("name")), namespace=namespace, subresource="scale"
            )
        except ApiError as exc:
            message = str(exc)
            sync.warn("FailedGetScale", message)
            sync.condition(
                "AbleToScale",
                "False",
                "FailedGetScale",
                f"the HPA controller was unable to get the target's current scale: {message}",
            )
            return None
        sync.condition(
            "AbleToScale",
            "True",
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
        )
        return rt, scale

    async def _from_metrics(
        self, key: str, sync: _Sync, scale: Object, current: int
    ) -> tuple[int, str, list[dict[str, Any]]] | None:
        """The highest proposal over the metrics, normalised; None when every metric failed."""
        specs = (sync.hpa.get("spec") or {}).get("metrics") or [_DEFAULT_METRIC]
        selector = str((scale.get("status") or {}).get("selector") or "")
        best: tuple[int, str] | None = None
        statuses: list[dict[str, Any]] = []
        failures: list[tuple[str, Condition]] = []
        for metric in specs:
            try:
                proposal, name, status = await self._proposal(sync, metric, selector, current)
            except MetricError as exc:
                failures.append(_failure(metric, exc))
                continue
            statuses.append(status)
            if best is None or proposal.replicas > best[0]:
                best = (proposal.replicas, name)
        for _wrapped, condition in failures:
            sync.warn(condition[2], _event_text(condition))
        if best is None or len(failures) >= len(specs):
            self._all_failed(sync, failures, len(specs))
            return None
        sync.condition(
            "ScalingActive",
            "True",
            "ValidMetricFound",
            f"the HPA was able to successfully calculate a replica count from {best[1]}",
        )
        return self._normalised(key, sync, current, best, statuses)

    def _all_failed(
        self, sync: _Sync, failures: Sequence[tuple[str, Condition]], count: int
    ) -> None:
        if failures:
            message, condition = failures[0]
            sync.condition(*condition)
            sync.warn(
                "FailedComputeMetricsReplicas",
                f"invalid metrics ({len(failures)} invalid out of {count}), first error is: "
                f"{message}",
            )

    def _normalised(
        self,
        key: str,
        sync: _Sync,
        current: int,
        best: tuple[int, str],
        statuses: list[dict[str, Any]],
    ) -> tuple[int, str, list[dict[str, Any]]]:
        proposed, metric = best
        reason = ""
        if proposed > current:
            reason = f"{metric} above target"
        elif proposed < current:
            reason = "All metrics below target"
        desired, conditions = self._normaliser.normalise(
            key,
            sync.hpa.get("spec") or {},
            current=current,
            desired=proposed,
            now=self._ctx.clock.monotonic(),
        )
        for condition in conditions:
            sync.condition(*condition)
        return desired, reason, statuses

    async def _proposal(
        self, sync: _Sync, metric: Mapping[str, Any], selector: str, current: int
    ) -> tuple[Proposal, str, dict[str, Any]]:
        """One metric's proposal, its name as events print it, and its status entry."""
        kind = metric.get("type")
        if kind != "Resource":
            raise MetricError(f"unable to get metric for {kind} metric: {_NO_CUSTOM_METRICS}")
        source = metric.get("resource") or {}
        resource = str(source.get("name") or "")
        target = source.get("target") or {}
        namespace = sync.hpa["metadata"]["namespace"]
        samples = await self._usage(namespace, selector, resource)
        parsed = LabelSelector.parse(selector) if selector else LabelSelector.nothing()
        pods = [_pod_info(p) for p in self._pods.list(namespace, parsed)]
        current_status: dict[str, Any]
        if target.get("type") == "AverageValue" and target.get("averageValue") is not None:
            goal = int(_milli(target["averageValue"]))
            proposal = average_value_proposal(current, goal, resource, pods, samples)
            current_status = {"averageValue": _quantity(proposal.raw)}
            name = f"{resource} resource"
        else:
            goal = int(target.get("averageUtilization") or 0)
            if goal <= 0:
                raise MetricError(
                    "invalid resource metric source: neither a utilization target nor a value "
                    "target was set"
                )
            proposal = utilization_proposal(current, goal, resource, pods, samples)
            current_status = {
                "averageValue": _quantity(proposal.raw),
                "averageUtilization": proposal.utilization,
            }
            name = f"{resource} resource utilization (percentage of request)"
        status = {"type": "Resource", "resource": {"name": resource, "current": current_status}}
        return proposal, name, status

    async def _usage(self, namespace: str, selector: str, resource: str) -> dict[str, int]:
        """Each pod's usage of ``resource`` (milli-units), with kube's wording on failure."""
        assert self._metrics is not None
        try:
            usage = await self._metrics.pod_metrics(namespace, selector)
        except MetricError as exc:
            raise MetricError(
                f"unable to get metrics for resource {resource}: unable to fetch metrics from "
                f"resource metrics API: {exc}"
            ) from None
        return {pod: values[resource] for pod, values in usage.items() if resource in values}

    async def _rescale(
        self, sync: _Sync, rt: ResourceType, scale: Object, desired: int, reason: str
    ) -> bool:
        namespace, name = split_key(key_of(scale))
        body = {**scale, "spec": {**(scale.get("spec") or {}), "replicas": desired}}
        try:
            await self._ctx.client.request(
                "PUT", rt.path(namespace=namespace, name=name, subresource="scale"), body=body
            )
        except ApiError as exc:
            sync.warn("FailedRescale", f"New size: {desired}; reason: {reason}; error: {exc}")
            sync.condition(
                "AbleToScale",
                "False",
                "FailedUpdateScale",
                f"the HPA controller was unable to update the target scale: {exc}",
            )
            return False
        sync.condition(
            "AbleToScale",
            "True",
            "SucceededRescale",
            f"the HPA controller was able to update the target scale to {desired}",
        )
        sync.events.append(
            ("Normal", "SuccessfulRescale", f"New size: {desired}; reason: {reason}")
        )
        sync.status["lastScaleTime"] = rfc3339(sync.now)
        return True


def _quantity(milli: int) -> str:
    return canonical_quantity(str(Decimal(milli) / 1000))


def _failure(metric: Mapping[str, Any], exc: MetricError) -> tuple[str, Condition]:
    """(kube's wrapped error, the ScalingActive condition) of a metric that failed."""
    kind = str(metric.get("type") or "")
    if kind == "Resource":
        resource = (metric.get("resource") or {}).get("name", "")
        reason, wrapped = "FailedGetResourceMetric", f"failed to get {resource} utilization: {exc}"
    else:
        reason, wrapped = f"FailedGet{kind}Metric", f"failed to get {kind} metric: {exc}"
    condition = (
        "ScalingActive",
        "False",
        reason,
        f"the HPA was unable to compute the replica count: {exc}",
    )
    return wrapped, condition


def _event_text(condition: Condition) -> str:
    return condition[3].removeprefix("the HPA was unable to compute the replica count: ")


def _hpa_controller(options: ControllerOptions) -> Controller:
    return HorizontalController(options)


CONTROLLERS = [_hpa_controller]
