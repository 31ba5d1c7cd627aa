"""The embedded cluster's storage: a durable SQLite log behind an in-memory watch cache.

- Every object lives in memory as its serialized JSON (``Entry.raw``) plus a tiny index
  (namespace, name, labels, selector fields) — never as a Python dict, which would cost
  5–10× the JSON. Reads and lists are served from here without touching SQLite. The index
  is compact too: labels are one flat tuple of interned strings, selector fields one tuple
  of values aligned with a key tuple shared by every object of a kind (equal values shared
  between objects), and ``raw`` is exact-size (orjson's own buffers carry KBs of slack).
- ``raw`` is exactly ``orjson.dumps(obj)``, and the entry records where ``metadata``'s value
  lies in it, so metadata-only renderings (PartialObjectMetadata, Table rows) slice the
  bytes instead of decoding the object.
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
import sys
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

__all__ = ["DEFAULT_HISTORY_SIZE", "Entry", "ResourceKey", "Storage", "serialize"]

logger = logging.getLogger(__name__)

ResourceKey = tuple[str, str]
"""Storage identity of a resource: (API group, plural resource)."""

AttrsOf = Callable[[ResourceKey, Mapping[str, Any]], tuple[dict[str, str], dict[str, str]]]
"""Computes (labels, selectable fields) of an object; given by the API layer."""

DEFAULT_HISTORY_SIZE = 10_000
"""Watch events kept for resuming watches (kube's watch cache keeps far fewer per resource)."""

_META_KEY = b'"metadata":'


def serialize(obj: Mapping[str, Any]) -> tuple[bytes, int, int]:
    """``orjson.dumps(obj)`` in an exact-size ``bytes``, and the (start, end) offsets of the
    ``metadata`` value in it ((0, 0) when there is no metadata object).

    The bytes are those of one ``orjson.dumps`` call — the object's keys in their order —
    assembled from the members before ``metadata``, ``metadata`` and the members after it.
    """
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return bytes(memoryview(orjson.dumps(obj))), 0, 0
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    side = before
    for key, value in obj.items():
        if key == "metadata":
            side = after
        else:
            side[key] = value
    parts: list[bytes | memoryview] = [b"{"]
    start = 1 + len(_META_KEY)
    if before:
        head = orjson.dumps(before)
        parts += (memoryview(head)[1:-1], b",")
        start += len(head) - 1
    encoded_meta = orjson.dumps(meta)
    parts += (_META_KEY, encoded_meta)
    if after:
        parts += (b",", memoryview(orjson.dumps(after))[1:-1])
    parts.append(b"}")
    return b"".join(parts), start, start + len(encoded_meta)


def _metadata_span(raw: bytes, obj: Mapping[str, Any]) -> tuple[int, int]:
    """Where ``metadata`` lies in ``raw`` (stored earlier), if ``raw`` is what ``serialize``
    makes of ``obj``; (0, 0) otherwise."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return 0, 0
    before: dict[str, Any] = {}
    for key, value in obj.items():
        if key == "metadata":
            break
        before[key] = value
    prefix = b"{" + (orjson.dumps(before)[1:-1] + b"," if before else b"") + _META_KEY
    encoded_meta = orjson.dumps(meta)
    start, end = len(prefix), len(prefix) + len(encoded_meta)
    view = memoryview(raw)
    if view[:start] == prefix and view[start:end] == encoded_meta:
        return start, end
    return 0, 0


def _interned(value: Any) -> Any:
    return sys.intern(value) if type(value) is str else value


class _Labels(Mapping[str, str]):
    """A read-only mapping over a flat ``(key, value, key, value, …)`` tuple."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs: tuple[str, ...]) -> None:
        self._pairs = pairs

    def __getitem__(self, key: str) -> str:
        pairs = self._pairs
        for i in range(0, len(pairs), 2):
            if pairs[i] == key:
                return pairs[i + 1]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        pairs = self._pairs
        return any(pairs[i] == key for i in range(0, len(pairs), 2))

    def __iter__(self) -> Iterator[str]:
        return iter(self._pairs[::2])

    def __len__(self) -> int:
        return len(self._pairs) // 2


class _FieldKeys:
    """The selector-field names of a kind, shared by all its entries, and their positions."""

    __slots__ = ("_last", "index", "names")

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.index = {name: i for i, name in enumerate(names)}
        self._last: tuple[str, ...] = ()

    def shared(self, values: tuple[str, ...]) -> tuple[str, ...]:
        """``values``, reusing the string objects of the previous entry where equal: node,
        phase, namespace and the like repeat from object to object, names do not (and are
        not worth a place in the interned-string table)."""
        last = self._last
        if len(last) == len(values):
            values = tuple(
                old if old == new else new for old, new in zip(last, values, strict=True)
            )
        self._last = values
        return values


_FIELD_KEYS: dict[tuple[str, ...], _FieldKeys] = {}


def _field_keys(names: tuple[str, ...]) -> _FieldKeys:
    keys = _FIELD_KEYS.get(names)
    if keys is None:
        keys = _FIELD_KEYS[names] = _FieldKeys(tuple(sys.intern(n) for n in names))
    return keys


class _Fields(Mapping[str, str]):
    """A read-only mapping over a values tuple aligned with a kind's ``_FieldKeys``."""

    __slots__ = ("_keys", "_values")

    def __init__(self, keys: _FieldKeys, values: tuple[str, ...]) -> None:
        self._keys = keys
        self._values = values

    def __getitem__(self, key: str) -> str:
        return self._values[self._keys.index[key]]

    def get(self, key: str, default: Any = None) -> Any:
        i = self._keys.index.get(key)
        return default if i is None else self._values[i]

    def __contains__(self, key: object) -> bool:
        return key in self._keys.index

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys.names)

    def __len__(self) -> int:
        return len(self._values)


