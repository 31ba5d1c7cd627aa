"""The audit trail: audit events appended as JSON lines to rotating files in one directory.

The request pipeline calls ``AuditTrail.record`` (an ``AuditSink``) on the event loop for each
event, and ``record`` only enqueues. One writer thread takes whatever has queued up, appends it
to ``audit.jsonl`` in one write, flushes and fsyncs, so an event is on disk milliseconds after
its request was answered and survives the process being killed. A full queue drops the event
(counted in ``dropped``, warned about at most once a minute) rather than stall requests.

When ``audit.jsonl`` would grow past ``max_bytes`` it is renamed ``audit-<stamp>.jsonl``, the
stamp (``20240501T120000123456Z``, UTC) being its newest event's time, made later than any
stamp before it: names sort oldest first, and a search for recent events skips older files
whole. Beyond ``max_files`` files in all, the oldest are deleted.

A thread rather than an asyncio task: fsync blocks, and a component has no stop hook yet, so
the writer is a daemon thread whose ``close`` (the component registers it with ``atexit``)
drains the queue before the interpreter exits. A line torn by a crash is left in place: a new
writer starts on a fresh line, and searching skips what does not decode.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import orjson

from atoll.server.auditing import AuditEvent

__all__ = ["CURRENT", "AuditTrail", "MiB", "trail_files"]

logger = logging.getLogger(__name__)

MiB = 1 << 20
CURRENT = "audit.jsonl"
_ROTATED = re.compile(r"^audit-(\d{8}T\d{12}Z)\.jsonl$")
_STAMP = "%Y%m%dT%H%M%S%fZ"
_WARN_EVERY = 60.0  # seconds between warnings about dropped or lost events


def trail_files(directory: Path) -> list[tuple[Path, datetime | None]]:
    """The trail's files, newest first, each with the time no event in it is later than
    (``None`` for ``audit.jsonl``, still being written)."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    rotated = []
    for name in names:
        if matched := _ROTATED.match(name):
            stamp = datetime.strptime(matched[1], _STAMP).replace(tzinfo=UTC)
            rotated.append((directory / name, stamp))
    rotated.sort(key=lambda found: found[1], reverse=True)
    current: list[tuple[Path, datetime | None]] = []
    if CURRENT in names:
        current.append((directory / CURRENT, None))
    return current + rotated


