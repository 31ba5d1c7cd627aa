"""A list query, as KubeSphere's resources API takes it, and its answer from a store.

Parameters: ``name`` (a substring of metadata.name), ``labelSelector``, ``fieldSelector``
(Kubernetes' grammar, ``atoll.kube.selectors``), ``sortBy`` (``createTime`` — the default —
``name`` or ``status``), ``ascending`` (default false: newest first), ``page`` (1-based) and
``limit`` (at most ``MAX_LIMIT``). Anything malformed is a ``BadRequest``.

The answer is ``{"items": [...], "totalItems": N, "resourceVersion": "…"}``, built by joining
the stored JSON of the page's entries: nothing is decoded or encoded again. A watch from
``resourceVersion`` sees every change after the page (the console's live lists).
Filters run cheapest first (namespace visibility once per namespace, then name, labels, the
fields kept beside the JSON, and last field paths that need the object decoded);
``totalItems`` counts what passed them all. Only the entries up to the end of the page are
ordered (a heap when that is a small part of them).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import Any

import orjson

from atoll.errors import BadRequest
from atoll.kube.selectors import (
    FieldRequirement,
    FieldSelector,
    LabelSelector,
    Operator,
    Requirement,
)

from .entries import COMMON_FIELDS, Entry, field_value
from .stores import Store

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "SORT_KEYS", "Query", "answer"]

DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
_NUMBER = re.compile(r"[0-9]{1,9}")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_HEAP_SHARE = 8  # order by a heap when the page ends before 1/8 of the matches

SortKey = Callable[[Entry], Any]
SORT_KEYS: dict[str, SortKey] = {
    # Ties broken by namespace and name, so every order is total and pages never overlap.
    "createTime": attrgetter("created", "namespace", "name"),
    "creationTimestamp": attrgetter("created", "namespace", "name"),  # KubeSphere's alias
    "name": attrgetter("name", "namespace"),
    "status": attrgetter("status", "namespace", "name"),
}


def _number(params: Mapping[str, str], key: str, default: int, *, most: int) -> int:
    text = params.get(key)
    if text is None or text == "":
        return default
    if not _NUMBER.fullmatch(text) or not 1 <= int(text) <= most:
        raise BadRequest(f"{key} must be a whole number from 1 to {most}, not {text!r}")
    return int(text)


@dataclass(frozen=True, slots=True)
class Query:
    name: str = ""
    labels: LabelSelector | None = None
    fields: FieldSelector | None = None
    sort_by: str = "createTime"
    ascending: bool = False
    page: int = 1
    limit: int = DEFAULT_LIMIT

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Query:
        """The query of a request's parameters; ``BadRequest`` when one is malformed."""
        sort_by = params.get("sortBy") or "createTime"
        if sort_by not in SORT_KEYS:
            raise BadRequest(f"sortBy must be one of {', '.join(SORT_KEYS)}, not {sort_by!r}")
        ascending = _BOOLEANS.get((params.get("ascending") or "false").lower())
        if ascending is None:
            raise BadRequest(f"ascending must be true or false, not {params['ascending']!r}")
        labels = LabelSelector.parse(params.get("labelSelector") or "")
        fields = FieldSelector.parse(params.get("fieldSelector") or "")
        return cls(
            name=params.get("name") or "",
            labels=None if labels.is_empty else labels,
            fields=None if fields.is_empty else fields,
            sort_by=sort_by,
            ascending=ascending,
            page=_number(params, "page", 1, most=10**9),
            limit=_number(params, "limit", DEFAULT_LIMIT, most=MAX_LIMIT),
        )


def answer(
    store: Store,
    query: Query,
    *,
    namespace: str | None = None,
    visible: Callable[[str], bool] | None = None,
    visible_by_name: bool = False,
) -> bytes:
    """The JSON list answering ``query`` over ``store`` (one namespace, or all).

    ``visible`` leaves out what the caller may not see, before counting: it is asked about
    each namespace, or — with ``visible_by_name``, for the namespaces themselves — about
    each object's own name.
    """
    matched = _matching(store, query, namespace, visible, visible_by_name)
    total = len(matched)
    start = (query.page - 1) * query.limit
    end = start + query.limit
    page = _ordered(matched, SORT_KEYS[query.sort_by], query.ascending, end)[start:end]
    items = b",".join([entry.raw for entry in page])
    version = orjson.dumps(store.resource_version)
    return (
        b'{"items":['
        + items
        + b'],"totalItems":'
        + str(total).encode()
        + b',"resourceVersion":'
        + version
        + b"}"
    )


def _matching(
    store: Store,
    query: Query,
    namespace: str | None,
    visible: Callable[[str], bool] | None,
    visible_by_name: bool,
) -> list[Entry]:
    buckets: Iterable[tuple[str, dict[str, Entry]]] = store.buckets(namespace)
    if visible is not None and not visible_by_name:
        buckets = [(ns, bucket) for ns, bucket in buckets if visible(ns)]
    entries = list(chain.from_iterable(bucket.values() for _, bucket in buckets))
    if visible is not None and visible_by_name:
        entries = [e for e in entries if visible(e.name)]
    if query.name:
        name = query.name
        entries = [e for e in entries if name in e.name]
    if query.labels is not None:
        for requirement in query.labels.requirements:  # each pass shortens the next one's
            entries = _with_labels(entries, requirement)
    if query.fields is not None:
        terms = query.fields.requirements
        cheap = [t for t in terms if t.field in COMMON_FIELDS]
        decoded = [t for t in terms if t.field not in COMMON_FIELDS]
        for term in (*cheap, *decoded):
            entries = _with_field(entries, term)
    return entries


def _with_labels(entries: list[Entry], requirement: Requirement) -> list[Entry]:
    """The entries meeting one label requirement; the usual operators without a call each."""
    key, values = requirement.key, frozenset(requirement.values)
    match requirement.operator:
        case Operator.EQUALS | Operator.IN:
            return [e for e in entries if e.labels.get(key) in values]
        case Operator.NOT_EQUALS | Operator.NOT_IN:  # a missing key meets these, as upstream
            return [e for e in entries if e.labels.get(key) not in values]
        case Operator.EXISTS:
            return [e for e in entries if key in e.labels]
        case Operator.DOES_NOT_EXIST:
            return [e for e in entries if key not in e.labels]
    return [e for e in entries if requirement.matches(e.labels)]


def _with_field(entries: list[Entry], term: FieldRequirement) -> list[Entry]:
    common, value = COMMON_FIELDS.get(term.field), term.value
    if common is None:  # decoded, object by object: the slow path, last
        path = term.field
        if term.operator == "=":
            return [e for e in entries if field_value(e, path) == value]
        return [e for e in entries if field_value(e, path) != value]
    if term.operator == "=":
        return [e for e in entries if common(e) == value]
    return [e for e in entries if common(e) != value]


def _ordered(entries: list[Entry], key: SortKey, ascending: bool, end: int) -> list[Entry]:
    """``entries`` in order, at least up to ``end``."""
    if end * _HEAP_SHARE < len(entries):
        pick = heapq.nsmallest if ascending else heapq.nlargest
        return pick(end, entries, key=key)
    return sorted(entries, key=key, reverse=not ascending)
