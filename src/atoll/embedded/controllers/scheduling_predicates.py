"""The scheduler's decisions as pure functions: does a pod fit a node, and why not.

kube-scheduler 1.20's default filters, in its order, stopping at the first that fails:

1. ``NodeUnschedulable``: ``spec.unschedulable`` unless the pod tolerates
   ``node.kubernetes.io/unschedulable:NoSchedule``;
2. ``NodeResourcesFit``: the requests of the pods already on the node plus this one's must fit
   ``status.allocatable`` (every resource name, extended ones included), and the pod count
   must stay within ``pods``;
3. ``NodeAffinity``: ``spec.nodeSelector`` and required node affinity (``matchExpressions``
   with In, NotIn, Exists, DoesNotExist, Gt, Lt; ``matchFields`` on ``metadata.name``, which
   DaemonSet pods use);
4. ``TaintToleration``: every NoSchedule and NoExecute taint must be tolerated.

A node whose Ready condition is not True counts as tainted ``not-ready`` (``unreachable``
when Unknown), as kube's node lifecycle controller would have tainted it; a node that says
so itself is not tainted twice. The failure reasons and the ``0/N nodes are available: …``
message are kube's, word for word, because users search for them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from atoll.kube.client import Object
from atoll.kube.quantities import QuantityError, parse_quantity
from atoll.kube.selectors import Operator, Requirement

__all__ = [
    "NOT_READY_TAINT_KEY",
    "UNREACHABLE_TAINT_KEY",
    "UNSCHEDULABLE_TAINT_KEY",
    "NodeFacts",
    "PodFacts",
    "Resources",
    "Usage",
    "add_resources",
    "failure_reasons",
    "node_facts",
    "pod_facts",
    "pod_requests",
    "rank",
    "tolerates",
    "unschedulable_message",
]

Resources = dict[str, Decimal]
Taint = Mapping[str, Any]

NOT_READY_TAINT_KEY = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT_KEY = "node.kubernetes.io/unreachable"
UNSCHEDULABLE_TAINT_KEY = "node.kubernetes.io/unschedulable"
_FILTERED_EFFECTS = ("NoSchedule", "NoExecute")
_ZERO = Decimal(0)

_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
    "Gt": Operator.GREATER_THAN,
    "Lt": Operator.LESS_THAN,
}


# -- facts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PodFacts:
    """What scheduling needs of a pod, parsed once per decision."""

    requests: Resources
    tolerations: tuple[Mapping[str, Any], ...]
    node_selector: Mapping[str, str]
    required_terms: tuple[Mapping[str, Any], ...] | None  # None: no required node affinity


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """What scheduling needs of a node, parsed once per resourceVersion."""

    name: str
    labels: Mapping[str, str]
    taints: tuple[Taint, ...]  # effective: spec.taints plus the one readiness implies
    unschedulable: bool
    allocatable: Resources


@dataclass(slots=True)
class Usage:
    """The requests and count of the pods bound to one node."""

    requested: Resources = field(default_factory=dict)
    pods: int = 0


def _quantities(values: Any) -> Resources:
    out: Resources = {}
    for name, value in (values or {}).items() if isinstance(values, Mapping) else ():
        try:
            out[str(name)] = parse_quantity(value)
        except (QuantityError, TypeError):
            continue  # the API server validates; a stray value must not stop scheduling
    return out


def _container_requests(container: Mapping[str, Any]) -> Resources:
    """Requests, defaulting to limits where unset, as kube-apiserver defaults them."""
    resources = container.get("resources") or {}
    return {**_quantities(resources.get("limits")), **_quantities(resources.get("requests"))}


def add_resources(total: Resources, more: Mapping[str, Decimal], sign: int = 1) -> None:
    for name, amount in more.items():
        total[name] = total.get(name, _ZERO) + sign * amount


def pod_requests(pod: Object) -> Resources:
    """The pod's effective requests: containers summed, init containers' maximum, overhead."""
    spec = pod.get("spec") or {}
    total: Resources = {}
    for container in spec.get("containers") or ():
        add_resources(total, _container_requests(container))
    for container in spec.get("initContainers") or ():
        for name, amount in _container_requests(container).items():
            total[name] = max(total.get(name, _ZERO), amount)
    add_resources(total, _quantities(spec.get("overhead")))
    return total


def pod_facts(pod: Object) -> PodFacts:
    spec = pod.get("spec") or {}
    affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    terms = None if required is None else tuple(required.get("nodeSelectorTerms") or ())
    return PodFacts(
        requests=pod_requests(pod),
        tolerations=tuple(t for t in spec.get("tolerations") or () if isinstance(t, Mapping)),
        node_selector=dict(spec.get("nodeSelector") or {}),
        required_terms=terms,
    )


def _readiness_taint(node: Object, taints: list[Taint]) -> Taint | None:
    """The NoSchedule taint a node's Ready condition implies, unless it is already there."""
    ready = "Missing"
    for condition in (node.get("status") or {}).get("conditions") or ():
        if isinstance(condition, Mapping) and condition.get("type") == "Ready":
            ready = str(condition.get("status"))
    if ready == "True":
        return None
    key = UNREACHABLE_TAINT_KEY if ready == "Unknown" else NOT_READY_TAINT_KEY
    if any(t.get("key") == key and t.get("effect") == "NoSchedule" for t in taints):
        return None
    return {"key": key, "effect": "NoSchedule"}


