"""The HPA's replica calculator and normaliser, rule by rule (kube's replica_calculator tests)."""

from __future__ import annotations

import pytest

from atoll.embedded.controllers.hpa_replicas import (
    MetricError,
    Normaliser,
    PodInfo,
    average_value_proposal,
    utilization_proposal,
)


def _pods(count: int, *, request: int = 100, **kw: object) -> list[PodInfo]:
    return [
        PodInfo(f"p{i}", requests={"cpu": request, "memory": request}, **kw)  # type: ignore[arg-type]
        for i in range(count)
    ]


def test_scale_up_in_proportion_to_utilization() -> None:
    proposal = utilization_proposal(2, 50, "cpu", _pods(2), {"p0": 100, "p1": 100})
    assert (proposal.replicas, proposal.utilization, proposal.raw) == (4, 100, 100)


def test_within_tolerance_nothing_changes() -> None:
    proposal = utilization_proposal(3, 50, "cpu", _pods(3), {"p0": 54, "p1": 54, "p2": 54})
    assert proposal.replicas == 3 and proposal.utilization == 54


def test_scale_down() -> None:
    proposal = utilization_proposal(
        4, 50, "cpu", _pods(4), dict.fromkeys(("p0", "p1", "p2", "p3"), 10)
    )
    assert proposal.replicas == 1


def test_missing_metrics_count_as_full_on_scale_down() -> None:
    # Three pods at 10 % alone would give 1 replica; p3 without metrics counts as 100 %:
    # (30 + 100) / 400 = 32 % of the request, a ratio of 0.65 over four pods.
    proposal = utilization_proposal(4, 50, "cpu", _pods(4), {"p0": 10, "p1": 10, "p2": 10})
    assert proposal.replicas == 3
    # When counting it as 100 % turns a scale-down into a scale-up, nothing changes.
    assert utilization_proposal(2, 50, "cpu", _pods(2), {"p0": 10}).replicas == 2
    # ... and as empty on a scale-up.
    proposal = utilization_proposal(2, 50, "cpu", _pods(2), {"p0": 200})
    assert proposal.replicas == 4  # (200 + 0) / 200 = 100 % -> ratio 2 over two pods


def test_rebalancing_that_reverses_direction_keeps_the_count() -> None:
    # p0 at 60 % (ratio 1.2); p1 missing would count as 0 % and turn it into a scale-down.
    proposal = utilization_proposal(2, 50, "cpu", _pods(2), {"p0": 60})
    assert proposal.replicas == 2


def test_unready_and_pending_pods_are_ignored_for_cpu() -> None:
    pods = [
        *_pods(1),
        PodInfo("slow", ready=False, requests={"cpu": 100, "memory": 100}),
        PodInfo("new", phase="Pending", requests={"cpu": 100, "memory": 100}),
        PodInfo("gone", deleting=True, requests={"cpu": 100, "memory": 100}),
    ]
    metrics = {"p0": 100, "slow": 900, "new": 900, "gone": 900}
    # scale-up: ignored pods count as 0 % -> (100 + 0 + 0) / 300 = 33 % -> below target 50 %
    assert utilization_proposal(3, 50, "cpu", pods, metrics).replicas == 3
    # memory ignores readiness: only pending and deleting pods drop out
    assert utilization_proposal(3, 50, "memory", pods, metrics).replicas > 3


def test_errors_have_kubes_messages() -> None:
    with pytest.raises(MetricError, match="no pods returned by selector"):
        utilization_proposal(1, 50, "cpu", [], {})
    with pytest.raises(MetricError, match="missing request for cpu"):
        utilization_proposal(1, 50, "cpu", [PodInfo("p0", requests={"cpu": None})], {"p0": 1})
    with pytest.raises(MetricError, match="did not receive metrics for any ready pods"):
        utilization_proposal(
            1, 50, "cpu", [PodInfo("p0", phase="Pending", requests={"cpu": 1})], {}
        )


def test_average_value_target() -> None:
    proposal = average_value_proposal(
        2, 100_000, "memory", _pods(2), {"p0": 300_000, "p1": 100_000}
    )
    assert (proposal.replicas, proposal.raw) == (4, 200_000)


def test_downscale_is_stabilised_for_five_minutes() -> None:
    normaliser, spec = Normaliser(), {"minReplicas": 1, "maxReplicas": 10}
    assert normaliser.normalise("k", spec, current=2, desired=4, now=0)[0] == 4
    replicas, conditions = normaliser.normalise("k", spec, current=4, desired=1, now=60)
    assert replicas == 4
    assert conditions[0][:3] == ("AbleToScale", "True", "ScaleDownStabilized")
    assert normaliser.normalise("k", spec, current=4, desired=1, now=301)[0] == 1


def test_scale_up_is_capped_at_twice_or_four() -> None:
    normaliser, spec = Normaliser(), {"minReplicas": 1, "maxReplicas": 100}
    replicas, conditions = normaliser.normalise("k", spec, current=3, desired=50, now=0)
    assert replicas == 6
    assert conditions[1] == (
        "ScalingLimited",
        "True",
        "ScaleUpLimit",
        "the desired replica count is increasing faster than the maximum scale rate",
    )
    replicas, conditions = Normaliser().normalise(
        "k", {"minReplicas": 1, "maxReplicas": 5}, current=3, desired=50, now=0
    )
    assert replicas == 5 and conditions[1][2] == "TooManyReplicas"
    replicas, conditions = Normaliser().normalise(
        "k", {"minReplicas": 2, "maxReplicas": 5}, current=3, desired=1, now=0
    )
    assert replicas == 2 and conditions[1][2] == "TooFewReplicas"


def test_behavior_policies_limit_the_rate() -> None:
    behavior = {
        "scaleUp": {"policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}]},
        "scaleDown": {
            "stabilizationWindowSeconds": 0,
            "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
        },
    }
    spec = {"minReplicas": 1, "maxReplicas": 20, "behavior": behavior}
    normaliser = Normaliser()
    assert normaliser.normalise("k", spec, current=2, desired=10, now=0)[0] == 4
    normaliser.record_scale("k", before=2, after=4, now=0)
    # Within the same minute the two pods already added use the whole allowance.
    assert normaliser.normalise("k", spec, current=4, desired=10, now=30)[0] == 4
    assert normaliser.normalise("k", spec, current=4, desired=10, now=61)[0] == 6
    down = Normaliser()
    replicas, conditions = down.normalise("k", spec, current=10, desired=1, now=0)
    assert replicas == 5 and conditions[1][2] == "ScaleDownLimit"
