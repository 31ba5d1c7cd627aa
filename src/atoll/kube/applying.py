"""Server-side apply and ``metadata.managedFields`` bookkeeping.

``application/apply-patch+yaml`` requests (``kubectl apply --server-side``, the Python client's
``server_side_apply``, lightkube's ``apply``) send a manager's *whole intent*. The server
merges it into the live object, removes what the manager applied last time but no longer
does (unless another manager still owns it), and records per-manager ownership in
``managedFields`` so the next apply can do that again. Changing a field another manager owns
is a conflict (409) unless the request forces, in which case ownership moves to the applier.

Ordinary writes (create, update, patch) go through ``record_update``, which gives the writing
manager an ``Update`` entry for what it changed and takes those fields from everybody else,
so ``managedFields`` look like kube-apiserver's and later applies see who owns what.

Deliberate simplifications against kube:
- ``status`` is never tracked; apply merges it like any field and the resource strategy is
  expected to reset it, as kube's does for the main resource.
- Elements an apply adds to an associative list keep the applied order; live elements the
  apply does not mention stay right after the live element that preceded them.
- A field removed by an update is dropped from every manager, not just the writer.
- A map or list that loses its last entry to an apply is dropped, as Go's ``omitempty``
  makes kube do for built-in kinds, unless some manager owns it as a (now empty) value.
- A ``null`` in an apply configuration means "not mine": the field is left out.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from atoll.errors import BadRequest, Cause, Conflict
from atoll.kube.fieldsets import (
    FieldSet,
    Path,
    changed_fields,
    element_token,
    field_set,
    field_value,
    from_fields_v1,
    json_equal,
    path_string,
    prefixes,
    remove_field,
    to_fields_v1,
)
from atoll.kube.patchmeta import CUSTOM_RESOURCE_META, PatchMeta

__all__ = ["ManagedEntry", "managed_entries", "record_update", "server_side_apply"]

BEFORE_FIRST_APPLY = "before-first-apply"
# Metadata the server owns: an apply configuration's values for these are not merged (the
# caller checks resourceVersion/uid preconditions before applying, as kube does).
_SERVER_METADATA = (
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
)


@dataclass(frozen=True, slots=True)
class ManagedEntry:
    """One ``managedFields`` entry, with its FieldsV1 parsed into a set of paths.

    An entry read from a stored object keeps the FieldsV1 it was read from (``rendered``),
    which this module rendered when it stored it: an entry a write leaves alone is written
    back as it was instead of being rendered again. ``replace`` drops it, as it must.
    """

    manager: str
    operation: str
    api_version: str
    time: str
    fields: FieldSet
    subresource: str = ""
    rendered: Mapping[str, Any] | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """What kube keys entries by: Update entries are per API version, Apply entries not."""
        version = self.api_version if self.operation == "Update" else ""
        return (self.manager, self.operation, version, self.subresource)

    def describe(self) -> str:
        """The manager as conflict messages name it: ``"kubectl-edit" using apps/v1``."""
        text = f'"{self.manager}"'
        if self.subresource:
            text += f' with subresource "{self.subresource}"'
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text

    def to_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": self.rendered if self.rendered is not None else to_fields_v1(self.fields),
        }
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry


def managed_entries(obj: Mapping[str, Any]) -> list[ManagedEntry]:
    """The parsed ``metadata.managedFields`` of ``obj``; malformed entries are dropped."""
    return _entries(_raw_entries(obj), stored=False)


def server_side_apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    *,
    manager: str,
    meta: PatchMeta | None,
    api_version: str,
    now: str,
    force: bool,
) -> dict[str, Any]:
    """The object after ``manager`` applies ``applied`` to ``live`` (None: it does not exist).

    ``meta`` is the kind's ``PatchMeta`` (None for a custom resource without a schema: lists
    are atomic). Raises ``Conflict`` when, without ``force``, the apply would change a field
    another manager owns, and ``BadRequest`` for a malformed configuration.
    """
    if not manager:
        raise BadRequest("PATCH requests with apply content type require a fieldManager")
    meta = meta if meta is not None else CUSTOM_RESOURCE_META
    config = _applied_config(applied)
    applied_fields = field_set(config, meta, strict=True)
    mine = ManagedEntry(manager, "Apply", api_version, now, applied_fields)
    if live is None:
        return _with_entries(config, [mine])
    entries = _entries(_raw_entries(live), stored=True) or [
        _before_first_apply(live, meta, api_version, now)
    ]
    last = next((e for e in entries if e.identity == mine.identity), None)
    previous = last.fields if last is not None else frozenset[Path]()
    others = [e for e in entries if e.identity != mine.identity]
    merged = _merge_applied(copy.deepcopy(live), config, meta)
    changed, _ = changed_fields(live, merged, meta)
    conflicts = [(e, p) for e in others for p in sorted(applied_fields & changed & e.fields)]
    if conflicts and not force:
        raise _conflict_error(conflicts)
    if conflicts:
        taken = applied_fields & changed
        others = [_without(e, taken) for e in others]
    _prune(merged, previous - applied_fields, [applied_fields, *(e.fields for e in others)], meta)
    if last is not None and last.fields == applied_fields:
        # A no-op apply must leave the object as it was, time stamp included, so that the
        # caller sees nothing changed and does not write a new resourceVersion.
        unchanged = _with_entries(copy.deepcopy(merged), [*others, last])
        if json_equal(unchanged, live):
            return unchanged
    return _with_entries(merged, [*others, mine])


def record_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    api_version: str,
    now: str,
    meta: PatchMeta | None = None,
) -> dict[str, Any]:
    """``new`` with ``managedFields`` updated for a create (``old`` None) or update by ``manager``.

    The manager's ``Update`` entry gains every field the write set or changed, and other
    managers lose those. ``meta`` is the kind's ``PatchMeta`` (None: custom resource).
    managedFields sent in ``new`` replace the stored ones first, as kube allows; ``[{}]``
    clears them, leaving only what this write changed. ``old`` is the object as stored, its
    managedFields as this function or ``server_side_apply`` wrote them. The result is a copy
    of ``new`` that shares everything but its ``metadata`` with it.
    """
    meta = meta if meta is not None else CUSTOM_RESOURCE_META
    result = dict(new)
    if isinstance(new.get("metadata"), dict):
        result["metadata"] = dict(new["metadata"])
    sent, stored = _raw_entries(result), _raw_entries(old or {})
    if old is None:
        changed, removed = field_set(new, meta), frozenset[Path]()
    else:
        changed, removed = changed_fields(old, new, meta)
    if not changed and not removed and isinstance(stored, list) and sent in (None, stored):
        # Nothing tracked changed, and the stored entries stand (none sent, or sent back as
        # they are): stored by this module, they are sorted and non-empty already.
        return _with_stored(result, stored)
    if sent == [{}]:
        base: list[ManagedEntry] = []
    else:
        # Like kube: entries sent with the write win; none sent (or only junk) keeps the
        # stored ones, so clients unaware of managedFields cannot wipe them by accident.
        # Sent entries equal to the stored ones (a client echoing them) are the stored ones.
        base = _entries(sent, stored=sent == stored) or _entries(stored, stored=True)
    if not changed and not removed:
        return _with_entries(result, base)
    mine = ManagedEntry(manager, "Update", api_version, now, frozenset())
    previous = next((e.fields for e in base if e.identity == mine.identity), frozenset())
    touched = changed | removed
    others = [_without(e, touched) for e in base if e.identity != mine.identity]
    return _with_entries(result, [*others, replace(mine, fields=(previous - removed) | changed)])


def _without(entry: ManagedEntry, fields: FieldSet) -> ManagedEntry:
    """``entry`` giving up ``fields``; the same entry (rendering kept) if it owns none."""
    return (
        entry if entry.fields.isdisjoint(fields) else replace(entry, fields=entry.fields - fields)
    )


# --- apply internals --------------------------------------------------------------------------


def _applied_config(applied: Any) -> dict[str, Any]:
    if not isinstance(applied, dict):
        raise BadRequest("an apply configuration must be an object")
    config: dict[str, Any] = _without_nulls(applied)
    metadata = config.get("metadata")
    if isinstance(metadata, dict):
        for key in _SERVER_METADATA:
            metadata.pop(key, None)
    return config


def _without_nulls(value: Any) -> Any:
    """A deep copy without null fields: in an apply configuration null means "not mine"."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _before_first_apply(
    live: Mapping[str, Any], meta: PatchMeta, api_version: str, now: str
) -> ManagedEntry:
    """Kube's owner for every field of an object that predates managedFields."""
    version = str(live.get("apiVersion") or api_version)
    return ManagedEntry(BEFORE_FIRST_APPLY, "Update", version, now, field_set(live, meta))


