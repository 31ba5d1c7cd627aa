"""Per-kind behaviour of the generic store (kube-apiserver's "strategies"), as data.

The generic store asks four questions of a kind: what status does a new object start
with, what does a write through its ``status`` subresource keep, does it track
``metadata.generation``, and which deletion propagation applies when a client names none.
Everything else a kind needs (defaulting, validation, selectable fields) lives in
``builtins``; admission-like side effects in ``admission``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .resources import Resource

__all__ = [
    "default_propagation",
    "initial_status",
    "spec_changed",
    "status_update",
    "tracks_generation",
    "validates_all_on_status",
]

# Status a new object starts with. Go serialises zero values of non-omitempty fields, and
# clients (the Python models) require them, so these are not always empty.
_INITIAL_STATUS: dict[tuple[str, str], dict[str, Any]] = {
    ("", "Service"): {"loadBalancer": {}},
    ("", "Namespace"): {"phase": "Active"},
    ("", "PersistentVolumeClaim"): {"phase": "Pending"},
    ("", "PersistentVolume"): {"phase": "Pending"},
    ("", "ReplicationController"): {"replicas": 0},
    ("apps", "ReplicaSet"): {"replicas": 0},
    ("apps", "StatefulSet"): {"replicas": 0, "availableReplicas": 0},
    ("apps", "DaemonSet"): {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    },
    ("autoscaling", "HorizontalPodAutoscaler"): {"currentReplicas": 0, "desiredReplicas": 0},
    ("policy", "PodDisruptionBudget"): {
        "disruptionsAllowed": 0,
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "expectedPods": 0,
    },
    ("networking.k8s.io", "Ingress"): {"loadBalancer": {}},
}

# Kinds whose status a create keeps (the kubelet registers Nodes with their status).
_KEEPS_STATUS_ON_CREATE = frozenset({("", "Node"), ("", "Event")})

# A status write keeps the request's object but for its spec, which stays the stored one:
# kube-apiserver 1.20's status strategies (``PrepareForUpdate``) set ``Spec = old.Spec`` and
# leave metadata to the generic store, so labels, annotations, finalizers and owner
# references sent to /status are stored (the Deployment controller writes its revision
# annotation that way). The metadata fields some status strategies also reset:
_STATUS_KEEPS_METADATA: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "Deployment"): ("labels",),
    ("", "Pod"): ("ownerReferences",),  # old kubelets corrupted them through pods/status
    # Generation and selfLink too, which the generic store keeps for every kind.
    ("apiextensions.k8s.io", "CustomResourceDefinition"): (
        "labels",
        "annotations",
        "ownerReferences",
    ),
}

# Kinds whose status strategy validates the whole object, not only metadata and status
# (kube's ``nodeStatusStrategy.ValidateUpdate`` is ``ValidateNodeUpdate``).
_VALIDATES_ALL_ON_STATUS = frozenset({("", "Node")})

_TRACKS_GENERATION = frozenset(
    {
        ("", "ReplicationController"),
        ("apps", "Deployment"),
        ("apps", "ReplicaSet"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("autoscaling", "HorizontalPodAutoscaler"),
        ("policy", "PodDisruptionBudget"),
        ("networking.k8s.io", "Ingress"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("scheduling.k8s.io", "PriorityClass"),
    }
)

# kube-apiserver 1.20 orphans dependents of these kinds unless told otherwise.
_ORPHAN_BY_DEFAULT = frozenset({("", "ReplicationController"), ("batch", "Job")})


def _group(resource: Resource) -> str:
    return resource.storage[0]


def initial_status(resource: Resource, obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """The status a created object gets; None means the status is removed."""
    key = (_group(resource), resource.kind)
    if key in _KEEPS_STATUS_ON_CREATE:
        status = obj.get("status")
        return dict(status) if isinstance(status, Mapping) else None
    if key == ("", "Pod"):
        return {"phase": "Pending", "qosClass": _qos_class(obj)}
    if resource.custom is not None:
        return None
    if key in _INITIAL_STATUS:
        return dict(_INITIAL_STATUS[key])
    return {} if resource.has("status") else None


def status_update(
    resource: Resource, obj: Mapping[str, Any], old: Mapping[str, Any]
) -> dict[str, Any]:
    """The object a write through the ``status`` subresource stores, before the generic
    store carries over what no update may change (uid, creationTimestamp, generation...).

    ``obj`` is the request's object, ``old`` the stored one, both in the storage version.
    A custom resource keeps everything of ``old`` but its status, which the request sets or,
    when it has none, removes (kube's customresource ``statusStrategy``); a built-in kind
    takes the request's metadata and status and keeps the rest of ``old`` (its spec) and the
    metadata fields its strategy resets (``_STATUS_KEEPS_METADATA``).
    """
    new = dict(old)
    if resource.custom is not None:
        new["metadata"] = dict(old["metadata"])
        if "status" in obj:
            new["status"] = obj["status"]
        else:
            new.pop("status", None)
        return new
    meta = dict(obj.get("metadata") or {})
    old_meta = old["metadata"]
    for key in _STATUS_KEEPS_METADATA.get((_group(resource), resource.kind), ()):
        if key in old_meta:
            meta[key] = old_meta[key]
        else:
            meta.pop(key, None)
    new["metadata"] = meta
    new["status"] = obj.get("status", {})
    return new


def validates_all_on_status(resource: Resource) -> bool:
    """Whether a status write runs the kind's own (spec) validation, not only metadata's."""
    return (_group(resource), resource.kind) in _VALIDATES_ALL_ON_STATUS


def tracks_generation(resource: Resource) -> bool:
    return resource.custom is not None or (_group(resource), resource.kind) in _TRACKS_GENERATION


def spec_changed(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """True when anything but metadata and status changed (what bumps the generation)."""
    keys = (set(new) | set(old)) - {"metadata", "status", "apiVersion", "kind"}
    return any(new.get(k) != old.get(k) for k in keys)


def default_propagation(resource: Resource) -> str:
    return "Orphan" if (_group(resource), resource.kind) in _ORPHAN_BY_DEFAULT else "Background"


def _qos_class(pod: Mapping[str, Any]) -> str:
    """Pod QoS class from its containers' requests and limits (Guaranteed/Burstable/BestEffort)."""
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    any_set = False
    guaranteed = bool(containers)
    for c in containers:
        resources = c.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        if requests or limits:
            any_set = True
        for name in ("cpu", "memory"):
            limit = limits.get(name)
            request = requests.get(name, limit)
            if limit is None or str(request) != str(limit):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
