"""Strategic merge patch: apply one to an object, or compute one between two objects.

``application/strategic-merge-patch+json`` is what ``kubectl apply`` (client-side),
``kubectl rollout restart`` and the Python clients' default ``patch`` send for built-in kinds.
It is a JSON merge patch (maps merge, ``null`` deletes) that also knows, from ``PatchMeta``,
which lists merge element by element (containers by name, finalizers as a set, ...) and obeys
the directives of apimachinery's ``strategicpatch`` package:

- ``$patch: replace|merge|delete`` on a map; ``{"$patch": "replace"}`` as a list element
  (replace the list) and ``{"$patch": "delete", <key>: v}`` in a merge list (drop element v);
- ``$retainKeys: [...]`` keeps only the listed keys of the map it sits in;
- ``$deleteFromPrimitiveList/<field>: [...]`` removes values from a primitive merge list;
- ``$setElementOrder/<field>: [...]`` fixes the order of a merge list.

Without ``$setElementOrder`` the order follows apimachinery too: elements named in the patch
keep the patch's order, and elements only in the live object are slotted back where they sat
relative to them; an element the patch adds ahead of all of them therefore comes *first*
(the kubectl patch tutorial shows exactly this), not last.

The server applies patches with ``IgnoreUnmatchedNulls``: a ``null`` for an absent key is
dropped, and no ``$...`` key ever reaches the stored object. Malformed patches raise
``BadRequest``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Hashable
from typing import Any

from atoll.errors import BadRequest
from atoll.kube.fieldsets import json_equal
from atoll.kube.patchmeta import PatchMeta

__all__ = ["apply_strategic_merge_patch", "create_two_way_patch"]

_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVES = "$deleteFromPrimitiveList/"
_MISSING: Any = object()


def apply_strategic_merge_patch(doc: dict[str, Any], patch: Any, meta: PatchMeta) -> dict[str, Any]:
    """Return ``doc`` with ``patch`` applied; neither argument is modified."""
    if not isinstance(patch, dict):
        raise BadRequest(f"a strategic merge patch must be a JSON object, not {_json_type(patch)}")
    merged = _merge_map(copy.deepcopy(doc), patch, meta, "")
    return merged if merged is not None else {}


def create_two_way_patch(
    original: dict[str, Any], modified: dict[str, Any], meta: PatchMeta
) -> dict[str, Any]:
    """A strategic merge patch that turns ``original`` into ``modified``.

    Maps are diffed recursively (``null`` for removed keys). Merge lists keyed by a merge key
    send changed and new elements, ``{"$patch": "delete", key: v}`` for removed ones and
    ``$setElementOrder`` for the final order; primitive merge lists send added values,
    ``$deleteFromPrimitiveList`` and ``$setElementOrder``. Other lists are sent whole, and a
    merge list that cannot be keyed (missing or duplicate keys) is sent with a
    ``{"$patch": "replace"}`` marker.
    """
    return _diff_maps(original, modified, meta)


# --- applying ---------------------------------------------------------------------------------


def _merge_map(
    original: dict[str, Any], patch: dict[str, Any], meta: PatchMeta, path: str
) -> dict[str, Any] | None:
    """Merge ``patch`` into ``original`` (which is ours to change); None means delete the map."""
    directive = patch.get(_PATCH, "merge")
    if directive == "replace":
        rest = {k: v for k, v in patch.items() if k != _PATCH}
        return _merge_map({}, rest, meta, path)
    if directive == "delete":
        return None
    if directive != "merge":
        raise BadRequest(f"Unknown patch directive {json.dumps(directive)} at {_where(path)}")
    if _RETAIN_KEYS in patch:
        _retain_keys(original, patch, path)
    _delete_from_primitive_lists(original, patch, path)
    orders = {k[len(_ORDER) :]: v for k, v in patch.items() if k.startswith(_ORDER)}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            original.pop(key, None)
            continue
        merged = _merge_value(
            original.get(key, _MISSING), value, meta.child(key), f"{path}.{key}", orders.get(key)
        )
        if merged is _MISSING:
            original.pop(key, None)
        else:
            original[key] = merged
    for key, order in orders.items():
        if key not in patch and isinstance(original.get(key), list):
            original[key] = _merge_list(original[key], [], meta.child(key), f"{path}.{key}", order)
    return original


def _merge_value(original: Any, value: Any, meta: PatchMeta, path: str, order: Any) -> Any:
    """The merged value of one field; ``_MISSING`` means the field goes away."""
    if isinstance(value, dict):
        base = original if isinstance(original, dict) else {}
        merged = _merge_map(base, value, meta, path)
        return _MISSING if merged is None else merged
    if isinstance(value, list):
        base_list = original if isinstance(original, list) else []
        return _merge_list(base_list, value, meta, path, order)
    return value


def _merge_list(
    original: list[Any], patch: list[Any], meta: PatchMeta, path: str, order: Any
) -> list[Any]:
    directives = [e for e in patch if isinstance(e, dict) and _PATCH in e]
    elements = [e for e in patch if not (isinstance(e, dict) and _PATCH in e)]
    for element in directives:
        if element[_PATCH] not in ("replace", "delete", "merge"):
            raise BadRequest(
                f"Unknown patch directive {json.dumps(element[_PATCH])} in list {_where(path)}"
            )
    if any(e[_PATCH] == "replace" for e in directives) or not meta.smp_merges:
        # Replaced lists are taken as sent, merely cleaned of directives and nulls.
        return [_clean(e, meta.element, f"{path}[{i}]") for i, e in enumerate(elements)]
    if meta.merge_key is None:
        return _merge_primitive_list(original, elements, path, order)
    return _merge_keyed_list(original, patch, meta, path, order)


def _merge_primitive_list(
    original: list[Any], patch: list[Any], path: str, order: Any
) -> list[Any]:
    for value in patch:
        if isinstance(value, dict | list):
            raise BadRequest(f"{_where(path)}: a merge list of values cannot contain {value!r}")
    merged: list[Any] = []
    seen: set[str] = set()
    for value in [*original, *patch]:
        identity = _canonical(value)
        if identity not in seen:
            seen.add(identity)
            merged.append(value)
    patch_order = _order_list(order, path) if order is not None else patch
    return _reorder(merged, [_canonical(v) for v in patch_order], original, _canonical)


def _merge_keyed_list(
    original: list[Any], patch: list[Any], meta: PatchMeta, path: str, order: Any
) -> list[Any]:
    key = meta.merge_key
    assert key is not None
    ident = _key_identity(key)
    deleted = {
        ident(_keyed(e, key, path))
        for e in patch
        if isinstance(e, dict) and e.get(_PATCH) == "delete"
    }
    # ``original`` is already the caller's private copy, so its elements can be merged in place.
    merged = [e for e in original if not (isinstance(e, dict) and ident(e) in deleted)]
    patch_ids: list[Hashable] = []
    for i, element in enumerate(patch):
        if isinstance(element, dict) and element.get(_PATCH) == "delete":
            continue
        element_path = f"{path}[{i}]"
        element = {k: v for k, v in _keyed(element, key, element_path).items() if k != _PATCH}
        identity = ident(element)
        patch_ids.append(identity)
        _merge_element(merged, element, identity, ident, meta.element, element_path)
    if order is not None:
        patch_ids = [ident(_keyed(e, key, f"{path} order")) for e in _order_list(order, path)]
    return _reorder(merged, patch_ids, original, ident)


def _merge_element(
    merged: list[Any],
    element: dict[str, Any],
    identity: Hashable,
    ident: Callable[[Any], Hashable],
    meta: PatchMeta,
    path: str,
) -> None:
    """Merge one patch element into the element with the same key, or append it."""
    for index, existing in enumerate(merged):
        if isinstance(existing, dict) and ident(existing) == identity:
            result = _merge_map(existing, element, meta, path)
            if result is None:
                del merged[index]
            else:
                merged[index] = result
            return
    cleaned = _merge_map({}, element, meta, path)
    if cleaned is not None:
        merged.append(cleaned)


def _reorder(
    merged: list[Any],
    patch_ids: list[Hashable],
    original: list[Any],
    ident: Callable[[Any], Hashable],
) -> list[Any]:
    """apimachinery's ordering: patch items in patch order, server-only items slotted back.

    Both groups keep their own relative order; a server-only item goes before the next patch
    item only when both sat in the original list and the server-only one came first.
    """
    patch_pos: dict[Hashable, int] = {}
    for i, identity in enumerate(patch_ids):
        patch_pos.setdefault(identity, i)
    original_pos: dict[Hashable, int] = {}
    for i, element in enumerate(original):
        original_pos.setdefault(_safe_ident(ident, element), i)
    ids = [_safe_ident(ident, e) for e in merged]
    patch_items = sorted(
        (i for i, x in enumerate(ids) if x in patch_pos), key=lambda i: patch_pos[ids[i]]
    )
    server_only = sorted(
        (i for i, x in enumerate(ids) if x not in patch_pos),
        key=lambda i: original_pos.get(ids[i], len(original)),
    )
    result: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(patch_items):
        if i < len(server_only) and j < len(patch_items):
            left = original_pos.get(ids[server_only[i]])
            right = original_pos.get(ids[patch_items[j]])
            take_left = left is not None and right is not None and left < right
        else:
            take_left = i < len(server_only)
        if take_left:
            result.append(merged[server_only[i]])
            i += 1
        else:
            result.append(merged[patch_items[j]])
            j += 1
    return result


def _retain_keys(original: dict[str, Any], patch: dict[str, Any], path: str) -> None:
    retain = patch[_RETAIN_KEYS]
    if not isinstance(retain, list) or not all(isinstance(k, str) for k in retain):
        raise BadRequest(f"$retainKeys at {_where(path)} must be a list of strings")
    for key, value in patch.items():
        if not key.startswith("$") and value is not None and key not in retain:
            raise BadRequest(f"$retainKeys at {_where(path)} does not list patched field {key!r}")
    for key in [k for k in original if k not in retain]:
        del original[key]


def _delete_from_primitive_lists(
    original: dict[str, Any], patch: dict[str, Any], path: str
) -> None:
    for directive, values in patch.items():
        if not directive.startswith(_DELETE_PRIMITIVES):
            continue
        key = directive[len(_DELETE_PRIMITIVES) :]
        if not isinstance(values, list):
            raise BadRequest(f"{directive} at {_where(path)} must be a list")
        current = original.get(key)
        if isinstance(current, list):
            doomed = {_canonical(v) for v in values}
            original[key] = [v for v in current if _canonical(v) not in doomed]


def _clean(value: Any, meta: PatchMeta, path: str) -> Any:
    """A patch value as stored when nothing exists to merge it into: no nulls, no directives."""
    merged = _merge_value(_MISSING, value, meta, path, None)
    return {} if merged is _MISSING else merged


def _keyed(element: Any, key: str, path: str) -> dict[str, Any]:
    if not isinstance(element, dict):
        raise BadRequest(
            f"{_where(path)}: expected an object with merge key {key!r}, got {element!r}"
        )
    if key not in element:
        raise BadRequest(
            f"map: {json.dumps(element, sort_keys=True)} does not contain declared merge key: {key}"
        )
    return element


def _order_list(order: Any, path: str) -> list[Any]:
    if not isinstance(order, list):
        raise BadRequest(f"$setElementOrder for {_where(path)} must be a list")
    return order


def _key_identity(key: str) -> Callable[[Any], Hashable]:
    def ident(element: Any) -> Hashable:
        return _canonical(element.get(key))

    return ident


def _safe_ident(ident: Callable[[Any], Hashable], element: Any) -> Hashable:
    """Identity of a live element, which may be malformed (no key) without being our fault."""
    try:
        return ident(element)
    except AttributeError:
        return ("unkeyed", id(element))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _where(path: str) -> str:
    return path.lstrip(".") or "the top level"


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    return "a string" if isinstance(value, str) else "a scalar"


# --- diffing ----------------------------------------------------------------------------------


def _diff_maps(
    original: dict[str, Any], modified: dict[str, Any], meta: PatchMeta
) -> dict[str, Any]:
    patch: dict[str, Any] = {key: None for key in original if key not in modified}
    for key, new in modified.items():
        old = original.get(key, _MISSING)
        if old is _MISSING:
            patch[key] = copy.deepcopy(new)
        elif json_equal(old, new):
            continue
        elif isinstance(old, dict) and isinstance(new, dict):
            patch[key] = _diff_maps(old, new, meta.child(key))
        elif isinstance(old, list) and isinstance(new, list):
            _diff_lists(patch, key, old, new, meta.child(key))
        else:
            patch[key] = copy.deepcopy(new)
    return patch


def _diff_lists(
    patch: dict[str, Any], key: str, old: list[Any], new: list[Any], meta: PatchMeta
) -> None:
    if not meta.smp_merges:
        patch[key] = copy.deepcopy(new)
    elif (
        meta.merge_key is not None
        and _uniquely_keyed(old, meta.merge_key)
        and _uniquely_keyed(new, meta.merge_key)
    ):
        _diff_keyed_lists(patch, key, old, new, meta)
    elif meta.merge_key is None and _unique_scalars(new) and _unique_scalars(old):
        added = [v for v in new if not any(json_equal(v, o) for o in old)]
        removed = [v for v in old if not any(json_equal(v, n) for n in new)]
        if added:
            patch[key] = added
        if removed:
            patch[_DELETE_PRIMITIVES + key] = removed
        patch[_ORDER + key] = copy.deepcopy(new)
    else:
        patch[key] = [{_PATCH: "replace"}, *copy.deepcopy(new)]


def _diff_keyed_lists(
    patch: dict[str, Any], key: str, old: list[Any], new: list[Any], meta: PatchMeta
) -> None:
    merge_key = meta.merge_key
    assert merge_key is not None
    old_by_key = {_canonical(e[merge_key]): e for e in old}
    new_keys = {_canonical(e[merge_key]) for e in new}
    changes: list[Any] = []
    for element in new:
        previous = old_by_key.get(_canonical(element[merge_key]))
        if previous is None:
            changes.append(copy.deepcopy(element))
        elif not json_equal(previous, element):
            changes.append(
                {**_diff_maps(previous, element, meta.element), merge_key: element[merge_key]}
            )
    changes += [
        {_PATCH: "delete", merge_key: e[merge_key]}
        for e in old
        if _canonical(e[merge_key]) not in new_keys
    ]
    if changes:
        patch[key] = changes
    patch[_ORDER + key] = [{merge_key: copy.deepcopy(e[merge_key])} for e in new]


def _uniquely_keyed(elements: list[Any], key: str) -> bool:
    if not all(isinstance(e, dict) and key in e for e in elements):
        return False
    return len({_canonical(e[key]) for e in elements}) == len(elements)


def _unique_scalars(elements: list[Any]) -> bool:
    if any(isinstance(e, dict | list) for e in elements):
        return False
    return len({_canonical(e) for e in elements}) == len(elements)
