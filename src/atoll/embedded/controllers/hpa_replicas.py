"""How many replicas an HPA wants: kube's replica calculator and its normalisation, as data.

Pure functions, no I/O, so every rule is testable on its own:

- ``utilization_proposal`` / ``average_value_proposal``: kube's ``GetResourceReplicas`` and
  ``GetRawResourceReplicas`` — the usage ratio over ready pods, nothing done within the 10 %
  tolerance, pods without metrics counted as 100 % on a scale-down and 0 % on a scale-up,
  unready pods counted as 0 % on a scale-up, and no change when that rebalancing would
  reverse the direction;
- ``Normaliser``: per-HPA memory of recent recommendations and scale events; without
  ``spec.behavior`` the highest recommendation of the last five minutes wins (the scale-down
  stabilisation window) and a scale-up is capped at max(2 × current, 4); with a behavior,
  its stabilisation windows and rate policies apply. Each step reports the ``AbleToScale``
  and ``ScalingLimited`` conditions kube sets.

Resource amounts are milli-units (``MilliValue``), as kube computes them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "TOLERANCE",
    "Condition",
    "MetricError",
    "Normaliser",
    "PodInfo",
    "Proposal",
    "average_value_proposal",
    "utilization_proposal",
]

TOLERANCE = 0.1  # --horizontal-pod-autoscaler-tolerance
DOWNSCALE_WINDOW = 300.0  # --horizontal-pod-autoscaler-downscale-stabilization

Condition = tuple[str, str, str, str]  # type, status, reason, message


class MetricError(Exception):
    """A metric could not be turned into a proposal; ``str()`` is kube's message."""


@dataclass(frozen=True, slots=True)
class PodInfo:
    """What the calculator needs of one pod matching the target's selector."""

    name: str
    phase: str = "Running"
    ready: bool = True
    deleting: bool = False
    requests: Mapping[str, int | None] = field(default_factory=dict)  # None: a container lacks it


@dataclass(frozen=True, slots=True)
class Proposal:
    replicas: int
    raw: int  # average usage in milli-units
    utilization: int | None = None  # percent of the requests, for Utilization targets


def _group(
    pods: Sequence[PodInfo], metrics: Mapping[str, int], resource: str
) -> tuple[int, set[str], set[str], set[str]]:
    """kube's groupPods: (ready pods with metrics, unready, missing metrics, dropped).

    Deleted and failed pods are dropped: their metrics do not count, not even as 0 %.
    """
    ready, ignored, missing, dropped = 0, set(), set(), set()
    for pod in pods:
        if pod.deleting or pod.phase == "Failed":
            dropped.add(pod.name)
        elif pod.phase == "Pending":
            ignored.add(pod.name)
        elif pod.name not in metrics:
            missing.add(pod.name)
        elif resource == "cpu" and not pod.ready:
            ignored.add(pod.name)
        else:
            ready += 1
    return ready, ignored, missing, dropped


def _utilization(
    metrics: Mapping[str, int], requests: Mapping[str, int], target: int
) -> tuple[float, int, int]:
    """kube's GetResourceUtilizationRatio: (ratio, utilization %, average raw usage)."""
    used = [(metrics[name], requests[name]) for name in metrics if name in requests]
    total_requests = sum(request for _, request in used)
    if total_requests == 0:
        raise MetricError("no metrics returned matched known pods")
    total = sum(value for value, _ in used)
    utilization = total * 100 // total_requests
    return utilization / target, utilization, total // len(used)


def _requests(pods: Sequence[PodInfo], resource: str) -> dict[str, int]:
    requests: dict[str, int] = {}
    for pod in pods:
        request = pod.requests.get(resource)
        if request is None:
            raise MetricError(f"missing request for {resource}")
        requests[pod.name] = request
    return requests


def _samples(
    pods: Sequence[PodInfo], metrics: Mapping[str, int], resource: str
) -> tuple[int, set[str], set[str], dict[str, int]]:
    """(ready count, ignored, missing, the metrics that count) — both calculations' start."""
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    ready, ignored, missing, dropped = _group(pods, metrics, resource)
    samples = {n: value for n, value in metrics.items() if n not in ignored and n not in dropped}
    return ready, ignored, missing, samples


def utilization_proposal(
    current: int,
    target: int,
    resource: str,
    pods: Sequence[PodInfo],
    metrics: Mapping[str, int],
    tolerance: float = TOLERANCE,
) -> Proposal:
    """Replicas for an ``averageUtilization`` target (percent of the pods' requests)."""
    ready, ignored, missing, samples = _samples(pods, metrics, resource)
    requests = _requests(pods, resource)
    if not samples:
        raise MetricError("did not receive metrics for any ready pods")
    ratio, utilization, raw = _utilization(samples, requests, target)
    rebalance = bool(ignored) and ratio > 1.0
    if not rebalance and not missing:
        if abs(1.0 - ratio) <= tolerance:
            return Proposal(current, raw, utilization)
        return Proposal(math.ceil(ratio * ready), raw, utilization)
    for name in missing:
        samples[name] = requests[name] if ratio < 1.0 else 0
    if rebalance:
        samples.update(dict.fromkeys(ignored, 0))
    new_ratio, _, _ = _utilization(samples, requests, target)
    if _no_change(ratio, new_ratio, tolerance):
        return Proposal(current, raw, utilization)
    return Proposal(math.ceil(new_ratio * len(samples)), raw, utilization)


