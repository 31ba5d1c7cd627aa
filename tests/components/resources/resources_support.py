"""What the resources tests share: the ``Api`` they drive, objects, and checks.

Visibility: a request carrying ``X-Visible-Namespaces: a,b`` sees only those namespaces in
lists across namespaces, as an authorizer's predicate would make it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2 as httpx
from fastapi import Request
from starlette.testclient import TestClient

from atoll.components.resources.registry import StoreRegistry
from atoll.components.resources.routes import PREFIX, Visible
from atoll.kube.client import KubeClient, ResourceType

T = TypeVar("T")

PODS = ResourceType("", "v1", "pods", "Pod", True)
NAMESPACES = ResourceType("", "v1", "namespaces", "Namespace", False)
VISIBLE_HEADER = "X-Visible-Namespaces"


def visible_by_header(asked: list[tuple[str, str, str]]) -> Visible:
    """The namespaces the request's header names; every call recorded in ``asked``."""

    async def visible(
        request: Request, cluster: str, rt: ResourceType
    ) -> Callable[[str], bool] | None:
        asked.append((cluster, rt.group, rt.plural))
        header = request.headers.get(VISIBLE_HEADER)
        return None if header is None else frozenset(header.split(",")).__contains__

    return visible


@dataclass
class Api:
    http: TestClient
    client: KubeClient
    registry: StoreRegistry
    asked: list[tuple[str, str, str]] = field(default_factory=list)

    def get(self, path: str, *, headers: dict[str, str] | None = None, **params: Any) -> Any:
        return self.http.get(PREFIX + path, params=params, headers=headers)

    def items(self, path: str, **params: Any) -> tuple[list[str], int]:
        """(names of the items, totalItems) of a list that must succeed."""
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        return [item["metadata"]["name"] for item in body["items"]], body["totalItems"]

    def kube(self, work: Callable[[KubeClient], Awaitable[T]]) -> T:
        """Run ``work(client)`` on the app's event loop and return its result."""
        portal = self.http.portal
        assert portal is not None

        async def call() -> T:
            return await work(self.client)

        return portal.call(call)

    def namespace(self, prefix: str = "t") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.kube(lambda c: c.create(NAMESPACES, {"metadata": {"name": name}}))
        return name

    def pods(self, namespace: str, names: list[str], **extra: Any) -> None:
        async def create(client: KubeClient) -> None:
            await asyncio.gather(
                *(client.create(PODS, pod(name, **extra), namespace=namespace) for name in names)
            )

        self.kube(create)


def pod(
    name: str, *, labels: dict[str, str] | None = None, restart: str = "Always"
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"restartPolicy": restart, "containers": [{"name": "app", "image": "busybox"}]},
    }


def is_problem(response: httpx.Response, status: int) -> bool:
    kind = response.headers.get("content-type", "")
    return response.status_code == status and kind.startswith("application/problem+json")
