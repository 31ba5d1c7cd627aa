"""Where a DaemonSet's pods belong: which nodes should run one, and how a pod names its node.

kube 1.20's DaemonSet controller, as pure functions over Node and pod-spec dicts:

- ``daemon_template``: the template pods are made from — the tolerations kube adds to every
  daemon pod (``not-ready`` and ``unreachable`` NoExecute, so node trouble does not evict
  them; ``disk-pressure``, ``memory-pressure``, ``pid-pressure`` and ``unschedulable``
  NoSchedule; ``network-unavailable`` for host-network pods) and the
  ``controller-revision-hash`` (and ``pod-template-generation``) labels;
- ``pin_to_node``: since 1.12 the controller does not bind its pods; it gives each one a
  required node affinity ``metadata.name In [node]`` (replacing any other required terms) and
  the scheduler binds it;
- ``should_run``: ``nodeShouldRunDaemonPod`` — the template's ``nodeName``, ``nodeSelector``
  and required node affinity must match the node, and every NoSchedule/NoExecute taint of the
  node must be tolerated for a pod to be placed there; a pod already there may stay while
  every NoExecute taint is tolerated;
- ``target_node``: the node a pod is for — its ``nodeName``, or the node its affinity pins.

The scheduler has its own copy of node matching; siblings do not import each other.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from atoll.kube.selectors import Operator, Requirement

from .revisions import REVISION_HASH_LABEL

__all__ = [
    "DAEMON_TOLERATIONS",
    "TEMPLATE_GENERATION_ANNOTATION",
    "TEMPLATE_GENERATION_LABEL",
    "daemon_template",
    "pin_to_node",
    "should_run",
    "target_node",
    "untolerated",
]

TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
_NODE_NAME_FIELD = "metadata.name"


def _exists(key: str, effect: str) -> dict[str, str]:
    return {"key": f"node.kubernetes.io/{key}", "operator": "Exists", "effect": effect}


DAEMON_TOLERATIONS = (
    _exists("not-ready", "NoExecute"),
    _exists("unreachable", "NoExecute"),
    _exists("disk-pressure", "NoSchedule"),
    _exists("memory-pressure", "NoSchedule"),
    _exists("pid-pressure", "NoSchedule"),
    _exists("unschedulable", "NoSchedule"),
)
_HOST_NETWORK_TOLERATION = _exists("network-unavailable", "NoSchedule")

_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
    "Gt": Operator.GREATER_THAN,
    "Lt": Operator.LESS_THAN,
}


def _same_toleration(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    fields = ("key", "operator", "value", "effect")
    return all((a.get(f) or "") == (b.get(f) or "") for f in fields)


def _add_tolerations(spec: dict[str, Any]) -> None:
    """kube's ``AddOrUpdateDaemonPodTolerations``: add each one the spec lacks."""
    wanted = list(DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(_HOST_NETWORK_TOLERATION)
    tolerations = list(spec.get("tolerations") or [])
    for toleration in wanted:
        if not any(_same_toleration(toleration, t) for t in tolerations):
            tolerations.append(dict(toleration))
    spec["tolerations"] = tolerations


def daemon_template(ds: Mapping[str, Any], hash_: str) -> dict[str, Any]:
    """The template of ``ds``'s pods at revision ``hash_`` (kube's ``CreatePodTemplate``)."""
    template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
    _add_tolerations(template.setdefault("spec", {}))
    meta = template.setdefault("metadata", {})
    labels = dict(meta.get("labels") or {})
    generation = ((ds.get("metadata") or {}).get("annotations") or {}).get(
        TEMPLATE_GENERATION_ANNOTATION
    )
    if generation:
        labels[TEMPLATE_GENERATION_LABEL] = str(generation)
    labels[REVISION_HASH_LABEL] = hash_
    meta["labels"] = labels
    return template


def pin_to_node(spec: dict[str, Any], node_name: str) -> None:
    """Require ``node_name`` by node affinity (``ReplaceDaemonSetPodNodeNameNodeAffinity``)."""
    term = {"matchFields": [{"key": _NODE_NAME_FIELD, "operator": "In", "values": [node_name]}]}
    affinity = spec.get("affinity") or {}
    node_affinity = affinity.get("nodeAffinity") or {}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    spec["affinity"] = {
        **affinity,
        "nodeAffinity": {
            **node_affinity,
            "requiredDuringSchedulingIgnoredDuringExecution": {
                **required,
                "nodeSelectorTerms": [term],
            },
        },
    }


def target_node(pod: Mapping[str, Any]) -> str | None:
    """The node ``pod`` is for: ``spec.nodeName``, else the one its node affinity pins."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or ():
        for field in (term or {}).get("matchFields") or ():
            values = field.get("values") or []
            pins = field.get("key") == _NODE_NAME_FIELD and field.get("operator") == "In"
            if pins and len(values) == 1:
                return str(values[0])
    return None


def _tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """``Toleration.ToleratesTaint``."""
    if toleration.get("effect") and toleration.get("effect") != taint.get("effect"):
        return False
    if toleration.get("key") and toleration.get("key") != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


def untolerated(
    taints: Iterable[Mapping[str, Any]],
    tolerations: Iterable[Mapping[str, Any]],
    effects: tuple[str, ...],
) -> Mapping[str, Any] | None:
    """The first taint with one of ``effects`` that no toleration tolerates."""
    tolerations = list(tolerations)
    for taint in taints:
        if taint.get("effect") in effects and not any(_tolerates(t, taint) for t in tolerations):
            return taint
    return None


def _requirement(expression: Mapping[str, Any]) -> Requirement | None:
    operator = _OPERATORS.get(str(expression.get("operator")))
    if operator is None or not expression.get("key"):
        return None
    values = tuple(str(v) for v in expression.get("values") or ())
    return Requirement(str(expression["key"]), operator, values)


def _term_matches(term: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """A node selector term: every expression on labels and field on the name holds."""
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False  # an empty term matches nothing
    meta = node.get("metadata") or {}
    for group, values in ((expressions, meta.get("labels") or {}), (fields, None)):
        for expression in group:
            if values is None and expression.get("key") != _NODE_NAME_FIELD:
                return False
            requirement = _requirement(expression)
            subject = values if values is not None else {_NODE_NAME_FIELD: meta.get("name", "")}
            if requirement is None or not requirement.matches(subject):
                return False
    return True


def _fits_node(spec: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """``PodMatchesNodeSelectorAndAffinityTerms``: nodeSelector, then required affinity."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    selector = spec.get("nodeSelector") or {}
    if any(labels.get(key) != value for key, value in selector.items()):
        return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if not isinstance(required, Mapping):
        return True
    return any(_term_matches(t or {}, node) for t in required.get("nodeSelectorTerms") or ())


def should_run(node: Mapping[str, Any], template_spec: Mapping[str, Any]) -> tuple[bool, bool]:
    """(a daemon pod should be placed on ``node``, an existing one may keep running there).

    ``template_spec`` is the spec of ``daemon_template``'s result, daemon tolerations included.
    """
    name = (node.get("metadata") or {}).get("name")
    if template_spec.get("nodeName") and template_spec["nodeName"] != name:
        return False, False
    if not _fits_node(template_spec, node):
        return False, False
    taints = (node.get("spec") or {}).get("taints") or []
    tolerations = template_spec.get("tolerations") or []
    if untolerated(taints, tolerations, ("NoSchedule", "NoExecute")) is not None:
        return False, untolerated(taints, tolerations, ("NoExecute",)) is None
    return True, True
