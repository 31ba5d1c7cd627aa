"""The embedded cluster's controllers, written as ordinary clients of its API.

Each module in this package is one capability (``deployments``, ``replicasets``, …) and
exposes ``CONTROLLERS``: a list of factories ``(ControllerOptions) -> Controller``. They are
collected here by scanning the package, so adding a controller is adding a module.
Controllers run in the API server's process but talk to it over HTTP through
``atoll.kube`` exactly as they would to a real cluster.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from atoll.controllers.clocks import Clock, SystemClock
from atoll.controllers.runtime import Controller

__all__ = ["KUBELET_PORT", "ControllerFactory", "ControllerOptions", "all_controllers"]

KUBELET_PORT = 10250  # a real kubelet's; the embedded one listens wherever it could bind


@dataclass(frozen=True, slots=True)
class ControllerOptions:
    """What controllers may need beyond their context: the node and the clock."""

    node_name: str = "atoll"
    kubelet: bool = False  # False: nothing runs pods; the node is NotReady and tainted
    kubelet_port: int = KUBELET_PORT  # where the kubelet's API answers (Node daemonEndpoints)
    max_pods: int = 110  # the Node's pod capacity (the kubelet's --max-pods)
    scheduler: bool = True
    clock: Clock = field(default_factory=SystemClock)
    data_dir: Path | None = None  # the node reports this filesystem's capacity


ControllerFactory = Callable[[ControllerOptions], Controller]


def all_controllers(options: ControllerOptions) -> list[Controller]:
    """One instance of every controller this package defines, in module order."""
    controllers: list[Controller] = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        factories: list[ControllerFactory] = getattr(loaded, "CONTROLLERS", [])
        controllers.extend(factory(options) for factory in factories)
    return controllers
