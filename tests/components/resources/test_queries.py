"""Queries over a store filled by hand: parsing, filtering, ordering, paging, the JSON built."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from tests.components.resources.resources_support import NAMESPACES, PODS

from atoll.components.resources.entries import entry_of, field_value
from atoll.components.resources.queries import MAX_LIMIT, SORT_KEYS, Query, answer
from atoll.components.resources.stores import Store
from atoll.errors import BadRequest


def _pod(namespace: str, name: str, **extra: Any) -> dict[str, Any]:
    created = extra.pop("created", "2024-05-01T12:00:00Z")
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "creationTimestamp": created,
            "labels": extra.pop("labels", {}),
            "managedFields": [{"manager": "kubectl"}],
        },
        "spec": {"nodeName": extra.pop("node", ""), "priority": extra.pop("priority", 0)},
        "status": {"phase": extra.pop("phase", "Running"), "ready": extra.pop("ready", True)},
    }


def _store(objects: list[dict[str, Any]]) -> Store:
    store = Store(PODS)
    store.replace(entry_of(obj, PODS) for obj in objects)
    return store


def _run(store: Store, **params: str) -> tuple[list[str], int]:
    body = orjson.loads(answer(store, Query.parse(params)))
    names = [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in body["items"]]
    return names, body["totalItems"]


def test_entries_keep_json_without_managed_fields_and_share_strings() -> None:
    first = entry_of(_pod("a", "p1", labels={"app": "web"}), PODS)
    second = entry_of(_pod("a", "p2", labels={"app": "web"}), PODS)
    decoded = orjson.loads(first.raw)
    assert list(decoded)[:2] == ["kind", "apiVersion"] and decoded["kind"] == "Pod"
    assert "managedFields" not in decoded["metadata"]
    assert first.labels["app"] is second.labels["app"] and first.created is second.created
    assert (first.namespace, first.name, first.status, first.node) == ("a", "p1", "Running", "")


def test_field_values_common_and_decoded() -> None:
    entry = entry_of(_pod("a", "p", node="n1", priority=7, ready=False), PODS)
    assert field_value(entry, "spec.nodeName") == "n1"
    assert field_value(entry, "metadata.namespace") == "a"
    assert field_value(entry, "spec.priority") == "7"
    assert field_value(entry, "status.ready") == "false"
    assert field_value(entry, "spec") == ""  # not a scalar
    assert field_value(entry, "spec.nothing.deeper") == ""


def test_defaults_and_bounds() -> None:
    query = Query.parse({})
    assert (query.sort_by, query.ascending, query.page, query.limit) == ("createTime", False, 1, 10)
    assert Query.parse({"limit": str(MAX_LIMIT)}).limit == MAX_LIMIT
    assert Query.parse({"ascending": "True"}).ascending
    assert Query.parse({"sortBy": "creationTimestamp"}).sort_by == "creationTimestamp"
    with pytest.raises(BadRequest):
        Query.parse({"limit": str(MAX_LIMIT + 1)})
    with pytest.raises(BadRequest):
        Query.parse({"page": "1_000"})


def test_an_empty_answer_is_still_a_list() -> None:
    assert orjson.loads(answer(Store(PODS), Query())) == {
        "items": [],
        "totalItems": 0,
        "resourceVersion": "",
    }


def test_every_page_of_every_order_matches_a_full_sort() -> None:
    rng = random.Random(7)
    objects = [
        _pod(
            f"ns-{rng.randint(0, 9)}",
            f"pod-{i:03d}",
            created=f"2024-05-01T12:{rng.randint(0, 5):02d}:00Z",
            phase=rng.choice(["Running", "Pending", "Failed"]),
        )
        for i in range(300)
    ]
    store = _store(objects)
    entries = [entry for _, bucket in store.buckets() for entry in bucket.values()]
    for sort_by, key in SORT_KEYS.items():
        for ascending in (True, False):
            expected = [
                f"{e.namespace}/{e.name}" for e in sorted(entries, key=key, reverse=not ascending)
            ]
            for page in (1, 2, 7, 31):  # a heap for the first pages, a full sort later
                params = {"sortBy": sort_by, "ascending": str(ascending), "page": str(page)}
                names, total = _run(store, **params, limit="10")
                assert total == 300
                assert names == expected[(page - 1) * 10 : page * 10], (sort_by, ascending, page)


def test_visibility_by_namespace_and_by_own_name() -> None:
    store = _store([_pod(ns, f"p{i}") for i, ns in enumerate(["a", "a", "b", "c"])])
    body = orjson.loads(answer(store, Query(limit=100), visible={"a", "c"}.__contains__))
    assert body["totalItems"] == 3
    assert {i["metadata"]["namespace"] for i in body["items"]} == {"a", "c"}
    namespaces = Store(NAMESPACES)
    namespaces.replace(
        entry_of({"metadata": {"name": n, "creationTimestamp": "2024-05-01T12:00:00Z"}}, NAMESPACES)
        for n in ("a", "b", "c")
    )
    seen = answer(namespaces, Query(), visible={"b"}.__contains__, visible_by_name=True)
    assert [i["metadata"]["name"] for i in orjson.loads(seen)["items"]] == ["b"]


def test_writes_keep_counts_and_namespaces_tidy() -> None:
    store = _store([_pod("a", "p1"), _pod("b", "p2")])
    store.put(entry_of(_pod("a", "p1", phase="Failed"), PODS))  # an update, not a new one
    assert len(store) == 2 and store.get("a", "p1") is not None
    assert store.get("a", "p1").status == "Failed"  # type: ignore[union-attr]
    store.remove("b", "p2")
    store.remove("b", "p2")  # already gone: nothing happens
    assert len(store) == 1 and [ns for ns, _ in store.buckets()] == ["a"]
    assert list(store.buckets("b")) == []
