"""Standard cron schedules (``*/5 * * * *``, ``@hourly``) as CronJob validation reads them.

kube 1.20 validates ``spec.schedule`` with robfig/cron's ParseStandard: five fields (minute,
hour, day of month, month, day of week), each a comma list of ``*``/``?``, values, ranges and
steps, with month and weekday names; or a descriptor (``@yearly`` ``@annually`` ``@monthly``
``@weekly`` ``@daily`` ``@midnight`` ``@hourly`` ``@every <duration>``). The error texts are
the library's, since kube shows them verbatim:
``spec.schedule: Invalid value: "* * *": Expected exactly 5 fields, found 3: * * *``.

:func:`parse_schedule` also returns the allowed values per field, which the CronJob
controller can use to compute the next run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CronError", "Schedule", "parse_schedule", "schedule_error"]


class CronError(ValueError):
    """An unparseable schedule; ``str(err)`` is robfig/cron's message."""


@dataclass(frozen=True, slots=True)
class _Bounds:
    low: int
    high: int
    names: dict[str, int]


_MONTH_NAMES = "jan feb mar apr may jun jul aug sep oct nov dec"
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES.split())}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_FIELDS = (
    _Bounds(0, 59, {}),
    _Bounds(0, 23, {}),
    _Bounds(1, 31, {}),
    _Bounds(1, 12, _MONTHS),
    _Bounds(0, 6, _DAYS),
)
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DURATION = re.compile(r"^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|ms|s|m|h))+$")


@dataclass(frozen=True, slots=True)
class Schedule:
    """Allowed minutes, hours, days of month, months and weekdays; or an ``@every`` interval."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    every: str = ""
    day_of_month_star: bool = False
    day_of_week_star: bool = False


def _int(text: str) -> int:
    if not re.fullmatch(r"[-+]?\d+", text):
        raise CronError(
            f'Failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
        )
    number = int(text)
    if number < 0:
        raise CronError(f"Negative number ({number}) not allowed: {text}")
    return number


def _int_or_name(text: str, bounds: _Bounds) -> int:
    named = bounds.names.get(text.lower())
    return named if named is not None else _int(text)


def _range(expr: str, bounds: _Bounds) -> set[int]:
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    if low_high[0] in ("*", "?"):
        start, end = bounds.low, bounds.high
    else:
        start = _int_or_name(low_high[0], bounds)
        if len(low_high) > 2:
            raise CronError(f"Too many hyphens: {expr}")
        end = _int_or_name(low_high[1], bounds) if len(low_high) == 2 else start
    if len(range_and_step) > 2:
        raise CronError(f"Too many slashes: {expr}")
    step = 1
    if len(range_and_step) == 2:
        step = _int(range_and_step[1])
        if len(low_high) == 1:
            end = bounds.high  # "N/step" means "N-max/step"
    if start < bounds.low:
        raise CronError(f"Beginning of range ({start}) below minimum ({bounds.low}): {expr}")
    if end > bounds.high:
        raise CronError(f"End of range ({end}) above maximum ({bounds.high}): {expr}")
    if start > end:
        raise CronError(f"Beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"Step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step))


def _field(text: str, bounds: _Bounds) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        values |= _range(part, bounds)
    return frozenset(values)


def _descriptor(spec: str) -> Schedule:
    if spec in _DESCRIPTORS:
        return parse_schedule(_DESCRIPTORS[spec])
    if spec.startswith("@every "):
        duration = spec[len("@every ") :]
        if not _DURATION.match(duration):
            raise CronError(f'Failed to parse duration {spec}: time: invalid duration "{duration}"')
        empty: frozenset[int] = frozenset()
        return Schedule(empty, empty, empty, empty, empty, every=duration)
    raise CronError(f"Unrecognized descriptor: {spec}")


def parse_schedule(spec: str) -> Schedule:
    """Parse a standard cron spec, raising :class:`CronError` with robfig/cron's wording."""
    if not spec:
        raise CronError("Empty spec string")
    if spec.startswith("@"):
        return _descriptor(spec)
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"Expected exactly 5 fields, found {len(fields)}: {spec}")
    minutes, hours, doms, months, dows = (
        _field(text, bounds) for text, bounds in zip(fields, _FIELDS, strict=True)
    )
    return Schedule(
        minutes,
        hours,
        doms,
        months,
        dows,
        day_of_month_star=fields[2] in ("*", "?"),
        day_of_week_star=fields[4] in ("*", "?"),
    )


def schedule_error(spec: str) -> str | None:
    """robfig/cron's error for ``spec``, or None when it parses."""
    try:
        parse_schedule(spec)
    except CronError as err:
        return str(err)
    return None
