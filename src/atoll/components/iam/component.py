"""The iam component's declaration (entry point ``iam`` in ``atoll.components``).

At start it loads the token signing key, makes the built-in roles and the ``admin`` user,
and installs the pipeline's authenticator (tokens) and authorizer (roles at four levels).
On every replica it runs the informers both decide from; it is ready once they synced.
Besides logins and users it answers who the caller is (``whoami``) and what the caller may
do (``reviews``: SelfSubjectAccessReviews, which must not reach a cluster, and batches).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from atoll.errors import ApiError
from atoll.kube.client import KubeClient
from atoll.kube.informers import InformerFactory
from atoll.server.access import HOST_CLUSTER, Decision, Pipeline, Principal, RequestInfo
from atoll.server.components import Component, ComponentContext, Later, SecureEndpoint

from .admin import USERS, ensure_admin
from .authenticating import TokenAuthenticator
from .authorizing import RoleAuthorizer, about_oneself
from .crds import CRDS
from .identity import PasswordProvider
from .identity.mapping import GROUP_BINDINGS, GROUPS, IdentityMapper
from .identity.oidc import oidc_router
from .identity.oidc_client import OidcClient, oidc_clients
from .identity.providers import listing, password_providers
from .logins import LoginLimiter, LoginRecordController
from .oauth import oauth_router
from .reviews import reviews_router
from .roles import ensure_builtin_roles, ensure_cluster_roles
from .tokens import TokenIssuer, load_or_create_signing_key
from .userapi import user_hook, users_router
from .users import UserController
from .whoami import me_router

__all__ = ["component"]

logger = logging.getLogger(__name__)


@dataclass
class _Started:
    """What the routes need, known once the component has started (the ``Later`` ones
    answer 503 until then)."""

    client: Later[KubeClient] = field(default_factory=Later)
    issuer: Later[TokenIssuer] = field(default_factory=Later)
    limiter: Later[LoginLimiter] = field(default_factory=Later)
    mapper: Later[IdentityMapper] = field(default_factory=Later)
    oidc: Later[dict[str, OidcClient]] = field(default_factory=Later)
    pipeline: Later[Pipeline] = field(default_factory=Later)
    rules: Later[RoleAuthorizer] = field(default_factory=Later)
    authenticator: TokenAuthenticator | None = None
    authorizer: RoleAuthorizer | None = None
    providers: list[PasswordProvider] = field(default_factory=list)
    listed: list[dict[str, str]] = field(default_factory=list)
    secure: SecureEndpoint | None = None
    factory: InformerFactory | None = None
    members: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def member_rbac(self, name: str, client: KubeClient | None) -> None:
        """A member cluster came (or went, ``client`` None): follow its own RBAC, from
        which its cluster and project grants come."""
        if name == HOST_CLUSTER or self.authorizer is None:
            return
        following = self.members.pop(name, None)
        if following is not None:
            following.cancel()
        self.authorizer.remove_cluster(name)
        if client is not None:
            factory = InformerFactory(client)
            self.authorizer.add_cluster(name, factory)

            async def follow() -> None:
                try:
                    await ensure_cluster_roles(client)  # cluster-viewer, as the host has
                except (ApiError, OSError) as error:  # unreachable now: its roles wait
                    logger.warning("cluster %s: built-in roles not made: %s", name, error)
                await factory.run()

            task = asyncio.create_task(follow(), name=f"iam rbac of cluster {name}")
            task.add_done_callback(_quietly)
            self.members[name] = task

    async def stop(self) -> None:
        for task in self.members.values():
            task.cancel()
        await asyncio.gather(*self.members.values(), return_exceptions=True)
        self.members.clear()

    def ready(self) -> bool:
        return (
            self.authenticator is not None
            and self.authenticator.synced
            and self.authorizer is not None
            and self.authorizer.synced
            and self.limiter.value is not None
            and self.limiter.value.synced
        )


def _quietly(task: asyncio.Task[None]) -> None:
    """A member cluster's informers end when it leaves; their end is not an error."""
    if not task.cancelled() and task.exception() is not None:
        logger.info("following a member cluster's RBAC ended: %s", task.exception())


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
        started.limiter.set(LoginLimiter(factory, context.client))
        started.mapper.set(
            IdentityMapper(
                context.client,
                factory.informer(USERS),
                factory.informer(GROUPS),
                factory.informer(GROUP_BINDINGS),
            )
        )
        started.providers = password_providers(context.identity_providers)
        started.listed = listing(context.identity_providers)
        started.oidc.set(oidc_clients(context.identity_providers))
        started.client.set(context.client)
        started.issuer.set(issuer)
        started.factory = factory
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

        if context.clusters is not None:
            context.clusters.listen(started.member_rbac)
        context.pipeline.authenticate = authenticate
        context.pipeline.authorize = authorize
        context.pipeline.visible_namespaces = authorizer.visible_namespaces
        context.pipeline.visible_workspaces = authorizer.visible_workspaces
        context.pipeline.object_hooks[("iam.atoll.io", "users")] = user_hook(started.client)
        context.pipeline.unaudited.append(about_oneself)  # questions, not changes
        started.pipeline.set(context.pipeline)
        started.rules.set(authorizer)

    async def run(context: ComponentContext) -> None:
        assert started.factory is not None, "run after start"
        await started.factory.run()

    return Component(
        name="iam",
        description="Users, roles at four levels, logins and tokens.",
        routers=(
            oauth_router(
                started.client,
                started.issuer,
                started.limiter,
                providers=lambda: started.providers,
                mapper=started.mapper,
                listing=lambda: started.listed,
            ),
            oidc_router(
                started.oidc,
                client=started.client,
                issuer=started.issuer,
                limiter=started.limiter,
                mapper=started.mapper,
            ),
            users_router(started.client, started.issuer, lambda: started.secure),
            me_router(started.client),
            reviews_router(started.pipeline, started.rules),
        ),
        crds=CRDS,
        start=start,
        required=True,
        run=run,
        controllers=(UserController, LoginRecordController),
        stop=started.stop,
        ready=started.ready,
        cache_sizes=lambda: started.factory.sizes() if started.factory is not None else {},
    )
