"""Container logs: CRI records byte for byte, rotation and gzip, and every ``pods/log`` read."""

from __future__ import annotations

import asyncio
import gzip
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atoll.embedded.kubelet import logs
from atoll.embedded.kubelet.log_reading import LogOptions, read_log, since_cutoff
from atoll.embedded.kubelet.logs import LogHub, LogWriter, log_path, previous_log_path, pump
from atoll.errors import BadRequest, NotFound

T0 = datetime(2024, 5, 1, 12, 0, 0, 123400, tzinfo=UTC)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)


async def read(path: Path, hub: LogHub | None = None, **options: Any) -> bytes:
    return b"".join([c async for c in read_log(path, LogOptions(**options), hub=hub)])


def numbered(count: int, start: int = 0) -> list[bytes]:
    return [b"line %04d\n" % i for i in range(start, start + count)]


# -- writing ----------------------------------------------------------------------------


def test_records_are_cri_lines_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    writer = LogWriter(path, clock=Clock())
    writer.write("stdout", b"hello\nwor")
    writer.write("stderr", b"oops\n\n")
    writer.write("stdout", b"ld\r\n")
    writer.close()
    assert path.read_bytes() == (
        b"2024-05-01T12:00:00.1234Z stdout F hello\n"
        b"2024-05-01T12:00:00.1234Z stderr F oops\n"
        b"2024-05-01T12:00:00.1234Z stderr F \n"
        b"2024-05-01T12:00:00.1234Z stdout F world\n"
    )


