"""Field sets: which fields of an object a manager owns, in kube-apiserver's FieldsV1 format.

Server-side apply and ``metadata.managedFields`` describe ownership as sets of field paths.
A path is a tuple of FieldsV1 tokens:

- ``f:<name>`` a field of an object (or a key of a free-form map such as labels);
- ``k:<json>`` an element of an associative list, named by its key fields
  (``k:{"name":"web"}``; keys sorted, compact JSON, as structured-merge-diff writes them);
- ``v:<json>`` a value of a set-like list of primitives (``v:"foregroundDeletion"``).

A path in a set means the manager owns that node: a leaf value, an atomic list, an empty map
(leaves all), or a list element itself, which FieldsV1 marks with ``"."``. Non-empty maps are
owned only through their children, as in kube's apply field sets.

``PatchMeta`` says which lists are associative and by which keys; a list is atomic otherwise.
Server-owned fields (``status``, ``apiVersion``/``kind`` and the metadata the server sets, plus
``name``/``namespace``) are never part of a field set, matching what kube strips.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from atoll.errors import BadRequest
from atoll.kube.patchmeta import PatchMeta

__all__ = [
    "FieldSet",
    "Path",
    "changed_fields",
    "element_token",
    "field_set",
    "field_value",
    "from_fields_v1",
    "json_equal",
    "path_string",
    "prefixes",
    "remove_field",
    "to_fields_v1",
]

Path = tuple[str, ...]
FieldSet = frozenset[Path]

_IGNORED_TOP = frozenset({"apiVersion", "kind", "status"})
_IGNORED_METADATA = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
        "managedFields",
    }
)


def field_set(obj: Mapping[str, Any], meta: PatchMeta, *, strict: bool = False) -> FieldSet:
    """Every field ``obj`` sets, ignoring server-owned ones.

    ``strict`` (for apply configurations) rejects associative-list elements without their
    keys, or with duplicate keys, as kube does; otherwise such a list counts as atomic.
    """
    out: set[Path] = set()
    _collect(_tracked(obj), meta, (), out, strict)
    return frozenset(out)


def changed_fields(
    old: Mapping[str, Any], new: Mapping[str, Any], meta: PatchMeta
) -> tuple[FieldSet, FieldSet]:
    """``(set, removed)``: paths ``new`` adds or gives a new value, and paths it drops."""
    changed: set[Path] = set()
    removed: set[Path] = set()
    _diff(_tracked(old), _tracked(new), meta, (), changed, removed)
    return frozenset(changed), frozenset(removed)


def element_token(element: Any, meta: PatchMeta) -> str | None:
    """The ``k:`` token naming ``element`` of associative list ``meta``, or None if unkeyable."""
    keys = meta.ssa_keys
    if not isinstance(element, dict) or not keys:
        return None
    values: dict[str, Any] = {}
    for key in keys:
        if element.get(key) is not None:
            values[key] = element[key]
        elif key in meta.key_defaults:
            values[key] = meta.key_defaults[key]
        else:
            return None
    return "k:" + _compact(values)


def to_fields_v1(fields: Iterable[Path]) -> dict[str, Any]:
    """Render a field set as a FieldsV1 tree (keys sorted, ``"."`` for owned inner nodes).

    The paths are inserted in sorted order, so each node's children arrive sorted and an
    owned node is created, empty, before its first child: the ``"."`` that marks it goes
    in just then, first, where sorting puts it (every real token sorts after ``"."``).
    """
    owned = {path for path in fields if path}
    tree: dict[str, Any] = {}
    unusual = False  # a token sorting before ".": sort the tree afterwards instead
    for path in sorted(owned):
        node = tree
        for depth, token in enumerate(path):
            child = node.get(token)
            if child is None:
                if not node and depth and path[:depth] in owned:
                    node["."] = {}
                unusual = unusual or token < "."
                child = node[token] = {}
            node = child
    return _sorted_tree(tree) if unusual else tree


def from_fields_v1(tree: Any) -> FieldSet:
    """Parse a FieldsV1 tree; anything malformed in it is skipped, not fatal."""
    out: set[Path] = set()

    def walk(node: Mapping[str, Any], path: Path) -> None:
        for token, sub in node.items():
            if token == ".":
                if path:
                    out.add(path)
            elif isinstance(sub, Mapping):
                if sub:
                    walk(sub, (*path, token))
                else:
                    out.add((*path, token))

    if isinstance(tree, Mapping):
        walk(tree, ())
    return frozenset(out)


def path_string(path: Path) -> str:
    """A path as kube prints it: ``.spec.containers[name="web"].image``."""
    parts: list[str] = []
    for token in path:
        kind, text = token[:2], token[2:]
        if kind == "f:":
            parts.append("." + text)
        elif kind == "k:":
            keys = json.loads(text)
            parts.append("[" + ",".join(f"{k}={_compact(v)}" for k, v in keys.items()) + "]")
        elif kind == "v:":
            parts.append(f"[={text}]")
        else:
            parts.append(f"[{text}]")
    return "".join(parts)


def prefixes(fields: Iterable[Path]) -> set[Path]:
    """Every path of ``fields`` and all their ancestors: the nodes someone relies on."""
    out: set[Path] = set()
    for path in fields:
        out.update(path[:i] for i in range(1, len(path) + 1))
    return out


def field_value(obj: Mapping[str, Any], path: Path, meta: PatchMeta) -> Any:
    """The value at ``path`` in ``obj``, or None when it is not there."""
    node: Any = obj
    for token in path:
        node, meta = _step(node, token, meta)
        if node is None:
            return None
    return node


def remove_field(obj: dict[str, Any], path: Path, meta: PatchMeta) -> None:
    """Delete the node at ``path`` from ``obj`` in place; a path that is not there is a no-op."""
    node: Any = obj
    for token in path[:-1]:
        node, meta = _step(node, token, meta)
        if node is None:
            return
    last = path[-1]
    if last.startswith("f:") and isinstance(node, dict):
        node.pop(last[2:], None)
    elif isinstance(node, list):
        node[:] = [e for e in node if not _matches(e, last, meta)]


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: unlike ``==``, ``1``, ``1.0`` and ``true`` are three different values."""
    if a is b:  # shared subtrees, as a status write shares the stored spec
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


