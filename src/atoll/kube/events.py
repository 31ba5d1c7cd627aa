"""Kubernetes Events about the objects a controller manages, de-duplicated like client-go's.

``EventRecorder.record(obj, reason, message=..., type=...)`` writes a core/v1 ``Event`` in
the object's namespace ("default" for cluster-scoped objects). The same event again — same
involved object, reason, message, type and source — within ten minutes does not create a
new Event: the existing one's ``count`` and ``lastTimestamp`` are patched, exactly what
client-go's ``EventCorrelator`` does, so a controller retrying in a loop leaves one line
with a count in ``kubectl describe``, not a thousand Events.

Recording is best effort: an Event that cannot be written is logged and dropped, never
raised into the reconcile that reported it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from atoll.errors import NotFound

from .client import Object, PatchBody, PatchType, ResourceType

__all__ = ["EVENTS", "EventRecorder", "EventType", "EventWriter", "object_reference"]

logger = logging.getLogger(__name__)

EVENTS = ResourceType("", "v1", "events", "Event", True)
EventType = Literal["Normal", "Warning"]

_WINDOW_NS = 10 * 60 * 10**9  # client-go's defaultAggregateIntervalInSeconds
_CACHE_SIZE = 4096  # client-go's maxLruCacheEntries


class EventWriter(Protocol):
    """The part of ``KubeClient`` the recorder uses."""

    async def create(
        self,
        rt: ResourceType,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> Object: ...

    async def patch(
        self,
        rt: ResourceType,
        name: str,
        patch: PatchBody,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
        subresource: str | None = None,
        field_manager: str | None = None,
        force: bool | None = None,
        dry_run: bool = False,
    ) -> Object: ...


@dataclass(frozen=True, slots=True)
class _Recorded:
    namespace: str
    name: str
    count: int
    last_ns: int


def object_reference(obj: Mapping[str, Any]) -> dict[str, str]:
    """An ``ObjectReference`` to ``obj`` (kind, namespace, name, uid, apiVersion, version)."""
    meta = obj.get("metadata") or {}
    ref = {
        "kind": obj.get("kind"),
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "apiVersion": obj.get("apiVersion"),
        "resourceVersion": meta.get("resourceVersion"),
    }
    return {k: str(v) for k, v in ref.items() if v}


def _timestamp(ns: int) -> str:
    return datetime.fromtimestamp(ns // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EventRecorder:
    """Writes Events on behalf of one component (``deployment-controller``) on one host."""

    def __init__(
        self,
        client: EventWriter,
        component: str,
        host: str = "",
        *,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.client = client
        self.component = component
        self.host = host
        self._clock = clock  # wall-clock nanoseconds: names, timestamps and the 10-min window
        self._recorded: OrderedDict[tuple[str, ...], _Recorded] = OrderedDict()
        self._lock = asyncio.Lock()  # one write at a time: repeats must see the first's name

    async def normal(self, obj: Mapping[str, Any], reason: str, *, message: str) -> None:
        await self.record(obj, reason, message=message, type="Normal")

    async def warning(self, obj: Mapping[str, Any], reason: str, *, message: str) -> None:
        await self.record(obj, reason, message=message, type="Warning")

    async def record(
        self,
        obj: Mapping[str, Any],
        reason: str,
        *,
        message: str,
        type: EventType = "Normal",
    ) -> None:
        """Record an Event about ``obj``; never raises (failures are logged)."""
        ref = object_reference(obj)
        try:
            async with self._lock:
                await self._write(ref, reason, message, type)
        except Exception as exc:  # recording is best effort, by contract
            logger.warning(
                "could not record event %s for %s %s/%s: %s",
                reason,
                ref.get("kind", "object"),
                ref.get("namespace", ""),
                ref.get("name", ""),
                exc,
            )

    async def _write(self, ref: dict[str, str], reason: str, message: str, type: str) -> None:
        key = (
            self.component,
            self.host,
            *(ref.get(f, "") for f in ("kind", "namespace", "name", "uid", "apiVersion")),
            type,
            reason,
            message,
        )
        now = self._clock()
        seen = self._recorded.get(key)
        if seen is not None and now - seen.last_ns < _WINDOW_NS:
            try:
                await self._repeat(seen, message, now)
            except NotFound:  # expired or deleted meanwhile: start a new Event
                pass
            else:
                self._remember(key, _Recorded(seen.namespace, seen.name, seen.count + 1, now))
                return
        created = await self.client.create(EVENTS, self._event(ref, reason, message, type, now))
        meta = created.get("metadata") or {}
        self._remember(key, _Recorded(meta["namespace"], meta["name"], 1, now))

    async def _repeat(self, seen: _Recorded, message: str, now: int) -> None:
        patch = {"count": seen.count + 1, "lastTimestamp": _timestamp(now), "message": message}
        await self.client.patch(
            EVENTS, seen.name, patch, namespace=seen.namespace, patch_type="strategic"
        )

    def _event(
        self, ref: dict[str, str], reason: str, message: str, type: str, now: int
    ) -> dict[str, Any]:
        stamp = _timestamp(now)
        event: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{ref.get('name', 'unknown')}.{now:x}",
                "namespace": ref.get("namespace") or "default",
            },
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "source": {"component": self.component},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "type": type,
            "reportingComponent": self.component,
        }
        if self.host:
            event["source"]["host"] = self.host
            event["reportingInstance"] = self.host
        return event

    def _remember(self, key: tuple[str, ...], recorded: _Recorded) -> None:
        self._recorded[key] = recorded
        self._recorded.move_to_end(key)
        while len(self._recorded) > _CACHE_SIZE:
            self._recorded.popitem(last=False)
