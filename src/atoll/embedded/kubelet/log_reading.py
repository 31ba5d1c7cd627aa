"""Container logs read back as ``pods/log`` does, from the CRI files ``logs`` writes.

``read_log`` yields what ``kubectl logs`` prints: every line's content, ``P``
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

    LogOptions(follow, tail_lines, since_time, timestamps, limit_bytes, stream)
    since_cutoff(now=, since_seconds=, since_time=) -> datetime | None
    read_log(path, options, *, hub=None) -> AsyncIterator[bytes]
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import io
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from atoll.errors import NotFound

from .logs import BLOCK, STREAMS, LogHub, LogWriter, Stream, rotated_logs

__all__ = ["LogOptions", "read_log", "since_cutoff"]

_Pos = tuple[int, int]  # (file sequence, byte offset): where a record starts


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
        if len(parts) != 4 or parts[1] not in STREAMS:
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
            return self._file.read(BLOCK)
        return os.pread(self._file.fileno(), BLOCK, self.offset)

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
            start = max(0, buffer_start - BLOCK)
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
            if len(parts) != 4 or parts[1] not in STREAMS or stream not in (None, parts[1]):
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
        for rotated in rotated_logs(self._path):
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
