"""The audit trail's files: written in batches, rotated, bounded, drained, never blocking."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from tests.components.auditing.audit_support import T0, event

from atoll.components.auditing import AuditTrail
from atoll.components.auditing.trail import CURRENT, trail_files
from atoll.server.auditing import AuditEvent


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def events_in(directory: Path) -> list[AuditEvent]:
    """Every event in the trail, oldest first."""
    found = []
    for path, _ in reversed(trail_files(directory)):
        found += [AuditEvent.from_json(orjson.loads(line)) for line in lines_of(path)]
    return found


def test_events_are_appended_as_json_lines(trail: AuditTrail) -> None:
    written = [event(i, verb=verb) for i, verb in enumerate(["create", "delete", "patch"])]
    for one in written:
        trail.record(one)
    assert trail.flush()
    assert events_in(trail.directory) == written
    assert lines_of(trail.directory / CURRENT)[0].startswith(b'{"time":"2024-05-01T12:00:00Z"')
    assert (trail.dropped, trail.lost) == (0, 0)


def test_rotation_keeps_a_bounded_number_of_files_each_within_the_limit(tmp_path: Path) -> None:
    with AuditTrail(tmp_path, max_bytes=2_000, max_files=3) as trail:
        for i in range(100):
            trail.record(event(i))
        assert trail.flush()
        files = trail_files(tmp_path)
        assert files[0][0].name == CURRENT and len(files) == 3
        assert all(path.stat().st_size <= 2_000 for path, _ in files)
        kept = events_in(tmp_path)
        assert kept == [event(i) for i in range(100 - len(kept), 100)]  # the newest, in order
        for path, stamp in files[1:]:
            assert stamp == max(e.time for e in events_in_file(path))
    with AuditTrail(tmp_path, max_files=2):  # a lower limit applies at once
        assert [path for path, _ in trail_files(tmp_path)] == [path for path, _ in files[:2]]


def events_in_file(path: Path) -> list[AuditEvent]:
    return [AuditEvent.from_json(orjson.loads(line)) for line in lines_of(path)]


def test_rotated_names_keep_their_order_when_events_do_not(tmp_path: Path) -> None:
    # One event a file, each earlier than the one before (a clock set back): the stamps
    # still increase, by a microsecond where they must.
    with AuditTrail(tmp_path, max_bytes=1, max_files=10) as trail:
        for i in range(5):
            trail.record(event(10 - i, name=f"cm-{i}"))
        assert trail.flush()
    stamps = [stamp for _, stamp in trail_files(tmp_path)[1:]]
    assert stamps == [T0 + timedelta(seconds=10, microseconds=n) for n in (3, 2, 1, 0)]
    assert [e.name for e in events_in(tmp_path)] == [f"cm-{i}" for i in range(5)]


def test_a_file_an_earlier_run_began_is_stamped_no_earlier_than_now(tmp_path: Path) -> None:
    (tmp_path / CURRENT).write_bytes(orjson.dumps(event(0).to_json()) + b"\n")
    later = T0 + timedelta(days=1)
    with AuditTrail(tmp_path, max_bytes=1, clock=lambda: later) as trail:
        trail.record(event(1))
        trail.record(event(2))
        assert trail.flush()
    stamps = [stamp for _, stamp in trail_files(tmp_path)[1:]]
    assert stamps == [later + timedelta(microseconds=1), later]


def test_events_are_written_as_to_json_writes_them(trail: AuditTrail) -> None:
    offset = timezone(timedelta(hours=2))
    written = [
        event(0),
        event(0, time=T0.replace(microsecond=5)),
        event(0, time=T0.astimezone(offset).replace(microsecond=123456)),
        event(0, time=T0.replace(tzinfo=None)),
        event(0, user='al"ice\u00e9\n', name="ünïcode", reason="a\\b"),
    ]
    for one in written:
        trail.record(one)
    assert trail.flush()
    lines = lines_of(trail.directory / CURRENT)
    assert lines == [orjson.dumps(one.to_json()) for one in written]


def test_a_restart_appends_after_a_torn_last_line(tmp_path: Path) -> None:
    with AuditTrail(tmp_path) as trail:
        trail.record(event(0))
        trail.record(event(1))
    with open(tmp_path / CURRENT, "ab") as file:
        file.write(b'{"time":"2024-05-01T12:00:0')  # the writer was killed mid-line
    with AuditTrail(tmp_path) as trail:
        trail.record(event(2))
        assert trail.flush()
    lines = lines_of(tmp_path / CURRENT)
    assert len(lines) == 4 and lines[2] == b'{"time":"2024-05-01T12:00:0'
    assert AuditEvent.from_json(orjson.loads(lines[3])) == event(2)


def test_close_drains_the_queue_and_later_events_are_dropped(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path)
    for i in range(500):
        trail.record(event(i))
    assert trail.close()
    assert len(lines_of(tmp_path / CURRENT)) == 500
    trail.record(event(500))
    assert trail.dropped == 1 and trail.close() and trail.flush()


def test_the_sink_never_blocks_when_the_queue_is_full(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entered, release = threading.Event(), threading.Event()

    def held_clock() -> datetime:
        entered.set()
        release.wait(timeout=30)
        return T0

    # The writer's clock is read when it rotates a file an earlier run began.
    (tmp_path / CURRENT).write_bytes(orjson.dumps(event(0).to_json()) + b"\n")
    trail = AuditTrail(tmp_path, max_bytes=1, queue_size=4, clock=held_clock)
    try:
        trail.record(event(1))  # the writer rotates before writing it, and waits
        assert entered.wait(timeout=10)
        began = time.perf_counter()
        with caplog.at_level(logging.WARNING):
            for i in range(10_000):
                trail.record(event(2 + i))
        assert time.perf_counter() - began < 1.0
        assert trail.dropped == 10_000 - 4
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "alice" not in warnings[0].getMessage()
    finally:
        release.set()
        assert trail.close()
    assert len(events_in(tmp_path)) == 2 + 4


def test_a_failing_disk_loses_events_but_not_the_writer(tmp_path: Path) -> None:
    directory = tmp_path / "audit"
    with AuditTrail(directory, max_bytes=1) as trail:  # every event after the first rotates
        trail.record(event(0))
        assert trail.flush()
        (directory / CURRENT).rename(tmp_path / "moved.jsonl")
        directory.rmdir()
        trail.record(event(1))  # the rotation cannot rename what is gone
        assert trail.flush() and trail.lost == 1
        directory.mkdir()
        trail.record(event(2))
        assert trail.flush() and trail.lost == 1
        assert events_in(directory) == [event(2)]


def test_a_flushed_event_survives_kill_9(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from datetime import UTC, datetime
        from pathlib import Path
        from atoll.components.auditing import AuditTrail
        from atoll.server.auditing import AuditEvent

        trail = AuditTrail(Path(sys.argv[1]))
        for i in range(200):
            trail.record(AuditEvent(datetime.now(UTC), "alice", "::1", "delete", f"/x/{i}", 200))
        assert trail.flush()
        print("flushed", flush=True)
        sys.stdin.read()  # until killed
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == "flushed\n"
    finally:
        process.kill()
        process.wait(timeout=10)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
    assert [e.path for e in events_in(tmp_path)] == [f"/x/{i}" for i in range(200)]


def test_limits_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        AuditTrail(tmp_path, max_files=0)
