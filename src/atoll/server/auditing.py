"""Audit events: what the request pipeline hands to whichever component keeps the trail.

Every mutating request, and every denied one, becomes one ``AuditEvent`` once its answer is
known. The server knows nothing of where events go: components register sinks (the
``auditing`` component writes JSON lines; the logging component will store them later). An
event carries who did what to which object and how it ended, never a request or response
body, so a Secret's contents cannot reach the trail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

__all__ = ["AuditEvent", "AuditSink"]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    time: datetime  # when the answer was sent, UTC
    user: str  # "" for an anonymous request
    source: str  # the client's address
    verb: str  # Kubernetes verbs: create, update, patch, delete, deletecollection, get, …
    path: str
    code: int  # the HTTP status answered
    cluster: str = ""
    workspace: str = ""
    namespace: str = ""
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    reason: str = ""  # why it was denied, when it was

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = self.time.isoformat().replace("+00:00", "Z")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditEvent:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["time"] = datetime.fromisoformat(str(fields["time"]).replace("Z", "+00:00"))
        return cls(**fields)


# Called on the event loop for each event; must not block (queue the work, never raise).
AuditSink = Callable[[AuditEvent], None]
