"""The iam component's declaration (entry point ``iam`` in ``atoll.components``)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException

from atoll.kube.client import KubeClient
from atoll.server.components import Component, ComponentContext

from .admin import ensure_admin
from .crds import CRDS
from .oauth import oauth_router
from .tokens import TokenIssuer, load_or_create_signing_key
from .users import UserController

__all__ = ["component"]


@dataclass
class _Started:
    """What the routes need, known once the component has started (503 until then)."""

    _client: KubeClient | None = None
    _issuer: TokenIssuer | None = None

    def client(self) -> KubeClient:
        if self._client is None:
            raise HTTPException(503, "Atoll is starting; try again in a moment")
        return self._client

    def issuer(self) -> TokenIssuer:
        if self._issuer is None:
            raise HTTPException(503, "Atoll is starting; try again in a moment")
        return self._issuer


def component() -> Component:
    started = _Started()

    async def start(context: ComponentContext) -> None:
        key = await load_or_create_signing_key(context.client)
        await ensure_admin(context.client, password=context.admin_password, tell=context.tell)
        started._client, started._issuer = context.client, TokenIssuer(key)

    return Component(
        name="iam",
        description="Users, roles at four levels, logins and tokens.",
        routers=(oauth_router(started.client, started.issuer),),
        crds=CRDS,
        start=start,
        controllers=(UserController,),
    )
