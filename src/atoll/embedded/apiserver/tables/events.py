"""The Event table, shared by core ``v1`` Events and ``events.k8s.io`` Events.

Both APIs are views of one stored kind, so kube-apiserver prints them with the same printer
(1.20's ``printEvent``). An ``events.k8s.io`` object is first read through its core field names
(``regarding`` → ``involvedObject``, ``note`` → ``message``, ``deprecated*`` → the old fields).

Timestamps follow the new-API rules of 1.19+: First Seen falls back to ``eventTime``; Last Seen
falls back to First Seen; an event series gives Last Seen and Count; a singleton event without a
count counts as 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from atoll.embedded.apiserver.tables.ages import age
from atoll.embedded.apiserver.tables.columns import NAME, Column, Printer, field
from atoll.embedded.apiserver.tables.fields import (
    integer,
    mapping,
    optional_mapping,
    present,
    text,
)

COLUMNS = (
    field("Last Seen", "Event.lastTimestamp"),
    field("Type", "Event.type"),
    field("Reason", "Event.reason"),
    field("Object", "Event.involvedObject"),
    field("Subobject", "ObjectReference.fieldPath", priority=1),
    field("Source", "Event.source", priority=1),
    field("Message", "Event.message"),
    field("First Seen", "Event.firstTimestamp", priority=1),
    field("Count", "Event.count", priority=1),
    Column(NAME.name, NAME.type, NAME.description, 1, NAME.format),
)

# events.k8s.io field → core v1 field, for the fields the printer reads.
_NEW_TO_CORE = {
    "regarding": "involvedObject",
    "note": "message",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}


def as_core_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """An ``events.k8s.io`` Event seen through the core field names."""
    core = {key: value for key, value in event.items() if key not in _NEW_TO_CORE}
    for new, old in _NEW_TO_CORE.items():
        if new in event:
            core[old] = event[new]
    return core


def _source(event: Mapping[str, Any]) -> str:
    component, host = text(event, "source", "component"), text(event, "source", "host")
    return f"{component}, {host}" if host else component


def _target(event: Mapping[str, Any]) -> str:
    kind = text(event, "involvedObject", "kind").lower()
    name = text(event, "involvedObject", "name")
    return f"{kind}/{name}" if name else kind


def _seen(event: Mapping[str, Any], now: datetime) -> tuple[str, str, int]:
    """Last Seen, First Seen and Count."""
    if present(event, "firstTimestamp"):
        first = age(text(event, "firstTimestamp"), now)
    else:
        first = age(text(event, "eventTime"), now)
    last = age(text(event, "lastTimestamp"), now) if present(event, "lastTimestamp") else first
    count = integer(event, "count")
    series = optional_mapping(event, "series")
    if series is not None:
        last = age(text(series, "lastObservedTime"), now)
        count = integer(series, "count")
    elif count == 0:
        count = 1
    return last, first, count


def core_event_cells(event: Mapping[str, Any], now: datetime) -> list[Any]:
    last, first, count = _seen(event, now)
    return [
        last,
        text(event, "type"),
        text(event, "reason"),
        _target(event),
        text(event, "involvedObject", "fieldPath"),
        _source(event),
        text(event, "message").strip(),
        first,
        count,
        text(mapping(event, "metadata"), "name"),
    ]


def new_event_cells(event: Mapping[str, Any], now: datetime) -> list[Any]:
    return core_event_cells(as_core_event(event), now)


PRINTERS = {
    ("", "Event"): Printer(COLUMNS, core_event_cells),
    ("events.k8s.io", "Event"): Printer(COLUMNS, new_event_cells),
}
