"""Serving custom resources: CRD admission, status, and the catalog kept in step with CRDs.

When a CRD is written, its status (NamesAccepted, Established) is computed in the same
write, and once committed its versions join the ``Catalog`` — so a custom resource can be
created the moment ``kubectl apply`` of its CRD returns, with no controller in between.
Deleting a CRD removes its custom resources, then stops serving them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from atoll.errors import Invalid

from . import crds
from .options import WriteOptions
from .registry import Registry, WriteResult
from .resources import Resource

__all__ = ["CrdServing", "resources_of"]

logger = logging.getLogger(__name__)

CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")
CLEANUP = "customresourcecleanup.apiextensions.k8s.io"
_OPTS = WriteOptions(field_manager="apiextensions-apiserver")


def resources_of(crd: Mapping[str, Any]) -> tuple[list[Resource], str]:
    """The served resources of a CRD (v1 form), and its preferred version.

    Each resource's ``custom`` is its CRD version entry; for a CRD that keeps unknown fields
    (``spec.preserveUnknownFields``, only possible through v1beta1) the entry also carries
    ``preserveUnknownFields: true``, which ``SchemaCheck`` reads to skip pruning.
    """
    spec = crd.get("spec") or {}
    preserve = spec.get("preserveUnknownFields") is True
    names = spec.get("names") or {}
    storage_version = next((v["name"] for v in spec.get("versions") or [] if v.get("storage")), "")
    served = [v for v in spec.get("versions") or [] if v.get("served")]
    resources = [
        Resource(
            group=spec.get("group", ""),
            version=v["name"],
            plural=names.get("plural", ""),
            kind=names.get("kind", ""),
            namespaced=spec.get("scope") == "Namespaced",
            singular=names.get("singular") or names.get("kind", "").lower(),
            short_names=tuple(names.get("shortNames") or ()),
            categories=tuple(names.get("categories") or ()),
            subresources=tuple(sorted((v.get("subresources") or {}).keys())),
            storage_version=storage_version,
            custom={**v, "preserveUnknownFields": True} if preserve else v,
        )
        for v in served
    ]
    preferred = served[0]["name"] if served else ""
    return resources, preferred


class CrdServing:
    """Admission for CRDs plus the after-write hook that updates the catalog."""

    def __init__(self, registry: Registry, tasks: set[asyncio.Task[None]]) -> None:
        self._registry = registry
        self._tasks = tasks
        registry.admission.append(self)
        registry.after_write.append(self._written)

    def load(self) -> None:
        """Serve every stored CRD (at start-up)."""
        for entry in self._registry.storage.iter(CRDS):
            crd = entry.decode()
            if not (crd.get("metadata") or {}).get("deletionTimestamp"):
                self._serve(crd)

    def admit(
        self, op: str, resource: Resource, obj: dict[str, Any], old: Mapping[str, Any] | None
    ) -> None:
        if resource.storage != CRDS:
            return
        crds.default_crd(obj)
        errors = crds.validate_crd(obj, old, request_version=resource.version)
        if errors:
            raise Invalid.of(
                "CustomResourceDefinition",
                "apiextensions.k8s.io",
                obj["metadata"].get("name", ""),
                errors,
            )
        obj["status"] = crds.crd_status(obj, now=self._registry.clock())
        finalizers = obj["metadata"].setdefault("finalizers", [])
        if op == "CREATE" and CLEANUP not in finalizers:
            finalizers.append(CLEANUP)

    def _serve(self, crd: Mapping[str, Any]) -> None:
        resources, preferred = resources_of(crd)
        self._registry.catalog.add_custom(crd["metadata"]["name"], resources, preferred)

    def _written(self, resource: Resource, result: WriteResult) -> None:
        if resource.storage != CRDS or result.entry is None:
            return
        name = result.obj["metadata"]["name"]
        if result.deleted:
            self._registry.catalog.remove_custom(name)
        elif result.obj["metadata"].get("deletionTimestamp"):
            task = asyncio.get_running_loop().create_task(self._clean_up(result.obj))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._serve(result.obj)

    async def _clean_up(self, crd: Mapping[str, Any]) -> None:
        """Delete every custom resource of a deleted CRD, then let the CRD go."""
        resources, _ = resources_of(crd)
        registry = self._registry
        if resources:
            storage_key = resources[0].storage
            for entry in list(registry.storage.iter(storage_key)):
                await registry.storage.delete(storage_key, entry.namespace, entry.name)
        name = crd["metadata"]["name"]
        current = registry.storage.latest(CRDS, "", name)
        if current is None:
            return
        obj = current.decode()
        finalizers = [f for f in obj["metadata"].get("finalizers") or [] if f != CLEANUP]
        obj["metadata"]["finalizers"] = finalizers
        crd_resource = registry.catalog.get(
            "apiextensions.k8s.io", "v1", "customresourcedefinitions"
        )
        assert crd_resource is not None
        await registry.replace_stored(crd_resource, obj, current, _OPTS, expected=None)
