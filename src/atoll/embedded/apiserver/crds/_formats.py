"""The string formats kube-apiserver checks in custom resources, and nothing more.

kube strips every ``format`` outside this list before validating (``int32``, ``int64``,
``float``, ``double`` are documentation only), and compares names with dashes removed
(``date-time`` is ``datetime``). The checks follow go-openapi's strfmt closely enough for
real-world values; where Go's parsers are more lenient (``uri``, ``email``), so are these.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from datetime import date
from urllib.parse import urlsplit

__all__ = ["checked_format", "format_ok"]


def checked_format(fmt: object) -> str | None:
    """The format kube would check for a schema's ``format``, or None if it ignores it."""
    if not isinstance(fmt, str) or not fmt:
        return None
    return fmt if fmt.replace("-", "") in _CHECKS else None


def format_ok(fmt: str, value: str) -> bool:
    return _CHECKS[fmt.replace("-", "")](value)


def _regex(pattern: str, flags: int = 0) -> Callable[[str], bool]:
    compiled = re.compile(pattern, flags)
    return lambda value: compiled.match(value) is not None


def _is_date(value: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


_TIME = re.compile(
    r"([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(z|[+-]([01]\d|2[0-3]):[0-5]\d)", re.ASCII
)


def _is_datetime(value: str) -> bool:
    # strfmt: a full-date, a "t" and an RFC 3339 time, compared case-insensitively.
    day, sep, time = value.lower().partition("t")
    return bool(sep) and _is_date(day) and _TIME.fullmatch(time) is not None


def _is_ip(version: int) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            return ipaddress.ip_address(value).version == version
        except ValueError:
            return False

    return check


def _is_cidr(value: str) -> bool:
    if "/" not in value:
        return False
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def _is_hostname(value: str) -> bool:
    if not value or len(value) > 255:
        return False
    label = r"[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?"
    return re.fullmatch(rf"{label}(\.{label})*\.?", value) is not None


def _is_byte(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _is_uri(value: str) -> bool:
    # Go's url.ParseRequestURI: an absolute URI, or an absolute path.
    if any(c in value for c in " \t\r\n"):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme) or value.startswith("/")


def _is_isbn10(value: str) -> bool:
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{9}[\dX]", digits):
        return False
    total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits))
    return total % 11 == 0


def _is_isbn13(value: str) -> bool:
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{13}", digits):
        return False
    total = sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(digits))
    return total % 10 == 0


def _is_creditcard(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    return (
        re.fullmatch(
            r"4\d{12}(\d{3})?|5[1-5]\d{14}|6(011|5\d\d)\d{12}|3[47]\d{13}|3(0[0-5]|[68]\d)\d{11}"
            r"|(2131|1800|35\d{3})\d{11}",
            digits,
        )
        is not None
    )


_UUID = r"[0-9a-f]{8}-?[0-9a-f]{4}-?{v}[0-9a-f]{3}-?{r}[0-9a-f]{3}-?[0-9a-f]{12}"
_DURATION_UNIT = r"(ns|us|µs|ms|s|m|h|d|w)"

_CHECKS: dict[str, Callable[[str], bool]] = {
    "bsonobjectid": _regex(r"^[0-9a-fA-F]{24}$"),
    "uri": _is_uri,
    "email": _regex(r"^([^<>@\s]+@[^<>@\s]+|[^<>]*<[^<>@\s]+@[^<>@\s]+>)$"),
    "hostname": _is_hostname,
    "ipv4": _is_ip(4),
    "ipv6": _is_ip(6),
    "cidr": _is_cidr,
    "mac": _regex(
        r"^([0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\2[0-9a-fA-F]{2}){4}((\2[0-9a-fA-F]{2}){2}"
        r"|(\2[0-9a-fA-F]{2}){14})?|[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4}){2}((\.[0-9a-fA-F]{4})"
        r"|(\.[0-9a-fA-F]{4}){7})?)$"
    ),
    "uuid": _regex("^" + _UUID.replace("{v}", "[0-9a-f]").replace("{r}", "[0-9a-f]") + "$", re.I),
    "uuid3": _regex("^" + _UUID.replace("{v}", "3").replace("{r}", "[0-9a-f]") + "$", re.I),
    "uuid4": _regex("^" + _UUID.replace("{v}", "4").replace("{r}", "[89ab]") + "$", re.I),
    "uuid5": _regex("^" + _UUID.replace("{v}", "5").replace("{r}", "[89ab]") + "$", re.I),
    "isbn": lambda v: _is_isbn10(v) or _is_isbn13(v),
    "isbn10": _is_isbn10,
    "isbn13": _is_isbn13,
    "creditcard": _is_creditcard,
    "ssn": _regex(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$"),
    "hexcolor": _regex(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"),
    "rgbcolor": _regex(r"^rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)$"),
    "byte": _is_byte,
    "password": lambda _: True,
    "date": _is_date,
    "duration": _regex(
        rf"^([-+]?(\d+(\.\d+)?{_DURATION_UNIT})+|\d+\s*(ns|us|ms|s|m|h|d|w)"
        r"(econds?|inutes?|ours?|ays?|eeks?|illiseconds?|icroseconds?|anoseconds?)?|0)$"
    ),
    "datetime": _is_datetime,
}
