"""The baselines: the same JSON documents written to and read from SQLite directly, no HTTP.

The table and pragmas are the embedded cluster's own (``objects`` keyed by path, WAL,
``synchronous=NORMAL``), so a ratio against these figures is the price of everything the
API server adds on top of its storage: HTTP and TLS, validation, defaulting, the watch cache.

- ``insert_group_commit``: one writer thread commits whatever is queued (up to 512 rows) in
  one transaction and wakes the asyncio producers waiting on those rows — the same shape
  as the server's storage, with the same number of writes in flight as the HTTP client.
- ``insert_each_committed``: the naive loop, one transaction per row.
- ``select_list_body``: ``SELECT value`` of every row, joined into a list response body.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from .client import CONNECTIONS, run_workers

__all__ = ["fill", "insert_each_committed", "insert_group_commit", "select_list_body"]

Doc = tuple[str, bytes]
"""A row to store: (key, JSON)."""

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS objects ("
    " key TEXT PRIMARY KEY, rv INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID"
)
_INSERT = "INSERT INTO objects (key, rv, value) VALUES (?, ?, ?)"
_Pending = tuple[str, int, bytes, asyncio.Future[None]]


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(_SCHEMA)
    return conn


def _write_batches(
    conn: sqlite3.Connection,
    pending: queue.SimpleQueue[_Pending | None],
    loop: asyncio.AbstractEventLoop,
    max_batch: int,
) -> None:
    while (first := pending.get()) is not None:
        batch = [first]
        while len(batch) < max_batch:
            try:
                item = pending.get_nowait()
            except queue.Empty:
                break
            if item is None:
                pending.put(None)  # stop after this batch
                break
            batch.append(item)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(_INSERT, [(key, rv, value) for key, rv, value, _ in batch])
        conn.execute("COMMIT")
        loop.call_soon_threadsafe(_wake, [future for *_, future in batch])


def _wake(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        future.set_result(None)


async def insert_group_commit(
    path: Path, docs: Sequence[Doc], *, in_flight: int = CONNECTIONS, max_batch: int = 512
) -> float:
    """Seconds to store ``docs`` through a group-commit writer thread; a fresh database."""
    conn = _connect(path)
    loop = asyncio.get_running_loop()
    pending: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
    writer = threading.Thread(target=_write_batches, args=(conn, pending, loop, max_batch))
    writer.start()
    revisions = iter(range(1, len(docs) + 1))

    async def store(doc: Doc) -> None:
        future: asyncio.Future[None] = loop.create_future()
        pending.put((doc[0], next(revisions), doc[1], future))
        await future

    start = time.perf_counter()
    try:
        await run_workers(docs, store, workers=in_flight)
        return time.perf_counter() - start
    finally:
        pending.put(None)
        await asyncio.to_thread(writer.join)
        conn.close()


def insert_each_committed(path: Path, docs: Sequence[Doc]) -> float:
    """Seconds to store ``docs`` one transaction per row (autocommit); a fresh database."""
    conn = _connect(path)
    try:
        start = time.perf_counter()
        for rv, (key, value) in enumerate(docs, 1):
            conn.execute(_INSERT, (key, rv, value))
        return time.perf_counter() - start
    finally:
        conn.close()


def fill(path: Path, docs: Sequence[Doc]) -> None:
    """Store ``docs`` in one transaction (set-up for ``select_list_body``, not timed)."""
    conn = _connect(path)
    try:
        conn.execute("BEGIN")
        conn.executemany(_INSERT, [(key, rv, value) for rv, (key, value) in enumerate(docs, 1)])
        conn.execute("COMMIT")
    finally:
        conn.close()


def select_list_body(path: Path, *, kind: str) -> bytes:
    """Every stored value joined into a ``<kind>List`` body, as a list handler would send it."""
    conn = _connect(path)
    try:
        rows = conn.execute("SELECT value FROM objects").fetchall()
    finally:
        conn.close()
    head = b'{"kind":"%sList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":['
    return head % kind.encode() + b",".join(row[0] for row in rows) + b"]}"
