"""Components: each capability of Atoll is one declaration, found through entry points.

A component is a ``Component`` value registered in the ``atoll.components`` entry-point
group (``pyproject.toml``), built-in ones exactly like third-party ones; ``discover()``
loads them all, in name order. A component names itself, says what it is for, and brings
its routes (FastAPI ``APIRouter``s, each with its prefix: ``/kapis/<group>/<version>``,
``/oauth``, or a Kubernetes path Atoll answers itself; every other path is the console's,
and the server refuses a component route there), its controllers, CRDs and (later) console
extensions. Components never import each other.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, HTTPException

from atoll.controllers.runtime import Controller
from atoll.kube.client import KubeClient
from atoll.settings import IdentityProvider

from .access import Pipeline
from .clusters import ClusterClients

__all__ = [
    "ENTRY_POINT_GROUP",
    "Component",
    "ComponentContext",
    "Later",
    "SecureEndpoint",
    "discover",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

ENTRY_POINT_GROUP = "atoll.components"


class Later(Generic[T]):
    """What a component's routes need that exists only once it has started (the host
    cluster's client, the pipeline): calling it gives the value, or answers 503 before."""

    def __init__(self) -> None:
        self.value: T | None = None

    def set(self, value: T) -> None:
        self.value = value

    def __call__(self) -> T:
        if self.value is None:
            raise HTTPException(503, "Atoll is starting; try again in a moment")
        return self.value


@dataclass(frozen=True)
class SecureEndpoint:
    """Where Atoll answers over HTTPS (on the host a client reached it by), and the CA that
    signed its certificate (None when the user brought a certificate)."""

    port: int
    ca_pem: bytes | None


@dataclass(frozen=True)
class ComponentContext:
    """What a component's ``start`` gets: the host cluster, and the few settings it needs."""

    client: KubeClient
    admin_password: str | None
    tell: Callable[[str], None]  # to the person who started Atoll (the console, not the log)
    data_dir: Path  # where a component may keep files (audit logs until a store takes them)
    pipeline: Pipeline  # where a component installs authentication, authorization, audit
    secure_endpoint: SecureEndpoint | None = None  # for kubeconfigs that point at Atoll
    identity_providers: Sequence[IdentityProvider] = ()  # LDAP and OIDC, from settings
    clusters: ClusterClients | None = None  # every cluster's client by name (host first)


@dataclass(frozen=True)
class Component:
    name: str
    description: str
    routers: Sequence[APIRouter] = field(default_factory=tuple)
    crds: Sequence[dict[str, Any]] = field(default_factory=tuple)  # installed before start
    start: Callable[[ComponentContext], Awaitable[None]] | None = None
    # Run on every replica from start until the server stops: the caches it serves from.
    run: Callable[[ComponentContext], Coroutine[Any, Any, None]] | None = None
    # Called once as the server stops, in reverse order (drain queues, close files).
    stop: Callable[[], Coroutine[Any, Any, None]] | None = None
    # Run, leader-elected (one replica at a time), once the component has started.
    controllers: Sequence[Callable[[], Controller]] = field(default_factory=tuple)
    # Objects in its caches by resource, for /metrics (atoll_cache_objects).
    cache_sizes: Callable[[], Mapping[str, int]] = field(default=dict)
    # Required components (iam, clusters) cannot be turned off.
    required: bool = False
    # Whether this component is ready to serve (its caches synced, its CRDs installed).
    ready: Callable[[], bool] = field(default=lambda: True)


def discover(group: str = ENTRY_POINT_GROUP) -> list[Component]:
    """Every registered component; one that fails to load is logged and left out."""
    found: dict[str, Component] = {}
    for point in entry_points(group=group):
        try:
            loaded = point.load()
            component = loaded() if callable(loaded) else loaded
        except Exception:
            logger.exception("component %s could not be loaded; Atoll runs without it", point.name)
            continue
        if not isinstance(component, Component):
            logger.error("entry point %s is not an atoll Component; left out", point.name)
            continue
        found[component.name] = component
    return [found[name] for name in sorted(found)]
