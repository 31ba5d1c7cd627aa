"""The field-selector attributes of each built-in kind, rendered as kube 1.20 renders them.

``kubectl get pods --field-selector spec.nodeName=n1`` and ``kubectl delete`` (which lists
with ``metadata.name=…``) filter on these. Every kind has ``metadata.name`` and
``metadata.namespace``; a few add their own (kube's ``GetAttrs``/``ToSelectableFields``).
Values are strings: Go zero values where a field is missing (``""``, ``"0"``, ``"false"``),
integers as decimal text, booleans as ``true``/``false``. A selector naming an attribute not
listed for its kind is a 400 in kube (``field label not supported``), which the caller can
decide with the keys of this mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["field_attrs"]

Obj = Mapping[str, Any]


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, Mapping) else None
    return obj


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int_text(value: Any) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "0"


def _pod(obj: Obj) -> dict[str, str]:
    ips = _get(obj, "status.podIPs")
    first = ips[0] if isinstance(ips, list) and ips and isinstance(ips[0], Mapping) else {}
    pod_ip = _text(first.get("ip")) or _text(_get(obj, "status.podIP"))
    attrs = {
        path: _text(_get(obj, path))
        for path in (
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.phase",
            "status.nominatedNodeName",
        )
    }
    attrs["status.podIP"] = pod_ip
    return attrs


_INVOLVED = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")


def _core_event(obj: Obj) -> dict[str, str]:
    attrs = {f"involvedObject.{k}": _text(_get(obj, f"involvedObject.{k}")) for k in _INVOLVED}
    attrs["reason"] = _text(obj.get("reason"))
    attrs["reportingComponent"] = _text(obj.get("reportingComponent"))
    source = _text(_get(obj, "source.component")) or _text(obj.get("reportingComponent"))
    attrs["source"] = source
    attrs["type"] = _text(obj.get("type"))
    return attrs


def _events_event(obj: Obj) -> dict[str, str]:
    attrs = {f"regarding.{k}": _text(_get(obj, f"regarding.{k}")) for k in _INVOLVED}
    attrs["reason"] = _text(obj.get("reason"))
    attrs["reportingController"] = _text(obj.get("reportingController"))
    attrs["type"] = _text(obj.get("type"))
    return attrs


def _node(obj: Obj) -> dict[str, str]:
    return {"spec.unschedulable": "true" if _get(obj, "spec.unschedulable") is True else "false"}


def _namespace(obj: Obj) -> dict[str, str]:
    return {
        "status.phase": _text(_get(obj, "status.phase")),
        "name": _text(_get(obj, "metadata.name")),
    }


_SPECIFIC: dict[tuple[str, str], Callable[[Obj], dict[str, str]]] = {
    ("", "Pod"): _pod,
    ("", "Event"): _core_event,
    ("events.k8s.io", "Event"): _events_event,
    ("", "Secret"): lambda obj: {"type": _text(obj.get("type"))},
    ("", "Namespace"): _namespace,
    ("", "Node"): _node,
    ("", "ReplicationController"): lambda obj: {
        "status.replicas": _int_text(_get(obj, "status.replicas"))
    },
    ("apps", "ReplicaSet"): lambda obj: {
        "status.replicas": _int_text(_get(obj, "status.replicas"))
    },
    ("batch", "Job"): lambda obj: {"status.successful": _int_text(_get(obj, "status.succeeded"))},
    ("certificates.k8s.io", "CertificateSigningRequest"): lambda obj: {
        "spec.signerName": _text(_get(obj, "spec.signerName"))
    },
}


def field_attrs(group: str, kind: str, obj: Obj) -> dict[str, str]:
    """Field-selector attributes of ``obj``: ``{"metadata.name": "web", …}``."""
    attrs = {
        "metadata.name": _text(_get(obj, "metadata.name")),
        "metadata.namespace": _text(_get(obj, "metadata.namespace")),
    }
    specific = _SPECIFIC.get((group, kind))
    if specific is not None:
        attrs.update(specific(obj))
    return attrs
