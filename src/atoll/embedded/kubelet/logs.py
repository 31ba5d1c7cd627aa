"""Container logs: written in the CRI log format with rotation, read back as ``pods/log`` does.

Writing. The kubelet pumps each container's stdout and stderr (pipes) into a ``LogWriter``,
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

Reading. ``read_log`` yields what ``kubectl logs`` prints: every line's content, ``P``
records joined to their ``F`` per stream (so interleaved stdout and stderr never garble a
long line), in the order lines ended, over the rotated files (plain or gzipped) and then
the current one. Options, as ``PodLogOptions``: ``tail_lines`` (found by reading the files
backwards in blocks, never whole), ``since_time`` (by each line's first record),
``timestamps`` (a fixed nine-digit RFC3339Nano prefix, as the kubelet prints),
``limit_bytes`` (cuts the output), ``stream`` (stdout or stderr only) and ``follow``.
Following needs the log's writer, which a ``LogHub`` knows by path: a follower is woken by
the writer in-process (no polling), moves to the next file when the writer rotates, and
ends when the writer closes. A log with no writer (finished, or left by an earlier
process) is read to its end even when following. Plain files are read inline, a 64 KiB
block at a time with the loop let go between blocks (a block takes ~25 µs to read and
~0.7 ms to parse, measured); gzip and tail scans go through ``asyncio.to_thread``.

API::

    log_path(root, namespace, pod, uid, container, restart_count) -> Path
    previous_log_path(root, namespace, pod, uid, container, restart_count) -> Path
    LogWriter(path, *, max_bytes=10 MiB, max_files=5, clock=now, hub=None)
        .write(stream, data)  .close()
    LogHub(*, max_bytes, max_files, clock)  .open(path)  .writer(path)  .read(path, options)
        .compress_pending()  .run()
    LogOptions(follow, tail_lines, since_time, timestamps, limit_bytes, stream)
    since_cutoff(now=, since_seconds=, since_time=) -> datetime | None
    read_log(path, options, *, hub=None) -> AsyncIterator[bytes]
    pump(reader, writer, stream)   # an asyncio.StreamReader into a writer, until EOF
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import io
import logging
import os
import re
import shutil
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from atoll.errors import BadRequest, NotFound

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_FILES",
    "MAX_LINE",
    "LogHub",
    "LogOptions",
    "LogWriter",
    "Stream",
    "log_path",
    "previous_log_path",
    "pump",
    "read_log",
    "since_cutoff",
]

logger = logging.getLogger(__name__)

Stream = Literal["stdout", "stderr"]

MAX_LINE = 16 * 1024  # containerd's default max_container_log_line_size
DEFAULT_MAX_BYTES = 10 * 2**20  # kubelet's containerLogMaxSize
DEFAULT_MAX_FILES = 5  # kubelet's containerLogMaxFiles
_BLOCK = 64 * 1024
_STAMP = "%Y%m%d-%H%M%S"  # the rotated file suffix, kubelet's "20060102-150405"
_STREAMS = (b"stdout", b"stderr")
_Pos = tuple[int, int]  # (file sequence, byte offset): where a record starts


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


def _fixed_timestamp(raw: bytes) -> bytes:
    """A record's time as the kubelet prints it: RFC3339Nano with exactly nine digits."""
    if raw.endswith(b"Z"):
        body, zone = raw[:-1], b"Z"
    else:
        body, zone = raw[:-6], raw[-6:]
        if zone in (b"+00:00", b"-00:00"):
            zone = b"Z"
    seconds, _, fraction = body.partition(b".")
    return seconds + b"." + fraction.ljust(9, b"0")[:9] + zone


def _rotated_logs(path: Path) -> list[Path]:
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
            shutil.copyfileobj(src, out, _BLOCK)
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
        existing = _rotated_logs(path)
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
        for old in _rotated_logs(self.path)[: -(self._max_files - 1)]:
            _remove_rotated(old)
        if self._hub is not None:
            self._hub._to_compress(self.path)