class Entry:
    """One state of one object: its JSON bytes and the small index reads filter on.

    Immutable once stored, except ``cache``: derived renderings of this very state that
    the API layer may keep (Table cells), so a state is rendered at most once.
    """

    __slots__ = (
        "_field_keys",
        "_field_values",
        "_labels",
        "cache",
        "meta_end",
        "meta_start",
        "name",
        "namespace",
        "raw",
        "rv",
    )

    def __init__(
        self,
        rv: int,
        raw: bytes,
        namespace: str,
        name: str,
        labels: Mapping[str, str],
        fields: Mapping[str, str],
        *,
        meta_span: tuple[int, int] = (0, 0),
    ) -> None:
        self.rv = rv
        self.raw = raw
        self.namespace: str = _interned(namespace)
        self.name = name
        self._labels: tuple[str, ...] = tuple(
            _interned(part) for pair in labels.items() for part in pair
        )
        self._field_keys = keys = _field_keys(tuple(fields))
        self._field_values = keys.shared(tuple(fields.values()))
        # Where the value of ``metadata`` lies in ``raw``; (0, 0) when unknown.
        self.meta_start, self.meta_end = meta_span
        self.cache: Any = None

    @property
    def labels(self) -> Mapping[str, str]:
        return _Labels(self._labels)

    @property
    def fields(self) -> Mapping[str, str]:
        return _Fields(self._field_keys, self._field_values)

    def __repr__(self) -> str:
        return (
            f"Entry(rv={self.rv}, namespace={self.namespace!r}, name={self.name!r}, "
            f"{len(self.raw)} bytes)"
        )

    def decode(self) -> dict[str, Any]:
        obj: dict[str, Any] = orjson.loads(self.raw)
        return obj

    def restamped(self, rv: int) -> Entry:
        """This state with another resourceVersion (for synthetic watch events)."""
        obj = self.decode()
        obj["metadata"]["resourceVersion"] = str(rv)
        raw, start, end = serialize(obj)
        entry = Entry(rv, raw, self.namespace, self.name, {}, {}, meta_span=(start, end))
        entry._labels, entry._field_keys = self._labels, self._field_keys
        entry._field_values = self._field_values
        return entry


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
        history_size: int = DEFAULT_HISTORY_SIZE,
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
            span = _metadata_span(value, obj)
            entry = Entry(rv, value, namespace, name, labels, fields, meta_span=span)
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
        raw, meta_start, meta_end = serialize(obj)
        labels, fields = self._attrs_of(rk, obj)
        namespace, name = meta.get("namespace", ""), meta["name"]
        entry = Entry(rv, raw, namespace, name, labels, fields, meta_span=(meta_start, meta_end))
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