# --- walking ----------------------------------------------------------------------------------


def _tracked(obj: Mapping[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in obj.items() if k not in _IGNORED_TOP}
    metadata = view.get("metadata")
    if isinstance(metadata, Mapping):
        kept = {k: v for k, v in metadata.items() if k not in _IGNORED_METADATA}
        # Metadata holding only server-owned fields is not an empty map anyone owns.
        if kept or not metadata:
            view["metadata"] = kept
        else:
            del view["metadata"]
    return view


def _collect(value: Any, meta: PatchMeta, path: Path, out: set[Path], strict: bool) -> None:
    if isinstance(value, dict):
        if not value and path:
            out.add(path)
        for key, sub in value.items():
            if sub is not None:
                _collect(sub, meta.child(key), (*path, "f:" + key), out, strict)
    elif isinstance(value, list):
        _collect_list(value, meta, path, out, strict)
    elif path:
        out.add(path)


def _collect_list(
    value: list[Any], meta: PatchMeta, path: Path, out: set[Path], strict: bool
) -> None:
    tokens = _element_tokens(value, meta, path, strict)
    if tokens is None:
        out.add(path)
        return
    for element, token in zip(value, tokens, strict=True):
        _collect_element(element, token, meta.element, (*path, token), out, strict)


def _collect_element(
    element: Any, token: str, meta: PatchMeta, path: Path, out: set[Path], strict: bool
) -> None:
    out.add(path)
    if token.startswith("k:"):
        for key, sub in element.items():
            if sub is not None:
                _collect(sub, meta.child(key), (*path, "f:" + key), out, strict)


def _element_tokens(
    value: list[Any], meta: PatchMeta, path: Path, strict: bool
) -> list[str] | None:
    """Tokens of a keyed or set list's elements; None when the list is owned as a whole."""
    kind = meta.ssa_list_type
    if not value or kind == "atomic":
        return None
    if kind == "set":
        tokens = [None if isinstance(v, dict | list) else "v:" + _compact(v) for v in value]
    else:
        tokens = [element_token(e, meta) for e in value]
    problem = _token_problem(tokens, meta)
    if problem is None:
        return [t for t in tokens if t is not None]
    if strict:
        raise BadRequest(f"{path_string(path) or '.'}: {problem}")
    return None


def _token_problem(tokens: list[str | None], meta: PatchMeta) -> str | None:
    for index, token in enumerate(tokens):
        if token is None:
            if meta.ssa_list_type == "set":
                return f"element {index}: a set may only hold scalar values"
            keys = ", ".join(f'"{k}"' for k in meta.ssa_keys)
            return (
                f"element {index}: associative list with keys has an element that omits key "
                f"field {keys} (and doesn't have default value)"
            )
    seen: set[str] = set()
    for token in tokens:
        assert token is not None
        if token in seen:
            return f"duplicate entries for key {path_string((token,))}"
        seen.add(token)
    return None


def _diff(
    old: Any, new: Any, meta: PatchMeta, path: Path, changed: set[Path], removed: set[Path]
) -> None:
    if json_equal(old, new):
        return
    if isinstance(old, dict) and isinstance(new, dict) and old and new:
        for key in new.keys() | old.keys():
            before, after = old.get(key), new.get(key)
            child, child_path = meta.child(key), (*path, "f:" + key)
            if before is None and after is not None:
                _collect(after, child, child_path, changed, False)
            elif after is None and before is not None:
                _collect(before, child, child_path, removed, False)
            elif before is not None:
                _diff(before, after, child, child_path, changed, removed)
        return
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and _diff_lists(old, new, meta, path, changed, removed)
    ):
        return
    before_set: set[Path] = set()
    after_set: set[Path] = set()
    _collect(old, meta, path, before_set, False)
    _collect(new, meta, path, after_set, False)
    changed |= after_set
    removed |= before_set - after_set