def _stream_key(stream: str) -> bytes:
    key = stream.encode()
    if key not in _STREAMS:
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
    while chunk := await reader.read(_BLOCK):
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
        return read_log(path, options, hub=self)

    async def compress_pending(self) -> None:
        """Gzip the rotated files that wait for it (all but each log's newest)."""
        while self._compress:
            path = next(iter(self._compress))
            del self._compress[path]
            for rotated in _rotated_logs(path)[:-1]:
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


@dataclass(frozen=True, slots=True, kw_only=True)
class LogOptions:
    """What ``pods/log`` asks for (``PodLogOptions``), as the kubelet reads it."""

    follow: bool = False
    tail_lines: int | None = None  # the last N lines; None (or negative): all
    since_time: datetime | None = None  # lines whose first record is older are skipped
    timestamps: bool = False  # prefix each line with its time
    limit_bytes: int | None = None  # cut the output after this many bytes
    stream: Stream | None = None  # one stream only; None: both


def since_cutoff(
    *, now: datetime, since_seconds: int | None, since_time: datetime | None
) -> datetime | None:
    """``sinceSeconds`` and ``sinceTime`` as one time, the later of the two (the kubelet's)."""
    cutoff = now - timedelta(seconds=since_seconds) if since_seconds is not None else None
    if since_time is not None and (cutoff is None or since_time > cutoff):
        cutoff = since_time
    return cutoff


def _is_partial(tag: bytes) -> bool:
    """``P``, or ``P:<more>``: tags are colon-separated, the first one counts."""
    return tag[:1] == b"P" and tag[1:2] in (b"", b":")


class _Lines:
    """CRI records back into the lines a container printed, rendered as ``kubectl logs``."""

    def __init__(self, options: LogOptions, first_end: _Pos) -> None:
        self._first_end = first_end  # lines that ended earlier are outside the tail
        since = options.since_time
        self._since = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
        self._timestamps = options.timestamps
        self._only = options.stream.encode() if options.stream else None
        self._pending: dict[bytes, tuple[bytes, list[bytes], _Pos]] = {}

    def feed(self, record: bytes, pos: _Pos, out: list[bytes]) -> None:
        parts = record.split(b" ", 3)
        if len(parts) != 4 or parts[1] not in _STREAMS:
            return  # not a CRI record: skipped, as the kubelet does
        stamp, stream, tag, content = parts
        if self._only is not None and stream != self._only:
            return
        pending = self._pending.pop(stream, None)
        if _is_partial(tag):
            first, pieces, _ = pending or (stamp, [], pos)
            pieces.append(content)
            self._pending[stream] = (first, pieces, pos)
        elif pending is None:
            self._emit(stamp, content + b"\n", pos, out)
        else:
            self._emit(pending[0], b"".join([*pending[1], content, b"\n"]), pos, out)

    def flush(self) -> bytes:
        """Lines the log ended without finishing, in the order their last records came."""
        out: list[bytes] = []
        for first, pieces, last in sorted(self._pending.values(), key=lambda p: p[2]):
            self._emit(first, b"".join(pieces), last, out)
        self._pending.clear()
        return b"".join(out)

    def _emit(self, stamp: bytes, line: bytes, end: _Pos, out: list[bytes]) -> None:
        if end < self._first_end:
            return
        if self._since is not None:
            try:
                if datetime.fromisoformat(stamp.decode()) < self._since:
                    return
            except ValueError:
                return
        if self._timestamps:
            out.append(_fixed_timestamp(stamp) + b" ")
        out.append(line)


