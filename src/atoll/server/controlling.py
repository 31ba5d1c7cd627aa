"""Atoll's controllers: every component's, in one manager, under a Lease in the host cluster.

Only the replica holding ``kube-system/atoll-controller-manager`` runs them; the others
wait to take over, as kube-controller-manager's replicas do. A new manager (and informer
factory) is built each time leadership is won, so nothing from a lost term lingers.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Sequence

from atoll.controllers.leadership import (
    KubeLeases,
    LeaderElectionSettings,
    LeaderElector,
    LeadershipLost,
)
from atoll.controllers.runtime import ControllerManager
from atoll.kube.client import KubeClient
from atoll.kube.events import EventRecorder
from atoll.kube.informers import InformerFactory

from .components import Component

__all__ = ["run_controllers"]

logger = logging.getLogger(__name__)

LEASE = "atoll-controller-manager"


async def run_controllers(client: KubeClient, components: Sequence[Component]) -> None:
    """Until cancelled."""
    factories = [factory for c in components for factory in c.controllers]
    if not factories:
        return
    identity = f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"
    elector = LeaderElector(
        KubeLeases(client), settings=LeaderElectionSettings(name=LEASE), identity=identity
    )

    async def lead() -> None:
        manager = ControllerManager(
            [factory() for factory in factories],
            client=client,
            informers=InformerFactory(client),
            events=lambda name: EventRecorder(client, f"{name}-controller", identity),
        )
        await manager.run()

    while True:
        try:
            await elector.run(lead)
        except LeadershipLost:
            logger.warning("Atoll's controllers lost their lease; campaigning again")