def node_facts(node: Object) -> NodeFacts:
    meta, spec = node.get("metadata") or {}, node.get("spec") or {}
    taints: list[Taint] = [t for t in spec.get("taints") or () if isinstance(t, Mapping)]
    implied = _readiness_taint(node, taints)
    if implied is not None:
        taints.append(implied)
    return NodeFacts(
        name=str(meta.get("name", "")),
        labels=dict(meta.get("labels") or {}),
        taints=tuple(taints),
        unschedulable=bool(spec.get("unschedulable")),
        allocatable=_quantities((node.get("status") or {}).get("allocatable")),
    )


# -- filters -----------------------------------------------------------------------------


def tolerates(toleration: Mapping[str, Any], taint: Taint) -> bool:
    """Kubernetes' ``Toleration.ToleratesTaint``: an empty key with Exists tolerates all."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    match toleration.get("operator") or "Equal":
        case "Exists":
            return True
        case "Equal":
            return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def _untolerated(pod: PodFacts, taints: Iterable[Taint]) -> Taint | None:
    for taint in taints:
        if taint.get("effect") not in _FILTERED_EFFECTS:
            continue  # PreferNoSchedule only weighs in scoring
        if not any(tolerates(t, taint) for t in pod.tolerations):
            return taint
    return None


def _requirement_matches(expression: Any, values: Mapping[str, str]) -> bool:
    if not isinstance(expression, Mapping):
        return False
    operator = _OPERATORS.get(str(expression.get("operator")))
    if operator is None:
        return False
    wanted = tuple(str(v) for v in expression.get("values") or ())
    return Requirement(str(expression.get("key", "")), operator, wanted).matches(values)


def _term_matches(term: Mapping[str, Any], node: NodeFacts) -> bool:
    """One NodeSelectorTerm: its expressions and fields ANDed; an empty term matches nothing."""
    expressions = term.get("matchExpressions") or ()
    fields = term.get("matchFields") or ()
    if not expressions and not fields:
        return False
    by_field = {"metadata.name": node.name}
    return all(_requirement_matches(e, node.labels) for e in expressions) and all(
        _requirement_matches(f, by_field) for f in fields
    )


def _affinity_matches(pod: PodFacts, node: NodeFacts) -> bool:
    if any(node.labels.get(k) != v for k, v in pod.node_selector.items()):
        return False
    if pod.required_terms is None:
        return True
    return any(_term_matches(t, node) for t in pod.required_terms if isinstance(t, Mapping))


def _insufficient(pod: PodFacts, node: NodeFacts, used: Usage) -> list[str]:
    reasons = []
    if used.pods + 1 > node.allocatable.get("pods", _ZERO):
        reasons.append("Too many pods")
    for name, amount in sorted(pod.requests.items()):
        if amount <= 0 or name == "pods":
            continue
        if used.requested.get(name, _ZERO) + amount > node.allocatable.get(name, _ZERO):
            reasons.append(f"Insufficient {name}")
    return reasons


def failure_reasons(pod: PodFacts, node: NodeFacts, used: Usage) -> list[str]:
    """Why ``pod`` cannot go to ``node`` (kube's reason strings); empty when it fits."""
    unschedulable = {"key": UNSCHEDULABLE_TAINT_KEY, "effect": "NoSchedule"}
    if node.unschedulable and not any(tolerates(t, unschedulable) for t in pod.tolerations):
        return ["node(s) were unschedulable"]
    insufficient = _insufficient(pod, node, used)
    if insufficient:
        return insufficient
    if not _affinity_matches(pod, node):
        return ["node(s) didn't match node selector"]
    taint = _untolerated(pod, node.taints)
    if taint is not None:
        key, value = taint.get("key", ""), taint.get("value", "")
        return [f"node(s) had taint {{{key}: {value}}}, that the pod didn't tolerate"]
    return []


def unschedulable_message(node_count: int, reasons: Iterable[list[str]]) -> str:
    """kube's FitError text: ``0/3 nodes are available: 1 Insufficient cpu, 2 node(s) …``."""
    if node_count == 0:
        return "no nodes available to schedule pods"
    counts = Counter(reason for per_node in reasons for reason in per_node)
    histogram = sorted(f"{count} {reason}" for reason, count in counts.items())
    return f"0/{node_count} nodes are available: {', '.join(histogram)}."


# -- scoring -----------------------------------------------------------------------------


def rank(pod: PodFacts, node: NodeFacts, used: Usage) -> tuple[Decimal, str]:
    """Lower is better: the fuller of CPU and memory after placing the pod (LeastAllocated),
    then the node name, so equal nodes are chosen in a stable order."""
    fullest = _ZERO
    for name in ("cpu", "memory"):
        capacity = node.allocatable.get(name, _ZERO)
        if capacity > 0:
            after = used.requested.get(name, _ZERO) + pod.requests.get(name, _ZERO)
            fullest = max(fullest, after / capacity)
    return fullest, node.name
