"""The durable half of the embedded cluster's storage: SQLite in WAL mode, one writer thread.

Every write of the API server becomes a ``Mutation`` queued to a single writer thread. The
thread drains whatever is queued (up to ``max_batch``), applies it in one transaction and
commits once — group commit — then hands the batch back to the event loop, which only
then acknowledges the writes and publishes their watch events. With ``journal_mode=WAL``
and ``synchronous=NORMAL`` a committed transaction survives ``kill -9`` of the process
(only a power loss could lose the last transactions), which is the promise we make.

Reads never come here: the whole state is loaded once at start-up into the watch cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Mutation", "SQLiteLog"]

logger = logging.getLogger(__name__)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS objects ("
    " key TEXT PRIMARY KEY, rv INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)


@dataclass(slots=True)
class Mutation:
    """One write: ``value`` None means delete. ``rv`` is the global revision it creates."""

    key: str
    rv: int
    value: bytes | None


BatchDone = Callable[[list[Mutation], BaseException | None], None]


class SQLiteLog:
    """Owns the database file; all writes go through ``submit``, committed in batches."""

    def __init__(self, path: Path, *, max_batch: int = 512) -> None:
        self._path = path
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Mutation | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._on_batch: BatchDone | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def load(self) -> tuple[int, Iterator[tuple[str, int, bytes]]]:
        """Create the schema if needed; return the last revision and every stored row."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        for stmt in _SCHEMA:
            conn.execute(stmt)
        row = conn.execute("SELECT value FROM meta WHERE name = 'rv'").fetchone()
        last_rv = int(row[0]) if row else 0

        def rows() -> Iterator[tuple[str, int, bytes]]:
            try:
                yield from conn.execute("SELECT key, rv, value FROM objects ORDER BY key")
            finally:
                conn.close()

        return last_rv, rows()

    def start(self, loop: asyncio.AbstractEventLoop, on_batch: BatchDone) -> None:
        self._loop = loop
        self._on_batch = on_batch
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self._thread.start()

    def submit(self, mutation: Mutation) -> None:
        self._queue.put(mutation)

    def stop(self) -> None:
        """Flush everything queued so far, then stop the writer thread."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join()
        self._thread = None

    def _run(self) -> None:
        conn = self._connect()
        try:
            while True:
                batch, stopping = self._next_batch()
                if batch:
                    self._commit(conn, batch)
                if stopping:
                    return
        finally:
            conn.close()

    def _next_batch(self) -> tuple[list[Mutation], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _commit(self, conn: sqlite3.Connection, batch: list[Mutation]) -> None:
        error: BaseException | None = None
        try:
            conn.execute("BEGIN IMMEDIATE")
            for m in batch:
                if m.value is None:
                    conn.execute("DELETE FROM objects WHERE key = ?", (m.key,))
                else:
                    conn.execute(
                        "INSERT OR REPLACE INTO objects (key, rv, value) VALUES (?, ?, ?)",
                        (m.key, m.rv, m.value),
                    )
            conn.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES ('rv', ?)", (batch[-1].rv,)
            )
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            logger.exception("storage commit of %d writes failed", len(batch))
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            error = exc
        assert self._loop is not None and self._on_batch is not None
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self._loop.call_soon_threadsafe(self._on_batch, batch, error)
