"""Default-class admission: a claim without a StorageClass, an Ingress without an
IngressClass, gets the cluster's default one.

kube's ``DefaultStorageClass`` and ``DefaultIngressClass`` plugins, one mechanism:

- A PersistentVolumeClaim created without ``spec.storageClassName`` (absent or null; ``""``
  explicitly asks for no class) and without the beta annotation
  ``volume.beta.kubernetes.io/storage-class`` gets the StorageClass annotated
  ``storageclass.kubernetes.io/is-default-class: "true"`` (or the beta
  ``storageclass.beta.kubernetes.io/is-default-class``).
- An Ingress created without ``spec.ingressClassName`` and without the legacy annotation
  ``kubernetes.io/ingress.class`` gets the IngressClass annotated
  ``ingressclass.kubernetes.io/is-default-class: "true"``.

With no default class the object is left alone. With several, the newest wins (then the
first by name), as since Kubernetes 1.26; 1.20 refused the object instead, which only ever
blocked users mid-migration. Only creation is defaulted, as upstream. The step runs before
ResourceQuota admission, so a quota on ``<class>.storageclass.storage.k8s.io/
requests.storage`` charges the defaulted class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .registry import Registry
from .resources import Resource

__all__ = ["INGRESS_CLASSES", "STORAGE_CLASSES", "DefaultClass", "DefaultClassKind"]

ResourceKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class DefaultClassKind:
    """Which objects get which default class, and how each side says so."""

    objects: ResourceKey  # (group, plural) of what gets a class
    classes: ResourceKey  # (group, plural) of the classes
    default_annotations: tuple[str, ...]  # on a class: "true" makes it the default
    opt_out_annotation: str  # on an object: a class chosen the old way
    field: str = "spec"  # where the class name goes: obj[field][class_field]
    class_field: str = ""

    def is_default(self, cls: Mapping[str, Any]) -> bool:
        annotations = (cls.get("metadata") or {}).get("annotations") or {}
        return any(annotations.get(key) == "true" for key in self.default_annotations)


STORAGE_CLASSES = DefaultClassKind(
    objects=("", "persistentvolumeclaims"),
    classes=("storage.k8s.io", "storageclasses"),
    default_annotations=(
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ),
    opt_out_annotation="volume.beta.kubernetes.io/storage-class",
    class_field="storageClassName",
)
INGRESS_CLASSES = DefaultClassKind(
    objects=("networking.k8s.io", "ingresses"),
    classes=("networking.k8s.io", "ingressclasses"),
    default_annotations=("ingressclass.kubernetes.io/is-default-class",),
    opt_out_annotation="kubernetes.io/ingress.class",
    class_field="ingressClassName",
)


def _newest_first(cls: Mapping[str, Any]) -> tuple[str, str]:
    meta = cls.get("metadata") or {}
    return str(meta.get("creationTimestamp") or ""), str(meta.get("name") or "")


class DefaultClass:
    """Registers itself on ``registry``, ahead of ResourceQuota admission."""

    def __init__(self, registry: Registry, kind: DefaultClassKind) -> None:
        self._registry = registry
        self.kind = kind
        steps = registry.admission
        quota = next(
            (i for i, s in enumerate(steps) if type(s).__name__ == "ResourceQuotaAdmission"),
            len(steps),
        )
        steps.insert(quota, self)

    def default_class(self) -> str | None:
        """The name of the class an object without one gets, if any."""
        defaults = [
            obj
            for entry in self._registry.storage.iter(self.kind.classes)
            if self.kind.is_default(obj := entry.decode())
        ]
        if not defaults:
            return None
        defaults.sort(key=lambda c: _newest_first(c)[1])  # by name, then (stable) newest first
        defaults.sort(key=lambda c: _newest_first(c)[0], reverse=True)
        return str(defaults[0]["metadata"]["name"])

    def admit(
        self, op: str, resource: Resource, obj: dict[str, Any], old: Mapping[str, Any] | None
    ) -> None:
        if op != "CREATE" or resource.storage != self.kind.objects:
            return
        spec = obj.get(self.kind.field)
        if not isinstance(spec, dict) or spec.get(self.kind.class_field) is not None:
            return
        if self.kind.opt_out_annotation in ((obj.get("metadata") or {}).get("annotations") or {}):
            return
        name = self.default_class()
        if name is not None:
            spec[self.kind.class_field] = name
