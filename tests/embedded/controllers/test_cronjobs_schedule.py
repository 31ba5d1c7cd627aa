"""Cron schedule arithmetic: next and most recent runs, names, steps, day rules, time zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from atoll.embedded.controllers.cronjobs_schedule import CronError, parse_cron


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("spec", "after", "expected"),
    [
        ("* * * * *", _utc(2021, 1, 2, 3, 4, 5), _utc(2021, 1, 2, 3, 5)),
        ("* * * * *", _utc(2021, 1, 2, 3, 4), _utc(2021, 1, 2, 3, 5)),  # strictly after
        ("*/15 * * * *", _utc(2021, 1, 2, 3, 46), _utc(2021, 1, 2, 4, 0)),
        ("5-10/2 * * * *", _utc(2021, 1, 2, 3, 7), _utc(2021, 1, 2, 3, 9)),
        ("0 0 * * *", _utc(2021, 12, 31, 23, 59), _utc(2022, 1, 1)),
        ("@hourly", _utc(2021, 1, 2, 3, 4), _utc(2021, 1, 2, 4, 0)),
        ("@daily", _utc(2021, 1, 2, 3, 4), _utc(2021, 1, 3)),
        ("@weekly", _utc(2021, 1, 2, 3, 4), _utc(2021, 1, 3)),  # 2021-01-03 is a Sunday
        ("@monthly", _utc(2021, 1, 31), _utc(2021, 2, 1)),
        ("@yearly", _utc(2021, 1, 2), _utc(2022, 1, 1)),
        ("0 12 * jan-mar mon", _utc(2021, 3, 30), _utc(2022, 1, 3, 12)),
        ("30 9 * * MON-FRI", _utc(2021, 1, 2, 10), _utc(2021, 1, 4, 9, 30)),  # Sat → Mon
        ("0 0 29 2 *", _utc(2021, 3, 1), _utc(2024, 2, 29)),
        # both day fields restricted: either matches (the 13th, or any Friday)
        ("0 0 13 * 5", _utc(2021, 1, 2), _utc(2021, 1, 8)),
        # one day field "*": both must match
        ("0 0 13 * *", _utc(2021, 1, 2), _utc(2021, 1, 13)),
        ("@every 90s", _utc(2021, 1, 2, 3, 4, 5, 500), _utc(2021, 1, 2, 3, 5, 35)),
        ("@every 1h30m", _utc(2021, 1, 2, 3, 4, 5), _utc(2021, 1, 2, 4, 34, 5)),
    ],
)
def test_next_run(spec: str, after: datetime, expected: datetime) -> None:
    assert parse_cron(spec, "UTC").next(after) == expected


def test_a_date_that_never_comes_has_no_next_run() -> None:
    assert parse_cron("59 23 31 2 *", "UTC").next(_utc(2021, 1, 1)) is None
    assert parse_cron("59 23 31 2 *", "UTC").most_recent(_utc(2021, 1, 1), _utc(2022, 1, 1)) == (
        None,
        0,
    )


def test_most_recent_counts_missed_runs() -> None:
    schedule = parse_cron("*/10 * * * *", "UTC")
    assert schedule.most_recent(_utc(2021, 1, 2, 3, 0), _utc(2021, 1, 2, 3, 5)) == (None, 0)
    assert schedule.most_recent(_utc(2021, 1, 2, 3, 0), _utc(2021, 1, 2, 3, 10)) == (
        _utc(2021, 1, 2, 3, 10),
        1,
    )
    assert schedule.most_recent(_utc(2021, 1, 2, 3, 0), _utc(2021, 1, 2, 3, 45)) == (
        _utc(2021, 1, 2, 3, 40),
        4,
    )


def test_more_than_a_hundred_missed_runs_are_estimated() -> None:
    schedule = parse_cron("* * * * *", "UTC")
    start = _utc(2021, 1, 2)
    recent, missed = schedule.most_recent(start, start + timedelta(days=2, seconds=30))
    assert recent == start + timedelta(days=2)
    assert missed == 2 * 24 * 60


def test_time_zone_field_and_prefix() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    expected = datetime(2021, 1, 3, 14, 30, tzinfo=tokyo)
    after = _utc(2021, 1, 2, 12)  # 21:00 in Tokyo
    assert parse_cron("30 14 * * *", "Asia/Tokyo").next(after) == expected
    assert parse_cron("CRON_TZ=Asia/Tokyo 30 14 * * *").next(after) == expected
    assert parse_cron("TZ=Asia/Tokyo 30 14 * * *").next(after) == expected


def test_daylight_saving_gap_is_skipped_and_repeat_runs_once() -> None:
    berlin = "Europe/Berlin"
    # 2021-03-28 02:30 does not exist in Berlin: the next 02:30 is the day after.
    spring = parse_cron("30 2 * * *", berlin).next(_utc(2021, 3, 27, 12))
    assert spring == datetime(2021, 3, 29, 2, 30, tzinfo=ZoneInfo(berlin))
    # 2021-10-31 02:30 happens twice: one run, then the next day's.
    autumn = parse_cron("30 2 * * *", berlin)
    first = autumn.next(_utc(2021, 10, 30, 12))
    assert first is not None
    assert first.astimezone(ZoneInfo(berlin)).replace(tzinfo=None) == datetime(2021, 10, 31, 2, 30)
    following = autumn.next(first)
    assert following is not None and following - first > timedelta(hours=23)


def test_previous_run() -> None:
    schedule = parse_cron("15 */6 * * *", "UTC")
    assert schedule.previous(_utc(2021, 1, 2, 13)) == _utc(2021, 1, 2, 12, 15)
    assert schedule.previous(_utc(2021, 1, 2, 12, 15)) == _utc(2021, 1, 2, 12, 15)


@pytest.mark.parametrize(
    ("spec", "zone", "message"),
    [
        ("* * *", None, "Expected exactly 5 fields, found 3: * * *"),
        ("61 * * * *", None, "End of range (61) above maximum (59): 61"),
        ("* * * * *", "Mars/Olympus", "unknown time zone Mars/Olympus"),
        ("CRON_TZ=Nowhere * * * * *", None, "provided bad location Nowhere:"),
    ],
)
def test_bad_schedules(spec: str, zone: str | None, message: str) -> None:
    with pytest.raises(CronError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_cron(spec, zone)
