"""Atoll's controllers: every component's, in one manager, under a Lease in the host cluster.

Only the replica holding ``kube-system/atoll-controller-manager`` runs them; the others
wait to take over, as kube-controller-manager's replicas do. A new manager (and informer
factory) is built each time leadership is won, so nothing from a lost term lingers.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid

from atoll.controllers.leadership import (
    KubeLeases,
    LeaderElectionSettings,
    LeaderElector,
    LeadershipLost,
)
from atoll.controllers.queueing import QueueStats
from atoll.controllers.runtime import ControllerManager
from atoll.kube.client import KubeClient
from atoll.kube.events import EventRecorder
from atoll.kube.informers import InformerFactory

from .switchboard import Switchboard

__all__ = ["Managers", "run_controllers"]

logger = logging.getLogger(__name__)

LEASE = "atoll-controller-manager"


class Managers:
    """The controller manager this replica runs now, if it leads: for /metrics."""

    def __init__(self) -> None:
        self.current: ControllerManager | None = None

    def stats(self) -> list[QueueStats]:
        return self.current.stats() if self.current is not None else []


async def run_controllers(
    client: KubeClient, switchboard: Switchboard, managers: Managers | None = None
) -> None:
    """Until cancelled. The controllers of the components that are on run; when that set
    changes, the manager is built again (leadership is kept)."""
    if not any(c.controllers for c in switchboard.components.values()):
        return
    identity = f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"
    elector = LeaderElector(
        KubeLeases(client), settings=LeaderElectionSettings(name=LEASE), identity=identity
    )

    async def manage() -> None:
        factories = [f for c in switchboard.enabled_components() for f in c.controllers]
        if not factories:
            await asyncio.Event().wait()  # nothing to run until a component comes on
        manager = ControllerManager(
            [factory() for factory in factories],
            client=client,
            informers=InformerFactory(client),
            events=lambda name: EventRecorder(client, f"{name}-controller", identity),
        )
        if managers is not None:
            managers.current = manager
        try:
            await manager.run()
        finally:
            if managers is not None and managers.current is manager:
                managers.current = None

    async def lead() -> None:
        while True:
            managing = asyncio.create_task(manage(), name="controller manager")
            changing = asyncio.create_task(switchboard.changed())
            try:
                await asyncio.wait({managing, changing}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                changing.cancel()
                if not managing.done():
                    managing.cancel()
                results = await asyncio.gather(managing, changing, return_exceptions=True)
            if managing.done() and not managing.cancelled() and changing.cancelled():
                error = results[0]
                if isinstance(error, BaseException):
                    raise error
                return

    while True:
        try:
            await elector.run(lead)
        except LeadershipLost:
            logger.warning("Atoll's controllers lost their lease; campaigning again")
