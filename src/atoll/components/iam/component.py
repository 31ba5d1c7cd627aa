"""The iam component's declaration (entry point ``iam`` in ``atoll.components``).

At start it loads the token signing key, makes the built-in roles and the ``admin`` user,
and installs the pipeline's authenticator (tokens) and authorizer (roles at four levels).
On every replica it runs the informers both decide from; it is ready once they synced.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from fastapi import HTTPException

from atoll.kube.client import KubeClient
from atoll.kube.informers import InformerFactory
from atoll.server.access import Decision, Principal, RequestInfo
from atoll.server.components import Component, ComponentContext, SecureEndpoint

from .admin import ensure_admin
from .authenticating import TokenAuthenticator
from .authorizing import RoleAuthorizer
from .crds import CRDS
from .logins import LoginLimiter, LoginRecordController
from .oauth import oauth_router
from .roles import ensure_builtin_roles
from .tokens import TokenIssuer, load_or_create_signing_key
from .userapi import user_hook, users_router
from .users import UserController

__all__ = ["component"]


@dataclass
class _Started:
    """What the routes need, known once the component has started (503 until then)."""

    _client: KubeClient | None = None
    _issuer: TokenIssuer | None = None
    authenticator: TokenAuthenticator | None = None
    authorizer: RoleAuthorizer | None = None
    _limiter: LoginLimiter | None = None
    secure: SecureEndpoint | None = None
    factory: InformerFactory | None = None
    synced: asyncio.Event = field(default_factory=asyncio.Event)

    def client(self) -> KubeClient:
        if self._client is None:
            raise HTTPException(503, "Atoll is starting; try again in a moment")
        return self._client

    def issuer(self) -> TokenIssuer:
        if self._issuer is None:
            raise HTTPException(503, "Atoll is starting; try again in a moment")
        return self._issuer

    def limiter(self) -> LoginLimiter:
        if self._limiter is None:
            raise HTTPException(503, "Atoll is starting; try again in a moment")
        return self._limiter

    def ready(self) -> bool:
        return (
            self.authenticator is not None
            and self.authenticator.synced
            and self.authorizer is not None
            and self.authorizer.synced
            and self._limiter is not None
            and self._limiter.synced
        )


def component() -> Component:
    started = _Started()

    async def start(context: ComponentContext) -> None:
        key = await load_or_create_signing_key(context.client)
        await ensure_builtin_roles(context.client)
        await ensure_admin(context.client, password=context.admin_password, tell=context.tell)
        issuer = TokenIssuer(key)
        factory = InformerFactory(context.client)
        authenticator = TokenAuthenticator(factory, issuer)
        authorizer = RoleAuthorizer(factory)
        started._limiter = LoginLimiter(factory, context.client)
        started._client, started._issuer, started.factory = context.client, issuer, factory
        started.secure = context.secure_endpoint
        started.authenticator, started.authorizer = authenticator, authorizer

        async def authorize(who: Principal, info: RequestInfo) -> Decision:
            if not authorizer.synced:
                await factory.wait_synced()
            return authorizer.decide(who, info)

        async def authenticate(token: str) -> Principal | None:
            if not authenticator.synced:
                await factory.wait_synced()
            return await authenticator(token)

        context.pipeline.authenticate = authenticate
        context.pipeline.authorize = authorize
        context.pipeline.visible_namespaces = authorizer.visible_namespaces
        context.pipeline.visible_workspaces = authorizer.visible_workspaces
        context.pipeline.object_hooks[("iam.atoll.io", "users")] = user_hook(started.client)

    async def run(context: ComponentContext) -> None:
        assert started.factory is not None, "run after start"
        await started.factory.run()

    return Component(
        name="iam",
        description="Users, roles at four levels, logins and tokens.",
        routers=(
            oauth_router(started.client, started.issuer, started.limiter),
            users_router(started.client, started.issuer, lambda: started.secure),
        ),
        crds=CRDS,
        start=start,
        required=True,
        run=run,
        controllers=(UserController, LoginRecordController),
        ready=started.ready,
        cache_sizes=lambda: started.factory.sizes() if started.factory is not None else {},
    )
