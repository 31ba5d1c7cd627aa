"""Shared clock and builders for the table tests: every age is computed against ``NOW``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NOW = datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC)


def ago(**delta: float) -> str:
    """An RFC 3339 timestamp ``delta`` before ``NOW``."""
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(name: str = "x", **extra: object) -> dict[str, object]:
    return {"name": name, "namespace": "default", "creationTimestamp": ago(minutes=5), **extra}
