"""Storage: revisions, preconditions, watch history and durability of acknowledged writes."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from atoll.embedded.storage.encryption import Sealer
from atoll.embedded.storage.store import Storage
from atoll.errors import AlreadyExists, Conflict, Expired, NotFound

CM = ("", "configmaps")


def _attrs(rk: Any, obj: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    meta = obj["metadata"]
    return dict(meta.get("labels") or {}), {"metadata.name": meta["name"]}


def _cm(name: str, ns: str = "default", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "data": {"k": name},
    }


async def _open(path: Path, **kw: Any) -> Storage:
    storage = Storage(path / "objects.db", attrs_of=_attrs, **kw)
    await storage.open()
    return storage


async def test_revisions_are_global_and_monotonic(tmp_path: Path) -> None:
    storage = await _open(tmp_path)
    a = await storage.create(CM, _cm("a"))
    b = await storage.create(("", "secrets"), _cm("b"))
    c = await storage.update(CM, _cm("a"), expected_rv=a.rv)
    assert a.rv < b.rv < c.rv == storage.revision
    assert b'"resourceVersion":"%d"' % c.rv in c.raw
    await storage.close()


async def test_preconditions(tmp_path: Path) -> None:
    storage = await _open(tmp_path)
    first = await storage.create(CM, _cm("a"))
    with pytest.raises(AlreadyExists):
        await storage.create(CM, _cm("a"))
    await storage.update(CM, _cm("a"), expected_rv=first.rv)
    with pytest.raises(Conflict):
        await storage.update(CM, _cm("a"), expected_rv=first.rv)
    with pytest.raises(NotFound):
        await storage.delete(CM, "default", "missing")
    await storage.close()


async def test_concurrent_creates_of_one_name_admit_exactly_one(tmp_path: Path) -> None:
    storage = await _open(tmp_path)
    results = await asyncio.gather(
        *(storage.create(CM, _cm("same")) for _ in range(20)), return_exceptions=True
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, AlreadyExists) for r in results if isinstance(r, Exception))
    await storage.close()


async def test_state_and_revision_survive_reopen_and_secrets_are_sealed(tmp_path: Path) -> None:
    sealer = Sealer(b"k" * 32)
    storage = await _open(tmp_path, sealer=sealer, sealed=frozenset({("", "secrets")}))
    await asyncio.gather(*(storage.create(CM, _cm(f"cm-{i}")) for i in range(300)))
    secret_obj = _cm("topsecret")
    secret_obj["data"] = {"k": "s3cr3t-value"}
    await storage.create(("", "secrets"), secret_obj)
    last = storage.revision
    await storage.close()
    on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("objects.db*"))
    assert b"cm-299" in on_disk and b"s3cr3t-value" not in on_disk
    reopened = await _open(tmp_path, sealer=sealer, sealed=frozenset({("", "secrets")}))
    assert reopened.revision == last
    assert reopened.count(CM) == 300
    secret = reopened.get(("", "secrets"), "default", "topsecret")
    assert secret is not None and secret.decode()["data"] == {"k": "s3cr3t-value"}
    created = await reopened.create(CM, _cm("after"))
    assert created.rv == last + 1
    await reopened.close()


async def test_watch_replays_history_and_filters(tmp_path: Path) -> None:
    storage = await _open(tmp_path)
    await storage.create(CM, _cm("seed"))
    start = storage.revision
    await storage.create(CM, _cm("a", app="web"))
    b = await storage.create(CM, _cm("b", app="db"))
    await storage.update(CM, _cm("b", app="web"), expected_rv=b.rv)
    await storage.delete(CM, "default", "a")
    watcher = storage.watch(
        CM, namespace="default", since_rv=start, predicate=lambda e: e.labels.get("app") == "web"
    )
    seen = [await watcher.next(1) for _ in range(3)]
    assert [(k, e.name) for k, e in seen if e] == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "a")]
    watcher.close()
    await storage.close()


async def test_watch_from_a_compacted_revision_is_expired(tmp_path: Path) -> None:
    storage = await _open(tmp_path, history_size=5)
    for i in range(20):
        await storage.create(CM, _cm(f"c{i}"))
    with pytest.raises(Expired):
        storage.watch(CM, namespace=None, since_rv=2, predicate=lambda e: True)
    live = storage.watch(
        CM, namespace=None, since_rv=storage.revision - 2, predicate=lambda e: True
    )
    assert [((await live.next(1)) or ("", None))[0] for _ in range(2)] == ["ADDED", "ADDED"]
    live.close()
    await storage.close()


async def test_watch_without_revision_starts_with_current_state(tmp_path: Path) -> None:
    storage = await _open(tmp_path)
    await storage.create(CM, _cm("x"))
    watcher = storage.watch(CM, namespace=None, since_rv=None, predicate=lambda e: True)
    first = await watcher.next(1)
    assert first is not None and first[0] == "ADDED" and first[1].name == "x"
    await storage.create(CM, _cm("y"))
    second = await watcher.next(1)
    assert second is not None and second[1].name == "y"
    watcher.close()
    await storage.close()