class _Segment:
    """One log file held open while it is read: renaming or deleting it changes nothing."""

    def __init__(self, file: io.FileIO | gzip.GzipFile, *, seq: int) -> None:
        self.seq = seq
        self.compressed = isinstance(file, gzip.GzipFile)
        self.offset = 0  # the next byte to read
        self._file = file
        self._carry = b""  # the start of a record whose newline wasn't read yet

    @classmethod
    def open(cls, path: Path, *, seq: int) -> _Segment | None:
        """The file at ``path`` or, compressed meanwhile, ``path.gz``; None if neither."""
        try:
            return cls(open(path, "rb", buffering=0), seq=seq)
        except FileNotFoundError:
            pass
        try:
            return cls(gzip.open(f"{path}.gz", "rb"), seq=seq)
        except FileNotFoundError:
            return None

    def read(self) -> bytes:
        """The next block from ``offset``; blocking for gzip (run it in a thread)."""
        if isinstance(self._file, gzip.GzipFile):
            if self._file.tell() != self.offset:
                self._file.seek(self.offset)
            return self._file.read(_BLOCK)
        return os.pread(self._file.fileno(), _BLOCK, self.offset)

    def feed(self, block: bytes, lines: _Lines) -> bytes:
        """Pass the records ``block`` completes to ``lines``; return what they print."""
        data = self._carry + block if self._carry else block
        pos = self.offset - len(self._carry)
        self.offset += len(block)
        records = data.split(b"\n")
        self._carry = records.pop()
        out: list[bytes] = []
        for record in records:
            lines.feed(record, (self.seq, pos), out)
            pos += len(record) + 1
        return b"".join(out)

    def finish(self, lines: _Lines) -> bytes:
        """The file is done: a last record without a newline counts too."""
        out: list[bytes] = []
        if self._carry:
            lines.feed(self._carry, (self.seq, self.offset - len(self._carry)), out)
            self._carry = b""
        self.close()
        return b"".join(out)

    def size(self) -> int:
        if isinstance(self._file, gzip.GzipFile):
            return len(self._all())
        return os.fstat(self._file.fileno()).st_size

    def records_backwards(self) -> Iterator[tuple[int, bytes]]:
        """(offset, record) from the last to the first; blocking: for a thread."""
        if isinstance(self._file, gzip.GzipFile):
            data = self._all()
            return _backwards(lambda at, n: data[at : at + n], len(data))
        fd = self._file.fileno()
        return _backwards(lambda at, n: os.pread(fd, n, at), os.fstat(fd).st_size)

    def _all(self) -> bytes:
        assert isinstance(self._file, gzip.GzipFile)
        self._file.seek(0)
        return self._file.read()

    def close(self) -> None:
        self._file.close()


def _backwards(read: Callable[[int, int], bytes], size: int) -> Iterator[tuple[int, bytes]]:
    """The newline-separated records of a file, last first, read in blocks from its end."""
    if size == 0:
        return
    buffer_start, buffer = size, b""
    end = size - 1 if read(size - 1, 1) == b"\n" else size  # where the last record ends
    while True:
        newline = buffer.rfind(b"\n", 0, end - buffer_start)
        if newline >= 0:
            yield buffer_start + newline + 1, buffer[newline + 1 : end - buffer_start]
            end = buffer_start + newline
        elif buffer_start == 0:
            yield 0, buffer[:end]
            return
        else:
            start = max(0, buffer_start - _BLOCK)
            buffer = read(start, buffer_start - start) + buffer[: end - buffer_start]
            buffer_start = start


def _tail_start(segments: list[_Segment], count: int, stream: bytes | None) -> tuple[_Pos, _Pos]:
    """Where to read from for the last ``count`` lines, and where the first of them ends.

    Scanning backwards, a line ends at an ``F`` record or at the last ``P`` of a stream that
    never finished its line; it starts after the previous ``F`` of its stream. Reading from
    the earliest start and dropping lines that ended before the first counted one gives
    exactly the tail, even when the streams' partial lines interleave.
    """
    last = segments[-1]
    if count <= 0:
        end = (last.seq, last.size())
        return end, end
    counted, first_end = 0, (0, 0)
    seen: set[bytes] = set()
    unfinished: set[bytes] = set()  # streams whose counted line's start is still ahead
    for segment in reversed(segments):
        for offset, record in segment.records_backwards():
            parts = record.split(b" ", 3)
            if len(parts) != 4 or parts[1] not in _STREAMS or stream not in (None, parts[1]):
                continue
            key, partial = parts[1], _is_partial(parts[2])
            if counted < count:
                if not partial or key not in seen:
                    counted, first_end = counted + 1, (segment.seq, offset)
                unfinished.add(key)
            elif not partial and key in unfinished:
                unfinished.discard(key)
                if not unfinished:
                    return (segment.seq, offset + len(record) + 1), first_end
            seen.add(key)
    return (segments[0].seq, 0), first_end


