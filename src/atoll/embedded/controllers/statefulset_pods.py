"""The pods of a StatefulSet: ordinals, stable identity, stable storage, revisions.

kube's ``stateful_set_utils`` for the controller in ``statefulsets``. Pod ``<set>-<ordinal>``
is made from the template of the revision it belongs to (label ``controller-revision-hash``
= that ControllerRevision's name), carries the ``statefulset.kubernetes.io/pod-name`` label,
``hostname`` = its name and ``subdomain`` = the set's ``serviceName``, and mounts one
PersistentVolumeClaim ``<template>-<set>-<ordinal>`` per ``volumeClaimTemplates`` entry. The
claims are made before the pod and never deleted by the controller (kube 1.20 has no claim
retention policy): scaling down and up again gives an ordinal its old storage back.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from atoll.kube.client import Object, ResourceType

from .revisions import REVISION_HASH_LABEL
from .workload_pods import is_ready, is_terminating, pod_from_template

__all__ = [
    "PERSISTENT_VOLUME_CLAIMS",
    "POD_NAME_LABEL",
    "claims_for",
    "identity_matches",
    "is_failed",
    "is_healthy",
    "is_running_and_ready",
    "new_pod",
    "ordinal_of",
    "parent_of",
    "pod_name",
    "revision_of",
    "storage_matches",
    "with_identity",
]

PERSISTENT_VOLUME_CLAIMS = ResourceType(
    "", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True
)
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"

_NAME_AND_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta: Mapping[str, Any] = obj.get("metadata") or {}
    return meta


def _name(obj: Mapping[str, Any]) -> str:
    return str(_meta(obj).get("name") or "")


def parent_of(pod: Mapping[str, Any]) -> str | None:
    """The set a pod name belongs to (``web`` for ``web-3``); None when it has no ordinal."""
    match = _NAME_AND_ORDINAL.match(_name(pod))
    return match.group(1) if match else None


def ordinal_of(pod: Mapping[str, Any]) -> int:
    """The pod's ordinal, or -1 when its name has none."""
    match = _NAME_AND_ORDINAL.match(_name(pod))
    return int(match.group(2)) if match else -1


def pod_name(sts: Mapping[str, Any], ordinal: int) -> str:
    return f"{_name(sts)}-{ordinal}"


def revision_of(pod: Mapping[str, Any]) -> str:
    return str((_meta(pod).get("labels") or {}).get(REVISION_HASH_LABEL, ""))


def is_running_and_ready(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_ready(pod)


def is_healthy(pod: Mapping[str, Any]) -> bool:
    return is_running_and_ready(pod) and not is_terminating(pod)


def is_failed(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Failed"


def _claim_templates(sts: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    templates = (sts.get("spec") or {}).get("volumeClaimTemplates") or []
    return [t for t in templates if isinstance(t, Mapping) and _name(t)]


def claims_for(sts: Mapping[str, Any], ordinal: int) -> dict[str, Object]:
    """The PersistentVolumeClaims of one ordinal, by the name of their template."""
    selector = ((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    claims: dict[str, Object] = {}
    for template in _claim_templates(sts):
        tmeta = _meta(template)
        meta: dict[str, Any] = {
            "name": f"{tmeta['name']}-{_name(sts)}-{ordinal}",
            "namespace": _meta(sts).get("namespace"),
            "labels": {**(tmeta.get("labels") or {}), **selector},
        }
        if tmeta.get("annotations"):
            meta["annotations"] = dict(tmeta["annotations"])
        claims[tmeta["name"]] = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": meta,
            "spec": copy.deepcopy(template.get("spec") or {}),
        }
    return claims


def _with_storage(sts: Mapping[str, Any], pod: Object, ordinal: int) -> None:
    """Mount each claim as the volume named after its template (kube's ``updateStorage``)."""
    claims = claims_for(sts, ordinal)
    spec = pod.setdefault("spec", {})
    volumes: list[dict[str, Any]] = [
        {"name": name, "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}
        for name, claim in claims.items()
    ]
    volumes += [v for v in spec.get("volumes") or [] if v.get("name") not in claims]
    if volumes:
        spec["volumes"] = volumes


def with_identity(sts: Mapping[str, Any], pod: Object) -> Object:
    """``pod`` with its name, namespace and pod-name label put right (``updateIdentity``)."""
    meta = pod.setdefault("metadata", {})
    meta["name"] = pod_name(sts, ordinal_of(pod))
    meta["namespace"] = _meta(sts).get("namespace")
    labels = meta.get("labels") or {}
    meta["labels"] = {**labels, POD_NAME_LABEL: meta["name"]}
    return pod


def new_pod(sts: Mapping[str, Any], ordinal: int, revision: str) -> Object:
    """Pod ``ordinal`` from the template of ``sts`` (already set to ``revision``'s template)."""
    template = (sts.get("spec") or {}).get("template") or {}
    pod = pod_from_template(template, sts)
    pod["metadata"]["name"] = pod_name(sts, ordinal)
    with_identity(sts, pod)
    pod["metadata"]["labels"][REVISION_HASH_LABEL] = revision
    pod["spec"]["hostname"] = pod["metadata"]["name"]
    service = (sts.get("spec") or {}).get("serviceName")
    if service:
        pod["spec"]["subdomain"] = service
    _with_storage(sts, pod, ordinal)
    return pod


def identity_matches(sts: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    ordinal = ordinal_of(pod)
    return (
        ordinal >= 0
        and parent_of(pod) == _name(sts)
        and _name(pod) == pod_name(sts, ordinal)
        and _meta(pod).get("namespace") == _meta(sts).get("namespace")
        and (_meta(pod).get("labels") or {}).get(POD_NAME_LABEL) == _name(pod)
    )


def storage_matches(sts: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    """Each claim template is mounted from this ordinal's claim."""
    ordinal = ordinal_of(pod)
    if ordinal < 0:
        return False
    volumes = {
        v.get("name"): v
        for v in (pod.get("spec") or {}).get("volumes") or []
        if isinstance(v, dict)
    }
    for name, claim in claims_for(sts, ordinal).items():
        source = (volumes.get(name) or {}).get("persistentVolumeClaim") or {}
        if source.get("claimName") != claim["metadata"]["name"]:
            return False
    return True
