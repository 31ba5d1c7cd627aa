"""Ages and durations as kube-apiserver prints them in Table cells ("5s", "3m2s", "4h", "2d").

The server computes these strings itself (kubectl prints them verbatim), with the rules of
``k8s.io/apimachinery/pkg/util/duration.HumanDuration``: about two significant figures, a
tolerance of under two seconds for clock skew, and ``<invalid>`` for times further in the future.
The arithmetic is done on whole microseconds so that truncation matches Go's integer division.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_US_PER_SECOND = 1_000_000
_US_PER_MINUTE = 60 * _US_PER_SECOND
_US_PER_HOUR = 60 * _US_PER_MINUTE

# RFC 3339 as Go's time.Parse(time.RFC3339, …) accepts it: fractional seconds are optional and
# may have any number of digits; the zone is Z or ±hh:mm.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})"
)


def human_duration(delta: timedelta) -> str:
    """Render ``delta`` like Go's ``duration.HumanDuration``."""
    total_us = delta // timedelta(microseconds=1)
    # Go's int(d.Seconds()) truncates towards zero, also for negative durations.
    seconds = -(-total_us // _US_PER_SECOND) if total_us < 0 else total_us // _US_PER_SECOND
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = total_us // _US_PER_MINUTE
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    return _hours_and_more(total_us // _US_PER_HOUR, minutes % 60)


def _hours_and_more(hours: int, minutes: int) -> str:
    if hours < 8:
        return f"{hours}h" if minutes == 0 else f"{hours}h{minutes}m"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d" if rest == 0 else f"{days}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years, rest_days = divmod(days, 365)
    if hours < 24 * 365 * 8:
        return f"{years}y" if rest_days == 0 else f"{years}y{rest_days}d"
    return f"{years}y"


def parse_timestamp(value: object) -> datetime | None:
    """Parse an RFC 3339 timestamp (Time or MicroTime) into an aware datetime, else ``None``.

    Digits beyond microseconds are dropped: every age is printed in whole seconds anyway.
    """
    if not isinstance(value, str):
        return None
    match = _RFC3339.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        stamp = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, UTC
        )
    except ValueError:
        return None
    if zone in ("Z", "z"):
        return stamp
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        return stamp - offset if zone[0] == "+" else stamp + offset
    except OverflowError:
        return None


def _aware(now: datetime) -> datetime:
    # A naive "now" is taken to be UTC, which is what the server's clock speaks.
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def age(timestamp: str | None, now: datetime) -> str:
    """The age of ``timestamp`` at ``now``; ``<unknown>`` when it is unset (Go's zero time).

    An unparsable timestamp is treated as unset: a real server could never have stored one.
    """
    stamp = parse_timestamp(timestamp)
    if stamp is None or stamp == _ZERO_TIME:
        return "<unknown>"
    return human_duration(_aware(now) - stamp)


def between(start: str | None, end: str | None) -> str:
    """``HumanDuration(end - start)``; ``<unknown>`` if either end is missing."""
    first, last = parse_timestamp(start), parse_timestamp(end)
    if first is None or last is None:
        return "<unknown>"
    return human_duration(last - first)


def created_at(timestamp: str | None) -> str:
    """The default convertor's "Created At" cell: RFC 3339 in UTC, whole seconds.

    A missing creationTimestamp prints as Go's zero time, as the real server does.
    """
    s = parse_timestamp(timestamp) or _ZERO_TIME
    # Formatted by hand: strftime does not zero-pad years before 1000 on every platform.
    return f"{s.year:04d}-{s.month:02d}-{s.day:02d}T{s.hour:02d}:{s.minute:02d}:{s.second:02d}Z"


_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