def _line(event: AuditEvent) -> bytes:
    """``event.to_json()`` as a JSON line. orjson encodes the dataclass itself, to the same
    bytes (a test holds it to that) ten times faster than ``to_json`` does."""
    return orjson.dumps(event, option=orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class _Flush:
    """A marker in the queue: set once everything queued before it is on disk."""

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()
_Item = AuditEvent | _Flush | object


class AuditTrail:
    """Audit events appended to ``directory`` by one writer thread; ``record`` is the sink."""

    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int = 100 * MiB,
        max_files: int = 10,
        queue_size: int = 10_000,
        batch_size: int = 1_000,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        """``max_files`` counts ``audit.jsonl`` too; ``queue_size`` events wait at most
        (beyond that, ``record`` drops); a write takes at most ``batch_size`` events."""
        if max_bytes < 1 or max_files < 1 or queue_size < 1 or batch_size < 1:
            raise ValueError("the audit trail's limits must be positive")
        self.directory = directory
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.dropped = 0  # events turned away: the queue was full, or the trail closed
        self.lost = 0  # events taken but not written (a full disk, an unwritable directory)
        self._batch_size = batch_size
        self._clock = clock
        self._queue: queue.Queue[_Item] = queue.Queue(maxsize=queue_size)
        self._closed = False
        self._next_warning = 0.0
        self._file: BinaryIO | None = None
        self._size = 0
        self._newest: datetime | None = None  # the latest event written to audit.jsonl
        self._inherited = False  # whether audit.jsonl holds events of an earlier run
        directory.mkdir(parents=True, exist_ok=True)
        self._open()
        self._prune()  # max_files may be lower than last run's
        self._thread = threading.Thread(target=self._run, name="atoll-audit-writer", daemon=True)
        self._thread.start()

    # The sink's side, on the event loop.

    def record(self, event: AuditEvent) -> None:
        """The ``AuditSink``: queue ``event`` for the writer; never blocks, never raises."""
        if self._closed:
            self.dropped += 1
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1
            self._warn("audit queue full: %d events dropped so far", self.dropped)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every event recorded before this call is on disk (or lost); blocking,
        so not for the event loop. False if that did not happen within ``timeout``."""
        if self._closed and not self._thread.is_alive():
            return True
        marker = _Flush()
        try:
            self._queue.put(marker, timeout=timeout)
        except queue.Full:
            return False
        return marker.done.wait(timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Write what is queued, then stop the writer; later events are dropped. Idempotent."""
        if not self._closed:
            self._closed = True
            try:
                self._queue.put(_STOP, timeout=timeout)
            except queue.Full:
                return False
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> AuditTrail:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _warn(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now >= self._next_warning:
            self._next_warning = now + _WARN_EVERY
            logger.warning(message, *args)

    # The writer's side, on its own thread.

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = self._take(wait=True)
            stopping = any(item is _STOP for item in batch)
            self._step(batch)
        while batch := self._take(wait=False):  # what raced in behind the stop
            self._step(batch)
        self._close_file()

    def _step(self, batch: list[_Item]) -> None:
        self._persist([item for item in batch if isinstance(item, AuditEvent)])
        for item in batch:
            if isinstance(item, _Flush):
                item.done.set()

    def _take(self, *, wait: bool) -> list[_Item]:
        """What has queued up, at most a batch; with ``wait``, at least one item."""
        batch = [self._queue.get()] if wait else []
        while len(batch) < self._batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _persist(self, events: list[AuditEvent]) -> None:
        """Append ``events`` and fsync; a failure loses them (counted) but never the writer."""
        if not events:
            return
        try:
            if self._file is None:
                self._open()
            self._append(events)
        except Exception as error:
            self.lost += len(events)
            self._warn(
                "audit events could not be written to %s (%s): %d lost so far",
                self.directory,
                type(error).__name__,
                self.lost,
            )
            self._close_file()

    def _append(self, events: list[AuditEvent]) -> None:
        pending: list[bytes] = []
        pending_bytes = 0
        for event in events:
            line = _line(event)
            if pending_bytes and self._size + pending_bytes + len(line) > self.max_bytes:
                self._write(pending)
                pending, pending_bytes = [], 0
            if self._size and self._size + pending_bytes + len(line) > self.max_bytes:
                self._rotate()
            pending.append(line)
            pending_bytes += len(line)
            moment = _utc(event.time)
            self._newest = moment if self._newest is None else max(self._newest, moment)
        self._write(pending)
        assert self._file is not None
        os.fsync(self._file.fileno())

    def _write(self, lines: list[bytes]) -> None:
        assert self._file is not None
        data = b"".join(lines)
        self._file.write(data)
        self._file.flush()
        self._size += len(data)

    def _open(self) -> None:
        """Open ``audit.jsonl`` to append, after a newline if a crash tore its last line."""
        path = self.directory / CURRENT
        handle = open(path, "ab")  # noqa: SIM115 - kept open across batches, closed by _close_file
        size = os.fstat(handle.fileno()).st_size
        if size:
            with open(path, "rb") as reading:
                reading.seek(size - 1)
                if reading.read(1) != b"\n":
                    handle.write(b"\n")
                    handle.flush()
                    size += 1
        self._file, self._size, self._newest, self._inherited = handle, size, None, size > 0
        self._fsync_directory()

    def _rotate(self) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._close_file()
        os.replace(self.directory / CURRENT, self.directory / self._rotated_name())
        self._prune()
        self._open()

    def _rotated_name(self) -> str:
        """``audit-<stamp>.jsonl``: the stamp is the file's newest event (or now, when an
        earlier run's events are in it too), and later than every stamp before it."""
        stamp = self._newest
        if stamp is None or self._inherited:
            now = _utc(self._clock())
            stamp = now if stamp is None else max(now, stamp)
        rotated = [found for _, found in trail_files(self.directory) if found is not None]
        if rotated and rotated[0] >= stamp:  # events out of order, or a clock set back
            stamp = rotated[0] + timedelta(microseconds=1)
        return f"audit-{stamp.strftime(_STAMP)}.jsonl"

    def _prune(self) -> None:
        rotated = [path for path, stamp in trail_files(self.directory) if stamp is not None]
        for path in rotated[self.max_files - 1 :]:
            path.unlink(missing_ok=True)

    def _close_file(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):  # what it could not write is counted as lost
                self._file.close()
            self._file = None

    def _fsync_directory(self) -> None:
        """Make a new or renamed file's name durable, not only its contents."""
        descriptor = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
