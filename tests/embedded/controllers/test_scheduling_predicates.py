"""The scheduler's filters, reasons and ledger as pure functions (no cluster needed)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from atoll.embedded.controllers.scheduler import NodeLedger
from atoll.embedded.controllers.scheduling_predicates import (
    Usage,
    failure_reasons,
    node_facts,
    pod_facts,
    pod_requests,
    rank,
    tolerates,
    unschedulable_message,
)

READY = {"type": "Ready", "status": "True"}


def node(
    name: str = "n1",
    *,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    unschedulable: bool = False,
    allocatable: dict[str, str] | None = None,
    ready: dict[str, str] | None = READY,
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"taints": taints or [], "unschedulable": unschedulable},
        "status": {
            "allocatable": allocatable or {"cpu": "2", "memory": "4Gi", "pods": "110"},
            "conditions": [ready] if ready else [],
        },
    }


def pod(
    *,
    requests: dict[str, str] | None = None,
    spec: dict[str, Any] | None = None,
    name: str = "p",
    node_name: str = "",
    phase: str = "Pending",
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": "busybox"}
    if requests:
        container["resources"] = {"requests": requests}
    body: dict[str, Any] = {"containers": [container], **(spec or {})}
    if node_name:
        body["nodeName"] = node_name
    return {
        "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}"},
        "spec": body,
        "status": {"phase": phase},
    }


def reasons(p: dict[str, Any], n: dict[str, Any], used: Usage | None = None) -> list[str]:
    return failure_reasons(pod_facts(p), node_facts(n), used or Usage())


@pytest.mark.parametrize(
    ("toleration", "taint", "expected"),
    [
        ({"operator": "Exists"}, {"key": "a", "value": "x", "effect": "NoSchedule"}, True),
        (
            {"key": "a", "operator": "Exists"},
            {"key": "a", "value": "x", "effect": "NoExecute"},
            True,
        ),
        ({"key": "a", "value": "x"}, {"key": "a", "value": "x", "effect": "NoSchedule"}, True),
        ({"key": "a", "value": "y"}, {"key": "a", "value": "x", "effect": "NoSchedule"}, False),
        ({"key": "b", "operator": "Exists"}, {"key": "a", "effect": "NoSchedule"}, False),
        (
            {"key": "a", "operator": "Exists", "effect": "NoExecute"},
            {"key": "a", "effect": "NoSchedule"},
            False,
        ),
        ({"key": "a", "operator": "Equal"}, {"key": "a", "effect": "NoSchedule"}, True),
    ],
)
def test_tolerations_follow_kubernetes(
    toleration: dict[str, str], taint: dict[str, str], expected: bool
) -> None:
    assert tolerates(toleration, taint) is expected


def test_an_untolerated_taint_is_reported_like_kube() -> None:
    tainted = node(taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
    assert reasons(pod(), tainted) == [
        "node(s) had taint {dedicated: gpu}, that the pod didn't tolerate"
    ]
    toleration = {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}
    assert reasons(pod(spec={"tolerations": [toleration]}), tainted) == []
    soft = node(taints=[{"key": "x", "effect": "PreferNoSchedule"}])
    assert reasons(pod(), soft) == []


def test_a_node_that_is_not_ready_counts_as_tainted() -> None:
    not_ready = node(ready={"type": "Ready", "status": "False"})
    taint = "node(s) had taint {node.kubernetes.io/not-ready: }, that the pod didn't tolerate"
    assert reasons(pod(), not_ready) == [taint]
    assert reasons(pod(), node(ready=None)) == [taint]
    unknown = node(ready={"type": "Ready", "status": "Unknown"})
    assert reasons(pod(), unknown) == [
        "node(s) had taint {node.kubernetes.io/unreachable: }, that the pod didn't tolerate"
    ]
    # The node's own not-ready taint is not doubled by the implied one.
    own = node(
        ready={"type": "Ready", "status": "False"},
        taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}],
    )
    assert len(node_facts(own).taints) == 1
    tolerant = pod(spec={"tolerations": [{"operator": "Exists"}]})
    assert reasons(tolerant, own) == []


def test_unschedulable_nodes_refuse_pods_unless_tolerated() -> None:
    cordoned = node(unschedulable=True)
    assert reasons(pod(), cordoned) == ["node(s) were unschedulable"]
    toleration = {"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}
    assert reasons(pod(spec={"tolerations": [toleration]}), cordoned) == []


def test_node_selector_and_required_affinity() -> None:
    labelled = node("n1", labels={"zone": "a", "cores": "8"})
    mismatch = ["node(s) didn't match node selector"]
    assert reasons(pod(spec={"nodeSelector": {"zone": "a"}}), labelled) == []
    assert reasons(pod(spec={"nodeSelector": {"zone": "b"}}), labelled) == mismatch

    def with_terms(*terms: dict[str, Any]) -> dict[str, Any]:
        required = {"nodeSelectorTerms": list(terms)}
        affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}
        return pod(spec={"affinity": affinity})

    def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
        return {"matchExpressions": [{"key": key, "operator": operator, "values": list(values)}]}

    assert reasons(with_terms(expr("zone", "In", "a", "b")), labelled) == []
    assert reasons(with_terms(expr("zone", "NotIn", "a")), labelled) == mismatch
    assert reasons(with_terms(expr("missing", "NotIn", "a")), labelled) == []
    assert reasons(with_terms(expr("zone", "Exists")), labelled) == []
    assert reasons(with_terms(expr("zone", "DoesNotExist")), labelled) == mismatch
    assert reasons(with_terms(expr("cores", "Gt", "4")), labelled) == []
    assert reasons(with_terms(expr("cores", "Lt", "4")), labelled) == mismatch
    # Terms are ORed; an empty term matches nothing.
    assert reasons(with_terms(expr("zone", "In", "z"), expr("zone", "In", "a")), labelled) == []
    assert reasons(with_terms({}), labelled) == mismatch
    # matchFields on metadata.name, as DaemonSet pods use it.
    by_name = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
    assert reasons(with_terms(by_name), labelled) == []
    assert reasons(with_terms(by_name), node("n2")) == mismatch


def test_requests_sum_containers_take_the_largest_init_container_and_default_to_limits() -> None:
    p = pod(requests={"cpu": "250m", "memory": "64Mi"})
    p["spec"]["containers"].append(
        {"name": "d", "resources": {"limits": {"cpu": "500m", "example.com/dongle": "1"}}}
    )
    p["spec"]["initContainers"] = [
        {"name": "i1", "resources": {"requests": {"cpu": "1", "memory": "32Mi"}}},
        {"name": "i2", "resources": {"requests": {"memory": "128Mi"}}},
    ]
    assert pod_requests(p) == {
        "cpu": Decimal(1),
        "memory": Decimal(128 * 2**20),
        "example.com/dongle": Decimal(1),
    }


def test_resources_and_pod_count_must_fit_what_is_left() -> None:
    small = node(allocatable={"cpu": "1", "memory": "1Gi", "pods": "2"})
    used = Usage(requested={"cpu": Decimal("0.5")}, pods=1)
    assert reasons(pod(requests={"cpu": "500m"}), small, used) == []
    assert reasons(pod(requests={"cpu": "600m", "memory": "2Gi"}), small, used) == [
        "Insufficient cpu",
        "Insufficient memory",
    ]
    assert reasons(pod(), small, Usage(pods=2)) == ["Too many pods"]
    assert reasons(pod(requests={"example.com/dongle": "1"}), small) == [
        "Insufficient example.com/dongle"
    ]


def test_the_message_counts_reasons_like_kube() -> None:
    message = unschedulable_message(
        3,
        [
            ["node(s) had taint {node.kubernetes.io/not-ready: }, that the pod didn't tolerate"],
            ["Insufficient cpu", "Insufficient memory"],
            ["Insufficient cpu"],
        ],
    )
    assert message == (
        "0/3 nodes are available: 1 Insufficient memory, 1 node(s) had taint "
        "{node.kubernetes.io/not-ready: }, that the pod didn't tolerate, 2 Insufficient cpu."
    )
    assert unschedulable_message(0, []) == "no nodes available to schedule pods"


def test_the_least_allocated_node_ranks_first() -> None:
    facts = pod_facts(pod(requests={"cpu": "1"}))
    busy, idle = node_facts(node("a")), node_facts(node("b"))
    used = Usage(requested={"cpu": Decimal(1)}, pods=1)
    assert rank(facts, idle, Usage()) < rank(facts, busy, used)
    assert rank(facts, busy, Usage()) < rank(facts, idle, Usage())  # ties: by name


def test_the_ledger_tracks_bound_pods_and_assumptions() -> None:
    ledger = NodeLedger()
    bound = pod(name="a", requests={"cpu": "1"}, node_name="n1")
    assert ledger.observe(bound) is False
    assert ledger.usage("n1") == Usage(requested={"cpu": Decimal(1)}, pods=1)
    assert ledger.observe(bound) is False  # idempotent
    assert ledger.usage("n1").pods == 1

    pending = pod(name="b", requests={"cpu": "500m"})
    ledger.assume("ns/b", "uid-b", "n1", pod_requests(pending))
    assert ledger.is_assumed("ns/b", "uid-b")
    ledger.observe(pending)  # the cache has not seen the binding yet: still assumed
    assert ledger.usage("n1").pods == 2
    ledger.observe(pod(name="b", requests={"cpu": "500m"}, node_name="n1"))
    assert not ledger.is_assumed("ns/b", "uid-b")
    assert ledger.usage("n1") == Usage(requested={"cpu": Decimal("1.5")}, pods=2)

    finished = pod(name="a", requests={"cpu": "1"}, node_name="n1", phase="Succeeded")
    assert ledger.observe(finished) is True  # room freed
    assert ledger.forget("ns/b") is True
    assert ledger.forget("ns/b") is False
    assert ledger.usage("n1") == Usage()
