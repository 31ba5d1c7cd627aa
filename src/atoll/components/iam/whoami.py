"""Who the caller is: ``GET /kapis/iam.atoll.io/v1alpha1/me``, for the console.

The answer is read from the caller's User (never its password): ``name``, ``displayName``
and ``email`` when set, ``groups`` as the pipeline authenticated them (the ones role
bindings match, ``system:authenticated`` included, as ``kubectl auth whoami`` shows them),
``platformRole`` from the User's label (as the users controller binds it),
``passwordChangeRequired`` from its annotation (the console asks for a new password; a
change through ``PUT …/users/{user}/password`` clears it), and ``provider``: the identity
provider that mapped the user, or ``password`` for Atoll's own users. Every logged-in user
may ask (``authorizing.about_oneself``); nobody else. (``kubectl auth whoami`` is answered
with the reviews, ``reviews.py``.)
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from atoll.errors import NotFound
from atoll.kube.client import KubeClient, Object
from atoll.server.access import principal_of
from atoll.server.problems import problem

from .admin import CHANGE_REQUIRED_ANNOTATION, USERS
from .labels import PROVIDER_LABEL
from .roles import DEFAULT_GLOBAL_ROLE, GLOBAL_ROLE_LABEL

__all__ = ["Me", "me_of", "me_router"]

PASSWORD_PROVIDER = "password"


class Me(BaseModel):
    name: str
    displayName: str | None = None
    email: str | None = None
    groups: list[str]
    platformRole: str = Field(..., examples=["platform-admin", "platform-regular"])
    passwordChangeRequired: bool
    provider: str = Field(..., description='"password", or the identity provider\'s name')


def me_of(user: Object, groups: tuple[str, ...]) -> Me:
    meta = user.get("metadata") or {}
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    spec = user.get("spec") or {}
    return Me(
        name=str(meta.get("name", "")),
        displayName=str(spec["displayName"]) if spec.get("displayName") else None,
        email=str(spec["email"]) if spec.get("email") else None,
        groups=list(groups),
        platformRole=str(labels.get(GLOBAL_ROLE_LABEL) or DEFAULT_GLOBAL_ROLE),
        passwordChangeRequired=annotations.get(CHANGE_REQUIRED_ANNOTATION) == "true",
        provider=str(labels.get(PROVIDER_LABEL) or PASSWORD_PROVIDER),
    )


def me_router(client: Callable[[], KubeClient]) -> APIRouter:
    router = APIRouter(tags=["users"])

    @router.get(
        "/kapis/iam.atoll.io/v1alpha1/me",
        summary="Who the caller is",
        response_model=Me,
        response_model_exclude_none=True,
        responses={404: {"description": "The caller's user was deleted meanwhile"}},
    )
    async def me(request: Request) -> Me | Response:
        who = principal_of(request)
        try:
            user = await client().get(USERS, who.name)
        except NotFound:
            return problem(404, f'user "{who.name}" not found')
        return me_of(user, who.groups)

    return router
