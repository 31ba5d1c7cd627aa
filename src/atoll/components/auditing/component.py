"""The auditing component's declaration (entry point ``auditing`` in ``atoll.components``).

At start it opens the trail under ``<data_dir>/audit`` and registers its sink with the request
pipeline; at stop it drains the trail's queue to disk and closes it.
"""

from __future__ import annotations

import asyncio

from atoll.server.components import Component, ComponentContext, Later

from .routes import auditing_router
from .trail import AuditTrail

__all__ = ["component"]


def component() -> Component:
    started = Later[AuditTrail]()  # the routes answer 503 until it is there

    async def start(context: ComponentContext) -> None:
        trail = await asyncio.to_thread(AuditTrail, context.data_dir / "audit")
        if started.value is not None:  # started again in this process: one writer at a time
            await asyncio.to_thread(started.value.close)
        started.set(trail)
        context.pipeline.audit_sinks.append(trail.record)

    async def stop() -> None:
        if started.value is not None:
            await asyncio.to_thread(started.value.close)

    return Component(
        name="auditing",
        description="An audit trail of every change and every refusal, searchable.",
        routers=(auditing_router(lambda: started().directory),),
        start=start,
        stop=stop,
    )
