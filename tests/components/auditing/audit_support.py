"""Audit events for the auditing tests: one a second from a fixed time, fields as asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from atoll.server.auditing import AuditEvent

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def event(second: int = 0, **fields: Any) -> AuditEvent:
    """An event ``second`` seconds after ``T0``: alice creating a configmap unless told."""
    values: dict[str, Any] = {
        "time": T0 + timedelta(seconds=second),
        "user": "alice",
        "source": "10.0.0.1",
        "verb": "create",
        "path": "/api/v1/namespaces/default/configmaps",
        "code": 201,
        "cluster": "host",
        "namespace": "default",
        "resource": "configmaps",
        "name": f"cm-{second}",
    }
    values.update(fields)
    return AuditEvent(**values)
