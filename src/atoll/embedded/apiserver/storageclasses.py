"""DefaultStorageClass admission: a claim that names no class gets the default one.

kube's ``DefaultStorageClass`` plugin. When a PersistentVolumeClaim is created without
``spec.storageClassName`` (absent or null; ``""`` explicitly asks for no class) and without
the beta annotation ``volume.beta.kubernetes.io/storage-class``, it gets the StorageClass
annotated ``storageclass.kubernetes.io/is-default-class: "true"`` (or the beta
``storageclass.beta.kubernetes.io/is-default-class``). With no default class the claim is
left alone. With several, the newest wins (then the first by name), as since Kubernetes
1.26; 1.20 refused the claim instead, which only ever blocked users mid-migration.

Only creation is defaulted, as upstream (1.26's retroactive assignment to existing claims
is the binder's job there, and not done here). The step runs before ResourceQuota
admission, so a quota on ``<class>.storageclass.storage.k8s.io/requests.storage`` charges
the defaulted class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .registry import Registry
from .resources import Resource

__all__ = ["DefaultStorageClass", "is_default_class"]

_CLAIMS = ("", "persistentvolumeclaims")
_CLASSES = ("storage.k8s.io", "storageclasses")
_BETA_CLASS = "volume.beta.kubernetes.io/storage-class"
_DEFAULT = "storageclass.kubernetes.io/is-default-class"
_BETA_DEFAULT = "storageclass.beta.kubernetes.io/is-default-class"


def is_default_class(storage_class: Mapping[str, Any]) -> bool:
    annotations = (storage_class.get("metadata") or {}).get("annotations") or {}
    return annotations.get(_DEFAULT) == "true" or annotations.get(_BETA_DEFAULT) == "true"


def _newest_first(storage_class: Mapping[str, Any]) -> tuple[str, str]:
    meta = storage_class.get("metadata") or {}
    return str(meta.get("creationTimestamp") or ""), str(meta.get("name") or "")


class DefaultStorageClass:
    """Registers itself on ``registry``, ahead of ResourceQuota admission."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        steps = registry.admission
        quota = next(
            (i for i, s in enumerate(steps) if type(s).__name__ == "ResourceQuotaAdmission"),
            len(steps),
        )
        steps.insert(quota, self)

    def default_class(self) -> str | None:
        """The name of the class a claim without one gets, if any."""
        defaults = [
            obj
            for entry in self._registry.storage.iter(_CLASSES)
            if is_default_class(obj := entry.decode())
        ]
        if not defaults:
            return None
        defaults.sort(key=lambda c: _newest_first(c)[1])  # by name, then (stable) newest first
        defaults.sort(key=lambda c: _newest_first(c)[0], reverse=True)
        return str(defaults[0]["metadata"]["name"])

    def admit(
        self, op: str, resource: Resource, obj: dict[str, Any], old: Mapping[str, Any] | None
    ) -> None:
        if op != "CREATE" or resource.storage != _CLAIMS:
            return
        spec = obj.get("spec")
        if not isinstance(spec, dict) or spec.get("storageClassName") is not None:
            return
        if _BETA_CLASS in ((obj.get("metadata") or {}).get("annotations") or {}):
            return
        name = self.default_class()
        if name is not None:
            spec["storageClassName"] = name
