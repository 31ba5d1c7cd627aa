"""The auditing component's declaration (entry point ``auditing`` in ``atoll.components``).

At start it opens the trail under ``<data_dir>/audit`` and registers its sink with the request
pipeline; at stop it drains the trail's queue to disk and closes it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException

from atoll.server.components import Component, ComponentContext

from .routes import auditing_router
from .trail import AuditTrail

__all__ = ["component"]


@dataclass
class _Started:
    """What the routes need, known once the component has started (503 until then)."""

    trail: AuditTrail | None = None

    def directory(self) -> Path:
        if self.trail is None:
            raise HTTPException(503, "Atoll is starting; try again in a moment")
        return self.trail.directory


def component() -> Component:
    started = _Started()

    async def start(context: ComponentContext) -> None:
        trail = await asyncio.to_thread(AuditTrail, context.data_dir / "audit")
        if started.trail is not None:  # started again in this process: one writer at a time
            await asyncio.to_thread(started.trail.close)
        started.trail = trail
        context.pipeline.audit_sinks.append(trail.record)

    async def stop() -> None:
        if started.trail is not None:
            await asyncio.to_thread(started.trail.close)

    return Component(
        name="auditing",
        description="An audit trail of every change and every refusal, searchable.",
        routers=(auditing_router(started.directory),),
        start=start,
        stop=stop,
    )
