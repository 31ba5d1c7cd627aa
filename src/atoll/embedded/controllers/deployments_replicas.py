"""How many Pods a Deployment's ReplicaSets may have: surge, unavailability and proportions.

Pure arithmetic ported from upstream's ``deployment/util`` and ``intstr``, kept apart so its
rounding rules are tested on their own:

- ``maxSurge`` and ``maxUnavailable`` are a number or a percentage of ``spec.replicas``;
  a percentage of surge rounds up, of unavailability down, and when both come to 0
  unavailability becomes 1 so a rollout can move (``ResolveFenceposts``);
- ``new_rs_new_replicas``: how far a rolling update may scale the new set up now;
- ``proportion``: how a Deployment scaled mid-rollout spreads the change over its active sets
  in proportion to their size (``GetProportion``), via the ``max-replicas`` annotation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from atoll.kube.client import Object

from .deployments_revisions import desired_replicas_annotation, max_replicas_annotation

__all__ = [
    "available_replicas",
    "is_rolling_update",
    "is_saturated",
    "max_surge",
    "max_unavailable",
    "new_rs_new_replicas",
    "proportion",
    "ready_replicas",
    "replicas",
    "resolve_fenceposts",
    "scaled_value",
    "spec_replicas",
    "status_replicas",
]


def spec_replicas(obj: Mapping[str, Any] | None) -> int:
    """``spec.replicas`` (1 when unset, the API default); 0 for no object."""
    if obj is None:
        return 0
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _status(obj: Mapping[str, Any] | None, field: str) -> int:
    return int(((obj or {}).get("status") or {}).get(field) or 0)


def replicas(replica_sets: Iterable[Object | None]) -> int:
    """Sum of ``spec.replicas`` (upstream ``GetReplicaCountForReplicaSets``)."""
    return sum(spec_replicas(rs) for rs in replica_sets if rs is not None)


def status_replicas(replica_sets: Iterable[Object | None]) -> int:
    return sum(_status(rs, "replicas") for rs in replica_sets)


def ready_replicas(replica_sets: Iterable[Object | None]) -> int:
    return sum(_status(rs, "readyReplicas") for rs in replica_sets)


def available_replicas(replica_sets: Iterable[Object | None]) -> int:
    return sum(_status(rs, "availableReplicas") for rs in replica_sets)


def scaled_value(value: object, total: int, *, round_up: bool) -> int:
    """An IntOrString as a number: ints as they are, ``"25%"`` of ``total`` rounded.

    Upstream ``GetScaledValueFromIntOrPercent``; validation has already refused anything else,
    so a malformed value counts as 0.
    """
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%") and value[:-1].lstrip("-").isdigit():
        scaled = int(value[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return 0


def is_rolling_update(deployment: Mapping[str, Any]) -> bool:
    strategy = (deployment.get("spec") or {}).get("strategy") or {}
    return bool(strategy.get("type", "RollingUpdate") == "RollingUpdate")


def resolve_fenceposts(surge: object, unavailable: object, desired: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as numbers; never both 0 (upstream ``ResolveFenceposts``)."""
    surge_n = scaled_value(0 if surge is None else surge, desired, round_up=True)
    unavailable_n = scaled_value(0 if unavailable is None else unavailable, desired, round_up=False)
    if surge_n == 0 and unavailable_n == 0:
        unavailable_n = 1
    return surge_n, unavailable_n


def _fenceposts(deployment: Mapping[str, Any]) -> tuple[int, int]:
    strategy = (deployment.get("spec") or {}).get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    return resolve_fenceposts(
        rolling.get("maxSurge"), rolling.get("maxUnavailable"), spec_replicas(deployment)
    )


def max_surge(deployment: Mapping[str, Any]) -> int:
    if not is_rolling_update(deployment):
        return 0
    return _fenceposts(deployment)[0]


def max_unavailable(deployment: Mapping[str, Any]) -> int:
    desired = spec_replicas(deployment)
    if not is_rolling_update(deployment) or desired == 0:
        return 0
    return min(_fenceposts(deployment)[1], desired)


def new_rs_new_replicas(
    deployment: Mapping[str, Any], all_sets: list[Object | None], new_rs: Object
) -> int:
    """The new set's size for this step (upstream ``NewRSNewReplicas``)."""
    desired = spec_replicas(deployment)
    if not is_rolling_update(deployment):
        return desired
    current = replicas(all_sets)
    most = desired + max_surge(deployment)
    if current >= most:
        return spec_replicas(new_rs)
    step = min(most - current, desired - spec_replicas(new_rs))
    return spec_replicas(new_rs) + step


def is_saturated(deployment: Mapping[str, Any], rs: Object | None) -> bool:
    """The set has all the Deployment's replicas, all available (upstream ``IsSaturated``)."""
    if rs is None:
        return False
    desired = spec_replicas(deployment)
    return (
        spec_replicas(rs) == desired
        and desired_replicas_annotation(rs) == desired
        and _status(rs, "availableReplicas") == desired
    )


def _fraction(rs: Object, deployment: Mapping[str, Any]) -> int:
    desired = spec_replicas(deployment)
    if desired == 0:
        return -spec_replicas(rs)
    allowed = desired + max_surge(deployment)
    annotated = max_replicas_annotation(rs)
    if annotated is None:
        annotated = _status(deployment, "replicas")
    if annotated == 0:
        return 0  # Go divides by zero into +Inf; rounding that overflows. Nothing sane to add.
    size = spec_replicas(rs) * allowed / annotated
    return _round_half_away(size) - spec_replicas(rs)


def _round_half_away(value: float) -> int:
    """Upstream ``RoundToInt32``: halves away from zero, not Python's banker's rounding."""
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


def proportion(rs: Object | None, deployment: Mapping[str, Any], to_add: int, added: int) -> int:
    """How many of ``to_add`` replicas this set takes (upstream ``GetProportion``)."""
    if rs is None or spec_replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _fraction(rs, deployment)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)