def _no_change(ratio: float, new_ratio: float, tolerance: float) -> bool:
    """Within tolerance, or rebalancing turned the direction of scaling round."""
    return (
        abs(1.0 - new_ratio) <= tolerance or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio)
    )


def average_value_proposal(
    current: int,
    target: int,
    resource: str,
    pods: Sequence[PodInfo],
    metrics: Mapping[str, int],
    tolerance: float = TOLERANCE,
) -> Proposal:
    """Replicas for an ``averageValue`` target (milli-units per pod); calcPlainMetricReplicas."""
    ready, ignored, missing, samples = _samples(pods, metrics, resource)
    if not samples:
        raise MetricError("did not receive metrics for any ready pods")
    average = sum(samples.values()) // len(samples)
    ratio = average / target
    rebalance = bool(ignored) and ratio > 1.0
    if not rebalance and not missing:
        if abs(1.0 - ratio) <= tolerance:
            return Proposal(current, average)
        return Proposal(math.ceil(ratio * ready), average)
    for name in missing:
        samples[name] = target if ratio < 1.0 else 0
    if rebalance:
        samples.update(dict.fromkeys(ignored, 0))
    new_ratio = (sum(samples.values()) // len(samples)) / target
    if _no_change(ratio, new_ratio, tolerance):
        return Proposal(current, average)
    return Proposal(math.ceil(new_ratio * len(samples)), average)


# -- normalisation --------------------------------------------------------------------------


@dataclass(slots=True)
class _History:
    recommendations: list[tuple[float, int]] = field(default_factory=list)
    ups: list[tuple[float, int]] = field(default_factory=list)  # (when, replicas added)
    downs: list[tuple[float, int]] = field(default_factory=list)


def _rules(behavior: Mapping[str, Any] | None, direction: str) -> dict[str, Any]:
    """The scaling rules of one direction, with kube's defaults filled in."""
    given = dict((behavior or {}).get(direction) or {})
    if direction == "scaleUp":
        given.setdefault("stabilizationWindowSeconds", 0)
        given.setdefault(
            "policies",
            [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        )
    else:
        given.setdefault("stabilizationWindowSeconds", int(DOWNSCALE_WINDOW))
        given.setdefault("policies", [{"type": "Percent", "value": 100, "periodSeconds": 15}])
    given.setdefault("selectPolicy", "Max")
    return given


def _changed_within(events: Sequence[tuple[float, int]], period: float, now: float) -> int:
    return sum(change for when, change in events if when > now - period)


def _scale_up_limit(
    current: int, events: Sequence[tuple[float, int]], rules: Any, now: float
) -> int:
    if rules["selectPolicy"] == "Disabled":
        return current
    proposals: list[int] = []
    for policy in rules["policies"]:
        start = current - _changed_within(events, policy["periodSeconds"], now)
        if policy["type"] == "Pods":
            proposals.append(start + int(policy["value"]))
        else:
            proposals.append(math.ceil(start * (1 + policy["value"] / 100)))
    if not proposals:
        return current
    return min(proposals) if rules["selectPolicy"] == "Min" else max(proposals)


def _scale_down_limit(
    current: int, events: Sequence[tuple[float, int]], rules: Any, now: float
) -> int:
    if rules["selectPolicy"] == "Disabled":
        return current
    proposals: list[int] = []
    for policy in rules["policies"]:
        start = current + _changed_within(events, policy["periodSeconds"], now)
        if policy["type"] == "Pods":
            proposals.append(start - int(policy["value"]))
        else:
            proposals.append(int(start * (1 - policy["value"] / 100)))
    if not proposals:
        return current
    return max(proposals) if rules["selectPolicy"] == "Min" else min(proposals)


class Normaliser:
    """Recent recommendations and scale events of every HPA (by key), kept in memory."""

    def __init__(self) -> None:
        self._history: dict[str, _History] = {}

    def forget(self, key: str) -> None:
        self._history.pop(key, None)

    def normalise(
        self,
        key: str,
        spec: Mapping[str, Any],
        *,
        current: int,
        desired: int,
        now: float,
    ) -> tuple[int, list[Condition]]:
        """The replicas to scale to, and the AbleToScale/ScalingLimited conditions."""
        history = self._history.setdefault(key, _History())
        minimum = int(spec.get("minReplicas") or 1)
        maximum = int(spec.get("maxReplicas") or 1)
        behavior = spec.get("behavior")
        if behavior is None:
            return self._without_behavior(history, current, desired, minimum, maximum, now)
        up, down = _rules(behavior, "scaleUp"), _rules(behavior, "scaleDown")
        stabilised, able = self._stabilise(history, up, down, current, desired, now)
        if desired > current:
            limit = max(_scale_up_limit(current, history.ups, up, now), current)
            cap = min(maximum, limit)
            limited = _limit_up(stabilised, cap, limit < maximum)
        elif desired < current:
            limit = min(_scale_down_limit(current, history.downs, down, now), current)
            floor = max(minimum, limit)
            limited = _limit_down(stabilised, floor, limit > minimum)
        else:
            limited = (stabilised, "DesiredWithinRange", _WITHIN)
        return limited[0], [able, _limited(limited, stabilised)]

    def _without_behavior(
        self, history: _History, current: int, desired: int, minimum: int, maximum: int, now: float
    ) -> tuple[int, list[Condition]]:
        cutoff = now - DOWNSCALE_WINDOW
        kept = [(when, count) for when, count in history.recommendations if when >= cutoff]
        stabilised = max([desired, *(count for _, count in kept)])
        history.recommendations = [*kept, (now, desired)]
        if stabilised != desired:
            able = ("AbleToScale", "True", "ScaleDownStabilized", _DOWN_STABILISED)
        else:
            able = ("AbleToScale", "True", "ReadyForNewScale", _READY)
        up_limit = max(2 * current, 4)
        if stabilised < minimum:
            limited = (minimum, "TooFewReplicas", _TOO_FEW)
        elif maximum > up_limit:
            limited = _limit_up(stabilised, up_limit, True)
        else:
            limited = _limit_up(stabilised, maximum, False)
        return limited[0], [able, _limited(limited, stabilised)]

    def _stabilise(
        self, history: _History, up: Any, down: Any, current: int, desired: int, now: float
    ) -> tuple[int, Condition]:
        """kube's stabilizeRecommendationWithBehaviors."""
        if desired >= current:
            window, pick = up["stabilizationWindowSeconds"], min
            reason, message = "ScaleUpStabilized", _UP_STABILISED
        else:
            window, pick = down["stabilizationWindowSeconds"], max
            reason, message = "ScaleDownStabilized", _DOWN_STABILISED
        longest = max(up["stabilizationWindowSeconds"], down["stabilizationWindowSeconds"])
        recommendation = desired
        for when, count in history.recommendations:
            if when > now - window:
                recommendation = pick(count, recommendation)
        kept = [(when, c) for when, c in history.recommendations if when >= now - longest]
        history.recommendations = [*kept, (now, desired)]
        if recommendation != desired:
            return recommendation, ("AbleToScale", "True", reason, message)
        return recommendation, ("AbleToScale", "True", "ReadyForNewScale", _READY)

    def record_scale(self, key: str, *, before: int, after: int, now: float) -> None:
        """Remember a rescale, for the rate policies of ``spec.behavior``."""
        history = self._history.setdefault(key, _History())
        horizon = now - 3600.0  # longer than any policy period (at most 1800 s)
        history.ups = [e for e in history.ups if e[0] > horizon]
        history.downs = [e for e in history.downs if e[0] > horizon]
        if after > before:
            history.ups.append((now, after - before))
        elif after < before:
            history.downs.append((now, before - after))


_READY = "recommended size matches current size"
_UP_STABILISED = (
    "recent recommendations were lower than current one, applying the lowest recent recommendation"
)
_DOWN_STABILISED = (
    "recent recommendations were higher than current one, applying the highest recent "
    "recommendation"
)
_WITHIN = "the desired count is within the acceptable range"
_TOO_FEW = "the desired replica count is less than the minimum replica count"


def _limit_up(desired: int, cap: int, rate_limited: bool) -> tuple[int, str, str]:
    if desired <= cap:
        return desired, "DesiredWithinRange", _WITHIN
    if rate_limited:
        return (
            cap,
            "ScaleUpLimit",
            ("the desired replica count is increasing faster than the maximum scale rate"),
        )
    return (
        cap,
        "TooManyReplicas",
        "the desired replica count is more than the maximum replica count",
    )


def _limit_down(desired: int, floor: int, rate_limited: bool) -> tuple[int, str, str]:
    if desired >= floor:
        return desired, "DesiredWithinRange", _WITHIN
    if rate_limited:
        return (
            floor,
            "ScaleDownLimit",
            ("the desired replica count is decreasing faster than the maximum scale rate"),
        )
    return floor, "TooFewReplicas", _TOO_FEW


def _limited(limited: tuple[int, str, str], stabilised: int) -> Condition:
    replicas, reason, message = limited
    return ("ScalingLimited", "True" if replicas != stabilised else "False", reason, message)
