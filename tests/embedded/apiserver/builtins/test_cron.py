"""Cron schedules as robfig/cron's ParseStandard reads them, with its error texts."""

from __future__ import annotations

import pytest

from atoll.embedded.apiserver.builtins.cron import CronError, parse_schedule, schedule_error


@pytest.mark.parametrize(
    "spec",
    [
        "* * * * *",
        "*/5 * * * *",
        "0 0 1 1 *",
        "0 9-17/2 * * 1-5",
        "0 0 ? * SUN",
        "30 2 * JAN,jul *",
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
        "@every 1h30m",
    ],
)
def test_valid(spec: str) -> None:
    assert schedule_error(spec) is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "Empty spec string"),
        ("* * * *", "Expected exactly 5 fields, found 4: * * * *"),
        ("* * * * * *", "Expected exactly 5 fields, found 6: * * * * * *"),
        ("60 * * * *", "End of range (60) above maximum (59): 60"),
        ("* 24 * * *", "End of range (24) above maximum (23): 24"),
        ("* * 0 * *", "Beginning of range (0) below minimum (1): 0"),
        ("* * * 13 *", "End of range (13) above maximum (12): 13"),
        ("* * * * 7", "End of range (7) above maximum (6): 7"),
        ("5-1 * * * *", "Beginning of range (5) beyond end of range (1): 5-1"),
        ("*/0 * * * *", "Step of range should be a positive number: */0"),
        ("1-2-3 * * * *", "Too many hyphens: 1-2-3"),
        ("1/2/3 * * * *", "Too many slashes: 1/2/3"),
        ("x * * * *", 'Failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("@fortnightly", "Unrecognized descriptor: @fortnightly"),
        ("@every soon", 'Failed to parse duration @every soon: time: invalid duration "soon"'),
    ],
)
def test_invalid(spec: str, message: str) -> None:
    assert schedule_error(spec) == message
    with pytest.raises(CronError):
        parse_schedule(spec)


def test_parsed_values() -> None:
    schedule = parse_schedule("*/15 9-17 * * MON-FRI")
    assert sorted(schedule.minutes) == [0, 15, 30, 45]
    assert min(schedule.hours) == 9 and max(schedule.hours) == 17
    assert sorted(schedule.days_of_week) == [1, 2, 3, 4, 5]
    assert schedule.day_of_month_star and not schedule.day_of_week_star
    assert sorted(parse_schedule("5/20 * * * *").minutes) == [5, 25, 45]
    assert parse_schedule("@hourly").minutes == frozenset({0})
    assert parse_schedule("@every 5m").every == "5m"
