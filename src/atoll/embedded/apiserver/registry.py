"""The generic store: Kubernetes object semantics over ``Storage``, for every kind alike.

kube-apiserver's ``registry/generic`` in Python: create, get, list, update, patch and delete
with server-set metadata, defaulting, validation, optimistic concurrency, finalizers and
graceful deletion, dry-run and managed fields. Per-kind differences come from
``strategies`` (status and generation rules), ``builtins`` (defaulting, validation, fields),
custom resources' schemas (``crds``) and admission steps (``admission``). Objects arrive and
leave in the version the client asked for and are stored in one version per resource.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from atoll.embedded.storage.store import Entry, Storage
from atoll.errors import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
)
from atoll.kube.selectors import FieldSelector

from . import builtins, crds, strategies
from .builtins.object_meta import validate_object_meta_update
from .conversions import convert as convert_builtin
from .objectmeta import carry_over, now_rfc3339, stamp_new
from .options import DeleteOptions, ListOptions, WriteOptions, decode_continue, encode_continue
from .resources import Catalog, Resource
from .schemas import SchemaCheck

__all__ = ["Admission", "ListResult", "Registry", "WriteResult", "convert"]


def convert(obj: dict[str, Any], *, to_api_version: str) -> dict[str, Any]:
    """Convert between served versions; CRDs convert through ``crds``, the rest built in."""
    if obj.get("kind") == "CustomResourceDefinition":
        if to_api_version == "apiextensions.k8s.io/v1beta1":
            return crds.crd_v1_to_v1beta1(obj)
        if obj.get("apiVersion") == "apiextensions.k8s.io/v1beta1":
            return crds.crd_v1beta1_to_v1(obj)
        return {**obj, "apiVersion": to_api_version}
    return convert_builtin(obj, to_api_version=to_api_version)


logger = logging.getLogger(__name__)


class Admission(Protocol):
    """A step run on every write after defaulting and before validation (kube's admission)."""

    def admit(
        self, op: str, resource: Resource, obj: dict[str, Any], old: Mapping[str, Any] | None
    ) -> None: ...


@dataclass(slots=True)
class WriteResult:
    entry: Entry | None  # None for a dry run
    obj: dict[str, Any]  # the object as stored (storage version)
    created: bool = False
    deleted: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class ListResult:
    entries: list[Entry]
    rv: int
    continue_token: str = ""
    remaining: int | None = None


class Registry:
    """Object semantics for every served resource of one embedded cluster."""

    def __init__(
        self,
        storage: Storage,
        catalog: Catalog,
        *,
        schemas: SchemaCheck,
        clock: Callable[[], str] = now_rfc3339,
    ) -> None:
        self.storage = storage
        self.catalog = catalog
        self.schemas = schemas
        self.clock = clock
        self.admission: list[Admission] = []
        self.after_write: list[Callable[[Resource, WriteResult], None]] = []
        self.eviction_checks: list[Callable[[str, str], None]] = []

    # -- conversion -------------------------------------------------------------------------

    def to_storage(self, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        if obj.get("apiVersion") == resource.stored_api_version:
            return obj
        if resource.custom is not None:
            obj["apiVersion"] = resource.stored_api_version
            return obj
        return convert(obj, to_api_version=resource.stored_api_version)

    def from_storage(self, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        if resource.stored_api_version == resource.api_version:
            return obj
        if resource.custom is not None:
            obj["apiVersion"] = resource.api_version
            return obj
        return convert(obj, to_api_version=resource.api_version)

    def encode(self, resource: Resource, entry: Entry) -> bytes:
        """An entry's JSON in the resource's served version (no copy when they agree)."""
        if resource.stored_api_version == resource.api_version:
            return entry.raw
        return orjson.dumps(self.from_storage(resource, entry.decode()))

    # -- reads ------------------------------------------------------------------------------

    def get(self, resource: Resource, namespace: str, name: str) -> Entry:
        entry = self.storage.get(resource.storage, namespace, name)
        if entry is None:
            raise NotFound.of(resource.plural, resource.group, name)
        return entry

    def list(self, resource: Resource, namespace: str | None, opts: ListOptions) -> ListResult:
        rv = self.storage.revision
        match = self.predicate(resource, opts)
        name = _pinned_name(opts.field_selector)
        if opts.continue_token:
            rv, after = decode_continue(opts.continue_token, oldest_rv=self.storage.oldest_revision)
            candidates = self.storage.snapshot(resource.storage, namespace, rv=rv, after=after)
        elif name is not None and namespace is not None:
            entry = self.storage.get(resource.storage, namespace, name)
            candidates = [entry] if entry is not None else []
        else:
            candidates = list(self.storage.iter(resource.storage, namespace))
        items: list[Entry] = []
        for i, entry in enumerate(candidates):
            if not match(entry):
                continue
            if opts.limit and len(items) == opts.limit:
                last = items[-1]
                remaining = (  # kube counts only unfiltered lists
                    len(candidates) - i
                    if opts.label_selector is None and opts.field_selector is None
                    else None
                )
                token = encode_continue(rv=rv, namespace=last.namespace, name=last.name)
                return ListResult(items, rv, token, remaining)
            items.append(entry)
        return ListResult(items, rv)

    def predicate(self, resource: Resource, opts: ListOptions) -> Callable[[Entry], bool]:
        labels, fields = opts.label_selector, opts.field_selector
        if fields is not None:
            supported = set(builtins.field_attrs(resource.storage[0], resource.kind, {}))
            supported |= {"metadata.name", "metadata.namespace"}
            for field, _op, _value in fields.requirements:
                if field not in supported:
                    raise BadRequest(f"field label not supported: {field}")
        if labels is None and fields is None:
            return lambda entry: True

        def match(entry: Entry) -> bool:
            if labels is not None and not labels.matches(entry.labels):
                return False
            return fields is None or fields.matches(entry.fields)

        return match

    # -- create -----------------------------------------------------------------------------

    async def create(
        self,
        resource: Resource,
        namespace: str | None,
        obj: dict[str, Any],
        opts: WriteOptions,
    ) -> WriteResult:
        warnings = self._check_kind_and_schema(resource, obj, opts)
        obj = self.to_storage(resource, obj)
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise BadRequest("metadata must be an object")
        self._check_namespace(resource, namespace, meta, creating=True)
        now = self.clock()  # one time stamp per write: creationTimestamp and managedFields
        stamp_new(obj, now=now, track_generation=strategies.tracks_generation(resource))
        status = strategies.initial_status(resource, obj)
        if status is None:
            obj.pop("status", None)
        else:
            obj["status"] = status
        self._default(resource, obj)
        for step in self.admission:
            step.admit("CREATE", resource, obj, None)
        self._validate(resource, obj, None)
        if not meta.get("name"):
            raise Invalid.of(
                resource.kind,
                resource.group,
                "",
                [FieldError.required("metadata.name", "name or generateName is required")],
            )
        if not opts.applying:
            self.schemas.record_update(resource, None, obj, manager=opts.field_manager, now=now)
        if opts.dry_run:
            return WriteResult(None, obj, created=True, warnings=warnings)
        entry = await self.storage.create(resource.storage, obj)
        return self._written(resource, WriteResult(entry, obj, created=True, warnings=warnings))

    def _written(self, resource: Resource, result: WriteResult) -> WriteResult:
        for hook in self.after_write:
            hook(resource, result)
        return result

    # -- update -----------------------------------------------------------------------------

    async def update(
        self,
        resource: Resource,
        namespace: str,
        name: str,
        obj: dict[str, Any],
        opts: WriteOptions,
        *,
        subresource: str = "",
        base: Entry | None = None,
    ) -> WriteResult:
        """Replace an object (PUT), or its status with ``subresource="status"``."""
        old_entry = base or self.storage.latest(resource.storage, namespace, name)
        old = old_entry.decode() if old_entry is not None else None
        status_write = subresource == "status"
        # A status write sends the stored object back with a new status; what it repeats
        # exactly as stored was checked when it was stored (``SchemaCheck.check``).
        same_version = resource.stored_api_version == resource.api_version
        stored = old if status_write and same_version else None
        warnings = self._check_kind_and_schema(resource, obj, opts, stored=stored)
        if old_entry is None or old is None:
            raise NotFound.of(resource.plural, resource.group, name)
        obj = self.to_storage(resource, obj)
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise BadRequest("metadata must be an object")
        if meta.get("name", name) != name:
            raise BadRequest(
                f"the name of the object ({meta.get('name')}) does not match the name on "
                f"the URL ({name})"
            )
        meta["name"] = name
        self._check_namespace(
            resource, namespace if resource.namespaced else None, meta, creating=False
        )
        expected = _expected_rv(meta, resource, name)
        if expected is not None and expected != old_entry.rv:
            raise Conflict.modified(resource.plural, resource.group, name)
        new = self._merge_for_update(resource, obj, old, subresource)
        return await self._store_update(
            resource,
            new,
            old,
            old_entry,
            opts,
            expected=old_entry.rv,
            warnings=warnings,
            status_write=status_write,
        )

    def _merge_for_update(
        self, resource: Resource, obj: dict[str, Any], old: dict[str, Any], subresource: str
    ) -> dict[str, Any]:
        if subresource == "status":
            new = strategies.status_update(resource, obj, old)
            carry_over(new, old)
            # The request's resourceVersion matched or was left out: the stored one stands,
            # so that a status write changing nothing keeps the revision (``_unchanged``).
            if "resourceVersion" in old["metadata"]:
                new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            return new
        carry_over(obj, old)
        if resource.storage == ("", "namespaces"):  # only /finalize changes these
            obj.setdefault("spec", {})["finalizers"] = (old.get("spec") or {}).get("finalizers", [])
        if resource.has("status"):
            if "status" in old:
                obj["status"] = old["status"]
            else:
                obj.pop("status", None)
        if strategies.tracks_generation(resource) and strategies.spec_changed(obj, old):
            obj["metadata"]["generation"] = int(old["metadata"].get("generation", 0)) + 1
        return obj

    async def _store_update(
        self,
        resource: Resource,
        new: dict[str, Any],
        old: dict[str, Any],
        old_entry: Entry,
        opts: WriteOptions,
        *,
        expected: int | None,
        warnings: tuple[str, ...] = (),
        validate: bool = True,
        status_write: bool = False,
    ) -> WriteResult:
        self._default(resource, new)
        for step in self.admission:
            step.admit("UPDATE", resource, new, old)
        if validate:
            self._validate(resource, new, old, status_write=status_write)
        if _unchanged(new, old, applying=opts.applying):
            return WriteResult(old_entry, old, warnings=warnings)  # kube keeps the revision
        if not opts.applying:
            self.schemas.record_update(
                resource, old, new, manager=opts.field_manager, now=self.clock()
            )
        if opts.dry_run:
            return WriteResult(None, new, warnings=warnings)
        if _finalized(new):
            entry = await self.storage.delete(
                resource.storage, old_entry.namespace, old_entry.name, expected_rv=expected
            )
            return self._written(resource, WriteResult(entry, new, deleted=True))
        entry = await self.storage.update(resource.storage, new, expected_rv=expected)
        return self._written(resource, WriteResult(entry, new, warnings=warnings))

    async def replace_stored(
        self,
        resource: Resource,
        new: dict[str, Any],
        old_entry: Entry,
        opts: WriteOptions,
        *,
        expected: int | None,
        validate: bool = True,
    ) -> WriteResult:
        """Store ``new`` (storage version, already merged) over ``old_entry``.

        ``validate=False`` is for the server's own writes that user updates may not make
        (binding a pod to a node), as kube's binding REST skips ValidatePodUpdate."""
        old = old_entry.decode()
        carry_over(new, old)
        if resource.has("status") and "status" in old:
            new.setdefault("status", old["status"])
        if strategies.tracks_generation(resource) and strategies.spec_changed(new, old):
            new["metadata"]["generation"] = int(old["metadata"].get("generation", 0)) + 1
        return await self._store_update(
            resource, new, old, old_entry, opts, expected=expected, validate=validate
        )

    # -- delete -----------------------------------------------------------------------------

    async def delete(
        self, resource: Resource, namespace: str, name: str, opts: DeleteOptions
    ) -> WriteResult:
        entry = self.storage.latest(resource.storage, namespace, name)
        if entry is None:
            raise NotFound.of(resource.plural, resource.group, name)
        if resource.storage == ("", "namespaces") and name in _IMMORTAL_NAMESPACES:
            raise Forbidden(
                f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                name=name,
                kind="namespaces",
            )
        obj = entry.decode()
        meta = obj["metadata"]
        if opts.uid is not None and opts.uid != meta.get("uid"):
            raise Conflict(
                f"Precondition failed: UID in precondition: {opts.uid}, "
                f"UID in object meta: {meta.get('uid')}",
                name=name,
                group=resource.group,
                kind=resource.plural,
            )
        if opts.resource_version is not None and opts.resource_version != meta.get(
            "resourceVersion"
        ):
            raise Conflict(
                f"Precondition failed: ResourceVersion in precondition: {opts.resource_version},"
                f" ResourceVersion in object meta: {meta.get('resourceVersion')}",
                name=name,
                group=resource.group,
                kind=resource.plural,
            )
        if self._deletes_gracefully(resource, obj, opts):
            return await self._mark_deleting(resource, obj, entry, opts)
        if opts.dry_run:
            return WriteResult(None, obj, deleted=True)
        gone = await self.storage.delete(resource.storage, namespace, name, expected_rv=entry.rv)
        return self._written(resource, WriteResult(gone, obj, deleted=True))

    def _deletes_gracefully(
        self, resource: Resource, obj: dict[str, Any], opts: DeleteOptions
    ) -> bool:
        """Whether the delete only marks the object (finalizers, pods, namespaces)."""
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        policy = opts.propagation or strategies.default_propagation(resource)
        if policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        if policy != "Orphan" and "orphan" in finalizers and opts.propagation:
            finalizers.remove("orphan")
        if finalizers != list(meta.get("finalizers") or []):
            meta["finalizers"] = finalizers
        key = (resource.storage[0], resource.kind)
        if key == ("", "Namespace"):
            return bool(finalizers or (obj.get("spec") or {}).get("finalizers"))
        if key == ("", "Pod") and self._pod_needs_grace(obj, opts):
            return True
        return bool(finalizers)

    @staticmethod
    def _pod_needs_grace(pod: dict[str, Any], opts: DeleteOptions) -> bool:
        spec = pod.get("spec") or {}
        phase = (pod.get("status") or {}).get("phase")
        grace = opts.grace_period
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds", 30)
        if grace == 0 or not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return False
        pod["metadata"]["deletionGracePeriodSeconds"] = grace
        return True

    async def _mark_deleting(
        self, resource: Resource, obj: dict[str, Any], entry: Entry, opts: DeleteOptions
    ) -> WriteResult:
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = self.clock()
            meta.setdefault("deletionGracePeriodSeconds", 0)
        if (resource.storage[0], resource.kind) == ("", "Namespace"):
            obj.setdefault("status", {})["phase"] = "Terminating"
        if opts.dry_run:
            return WriteResult(None, obj)
        stored = await self.storage.update(resource.storage, obj, expected_rv=entry.rv)
        return self._written(resource, WriteResult(stored, obj))

    # -- shared checks ----------------------------------------------------------------------

    def _check_kind_and_schema(
        self,
        resource: Resource,
        obj: Any,
        opts: WriteOptions,
        *,
        stored: Mapping[str, Any] | None = None,
    ) -> tuple[str, ...]:
        if not isinstance(obj, dict):
            raise BadRequest("the body of the request was in an unknown format")
        # Like kube's decoder, a body without kind/apiVersion takes them from the URL.
        kind = obj.setdefault("kind", resource.kind) or resource.kind
        api_version = obj.get("apiVersion")
        if kind != resource.kind or api_version not in (None, "", resource.api_version):
            served = {r.api_version for r in self.catalog.versions_of(resource.storage)}
            if kind == resource.kind and api_version in served:
                obj.update(convert(obj, to_api_version=resource.api_version))
            else:
                raise BadRequest(_mismatch(resource, kind, api_version))
        obj["apiVersion"] = resource.api_version
        return self.schemas.check(resource, obj, validation=opts.field_validation, stored=stored)

    def _check_namespace(
        self, resource: Resource, namespace: str | None, meta: dict[str, Any], *, creating: bool
    ) -> None:
        if not resource.namespaced:
            meta.pop("namespace", None)
            return
        if namespace is None:
            raise BadRequest("the server could not find the requested resource")
        if meta.get("namespace", namespace) != namespace:
            raise BadRequest(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        meta["namespace"] = namespace
        if not creating:
            return
        ns = self.storage.latest(("", "namespaces"), "", namespace)
        if ns is None:
            raise NotFound.of("namespaces", "", namespace)
        if b'"Terminating"' in ns.raw and ns.decode().get("status", {}).get("phase") == (
            "Terminating"
        ):
            raise Forbidden(
                f'{resource.plural} "{meta.get("name") or meta.get("generateName", "")}" is '
                f"forbidden: unable to create new content in namespace {namespace} because "
                "it is being terminated",
                name=meta.get("name", ""),
                group=resource.group,
                kind=resource.plural,
            )

    def _default(self, resource: Resource, obj: dict[str, Any]) -> None:
        if resource.custom is None:
            builtins.default(resource.storage[0], resource.kind, obj)
        else:
            self.schemas.default_custom(resource, obj)

    def _validate(
        self,
        resource: Resource,
        obj: dict[str, Any],
        old: Mapping[str, Any] | None,
        *,
        status_write: bool = False,
    ) -> None:
        """Metadata rules, then the kind's own: on a status write (``old`` given) only the
        metadata update rules, as kube's status strategies do, unless the kind validates
        the whole object there too (``strategies.validates_all_on_status``)."""
        apiextensions = resource.custom is not None or resource.storage[0] == (
            "apiextensions.k8s.io"
        )
        errors = list(
            builtins.validate_object_meta(
                obj["metadata"],
                namespaced=resource.namespaced,
                name_rule=builtins.name_rule_for(resource.storage[0], resource.kind),
                core_finalizers=not apiextensions,
            )
        )
        if resource.custom is None:
            if (
                status_write
                and old is not None
                and not strategies.validates_all_on_status(resource)
            ):
                errors += validate_object_meta_update(obj["metadata"], old["metadata"])
            else:
                errors += builtins.validate(
                    resource.storage[0], resource.kind, obj, old, namespaced=resource.namespaced
                )
        else:
            errors += self.schemas.validate_custom(resource, obj)
        if errors:
            raise Invalid.of(resource.kind, resource.group, obj["metadata"].get("name", ""), errors)


def _pinned_name(selector: FieldSelector | None) -> str | None:
    if selector is None:
        return None
    names = [v for f, op, v in selector.requirements if f == "metadata.name" and op != "!="]
    return names[0] if len(names) == 1 and len(selector.requirements) == 1 else None


_IMMORTAL_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


def _mismatch(resource: Resource, kind: Any, api_version: Any) -> str:
    if kind == resource.kind:
        return (
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({resource.api_version})"
        )
    version = str(api_version or resource.api_version).rpartition("/")[2]
    internal = resource.group.split(".")[0] if resource.group else "core"
    return (
        f'{kind} in version "{version}" cannot be handled as a {resource.kind}: converting '
        f"({version}.{kind}) to ({internal}.{resource.kind}): unknown conversion"
    )


def _unchanged(new: Mapping[str, Any], old: Mapping[str, Any], *, applying: bool) -> bool:
    """A write that changes nothing but (for non-apply writes) managed fields."""
    if applying:
        return new == old
    new_meta = {k: v for k, v in new.get("metadata", {}).items() if k != "managedFields"}
    old_meta = {k: v for k, v in old.get("metadata", {}).items() if k != "managedFields"}
    if new_meta != old_meta:
        return False
    keys = (set(new) | set(old)) - {"metadata"}
    return all(new.get(k) == old.get(k) for k in keys)


def _expected_rv(meta: Mapping[str, Any], resource: Resource, name: str) -> int | None:
    rv = meta.get("resourceVersion")
    if not rv or rv == "0":  # "0" means "any version", as for kube's unconditional updates
        return None
    try:
        return int(rv)
    except (TypeError, ValueError):
        raise Invalid.of(
            resource.kind,
            resource.group,
            name,
            [FieldError.invalid("metadata.resourceVersion", rv, "must be an integer")],
        ) from None


def _finalized(obj: Mapping[str, Any]) -> bool:
    """A deleting object whose finalizers are all gone: time to remove it for good."""
    meta = obj.get("metadata") or {}
    if not meta.get("deletionTimestamp") or meta.get("finalizers"):
        return False
    return not (obj.get("kind") == "Namespace" and (obj.get("spec") or {}).get("finalizers"))
