"""List bodies rendered in chunks from stored bytes equal the documents they stand for.

``rendering.list_body`` assembles JSON lists, Tables and PartialObjectMetadataLists from the
stored bytes (slicing ``metadata``, caching Table cells per stored state); these tests hold
it to ``orjson.dumps`` of the plain document, built the straightforward way, for every
built-in kind and every representation, cold and with warm caches.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from atoll.embedded.apiserver import rendering
from atoll.embedded.apiserver.registry import convert
from atoll.embedded.apiserver.rendering import (
    CHUNK_SIZE,
    Representation,
    list_body,
    render_list,
    render_object,
)
from atoll.embedded.apiserver.resources import Catalog, Resource
from atoll.embedded.storage.store import Entry, serialize

CATALOG = Catalog()
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def _frozen_clock(at: datetime) -> type[datetime]:
    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Clock:
            return cls.fromtimestamp(at.timestamp(), tz)

    return Clock


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendering reads the clock for Age cells: freeze it, so expectations are exact."""
    monkeypatch.setattr(rendering, "datetime", _frozen_clock(NOW))


def from_storage(resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
    """What ``Registry.from_storage`` does for built-in kinds."""
    if resource.stored_api_version == resource.api_version:
        return obj
    return convert(obj, to_api_version=resource.api_version)


REPRESENTATIONS = [
    Representation(),
    Representation("partial", "v1"),
    Representation("partial", "v1beta1"),
    Representation("table", "v1", "Metadata"),
    Representation("table", "v1beta1", "Metadata"),
    Representation("table", "v1", "Object"),
    Representation("table", "v1", "None"),
]


def _stamp(minutes: float) -> str:
    return (NOW - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _object(resource: Resource, i: int) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": f"obj-{i}",
        "uid": f"uid-{i}",
        "resourceVersion": str(100 + i),
        "creationTimestamp": _stamp(7 * i + 0.5),
        "labels": {"app": f"a{i % 2}", "ü": "ö\u2028"},
    }
    if resource.namespaced:
        meta["namespace"] = "ns"
    obj: dict[str, Any] = {"apiVersion": resource.stored_api_version, "kind": resource.kind}
    if i % 2:
        obj["metadata"] = meta
        obj["spec"] = {"replicas": i, "nodeName": "n1", "template": {"metadata": {"x": 1}}}
    else:  # members before metadata, as some clients send them
        obj["spec"] = {"replicas": i}
        obj["metadata"] = meta
    obj["status"] = {"phase": "Running", "startTime": _stamp(3), "lastScheduleTime": _stamp(2)}
    return obj


def _entries(resource: Resource, count: int) -> list[Entry]:
    entries = []
    for i in range(count):
        raw, start, end = serialize(_object(resource, i))
        meta = orjson.loads(raw)["metadata"]
        entries.append(
            Entry(
                100 + i,
                raw,
                meta.get("namespace", ""),
                meta["name"],
                meta["labels"],
                {"metadata.name": meta["name"]},
                meta_span=(start, end),
            )
        )
    return entries


def _decoder(resource: Resource) -> Callable[[Entry], dict[str, Any]]:
    def decode(entry: Entry) -> dict[str, Any]:
        return from_storage(resource, entry.decode())

    return decode


def _expected(resource: Resource, entries: list[Entry], rep: Representation) -> bytes:
    """The document built the plain way: decode everything, then one ``orjson.dumps``."""
    objects = [_decoder(resource)(e) for e in entries]
    meta = {"resourceVersion": "7", "continue": "tok", "remainingItemCount": 3}
    if rep.form == "table":
        table = rendering._table(resource, objects, rep, meta)
        return orjson.dumps(table)
    if rep.form == "partial":
        return orjson.dumps(
            {
                "kind": "PartialObjectMetadataList",
                "apiVersion": f"meta.k8s.io/{rep.meta_version}",
                "metadata": meta,
                "items": [rendering._partial(o, rep.meta_version) for o in objects],
            }
        )
    return orjson.dumps(
        {
            "kind": resource.list_kind,
            "apiVersion": resource.api_version,
            "metadata": meta,
            "items": objects,
        }
    )


def _render(resource: Resource, entries: list[Entry], rep: Representation) -> bytes:
    decode = _decoder(resource)
    body = list_body(
        resource,
        entries,
        rep,
        rv=7,
        encode=lambda e: orjson.dumps(decode(e)) if decode(e) != e.decode() else e.raw,
        decode=decode,
        continue_token="tok",
        remaining=3,
    )
    data = b"".join(body.chunks)
    assert body.length is None or body.length == len(data)
    return data


@pytest.mark.parametrize("resource", list(CATALOG), ids=lambda r: r.api_version + "/" + r.plural)
def test_every_representation_of_every_kind_equals_the_plain_document(resource: Resource) -> None:
    entries = _entries(resource, 4)
    for rep in REPRESENTATIONS:
        for _ in range(2):  # cold, then with whatever the first rendering cached
            assert _render(resource, entries, rep) == _expected(resource, entries, rep), rep


def test_cached_cells_keep_the_age_current(monkeypatch: pytest.MonkeyPatch) -> None:
    pods = CATALOG.get("", "v1", "pods")
    assert pods is not None
    entries = _entries(pods, 3)
    rep = Representation("table", "v1")
    first = [r["cells"][4] for r in orjson.loads(_render(pods, entries, rep))["rows"]]
    assert first == ["30s", "7m30s", "14m"]
    assert all(isinstance(e.cache, rendering._Cells) for e in entries)
    monkeypatch.setattr(rendering, "datetime", _frozen_clock(NOW + timedelta(days=3)))
    rows = orjson.loads(_render(pods, entries, rep))["rows"]
    assert [r["cells"][4] for r in rows] == ["3d", "3d", "3d"]
    assert [r["cells"][0] for r in rows] == ["obj-0", "obj-1", "obj-2"]


def test_clocked_kinds_are_never_cached() -> None:
    for group, version, plural in (
        ("", "v1", "events"),
        ("events.k8s.io", "v1", "events"),
        ("batch", "v1", "jobs"),
        ("batch", "v1", "cronjobs"),
    ):
        resource = CATALOG.get(group, version, plural)
        assert resource is not None
        entries = _entries(resource, 2)
        _render(resource, entries, Representation("table", "v1"))
        assert all(e.cache is None for e in entries)


def test_large_lists_come_in_chunks_and_small_ones_in_one() -> None:
    pods = CATALOG.get("", "v1", "pods")
    assert pods is not None
    small = list_body(
        pods, _entries(pods, 3), Representation(), rv=1, encode=lambda e: e.raw, decode=Entry.decode
    )
    assert len(list(small.chunks)) == 1
    entries = _entries(pods, 1) * (3 * CHUNK_SIZE // len(_entries(pods, 1)[0].raw))
    for rep in (Representation(), Representation("table", "v1")):
        body = list_body(pods, entries, rep, rv=1, encode=lambda e: e.raw, decode=Entry.decode)
        chunks = list(body.chunks)
        assert len(chunks) >= 3 and all(len(c) < 2 * CHUNK_SIZE for c in chunks)
        whole = b"".join(chunks)
        assert whole == render_list(
            pods, entries, rep, rv=1, encode=lambda e: e.raw, decode=Entry.decode
        )
        assert len(orjson.loads(whole)["items" if rep.form == "json" else "rows"]) == len(entries)


def test_single_objects_render_as_before() -> None:
    pods = CATALOG.get("", "v1", "pods")
    assert pods is not None
    raw = _entries(pods, 1)[0].raw
    assert render_object(pods, raw, Representation()) is raw
    one = orjson.loads(render_object(pods, raw, Representation("table", "v1")))
    assert [row["cells"][0] for row in one["rows"]] == ["obj-0"]
