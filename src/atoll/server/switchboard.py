"""Which components are on: one cluster-scoped object every replica watches.

The ``PlatformConfig`` named ``atoll`` (``config.atoll.io/v1alpha1``, cluster-scoped in the
host cluster) holds ``spec.components.<name>.enabled``; a component not named there is on.
An administrator turns one off or on at run time, with ``PUT
/kapis/config.atoll.io/v1alpha1/components/{name}`` ``{"enabled": false}`` or by editing the
object (kubectl, the proxy); every replica follows within moments, as its watch brings the
change:

- the component's routes answer 404 problem+json ("… is turned off");
- its audit sinks and admissions are skipped;
- its controllers stop (the leader restarts its controller manager without them).

Required components (iam, clusters: without them nothing else works) cannot be turned off.
``GET /kapis/config.atoll.io/v1alpha1/components`` lists every component with its state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from starlette.responses import JSONResponse

from atoll.errors import AlreadyExists, NotFound
from atoll.kube.client import KubeClient, Object, ResourceType
from atoll.kube.informers import Informer

from .components import Component

__all__ = ["PLATFORM_CONFIGS", "PLATFORM_CONFIG_CRD", "Switchboard"]

logger = logging.getLogger(__name__)

GROUP, VERSION, NAME = "config.atoll.io", "v1alpha1", "atoll"
PLATFORM_CONFIGS = ResourceType(GROUP, VERSION, "platformconfigs", "PlatformConfig", False)
PLATFORM_CONFIG_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"platformconfigs.{GROUP}", "labels": {"atoll.io/component": "core"}},
    "spec": {
        "group": GROUP,
        "scope": "Cluster",
        "names": {
            "plural": "platformconfigs",
            "singular": "platformconfig",
            "kind": "PlatformConfig",
        },
        "versions": [
            {
                "name": VERSION,
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "components": {
                                        "type": "object",
                                        "additionalProperties": {
                                            "type": "object",
                                            "properties": {"enabled": {"type": "boolean"}},
                                        },
                                    }
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}


class Switch(BaseModel):
    enabled: bool


class Switchboard:
    def __init__(self, components: Sequence[Component]) -> None:
        self.components = {c.name: c for c in components}
        self._off: set[str] = set()
        self._changed = asyncio.Event()
        self._synced = asyncio.Event()

    # -- reading -------------------------------------------------------------------------

    def enabled(self, name: str) -> bool:
        component = self.components.get(name)
        return component is not None and (component.required or name not in self._off)

    def enabled_components(self) -> list[Component]:
        return [c for c in self.components.values() if self.enabled(c.name)]

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    async def changed(self) -> None:
        """Wait for the next change of which components are on."""
        await self._changed.wait()
        self._changed.clear()

    def guard(self, name: str) -> Callable[[], Awaitable[None]]:
        """A route dependency: 404 while the component is off."""

        async def on() -> None:
            if not self.enabled(name):
                raise HTTPException(404, f"the {name} component is turned off")

        return on

    def only_when_on(self, name: str, hook: Callable[..., Any]) -> Callable[..., Any]:
        """``hook`` (a sink or an admission), doing nothing while the component is off."""
        if asyncio.iscoroutinefunction(hook) or asyncio.iscoroutinefunction(
            getattr(hook, "__call__", None)  # noqa: B004 (instances with async __call__)
        ):

            async def guarded_async(*args: Any) -> Any:
                return await hook(*args) if self.enabled(name) else None

            return guarded_async

        def guarded(*args: Any) -> Any:
            return hook(*args) if self.enabled(name) else None

        return guarded

    # -- following the object ------------------------------------------------------------

    def _follow(self, obj: Object | None) -> None:
        wanted = ((obj or {}).get("spec") or {}).get("components") or {}
        off = {
            name
            for name, switch in wanted.items()
            if isinstance(switch, dict) and switch.get("enabled") is False
        }
        if off != self._off:
            logger.info("components turned off: %s", ", ".join(sorted(off)) or "none")
            self._off = off
            self._changed.set()

    async def run(self, client: KubeClient) -> None:
        informer = Informer(client, PLATFORM_CONFIGS, field_selector=f"metadata.name={NAME}")
        informer.add_handler(
            on_add=self._follow,
            on_update=lambda _old, new: self._follow(new),
            on_delete=lambda _obj: self._follow(None),
        )
        stop = asyncio.Event()
        running = asyncio.create_task(informer.run(stop))
        try:
            await informer.wait_synced()
            self._synced.set()
            await running
        finally:
            stop.set()
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running

    # -- the API -------------------------------------------------------------------------

    def router(self, client: Callable[[], KubeClient]) -> APIRouter:
        router = APIRouter(prefix=f"/kapis/{GROUP}/{VERSION}", tags=["config"])

        def describe(component: Component) -> dict[str, Any]:
            return {
                "name": component.name,
                "description": component.description,
                "enabled": self.enabled(component.name),
                "required": component.required,
                "ready": self.enabled(component.name) and component.ready(),
            }

        @router.get("/components", summary="Atoll's components, on or off")
        async def list_components() -> JSONResponse:
            items = [describe(c) for c in sorted(self.components.values(), key=lambda c: c.name)]
            return JSONResponse({"items": items, "totalItems": len(items)})

        @router.put("/components/{name}", summary="Turn a component on or off")
        async def switch(name: str, wanted: Switch) -> JSONResponse:
            component = self.components.get(name)
            if component is None:
                raise HTTPException(404, f'component "{name}" not found')
            if component.required and not wanted.enabled:
                raise HTTPException(409, f"the {name} component is required; it stays on")
            await _write(client(), name, wanted.enabled)
            return JSONResponse(describe(component) | {"enabled": wanted.enabled})

        return router


async def _write(client: KubeClient, name: str, enabled: bool) -> None:
    patch = {"spec": {"components": {name: {"enabled": enabled}}}}
    for _ in range(3):
        try:
            await client.patch(PLATFORM_CONFIGS, NAME, patch, patch_type="merge")
            return
        except NotFound:
            body = {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "PlatformConfig",
                "metadata": {"name": NAME},
                **patch,
            }
            with contextlib.suppress(AlreadyExists):
                await client.create(PLATFORM_CONFIGS, body)
                return
