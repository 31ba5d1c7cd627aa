"""The iam component's declaration (entry point ``iam`` in ``atoll.components``)."""

from __future__ import annotations

from atoll.server.components import Component, ComponentContext

from .admin import ensure_admin
from .crds import CRDS
from .users import UserController

__all__ = ["component"]


async def _start(context: ComponentContext) -> None:
    await ensure_admin(context.client, password=context.admin_password, tell=context.tell)


def component() -> Component:
    return Component(
        name="iam",
        description="Users, roles at four levels, logins and tokens.",
        crds=CRDS,
        start=_start,
        controllers=(UserController,),
    )
