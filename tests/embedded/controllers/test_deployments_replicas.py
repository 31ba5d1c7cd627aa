"""Surge and unavailability arithmetic, with upstream's rounding (deployments_replicas)."""

from __future__ import annotations

from typing import Any

import pytest

from atoll.embedded.controllers.deployments_replicas import (
    is_saturated,
    max_surge,
    max_unavailable,
    new_rs_new_replicas,
    proportion,
    resolve_fenceposts,
    scaled_value,
)


def _deployment(replicas: int, surge: object = "25%", unavailable: object = "25%") -> Any:
    return {
        "spec": {
            "replicas": replicas,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
            },
        },
        "status": {},
    }


def _rs(replicas: int, *, annotations: dict[str, str] | None = None, available: int = 0) -> Any:
    return {
        "metadata": {"annotations": annotations or {}},
        "spec": {"replicas": replicas},
        "status": {"availableReplicas": available},
    }


@pytest.mark.parametrize(
    ("value", "total", "up", "expected"),
    [(3, 10, True, 3), ("25%", 10, True, 3), ("25%", 10, False, 2), ("1%", 1, True, 1),
     ("1%", 1, False, 0), ("100%", 7, False, 7), ("33%", 3, True, 1), ("x", 3, True, 0)],
)  # fmt: skip
def test_scaled_values_round_like_upstream(
    value: object, total: int, up: bool, expected: int
) -> None:
    assert scaled_value(value, total, round_up=up) == expected


def test_fenceposts_never_both_zero() -> None:
    assert resolve_fenceposts("10%", "10%", 5) == (1, 0)
    assert resolve_fenceposts(0, 0, 5) == (0, 1)
    assert resolve_fenceposts(None, None, 5) == (0, 1)
    assert resolve_fenceposts("25%", "25%", 10) == (3, 2)


def test_surge_and_unavailability_of_a_deployment() -> None:
    assert (max_surge(_deployment(10)), max_unavailable(_deployment(10))) == (3, 2)
    assert max_unavailable(_deployment(2, surge=0, unavailable=5)) == 2, "capped at replicas"
    assert max_unavailable(_deployment(0)) == 0
    recreate = {"spec": {"replicas": 4, "strategy": {"type": "Recreate"}}}
    assert (max_surge(recreate), max_unavailable(recreate)) == (0, 0)


def test_new_replica_set_grows_within_the_surge() -> None:
    deployment = _deployment(10)
    old, new = _rs(10), _rs(0)
    assert new_rs_new_replicas(deployment, [old, new], new) == 3
    old, new = _rs(8), _rs(3)
    assert new_rs_new_replicas(deployment, [old, new], new) == 5
    old, new = _rs(10), _rs(3)
    assert new_rs_new_replicas(deployment, [old, new], new) == 3, "already at 13: no growth"
    recreate = {"spec": {"replicas": 4, "strategy": {"type": "Recreate"}}}
    assert new_rs_new_replicas(recreate, [new], new) == 4


def test_proportions_use_the_max_replicas_annotation() -> None:
    deployment = _deployment(20)  # 25 allowed after the scale from 10 (13 allowed)
    old = _rs(8, annotations={"deployment.kubernetes.io/max-replicas": "13"})
    new = _rs(5, annotations={"deployment.kubernetes.io/max-replicas": "13"})
    first = proportion(old, deployment, 12, 0)
    assert first == 7  # round(8 * 25 / 13) = 15
    assert proportion(new, deployment, 12, first) == 5  # round(5 * 25 / 13) = 10, capped at 5
    assert proportion(_rs(0), deployment, 12, 0) == 0
    assert proportion(old, _deployment(0), -8, 0) == -8


def test_saturation() -> None:
    deployment = _deployment(3)
    desired = {"deployment.kubernetes.io/desired-replicas": "3"}
    assert is_saturated(deployment, _rs(3, annotations=desired, available=3))
    assert not is_saturated(deployment, _rs(3, annotations=desired, available=2))
    assert not is_saturated(deployment, _rs(3, available=3))
    assert not is_saturated(deployment, None)
