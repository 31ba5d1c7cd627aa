"""HumanDuration and ages, checked against the thresholds of apimachinery's duration package."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atoll.embedded.apiserver.tables import age, human_duration
from atoll.embedded.apiserver.tables.ages import between, created_at, parse_timestamp

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
Y = 365 * D


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(0), "0s"),
        (S, "1s"),
        (119 * S + timedelta(milliseconds=999), "119s"),
        (120 * S, "2m"),
        (3 * M + 2 * S, "3m2s"),
        (9 * M + 59 * S, "9m59s"),
        (10 * M + 30 * S, "10m"),
        (179 * M + 59 * S, "179m"),
        (3 * H, "3h"),
        (4 * H + 5 * M, "4h5m"),
        (7 * H + 59 * M + 59 * S, "7h59m"),
        (8 * H + 30 * M, "8h"),
        (47 * H + 59 * M, "47h"),
        (48 * H, "2d"),
        (2 * D + 5 * H, "2d5h"),
        (7 * D + 23 * H, "7d23h"),
        (8 * D + 5 * H, "8d"),
        (729 * D, "729d"),
        (2 * Y, "2y"),
        (2 * Y + 40 * D, "2y40d"),
        (7 * Y + 364 * D, "7y364d"),
        (8 * Y + 100 * D, "8y"),
        (30 * Y, "30y"),
        # Skew tolerance: up to (but excluding) two seconds in the future reads as now.
        (-timedelta(milliseconds=500), "0s"),
        (-timedelta(seconds=1, milliseconds=999), "0s"),
        (-2 * S, "<invalid>"),
        (-D, "<invalid>"),
    ],
)
def test_human_duration(delta: timedelta, expected: str) -> None:
    assert human_duration(delta) == expected


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=365 * 100)))
def test_human_duration_is_short_for_any_past_time(delta: timedelta) -> None:
    rendered = human_duration(delta)
    assert 2 <= len(rendered) <= 7
    assert rendered[-1] in "smhdy"


NOW = datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2021-01-02T03:04:00Z", "5s"),
        ("2021-01-02T02:59:05Z", "5m"),
        ("2021-01-02T03:04:04.999999Z", "0s"),
        ("2021-01-02T03:04:00.123456789Z", "4s"),  # nanosecond MicroTime-style fractions
        ("2021-01-02T05:04:05+02:00", "0s"),  # zone offsets are honoured
        ("2021-01-01T22:04:05-05:00", "0s"),
        ("2021-01-02T03:05:05Z", "<invalid>"),
        (None, "<unknown>"),
        ("", "<unknown>"),
        ("yesterday", "<unknown>"),
        ("2021-13-02T03:04:05Z", "<unknown>"),
        ("0001-01-01T00:00:00Z", "<unknown>"),  # Go's zero time is "unset"
    ],
)
def test_age(timestamp: str | None, expected: str) -> None:
    assert age(timestamp, NOW) == expected


def test_age_takes_a_naive_now_as_utc() -> None:
    assert age("2021-01-02T03:00:05Z", NOW.replace(tzinfo=None)) == "4m"


def test_between() -> None:
    assert between("2021-01-02T03:00:00Z", "2021-01-02T03:00:42Z") == "42s"
    assert between("2021-01-02T03:00:00Z", None) == "<unknown>"


def test_created_at_is_whole_seconds_in_utc() -> None:
    assert created_at("2021-01-02T05:04:05.5+02:00") == "2021-01-02T03:04:05Z"
    assert created_at(None) == "0001-01-01T00:00:00Z"


def test_parse_timestamp_rejects_other_shapes() -> None:
    assert parse_timestamp("2021-01-02 03:04:05Z") is None
    assert parse_timestamp("2021-01-02T03:04:05") is None
    assert parse_timestamp(12) is None
    assert parse_timestamp("0001-01-01T00:00:00+01:00") is None  # before year 1 in UTC
