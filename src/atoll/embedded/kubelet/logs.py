"""Container logs written in the CRI log format, with rotation and compression.

The kubelet pumps each container's stdout and stderr (pipes) into a ``LogWriter``,
which writes what containerd writes for a CRI container::

    <RFC3339Nano time> <stdout|stderr> <P|F> <content>\\n

One record per line of output: ``F`` ends a line; content longer than 16 KiB (containerd's
``max_container_log_line_size``) goes out in ``P`` (partial) records of 16 KiB followed by
the final ``F``; a line ending in ``\\r\\n`` loses the ``\\r``, as containerd's ``readLine``
drops it; a last line without a newline when the stream ends is written as a ``P`` record
(``close``). Times are UTC with Go's RFC3339Nano (trailing zeros of the fraction dropped).

Files are the kubelet's: ``<root>/<namespace>_<pod>_<uid>/<container>/<restartCount>.log``
(``log_path``). Before a record would take the file past ``max_bytes`` (kubelet's
``containerLogMaxSize``, 10 MiB) the file is renamed ``<n>.log.<UTC YYYYMMDD-hhmmss>`` and a
new one begun; at most ``max_files`` (``containerLogMaxFiles``, 5) files are kept, the oldest
rotated ones deleted; rotated files but the newest are gzipped to ``.gz``, as the kubelet's
log manager does. Compression runs off the event loop in ``LogHub.run`` (a loop for the
kubelet's task group); a writer made outside a hub never compresses.

A ``LogHub`` also knows every open writer by path, which following a log needs. Reading a
log back as ``pods/log`` does is ``log_reading``'s; ``LogHub.read`` is its ``read_log``.

API::

    log_path(root, namespace, pod, uid, container, restart_count) -> Path
    previous_log_path(root, namespace, pod, uid, container, restart_count) -> Path
    LogWriter(path, *, max_bytes=10 MiB, max_files=5, clock=now, hub=None)
        .write(stream, data)  .close()
    LogHub(*, max_bytes, max_files, clock)  .open(path)  .writer(path)  .read(path, options)
        .compress_pending()  .run()
    pump(reader, writer, stream)   # an asyncio.StreamReader into a writer, until EOF
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import os
import re
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from atoll.errors import BadRequest

if TYPE_CHECKING:
    from .log_reading import LogOptions

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_FILES",
    "MAX_LINE",
    "LogHub",
    "LogWriter",
    "Stream",
    "log_path",
    "previous_log_path",
    "pump",
]

logger = logging.getLogger(__name__)

Stream = Literal["stdout", "stderr"]

MAX_LINE = 16 * 1024  # containerd's default max_container_log_line_size
DEFAULT_MAX_BYTES = 10 * 2**20  # kubelet's containerLogMaxSize
DEFAULT_MAX_FILES = 5  # kubelet's containerLogMaxFiles
BLOCK = 64 * 1024  # what a pump, a compression and a reader move at a time
STREAMS = (b"stdout", b"stderr")
_STAMP = "%Y%m%d-%H%M%S"  # the rotated file suffix, kubelet's "20060102-150405"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def log_path(
    root: Path, namespace: str, pod: str, uid: str, container: str, restart_count: int
) -> Path:
    """The kubelet's path of one container instance's log."""
    return root / f"{namespace}_{pod}_{uid}" / container / f"{restart_count}.log"


def previous_log_path(
    root: Path, namespace: str, pod: str, uid: str, container: str, restart_count: int
) -> Path:
    """The log ``previous=true`` reads: the instance before ``restart_count``."""
    if restart_count < 1:
        raise BadRequest(f'previous terminated container "{container}" in pod "{pod}" not found')
    return log_path(root, namespace, pod, uid, container, restart_count - 1)


def format_timestamp(moment: datetime) -> bytes:
    """Go's RFC3339Nano in UTC: the fraction without trailing zeros, none if zero."""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += "." + f"{utc.microsecond:06d}".rstrip("0")
    return (text + "Z").encode()


def rotated_logs(path: Path) -> list[Path]:
    """The rotated files of ``path``, oldest first, each as its uncompressed name."""
    pattern = re.compile(re.escape(path.name) + r"\.(\d{8}-\d{6})(?:\.gz)?")
    try:
        names = os.listdir(path.parent)
    except FileNotFoundError:
        return []
    stamps = {m[1] for name in names if (m := pattern.fullmatch(name))}
    return [path.with_name(f"{path.name}.{stamp}") for stamp in sorted(stamps)]


