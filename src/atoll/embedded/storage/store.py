"""The embedded cluster's storage: a durable SQLite log behind an in-memory watch cache.

- Every object lives in memory as its serialized JSON (``Entry.raw``) plus a tiny index
  (namespace, name, labels, selector fields) — never as a Python dict, which would cost
  5–10× the JSON. Reads and lists are served from here without touching SQLite.
- Writes are checked (exists / not found / resourceVersion precondition) against the latest
  state *including writes still in flight*, assigned the next global revision, queued to the
  SQLite writer and acknowledged only after their batch committed. Only then does the
  committed view change and the watch event go out, in revision order, so a reader never
  sees a write that could still be lost.
- A bounded history of events lets watches resume from any revision inside the window;
  older revisions get ``Expired`` (HTTP 410), as with a compacted etcd.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from atoll.errors import AlreadyExists, Conflict, Expired, InternalError, NotFound

from .encryption import Sealer
from .sqlite import Mutation, SQLiteLog
from .watching import Event, Predicate, Watcher

__all__ = ["Entry", "ResourceKey", "Storage"]

logger = logging.getLogger(__name__)

ResourceKey = tuple[str, str]
"""Storage identity of a resource: (API group, plural resource)."""

AttrsOf = Callable[[ResourceKey, Mapping[str, Any]], tuple[dict[str, str], dict[str, str]]]
"""Computes (labels, selectable fields) of an object; given by the API layer."""


@dataclass(slots=True)
class Entry:
    rv: int
    raw: bytes
    namespace: str
    name: str
    labels: dict[str, str]
    fields: dict[str, str]

    def decode(self) -> dict[str, Any]:
        obj: dict[str, Any] = orjson.loads(self.raw)
        return obj

    def restamped(self, rv: int) -> Entry:
        """This state with another resourceVersion (for synthetic watch events)."""
        obj = self.decode()
        obj["metadata"]["resourceVersion"] = str(rv)
        return Entry(rv, orjson.dumps(obj), self.namespace, self.name, self.labels, self.fields)


@dataclass(slots=True)
class _InFlight:
    rk: ResourceKey
    entry: Entry
    old: Entry | None
    deleted: bool
    future: asyncio.Future[Entry] = field(repr=False)


def _row_key(rk: ResourceKey, namespace: str, name: str) -> str:
    return f"{rk[0]}/{rk[1]}/{namespace}/{name}"


def _split_row_key(key: str) -> tuple[ResourceKey, str, str]:
    group, resource, namespace, name = key.split("/", 3)
    return (group, resource), namespace, name


class Storage:
    """All objects of one embedded cluster; safe to use from one event loop only."""

    def __init__(
        self,
        path: Path,
        *,
        attrs_of: AttrsOf,
        sealer: Sealer | None = None,
        sealed: frozenset[ResourceKey] = frozenset(),
        history_size: int = 50_000,
    ) -> None:
        self._log = SQLiteLog(path)
        self._attrs_of = attrs_of
        self._sealer = sealer
        self._sealed = sealed
        self._committed: dict[ResourceKey, dict[str, dict[str, Entry]]] = {}
        self._pending: dict[tuple[ResourceKey, str, str], Entry | None] = {}
        self._inflight: dict[int, _InFlight] = {}
        self._history: deque[Event] = deque(maxlen=history_size)
        self._floor = 0  # events with rv <= floor are no longer in the history
        self._watchers: dict[ResourceKey, set[Watcher]] = {}
        self._next_rv = 0
        self._committed_rv = 0

    # -- life cycle -----------------------------------------------------------------------

    async def open(self) -> None:
        last_rv, rows = await asyncio.to_thread(self._log.load)
        loaded = await asyncio.to_thread(lambda: list(rows))
        for key, rv, value in loaded:
            rk, namespace, name = _split_row_key(key)
            if self._sealer is not None:
                value = self._sealer.open(value, key=key)
            obj = orjson.loads(value)
            labels, fields = self._attrs_of(rk, obj)
            entry = Entry(rv, value, namespace, name, labels, fields)
            self._committed.setdefault(rk, {}).setdefault(namespace, {})[name] = entry
        self._next_rv = self._committed_rv = self._floor = last_rv
        self._log.start(asyncio.get_running_loop(), self._on_batch)
        logger.info("storage opened with %d objects at revision %d", len(loaded), last_rv)

    async def close(self) -> None:
        await asyncio.to_thread(self._log.stop)
        self.close_watches()

    def close_watches(self) -> None:
        for watchers in list(self._watchers.values()):
            for w in list(watchers):
                w.close()
        self._watchers.clear()

    # -- reads ----------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The revision of the last committed write (the RV of a list)."""
        return self._committed_rv

    def get(self, rk: ResourceKey, namespace: str, name: str) -> Entry | None:
        return self._committed.get(rk, {}).get(namespace, {}).get(name)

    def latest(self, rk: ResourceKey, namespace: str, name: str) -> Entry | None:
        """Like ``get`` but includes writes not yet committed: the base of read-modify-write."""
        key = (rk, namespace, name)
        if key in self._pending:
            return self._pending[key]
        return self.get(rk, namespace, name)

    def entries(self, rk: ResourceKey, namespace: str | None = None) -> list[Entry]:
        """Committed entries ordered by (namespace, name), as etcd's key order gives them."""
        return list(self.iter(rk, namespace))

    def iter(
        self,
        rk: ResourceKey,
        namespace: str | None = None,
        *,
        after: tuple[str, str] | None = None,
    ) -> Iterator[Entry]:
        """Entries ordered by (namespace, name), strictly after ``after`` when given."""
        by_ns = self._committed.get(rk, {})
        namespaces = [namespace] if namespace is not None else sorted(by_ns)
        for ns in namespaces:
            if after is not None and ns < after[0]:
                continue
            names = by_ns.get(ns, {})
            for name in sorted(names):
                if after is None or (ns, name) > after:
                    yield names[name]

    @property
    def oldest_revision(self) -> int:
        """Revisions at or above this can still be listed and watched from."""
        return self._floor

    def snapshot(
        self, rk: ResourceKey, namespace: str | None, *, rv: int, after: tuple[str, str] | None
    ) -> list[Entry]:
        """The entries as they were at revision ``rv`` (for continue tokens), rebuilt from the
        current state and the event history, ordered by (namespace, name) after ``after``."""
        if rv >= self._committed_rv:
            return list(self.iter(rk, namespace, after=after))
        if rv < self._floor:
            raise Expired(f"too old resource version: {rv} ({self._floor + 1})")
        before: dict[tuple[str, str], Entry | None] = {}
        for event in self._history:
            if event.rk == rk and event.entry.rv > rv:
                before.setdefault((event.entry.namespace, event.entry.name), event.old)
        state = {(e.namespace, e.name): e for e in self.iter(rk, namespace)}
        for key, old in before.items():
            if namespace is not None and key[0] != namespace:
                continue
            if old is None:
                state.pop(key, None)
            else:
                state[key] = old
        return [state[k] for k in sorted(state) if after is None or k > after]

    def count(self, rk: ResourceKey, namespace: str | None = None) -> int:
        by_ns = self._committed.get(rk, {})
        if namespace is not None:
            return len(by_ns.get(namespace, {}))
        return sum(len(v) for v in by_ns.values())

    def namespaces_with(self, rk: ResourceKey) -> list[str]:
        return [ns for ns, names in self._committed.get(rk, {}).items() if names]

    # -- writes ---------------------------------------------------------------------------

    async def create(self, rk: ResourceKey, obj: dict[str, Any]) -> Entry:
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        if self.latest(rk, namespace, name) is not None:
            raise AlreadyExists.of(rk[1], rk[0], name)
        return await self._write(rk, obj, old=None)

    async def update(
        self, rk: ResourceKey, obj: dict[str, Any], *, expected_rv: int | None = None
    ) -> Entry:
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        old = self.latest(rk, namespace, name)
        if old is None:
            raise NotFound.of(rk[1], rk[0], name)
        if expected_rv is not None and expected_rv != old.rv:
            raise Conflict.modified(rk[1], rk[0], name)
        return await self._write(rk, obj, old=old)

    async def delete(
        self, rk: ResourceKey, namespace: str, name: str, *, expected_rv: int | None = None
    ) -> Entry:
        """Remove an object; returns its last state stamped with the deletion's revision."""
        old = self.latest(rk, namespace, name)
        if old is None:
            raise NotFound.of(rk[1], rk[0], name)
        if expected_rv is not None and expected_rv != old.rv:
            raise Conflict.modified(rk[1], rk[0], name)
        obj = old.decode()
        return await self._write(rk, obj, old=old, deleted=True)

    async def _write(
        self, rk: ResourceKey, obj: dict[str, Any], *, old: Entry | None, deleted: bool = False
    ) -> Entry:
        self._next_rv += 1
        rv = self._next_rv
        meta = obj["metadata"]
        meta["resourceVersion"] = str(rv)
        raw = orjson.dumps(obj)
        labels, fields = self._attrs_of(rk, obj)
        namespace, name = meta.get("namespace", ""), meta["name"]
        entry = Entry(rv, raw, namespace, name, labels, fields)
        key = _row_key(rk, namespace, name)
        stored: bytes | None = None
        if not deleted:
            stored = raw
            if self._sealer is not None and rk in self._sealed:
                stored = self._sealer.seal(raw, key=key)
        future: asyncio.Future[Entry] = asyncio.get_running_loop().create_future()
        self._inflight[rv] = _InFlight(rk, entry, old, deleted, future)
        self._pending[(rk, namespace, name)] = None if deleted else entry
        self._log.submit(Mutation(key, rv, stored))
        return await future

    def _on_batch(self, batch: list[Mutation], error: BaseException | None) -> None:
        for m in batch:
            done = self._inflight.pop(m.rv)
            e = done.entry
            pkey = (done.rk, e.namespace, e.name)
            pending = self._pending.get(pkey, e)
            if pending is None or pending.rv == m.rv:
                self._pending.pop(pkey, None)
            if error is not None:
                done.future.set_exception(InternalError(f"storage write failed: {error}"))
                continue
            self._apply(done)
            if not done.future.done():
                done.future.set_result(e)

    def _apply(self, done: _InFlight) -> None:
        e = done.entry
        names = self._committed.setdefault(done.rk, {}).setdefault(e.namespace, {})
        if done.deleted:
            names.pop(e.name, None)
            if not names:
                self._committed[done.rk].pop(e.namespace, None)
        else:
            names[e.name] = e
        self._committed_rv = e.rv
        kind = "DELETED" if done.deleted else ("ADDED" if done.old is None else "MODIFIED")
        event = Event(kind, done.rk, e, done.old)
        if len(self._history) == self._history.maxlen:
            self._floor = self._history[0].entry.rv
        self._history.append(event)
        for watcher in list(self._watchers.get(done.rk, ())):
            watcher.offer(event)

    # -- watches --------------------------------------------------------------------------

    def watch(
        self,
        rk: ResourceKey,
        *,
        namespace: str | None,
        since_rv: int | None,
        predicate: Predicate,
        max_queue: int = 10_000,
    ) -> Watcher:
        """Start a watch. ``since_rv`` None or 0 first replays the current state as ADDED."""
        watcher = Watcher(namespace=namespace, predicate=predicate, max_queue=max_queue)
        if not since_rv:
            for entry in self.iter(rk, namespace):
                watcher.offer(Event("ADDED", rk, entry, None))
        else:
            if since_rv < self._floor:
                raise Expired(f"too old resource version: {since_rv} ({self._floor + 1})")
            for event in self._history:
                if event.entry.rv > since_rv and event.rk == rk:
                    watcher.offer(event)
        self._watchers.setdefault(rk, set()).add(watcher)
        watcher.on_close = lambda: self._watchers.get(rk, set()).discard(watcher)
        return watcher

    def watcher_count(self) -> int:
        return sum(len(w) for w in self._watchers.values())