def _diff_lists(
    old: list[Any],
    new: list[Any],
    meta: PatchMeta,
    path: Path,
    changed: set[Path],
    removed: set[Path],
) -> bool:
    """Diff two keyed or set lists element by element; False if they must be compared whole."""
    old_tokens = _element_tokens(old, meta, path, False)
    new_tokens = _element_tokens(new, meta, path, False)
    if old_tokens is None or new_tokens is None:
        return False
    old_by_token = dict(zip(old_tokens, old, strict=True))
    new_by_token = dict(zip(new_tokens, new, strict=True))
    element_meta = meta.element
    for token, element in new_by_token.items():
        element_path = (*path, token)
        if token not in old_by_token:
            _collect_element(element, token, element_meta, element_path, changed, False)
        elif token.startswith("k:"):
            _diff(old_by_token[token], element, element_meta, element_path, changed, removed)
    for token, element in old_by_token.items():
        if token not in new_by_token:
            _collect_element(element, token, element_meta, (*path, token), removed, False)
    return True


def _step(node: Any, token: str, meta: PatchMeta) -> tuple[Any, PatchMeta]:
    if token.startswith("f:"):
        if isinstance(node, dict):
            return node.get(token[2:]), meta.child(token[2:])
    elif isinstance(node, list):
        for element in node:
            if _matches(element, token, meta):
                return element, meta.element
    return None, meta


def _matches(element: Any, token: str, meta: PatchMeta) -> bool:
    if token.startswith("k:"):
        return element_token(element, meta) == token
    if token.startswith("v:"):
        return not isinstance(element, dict | list) and "v:" + _compact(element) == token
    return False


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sorted_tree(tree: dict[str, Any]) -> dict[str, Any]:
    return {key: _sorted_tree(tree[key]) for key in sorted(tree)}
