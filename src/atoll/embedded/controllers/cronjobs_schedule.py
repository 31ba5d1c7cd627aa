"""When a CronJob runs: the next and the most recent times of a cron schedule, in a time zone.

The CronJob controller asks two questions of ``spec.schedule``: when is the next run after
an instant (to wait until then), and which run was the latest one due between the last
scheduled time and now (to start it, or report that it was missed). Schedules parse with
``builtins.cron`` (robfig/cron's ParseStandard, as CronJob validation does); this module adds
the arithmetic, as robfig/cron's ``Next`` does it:

- times are whole minutes of the wall clock of the schedule's zone: ``spec.timeZone``, a
  ``CRON_TZ=``/``TZ=`` prefix of the schedule, or else the host's zone, as
  kube-controller-manager uses its own;
- a day matches when both day-of-month and day-of-week match if either field is ``*``,
  and when either matches otherwise (Vixie cron's rule);
- wall times that a daylight-saving change skips are skipped; a repeated hour runs once;
- nothing within five years (``59 23 31 2 *``) means never;
- ``@every <duration>`` runs at fixed intervals of whole seconds (at least one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from atoll.embedded.apiserver.builtins.cron import CronError, Schedule, parse_schedule

__all__ = ["CronError", "CronSchedule", "parse_cron"]

_YEARS = 5  # robfig/cron gives up looking this far ahead
_MINUTE = timedelta(minutes=1)
_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)")


def _go_duration(text: str) -> float:
    """Seconds in a Go duration such as ``1h30m`` or ``90s``."""
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    total, position = 0.0, 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(body) or not body:
        raise CronError(f'Failed to parse duration @every {text}: time: invalid duration "{text}"')
    return sign * total


def _zone(name: str) -> tzinfo:
    if name in ("UTC", ""):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CronError(f"unknown time zone {name}") from exc


def _day_matches(schedule: Schedule, day: date) -> bool:
    in_month = day.day in schedule.days_of_month
    in_week = day.isoweekday() % 7 in schedule.days_of_week  # Sunday is 0
    if schedule.day_of_month_star or schedule.day_of_week_star:
        return in_month and in_week
    return in_month or in_week


def _next_wall(schedule: Schedule, after: datetime) -> datetime | None:
    """The first matching wall-clock minute strictly after ``after`` (naive), within 5 years."""
    t = after.replace(second=0, microsecond=0) + _MINUTE
    limit = after.year + _YEARS
    while t.year <= limit:
        if t.month not in schedule.months:
            t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
        elif not _day_matches(schedule, t.date()):
            t = t.replace(hour=0, minute=0) + timedelta(days=1)
        elif t.hour not in schedule.hours:
            t = t.replace(minute=0) + timedelta(hours=1)
        elif t.minute not in schedule.minutes:
            t += _MINUTE
        else:
            return t
    return None


def _previous_wall(schedule: Schedule, at: datetime) -> datetime | None:
    """The last matching wall-clock minute at or before ``at`` (naive), within 5 years."""
    t = at.replace(second=0, microsecond=0)
    limit = at.year - _YEARS
    while t.year >= limit:
        if t.month not in schedule.months:
            t = t.replace(day=1, hour=0, minute=0) - _MINUTE
        elif not _day_matches(schedule, t.date()):
            t = t.replace(hour=0, minute=0) - _MINUTE
        elif t.hour not in schedule.hours:
            t = t.replace(minute=0) - _MINUTE
        elif t.minute not in schedule.minutes:
            t -= _MINUTE
        else:
            return t
    return None


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A parsed schedule in its zone (None: the host's zone)."""

    schedule: Schedule
    zone: tzinfo | None = None
    every: float = 0.0  # seconds, for ``@every``

    def _wall(self, instant: datetime) -> datetime:
        local = instant.astimezone(self.zone) if self.zone else instant.astimezone()
        return local.replace(tzinfo=None)

    def _instant(self, wall: datetime) -> datetime | None:
        """The instant of a wall-clock time; None when a daylight-saving jump skips it."""
        if self.zone is not None:
            instant = wall.replace(tzinfo=self.zone).astimezone(UTC)
        else:
            instant = datetime.fromtimestamp(wall.timestamp(), UTC)
        return instant if self._wall(instant) == wall else None

    def next(self, after: datetime) -> datetime | None:
        """The first run strictly after ``after`` (aware, UTC); None if there is none."""
        if self.every:
            return after.replace(microsecond=0) + timedelta(seconds=self.every)
        wall = self._wall(after)
        while (wall_next := _next_wall(self.schedule, wall)) is not None:
            instant = self._instant(wall_next)
            if instant is not None and instant > after:
                return instant
            wall = wall_next
        return None

    def previous(self, at: datetime) -> datetime | None:
        """The last run at or before ``at`` (aware, UTC); for ``@every`` not defined: None."""
        if self.every:
            return None
        wall = self._wall(at)
        while (wall_prev := _previous_wall(self.schedule, wall)) is not None:
            instant = self._instant(wall_prev)
            if instant is not None and instant <= at:
                return instant
            wall = wall_prev - _MINUTE
        return None

    def most_recent(self, earliest: datetime, now: datetime) -> tuple[datetime | None, int]:
        """The latest run in (earliest, now] and how many runs that interval holds.

        The count is exact up to 100; beyond, it is kube's estimate (the interval divided by
        the distance between the first two runs), which only feeds the TooManyMissedTimes
        warning.
        """
        first = self.next(earliest)
        if first is None or first > now:
            return None, 0
        latest, count = first, 1
        while count <= 100:
            following = self.next(latest)
            if following is None or following > now:
                return latest, count
            latest, count = following, count + 1
        second = self.next(first)
        step = max(((second or now) - first).total_seconds(), 1.0)
        estimate = int((now - first).total_seconds() // step) + 1
        recent = self.previous(now)
        if recent is None:  # @every: whole steps after the first run
            recent = first + timedelta(seconds=step * (estimate - 1))
        return recent, estimate


def parse_cron(spec: str, time_zone: str | None = None) -> CronSchedule:
    """Parse ``spec`` (optionally ``CRON_TZ=Zone ...``); raise CronError with kube's wording."""
    zone: tzinfo | None = _zone(time_zone) if time_zone else None
    text = spec.strip()
    if text.startswith(("CRON_TZ=", "TZ=")):
        prefix, _, text = text.partition(" ")
        name = prefix.split("=", 1)[1]
        try:
            zone = _zone(name)
        except CronError as exc:
            raise CronError(f"provided bad location {name}: {exc}") from None
        text = text.strip()
    schedule = parse_schedule(text)
    if schedule.every:
        seconds = max(int(_go_duration(schedule.every)), 1)
        return CronSchedule(schedule, zone, every=float(seconds))
    return CronSchedule(schedule, zone)