def _remove_rotated(rotated: Path) -> None:
    for suffix in ("", ".gz", ".tmp"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{rotated}{suffix}")


def _gzip(rotated: Path) -> None:
    """Compress one rotated file as the kubelet does: via ``.tmp``, then ``.gz``, then unlink."""
    tmp, done = Path(f"{rotated}.tmp"), Path(f"{rotated}.gz")
    try:
        with (
            open(rotated, "rb") as src,
            open(tmp, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw) as out,
        ):
            shutil.copyfileobj(src, out, BLOCK)
        os.replace(tmp, done)
        os.unlink(rotated)
    except FileNotFoundError:
        # Deleted as an excess file while we compressed: leave nothing of it behind.
        _remove_rotated(rotated)


class LogWriter:
    """One container instance's log. ``write`` takes bytes as they come from a pipe.

    Not thread-safe: every call comes from the event loop (the pumps and the readers).
    """

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        max_files: int = DEFAULT_MAX_FILES,
        clock: Callable[[], datetime] = _utc_now,
        hub: LogHub | None = None,
    ) -> None:
        if max_files < 2:
            raise ValueError("max_files must be at least 2, as the kubelet requires")
        self.path = path
        self._max_bytes = max_bytes  # None: never rotate
        self._max_files = max_files
        self._clock = clock
        self._hub = hub
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - lives as long as the writer
        self._size = os.fstat(self._file.fileno()).st_size
        self._pending = {b"stdout": b"", b"stderr": b""}  # a line not ended yet, per stream
        self._rotated: dict[int, Path] = {}  # generation -> its rotated name, the last few
        existing = rotated_logs(path)
        self._last_stamp = existing[-1].name.rsplit(".", 1)[1] if existing else ""
        self.generation = 0  # rotations so far: followers find their next file by it
        self.version = 0  # changes on every write, rotation and close
        self.closed = False
        self._changed = asyncio.Event()

    def write(self, stream: str, data: bytes) -> None:
        """Log ``data`` from ``stream``; whole lines go out now, the rest waits for its end."""
        if self.closed:
            raise RuntimeError(f"log {self.path} is closed")
        key = _stream_key(stream)
        buffer = self._pending[key] + data
        head = format_timestamp(self._clock()) + b" " + key + b" "
        records: list[bytes] = []
        start = 0
        while (newline := buffer.find(b"\n", start)) >= 0:
            end = newline - 1 if newline > start and buffer[newline - 1] == 0x0D else newline
            _split_line(records, head, buffer[start:end], final=True)
            start = newline + 1
        rest = buffer[start:]
        # A trailing "\r" may be the start of "\r\n": it doesn't count towards the 16 KiB.
        while len(rest) - rest.endswith(b"\r") > MAX_LINE:
            records.append(head + b"P " + rest[:MAX_LINE] + b"\n")
            rest = rest[MAX_LINE:]
        self._pending[key] = rest
        self._append(records)

    def close(self) -> None:
        """Flush unfinished lines as ``P`` records and end the log: its followers finish."""
        if self.closed:
            return
        records: list[bytes] = []
        for key, rest in self._pending.items():
            if rest:
                head = format_timestamp(self._clock()) + b" " + key + b" "
                _split_line(records, head, rest, final=False)
        self._append(records)
        self._file.close()
        self.closed = True
        self._notify()
        if self._hub is not None:
            self._hub._forget(self)

    def generation_path(self, generation: int) -> Path | None:
        """The file of ``generation``: the current one, or its rotated name while kept."""
        if generation >= self.generation:
            return self.path
        return self._rotated.get(generation)

    async def wait_for_change(self, version: int) -> None:
        """Return once the log has changed since ``version`` (at once if it already has)."""
        if self.version == version:
            await self._changed.wait()

    def _notify(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    def _append(self, records: list[bytes]) -> None:
        batch: list[bytes] = []
        size = self._size
        try:
            for record in records:
                if self._max_bytes is not None and size and size + len(record) > self._max_bytes:
                    self._write_out(batch)
                    batch = []
                    self._rotate()
                    size = 0
                batch.append(record)
                size += len(record)
            self._write_out(batch)
        except OSError as error:
            # As containerd: a full disk loses output, it doesn't stop the container.
            logger.warning("could not write the log %s: %s", self.path, error)
        if records:
            self._notify()

    def _write_out(self, batch: list[bytes]) -> None:
        view = memoryview(b"".join(batch))
        self._size += len(view)
        while view:
            view = view[self._file.write(view) :]

    def _rotate(self) -> None:
        stamp = self._clock().astimezone(UTC).strftime(_STAMP)
        if stamp <= self._last_stamp:  # names must sort in rotation order: never reuse one
            later = datetime.strptime(self._last_stamp, _STAMP) + timedelta(seconds=1)
            stamp = later.strftime(_STAMP)
        self._last_stamp = stamp
        rotated = self.path.with_name(f"{self.path.name}.{stamp}")
        os.rename(self.path, rotated)  # on failure, the current file simply grows on
        current = open(self.path, "ab", buffering=0)  # noqa: SIM115
        self._file.close()
        self._file, self._size = current, 0
        self._rotated[self.generation] = rotated
        self._rotated.pop(self.generation - self._max_files, None)
        self.generation += 1
        for old in rotated_logs(self.path)[: -(self._max_files - 1)]:
            _remove_rotated(old)
        if self._hub is not None:
            self._hub._to_compress(self.path)


def _stream_key(stream: str) -> bytes:
    key = stream.encode()
    if key not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}")
    return key