def _merge_applied(live: Any, applied: Any, meta: PatchMeta) -> Any:
    """Merge an apply configuration into (a copy of) the live value."""
    if isinstance(live, dict) and isinstance(applied, dict):
        for key, value in applied.items():
            child = meta.child(key)
            live[key] = _merge_applied(live[key], value, child) if key in live else value
        return live
    if isinstance(live, list) and isinstance(applied, list):
        kind = meta.ssa_list_type
        if kind == "map":
            return _merge_lists(live, applied, meta, lambda e: element_token(e, meta))
        if kind == "set":
            return _merge_lists(live, applied, meta, _value_token)
    return applied


def _value_token(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _merge_lists(
    live: list[Any], applied: list[Any], meta: PatchMeta, token: Callable[[Any], str | None]
) -> list[Any]:
    """Applied elements in applied order (merged with their live twins); live-only ones keep
    their place after the live element that preceded them."""
    applied_tokens = {token(e): e for e in applied}
    live_by_token: dict[str | None, Any] = {}
    following: dict[str | None, list[Any]] = {None: []}
    anchor: str | None = None
    for element in live:
        key = token(element)
        if key is not None and key in applied_tokens and key not in live_by_token:
            live_by_token[key] = element
            anchor = key
            following[anchor] = []
        else:
            following[anchor].append(element)
    result = list(following[None])
    for key, element in applied_tokens.items():
        twin = live_by_token.get(key)
        merged = _merge_applied(twin, element, meta.element) if twin is not None else element
        result.append(merged)
        result.extend(following.get(key, []))
    return result


def _prune(obj: dict[str, Any], stale: FieldSet, kept: Iterable[FieldSet], meta: PatchMeta) -> None:
    """Remove fields the applier gave up, unless it or someone else still relies on them."""
    keep = prefixes(path for fields in kept for path in fields)
    for path in sorted(stale, key=len, reverse=True):
        if path in keep or _is_key_of_element(path):
            continue
        remove_field(obj, path, meta)
        _drop_emptied_parents(obj, path, keep, meta)


def _drop_emptied_parents(
    obj: dict[str, Any], path: Path, keep: set[Path], meta: PatchMeta
) -> None:
    """Drop maps and lists the removal left empty, as Go's ``omitempty`` does in kube."""
    for end in range(len(path) - 1, 0, -1):
        parent = path[:end]
        if parent in keep or not parent[-1].startswith("f:"):
            return
        if field_value(obj, parent, meta) not in ({}, []):
            return
        remove_field(obj, parent, meta)


def _is_key_of_element(path: Path) -> bool:
    """A key field of a list element goes with the element, never on its own."""
    if len(path) < 2 or not path[-2].startswith("k:") or not path[-1].startswith("f:"):
        return False
    keys = json.loads(path[-2][2:])
    return isinstance(keys, dict) and path[-1][2:] in keys


def _conflict_error(conflicts: list[tuple[ManagedEntry, Path]]) -> Conflict:
    causes = [
        Cause("FieldManagerConflict", f"conflict with {e.describe()}", path_string(p))
        for e, p in conflicts
    ]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        detail = f"1 conflict: conflict with {entry.describe()}: {path_string(path)}"
    else:
        lines: list[str] = []
        for entry in sorted({e.identity: e for e, _ in conflicts}.values(), key=_sort_key):
            lines.append(f"conflicts with {entry.describe()}:")
            lines += [f"- {path_string(p)}" for e, p in conflicts if e.identity == entry.identity]
        detail = f"{len(conflicts)} conflicts: " + "\n".join(lines)
    return Conflict(f"Apply failed with {detail}", causes=causes)


# --- managedFields encoding -------------------------------------------------------------------


def _raw_entries(obj: Mapping[str, Any]) -> Any:
    metadata = obj.get("metadata")
    return metadata.get("managedFields") if isinstance(metadata, Mapping) else None


def _entries(raw: Any, *, stored: bool) -> list[ManagedEntry]:
    """Parse a ``managedFields`` value; ``stored``: as this module wrote it, renderings kept."""
    if not isinstance(raw, list):
        return []
    return [entry for item in raw if (entry := _parse_entry(item, stored=stored)) is not None]


def _parse_entry(item: Any, *, stored: bool) -> ManagedEntry | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("manager"), str):
        return None
    tree = item.get("fieldsV1")
    entry = ManagedEntry(
        manager=item["manager"],
        operation=str(item.get("operation") or "Update"),
        api_version=str(item.get("apiVersion") or ""),
        time=str(item.get("time") or ""),
        fields=from_fields_v1(tree),
        subresource=str(item.get("subresource") or ""),
    )
    if stored and isinstance(tree, dict):
        object.__setattr__(entry, "rendered", tree)  # frozen: set once, here
    return entry


def _sort_key(entry: ManagedEntry) -> tuple[str, str, str, str]:
    return (entry.operation, entry.time, entry.manager, entry.api_version)


def _with_stored(obj: dict[str, Any], stored: list[Any]) -> dict[str, Any]:
    metadata = obj.setdefault("metadata", {})
    if stored:
        metadata["managedFields"] = list(stored)
    else:
        metadata.pop("managedFields", None)
    return obj


def _with_entries(obj: dict[str, Any], entries: list[ManagedEntry]) -> dict[str, Any]:
    """Store ``entries`` (empty ones dropped) in kube's order: Apply first, then by time."""
    kept = sorted((e for e in entries if e.fields), key=_sort_key)
    metadata = obj.setdefault("metadata", {})
    if kept:
        metadata["managedFields"] = [e.to_dict() for e in kept]
    else:
        metadata.pop("managedFields", None)
    return obj