def test_a_line_left_open_at_close_is_a_partial_record(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    writer = LogWriter(path, clock=Clock(datetime(2024, 5, 1, tzinfo=UTC)))
    writer.write("stderr", b"no newline\r")
    writer.close()
    assert path.read_bytes() == b"2024-05-01T00:00:00Z stderr P no newline\r\n"
    with pytest.raises(RuntimeError):
        writer.write("stdout", b"late\n")


async def test_lines_over_16_kib_split_into_partials_and_join_on_read(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    writer = LogWriter(path, clock=Clock())
    exact, over, long = b"a" * 16384, b"b" * 16385, bytes(range(32, 127)) * 500
    for data in (exact + b"\n", over + b"\n", long + b"\n"):
        for at in range(0, len(data), 1000):  # as a pipe delivers it: in pieces
            writer.write("stdout", data[at : at + 1000])
    writer.close()
    tags = [line.split(b" ", 3)[2] for line in path.read_bytes().splitlines()]
    assert tags == [b"F", b"P", b"F", b"P", b"P", b"F"]
    assert [len(line.split(b" ", 3)[3]) for line in path.read_bytes().splitlines()] == [
        16384,
        16384,
        1,
        16384,
        16384,
        len(long) - 2 * 16384,
    ]
    assert await read(path) == exact + b"\n" + over + b"\n" + long + b"\n"


async def test_streams_interleave_in_the_order_lines_end(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    writer = LogWriter(path, clock=Clock())
    writer.write("stdout", b"out 1\n")
    writer.write("stderr", b"err 1\n")
    writer.write("stdout", b"x" * 20000)  # a P record now, the rest of the line later
    writer.write("stderr", b"err 2\n")
    writer.write("stdout", b"y\nout 3\n")
    writer.close()
    assert await read(path) == b"out 1\nerr 1\nerr 2\n" + b"x" * 20000 + b"y\nout 3\n"
    assert await read(path, stream="stderr") == b"err 1\nerr 2\n"


def test_log_paths_are_the_kubelets(tmp_path: Path) -> None:
    assert log_path(tmp_path, "ns", "web", "u-1", "app", 2) == (
        tmp_path / "ns_web_u-1" / "app" / "2.log"
    )
    assert previous_log_path(tmp_path, "ns", "web", "u-1", "app", 2).name == "1.log"
    with pytest.raises(BadRequest, match='previous terminated container "app"'):
        previous_log_path(tmp_path, "ns", "web", "u-1", "app", 0)


# -- rotation ---------------------------------------------------------------------------


async def test_rotation_keeps_max_files_and_gzips_all_but_the_newest(tmp_path: Path) -> None:
    clock = Clock()
    hub = LogHub(max_bytes=200, max_files=4, clock=clock)
    path = tmp_path / "0.log"
    writer = hub.open(path)
    for line in numbered(60):
        writer.write("stdout", line)
        clock.tick()
    await hub.compress_pending()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[0] == "0.log"
    assert [n.endswith(".gz") for n in names[1:]] == [True, True, False]
    assert names[1] < names[2] < names[3]
    assert all(p.stat().st_size <= 200 for p in tmp_path.iterdir())
    with gzip.open(tmp_path / names[1]) as rotated:
        assert rotated.read().split(b"\n")[0].endswith(b" stdout F line 0044")

    everything = await read(path)
    assert everything == b"".join(numbered(16, start=44))  # 4 lines a file, 4 files kept
    assert await read(path, tail_lines=3) == b"".join(numbered(3, start=57))
    assert await read(path, tail_lines=10) == b"".join(numbered(10, start=50))  # into .gz
    assert await read(path, tail_lines=14) == b"".join(numbered(14, start=46))
    assert await read(path, tail_lines=500) == everything
    assert await read(path, tail_lines=0) == b""
    writer.close()


def test_rotated_names_never_repeat_within_a_second(tmp_path: Path) -> None:
    writer = LogWriter(tmp_path / "0.log", max_bytes=60, max_files=10, clock=Clock())
    for line in numbered(6):
        writer.write("stdout", line)
    writer.close()
    stamps = sorted(p.name.split(".")[-1] for p in tmp_path.glob("0.log.*"))
    assert stamps == [f"20240501-12000{n}" for n in range(5)]  # one record a file


async def test_tail_reads_big_files_backwards(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    writer = LogWriter(path, max_bytes=None, clock=Clock())
    lines = numbered(5000)
    writer.write("stdout", b"".join(lines))
    writer.close()
    assert path.stat().st_size > 3 * 64 * 1024
    assert await read(path, tail_lines=10) == b"".join(lines[-10:])
    assert await read(path, tail_lines=4999) == b"".join(lines[1:])


# -- reading options --------------------------------------------------------------------


async def test_since_time_timestamps_and_limit_bytes(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    clock = Clock()
    writer = LogWriter(path, clock=clock)
    for line in numbered(5):
        writer.write("stdout", line)
        clock.tick(10)
    writer.close()

    assert await read(path, since_time=T0 + timedelta(seconds=25)) == b"line 0003\nline 0004\n"
    naive = (T0 + timedelta(seconds=35)).replace(tzinfo=None)
    assert await read(path, since_time=naive) == b"line 0004\n"
    assert await read(path, tail_lines=1, timestamps=True) == (
        b"2024-05-01T12:00:40.123400000Z line 0004\n"
    )
    assert await read(path, limit_bytes=13) == b"line 0000\nlin"
    assert await read(path, limit_bytes=13, timestamps=True) == b"2024-05-01T12"


def test_since_cutoff_takes_the_later_of_seconds_and_time() -> None:
    assert since_cutoff(now=T0, since_seconds=None, since_time=None) is None
    assert since_cutoff(now=T0, since_seconds=60, since_time=None) == T0 - timedelta(minutes=1)
    later = T0 - timedelta(seconds=5)
    assert since_cutoff(now=T0, since_seconds=60, since_time=later) == later


async def test_a_log_left_by_an_earlier_process_is_read_to_its_end(tmp_path: Path) -> None:
    path = tmp_path / "3.log"
    path.write_bytes(
        b"2016-10-06T00:17:09.669794202Z stdout P one \n"
        b"2016-10-06T00:17:09.669794203+02:00 stdout F line\n"
        b"not a record\n"
        b"2016-10-06T00:17:10Z stderr F two\n"
        b"2016-10-06T00:17:11Z stdout F cut off"  # the writer died mid-record
    )
    hub = LogHub()
    out = await read(path, hub=hub, follow=True, timestamps=True)
    assert out == (
        b"2016-10-06T00:17:09.669794202Z one line\n"
        b"2016-10-06T00:17:10.000000000Z two\n"
        b"2016-10-06T00:17:11.000000000Z cut off\n"
    )
    with pytest.raises(NotFound):
        await read(tmp_path / "4.log", hub=hub, follow=True)


async def test_previous_reads_the_instance_before(tmp_path: Path) -> None:
    hub = LogHub()
    first = hub.open(log_path(tmp_path, "ns", "web", "u", "app", 0))
    first.write("stdout", b"crashed\n")
    first.close()
    second = hub.open(log_path(tmp_path, "ns", "web", "u", "app", 1))
    second.write("stdout", b"running\n")
    previous = previous_log_path(tmp_path, "ns", "web", "u", "app", 1)
    assert await read(previous, hub=hub, follow=True) == b"crashed\n"
    second.close()


# -- following --------------------------------------------------------------------------


class Follower:
    """A follow reader running as a task, its output in a queue."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.task = asyncio.create_task(self._run(chunks))

    async def _run(self, chunks: AsyncIterator[bytes]) -> None:
        async for chunk in chunks:
            self.queue.put_nowait(chunk)

    async def until(self, wanted: bytes, got: bytes = b"") -> bytes:
        """Collect output until it ends with ``wanted``; fail after a deadline."""
        async with asyncio.timeout(10):
            while not got.endswith(wanted):
                got += await self.queue.get()
        return got


async def test_follow_gets_a_new_line_and_ends_when_the_writer_closes(tmp_path: Path) -> None:
    hub = LogHub()
    path = tmp_path / "0.log"
    writer = hub.open(path)
    writer.write("stdout", b"before\n")
    follower = Follower(hub.read(path, LogOptions(follow=True)))
    assert await follower.until(b"before\n") == b"before\n"

    writer.write("stderr", b"after\n")
    assert await follower.until(b"after\n") == b"after\n"
    writer.write("stdout", b"unfinished")
    writer.close()
    assert await follower.until(b"unfinished") == b"unfinished"  # flushed at close
    async with asyncio.timeout(10):
        await follower.task
    assert follower.queue.empty()
    assert hub.writer(path) is None
    assert await read(path, hub=hub, follow=True) == b"before\nafter\nunfinished"


async def test_follow_survives_rotation_without_loss_or_repeats(tmp_path: Path) -> None:
    hub = LogHub(max_bytes=150, max_files=40, clock=Clock())
    path = tmp_path / "0.log"
    writer = hub.open(path)
    lines = numbered(120)
    writer.write("stdout", lines[0])
    follower = Follower(hub.read(path, LogOptions(follow=True, tail_lines=1)))
    got = await follower.until(lines[0])
    for line in lines[1:40]:  # one at a time: the follower moves file by file
        writer.write("stdout", line)
        got = await follower.until(line, got)
    writer.write("stdout", b"".join(lines[40:80]))  # many rotations while it waits
    await hub.compress_pending()
    got = await follower.until(lines[79], got)
    writer.write("stdout", b"".join(lines[80:]))
    writer.close()
    async with asyncio.timeout(10):
        await follower.task
    while not follower.queue.empty():
        got += follower.queue.get_nowait()
    assert got == b"".join(lines)
    assert len(list(tmp_path.glob("0.log.*.gz"))) > 10


async def test_a_lagging_follower_reads_files_rotated_and_gzipped_meanwhile(
    tmp_path: Path,
) -> None:
    hub = LogHub(max_bytes=100, max_files=20, clock=Clock())
    path = tmp_path / "0.log"
    writer = hub.open(path)
    lines = numbered(30)
    writer.write("stdout", lines[0])
    chunks = hub.read(path, LogOptions(follow=True))
    assert await anext(chunks) == lines[0]  # it holds the first file open, then lags
    writer.write("stdout", b"".join(lines[1:]))
    await hub.compress_pending()
    writer.close()
    rest = b"".join([c async for c in chunks])
    assert lines[0] + rest == b"".join(lines)


async def test_following_a_closed_writer_or_without_a_hub_stops_at_the_end(tmp_path: Path) -> None:
    hub = LogHub()
    path = tmp_path / "0.log"
    writer = hub.open(path)
    writer.write("stdout", b"a\n")
    assert await read(path, follow=True) == b"a\n"  # no hub: nothing to follow
    with pytest.raises(RuntimeError):
        hub.open(path)
    writer.close()
    assert await read(path, hub=hub, follow=True) == b"a\n"


async def test_pump_copies_a_stream_until_eof(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    writer = LogWriter(path, clock=Clock())
    reader = asyncio.StreamReader()
    reader.feed_data(b"from a pipe\nand more")
    reader.feed_eof()
    await pump(reader, writer, "stdout")
    writer.close()
    assert await read(path) == b"from a pipe\nand more"


# -- properties -------------------------------------------------------------------------

chunk_writes = st.lists(
    st.tuples(
        st.sampled_from(["stdout", "stderr"]),
        st.binary(max_size=40).map(lambda b: b.replace(b"\x00", b"\n").replace(b"\x01", b"\r")),
    ),
    max_size=40,
)


async def _written(writes: list[tuple[str, bytes]], *, max_bytes: int | None, root: Path) -> Path:
    """Write the chunks through a hub, rotating and gzipping; return the log's path."""
    clock = Clock()
    hub = LogHub(max_bytes=max_bytes, max_files=1000, clock=clock)
    writer = hub.open(root / "0.log")
    for stream, data in writes:
        writer.write(stream, data)
        clock.tick(0.5)
    writer.close()
    await hub.compress_pending()
    return writer.path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunk_writes, st.sampled_from([None, 120]), st.sampled_from([4, 16384]))
def test_what_is_written_per_stream_reads_back(
    writes: list[tuple[str, bytes]], max_bytes: int | None, max_line: int
) -> None:
    with tempfile.TemporaryDirectory() as root, mock.patch.object(logs, "MAX_LINE", max_line):
        path = asyncio.run(_written(writes, max_bytes=max_bytes, root=Path(root)))
        for stream in ("stdout", "stderr"):
            sent = b"".join(data for s, data in writes if s == stream)
            # containerd drops the "\r" of a "\r\n" line end; so does the writer
            assert asyncio.run(read(path, stream=stream)) == sent.replace(b"\r\n", b"\n")


def _reference_tail(path: Path, count: int) -> bytes:
    """The last ``count`` lines, the slow obvious way: by where each line's last record is."""
    files = [*sorted(path.parent.glob("0.log.*")), path]
    opener: Callable[[Path], bytes] = lambda p: (  # noqa: E731
        gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
    )
    records = [r.split(b" ", 3) for f in files for r in opener(f).split(b"\n")[:-1]]
    ended: list[tuple[int, bytes]] = []
    pending: dict[bytes, tuple[int, list[bytes]]] = {}
    for index, (_, stream, tag, content) in enumerate(records):
        pieces = pending.pop(stream, (index, []))[1] + [content]
        if tag == b"F":
            ended.append((index, b"".join(pieces) + b"\n"))
        else:
            pending[stream] = (index, pieces)
    unfinished = sorted((index, b"".join(pieces)) for index, pieces in pending.values())
    kept = {index for index, _ in sorted(ended + unfinished)[-count:]} if count else set()
    # Output order: lines as they ended, then the unfinished ones at the end of the log.
    return b"".join(line for index, line in ended + unfinished if index in kept)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunk_writes, st.sampled_from([None, 120]), st.integers(min_value=0, max_value=12))
def test_tail_is_the_last_lines(
    writes: list[tuple[str, bytes]], max_bytes: int | None, count: int
) -> None:
    with tempfile.TemporaryDirectory() as root, mock.patch.object(logs, "MAX_LINE", 4):
        path = asyncio.run(_written(writes, max_bytes=max_bytes, root=Path(root)))
        assert asyncio.run(read(path, tail_lines=count)) == _reference_tail(path, count)
