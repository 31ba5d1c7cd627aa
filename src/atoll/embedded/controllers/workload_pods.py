"""Pods of workload controllers: made from a pod template, owned, ready, available, adopted.

What kube's ``controller_utils`` gives every workload controller, for the StatefulSet and
DaemonSet controllers here: ``controller_ref`` (the ownerReference a controller writes),
``pod_from_template`` (``GetPodFromTemplate``: the template's labels, annotations and
finalizers, ``generateName`` ``<owner>-``, the spec copied), the pod predicates kube's
``podutil`` answers (``is_ready``, ``is_available`` after ``minReadySeconds``,
``is_terminating``), and ``adopt``, the strategic merge patch with which a controller claims
an orphan that its selector matches (``ClaimPods``/``adoptOrphanRevisions``), found through
the ``ORPHANS_INDEX`` of an informer rather than by scanning a namespace.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from atoll.controllers.leadership import parse_time
from atoll.errors import Conflict, Invalid, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.selectors import LabelSelector, from_label_selector_object

__all__ = [
    "ORPHANS_INDEX",
    "PODS",
    "adopt",
    "available_in",
    "controller_of",
    "controller_ref",
    "is_controlled_by",
    "is_ready",
    "is_terminating",
    "orphans",
    "orphans_by_namespace",
    "pod_from_template",
    "selector_of",
]

PODS = ResourceType("", "v1", "pods", "Pod", True)
ORPHANS_INDEX = "workloads-orphans-by-namespace"


def controller_ref(owner: Mapping[str, Any]) -> dict[str, Any]:
    """The ownerReference a controller puts on what it makes (``NewControllerRef``)."""
    meta = owner.get("metadata") or {}
    return {
        "apiVersion": owner.get("apiVersion", ""),
        "kind": owner.get("kind", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return next((ref for ref in refs if isinstance(ref, dict) and ref.get("controller")), None)


def is_controlled_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    """``metav1.IsControlledBy``: the controller reference names ``owner``'s uid."""
    ref = controller_of(obj)
    return ref is not None and ref.get("uid") == (owner.get("metadata") or {}).get("uid")


def selector_of(owner: Mapping[str, Any]) -> LabelSelector:
    """The owner's ``spec.selector``; a missing one selects nothing, as upstream."""
    return from_label_selector_object((owner.get("spec") or {}).get("selector"))


def pod_from_template(template: Mapping[str, Any], owner: Mapping[str, Any]) -> Object:
    """A new Pod from ``template``, controlled by ``owner`` (kube's ``GetPodFromTemplate``)."""
    tmeta = template.get("metadata") or {}
    meta: dict[str, Any] = {
        "generateName": f"{(owner.get('metadata') or {}).get('name', '')}-",
        "labels": dict(tmeta.get("labels") or {}),
        "ownerReferences": [controller_ref(owner)],
    }
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        meta["finalizers"] = list(tmeta["finalizers"])
    spec = copy.deepcopy(template.get("spec") or {})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def _ready_condition(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for condition in (pod.get("status") or {}).get("conditions") or ():
        if isinstance(condition, Mapping) and condition.get("type") == "Ready":
            return condition
    return None


def is_ready(pod: Mapping[str, Any]) -> bool:
    """``podutil.IsPodReady``: the Ready condition is True."""
    condition = _ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def is_terminating(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def available_in(pod: Mapping[str, Any], min_ready_seconds: int, now: datetime) -> float | None:
    """Seconds until a ready pod counts as available (0: it is); None when it is not ready.

    ``podutil.IsPodAvailable``: ready, and ready for ``minReadySeconds`` since the Ready
    condition's last transition.
    """
    if not is_ready(pod):
        return None
    if min_ready_seconds <= 0:
        return 0.0
    condition = _ready_condition(pod) or {}
    since = parse_time(condition.get("lastTransitionTime"))
    if since is None:
        return 0.0
    remaining = since + timedelta(seconds=min_ready_seconds) - now
    return max(remaining.total_seconds(), 0.0)


def orphans_by_namespace(obj: Object) -> list[str]:
    """An index of objects without a controller, by namespace: adoption candidates."""
    if controller_of(obj) is not None:
        return []
    return [str((obj.get("metadata") or {}).get("namespace") or "")]


def orphans(candidates: Iterable[Object], selector: LabelSelector) -> list[Object]:
    """Objects without a controller, not being deleted, that ``selector`` matches."""
    return [
        obj
        for obj in candidates
        if controller_of(obj) is None
        and not is_terminating(obj)
        and selector.matches((obj.get("metadata") or {}).get("labels") or {})
    ]


async def adopt(
    client: KubeClient, rt: ResourceType, obj: Mapping[str, Any], owner: Mapping[str, Any]
) -> Object | None:
    """Make ``owner`` the controller of the orphan ``obj``; None if it went or changed.

    The patch names the object's uid, so an object deleted and re-created under the same
    name meanwhile is not adopted by mistake (kube's ``ownerRefControllerPatch``).
    """
    meta = obj.get("metadata") or {}
    patch = {"metadata": {"ownerReferences": [controller_ref(owner)], "uid": meta.get("uid")}}
    try:
        return await client.patch(
            rt, meta["name"], patch, namespace=meta.get("namespace"), patch_type="strategic"
        )
    except (NotFound, Conflict, Invalid):
        return None