def _split_line(records: list[bytes], head: bytes, line: bytes, *, final: bool) -> None:
    """Records of one line: 16 KiB ``P`` pieces, the last ``F`` if the line ended."""
    while len(line) > MAX_LINE:
        records.append(head + b"P " + line[:MAX_LINE] + b"\n")
        line = line[MAX_LINE:]
    if final:
        records.append(head + b"F " + line + b"\n")
    elif line:
        records.append(head + b"P " + line + b"\n")


async def pump(reader: asyncio.StreamReader, writer: LogWriter, stream: Stream) -> None:
    """Copy ``reader`` into ``writer`` until EOF. The caller closes the writer afterwards,
    once both streams are done."""
    while chunk := await reader.read(BLOCK):
        writer.write(stream, chunk)


class LogHub:
    """The logs one kubelet writes: writers by path, for followers, and their compression."""

    def __init__(
        self,
        *,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        max_files: int = DEFAULT_MAX_FILES,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._policy = (max_bytes, max_files, clock)
        self._writers: dict[Path, LogWriter] = {}
        self._compress: dict[Path, None] = {}  # logs that rotated, in order
        self._wanted = asyncio.Event()

    def open(self, path: Path) -> LogWriter:
        """A writer for ``path``, appending to it; at most one per path at a time."""
        key = _key(path)
        if key in self._writers:
            raise RuntimeError(f"log {path} is already open")
        max_bytes, max_files, clock = self._policy
        writer = LogWriter(key, max_bytes=max_bytes, max_files=max_files, clock=clock, hub=self)
        self._writers[key] = writer
        return writer

    def writer(self, path: Path) -> LogWriter | None:
        """The open writer of ``path``, if any."""
        return self._writers.get(_key(path))

    def read(self, path: Path, options: LogOptions) -> AsyncIterator[bytes]:
        """``read_log`` of ``path``, able to follow the writers of this hub."""
        # Reading depends on writing (file names, the writers it follows), so this one way
        # back is imported when called: a module-level import would be a cycle.
        from .log_reading import read_log

        return read_log(path, options, hub=self)

    async def compress_pending(self) -> None:
        """Gzip the rotated files that wait for it (all but each log's newest)."""
        while self._compress:
            path = next(iter(self._compress))
            del self._compress[path]
            for rotated in rotated_logs(path)[:-1]:
                if os.path.exists(rotated):
                    try:
                        await asyncio.to_thread(_gzip, rotated)
                    except OSError as error:
                        logger.warning("could not compress %s: %s", rotated, error)

    async def run(self) -> None:
        """Compress rotated logs as they appear, until cancelled."""
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            await self.compress_pending()

    def _to_compress(self, path: Path) -> None:
        self._compress[path] = None
        self._wanted.set()

    def _forget(self, writer: LogWriter) -> None:
        if self._writers.get(writer.path) is writer:
            del self._writers[writer.path]


def _key(path: Path) -> Path:
    return Path(os.path.abspath(path))
