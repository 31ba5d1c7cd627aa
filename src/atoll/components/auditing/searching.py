"""Searching the audit trail: newest first across ``audit.jsonl`` and its rotated files.

Files are read from their end in blocks, so memory stays at a block plus one page of results
however large the trail. Filters are exact (``verb`` and ``code`` take comma-separated lists;
a code may be a class such as ``4xx``); a line is decoded only when it contains every wanted
value as JSON text, a cheap test that rules most lines out. Every line is still looked at,
because the answer carries the total number of matches. A search from ``start`` stops at the
first rotated file whose stamp is older: nothing in it, or in anything older, can match.
Lines that do not decode (one torn by a crash) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

import orjson

from .trail import trail_files

__all__ = ["MAX_LIMIT", "AuditPage", "AuditQuery", "InvalidQuery", "search"]

MAX_LIMIT = 1000
_BLOCK = 1 << 20
_SECONDS = re.compile(r"^-?\d+(\.\d+)?$")
_CODE = re.compile(r"^([1-5])(\d\d|xx)$")
_OFFSET_LOST_PLUS = re.compile(r" (\d\d:?\d\d)$")  # "+01:00" sent unescaped reads " 01:00"
_EXACT = ("user", "resource", "namespace", "workspace", "cluster", "name")


class InvalidQuery(ValueError):
    """A filter or paging parameter that cannot be understood; the message says which."""


class AuditPage(TypedDict):
    items: list[dict[str, Any]]
    totalItems: int


def parse_time(text: str, what: str) -> datetime:
    """RFC 3339 (``2024-05-01T12:00:00Z``, an offset required) or unix seconds."""
    text = text.strip()
    try:
        if _SECONDS.match(text):
            return datetime.fromtimestamp(float(text), UTC)
        moment = datetime.fromisoformat(_OFFSET_LOST_PLUS.sub(r"+\1", text))
    except (ValueError, OverflowError, OSError):
        raise InvalidQuery(f"{what} is neither an RFC 3339 time nor unix seconds") from None
    if moment.tzinfo is None:
        raise InvalidQuery(f"{what} needs a UTC offset (Z or ±hh:mm)")
    return moment


def parse_codes(text: str) -> tuple[frozenset[int], frozenset[int]]:
    """``403``, ``4xx`` or a comma-separated list of them: (exact codes, classes)."""
    exact: set[int] = set()
    classes: set[int] = set()
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        matched = _CODE.match(part)
        if matched is None:
            raise InvalidQuery(f"code {part!r} is neither an HTTP status nor a class like 4xx")
        if matched[2] == "xx":
            classes.add(int(matched[1]))
        else:
            exact.add(int(part))
    return frozenset(exact), frozenset(classes)


def _words(text: str | None) -> frozenset[str]:
    return frozenset(w.strip() for w in (text or "").split(",") if w.strip())


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditQuery:
    """What to look for; an empty field does not filter."""

    user: str = ""
    verbs: frozenset[str] = frozenset()
    resource: str = ""
    namespace: str = ""
    workspace: str = ""
    cluster: str = ""
    name: str = ""
    codes: frozenset[int] = frozenset()
    code_classes: frozenset[int] = frozenset()  # 4 for 4xx
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # inclusive

    @classmethod
    def parse(
        cls,
        *,
        user: str | None = None,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        workspace: str | None = None,
        cluster: str | None = None,
        name: str | None = None,
        code: str | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> AuditQuery:
        """The query the API's parameters ask for; ``InvalidQuery`` says what is wrong."""
        codes, classes = parse_codes(code or "")
        since = parse_time(start, "start") if start else None
        until = parse_time(end, "end") if end else None
        if since is not None and until is not None and since > until:
            raise InvalidQuery("start is later than end")
        return cls(
            user=user or "",
            verbs=_words(verb),
            resource=resource or "",
            namespace=namespace or "",
            workspace=workspace or "",
            cluster=cluster or "",
            name=name or "",
            codes=codes,
            code_classes=classes,
            start=since,
            end=until,
        )

    def exact(self) -> list[tuple[str, str]]:
        """The exact-value filters that are set: (field, value)."""
        return [(key, getattr(self, key)) for key in _EXACT if getattr(self, key)]

    def matches(self, event: dict[str, Any]) -> bool:
        """Whether a decoded event (``AuditEvent.to_json()``) is one this query wants."""
        return _matcher(self)(event)


def _matcher(query: AuditQuery) -> Callable[[dict[str, Any]], bool]:
    """``query.matches``, with what it needs worked out once rather than per event."""
    exact = query.exact()
    verbs, codes, classes = query.verbs, query.codes, query.code_classes
    start, end = query.start, query.end

    def matches(event: dict[str, Any]) -> bool:
        if any(event.get(key) != wanted for key, wanted in exact):
            return False
        if verbs and event.get("verb") not in verbs:
            return False
        if codes or classes:
            code = event.get("code")
            if not isinstance(code, int) or (code not in codes and code // 100 not in classes):
                return False
        if start is None and end is None:
            return True
        try:
            moment = datetime.fromisoformat(str(event.get("time")))
        except ValueError:
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (start is None or moment >= start) and (end is None or moment <= end)

    return matches


def search(directory: Path, query: AuditQuery, *, page: int = 1, limit: int = 50) -> AuditPage:
    """One page (1-based) of the events in the trail at ``directory`` that ``query`` wants,
    newest first, and how many there are in all. Blocking: run it off the event loop."""
    if page < 1:
        raise InvalidQuery("page counts from 1")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}")
    first, last = (page - 1) * limit, page * limit
    items: list[dict[str, Any]] = []
    total = 0
    for path, newest in trail_files(directory):
        if query.start is not None and newest is not None and newest < query.start:
            break  # this file, and every older one, ends before the range starts
        for found in _matching(path, query):
            if total < last and total + len(found) > first:
                items += found[max(0, first - total) : last - total]
            total += len(found)
    return {"items": items, "totalItems": total}


def _matching(path: Path, query: AuditQuery) -> Iterator[list[dict[str, Any]]]:
    """The events ``query`` wants, newest first, a block's worth at a time.

    Lists and comprehensions rather than a generator per line: this loop is the search's
    cost, and per-line Python calls would double it."""
    needles = [orjson.dumps(wanted) for _, wanted in query.exact()]
    any_of = [orjson.dumps(verb) for verb in query.verbs]
    matches = _matcher(query)
    for lines in _blocks_newest_first(path):
        for needle in needles:
            lines = [line for line in lines if needle in line]
        if any_of:
            lines = [line for line in lines if any(needle in line for needle in any_of)]
        decoded = [_decoded(line) for line in lines]
        yield [event for event in decoded if event is not None and matches(event)]


def _decoded(line: bytes) -> dict[str, Any] | None:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None  # torn by a crash, or not ours
    return event if isinstance(event, dict) else None


def _blocks_newest_first(path: Path, block: int = _BLOCK) -> Iterator[list[bytes]]:
    """The file's non-empty lines, last first, a block at a time, as the file was when opened
    (it may be growing: a line being written does not decode, and is skipped)."""
    try:
        reading = open(path, "rb")  # noqa: SIM115 - a rotation may delete it before the open
    except FileNotFoundError:
        return
    with reading:
        end = reading.seek(0, 2)
        carried = b""  # the start of a line whose beginning lies in the block before
        while end > 0:
            start = max(0, end - block)
            reading.seek(start)
            lines = (reading.read(end - start) + carried).split(b"\n")
            end = start
            carried = lines.pop(0) if start > 0 else b""
            lines.reverse()
            yield [line for line in lines if line]