async def read_log(
    path: Path, options: LogOptions, *, hub: LogHub | None = None
) -> AsyncIterator[bytes]:
    """The log at ``path`` (with its rotated files) as ``kubectl logs`` prints it.

    Raises ``NotFound`` if there is no such log. Following needs the ``hub`` whose writer
    writes ``path``; without one, or once that writer is closed, reading stops at the end.
    """
    remaining = options.limit_bytes
    if remaining is not None and remaining <= 0:
        return
    writer = hub.writer(path) if hub is not None and options.follow else None
    reader = _Reader(path, options, writer)
    try:
        async with contextlib.aclosing(reader.chunks()) as chunks:
            async for chunk in chunks:
                if remaining is not None:
                    if len(chunk) >= remaining:
                        yield chunk[:remaining]
                        return
                    remaining -= len(chunk)
                yield chunk
    finally:
        reader.close()


class _Reader:
    def __init__(self, path: Path, options: LogOptions, writer: LogWriter | None) -> None:
        self._path = path
        self._options = options
        self._writer = writer
        self._segments: list[_Segment] = []

    def _open(self) -> int:
        """Open every file of the log at once (no await: a rotation can't come between);
        return the generation of the current file if there's a writer to follow."""
        for rotated in _rotated_logs(self._path):
            if segment := _Segment.open(rotated, seq=len(self._segments)):
                self._segments.append(segment)
        current = _Segment.open(self._path, seq=len(self._segments))
        if current is not None:
            self._segments.append(current)
        if not self._segments:
            raise NotFound("container log not found")
        if current is None or (self._writer is not None and self._writer.closed):
            self._writer = None
        return self._writer.generation if self._writer is not None else 0

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        generation = self._open()
        start, first_end = (0, 0), (0, 0)
        if self._options.tail_lines is not None and self._options.tail_lines >= 0:
            only = self._options.stream.encode() if self._options.stream else None
            start, first_end = await asyncio.to_thread(
                _tail_start, self._segments, self._options.tail_lines, only
            )
        lines = _Lines(self._options, first_end)
        *earlier, live = [s for s in self._segments if s.seq >= start[0]]
        (earlier or [live])[0].offset = start[1]
        for segment in earlier:
            async for chunk in self._drain(segment, lines):
                yield chunk
            if chunk := segment.finish(lines):
                yield chunk
        async for chunk in self._follow(live, generation, lines):
            yield chunk
        if chunk := lines.flush():
            yield chunk

    async def _follow(
        self, segment: _Segment, generation: int, lines: _Lines
    ) -> AsyncIterator[bytes]:
        """Read the current file, then, while the writer lives, whatever it writes next."""
        writer = self._writer
        while True:
            version = writer.version if writer is not None else 0
            async for chunk in self._drain(segment, lines):
                yield chunk
            # No await since the last read found the end: the checks below see what it saw.
            if writer is None or (writer.closed and writer.generation == generation):
                break
            if writer.generation > generation:
                if chunk := segment.finish(lines):
                    yield chunk
                found = self._next_file(writer, generation + 1)
                if found is None:
                    return
                segment, generation = found
                continue
            await writer.wait_for_change(version)
        if chunk := segment.finish(lines):
            yield chunk

    def _next_file(self, writer: LogWriter, generation: int) -> tuple[_Segment, int] | None:
        """The file of ``generation`` or, if rotation already deleted it, of the next kept one."""
        while generation <= writer.generation:
            path = writer.generation_path(generation)
            if path is not None and (
                segment := _Segment.open(path, seq=self._segments[-1].seq + 1)
            ):
                self._segments.append(segment)
                return segment, generation
            generation += 1
        return None

    async def _drain(self, segment: _Segment, lines: _Lines) -> AsyncIterator[bytes]:
        """Read ``segment`` to its current end."""
        while True:
            if segment.compressed:
                block = await asyncio.to_thread(segment.read)
            else:
                block = segment.read()
            if not block:
                return
            if chunk := segment.feed(block, lines):
                yield chunk
            await asyncio.sleep(0)  # a long file must not hold the loop between blocks

    def close(self) -> None:
        for segment in self._segments:
            segment.close()
